// Batched matrix products for prompt evaluation: y (n_tokens, n_out) = x (n_tokens, n_in) · Wᵀ on
// quantized weights with AVX-512 VNNI int8 dot products (x86 only; elsewhere gemm_supported() is
// false and matmul keeps its per-token matvec loop).
//
// Every supported weight format is, per sub-block of S = 32 (16 for Q6_K) elements, w = dw·q − mw
// with q an unsigned integer (<= 255): Q4_0 (q, 8d), Q8_0 (q + 128, 128d), Q4_K (q, dmin·m), ...
// The activations are quantized once per call to Q8_0 (the matvec kernels' form), so
//   y[r][t] = Σ_sub dw·da·(Σ q·qa) − mw·(da·Σ qa),
// where Σ q·qa is exactly what vpdpbusd computes (u8 × s8, four products per int32 lane).
//
// Weights are unpacked per call into panels of 16 rows, interleaved so that int32 lane j of a
// vector holds four consecutive quants of row j (a 16x4-byte transpose made with gathers), with
// fp32 dw and mw vectors after each sub-block. A panel (<= ~200 KiB) is packed once and used for
// every token of the batch, eight tokens per micro-kernel call: 8 weight vectors x 8 tokens =
// 64 vpdpbusd per sub-block against 4 float ops per token. Each output is computed by one call
// in a fixed order, so results do not depend on the thread count.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "backends/cpu/kernels.h"
#include "quant/blocks.h"
#include "quant/fp16.h"
#include "quant/k_common.h"

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#define R1_GEMM_X86 1
// gcc 12's AVX-512 headers start gathers and conversions from _mm512_undefined_*(), which
// -Wmaybe-uninitialized reports once inlined here.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif
#include <immintrin.h>
#include <omp.h>
#endif

