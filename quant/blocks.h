// Packed block structs of the GGUF quantization formats (GGUF.md §2.4-2.12), bit-compatible
// with ggml. Fields are little-endian; fp16 scales are stored as raw uint16_t bits.
// Only layouts live here: codecs are in the per-format files of quant/.
#pragma once

#include <cstdint>

namespace r1 {

constexpr int kQK4_0 = 32, kQK4_1 = 32, kQK5_0 = 32, kQK5_1 = 32, kQK8_0 = 32, kQK8_1 = 32;
constexpr int kQK_K = 256;
constexpr int kKScaleSize = 12;

struct BlockQ4_0 {
    uint16_t d;                 // fp16 scale
    uint8_t qs[kQK4_0 / 2];     // element j in the low nibble of qs[j], j+16 in the high one
};
static_assert(sizeof(BlockQ4_0) == 18);

struct BlockQ4_1 {
    uint16_t d, m;              // fp16 scale and minimum
    uint8_t qs[kQK4_1 / 2];
};
static_assert(sizeof(BlockQ4_1) == 20);

struct BlockQ5_0 {
    uint16_t d;
    uint8_t qh[4];              // 5th bits, a little-endian u32
    uint8_t qs[kQK5_0 / 2];
};
static_assert(sizeof(BlockQ5_0) == 22);

struct BlockQ5_1 {
    uint16_t d, m;
    uint8_t qh[4];
    uint8_t qs[kQK5_1 / 2];
};
static_assert(sizeof(BlockQ5_1) == 24);

struct BlockQ8_0 {
    uint16_t d;
    int8_t qs[kQK8_0];
};
static_assert(sizeof(BlockQ8_0) == 34);

struct BlockQ8_1 {
    uint16_t d;                 // fp16 scale
    uint16_t s;                 // fp16 of d * sum(qs)
    int8_t qs[kQK8_1];
};
static_assert(sizeof(BlockQ8_1) == 36);

struct BlockQ4_K {
    uint16_t d, dmin;           // fp16 super-scales for the sub-block scales and mins
    uint8_t scales[kKScaleSize];  // 8 scales + 8 mins, 6 bits each
    uint8_t qs[kQK_K / 2];
};
static_assert(sizeof(BlockQ4_K) == 144);

struct BlockQ5_K {
    uint16_t d, dmin;
    uint8_t scales[kKScaleSize];
    uint8_t qh[kQK_K / 8];
    uint8_t qs[kQK_K / 2];
};
static_assert(sizeof(BlockQ5_K) == 176);

struct BlockQ6_K {
    uint8_t ql[kQK_K / 2];      // low 4 bits
    uint8_t qh[kQK_K / 4];      // high 2 bits
    int8_t scales[kQK_K / 16];  // signed 8-bit sub-block scales
    uint16_t d;                 // fp16 super-scale
};
static_assert(sizeof(BlockQ6_K) == 210);

struct BlockQ8_K {
    float d;                    // fp32 scale (not fp16)
    int8_t qs[kQK_K];
    int16_t bsums[kQK_K / 16];  // sum of each group of 16 quants
};
static_assert(sizeof(BlockQ8_K) == 292);

}  // namespace r1
