// Row encoding for the converter and `r1 quantize`. F16/BF16 rounding is round-to-nearest-even
// as ggml's (GGUF.md §2.2); block formats are quant/'s reference codecs.
#include "convert/encode.h"

#include <cstring>

#include "runtime/core/error.h"
#include "runtime/safetensors/safetensors.h"

namespace r1::convert {

namespace {

uint16_t f32_to_f16_bits(float f) {
    uint32_t x;
    std::memcpy(&x, &f, 4);
    const uint32_t sign = (x >> 16) & 0x8000;
    x &= 0x7FFFFFFF;
    if (x > 0x7F800000) return static_cast<uint16_t>(sign | 0x7E00);  // NaN
    if (x >= 0x477FF000) return static_cast<uint16_t>(sign | 0x7C00);  // rounds to inf
    if (x < 0x38800000) {  // subnormal half (or zero): round-to-nearest-even on the shifted mantissa
        if (x < 0x33000000) return static_cast<uint16_t>(sign);  // below half the smallest subnormal
        uint32_t e = x >> 23, m = (x & 0x7FFFFF) | 0x800000;
        uint32_t shift = 126 - e;  // value = m * 2^(e - 150) = (m >> shift) units of 2^-24
        uint32_t q = m >> shift, rem = m & ((1u << shift) - 1), half = 1u << (shift - 1);
        if (rem > half || (rem == half && (q & 1))) ++q;
        return static_cast<uint16_t>(sign | q);
    }
    uint32_t r = x + 0x0FFF + ((x >> 13) & 1);  // round the 13 dropped bits to nearest even
    r -= 0x38000000;                            // rebias 127 -> 15
    return static_cast<uint16_t>(sign | (r >> 13));
}

uint16_t f32_to_bf16_bits(float f) {
    uint32_t u;
    std::memcpy(&u, &f, 4);
    if ((u & 0x7FFFFFFF) > 0x7F800000) return static_cast<uint16_t>((u >> 16) | 0x40);
    return static_cast<uint16_t>((u + 0x7FFF + ((u >> 16) & 1)) >> 16);
}

}  // namespace

void encode_rows(GgmlType type, const float* src, int64_t n_rows, int64_t row_length, uint8_t* dst) {
    const int64_t n = n_rows * row_length;
    switch (type) {
        case GgmlType::F32:
            std::memcpy(dst, src, static_cast<size_t>(n) * 4);
            return;
        case GgmlType::F16:
            for (int64_t i = 0; i < n; ++i) {
                uint16_t h = f32_to_f16_bits(src[i]);
                std::memcpy(dst + 2 * i, &h, 2);
            }
            return;
        case GgmlType::BF16:
            for (int64_t i = 0; i < n; ++i) {
                uint16_t h = f32_to_bf16_bits(src[i]);
                std::memcpy(dst + 2 * i, &h, 2);
            }
            return;
        default:
            fail("type {} cannot be written yet (quant codecs pending)", type_traits(type).name);
    }
}

void decode_rows(GgmlType type, const uint8_t* src, int64_t n_rows, int64_t row_length, float* dst) {
    const int64_t n = n_rows * row_length;
    switch (type) {
        case GgmlType::F32:
            std::memcpy(dst, src, static_cast<size_t>(n) * 4);
            return;
        case GgmlType::F16:
        case GgmlType::BF16:
            for (int64_t i = 0; i < n; ++i) {
                uint16_t h;
                std::memcpy(&h, src + 2 * i, 2);
                dst[i] = type == GgmlType::F16 ? safetensors::f16_bits_to_f32(h) : safetensors::bf16_bits_to_f32(h);
            }
            return;
        default:
            fail("type {} cannot be read yet (quant codecs pending)", type_traits(type).name);
    }
}

}  // namespace r1::convert