namespace r1::cpu {

#if R1_GEMM_X86
namespace {

#define R1_VNNI __attribute__((target("avx512f,avx512bw,avx512vl,avx512dq,avx512vnni,fma")))

constexpr int kRows = 16;   // rows per panel: one int32 lane per row
constexpr int kTile = 8;    // tokens per micro-kernel call
constexpr size_t kPanelBudget = 512 * 1024;  // bytes of panels packed per task (L2-resident)

bool cpu_has_vnni() {
    static const bool ok = [] {
        __builtin_cpu_init();
        if (const char* e = std::getenv("R1_CPU_GEMM"); e && std::strcmp(e, "0") == 0) return false;
        return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
               __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512dq") &&
               __builtin_cpu_supports("avx512vnni");
    }();
    return ok;
}

// ---- one row to unsigned quants q (n_in bytes) and per-sub-block dw, mw ----
// (compiled for AVX-512 like everything here, so the byte loops vectorise: they run at load
// for every repacked matrix and per call for the per-call GEMM)

// The 32 quants of a legacy 4-bit block: element j in the low nibble of qs[j], j+16 in the high.
R1_VNNI inline void nibbles32(const uint8_t* qs, uint8_t* q) {
    for (int j = 0; j < 16; ++j) {
        q[j] = qs[j] & 0xF;
        q[j + 16] = qs[j] >> 4;
    }
}

R1_VNNI void unpack_q4_0(const void* row, int64_t n_in, uint8_t* q, float* dw, float* mw) {
    const auto* x = static_cast<const BlockQ4_0*>(row);
    for (int64_t b = 0; b < n_in / 32; ++b, q += 32) {
        nibbles32(x[b].qs, q);
        dw[b] = fp16_to_fp32(x[b].d);
        mw[b] = 8.0f * dw[b];
    }
}

R1_VNNI void unpack_q4_1(const void* row, int64_t n_in, uint8_t* q, float* dw, float* mw) {
    const auto* x = static_cast<const BlockQ4_1*>(row);
    for (int64_t b = 0; b < n_in / 32; ++b, q += 32) {
        nibbles32(x[b].qs, q);
        dw[b] = fp16_to_fp32(x[b].d);
        mw[b] = -fp16_to_fp32(x[b].m);
    }
}

// Element e of a Q5 block takes bit e of the little-endian qh as its fifth bit.
template <class B>
R1_VNNI void unpack_q5(const B* x, int64_t n_in, uint8_t* q, float* dw) {
    for (int64_t b = 0; b < n_in / 32; ++b, q += 32) {
        uint32_t qh;
        std::memcpy(&qh, x[b].qh, 4);
        for (int j = 0; j < 16; ++j) {
            q[j] = uint8_t((x[b].qs[j] & 0xF) | (((qh >> j) & 1) << 4));
            q[j + 16] = uint8_t((x[b].qs[j] >> 4) | (((qh >> (j + 16)) & 1) << 4));
        }
        dw[b] = fp16_to_fp32(x[b].d);
    }
}

R1_VNNI void unpack_q5_0(const void* row, int64_t n_in, uint8_t* q, float* dw, float* mw) {
    unpack_q5(static_cast<const BlockQ5_0*>(row), n_in, q, dw);
    for (int64_t b = 0; b < n_in / 32; ++b) mw[b] = 16.0f * dw[b];
}

R1_VNNI void unpack_q5_1(const void* row, int64_t n_in, uint8_t* q, float* dw, float* mw) {
    const auto* x = static_cast<const BlockQ5_1*>(row);
    unpack_q5(x, n_in, q, dw);
    for (int64_t b = 0; b < n_in / 32; ++b) mw[b] = -fp16_to_fp32(x[b].m);
}

R1_VNNI void unpack_q8_0(const void* row, int64_t n_in, uint8_t* q, float* dw, float* mw) {
    const auto* x = static_cast<const BlockQ8_0*>(row);
    for (int64_t b = 0; b < n_in / 32; ++b, q += 32) {
        for (int j = 0; j < 32; ++j) q[j] = uint8_t(x[b].qs[j] ^ 0x80);  // q + 128
        dw[b] = fp16_to_fp32(x[b].d);
        mw[b] = 128.0f * dw[b];
    }
}

// Q4_K / Q5_K: sub-block j (32 elements) of a super-block has scale d·sc_j and min dmin·m_j.
template <class B, bool kHigh>
R1_VNNI void unpack_qk(const void* row, int64_t n_in, uint8_t* q, float* dw, float* mw) {
    const auto* x = static_cast<const B*>(row);
    for (int64_t i = 0; i < n_in / kQK_K; ++i, q += kQK_K, dw += 8, mw += 8) {
        const float d = fp16_to_fp32(x[i].d), dmin = fp16_to_fp32(x[i].dmin);
        for (int j = 0; j < 8; ++j) {
            uint8_t sc, m;
            kq::get_scale_min(j, x[i].scales, sc, m);
            dw[j] = d * float(sc);
            mw[j] = dmin * float(m);
        }
        for (int c = 0; c < 4; ++c) {
            const uint8_t* qs = x[i].qs + 32 * c;
            uint8_t* lo = q + 64 * c;
            for (int l = 0; l < 32; ++l) {
                lo[l] = qs[l] & 0xF;
                lo[l + 32] = qs[l] >> 4;
                if constexpr (kHigh) {
                    lo[l] |= uint8_t(((x[i].qh[l] >> (2 * c)) & 1) << 4);
                    lo[l + 32] |= uint8_t(((x[i].qh[l] >> (2 * c + 1)) & 1) << 4);
                }
            }
        }
    }
}

// Q6_K: 16-element sub-blocks, w = d·sc·(q − 32).
R1_VNNI void unpack_q6_k(const void* row, int64_t n_in, uint8_t* q, float* dw, float* mw) {
    const auto* x = static_cast<const BlockQ6_K*>(row);
    for (int64_t i = 0; i < n_in / kQK_K; ++i, q += kQK_K, dw += 16, mw += 16) {
        const float d = fp16_to_fp32(x[i].d);
        for (int j = 0; j < 16; ++j) {
            dw[j] = d * float(x[i].scales[j]);
            mw[j] = 32.0f * dw[j];
        }
        for (int h = 0; h < 2; ++h) {
            const uint8_t* ql = x[i].ql + 64 * h;
            const uint8_t* qh = x[i].qh + 32 * h;
            uint8_t* o = q + 128 * h;
            for (int l = 0; l < 32; ++l) {
                o[l] = uint8_t((ql[l] & 0xF) | (((qh[l] >> 0) & 3) << 4));
                o[l + 32] = uint8_t((ql[l + 32] & 0xF) | (((qh[l] >> 2) & 3) << 4));
                o[l + 64] = uint8_t((ql[l] >> 4) | (((qh[l] >> 4) & 3) << 4));
                o[l + 96] = uint8_t((ql[l + 32] >> 4) | (((qh[l] >> 6) & 3) << 4));
            }
        }
    }
}

using UnpackFn = void (*)(const void* row, int64_t n_in, uint8_t* q, float* dw, float* mw);

struct Format {
    GgmlType type;
    UnpackFn unpack;
    int sub;    // elements per (dw, mw) pair: 32 or 16
    int block;  // n_in must be a multiple of this
};

constexpr Format kFormats[] = {
    {GgmlType::Q4_0, unpack_q4_0, 32, 32},
    {GgmlType::Q4_1, unpack_q4_1, 32, 32},
    {GgmlType::Q5_0, unpack_q5_0, 32, 32},
    {GgmlType::Q5_1, unpack_q5_1, 32, 32},
    {GgmlType::Q8_0, unpack_q8_0, 32, 32},
    {GgmlType::Q4_K, unpack_qk<BlockQ4_K, false>, 32, kQK_K},
    {GgmlType::Q5_K, unpack_qk<BlockQ5_K, true>, 32, kQK_K},
    {GgmlType::Q6_K, unpack_q6_k, 16, kQK_K},
};

const Format* find_format(GgmlType t) {
    for (const Format& f : kFormats)
        if (f.type == t) return &f;
    return nullptr;
}

// Bytes of one sub-block of a panel: S/4 weight vectors, then dw and mw (16 floats each).
constexpr size_t sub_bytes(int sub) { return size_t(sub / 4 + 2) * 64; }

// The activations of the batch: Q8_0 rows, with fp32 block scales and per-sub-block da·Σqa.
struct Acts {
    const uint8_t* rows;  // (n_tokens) rows of BlockQ8_0, act_row bytes apart
    size_t act_row;
    const float* da;      // (n_tokens, n_in / 32)
    const float* sa;      // (n_tokens, n_in / sub)
    const int32_t* isum;  // (n_tokens, n_in / 32): Σ qa of each block
    const int32_t* isum16;  // (n_tokens, n_in / 16): Σ qa of each half block
    int64_t nb;           // blocks of 32 per token
    int64_t n_sub;        // sub-blocks per token
};

// Rows r0 .. r0+15 unpacked into q (16 x n_in bytes), dw and mw (16 x n_sub); zeros past n_out.
R1_VNNI void unpack_rows(const Format& f, const uint8_t* w, size_t row_bytes, int64_t r0, int64_t n_out, int64_t n_in,
                         uint8_t* q, float* dw, float* mw) {
    const int64_t n_sub = n_in / f.sub;
    for (int j = 0; j < kRows; ++j) {
        uint8_t* qj = q + size_t(j) * size_t(n_in);
        if (r0 + j < n_out) {
            f.unpack(w + size_t(r0 + j) * row_bytes, n_in, qj, dw + j * n_sub, mw + j * n_sub);
        } else {
            std::memset(qj, 0, size_t(n_in));
            std::fill(dw + j * n_sub, dw + (j + 1) * n_sub, 0.0f);
            std::fill(mw + j * n_sub, mw + (j + 1) * n_sub, 0.0f);
        }
    }
}

// Packs rows r0 .. r0+15 (zeros past n_out) into a panel: the unpacked rows go to `q`, then
// gathers put four quants of every row into each vector.
R1_VNNI void pack_panel(const Format& f, const uint8_t* w, size_t row_bytes, int64_t r0, int64_t n_out, int64_t n_in,
                        uint8_t* q, float* dw, float* mw, uint8_t* panel) {
    const int64_t n_sub = n_in / f.sub;
    unpack_rows(f, w, row_bytes, r0, n_out, n_in, q, dw, mw);
    const __m512i row_off = _mm512_mullo_epi32(_mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15),
                                               _mm512_set1_epi32(int32_t(n_in)));
    const __m512i sub_off = _mm512_mullo_epi32(_mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15),
                                               _mm512_set1_epi32(int32_t(n_sub)));
    const int kq_n = f.sub / 4;
    for (int64_t s = 0; s < n_sub; ++s) {
        uint8_t* p = panel + size_t(s) * sub_bytes(f.sub);
        for (int kq = 0; kq < kq_n; ++kq)
            _mm512_store_si512(p + 64 * kq, _mm512_i32gather_epi32(row_off, q + s * f.sub + 4 * kq, 1));
        _mm512_store_ps(p + 64 * kq_n, _mm512_i32gather_ps(sub_off, dw + s, 4));
        _mm512_store_ps(p + 64 * (kq_n + 1), _mm512_i32gather_ps(sub_off, mw + s, 4));
    }
}

