// Q5_0 and Q5_1 (GGUF.md §2.8): Q4_0 / Q4_1 nibbles plus a 5th bit per element in qh, a
// little-endian u32 whose bit j belongs to element j.
#include <algorithm>

#include "quant/codecs.h"
#include "quant/fp16.h"
#include "quant/legacy.h"

namespace r1 {
namespace {

void store_qh(uint8_t* qh, uint32_t bits) {
    for (int b = 0; b < 4; ++b) qh[b] = static_cast<uint8_t>(bits >> (8 * b));
}

uint32_t load_qh(const uint8_t* qh) {
    return static_cast<uint32_t>(qh[0]) | static_cast<uint32_t>(qh[1]) << 8 |
           static_cast<uint32_t>(qh[2]) << 16 | static_cast<uint32_t>(qh[3]) << 24;
}

// Packs 32 5-bit quants (given as q[j], q[j + 16]) into nibbles and the qh bit mask.
void pack5(const int* q, uint8_t* qs, uint8_t* qh) {
    uint32_t bits = 0;
    for (int j = 0; j < 16; ++j) {
        qs[j] = static_cast<uint8_t>((q[j] & 0xF) | ((q[j + 16] & 0xF) << 4));
        bits |= static_cast<uint32_t>((q[j] >> 4) & 1) << j;
        bits |= static_cast<uint32_t>((q[j + 16] >> 4) & 1) << (j + 16);
    }
    store_qh(qh, bits);
}

// Element j (0..31) of a Q5 block as its 5-bit quant.
inline int unpack5(const uint8_t* qs, uint32_t bits, int j) {
    const int lo = j < 16 ? (qs[j] & 0xF) : (qs[j - 16] >> 4);
    return lo | static_cast<int>(((bits >> j) & 1u) << 4);
}

}  // namespace

void quantize_row_q5_0_ref(const float* x, BlockQ5_0* y, int64_t n) {
    for (int64_t i = 0; i < n / kQK5_0; ++i, x += kQK5_0) {
        const float d = legacy::signed_absmax(x, kQK5_0) / -16.0f;
        const float id = d != 0.0f ? 1.0f / d : 0.0f;
        y[i].d = fp32_to_fp16(d);
        int q[kQK5_0];
        for (int j = 0; j < kQK5_0; ++j) q[j] = std::min(31, legacy::trunc_int(x[j] * id + 16.5f));
        pack5(q, y[i].qs, y[i].qh);
    }
}

void quantize_row_q5_1_ref(const float* x, BlockQ5_1* y, int64_t n) {
    for (int64_t i = 0; i < n / kQK5_1; ++i, x += kQK5_1) {
        float min, max;
        legacy::min_max(x, kQK5_1, min, max);
        const float d = (max - min) / 31.0f;
        const float id = d != 0.0f ? 1.0f / d : 0.0f;
        y[i].d = fp32_to_fp16(d);
        y[i].m = fp32_to_fp16(min);
        int q[kQK5_1];
        // No clamp in the reference: (max - min) * id + 0.5 stays below 32.
        for (int j = 0; j < kQK5_1; ++j) q[j] = legacy::trunc_int((x[j] - min) * id + 0.5f) & 0xFF;
        pack5(q, y[i].qs, y[i].qh);
    }
}

void dequantize_row_q5_0(const BlockQ5_0* x, float* y, int64_t n) {
    for (int64_t i = 0; i < n / kQK5_0; ++i, y += kQK5_0) {
        const float d = fp16_to_fp32(x[i].d);
        const uint32_t bits = load_qh(x[i].qh);
        for (int j = 0; j < kQK5_0; ++j) y[j] = static_cast<float>(unpack5(x[i].qs, bits, j) - 16) * d;
    }
}

void dequantize_row_q5_1(const BlockQ5_1* x, float* y, int64_t n) {
    for (int64_t i = 0; i < n / kQK5_1; ++i, y += kQK5_1) {
        const float d = fp16_to_fp32(x[i].d);
        const float m = fp16_to_fp32(x[i].m);
        const uint32_t bits = load_qh(x[i].qh);
        for (int j = 0; j < kQK5_1; ++j) y[j] = static_cast<float>(unpack5(x[i].qs, bits, j)) * d + m;
    }
}

}  // namespace r1
