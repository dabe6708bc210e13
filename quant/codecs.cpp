// The codec table: one type-erased entry per GGUF type we can quantize and dequantize, and the
// quantize_rows convenience over it.
#include "quant/codecs.h"

#include <array>
#include <cstring>

#include "core/error.h"

namespace r1 {
namespace {

template <class Block, void (*Quantize)(const float*, Block*, int64_t)>
void quantize_erased(const float* x, void* y, int64_t n) {
    Quantize(x, static_cast<Block*>(y), n);
}

template <class Block, void (*Dequantize)(const Block*, float*, int64_t)>
void dequantize_erased(const void* x, float* y, int64_t n) {
    Dequantize(static_cast<const Block*>(x), y, n);
}

void copy_f32(const float* x, void* y, int64_t n) {
    std::memcpy(y, x, static_cast<size_t>(n) * sizeof(float));
}

void copy_to_f32(const void* x, float* y, int64_t n) {
    std::memcpy(y, x, static_cast<size_t>(n) * sizeof(float));
}

template <class Block, void (*Q)(const float*, Block*, int64_t), void (*D)(const Block*, float*, int64_t)>
constexpr Codec make(GgmlType t) {
    return Codec{t, &quantize_erased<Block, Q>, &dequantize_erased<Block, D>};
}

constexpr std::array kCodecs = {
    Codec{GgmlType::F32, &copy_f32, &copy_to_f32},
    make<uint16_t, fp32_to_fp16_row, fp16_to_fp32_row>(GgmlType::F16),
    make<uint16_t, fp32_to_bf16_row, bf16_to_fp32_row>(GgmlType::BF16),
    make<BlockQ4_0, quantize_row_q4_0_ref, dequantize_row_q4_0>(GgmlType::Q4_0),
    make<BlockQ4_1, quantize_row_q4_1_ref, dequantize_row_q4_1>(GgmlType::Q4_1),
    make<BlockQ5_0, quantize_row_q5_0_ref, dequantize_row_q5_0>(GgmlType::Q5_0),
    make<BlockQ5_1, quantize_row_q5_1_ref, dequantize_row_q5_1>(GgmlType::Q5_1),
    make<BlockQ8_0, quantize_row_q8_0_ref, dequantize_row_q8_0>(GgmlType::Q8_0),
    make<BlockQ8_1, quantize_row_q8_1_ref, dequantize_row_q8_1>(GgmlType::Q8_1),
    make<BlockQ4_K, quantize_row_q4_K_ref, dequantize_row_q4_K>(GgmlType::Q4_K),
    make<BlockQ5_K, quantize_row_q5_K_ref, dequantize_row_q5_K>(GgmlType::Q5_K),
    make<BlockQ6_K, quantize_row_q6_K_ref, dequantize_row_q6_K>(GgmlType::Q6_K),
    make<BlockQ8_K, quantize_row_q8_K_ref, dequantize_row_q8_K>(GgmlType::Q8_K),
};

}  // namespace

const Codec* codec(GgmlType t) {
    for (const Codec& c : kCodecs) {
        if (c.type == t) return &c;
    }
    return nullptr;
}

size_t quantize_rows(GgmlType t, const float* x, void* y, int64_t n_rows, int64_t n_per_row) {
    const Codec* c = codec(t);
    R1_CHECK(c != nullptr);
    R1_CHECK(n_rows >= 0 && n_per_row >= 0);
    R1_CHECK(n_per_row % type_traits(t).block_size == 0);
    const size_t bytes_per_row = row_bytes(t, static_cast<uint64_t>(n_per_row));
    auto* out = static_cast<uint8_t*>(y);
    for (int64_t r = 0; r < n_rows; ++r) {
        c->quantize_row(x + r * n_per_row, out + static_cast<size_t>(r) * bytes_per_row, n_per_row);
    }
    return static_cast<size_t>(n_rows) * bytes_per_row;
}

}  // namespace r1