// y rows r0.. (mask) of tokens t0 .. t0+T-1 from one panel.
template <int T, int S>
R1_VNNI void micro(const uint8_t* panel, const Acts& a, int64_t t0, float* y, int64_t n_out, int64_t r0,
                   __mmask16 mask) {
    constexpr int kq_n = S / 4;
    const uint8_t* xr[T];
    const float* da[T];
    const float* sa[T];
    for (int t = 0; t < T; ++t) {
        xr[t] = a.rows + size_t(t0 + t) * a.act_row + offsetof(BlockQ8_0, qs);
        da[t] = a.da + (t0 + t) * a.nb;
        sa[t] = a.sa + (t0 + t) * a.n_sub;
    }
    __m512 acc[T];
    for (int t = 0; t < T; ++t) acc[t] = _mm512_setzero_ps();
    const uint8_t* p = panel;
    for (int64_t s = 0; s < a.n_sub; ++s, p += sub_bytes(S)) {
        // Element s·S + 4·kq lives in block (s·S)/32 at byte (s·S)%32 + 4·kq.
        const size_t x_off = size_t((s * S) / 32) * sizeof(BlockQ8_0) + size_t((s * S) % 32);
        __m512i dot[T];
        for (int t = 0; t < T; ++t) dot[t] = _mm512_setzero_si512();
        for (int kq = 0; kq < kq_n; ++kq) {
            const __m512i wv = _mm512_load_si512(p + 64 * kq);
            for (int t = 0; t < T; ++t) {
                int32_t x4;
                std::memcpy(&x4, xr[t] + x_off + 4 * kq, 4);
                dot[t] = _mm512_dpbusd_epi32(dot[t], wv, _mm512_set1_epi32(x4));
            }
        }
        const __m512 dw = _mm512_load_ps(p + 64 * kq_n);
        const __m512 mw = _mm512_load_ps(p + 64 * (kq_n + 1));
        const int64_t b = (s * S) / 32;
        for (int t = 0; t < T; ++t) {
            acc[t] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(dot[t]), _mm512_mul_ps(dw, _mm512_set1_ps(da[t][b])), acc[t]);
            acc[t] = _mm512_fnmadd_ps(mw, _mm512_set1_ps(sa[t][s]), acc[t]);
        }
    }
    for (int t = 0; t < T; ++t) _mm512_mask_storeu_ps(y + (t0 + t) * n_out + r0, mask, acc[t]);
}

template <int S>
R1_VNNI void micro_any(int n, const uint8_t* panel, const Acts& a, int64_t t0, float* y, int64_t n_out, int64_t r0,
                       __mmask16 mask) {
    switch (n) {
        case 8: return micro<8, S>(panel, a, t0, y, n_out, r0, mask);
        case 7: return micro<7, S>(panel, a, t0, y, n_out, r0, mask);
        case 6: return micro<6, S>(panel, a, t0, y, n_out, r0, mask);
        case 5: return micro<5, S>(panel, a, t0, y, n_out, r0, mask);
        case 4: return micro<4, S>(panel, a, t0, y, n_out, r0, mask);
        case 3: return micro<3, S>(panel, a, t0, y, n_out, r0, mask);
        case 2: return micro<2, S>(panel, a, t0, y, n_out, r0, mask);
        default: return micro<1, S>(panel, a, t0, y, n_out, r0, mask);
    }
}
static_assert(kTile == 8);

// Activations to Q8_0 rows with the SIMD quantizer of the matvec kernels, then da and da·Σqa.
struct ActBuffers {
    std::vector<uint8_t> rows;
    std::vector<float> da, sa;
    std::vector<int32_t> isum, isum16;
};

