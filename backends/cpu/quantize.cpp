// SIMD activation quantization fp32 -> Q8_0 / Q8_1 / Q8_K, bit-identical to quant/'s scalar
// quantize_row_*_ref for finite inputs: the same fp32 operations lane by lane (max|x|, one
// scalar scale, x·(1/d) then roundf / nearest_int), so no rounding can differ.
#undef HWY_TARGET_INCLUDE
#define HWY_TARGET_INCLUDE "backends/cpu/quantize.cpp"
#include <hwy/foreach_target.h>  // IWYU pragma: keep

#include <hwy/highway.h>

#include <cstring>

#include "backends/cpu/kernels.h"
#include "quant/blocks.h"
#include "quant/codecs.h"
#include "quant/fp16.h"

HWY_BEFORE_NAMESPACE();
namespace r1::cpu::HWY_NAMESPACE {
namespace {

namespace hn = hwy::HWY_NAMESPACE;

using DF = hn::CappedTag<float, 32>;
using DI = hn::RebindToSigned<DF>;
using DQ = hn::Rebind<int8_t, DF>;

// roundf: round half away from zero (hn::Round is half to even). Exact for |v| < 2^23.
HWY_INLINE hn::Vec<DI> RoundHalfAway(hn::Vec<DF> v) {
    const DF df;
    const auto t = hn::Trunc(v);
    const auto bump = hn::IfThenElseZero(hn::Ge(hn::Abs(hn::Sub(v, t)), hn::Set(df, 0.5f)), hn::CopySignToAbs(hn::Set(df, 1.0f), v));
    return hn::ConvertTo(DI(), hn::Add(t, bump));
}

// Q8_0 / Q8_1 block: d = max|x| / 127 (unrounded, returned in d), q = roundf(x · (1/d));
// returns Σq.
HWY_INLINE int32_t Q8Block(const float* x, float& d, uint16_t& d_out, int8_t* qs) {
    const DF df;
    const DI di;
    const DQ dq;
    const size_t n = hn::Lanes(df);
    auto amax = hn::Zero(df);
    for (size_t k = 0; k < 32; k += n) amax = hn::Max(amax, hn::Abs(hn::LoadU(df, x + k)));
    d = hn::GetLane(hn::MaxOfLanes(df, amax)) / 127.0f;
    const float id = d != 0.0f ? 1.0f / d : 0.0f;
    d_out = fp32_to_fp16(d);
    auto sum = hn::Zero(di);
    for (size_t k = 0; k < 32; k += n) {
        const auto q = RoundHalfAway(hn::Mul(hn::LoadU(df, x + k), hn::Set(df, id)));
        sum = hn::Add(sum, q);
        hn::StoreU(hn::DemoteTo(dq, q), dq, qs + k);
    }
    return hn::GetLane(hn::SumOfLanes(di, sum));
}

}  // namespace

void QuantizeQ8_0(const float* x, void* y, int64_t n) {
    auto* out = static_cast<BlockQ8_0*>(y);
    float d;
    for (int64_t b = 0; b < n / kQK8_0; ++b) Q8Block(x + b * kQK8_0, d, out[b].d, out[b].qs);
}

void QuantizeQ8_1(const float* x, void* y, int64_t n) {
    auto* out = static_cast<BlockQ8_1*>(y);
    for (int64_t b = 0; b < n / kQK8_1; ++b) {
        float d;
        const int32_t sum = Q8Block(x + b * kQK8_1, d, out[b].d, out[b].qs);
        out[b].s = fp32_to_fp16(static_cast<float>(sum) * d);
    }
}

// Q8_K: the signed element of largest |x| (first one) gives iscale = −127 / max;
// q = min(127, nearest_int(iscale · x)); bsums per 16; d = 1 / iscale. All-zero -> zero block.
void QuantizeQ8_K(const float* x, void* y, int64_t n) {
    const DF df;
    const DI di;
    const DQ dq;
    const size_t lanes = hn::Lanes(df);
    auto* out = static_cast<BlockQ8_K*>(y);
    for (int64_t b = 0; b < n / kQK_K; ++b, x += kQK_K) {
        auto amax_v = hn::Zero(df);
        for (size_t k = 0; k < kQK_K; k += lanes) amax_v = hn::Max(amax_v, hn::Abs(hn::LoadU(df, x + k)));
        const float amax = hn::GetLane(hn::MaxOfLanes(df, amax_v));
        if (amax == 0.0f) {
            std::memset(&out[b], 0, sizeof(BlockQ8_K));
            continue;
        }
        float max = 0.0f;
        for (size_t k = 0; k < kQK_K; k += lanes) {
            const intptr_t i = hn::FindFirstTrue(df, hn::Eq(hn::Abs(hn::LoadU(df, x + k)), hn::Set(df, amax)));
            if (i >= 0) {
                max = x[k + static_cast<size_t>(i)];
                break;
            }
        }
        const float iscale = -127.0f / max;
        for (size_t k = 0; k < kQK_K; k += lanes) {
            const auto q = hn::Min(hn::NearestInt(hn::Mul(hn::Set(df, iscale), hn::LoadU(df, x + k))), hn::Set(di, 127));
            hn::StoreU(hn::DemoteTo(dq, q), dq, out[b].qs + k);
        }
        for (int g = 0; g < kQK_K / 16; ++g) {
            int sum = 0;
            for (int l = 0; l < 16; ++l) sum += out[b].qs[16 * g + l];
            out[b].bsums[g] = static_cast<int16_t>(sum);
        }
        out[b].d = 1.0f / iscale;
    }
}

}  // namespace r1::cpu::HWY_NAMESPACE
HWY_AFTER_NAMESPACE();

#if HWY_ONCE
namespace r1::cpu {

HWY_EXPORT(QuantizeQ8_0);
HWY_EXPORT(QuantizeQ8_1);
HWY_EXPORT(QuantizeQ8_K);

void quantize_q8_0(const float* x, void* y, int64_t n) { HWY_DYNAMIC_DISPATCH(QuantizeQ8_0)(x, y, n); }
void quantize_q8_1(const float* x, void* y, int64_t n) { HWY_DYNAMIC_DISPATCH(QuantizeQ8_1)(x, y, n); }
void quantize_q8_K(const float* x, void* y, int64_t n) { HWY_DYNAMIC_DISPATCH(QuantizeQ8_K)(x, y, n); }

}  // namespace r1::cpu
#endif
