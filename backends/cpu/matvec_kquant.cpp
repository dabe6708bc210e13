// matvec for the 256-element K-quants against Q8_K activations: Q4_K, Q5_K, Q6_K.
// Per super-block and row: int8 pair products weighted by the sub-block scales in int32, one
// fp32 FMA; the mins of Q4_K/Q5_K come from the activation bsums (GGUF.md §2.12), the −32
// of Q6_K is subtracted exactly in the int16 pair sums.
#undef HWY_TARGET_INCLUDE
#define HWY_TARGET_INCLUDE "backends/cpu/matvec_kquant.cpp"
#include <hwy/foreach_target.h>  // IWYU pragma: keep

#include <hwy/highway.h>

#include "backends/cpu/kernels.h"
#include "backends/cpu/matvec_driver-inl.h"
#include "backends/cpu/simd-inl.h"
#include "quant/blocks.h"
#include "quant/fp16.h"

#ifndef R1_BACKENDS_CPU_KQUANT_SCALES_ONCE
#define R1_BACKENDS_CPU_KQUANT_SCALES_ONCE
namespace r1::cpu {
// The 6-bit scales and mins of Q4_K/Q5_K sub-blocks j = 0..7 (GGUF.md §2.9).
inline void unpack_k_scales(const uint8_t* s, uint8_t* sc, uint8_t* m) {
    for (int j = 0; j < 4; ++j) {
        sc[j] = s[j] & 63;
        m[j] = s[j + 4] & 63;
        sc[j + 4] = static_cast<uint8_t>((s[j + 8] & 0xF) | ((s[j] >> 6) << 4));
        m[j + 4] = static_cast<uint8_t>((s[j + 8] >> 4) | ((s[j + 4] >> 6) << 4));
    }
}
}  // namespace r1::cpu
#endif

HWY_BEFORE_NAMESPACE();
namespace r1::cpu::HWY_NAMESPACE {
namespace {

// Q4_K (kHigh = false) and Q5_K (kHigh = true): chunk c of qs holds sub-block 2c in the low
// nibbles and 2c + 1 in the high ones; the 5th bit of Q5_K is bit 2c / 2c + 1 of qh[l].
template <class WBlock, bool kHigh>
struct KNibble {
    using W = WBlock;
    using A = BlockQ8_K;
    static constexpr int64_t kBlock = kQK_K;

    static HWY_INLINE float Row(const W* w, const A* x, int64_t nb) {
        const D8 d8;
        const D16 d16;
        const D32 d32;
        const DF32 df;
        const size_t n = hn::Lanes(d8);
        const V8 lo_mask = hn::Set(d8, 0x0F);
        const V8 five = hn::Set(d8, 16);
        VF32 acc = hn::Zero(df);
        float mins = 0.0f;
        for (int64_t b = 0; b < nb; ++b) {
            uint8_t sc[8], m[8];
            unpack_k_scales(w[b].scales, sc, m);
            V32 s0 = hn::Zero(d32), s1 = hn::Zero(d32);
            for (int c = 0; c < 4; ++c) {
                for (size_t l = 0; l < 32; l += n) {
                    const V8 raw = hn::LoadU(d8, reinterpret_cast<const int8_t*>(w[b].qs) + 32 * c + l);
                    V8 q_lo = hn::And(raw, lo_mask);
                    V8 q_hi = ShiftBytesRight<4>(raw, lo_mask);
                    if constexpr (kHigh) {
                        const V8 h = hn::LoadU(d8, reinterpret_cast<const int8_t*>(w[b].qh) + l);
                        q_lo = hn::Or(q_lo, hn::IfThenElseZero(hn::TestBit(h, hn::Set(d8, static_cast<int8_t>(1 << (2 * c)))), five));
                        q_hi = hn::Or(q_hi, hn::IfThenElseZero(hn::TestBit(h, hn::Set(d8, static_cast<int8_t>(2 << (2 * c)))), five));
                    }
                    DotPairs(MulPairs(q_lo, hn::LoadU(d8, x[b].qs + 64 * c + l)), hn::Set(d16, sc[2 * c]), s0, s1);
                    DotPairs(MulPairs(q_hi, hn::LoadU(d8, x[b].qs + 64 * c + 32 + l)), hn::Set(d16, sc[2 * c + 1]), s0, s1);
                }
            }
            int32_t summ = 0;
            for (int j = 0; j < 8; ++j) summ += m[j] * (x[b].bsums[2 * j] + x[b].bsums[2 * j + 1]);
            acc = hn::MulAdd(hn::Set(df, F16ToF32(w[b].d) * x[b].d), hn::ConvertTo(df, hn::Add(s0, s1)), acc);
            mins -= F16ToF32(w[b].dmin) * x[b].d * static_cast<float>(summ);
        }
        return ReduceSum(acc) + mins;
    }
};

// Q6_K: two halves of 128; for l in 0..31 the bytes ql[64h + l], ql[64h + 32 + l] and
// qh[32h + l] give elements 128h + l + {0, 32, 64, 96} (groups g = 0..3); 16-element
// sub-blocks with int8 scales.
struct Q6_KKernel {
    using W = BlockQ6_K;
    using A = BlockQ8_K;
    static constexpr int64_t kBlock = kQK_K;