R1_VNNI void quantize_acts(const float* x, int64_t n_tokens, int64_t n_in, int sub, ActBuffers& buf, int n_threads) {
    auto& rows = buf.rows;
    auto& da = buf.da;
    auto& sa = buf.sa;
    const QuantizeKernel* qk = find_quantize(GgmlType::Q8_0);
    const size_t act_row = row_bytes(GgmlType::Q8_0, uint64_t(n_in));
    const int64_t nb = n_in / 32, n_sub = n_in / sub;
    rows.resize(act_row * size_t(n_tokens));
    da.resize(size_t(n_tokens * nb));
    sa.resize(size_t(n_tokens * n_sub));
    buf.isum.resize(size_t(n_tokens * nb));
    buf.isum16.resize(size_t(n_tokens * nb * 2));
#pragma omp parallel for schedule(static) num_threads(n_tokens >= 2 * n_threads ? n_threads : 1)
    for (int64_t t = 0; t < n_tokens; ++t) {
        auto* blocks = reinterpret_cast<BlockQ8_0*>(rows.data() + size_t(t) * act_row);
        qk->kernel(x + t * n_in, blocks, n_in);
        for (int64_t b = 0; b < nb; ++b) {
            const float d = fp16_to_fp32(blocks[b].d);
            da[size_t(t * nb + b)] = d;
            int32_t h0 = 0, h1 = 0;
            for (int i = 0; i < 16; ++i) h0 += blocks[b].qs[i];
            for (int i = 16; i < 32; ++i) h1 += blocks[b].qs[i];
            buf.isum16[size_t((t * nb + b) * 2)] = h0;
            buf.isum16[size_t((t * nb + b) * 2 + 1)] = h1;
            buf.isum[size_t(t * nb + b)] = h0 + h1;
            if (sub == 16) {
                sa[size_t(t * n_sub + 2 * b)] = d * float(h0);
                sa[size_t(t * n_sub + 2 * b + 1)] = d * float(h1);
            } else {
                sa[size_t(t * n_sub + b)] = d * float(h0 + h1);
            }
        }
    }
}


// ---- weights repacked once at load (decode and prompt batches) ----
// Panels of 16 rows, n_out padded with zero rows; blocks are not 64-byte multiples (Q4_0: 288),
// so every access is unaligned (no measurable cost on AVX-512 machines). Per 32-element block:
//   P4_0 (Q4_0): 4 vectors of nibbles (byte 4j+c of vector i: element 4i+c of row j in the low
//                nibble, element 16+4i+c in the high one), then 16 fp16 d: 288 bytes, as Q4_0.
//   P8_0 (Q8_0): 8 vectors of q + 128, then 16 fp16 d: 544 bytes, as Q8_0.
// Per 256-element super-block, in the order the kernels read it (headers first, each sub-block's
// scales right after its quants: a layout with all scales at the end of the super-block read
// them ~2 KB ahead of the quant stream, and those loads were the top stalls of decode):
//   P4_K (Q4_K): 16 fp16 d, 16 fp16 dmin, then per sub-block 4 nibble vectors, 16 scale bytes
//                and 16 min bytes (the 6-bit values unpacked): 2368 bytes (Q4_K: 2304).
//   P6_K (Q6_K): 16 fp16 d, then 8 pairs of 16-element sub-blocks, each: the low 4 bits as 4
//                nibble vectors, the high 2 bits as 2 vectors (byte c of row j in vector h holds
//                bits 4-5 of elements 16h+4k+c, k = 0..3, at bits 2k), the two sub-blocks' int8
//                scales (16 bytes each): 3360 bytes, as Q6_K.
// The offsets of Q4_0/Q8_0 are exact integer corrections (dot starts at −off·Σqa); Q4_K's dw = d·sc
// and mw = dmin·m are formed in fp32 exactly as the reference dequantizer forms them.
struct PackedFormat {
    GgmlType type;
    int block;           // elements per packed block
    size_t block_bytes;  // bytes of one block of a 16-row panel
};
constexpr PackedFormat kPacked[] = {
    {GgmlType::Q4_0, 32, 288},
    {GgmlType::Q8_0, 32, 544},
    {GgmlType::Q4_K, 256, 2368},
    {GgmlType::Q6_K, 256, 3360},
};
constexpr size_t kQ4KHead = 64, kQ4KSub = 288;   // P4_K: d + dmin, then per sub-block
constexpr size_t kQ6KHead = 32, kQ6KPair = 416;  // P6_K: d, then per pair of sub-blocks
static_assert(kQ4KHead + 8 * kQ4KSub == 2368 && kQ6KHead + 8 * kQ6KPair == 3360);

const PackedFormat* find_packed(GgmlType t) {
    for (const PackedFormat& f : kPacked)
        if (f.type == t) return &f;
    return nullptr;
}

// Four quants (dwords) of each of the 16 unpacked rows q (stride n_in) at element e.
R1_VNNI inline __m512i gather4(const uint8_t* q, int64_t n_in, int64_t e) {
    const __m512i row_off = _mm512_mullo_epi32(_mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15),
                                               _mm512_set1_epi32(int32_t(n_in)));
    return _mm512_i32gather_epi32(row_off, q + e, 1);
}

// 32 quants (<= 15) of 16 rows at element e as 4 nibble vectors.
R1_VNNI void pack_nibbles(const uint8_t* q, int64_t n_in, int64_t e, uint8_t* out) {
    for (int i = 0; i < 4; ++i) {
        const __m512i lo = gather4(q, n_in, e + 4 * i), hi = gather4(q, n_in, e + 16 + 4 * i);
        _mm512_storeu_si512(out + 64 * i, _mm512_or_si512(lo, _mm512_slli_epi32(hi, 4)));
    }
}

