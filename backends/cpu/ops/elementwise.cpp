// Element-wise ops: SwiGLU, residual add, bias add, row softmax, argmax.
#include <algorithm>
#include <cmath>

#include "backends/cpu/kernels.h"
#include "backends/cpu/ops/ops.h"

namespace r1::cpu {

void glu(const float* gate, const float* up, float* y, int64_t n, int n_threads) {
    constexpr int64_t kChunk = 4096;  // elements per task
    const int64_t n_chunks = (n + kChunk - 1) / kChunk;
#pragma omp parallel for schedule(static) num_threads(threads_for(n, n_threads))
    for (int64_t c = 0; c < n_chunks; ++c) {
        const int64_t i = c * kChunk;
        silu_mul(gate + i, up + i, y + i, std::min(kChunk, n - i));
    }
}

void add(float* y, const float* x, int64_t n, int n_threads) {
#pragma omp parallel for schedule(static) num_threads(threads_for(n, n_threads))
    for (int64_t i = 0; i < n; ++i) y[i] += x[i];
}

void add_bias(float* y, const float* bias, int64_t n_rows, int64_t n, int n_threads) {
#pragma omp parallel for schedule(static) num_threads(threads_for(n_rows * n, n_threads))
    for (int64_t r = 0; r < n_rows; ++r)
        for (int64_t i = 0; i < n; ++i) y[r * n + i] += bias[i];
}

void softmax(float* x, int64_t n_rows, int64_t n, int n_threads) {
#pragma omp parallel for schedule(static) num_threads(threads_for(n_rows * n, n_threads))
    for (int64_t r = 0; r < n_rows; ++r) {
        float* row = x + r * n;
        const float mx = *std::max_element(row, row + n);
        double sum = 0;
        for (int64_t i = 0; i < n; ++i) {
            row[i] = std::exp(row[i] - mx);
            sum += row[i];
        }
        const float inv = float(1.0 / sum);
        for (int64_t i = 0; i < n; ++i) row[i] *= inv;
    }
}

int32_t argmax(const float* x, int64_t n) {
    int64_t best = 0;
    for (int64_t i = 1; i < n; ++i)
        if (x[i] > x[best]) best = i;
    return int32_t(best);
}

}  // namespace r1::cpu
