// matvec for the 32-element legacy formats: Q4_0, Q5_0, Q8_0 against Q8_0 activations and
// Q4_1, Q5_1 against Q8_1. Weights stay unsigned 4/5-bit; their offsets (−8, −16) are folded
// in exactly as −offset·Σa (int32, precomputed per activation block), the Q4_1/Q5_1 minimum
// as m · s (s of Q8_1). One fp32 FMA per block.
#undef HWY_TARGET_INCLUDE
#define HWY_TARGET_INCLUDE "backends/cpu/matvec_legacy.cpp"
#include <hwy/foreach_target.h>  // IWYU pragma: keep

#include <hwy/highway.h>

#include <algorithm>
#include <cstring>

#include "backends/cpu/kernels.h"
#include "backends/cpu/simd-inl.h"
#include "quant/blocks.h"
#include "quant/fp16.h"

HWY_BEFORE_NAMESPACE();
namespace r1::cpu::HWY_NAMESPACE {
namespace {

// The 32 quants of a 4-bit block (low nibbles = elements 0..15, high = 16..31), as bytes of
// the chunk [k, k + Lanes) of the block: qs is broadcast per 128 bits and the lanes that hold
// elements >= 16 take the high nibble.
HWY_INLINE V8 Nibbles(const uint8_t* qs, hn::Mask<D8> upper) {
    const D8 d8;
    const V8 raw = hn::LoadDup128(d8, reinterpret_cast<const int8_t*>(qs));
    const V8 lo_mask = hn::Set(d8, 0x0F);
    return hn::IfThenElse(upper, ShiftBytesRight<4>(raw, lo_mask), hn::And(raw, lo_mask));
}

// Lanes holding elements >= 16 of the chunk starting at element k (k is 0 or 16).
HWY_INLINE hn::Mask<D8> UpperHalf(size_t k) { return hn::Not(hn::FirstN(D8(), 16 - k)); }

// Byte j of the chunk at k gets bit (k + j) of the little-endian u32 qh, as 16 (or 0).
alignas(32) constexpr int8_t kQhByte[32] = {0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1,
                                            2, 2, 2, 2, 2, 2, 2, 2, 3, 3, 3, 3, 3, 3, 3, 3};
alignas(32) constexpr int8_t kQhBit[32] = {1, 2, 4, 8, 16, 32, 64, -128, 1, 2, 4, 8, 16, 32, 64, -128,
                                           1, 2, 4, 8, 16, 32, 64, -128, 1, 2, 4, 8, 16, 32, 64, -128};
HWY_INLINE V8 HighBits(const uint8_t* qh, size_t k) {
    const D8 d8;
    const hn::Repartition<uint32_t, D8> d32u;
    uint32_t bits;
    std::memcpy(&bits, qh, 4);
    const V8 bytes = hn::TableLookupBytes(hn::BitCast(d8, hn::Set(d32u, bits)), hn::LoadU(d8, kQhByte + k));
    return hn::IfThenElseZero(hn::TestBit(bytes, hn::LoadU(d8, kQhBit + k)), hn::Set(d8, 16));
}

// Activation data of up to kChunk blocks, computed once per matvec and shared by every row:
// fp32 scales, fp32 s of Q8_1, and the int32 lanes of −offset·Σa that start each block's
// pair sums (folding the weights' offset in exactly, at no cost per row).
// 512 x 40 B = 20 KiB of stack. Whole rows up to 16384 elements in one pass: with 128-block
// chunks, 1536x8960 Q4_0 ran 4x slower than 8960x1536 (short strided reads defeat prefetch).
constexpr int64_t kChunk = 512;
struct ActChunk {
    float d[kChunk];
    float s[kChunk];
    int32_t bias[kChunk * 8];  // D32 has at most 8 lanes (D8 is capped at 32 bytes)
};

template <class A, int kOffset, bool kMin>
HWY_INLINE void PrepareChunk(const A* x, int64_t nb, ActChunk& c) {
    const D8 d8;
    const D16 d16;
    const D32 d32;
    const size_t n = hn::Lanes(d8);
    for (int64_t b = 0; b < nb; ++b) {
        c.d[b] = F16ToF32(x[b].d);
        if constexpr (kMin) c.s[b] = F16ToF32(x[b].s);
        if constexpr (kOffset != 0) {
            V32 s0 = hn::Zero(d32), s1 = hn::Zero(d32);
            for (size_t k = 0; k < 32; k += n) {
                DotPairs(MulPairs(hn::Set(d8, kOffset), hn::LoadU(d8, x[b].qs + k)), hn::Set(d16, -1), s0, s1);
            }
            hn::StoreU(hn::Add(s0, s1), d32, c.bias + 8 * b);
        }
    }
}

// Σ_blocks d_w · d_a · Σ (q − offset)·a (+ m_w · s_a with kMin) for one row.
template <class WBlock, class ABlock, int kOffset, bool kHigh, bool kMin>
struct Nibble {
    using W = WBlock;
    using A = ABlock;
    static constexpr int64_t kBlock = 32;

