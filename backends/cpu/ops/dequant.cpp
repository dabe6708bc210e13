// Row dequantization for the CPU ops: float formats here, quantized blocks through quant/'s
// scalar codecs. Also the f16 <-> f32 conversions the KV cache uses.
#include <bit>
#include <cstring>

#include "backends/cpu/ops/ops.h"

namespace r1::cpu {

float f16_to_f32(uint16_t h) {
    const uint32_t sign = uint32_t(h & 0x8000) << 16;
    const uint32_t exp = (h >> 10) & 0x1f;
    uint32_t mant = h & 0x3ff;
    uint32_t bits;
    if (exp == 0x1f) {
        bits = sign | 0x7f800000u | (mant << 13);  // inf / nan
    } else if (exp != 0) {
        bits = sign | ((exp + 112) << 23) | (mant << 13);
    } else if (mant == 0) {
        bits = sign;
    } else {  // subnormal: normalise
        int e = -1;
        do {
            ++e;
            mant <<= 1;
        } while ((mant & 0x400) == 0);
        bits = sign | uint32_t(112 - e) << 23 | ((mant & 0x3ff) << 13);
    }
    return std::bit_cast<float>(bits);
}

uint16_t f32_to_f16(float f) {
    const uint32_t x = std::bit_cast<uint32_t>(f);
    const uint32_t sign = (x >> 16) & 0x8000;
    const uint32_t abs = x & 0x7fffffff;
    if (abs > 0x7f800000u) return uint16_t(sign | 0x7e00);  // nan
    if (abs >= 0x477ff000u) return uint16_t(sign | 0x7c00);  // overflow (after rounding) -> inf
    if (abs < 0x38800000u) {                                  // f16 subnormal or zero
        // value = abs_f * 2^24 in units of the smallest subnormal, rounded to nearest even
        const float v = std::bit_cast<float>(abs) * 16777216.0f;
        const float r = v + 12582912.0f;  // 1.5 * 2^23: rounds to integer, ties to even
        return uint16_t(sign | (std::bit_cast<uint32_t>(r) - 0x4b400000u));
    }
    const uint32_t mant_odd = (abs >> 13) & 1;
    const uint32_t rounded = abs + 0xfff + mant_odd;  // round to nearest even at bit 13
    return uint16_t(sign | ((rounded - 0x38000000u) >> 13));
}

float bf16_to_f32(uint16_t h) { return std::bit_cast<float>(uint32_t(h) << 16); }

bool can_dequantize(GgmlType type) {
    return type == GgmlType::F32 || type == GgmlType::F16 || type == GgmlType::BF16;
}

bool dequantize_row(GgmlType type, const void* row, float* out, int64_t n) {
    switch (type) {
        case GgmlType::F32:
            std::memcpy(out, row, size_t(n) * sizeof(float));
            return true;
        case GgmlType::F16: {
            const auto* h = static_cast<const uint16_t*>(row);
            for (int64_t i = 0; i < n; ++i) out[i] = f16_to_f32(h[i]);
            return true;
        }
        case GgmlType::BF16: {
            const auto* h = static_cast<const uint16_t*>(row);
            for (int64_t i = 0; i < n; ++i) out[i] = bf16_to_f32(h[i]);
            return true;
        }
        default:
            return false;
    }
}

}  // namespace r1::cpu
