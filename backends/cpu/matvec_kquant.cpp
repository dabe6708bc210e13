// matvec for the 256-element K-quants against Q8_K activations: Q4_K, Q5_K, Q6_K.
// Per super-block and row: int8 pair products weighted by the sub-block scales in int32, one
// fp32 FMA; the mins of Q4_K/Q5_K and the −32 of Q6_K come from the activation bsums
// (GGUF.md §2.12), exactly in int32.
#undef HWY_TARGET_INCLUDE
#define HWY_TARGET_INCLUDE "backends/cpu/matvec_kquant.cpp"
#include <hwy/foreach_target.h>  // IWYU pragma: keep

#include <hwy/highway.h>

#include <cstring>

#include "backends/cpu/kernels.h"
#include "backends/cpu/matvec_driver-inl.h"
#include "backends/cpu/simd-inl.h"
#include "quant/blocks.h"
#include "quant/fp16.h"

#ifndef R1_BACKENDS_CPU_KQUANT_SCALES_ONCE
#define R1_BACKENDS_CPU_KQUANT_SCALES_ONCE
namespace r1::cpu {
// The 6-bit scales and mins of Q4_K/Q5_K sub-blocks j = 0..7 (GGUF.md §2.9), four bytes at a
// time as little-endian words w0..w2 of scales[12]: sc[0..3] = w0 & 63, m[0..3] = w1 & 63,
// sc[4..7] = (w2 & 0xF) | (top 2 bits of w0) << 4, m[4..7] = (w2 >> 4) | (top 2 of w1) << 4.
inline void unpack_k_scales(const uint8_t* s, uint8_t* sc, uint8_t* m) {
    uint32_t w[3];
    std::memcpy(w, s, sizeof(w));
    const uint32_t six = 0x3F3F3F3Fu, four = 0x0F0F0F0Fu, two = 0x03030303u;
    const uint32_t sc_lo = w[0] & six, m_lo = w[1] & six;
    const uint32_t sc_hi = (w[2] & four) | (((w[0] >> 6) & two) << 4);
    const uint32_t m_hi = ((w[2] >> 4) & four) | (((w[1] >> 6) & two) << 4);
    std::memcpy(sc, &sc_lo, 4);
    std::memcpy(sc + 4, &sc_hi, 4);
    std::memcpy(m, &m_lo, 4);
    std::memcpy(m + 4, &m_hi, 4);
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
        VF32 acc = hn::Zero(df), mins = hn::Zero(df);
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
            acc = hn::MulAdd(hn::Set(df, F16ToF32(w[b].d) * x[b].d), hn::ConvertTo(df, hn::Add(s0, s1)), acc);
            // Σ_j m_j · (bsums[2j] + bsums[2j + 1]): each int32 lane holds a bsums pair.
            const hn::Rebind<uint8_t, D32> du8;
            V32 summ = hn::Zero(d32);
            for (size_t j = 0; j < 8; j += hn::Lanes(d32)) {
                const V32 pairs = hn::LoadU(d32, reinterpret_cast<const int32_t*>(x[b].bsums) + j);
                const V32 pair_sum = hn::Add(hn::ShiftRight<16>(hn::ShiftLeft<16>(pairs)), hn::ShiftRight<16>(pairs));
                summ = hn::Add(summ, hn::Mul(pair_sum, hn::BitCast(d32, hn::PromoteTo(hn::RebindToUnsigned<D32>(), hn::LoadU(du8, m + j)))));
            }
            mins = hn::MulAdd(hn::Set(df, -F16ToF32(w[b].dmin) * x[b].d), hn::ConvertTo(df, summ), mins);
        }
        return ReduceSum(hn::Add(acc, mins));
    }
};

// For the i16 lane holding elements l + 2i, l + 2i + 1 of a 32-element group (sub-blocks
// 2g, 2g + 1 of 16): byte 2i is 0x80 (TableLookupBytesOr0 gives 0), byte 2i + 1 is 1 past
// element 16. Loaded at l; adding the group's first sub-block to the odd bytes gives the
// shuffle that moves each lane's int8 scale into its high byte.
alignas(32) constexpr int8_t kQ6ScaleIndex[32] = {
    -128, 0, -128, 0, -128, 0, -128, 0, -128, 0, -128, 0, -128, 0, -128, 0,
    -128, 1, -128, 1, -128, 1, -128, 1, -128, 1, -128, 1, -128, 1, -128, 1};