    // Group g of the chunk at l: Σ scale · (q − 32) · a, the −32 folded in exactly as 32·a.
    static HWY_INLINE void Group(V8 q, const int8_t* a, const int8_t* scales, hn::Mask<D16> first, V32& s0, V32& s1) {
        const D8 d8;
        const D16 d16;
        const V8 av = hn::LoadU(d8, a);
        const V16 s = hn::IfThenElse(first, hn::Set(d16, scales[0]), hn::Set(d16, scales[1]));
        DotPairs(hn::Sub(MulPairs(q, av), MulPairs(hn::Set(d8, 32), av)), s, s0, s1);
    }

    static HWY_INLINE float Row(const W* w, const A* x, int64_t nb) {
        const D8 d8;
        const D16 d16;
        const D32 d32;
        const DF32 df;
        const size_t n = hn::Lanes(d8);
        const V8 m4 = hn::Set(d8, 0x0F), m2 = hn::Set(d8, 0x03), m2_2 = hn::Set(d8, 0x0C), m2_4 = hn::Set(d8, 0x30);
        VF32 acc = hn::Zero(df);
        for (int64_t b = 0; b < nb; ++b) {
            V32 s0 = hn::Zero(d32), s1 = hn::Zero(d32);
            for (int h = 0; h < 2; ++h) {
                for (size_t l = 0; l < 32; l += n) {
                    // i16 lane i covers elements l + 2i, l + 2i + 1: sub-block 2g, or 2g + 1 past 16.
                    const auto first = hn::FirstN(d16, l < 16 ? (16 - l) / 2 : 0);
                    const auto* ql = reinterpret_cast<const int8_t*>(w[b].ql) + 64 * h + l;
                    const V8 ql0 = hn::LoadU(d8, ql), ql1 = hn::LoadU(d8, ql + 32);
                    const V8 qh = hn::LoadU(d8, reinterpret_cast<const int8_t*>(w[b].qh) + 32 * h + l);
                    const int8_t* a = x[b].qs + 128 * h + l;
                    const int8_t* scales = w[b].scales + 8 * h;
                    Group(hn::Or(hn::And(ql0, m4), ShiftBytesLeft<4>(hn::And(qh, m2))), a, scales, first, s0, s1);
                    Group(hn::Or(hn::And(ql1, m4), ShiftBytesLeft<2>(hn::And(qh, m2_2))), a + 32, scales + 2, first, s0, s1);
                    Group(hn::Or(ShiftBytesRight<4>(ql0, m4), hn::And(qh, m2_4)), a + 64, scales + 4, first, s0, s1);
                    Group(hn::Or(ShiftBytesRight<4>(ql1, m4), ShiftBytesRight<2>(qh, m2_4)), a + 96, scales + 6, first, s0, s1);
                }
            }
            const float d = F16ToF32(w[b].d) * x[b].d;
            acc = hn::MulAdd(hn::Set(df, d), hn::ConvertTo(df, hn::Add(s0, s1)), acc);
        }
        return ReduceSum(acc);
    }
};

}  // namespace

void MatvecQ4_KQ8_K(const MatvecArgs& a) { MatvecDriver<KNibble<BlockQ4_K, false>>(a); }
void MatvecQ5_KQ8_K(const MatvecArgs& a) { MatvecDriver<KNibble<BlockQ5_K, true>>(a); }
void MatvecQ6_KQ8_K(const MatvecArgs& a) { MatvecDriver<Q6_KKernel>(a); }

}  // namespace r1::cpu::HWY_NAMESPACE
HWY_AFTER_NAMESPACE();

#if HWY_ONCE
namespace r1::cpu {

HWY_EXPORT(MatvecQ4_KQ8_K);
HWY_EXPORT(MatvecQ5_KQ8_K);
HWY_EXPORT(MatvecQ6_KQ8_K);

void matvec_q4_K_q8_K(const MatvecArgs& a) { HWY_DYNAMIC_DISPATCH(MatvecQ4_KQ8_K)(a); }
void matvec_q5_K_q8_K(const MatvecArgs& a) { HWY_DYNAMIC_DISPATCH(MatvecQ5_KQ8_K)(a); }
void matvec_q6_K_q8_K(const MatvecArgs& a) { HWY_DYNAMIC_DISPATCH(MatvecQ6_KQ8_K)(a); }

}  // namespace r1::cpu
#endif
