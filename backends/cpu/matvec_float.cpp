// matvec for float weights against fp32 activations: F32, F16 and BF16 rows widened to fp32
// in registers. Full-width vectors, four independent accumulators; a scalar loop takes the
// n_in % lanes tail.
#undef HWY_TARGET_INCLUDE
#define HWY_TARGET_INCLUDE "backends/cpu/matvec_float.cpp"
#include <hwy/foreach_target.h>  // IWYU pragma: keep

#include <hwy/highway.h>

#include "backends/cpu/kernels.h"
#include "backends/cpu/matvec_driver-inl.h"
#include "quant/fp16.h"

HWY_BEFORE_NAMESPACE();
namespace r1::cpu::HWY_NAMESPACE {
namespace {

namespace hn = hwy::HWY_NAMESPACE;

// Loads Lanes(df) weights at p widened to fp32, and one weight as a scalar.
struct F32Weights {
    using W = float;
    template <class DF>
    static HWY_INLINE hn::Vec<DF> Load(DF df, const W* p) { return hn::LoadU(df, p); }
    static float Scalar(W v) { return v; }
};
struct F16Weights {
    using W = uint16_t;
    template <class DF>
    static HWY_INLINE hn::Vec<DF> Load(DF df, const W* p) {
        const hn::Rebind<hwy::float16_t, DF> dh;
        return hn::PromoteTo(df, hn::LoadU(dh, reinterpret_cast<const hwy::float16_t*>(p)));
    }
    static float Scalar(W v) { return fp16_to_fp32(v); }
};
struct BF16Weights {
    using W = uint16_t;
    template <class DF>
    static HWY_INLINE hn::Vec<DF> Load(DF df, const W* p) {
        const hn::Rebind<hwy::bfloat16_t, DF> dh;
        return hn::PromoteTo(df, hn::LoadU(dh, reinterpret_cast<const hwy::bfloat16_t*>(p)));
    }
    static float Scalar(W v) { return bf16_to_fp32(v); }
};

template <class Weights>
struct FloatKernel {
    using W = typename Weights::W;
    using A = float;
    static constexpr int64_t kBlock = 1;

    static HWY_INLINE float Row(const W* w, const float* x, int64_t n_in) {
        const hn::ScalableTag<float> df;
        const int64_t n = static_cast<int64_t>(hn::Lanes(df));
        auto acc0 = hn::Zero(df), acc1 = hn::Zero(df), acc2 = hn::Zero(df), acc3 = hn::Zero(df);
        int64_t i = 0;
        for (; i + 4 * n <= n_in; i += 4 * n) {
            acc0 = hn::MulAdd(Weights::Load(df, w + i), hn::LoadU(df, x + i), acc0);
            acc1 = hn::MulAdd(Weights::Load(df, w + i + n), hn::LoadU(df, x + i + n), acc1);
            acc2 = hn::MulAdd(Weights::Load(df, w + i + 2 * n), hn::LoadU(df, x + i + 2 * n), acc2);
            acc3 = hn::MulAdd(Weights::Load(df, w + i + 3 * n), hn::LoadU(df, x + i + 3 * n), acc3);
        }
        for (; i + n <= n_in; i += n) acc0 = hn::MulAdd(Weights::Load(df, w + i), hn::LoadU(df, x + i), acc0);
        float sum = hn::GetLane(hn::SumOfLanes(df, hn::Add(hn::Add(acc0, acc1), hn::Add(acc2, acc3))));
        for (; i < n_in; ++i) sum += Weights::Scalar(w[i]) * x[i];
        return sum;
    }
};

}  // namespace

void MatvecF32F32(const MatvecArgs& a) { MatvecDriver<FloatKernel<F32Weights>>(a); }
void MatvecF16F32(const MatvecArgs& a) { MatvecDriver<FloatKernel<F16Weights>>(a); }
void MatvecBF16F32(const MatvecArgs& a) { MatvecDriver<FloatKernel<BF16Weights>>(a); }

}  // namespace r1::cpu::HWY_NAMESPACE
HWY_AFTER_NAMESPACE();

#if HWY_ONCE
namespace r1::cpu {

HWY_EXPORT(MatvecF32F32);
HWY_EXPORT(MatvecF16F32);
HWY_EXPORT(MatvecBF16F32);

void matvec_f32_f32(const MatvecArgs& a) { HWY_DYNAMIC_DISPATCH(MatvecF32F32)(a); }
void matvec_f16_f32(const MatvecArgs& a) { HWY_DYNAMIC_DISPATCH(MatvecF16F32)(a); }
void matvec_bf16_f32(const MatvecArgs& a) { HWY_DYNAMIC_DISPATCH(MatvecBF16F32)(a); }

}  // namespace r1::cpu
#endif
