// SIMD parts of attention (Highway, dispatched at run time): fp16 cache rows to fp32, and one
// query row against a block of cached positions: scores from K stored transposed (k_dim,
// ld), so sixteen positions take one FMA per dimension without horizontal sums; a masked
// softmax with Highway's vector exp; and the probability-weighted sum of V rows.
#undef HWY_TARGET_INCLUDE
#define HWY_TARGET_INCLUDE "backends/cpu/attention_simd.cpp"
#include <hwy/foreach_target.h>  // IWYU pragma: keep

#include <hwy/contrib/math/math-inl.h>
#include <hwy/highway.h>

#include <cfloat>
#include <cmath>

#include "backends/cpu/kernels.h"
#include "quant/fp16.h"

HWY_BEFORE_NAMESPACE();
namespace r1::cpu::HWY_NAMESPACE {
namespace {
namespace hn = hwy::HWY_NAMESPACE;
using DF = hn::ScalableTag<float>;

}  // namespace

int64_t AttnLanes() { return int64_t(hn::Lanes(DF())); }

// Highway 1.0.3 converts fp16 without F16C (x86 before AVX2, EMU128) by rebiasing the exponent,
// which turns infinities and NaNs (exponent 31) into finite 2^16·(1 + m); those lanes are
// rebuilt from the bits (found by tests/cpu F16RowsConvertExactly on every fp16 value).
#if HWY_TARGET == HWY_SSSE3 || HWY_TARGET == HWY_SSE4 || HWY_TARGET == HWY_EMU128 || HWY_TARGET == HWY_SCALAR
constexpr bool kF16Emulated = true;
#else
constexpr bool kF16Emulated = false;
#endif

void F16RowToF32(const uint16_t* src, float* dst, int64_t n) {
    const DF df;
    const hn::Rebind<hwy::float16_t, DF> dh;
    const hn::RebindToUnsigned<DF> du;
    const hn::Rebind<uint16_t, DF> du16;
    const int64_t N = int64_t(hn::Lanes(df));
    int64_t i = 0;
    for (; i + N <= n; i += N) {
        auto f = hn::PromoteTo(df, hn::LoadU(dh, reinterpret_cast<const hwy::float16_t*>(src + i)));
        if constexpr (kF16Emulated) {
            const auto bits = hn::PromoteTo(du, hn::LoadU(du16, src + i));
            const auto exp = hn::Set(du, 0x7C00);
            const auto special = hn::Or(hn::Or(hn::ShiftLeft<16>(hn::And(bits, hn::Set(du, 0x8000))), hn::Set(du, 0x7F800000)),
                                        hn::ShiftLeft<13>(hn::And(bits, hn::Set(du, 0x3FF))));
            f = hn::IfThenElse(hn::RebindMask(df, hn::Eq(hn::And(bits, exp), exp)), hn::BitCast(df, special), f);
        }
        hn::StoreU(f, df, dst + i);
    }
    for (; i < n; ++i) dst[i] = fp16_to_fp32(src[i]);
}

void AttendRow(const AttendArgs& a) {
    const DF df;
    using V = hn::Vec<DF>;
    const int64_t N = int64_t(hn::Lanes(df));
    const int64_t n_vec = (a.n_pos + N - 1) / N;  // score vectors; the last one is partial
    float* s = a.scores;

    // 1. s[j] = scale · q · k_j for j < n_vec·N (columns past n_pos are finite and ignored).
    int64_t v0 = 0;
    for (; v0 + 4 <= n_vec; v0 += 4) {
        V s0 = hn::Zero(df), s1 = hn::Zero(df), s2 = hn::Zero(df), s3 = hn::Zero(df);
        const float* col = a.kt + v0 * N;
        for (int64_t d = 0; d < a.k_dim; ++d, col += a.ld) {
            const V qd = hn::Set(df, a.q[d]);
            s0 = hn::MulAdd(qd, hn::LoadU(df, col), s0);
            s1 = hn::MulAdd(qd, hn::LoadU(df, col + N), s1);
            s2 = hn::MulAdd(qd, hn::LoadU(df, col + 2 * N), s2);
            s3 = hn::MulAdd(qd, hn::LoadU(df, col + 3 * N), s3);
        }
        const V sc = hn::Set(df, a.scale);
        hn::StoreU(hn::Mul(s0, sc), df, s + v0 * N);
        hn::StoreU(hn::Mul(s1, sc), df, s + (v0 + 1) * N);
        hn::StoreU(hn::Mul(s2, sc), df, s + (v0 + 2) * N);
        hn::StoreU(hn::Mul(s3, sc), df, s + (v0 + 3) * N);
    }
    for (; v0 < n_vec; ++v0) {
        V s0 = hn::Zero(df), s1 = hn::Zero(df);  // two chains over alternate dimensions
        const float* col = a.kt + v0 * N;
        int64_t d = 0;
        for (; d + 2 <= a.k_dim; d += 2, col += 2 * a.ld) {
            s0 = hn::MulAdd(hn::Set(df, a.q[d]), hn::LoadU(df, col), s0);
            s1 = hn::MulAdd(hn::Set(df, a.q[d + 1]), hn::LoadU(df, col + a.ld), s1);
        }
        if (d < a.k_dim) s0 = hn::MulAdd(hn::Set(df, a.q[d]), hn::LoadU(df, col), s0);
        hn::StoreU(hn::Mul(hn::Add(s0, s1), hn::Set(df, a.scale)), df, s + v0 * N);
    }

    // 2. p_j = exp(s_j − max) over j < n_pos, zero past it.
    V mx = hn::Set(df, -FLT_MAX);
    for (int64_t v = 0; v < n_vec; ++v) {
        const auto valid = hn::FirstN(df, size_t(a.n_pos - v * N));
        mx = hn::Max(mx, hn::IfThenElse(valid, hn::LoadU(df, s + v * N), hn::Set(df, -FLT_MAX)));
    }
    const V vmax = hn::Set(df, hn::GetLane(hn::MaxOfLanes(df, mx)));
    V sum = hn::Zero(df);
    for (int64_t v = 0; v < n_vec; ++v) {
        const auto valid = hn::FirstN(df, size_t(a.n_pos - v * N));
        const V p = hn::IfThenElseZero(valid, hn::Exp(df, hn::Sub(hn::LoadU(df, s + v * N), vmax)));
        hn::StoreU(p, df, s + v * N);
        sum = hn::Add(sum, p);
    }
    const float inv = 1.0f / hn::GetLane(hn::SumOfLanes(df, sum));

    // 3. out = Σ_j p_j · v_j / Σ_j p_j, four output vectors at a time.
    int64_t d0 = 0;
    for (; d0 + 4 * N <= a.v_dim; d0 += 4 * N) {
        V o0 = hn::Zero(df), o1 = hn::Zero(df), o2 = hn::Zero(df), o3 = hn::Zero(df);
        const float* vr = a.v + d0;
        for (int64_t j = 0; j < a.n_pos; ++j, vr += a.v_dim) {
            const V p = hn::Set(df, s[j]);
            o0 = hn::MulAdd(p, hn::LoadU(df, vr), o0);
            o1 = hn::MulAdd(p, hn::LoadU(df, vr + N), o1);
            o2 = hn::MulAdd(p, hn::LoadU(df, vr + 2 * N), o2);
            o3 = hn::MulAdd(p, hn::LoadU(df, vr + 3 * N), o3);
        }
        const V vi = hn::Set(df, inv);
        hn::StoreU(hn::Mul(o0, vi), df, a.out + d0);
        hn::StoreU(hn::Mul(o1, vi), df, a.out + d0 + N);
        hn::StoreU(hn::Mul(o2, vi), df, a.out + d0 + 2 * N);
        hn::StoreU(hn::Mul(o3, vi), df, a.out + d0 + 3 * N);
    }
    for (; d0 < a.v_dim; d0 += N) {  // v_dim is a multiple of N (attn_lanes)
        V o0 = hn::Zero(df), o1 = hn::Zero(df);
        const float* vr = a.v + d0;
        int64_t j = 0;
        for (; j + 2 <= a.n_pos; j += 2, vr += 2 * a.v_dim) {
            o0 = hn::MulAdd(hn::Set(df, s[j]), hn::LoadU(df, vr), o0);
            o1 = hn::MulAdd(hn::Set(df, s[j + 1]), hn::LoadU(df, vr + a.v_dim), o1);
        }
        if (j < a.n_pos) o0 = hn::MulAdd(hn::Set(df, s[j]), hn::LoadU(df, vr), o0);
        hn::StoreU(hn::Mul(hn::Add(o0, o1), hn::Set(df, inv)), df, a.out + d0);
    }
}

}  // namespace r1::cpu::HWY_NAMESPACE
HWY_AFTER_NAMESPACE();

#if HWY_ONCE
namespace r1::cpu {

HWY_EXPORT(AttnLanes);
HWY_EXPORT(F16RowToF32);
HWY_EXPORT(AttendRow);

int64_t attn_lanes() { return HWY_DYNAMIC_DISPATCH(AttnLanes)(); }
void f16_row_to_f32(const uint16_t* src, float* dst, int64_t n) { HWY_DYNAMIC_DISPATCH(F16RowToF32)(src, dst, n); }
void attend_row(const AttendArgs& a) { HWY_DYNAMIC_DISPATCH(AttendRow)(a); }

}  // namespace r1::cpu
#endif
