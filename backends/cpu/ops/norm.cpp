// RMSNorm over rows: y = x / sqrt(mean(x²) + eps) · w, the mean accumulated in double so
// the result matches a float32-weighted reference to rounding (HF computes it in float32).
#include <cmath>

#include "backends/cpu/ops/ops.h"

namespace r1::cpu {
namespace {

void rms_norm_row(const float* x, const float* w, float* y, int64_t n, float eps) {
    double ss = 0;
    for (int64_t i = 0; i < n; ++i) ss += double(x[i]) * double(x[i]);
    const float scale = float(1.0 / std::sqrt(ss / double(n) + double(eps)));
    for (int64_t i = 0; i < n; ++i) y[i] = (x[i] * scale) * w[i];
}

}  // namespace

void rms_norm_ref(const RmsNormArgs& a) {
    for (int64_t r = 0; r < a.n_rows; ++r)
        rms_norm_row(a.x + r * a.n, a.w, a.y + r * a.n, a.n, a.eps);
}

void rms_norm(const RmsNormArgs& a, int n_threads) {
#pragma omp parallel for schedule(static) num_threads(threads_for(a.n_rows * a.n, n_threads))
    for (int64_t r = 0; r < a.n_rows; ++r)
        rms_norm_row(a.x + r * a.n, a.w, a.y + r * a.n, a.n, a.eps);
}

}  // namespace r1::cpu
