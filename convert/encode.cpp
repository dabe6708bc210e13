// Row encoding for the converter and `r1 quantize`, through quant/'s reference codecs (the
// F16/BF16 rounding and block quantizers are ggml's bit for bit, GGUF.md §2.2-2.12).
#include "convert/encode.h"

#include "quant/codecs.h"
#include "core/error.h"

namespace r1::convert {

namespace {

const Codec& codec_for(GgmlType type, int64_t row_length) {
    const Codec* c = codec(type);
    if (!c) fail("type {} has no codec", type_traits(type).name);
    if (row_length % type_traits(type).block_size != 0)
        fail("row length {} is not a multiple of the {} block size {}", row_length, type_traits(type).name,
             type_traits(type).block_size);
    return *c;
}

}  // namespace

void encode_rows(GgmlType type, const float* src, int64_t n_rows, int64_t row_length, uint8_t* dst) {
    codec_for(type, row_length);
    quantize_rows(type, src, dst, n_rows, row_length);
}

void decode_rows(GgmlType type, const uint8_t* src, int64_t n_rows, int64_t row_length, float* dst) {
    const Codec& c = codec_for(type, row_length);
    const uint64_t rb = row_bytes(type, static_cast<uint64_t>(row_length));
    for (int64_t r = 0; r < n_rows; ++r) c.dequantize_row(src + r * rb, dst + r * row_length, row_length);
}

}  // namespace r1::convert
