// Per-target helpers shared by the kernels: tags for one 32-byte quant block, byte shifts, and
// the int8 pair products Highway 1.0.3 lacks (it has no int8 dot product): x86 uses
// pmaddubsw through .raw, other targets (EMU128, NEON, SVE) a shift/multiply form with the
// same lane semantics. Included once per target by each kernel file (foreach_target).
#if defined(R1_BACKENDS_CPU_SIMD_INL_H_) == defined(HWY_TARGET_TOGGLE)
#ifdef R1_BACKENDS_CPU_SIMD_INL_H_
#undef R1_BACKENDS_CPU_SIMD_INL_H_
#else
#define R1_BACKENDS_CPU_SIMD_INL_H_
#endif

#include <hwy/highway.h>

#include <cstring>

#include "quant/fp16.h"

HWY_BEFORE_NAMESPACE();
namespace r1::cpu::HWY_NAMESPACE {
namespace hn = hwy::HWY_NAMESPACE;

// Byte vectors of at most 32 lanes: one 32-element quant block per vector on 256-bit and wider
// targets, half a block on 128-bit ones (the kernels step through a block in Lanes(D8) chunks).
using D8 = hn::CappedTag<int8_t, 32>;
using D16 = hn::RepartitionToWide<D8>;
using D32 = hn::RepartitionToWide<D16>;
using DF32 = hn::Rebind<float, D32>;
using DU16 = hn::RebindToUnsigned<D16>;
using V8 = hn::Vec<D8>;
using V16 = hn::Vec<D16>;
using V32 = hn::Vec<D32>;
using VF32 = hn::Vec<DF32>;

// Byte-wise logical shifts (Highway 1.0.3 shifts 16-bit lanes; the mask drops what crosses).
template <int kBits>
HWY_INLINE V8 ShiftBytesRight(V8 v, V8 mask) {
    return hn::And(hn::BitCast(D8(), hn::ShiftRight<kBits>(hn::BitCast(DU16(), v))), mask);
}
template <int kBits>
HWY_INLINE V8 ShiftBytesLeft(V8 v) {  // callers ensure no bit leaves its byte
    return hn::BitCast(D8(), hn::ShiftLeft<kBits>(hn::BitCast(DU16(), v)));
}

#if HWY_ARCH_X86 && HWY_TARGET != HWY_EMU128 && HWY_TARGET != HWY_SCALAR
// lane i = a[2i]·b[2i] + a[2i+1]·b[2i+1] with a read as unsigned; a in [0, 127] and b in
// [-127, 127] here, so pmaddubsw never saturates.
template <size_t N>
HWY_INLINE hn::Vec128<int16_t, (N + 1) / 2> MulPairs(hn::Vec128<int8_t, N> a, hn::Vec128<int8_t, N> b) {
    return hn::Vec128<int16_t, (N + 1) / 2>{_mm_maddubs_epi16(a.raw, b.raw)};
}
// The same for signed a in [-128, 127] (b != -128): |a| · (b with a's sign).
template <size_t N>
HWY_INLINE hn::Vec128<int16_t, (N + 1) / 2> MulPairsSigned(hn::Vec128<int8_t, N> a, hn::Vec128<int8_t, N> b) {
    return hn::Vec128<int16_t, (N + 1) / 2>{
        _mm_maddubs_epi16(_mm_abs_epi8(a.raw), _mm_sign_epi8(b.raw, a.raw))};
}
#if HWY_TARGET <= HWY_AVX2
HWY_INLINE hn::Vec256<int16_t> MulPairs(hn::Vec256<int8_t> a, hn::Vec256<int8_t> b) {
    return hn::Vec256<int16_t>{_mm256_maddubs_epi16(a.raw, b.raw)};
}
HWY_INLINE hn::Vec256<int16_t> MulPairsSigned(hn::Vec256<int8_t> a, hn::Vec256<int8_t> b) {
    return hn::Vec256<int16_t>{
        _mm256_maddubs_epi16(_mm256_abs_epi8(a.raw), _mm256_sign_epi8(b.raw, a.raw))};
}
#endif
#else
// lane i = a[2i]·b[2i] + a[2i+1]·b[2i+1], bytes sign-extended out of each 16-bit lane
// (little-endian: byte 2i is the low half). Exact for every input used here.
HWY_INLINE V16 MulPairs(V8 a, V8 b) {
    const D16 d16;
    const V16 a16 = hn::BitCast(d16, a), b16 = hn::BitCast(d16, b);
    const V16 even = hn::Mul(hn::ShiftRight<8>(hn::ShiftLeft<8>(a16)), hn::ShiftRight<8>(hn::ShiftLeft<8>(b16)));
    const V16 odd = hn::Mul(hn::ShiftRight<8>(a16), hn::ShiftRight<8>(b16));
    return hn::Add(even, odd);
}
HWY_INLINE V16 MulPairsSigned(V8 a, V8 b) { return MulPairs(a, b); }
#endif

// sum0/sum1 += Σ p·s over i16 lanes, widened to i32. Only sum0 + sum1 is meaningful (Highway's
// Reorder semantics), which is all the kernels use.
HWY_INLINE void DotPairs(V16 p, V16 s, V32& sum0, V32& sum1) {
    sum0 = hn::ReorderWidenMulAccumulate(D32(), p, s, sum0, sum1);
}

// One fp16 scale to fp32: F16C on AVX2 and up, fcvt on aarch64, else quant/'s bit version
// (the scalar conversion measured as a large share of the per-block work of Q4_0).
HWY_INLINE float F16ToF32(uint16_t h) {
#if HWY_ARCH_X86 && HWY_TARGET <= HWY_AVX2
    return _cvtsh_ss(h);
#elif HWY_ARCH_ARM_A64
    __fp16 f;
    std::memcpy(&f, &h, sizeof(f));
    return static_cast<float>(f);
#else
    return fp16_to_fp32(h);
#endif
}

HWY_INLINE float ReduceSum(VF32 v) { return hn::GetLane(hn::SumOfLanes(DF32(), v)); }

}  // namespace r1::cpu::HWY_NAMESPACE
HWY_AFTER_NAMESPACE();

#endif  // R1_BACKENDS_CPU_SIMD_INL_H_