// Q6_K: two halves of 128; for l in 0..31 the bytes ql[64h + l], ql[64h + 32 + l] and
// qh[32h + l] give elements 128h + l + {0, 32, 64, 96} (groups g = 0..3); 16-element
// sub-blocks with int8 scales; the −32 comes from Σ scale · bsums.
struct Q6_KKernel {
    using W = BlockQ6_K;
    using A = BlockQ8_K;
    static constexpr int64_t kBlock = kQK_K;

    // Σ scale · q · a over group g (first sub-block sb) of the chunk at l.
    static HWY_INLINE void Group(V8 q, const int8_t* a, V8 scales, V16 index, int sb, V32& s0, V32& s1) {
        const D8 d8;
        const D16 d16;
        const V16 idx = hn::Add(index, hn::Set(d16, static_cast<int16_t>(sb << 8)));
        const V16 s = hn::ShiftRight<8>(hn::BitCast(d16, hn::TableLookupBytesOr0(scales, hn::BitCast(d8, idx))));
        DotPairs(MulPairs(q, hn::LoadU(d8, a)), s, s0, s1);
    }

    static HWY_INLINE float Row(const W* w, const A* x, int64_t nb) {
        const D8 d8;
        const D16 d16;
        const D32 d32;
        const DF32 df;
        const hn::Rebind<int8_t, D16> d8h;
        const size_t n = hn::Lanes(d8);
        const V8 m4 = hn::Set(d8, 0x0F), m2 = hn::Set(d8, 0x03), m2_2 = hn::Set(d8, 0x0C), m2_4 = hn::Set(d8, 0x30);
        VF32 acc = hn::Zero(df);
        for (int64_t b = 0; b < nb; ++b) {
            // −32 · Σ_ib scales_ib · bsums_ib starts the sums (exact, in int32).
            V32 t0 = hn::Zero(d32), t1 = hn::Zero(d32);
            for (size_t i = 0; i < 16; i += hn::Lanes(d16)) {
                DotPairs(hn::LoadU(d16, x[b].bsums + i), hn::PromoteTo(d16, hn::LoadU(d8h, w[b].scales + i)), t0, t1);
            }
            V32 s0 = hn::Neg(hn::ShiftLeft<5>(hn::Add(t0, t1))), s1 = hn::Zero(d32);
            const V8 scales = hn::LoadDup128(d8, w[b].scales);
            for (int h = 0; h < 2; ++h) {
                for (size_t l = 0; l < 32; l += n) {
                    const V16 index = hn::BitCast(d16, hn::LoadU(d8, kQ6ScaleIndex + l));
                    const auto* ql = reinterpret_cast<const int8_t*>(w[b].ql) + 64 * h + l;
                    const V8 ql0 = hn::LoadU(d8, ql), ql1 = hn::LoadU(d8, ql + 32);
                    const V8 qh = hn::LoadU(d8, reinterpret_cast<const int8_t*>(w[b].qh) + 32 * h + l);
                    const int8_t* a = x[b].qs + 128 * h + l;
                    Group(hn::Or(hn::And(ql0, m4), ShiftBytesLeft<4>(hn::And(qh, m2))), a, scales, index, 8 * h, s0, s1);
                    Group(hn::Or(hn::And(ql1, m4), ShiftBytesLeft<2>(hn::And(qh, m2_2))), a + 32, scales, index, 8 * h + 2, s0, s1);
                    Group(hn::Or(ShiftBytesRight<4>(ql0, m4), hn::And(qh, m2_4)), a + 64, scales, index, 8 * h + 4, s0, s1);
                    Group(hn::Or(ShiftBytesRight<4>(ql1, m4), ShiftBytesRight<2>(qh, m2_4)), a + 96, scales, index, 8 * h + 6, s0, s1);
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