    static HWY_INLINE void Prepare(const A* x, int64_t nb, ActChunk& c) { PrepareChunk<A, kOffset, kMin>(x, nb, c); }

    static HWY_INLINE float Row(const W* w, const A* x, const ActChunk& c, int64_t nb) {
        const D8 d8;
        const D16 d16;
        const D32 d32;
        const DF32 df;
        const size_t n = hn::Lanes(d8);
        const V16 ones = hn::Set(d16, 1);
        VF32 acc = hn::Zero(df), acc_odd = hn::Zero(df);  // two FMA chains hide the latency
        float mins = 0.0f, mins_odd = 0.0f;
        for (int64_t b = 0; b < nb; ++b) {
            V32 s0 = kOffset != 0 ? hn::LoadU(d32, c.bias + 8 * b) : hn::Zero(d32);
            V32 s1 = hn::Zero(d32);
            for (size_t k = 0; k < 32; k += n) {
                V8 q = Nibbles(w[b].qs, UpperHalf(k));
                if constexpr (kHigh) q = hn::Or(q, HighBits(w[b].qh, k));
                DotPairs(MulPairs(q, hn::LoadU(d8, x[b].qs + k)), ones, s0, s1);
            }
            acc = hn::MulAdd(hn::Set(df, F16ToF32(w[b].d) * c.d[b]), hn::ConvertTo(df, hn::Add(s0, s1)), acc);
            const VF32 t = acc;  // alternate the chains
            acc = acc_odd;
            acc_odd = t;
            if constexpr (kMin) {
                mins += F16ToF32(w[b].m) * c.s[b];
                const float u = mins;
                mins = mins_odd;
                mins_odd = u;
            }
        }
        return ReduceSum(hn::Add(acc, acc_odd)) + (mins + mins_odd);
    }
};

// Q8_0 x Q8_0: signed int8 pairs.
struct Q8_0Kernel {
    using W = BlockQ8_0;
    using A = BlockQ8_0;
    static constexpr int64_t kBlock = 32;

    static HWY_INLINE void Prepare(const A* x, int64_t nb, ActChunk& c) { PrepareChunk<A, 0, false>(x, nb, c); }

