// RMSNorm over rows (strided rows allowed): y = x / sqrt(mean(x²) + eps) · w, the mean
// accumulated in double so the result matches a float32-weighted reference to rounding (HF
// computes it in float32).
#include <cmath>

#include "backends/cpu/ops/ops.h"
#include "core/error.h"

namespace r1::cpu {
namespace {

void rms_norm_row(const float* x, const float* w, float* y, int64_t n, float eps) {
    double ss = 0;
    for (int64_t i = 0; i < n; ++i) ss += double(x[i]) * double(x[i]);
    const float scale = float(1.0 / std::sqrt(ss / double(n) + double(eps)));
    for (int64_t i = 0; i < n; ++i) y[i] = (x[i] * scale) * w[i];
}

void check(const Tensor& x, const Tensor& w, const Tensor& y) {
    R1_CHECK(x.type == GgmlType::F32 && w.type == GgmlType::F32 && y.type == GgmlType::F32);
    R1_CHECK(w.ne[0] == x.ne[0] && same_shape(x, y));
}

}  // namespace

void rms_norm_ref(const Tensor& x, const Tensor& w, const Tensor& y, float eps) {
    check(x, w, y);
    for (int64_t r = 0; r < x.n_rows(); ++r)
        rms_norm_row(reinterpret_cast<const float*>(row_at(x, r)), reinterpret_cast<const float*>(at(w)),
                     reinterpret_cast<float*>(row_at(y, r)), x.ne[0], eps);
}

void rms_norm(const Tensor& x, const Tensor& w, const Tensor& y, float eps, int n_threads) {
    check(x, w, y);
    const int64_t n_rows = x.n_rows();
    const auto* wd = reinterpret_cast<const float*>(at(w));
#pragma omp parallel for schedule(static) num_threads(threads_for(n_rows * x.ne[0], n_threads))
    for (int64_t r = 0; r < n_rows; ++r)
        rms_norm_row(reinterpret_cast<const float*>(row_at(x, r)), wd, reinterpret_cast<float*>(row_at(y, r)),
                     x.ne[0], eps);
}

}  // namespace r1::cpu
