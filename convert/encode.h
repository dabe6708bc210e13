// Float32 rows -> the bytes of one ggml type (F32, F16, BF16 or a quantized block format via
// quant/'s reference quantizers), row by row, so the result never depends on how rows are split.
#pragma once

#include <cstdint>

#include "quant/types.h"

namespace r1::convert {

// Encodes n_rows rows of row_length floats; dst holds n_rows * row_bytes(type, row_length).
void encode_rows(GgmlType type, const float* src, int64_t n_rows, int64_t row_length, uint8_t* dst);
// Decodes rows of a type into float32 (F32, F16, BF16 and the quantized types).
void decode_rows(GgmlType type, const uint8_t* src, int64_t n_rows, int64_t row_length, float* dst);

}  // namespace r1::convert
