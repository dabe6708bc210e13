// Q4_0 (GGUF.md §2.6) and Q4_1 (§2.7): 32 4-bit quants per block; byte j holds element j in
// its low nibble and element j+16 in its high nibble.
#include <algorithm>

#include "quant/codecs.h"
#include "quant/fp16.h"
#include "quant/legacy.h"

namespace r1 {

void quantize_row_q4_0_ref(const float* x, BlockQ4_0* y, int64_t n) {
    constexpr int kHalf = kQK4_0 / 2;
    for (int64_t i = 0; i < n / kQK4_0; ++i, x += kQK4_0) {
        const float d = legacy::signed_absmax(x, kQK4_0) / -8.0f;
        const float id = d != 0.0f ? 1.0f / d : 0.0f;
        y[i].d = fp32_to_fp16(d);
        for (int j = 0; j < kHalf; ++j) {
            // ggml: MIN(15, (int8_t)(x * id + 8.5f)), the extreme element maps to 0.
            const int q0 = std::min(15, legacy::trunc_int(x[j] * id + 8.5f));
            const int q1 = std::min(15, legacy::trunc_int(x[j + kHalf] * id + 8.5f));
            y[i].qs[j] = static_cast<uint8_t>(q0 | (q1 << 4));
        }
    }
}

void quantize_row_q4_1_ref(const float* x, BlockQ4_1* y, int64_t n) {
    constexpr int kHalf = kQK4_1 / 2;
    for (int64_t i = 0; i < n / kQK4_1; ++i, x += kQK4_1) {
        float min, max;
        legacy::min_max(x, kQK4_1, min, max);
        const float d = (max - min) / 15.0f;
        const float id = d != 0.0f ? 1.0f / d : 0.0f;
        y[i].d = fp32_to_fp16(d);
        y[i].m = fp32_to_fp16(min);
        for (int j = 0; j < kHalf; ++j) {
            const int q0 = std::min(15, legacy::trunc_int((x[j] - min) * id + 0.5f));
            const int q1 = std::min(15, legacy::trunc_int((x[j + kHalf] - min) * id + 0.5f));
            y[i].qs[j] = static_cast<uint8_t>(q0 | (q1 << 4));
        }
    }
}

void dequantize_row_q4_0(const BlockQ4_0* x, float* y, int64_t n) {
    constexpr int kHalf = kQK4_0 / 2;
    for (int64_t i = 0; i < n / kQK4_0; ++i, y += kQK4_0) {
        const float d = fp16_to_fp32(x[i].d);
        for (int j = 0; j < kHalf; ++j) {
            y[j] = static_cast<float>((x[i].qs[j] & 0xF) - 8) * d;
            y[j + kHalf] = static_cast<float>((x[i].qs[j] >> 4) - 8) * d;
        }
    }
}

void dequantize_row_q4_1(const BlockQ4_1* x, float* y, int64_t n) {
    constexpr int kHalf = kQK4_1 / 2;
    for (int64_t i = 0; i < n / kQK4_1; ++i, y += kQK4_1) {
        const float d = fp16_to_fp32(x[i].d);
        const float m = fp16_to_fp32(x[i].m);
        for (int j = 0; j < kHalf; ++j) {
            y[j] = static_cast<float>(x[i].qs[j] & 0xF) * d + m;
            y[j + kHalf] = static_cast<float>(x[i].qs[j] >> 4) * d + m;
        }
    }
}

}  // namespace r1