R1_VNNI void pack_panel_p(const PackedFormat& pf, const uint8_t* w, size_t row_bytes, int64_t r0, int64_t n_out,
                          int64_t n_in, uint8_t* q, float* dw, float* mw, uint8_t* out) {
    const int64_t nsb = n_in / kQK_K;
    unpack_rows(*find_format(pf.type), w, row_bytes, r0, n_out, n_in, q, dw, mw);
    auto* o = out;
    if (pf.type == GgmlType::Q4_K) {
        for (int64_t i = 0; i < nsb; ++i, o += pf.block_bytes) {
            for (int j = 0; j < 8; ++j) pack_nibbles(q, n_in, kQK_K * i + 32 * j, o + kQ4KHead + kQ4KSub * j);
            auto* hd = reinterpret_cast<uint16_t*>(o);
            auto* hdmin = reinterpret_cast<uint16_t*>(o + 32);
            for (int r = 0; r < kRows; ++r) {
                const BlockQ4_K* blk = r0 + r < n_out
                    ? reinterpret_cast<const BlockQ4_K*>(w + size_t(r0 + r) * row_bytes) + i : nullptr;
                hd[r] = blk ? blk->d : 0;
                hdmin[r] = blk ? blk->dmin : 0;
                for (int j = 0; j < 8; ++j) {
                    uint8_t sc = 0, mn = 0;
                    if (blk) kq::get_scale_min(j, blk->scales, sc, mn);
                    o[kQ4KHead + kQ4KSub * j + 256 + r] = sc;
                    o[kQ4KHead + kQ4KSub * j + 272 + r] = mn;
                }
            }
        }
        return;
    }
    if (pf.type == GgmlType::Q6_K) {
        const __m512i low4 = _mm512_set1_epi8(0x0F), two = _mm512_set1_epi8(0x03);
        for (int64_t i = 0; i < nsb; ++i, o += pf.block_bytes) {
            for (int m = 0; m < 8; ++m) {
                __m512i wv[8];
                for (int k = 0; k < 8; ++k) wv[k] = gather4(q, n_in, kQK_K * i + 32 * m + 4 * k);
                for (int k = 0; k < 4; ++k)
                    _mm512_storeu_si512(o + kQ6KHead + kQ6KPair * m + 64 * k,
                                        _mm512_or_si512(_mm512_and_si512(wv[k], low4),
                                                        _mm512_slli_epi32(_mm512_and_si512(wv[k + 4], low4), 4)));
                for (int h = 0; h < 2; ++h) {
                    __m512i hv = _mm512_setzero_si512();
                    for (int k = 0; k < 4; ++k)
                        hv = _mm512_or_si512(hv, _mm512_slli_epi32(_mm512_and_si512(_mm512_srli_epi32(wv[4 * h + k], 4), two), 2 * k));
                    _mm512_storeu_si512(o + kQ6KHead + kQ6KPair * m + 256 + 64 * h, hv);
                }
            }
            auto* hd = reinterpret_cast<uint16_t*>(o);
            for (int r = 0; r < kRows; ++r) {
                const BlockQ6_K* blk = r0 + r < n_out
                    ? reinterpret_cast<const BlockQ6_K*>(w + size_t(r0 + r) * row_bytes) + i : nullptr;
                hd[r] = blk ? blk->d : 0;
                for (int j = 0; j < 16; ++j)
                    o[kQ6KHead + kQ6KPair * (j / 2) + 384 + 16 * (j % 2) + r] = uint8_t(blk ? blk->scales[j] : 0);
            }
        }
        return;
    }
    const bool nib = pf.type == GgmlType::Q4_0;
    const size_t wbytes = nib ? 256 : 512;
    for (int64_t b = 0; b < n_in / 32; ++b, o += pf.block_bytes) {
        if (nib) {
            pack_nibbles(q, n_in, 32 * b, o);
        } else {
            for (int i = 0; i < 8; ++i) _mm512_storeu_si512(o + 64 * i, gather4(q, n_in, 32 * b + 4 * i));
        }
        auto* hd = reinterpret_cast<uint16_t*>(o + wbytes);
        const auto* rows16 = reinterpret_cast<const uint8_t*>(w);
        for (int r = 0; r < kRows; ++r) {
            uint16_t d = 0;  // the block's fp16 d sits at the start of Q4_0 and Q8_0 blocks
            if (r0 + r < n_out) std::memcpy(&d, rows16 + size_t(r0 + r) * row_bytes + size_t(b) * (nib ? sizeof(BlockQ4_0) : sizeof(BlockQ8_0)), 2);
            hd[r] = d;
        }
    }
}

// Four activation bytes broadcast to every int32 lane.
R1_VNNI inline __m512i bcast4(const uint8_t* p) {
    int32_t x4;
    std::memcpy(&x4, p, 4);
    return _mm512_set1_epi32(x4);
}

// y rows r0.. (mask) of tokens t0 .. t0+T-1 from one P4_0 (kNibble) or P8_0 panel.
template <int T, bool kNibble>
R1_VNNI void micro_p_legacy(const uint8_t* panel, const Acts& a, int64_t t0, float* y, int64_t n_out, int64_t r0,
                            __mmask16 mask) {
    constexpr int32_t kOff = kNibble ? 8 : 128;
    constexpr size_t kWBytes = kNibble ? 256 : 512;
    constexpr size_t kBlockBytes = kWBytes + 32;
    const uint8_t* xr[T];
    for (int t = 0; t < T; ++t) xr[t] = a.rows + size_t(t0 + t) * a.act_row + offsetof(BlockQ8_0, qs);
    const __m512i low4 = _mm512_set1_epi8(0x0F);
    __m512 acc[T];
    for (int t = 0; t < T; ++t) acc[t] = _mm512_setzero_ps();
    const uint8_t* p = panel;
    for (int64_t b = 0; b < a.nb; ++b, p += kBlockBytes) {
        const size_t xo = size_t(b) * sizeof(BlockQ8_0);
        __m512i dot[T];
        for (int t = 0; t < T; ++t) dot[t] = _mm512_set1_epi32(-kOff * a.isum[(t0 + t) * a.nb + b]);
        if constexpr (kNibble) {
            for (int i = 0; i < 4; ++i) {
                const __m512i pv = _mm512_loadu_si512(p + 64 * i);
                const __m512i lo = _mm512_and_si512(pv, low4);
                const __m512i hi = _mm512_and_si512(_mm512_srli_epi16(pv, 4), low4);
                for (int t = 0; t < T; ++t) {
                    dot[t] = _mm512_dpbusd_epi32(dot[t], lo, bcast4(xr[t] + xo + 4 * i));
                    dot[t] = _mm512_dpbusd_epi32(dot[t], hi, bcast4(xr[t] + xo + 16 + 4 * i));
                }
            }
        } else {
            for (int i = 0; i < 8; ++i) {
                const __m512i wv = _mm512_loadu_si512(p + 64 * i);
                for (int t = 0; t < T; ++t) dot[t] = _mm512_dpbusd_epi32(dot[t], wv, bcast4(xr[t] + xo + 4 * i));
            }
        }
        const __m512 dw = _mm512_cvtph_ps(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(p + kWBytes)));
        for (int t = 0; t < T; ++t)
            acc[t] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(dot[t]), _mm512_mul_ps(dw, _mm512_set1_ps(a.da[(t0 + t) * a.nb + b])),
                                     acc[t]);
    }
    for (int t = 0; t < T; ++t) _mm512_mask_storeu_ps(y + (t0 + t) * n_out + r0, mask, acc[t]);
}

