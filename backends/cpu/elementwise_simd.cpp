// SIMD element-wise kernels (Highway, dispatched at run time): SwiGLU's silu(g)·u with the
// vector exp. References: silu_mul_ref (reference.cpp).
#undef HWY_TARGET_INCLUDE
#define HWY_TARGET_INCLUDE "backends/cpu/elementwise_simd.cpp"
#include <hwy/foreach_target.h>  // IWYU pragma: keep

#include <hwy/contrib/math/math-inl.h>
#include <hwy/highway.h>

#include <cmath>

#include "backends/cpu/kernels.h"

HWY_BEFORE_NAMESPACE();
namespace r1::cpu::HWY_NAMESPACE {
namespace hn = hwy::HWY_NAMESPACE;
using DF = hn::ScalableTag<float>;

void SiluMul(const float* g, const float* u, float* y, int64_t n) {
    const DF df;
    const int64_t N = int64_t(hn::Lanes(df));
    const auto one = hn::Set(df, 1.0f);
    int64_t i = 0;
    for (; i + N <= n; i += N) {
        const auto gv = hn::LoadU(df, g + i);
        const auto sig = hn::Div(gv, hn::Add(one, hn::Exp(df, hn::Neg(gv))));
        hn::StoreU(hn::Mul(sig, hn::LoadU(df, u + i)), df, y + i);
    }
    for (; i < n; ++i) y[i] = g[i] / (1.0f + std::exp(-g[i])) * u[i];
}

}  // namespace r1::cpu::HWY_NAMESPACE
HWY_AFTER_NAMESPACE();

#if HWY_ONCE
namespace r1::cpu {

HWY_EXPORT(SiluMul);

void silu_mul(const float* g, const float* u, float* y, int64_t n) { HWY_DYNAMIC_DISPATCH(SiluMul)(g, u, y, n); }

}  // namespace r1::cpu
#endif
