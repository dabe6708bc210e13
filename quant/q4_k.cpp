// Q4_K (GGUF.md §2.9) and Q5_K (§2.10): super-blocks of 256 = 8 sub-blocks of 32 with 6-bit
// scales and mins under fp16 super-scales d and dmin; x = d*sc*q - dmin*m. Q5_K adds a 5th bit.
#include <algorithm>
#include <cmath>
#include <cstring>

#include "quant/codecs.h"
#include "quant/fp16.h"
#include "quant/k_common.h"

namespace r1 {
namespace {

constexpr int kSub = 32;                // elements per sub-block
constexpr int kNumSub = kQK_K / kSub;   // 8

// The shared reference quantizer of one super-block: quants L (256) in 0..nmax, d, dmin and the
// packed scales. Q4_K: nmax 15, make_qkx2(-1.0, 0.1, 20); Q5_K: nmax 31, (-0.5, 0.1, 15).
void quantize_superblock(const float* x, int nmax, float rmin, int nstep, uint8_t* L,
                         uint16_t& d_out, uint16_t& dmin_out, uint8_t* packed) {
    float scales[kNumSub], mins[kNumSub], weights[kSub];
    float max_scale = 0, max_min = 0;
    for (int j = 0; j < kNumSub; ++j) {
        const float* xs = x + kSub * j;
        float sum_x2 = 0;
        for (int l = 0; l < kSub; ++l) sum_x2 += xs[l] * xs[l];
        const float av_x = std::sqrt(sum_x2 / static_cast<float>(kSub));
        for (int l = 0; l < kSub; ++l) weights[l] = av_x + std::fabs(xs[l]);
        scales[j] = kq::make_qkx2(kSub, nmax, xs, weights, L + kSub * j, &mins[j], rmin, 0.1f, nstep);
        if (scales[j] > max_scale) max_scale = scales[j];
        if (mins[j] > max_min) max_min = mins[j];
    }
    const float inv_scale = max_scale > 0 ? 63.0f / max_scale : 0.0f;
    const float inv_min = max_min > 0 ? 63.0f / max_min : 0.0f;
    uint8_t ls[kNumSub], lm[kNumSub];
    for (int j = 0; j < kNumSub; ++j) {
        // ggml stores nearest_int into a uint8_t before MIN(63, .): keep that wrap-around.
        ls[j] = std::min<uint8_t>(63, static_cast<uint8_t>(nearest_int(inv_scale * scales[j])));
        lm[j] = std::min<uint8_t>(63, static_cast<uint8_t>(nearest_int(inv_min * mins[j])));
    }
    std::memset(packed, 0, kKScaleSize);
    kq::pack_scale_mins(ls, lm, packed);
    d_out = fp32_to_fp16(max_scale / 63.0f);
    dmin_out = fp32_to_fp16(max_min / 63.0f);
    // Requantize with the stored (rounded) scales; a zero scale keeps make_qkx2's quants.
    for (int j = 0; j < kNumSub; ++j) {
        uint8_t sc, m;
        kq::get_scale_min(j, packed, sc, m);
        const float d = fp16_to_fp32(d_out) * static_cast<float>(sc);
        if (d == 0.0f) continue;
        const float dm = fp16_to_fp32(dmin_out) * static_cast<float>(m);
        for (int l = 0; l < kSub; ++l) {
            L[kSub * j + l] = static_cast<uint8_t>(std::clamp(nearest_int((x[kSub * j + l] + dm) / d), 0, nmax));
        }
    }
}

// Sub-block scale (d*sc) and min (dmin*m) of sub-block j.
inline void sub_scale_min(uint16_t d16, uint16_t dmin16, const uint8_t* packed, int j, float& d,
                          float& m) {
    uint8_t sc, mn;
    kq::get_scale_min(j, packed, sc, mn);
    d = fp16_to_fp32(d16) * static_cast<float>(sc);
    m = fp16_to_fp32(dmin16) * static_cast<float>(mn);
}

}  // namespace

void quantize_row_q4_K_ref(const float* x, BlockQ4_K* y, int64_t n) {
    for (int64_t i = 0; i < n / kQK_K; ++i, x += kQK_K) {
        uint8_t L[kQK_K];
        quantize_superblock(x, 15, -1.0f, 20, L, y[i].d, y[i].dmin, y[i].scales);
        // Chunk c of 32 bytes: low nibbles = elements 64c.., high nibbles = 64c+32..
        for (int c = 0; c < 4; ++c) {
            for (int l = 0; l < 32; ++l) {
                y[i].qs[32 * c + l] = static_cast<uint8_t>(L[64 * c + l] | (L[64 * c + 32 + l] << 4));
            }
        }
    }
}

void quantize_row_q5_K_ref(const float* x, BlockQ5_K* y, int64_t n) {
    for (int64_t i = 0; i < n / kQK_K; ++i, x += kQK_K) {
        uint8_t L[kQK_K];
        quantize_superblock(x, 31, -0.5f, 15, L, y[i].d, y[i].dmin, y[i].scales);
        std::memset(y[i].qh, 0, sizeof(y[i].qh));
        for (int c = 0; c < 4; ++c) {
            for (int l = 0; l < 32; ++l) {
                const int l1 = L[64 * c + l], l2 = L[64 * c + 32 + l];
                y[i].qs[32 * c + l] = static_cast<uint8_t>((l1 & 0xF) | ((l2 & 0xF) << 4));
                y[i].qh[l] = static_cast<uint8_t>(y[i].qh[l] | ((l1 >> 4) << (2 * c)) | ((l2 >> 4) << (2 * c + 1)));
            }
        }
    }
}

void dequantize_row_q4_K(const BlockQ4_K* x, float* y, int64_t n) {
    for (int64_t i = 0; i < n / kQK_K; ++i) {
        for (int c = 0; c < 4; ++c) {
            float d1, m1, d2, m2;
            sub_scale_min(x[i].d, x[i].dmin, x[i].scales, 2 * c, d1, m1);
            sub_scale_min(x[i].d, x[i].dmin, x[i].scales, 2 * c + 1, d2, m2);
            const uint8_t* q = x[i].qs + 32 * c;
            for (int l = 0; l < 32; ++l) *y++ = d1 * static_cast<float>(q[l] & 0xF) - m1;
            for (int l = 0; l < 32; ++l) *y++ = d2 * static_cast<float>(q[l] >> 4) - m2;
        }
    }
}

void dequantize_row_q5_K(const BlockQ5_K* x, float* y, int64_t n) {
    for (int64_t i = 0; i < n / kQK_K; ++i) {
        for (int c = 0; c < 4; ++c) {
            float d1, m1, d2, m2;
            sub_scale_min(x[i].d, x[i].dmin, x[i].scales, 2 * c, d1, m1);
            sub_scale_min(x[i].d, x[i].dmin, x[i].scales, 2 * c + 1, d2, m2);
            const uint8_t* q = x[i].qs + 32 * c;
            for (int l = 0; l < 32; ++l) {
                const int v = (q[l] & 0xF) | (((x[i].qh[l] >> (2 * c)) & 1) << 4);
                *y++ = d1 * static_cast<float>(v) - m1;
            }
            for (int l = 0; l < 32; ++l) {
                const int v = (q[l] >> 4) | (((x[i].qh[l] >> (2 * c + 1)) & 1) << 4);
                *y++ = d2 * static_cast<float>(v) - m2;
            }
        }
    }
}

}  // namespace r1
