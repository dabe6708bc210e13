// Scalar numeric helpers shared by every codec (GGUF.md §2.2): IEEE fp16 and bf16 conversions
// with ggml's rounding and NaN rules, and ggml's nearest_int. Integer-only, so every machine and
// compiler produces identical bits.
#pragma once

#include <bit>
#include <cstdint>

namespace r1 {

// FP32 -> IEEE binary16, round to nearest even; overflow -> ±inf; NaN -> 0x7E00 with its sign.
constexpr uint16_t fp32_to_fp16(float f) {
    const uint32_t x = std::bit_cast<uint32_t>(f);
    const uint32_t sign = (x >> 16) & 0x8000u;
    const uint32_t ax = x & 0x7FFFFFFFu;
    if (ax > 0x7F800000u) return static_cast<uint16_t>(sign | 0x7E00u);  // NaN
    if (ax >= 0x477FF000u) return static_cast<uint16_t>(sign | 0x7C00u);  // >= 65520: inf
    if (ax >= 0x38800000u) {  // normal fp16 result (>= 2^-14)
        uint32_t h = ((ax >> 23) - 112u) << 10 | ((ax >> 13) & 0x3FFu);
        const uint32_t rest = ax & 0x1FFFu;
        if (rest > 0x1000u || (rest == 0x1000u && (h & 1u))) ++h;  // carries into the exponent
        return static_cast<uint16_t>(sign | h);
    }
    if (ax <= 0x33000000u) return static_cast<uint16_t>(sign);  // <= 2^-25 rounds to ±0
    // Subnormal result: units of 2^-24 are mantissa >> (126 - exponent), shift in 14..24.
    const uint32_t mant = (ax & 0x7FFFFFu) | 0x800000u;
    const uint32_t shift = 126u - (ax >> 23);
    uint32_t h = mant >> shift;
    const uint32_t rest = mant & ((1u << shift) - 1u);
    const uint32_t half = 1u << (shift - 1u);
    if (rest > half || (rest == half && (h & 1u))) ++h;  // 0x3FF + 1 becomes the least normal
    return static_cast<uint16_t>(sign | h);
}

// IEEE binary16 -> FP32 (exact).
constexpr float fp16_to_fp32(uint16_t h) {
    const uint32_t sign = static_cast<uint32_t>(h & 0x8000u) << 16;
    const uint32_t exp = (h >> 10) & 0x1Fu;
    uint32_t mant = h & 0x3FFu;
    if (exp == 0x1Fu) return std::bit_cast<float>(sign | 0x7F800000u | (mant << 13));  // inf/NaN
    if (exp != 0) return std::bit_cast<float>(sign | ((exp + 112u) << 23) | (mant << 13));
    if (mant == 0) return std::bit_cast<float>(sign);
    // Subnormal: normalize the mantissa.
    uint32_t e = 113;
    while (!(mant & 0x400u)) {
        mant <<= 1;
        --e;
    }
    return std::bit_cast<float>(sign | (e << 23) | ((mant & 0x3FFu) << 13));
}

// FP32 -> bfloat16: round to nearest even (subnormals kept); NaN -> its top half with the
// quiet bit forced (0x40).
constexpr uint16_t fp32_to_bf16(float f) {
    const uint32_t x = std::bit_cast<uint32_t>(f);
    if ((x & 0x7FFFFFFFu) > 0x7F800000u) return static_cast<uint16_t>((x >> 16) | 0x40u);
    return static_cast<uint16_t>((x + 0x7FFFu + ((x >> 16) & 1u)) >> 16);
}

constexpr float bf16_to_fp32(uint16_t h) { return std::bit_cast<float>(static_cast<uint32_t>(h) << 16); }

// ggml's nearest_int: adds 1.5 * 2^23 and reads the low mantissa bits, i.e. round half to even.
// Valid for |x| <= 4194303 (the K-quant callers stay far inside that range).
inline int nearest_int(float x) {
    const float v = x + 12582912.0f;
    return static_cast<int>(std::bit_cast<uint32_t>(v) & 0x007FFFFFu) - 0x00400000;
}

}  // namespace r1