template <int T>
R1_VNNI void micro_p4_k(const uint8_t* panel, const Acts& a, int64_t t0, float* y, int64_t n_out, int64_t r0,
                        __mmask16 mask) {
    const uint8_t* xr[T];
    for (int t = 0; t < T; ++t) xr[t] = a.rows + size_t(t0 + t) * a.act_row + offsetof(BlockQ8_0, qs);
    const __m512i low4 = _mm512_set1_epi8(0x0F);
    __m512 acc[T];
    for (int t = 0; t < T; ++t) acc[t] = _mm512_setzero_ps();
    const uint8_t* p = panel;
    for (int64_t i = 0; i < a.nb / 8; ++i, p += 2368) {
        const __m512 vd = _mm512_cvtph_ps(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(p)));
        const __m512 vdmin = _mm512_cvtph_ps(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(p + 32)));
        for (int j = 0; j < 8; ++j) {
            const int64_t b = 8 * i + j;
            const size_t xo = size_t(b) * sizeof(BlockQ8_0);
            __m512i dot[T];
            for (int t = 0; t < T; ++t) dot[t] = _mm512_setzero_si512();
            for (int k = 0; k < 4; ++k) {
                const __m512i pv = _mm512_loadu_si512(p + kQ4KHead + kQ4KSub * j + 64 * k);
                const __m512i lo = _mm512_and_si512(pv, low4);
                const __m512i hi = _mm512_and_si512(_mm512_srli_epi16(pv, 4), low4);
                for (int t = 0; t < T; ++t) {
                    int32_t x0, x1;
                    std::memcpy(&x0, xr[t] + xo + 4 * k, 4);
                    std::memcpy(&x1, xr[t] + xo + 16 + 4 * k, 4);
                    dot[t] = _mm512_dpbusd_epi32(dot[t], lo, _mm512_set1_epi32(x0));
                    dot[t] = _mm512_dpbusd_epi32(dot[t], hi, _mm512_set1_epi32(x1));
                }
            }
            const __m512 dw = _mm512_mul_ps(
                vd, _mm512_cvtepi32_ps(_mm512_cvtepu8_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p + kQ4KHead + kQ4KSub * j + 256)))));
            const __m512 mw = _mm512_mul_ps(
                vdmin, _mm512_cvtepi32_ps(_mm512_cvtepu8_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p + kQ4KHead + kQ4KSub * j + 272)))));
            for (int t = 0; t < T; ++t) {
                acc[t] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(dot[t]), _mm512_mul_ps(dw, _mm512_set1_ps(a.da[(t0 + t) * a.nb + b])),
                                         acc[t]);
                acc[t] = _mm512_fnmadd_ps(mw, _mm512_set1_ps(a.sa[(t0 + t) * a.n_sub + b]), acc[t]);
            }
        }
    }
    for (int t = 0; t < T; ++t) _mm512_mask_storeu_ps(y + (t0 + t) * n_out + r0, mask, acc[t]);
}