    static HWY_INLINE float Row(const W* w, const A* x, const ActChunk& c, int64_t nb) {
        const D8 d8;
        const D16 d16;
        const D32 d32;
        const DF32 df;
        const size_t n = hn::Lanes(d8);
        const V16 ones = hn::Set(d16, 1);
        VF32 acc = hn::Zero(df), acc_odd = hn::Zero(df);
        for (int64_t b = 0; b < nb; ++b) {
            V32 s0 = hn::Zero(d32), s1 = hn::Zero(d32);
            for (size_t k = 0; k < 32; k += n) {
                DotPairs(MulPairsSigned(hn::LoadU(d8, w[b].qs + k), hn::LoadU(d8, x[b].qs + k)), ones, s0, s1);
            }
            acc = hn::MulAdd(hn::Set(df, F16ToF32(w[b].d) * c.d[b]), hn::ConvertTo(df, hn::Add(s0, s1)), acc);
            const VF32 t = acc;  // alternate the chains
            acc = acc_odd;
            acc_odd = t;
        }
        return ReduceSum(hn::Add(acc, acc_odd));
    }
};

// Rows over column chunks of kChunk blocks: prepare the chunk's activation data once, then
// every row accumulates its part of the chunk into y.
template <class K>
HWY_INLINE void LegacyDriver(const MatvecArgs& a) {
    using W = typename K::W;
    const int64_t nb = a.n_in / K::kBlock;
    const auto* base = static_cast<const uint8_t*>(a.w);
    const auto* x = static_cast<const typename K::A*>(a.x);
    const size_t row_bytes = static_cast<size_t>(nb) * sizeof(W);
    ActChunk chunk;
    for (int64_t c0 = 0; c0 < nb; c0 += kChunk) {
        const int64_t n = std::min(kChunk, nb - c0);
        K::Prepare(x + c0, n, chunk);
        for (int64_t r = 0; r < a.n_out; ++r) {
            const float part = K::Row(reinterpret_cast<const W*>(base + static_cast<size_t>(r) * row_bytes) + c0, x + c0, chunk, n);
            a.y[r] = c0 == 0 ? part : a.y[r] + part;
        }
    }
}

}  // namespace

void MatvecQ4_0Q8_0(const MatvecArgs& a) { LegacyDriver<Nibble<BlockQ4_0, BlockQ8_0, 8, false, false>>(a); }
void MatvecQ4_1Q8_1(const MatvecArgs& a) { LegacyDriver<Nibble<BlockQ4_1, BlockQ8_1, 0, false, true>>(a); }
void MatvecQ5_0Q8_0(const MatvecArgs& a) { LegacyDriver<Nibble<BlockQ5_0, BlockQ8_0, 16, true, false>>(a); }
void MatvecQ5_1Q8_1(const MatvecArgs& a) { LegacyDriver<Nibble<BlockQ5_1, BlockQ8_1, 0, true, true>>(a); }
void MatvecQ8_0Q8_0(const MatvecArgs& a) { LegacyDriver<Q8_0Kernel>(a); }

}  // namespace r1::cpu::HWY_NAMESPACE
HWY_AFTER_NAMESPACE();

#if HWY_ONCE
namespace r1::cpu {

HWY_EXPORT(MatvecQ4_0Q8_0);
HWY_EXPORT(MatvecQ4_1Q8_1);
HWY_EXPORT(MatvecQ5_0Q8_0);
HWY_EXPORT(MatvecQ5_1Q8_1);
HWY_EXPORT(MatvecQ8_0Q8_0);

void matvec_q4_0_q8_0(const MatvecArgs& a) { HWY_DYNAMIC_DISPATCH(MatvecQ4_0Q8_0)(a); }
void matvec_q4_1_q8_1(const MatvecArgs& a) { HWY_DYNAMIC_DISPATCH(MatvecQ4_1Q8_1)(a); }
void matvec_q5_0_q8_0(const MatvecArgs& a) { HWY_DYNAMIC_DISPATCH(MatvecQ5_0Q8_0)(a); }
void matvec_q5_1_q8_1(const MatvecArgs& a) { HWY_DYNAMIC_DISPATCH(MatvecQ5_1Q8_1)(a); }
void matvec_q8_0_q8_0(const MatvecArgs& a) { HWY_DYNAMIC_DISPATCH(MatvecQ8_0Q8_0)(a); }

}  // namespace r1::cpu
#endif
