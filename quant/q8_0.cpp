// Q8_0 (GGUF.md §2.4) and its activation twin Q8_1 (§2.5): 32 int8 quants per block with an
// fp16 scale d = max|x| / 127, quants roundf(x / d) computed with 1/d of the unrounded d.
#include <cmath>

#include "quant/codecs.h"
#include "quant/fp16.h"

namespace r1 {
namespace {

// d of one block (unrounded fp32) and 1/d (0 for an all-zero block).
void q8_scale(const float* x, float& d, float& id) {
    float amax = 0.0f;
    for (int j = 0; j < kQK8_0; ++j) {
        const float ax = std::fabs(x[j]);
        amax = amax > ax ? amax : ax;  // ggml's MAX(): a NaN propagates
    }
    d = amax / 127.0f;
    id = d != 0.0f ? 1.0f / d : 0.0f;
}

}  // namespace

void quantize_row_q8_0_ref(const float* x, BlockQ8_0* y, int64_t n) {
    for (int64_t i = 0; i < n / kQK8_0; ++i, x += kQK8_0) {
        float d, id;
        q8_scale(x, d, id);
        y[i].d = fp32_to_fp16(d);
        for (int j = 0; j < kQK8_0; ++j) y[i].qs[j] = static_cast<int8_t>(std::roundf(x[j] * id));
    }
}

void quantize_row_q8_1_ref(const float* x, BlockQ8_1* y, int64_t n) {
    for (int64_t i = 0; i < n / kQK8_1; ++i, x += kQK8_1) {
        float d, id;
        q8_scale(x, d, id);
        y[i].d = fp32_to_fp16(d);
        int sum = 0;
        for (int j = 0; j < kQK8_1; ++j) {
            y[i].qs[j] = static_cast<int8_t>(std::roundf(x[j] * id));
            sum += y[i].qs[j];
        }
        y[i].s = fp32_to_fp16(static_cast<float>(sum) * d);
    }
}

void dequantize_row_q8_0(const BlockQ8_0* x, float* y, int64_t n) {
    for (int64_t i = 0; i < n / kQK8_0; ++i, y += kQK8_0) {
        const float d = fp16_to_fp32(x[i].d);
        for (int j = 0; j < kQK8_0; ++j) y[j] = static_cast<float>(x[i].qs[j]) * d;
    }
}

void dequantize_row_q8_1(const BlockQ8_1* x, float* y, int64_t n) {
    for (int64_t i = 0; i < n / kQK8_1; ++i, y += kQK8_1) {
        const float d = fp16_to_fp32(x[i].d);
        for (int j = 0; j < kQK8_1; ++j) y[j] = static_cast<float>(x[i].qs[j]) * d;
    }
}

}  // namespace r1
