// Scalar reference codecs of the GGUF tensor types, bit-compatible with ggml's
// quantize_row_*_ref / dequantize_row_* (GGUF.md §2.4-2.12), and a table over them.
// Row functions take n elements (a multiple of the type's block size) and write n / block
// blocks; they never throw and never allocate. SIMD kernels live in backends/cpu.
#pragma once

#include <cstddef>
#include <cstdint>

#include "quant/blocks.h"
#include "quant/types.h"

namespace r1 {

// x (n) float -> y (n / 32) blocks. Legacy types: 1/d from the unrounded fp32 d.
void quantize_row_q4_0_ref(const float* x, BlockQ4_0* y, int64_t n);
void quantize_row_q4_1_ref(const float* x, BlockQ4_1* y, int64_t n);
void quantize_row_q5_0_ref(const float* x, BlockQ5_0* y, int64_t n);
void quantize_row_q5_1_ref(const float* x, BlockQ5_1* y, int64_t n);
void quantize_row_q8_0_ref(const float* x, BlockQ8_0* y, int64_t n);
void quantize_row_q8_1_ref(const float* x, BlockQ8_1* y, int64_t n);
// x (n) float -> y (n / 256) super-blocks, with ggml's reference (no importance matrix) search.
void quantize_row_q4_K_ref(const float* x, BlockQ4_K* y, int64_t n);
void quantize_row_q5_K_ref(const float* x, BlockQ5_K* y, int64_t n);
void quantize_row_q6_K_ref(const float* x, BlockQ6_K* y, int64_t n);
void quantize_row_q8_K_ref(const float* x, BlockQ8_K* y, int64_t n);

// x (n / block) blocks -> y (n) float.
void dequantize_row_q4_0(const BlockQ4_0* x, float* y, int64_t n);
void dequantize_row_q4_1(const BlockQ4_1* x, float* y, int64_t n);
void dequantize_row_q5_0(const BlockQ5_0* x, float* y, int64_t n);
void dequantize_row_q5_1(const BlockQ5_1* x, float* y, int64_t n);
void dequantize_row_q8_0(const BlockQ8_0* x, float* y, int64_t n);
void dequantize_row_q8_1(const BlockQ8_1* x, float* y, int64_t n);
void dequantize_row_q4_K(const BlockQ4_K* x, float* y, int64_t n);
void dequantize_row_q5_K(const BlockQ5_K* x, float* y, int64_t n);
void dequantize_row_q6_K(const BlockQ6_K* x, float* y, int64_t n);
void dequantize_row_q8_K(const BlockQ8_K* x, float* y, int64_t n);

// Plain float formats: x (n) -> y (n), rounding as fp32_to_fp16 / fp32_to_bf16 (quant/fp16.h).
void fp32_to_fp16_row(const float* x, uint16_t* y, int64_t n);
void fp16_to_fp32_row(const uint16_t* x, float* y, int64_t n);
void fp32_to_bf16_row(const float* x, uint16_t* y, int64_t n);
void bf16_to_fp32_row(const uint16_t* x, float* y, int64_t n);

// Type-erased entry of the codec table; y / x point at n / block_size blocks of `type`.
struct Codec {
    GgmlType type;
    void (*quantize_row)(const float* x, void* y, int64_t n);
    void (*dequantize_row)(const void* x, float* y, int64_t n);
};

// The codec of t: F32, F16, BF16, Q4_0, Q4_1, Q5_0, Q5_1, Q8_0, Q8_1, Q4_K, Q5_K, Q6_K, Q8_K;
// nullptr for every other type.
const Codec* codec(GgmlType t);

// Quantizes n_rows rows of n_per_row floats (x: n_rows * n_per_row) into y, rows back to back;
// returns the bytes written (n_rows * row_bytes(t, n_per_row)). Requires a codec for t and
// n_per_row % block_size == 0 (checked: aborts otherwise; callers validate input first).
size_t quantize_rows(GgmlType t, const float* x, void* y, int64_t n_rows, int64_t n_per_row);

}  // namespace r1
