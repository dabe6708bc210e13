// Q8_K (GGUF.md §2.12), the activation format of the K-quant dot products: 256 int8 quants, an
// fp32 scale and the sums of each group of 16 quants.
#include <algorithm>
#include <cmath>
#include <cstring>

#include "quant/codecs.h"
#include "quant/fp16.h"

namespace r1 {

void quantize_row_q8_K_ref(const float* x, BlockQ8_K* y, int64_t n) {
    for (int64_t i = 0; i < n / kQK_K; ++i, x += kQK_K) {
        float max = 0, amax = 0;
        for (int j = 0; j < kQK_K; ++j) {
            const float ax = std::fabs(x[j]);
            if (ax > amax) {
                amax = ax;
                max = x[j];
            }
        }
        if (amax == 0.0f) {
            // ggml leaves bsums untouched here; we zero the whole block for determinism.
            std::memset(&y[i], 0, sizeof(BlockQ8_K));
            continue;
        }
        const float iscale = -127.0f / max;
        for (int j = 0; j < kQK_K; ++j) y[i].qs[j] = static_cast<int8_t>(std::min(127, nearest_int(iscale * x[j])));
        for (int g = 0; g < kQK_K / 16; ++g) {
            int sum = 0;
            for (int l = 0; l < 16; ++l) sum += y[i].qs[16 * g + l];
            y[i].bsums[g] = static_cast<int16_t>(sum);
        }
        y[i].d = 1.0f / iscale;
    }
}

void dequantize_row_q8_K(const BlockQ8_K* x, float* y, int64_t n) {
    for (int64_t i = 0; i < n / kQK_K; ++i, y += kQK_K) {
        for (int j = 0; j < kQK_K; ++j) y[j] = x[i].d * static_cast<float>(x[i].qs[j]);
    }
}

}  // namespace r1