template <int T>
R1_VNNI void micro_p6_k(const uint8_t* panel, const Acts& a, int64_t t0, float* y, int64_t n_out, int64_t r0,
                        __mmask16 mask) {
    const uint8_t* xr[T];
    for (int t = 0; t < T; ++t) xr[t] = a.rows + size_t(t0 + t) * a.act_row + offsetof(BlockQ8_0, qs);
    const __m512i low4 = _mm512_set1_epi8(0x0F), high2 = _mm512_set1_epi8(0x30);
    __m512 acc[T];
    for (int t = 0; t < T; ++t) acc[t] = _mm512_setzero_ps();
    const uint8_t* p = panel;
    for (int64_t i = 0; i < a.nb / 8; ++i, p += 3360) {
        const __m512 vd = _mm512_cvtph_ps(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(p)));
        for (int m = 0; m < 8; ++m) {
            const int64_t b = 8 * i + m;  // the pair is one Q8_0 block of the activations
            const size_t xo = size_t(b) * sizeof(BlockQ8_0);
            const uint8_t* pm = p + kQ6KHead + kQ6KPair * m;
            const __m512i h0 = _mm512_loadu_si512(pm + 256), h1 = _mm512_loadu_si512(pm + 320);
            __m512i dlo[T], dhi[T];  // sub-blocks 2m and 2m+1
            for (int t = 0; t < T; ++t) dlo[t] = dhi[t] = _mm512_setzero_si512();
            for (int k = 0; k < 4; ++k) {
                const __m512i nv = _mm512_loadu_si512(pm + 64 * k);
                // bits 4-5 of vector k come from h0 at bits 2k, of vector k+4 from h1.
                const __m512i hk0 = k == 0 ? _mm512_slli_epi16(h0, 4) : k == 1 ? _mm512_slli_epi16(h0, 2)
                                  : k == 2 ? h0 : _mm512_srli_epi16(h0, 2);
                const __m512i hk1 = k == 0 ? _mm512_slli_epi16(h1, 4) : k == 1 ? _mm512_slli_epi16(h1, 2)
                                  : k == 2 ? h1 : _mm512_srli_epi16(h1, 2);
                const __m512i w0 = _mm512_or_si512(_mm512_and_si512(nv, low4), _mm512_and_si512(hk0, high2));
                const __m512i w1 = _mm512_or_si512(_mm512_and_si512(_mm512_srli_epi16(nv, 4), low4),
                                                   _mm512_and_si512(hk1, high2));
                for (int t = 0; t < T; ++t) {
                    dlo[t] = _mm512_dpbusd_epi32(dlo[t], w0, bcast4(xr[t] + xo + 4 * k));
                    dhi[t] = _mm512_dpbusd_epi32(dhi[t], w1, bcast4(xr[t] + xo + 16 + 4 * k));
                }
            }
            const __m512 dw0 = _mm512_mul_ps(
                vd, _mm512_cvtepi32_ps(_mm512_cvtepi8_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(pm + 384)))));
            const __m512 dw1 = _mm512_mul_ps(
                vd, _mm512_cvtepi32_ps(_mm512_cvtepi8_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(pm + 400)))));
            for (int t = 0; t < T; ++t) {
                // Σ dw·(q − 32)·qa = dw·(Σ q·qa − 32·Σqa) per 16-element half.
                const int32_t* isum16 = a.isum16 + ((t0 + t) * a.nb + b) * 2;
                const __m512i c0 = _mm512_sub_epi32(dlo[t], _mm512_set1_epi32(32 * isum16[0]));
                const __m512i c1 = _mm512_sub_epi32(dhi[t], _mm512_set1_epi32(32 * isum16[1]));
                const __m512 part = _mm512_fmadd_ps(_mm512_cvtepi32_ps(c0), dw0, _mm512_mul_ps(_mm512_cvtepi32_ps(c1), dw1));
                acc[t] = _mm512_fmadd_ps(part, _mm512_set1_ps(a.da[(t0 + t) * a.nb + b]), acc[t]);
            }
        }
    }
    for (int t = 0; t < T; ++t) _mm512_mask_storeu_ps(y + (t0 + t) * n_out + r0, mask, acc[t]);
}

template <int T>
R1_VNNI void micro_p(GgmlType type, const uint8_t* panel, const Acts& a, int64_t t0, float* y, int64_t n_out,
                     int64_t r0, __mmask16 mask) {
    if (type == GgmlType::Q4_0) return micro_p_legacy<T, true>(panel, a, t0, y, n_out, r0, mask);
    if (type == GgmlType::Q8_0) return micro_p_legacy<T, false>(panel, a, t0, y, n_out, r0, mask);
    if (type == GgmlType::Q6_K) return micro_p6_k<T>(panel, a, t0, y, n_out, r0, mask);
    return micro_p4_k<T>(panel, a, t0, y, n_out, r0, mask);
}

R1_VNNI void micro_p_any(int n, GgmlType type, const uint8_t* panel, const Acts& a, int64_t t0, float* y,
                         int64_t n_out, int64_t r0, __mmask16 mask) {
    switch (n) {
        case 8: return micro_p<8>(type, panel, a, t0, y, n_out, r0, mask);
        case 7: return micro_p<7>(type, panel, a, t0, y, n_out, r0, mask);
        case 6: return micro_p<6>(type, panel, a, t0, y, n_out, r0, mask);
        case 5: return micro_p<5>(type, panel, a, t0, y, n_out, r0, mask);
        case 4: return micro_p<4>(type, panel, a, t0, y, n_out, r0, mask);
        case 3: return micro_p<3>(type, panel, a, t0, y, n_out, r0, mask);
        case 2: return micro_p<2>(type, panel, a, t0, y, n_out, r0, mask);
        default: return micro_p<1>(type, panel, a, t0, y, n_out, r0, mask);
    }
}

}  // namespace

bool gemm_supported(GgmlType weight, int64_t n_in) {
    const Format* f = find_format(weight);
    return f && n_in > 0 && n_in % f->block == 0 && n_in <= (int64_t(1) << 24) && cpu_has_vnni();
}

