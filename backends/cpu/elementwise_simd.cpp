// SIMD element-wise rows (Highway, dispatched at run time): SwiGLU's silu(a)·b, add, multiply,
// scale, sigmoid and softmax, each over one row of n floats with a scalar remainder. exp is
// Highway's vector exp. References: the *_f32_ref functions of reference.cpp (in double).
#undef HWY_TARGET_INCLUDE
#define HWY_TARGET_INCLUDE "backends/cpu/elementwise_simd.cpp"
#include <hwy/foreach_target.h>  // IWYU pragma: keep

#include <hwy/contrib/math/math-inl.h>
#include <hwy/highway.h>

#include <algorithm>
#include <cfloat>
#include <cmath>

#include "backends/cpu/kernels.h"

HWY_BEFORE_NAMESPACE();
namespace r1::cpu::HWY_NAMESPACE {
namespace hn = hwy::HWY_NAMESPACE;
using DF = hn::ScalableTag<float>;

// y[i] = f(a[i], b[i]) in vectors of the target, then the remainder with the scalar g.
template <class VecOp, class ScalarOp>
HWY_INLINE void binary_row(const RowArgs& r, VecOp f, ScalarOp g) {
    const DF df;
    const int64_t N = int64_t(hn::Lanes(df));
    int64_t i = 0;
    for (; i + N <= r.n; i += N) hn::StoreU(f(df, hn::LoadU(df, r.a + i), hn::LoadU(df, r.b + i)), df, r.y + i);
    for (; i < r.n; ++i) r.y[i] = g(r.a[i], r.b[i]);
}

template <class VecOp, class ScalarOp>
HWY_INLINE void unary_row(const RowArgs& r, VecOp f, ScalarOp g) {
    const DF df;
    const int64_t N = int64_t(hn::Lanes(df));
    int64_t i = 0;
    for (; i + N <= r.n; i += N) hn::StoreU(f(df, hn::LoadU(df, r.a + i)), df, r.y + i);
    for (; i < r.n; ++i) r.y[i] = g(r.a[i]);
}

void SiluMul(const RowArgs& r) {
    binary_row(
        r,
        [](DF df, auto a, auto b) {
            return hn::Mul(hn::Div(a, hn::Add(hn::Set(df, 1.0f), hn::Exp(df, hn::Neg(a)))), b);
        },
        [](float a, float b) { return a / (1.0f + std::exp(-a)) * b; });
}

void Add(const RowArgs& r) {
    binary_row(r, [](DF, auto a, auto b) { return hn::Add(a, b); }, [](float a, float b) { return a + b; });
}

void Mul(const RowArgs& r) {
    binary_row(r, [](DF, auto a, auto b) { return hn::Mul(a, b); }, [](float a, float b) { return a * b; });
}

void Scale(const RowArgs& r) {
    const float s = r.s;
    unary_row(r, [s](DF df, auto a) { return hn::Mul(a, hn::Set(df, s)); }, [s](float a) { return a * s; });
}

void Sigmoid(const RowArgs& r) {
    unary_row(
        r, [](DF df, auto a) { return hn::Div(hn::Set(df, 1.0f), hn::Add(hn::Set(df, 1.0f), hn::Exp(df, hn::Neg(a)))); },
        [](float a) { return 1.0f / (1.0f + std::exp(-a)); });
}

// max, then e^(a − max) stored and summed in one pass, then one multiply by 1/Σ.
void Softmax(const RowArgs& r) {
    const DF df;
    const int64_t N = int64_t(hn::Lanes(df));
    int64_t i = 0;
    auto vmax = hn::Set(df, -FLT_MAX);
    for (; i + N <= r.n; i += N) vmax = hn::Max(vmax, hn::LoadU(df, r.a + i));
    float mx = hn::GetLane(hn::MaxOfLanes(df, vmax));
    for (; i < r.n; ++i) mx = std::max(mx, r.a[i]);
    const auto vm = hn::Set(df, mx);
    auto vsum = hn::Zero(df);
    for (i = 0; i + N <= r.n; i += N) {
        const auto e = hn::Exp(df, hn::Sub(hn::LoadU(df, r.a + i), vm));
        hn::StoreU(e, df, r.y + i);
        vsum = hn::Add(vsum, e);
    }
    float sum = hn::GetLane(hn::SumOfLanes(df, vsum));
    for (; i < r.n; ++i) sum += r.y[i] = std::exp(r.a[i] - mx);
    const float inv = 1.0f / sum;
    RowArgs s = r;
    s.a = r.y;
    s.s = inv;
    Scale(s);
}

}  // namespace r1::cpu::HWY_NAMESPACE
HWY_AFTER_NAMESPACE();

#if HWY_ONCE
namespace r1::cpu {

HWY_EXPORT(SiluMul);
HWY_EXPORT(Add);
HWY_EXPORT(Mul);
HWY_EXPORT(Scale);
HWY_EXPORT(Sigmoid);
HWY_EXPORT(Softmax);

void silu_mul_f32(const RowArgs& r) { HWY_DYNAMIC_DISPATCH(SiluMul)(r); }
void add_f32(const RowArgs& r) { HWY_DYNAMIC_DISPATCH(Add)(r); }
void mul_f32(const RowArgs& r) { HWY_DYNAMIC_DISPATCH(Mul)(r); }
void scale_f32(const RowArgs& r) { HWY_DYNAMIC_DISPATCH(Scale)(r); }
void sigmoid_f32(const RowArgs& r) { HWY_DYNAMIC_DISPATCH(Sigmoid)(r); }
void softmax_f32(const RowArgs& r) { HWY_DYNAMIC_DISPATCH(Softmax)(r); }

}  // namespace r1::cpu
#endif