void gemm(const GemmArgs& g, int n_threads) {
    const Format& f = *find_format(g.type);
    ActBuffers buf;
    quantize_acts(g.x, g.n_tokens, g.n_in, f.sub, buf, n_threads);
    const Acts a{.rows = buf.rows.data(), .act_row = row_bytes(GgmlType::Q8_0, uint64_t(g.n_in)), .da = buf.da.data(),
                 .sa = buf.sa.data(), .isum = buf.isum.data(), .isum16 = buf.isum16.data(), .nb = g.n_in / 32,
                 .n_sub = g.n_in / f.sub};

    const size_t w_row = row_bytes(g.type, uint64_t(g.n_in));
    const size_t panel_bytes = size_t(a.n_sub) * sub_bytes(f.sub);
    const int64_t n_panels = (g.n_out + kRows - 1) / kRows;
    const int64_t per_task = std::clamp<int64_t>(int64_t(kPanelBudget / panel_bytes), 1, 8);
    const int64_t n_tasks = (n_panels + per_task - 1) / per_task;
    const auto* w = static_cast<const uint8_t*>(g.w);
#pragma omp parallel num_threads(int(std::min<int64_t>(n_threads, n_tasks)))
    {
        std::vector<uint8_t> q(size_t(kRows) * size_t(g.n_in));
        std::vector<float> dw(size_t(kRows * a.n_sub)), mw(dw.size());
        std::vector<uint8_t> panel_mem(panel_bytes * size_t(per_task) + 64);
        auto* panels = panel_mem.data() + (64 - reinterpret_cast<uintptr_t>(panel_mem.data()) % 64) % 64;
#pragma omp for schedule(dynamic, 1)
        for (int64_t task = 0; task < n_tasks; ++task) {
            const int64_t p0 = task * per_task, np = std::min(per_task, n_panels - p0);
            for (int64_t p = 0; p < np; ++p)
                pack_panel(f, w, w_row, (p0 + p) * kRows, g.n_out, g.n_in, q.data(), dw.data(), mw.data(),
                           panels + size_t(p) * panel_bytes);
            for (int64_t t0 = 0; t0 < g.n_tokens; t0 += kTile) {
                const int nt = int(std::min<int64_t>(kTile, g.n_tokens - t0));
                for (int64_t p = 0; p < np; ++p) {
                    const int64_t r0 = (p0 + p) * kRows;
                    const int64_t valid = std::min<int64_t>(kRows, g.n_out - r0);
                    const auto mask = __mmask16((1u << valid) - 1);
                    if (f.sub == 16)
                        micro_any<16>(nt, panels + size_t(p) * panel_bytes, a, t0, g.y, g.n_out, r0, mask);
                    else
                        micro_any<32>(nt, panels + size_t(p) * panel_bytes, a, t0, g.y, g.n_out, r0, mask);
                }
            }
        }
    }
}


bool pack_supported(GgmlType weight, int64_t n_in) {
    const PackedFormat* f = find_packed(weight);
    return f && n_in > 0 && n_in % f->block == 0 && n_in <= (int64_t(1) << 24) && cpu_has_vnni();
}

size_t packed_bytes(GgmlType weight, int64_t n_out, int64_t n_in) {
    const PackedFormat& f = *find_packed(weight);
    return size_t((n_out + kRows - 1) / kRows) * size_t(n_in / f.block) * f.block_bytes;
}

void pack_matrix(GgmlType weight, const void* w, int64_t n_out, int64_t n_in, void* out, int n_threads) {
    const PackedFormat& pf = *find_packed(weight);
    const size_t w_row = row_bytes(weight, uint64_t(n_in));
    const size_t panel_bytes = size_t(n_in / pf.block) * pf.block_bytes;
    const int64_t n_panels = (n_out + kRows - 1) / kRows;
    const int64_t n_sub = n_in / find_format(weight)->sub;
#pragma omp parallel num_threads(int(std::min<int64_t>(n_threads, n_panels)))
    {
        std::vector<uint8_t> q(size_t(kRows) * size_t(n_in));
        std::vector<float> dw(size_t(kRows * n_sub)), mw(dw.size());
#pragma omp for schedule(static)
        for (int64_t p = 0; p < n_panels; ++p)
            pack_panel_p(pf, static_cast<const uint8_t*>(w), w_row, p * kRows, n_out, n_in, q.data(), dw.data(),
                         mw.data(), static_cast<uint8_t*>(out) + size_t(p) * panel_bytes);
    }
}

void packed_matmul(const GemmArgs& g, const void* packed, int n_threads) {
    const PackedFormat& pf = *find_packed(g.type);
    ActBuffers buf;
    quantize_acts(g.x, g.n_tokens, g.n_in, 32, buf, n_threads);
    const Acts a{.rows = buf.rows.data(), .act_row = row_bytes(GgmlType::Q8_0, uint64_t(g.n_in)), .da = buf.da.data(),
                 .sa = buf.sa.data(), .isum = buf.isum.data(), .isum16 = buf.isum16.data(), .nb = g.n_in / 32,
                 .n_sub = g.n_in / 32};
    const size_t panel_bytes = size_t(g.n_in / pf.block) * pf.block_bytes;
    const int64_t n_panels = (g.n_out + kRows - 1) / kRows;
    const auto* base = static_cast<const uint8_t*>(packed);
    // One contiguous range of panels per thread: sequential streams for the prefetchers (in
    // decode this measured ~8% faster than groups handed out dynamically); within a range,
    // token tiles of 8 run over groups of panels that stay in L2.
    const int64_t group = std::clamp<int64_t>(int64_t(kPanelBudget / panel_bytes), 1, 8);
    const int nt = int(std::min<int64_t>(n_threads, n_panels));
#pragma omp parallel num_threads(nt)
    {
        const int64_t id = omp_get_thread_num(), n = omp_get_num_threads();
        const int64_t p_begin = n_panels * id / n, p_end = n_panels * (id + 1) / n;
        for (int64_t g0 = p_begin; g0 < p_end; g0 += group) {
            const int64_t g1 = std::min(p_end, g0 + group);
            for (int64_t t0 = 0; t0 < g.n_tokens; t0 += kTile) {
                const int tn = int(std::min<int64_t>(kTile, g.n_tokens - t0));
                for (int64_t p = g0; p < g1; ++p) {
                    const int64_t r0 = p * kRows;
                    const int64_t valid = std::min<int64_t>(kRows, g.n_out - r0);
                    micro_p_any(tn, g.type, base + size_t(p) * panel_bytes, a, t0, g.y, g.n_out, r0,
                                __mmask16((1u << valid) - 1));
                }
            }
        }
    }
}

#else  // not x86

bool gemm_supported(GgmlType, int64_t) { return false; }
void gemm(const GemmArgs&, int) {}
bool pack_supported(GgmlType, int64_t) { return false; }
size_t packed_bytes(GgmlType, int64_t, int64_t) { return 0; }
void pack_matrix(GgmlType, const void*, int64_t, int64_t, void*, int) {}
void packed_matmul(const GemmArgs&, const void*, int) {}

#endif

}  // namespace r1::cpu
