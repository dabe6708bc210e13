// The registry of ggml tensor type ids (GGUF.md §2.1): name, elements per block, bytes per block.
// Only the table lives here; the block formats and codecs are in the other quant/ files.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

namespace r1 {

enum class GgmlType : uint32_t {
    F32 = 0, F16 = 1, Q4_0 = 2, Q4_1 = 3, Q5_0 = 6, Q5_1 = 7, Q8_0 = 8, Q8_1 = 9,
    Q2_K = 10, Q3_K = 11, Q4_K = 12, Q5_K = 13, Q6_K = 14, Q8_K = 15,
    IQ2_XXS = 16, IQ2_XS = 17, IQ3_XXS = 18, IQ1_S = 19, IQ4_NL = 20, IQ3_S = 21, IQ2_S = 22,
    IQ4_XS = 23, I8 = 24, I16 = 25, I32 = 26, I64 = 27, F64 = 28, IQ1_M = 29, BF16 = 30,
    TQ1_0 = 34, TQ2_0 = 35, MXFP4 = 39, NVFP4 = 40,
};

constexpr uint32_t kGgmlTypeCount = 41;  // ids >= this are unknown to us

struct TypeTraits {
    std::string_view name;  // ggml's spelling: "q4_K", "f16", ...
    uint32_t block_size;    // elements per block
    uint32_t type_size;     // bytes per block
    bool is_quantized;
};

// nullptr for ids that are unknown, removed (4, 5, 31-33, 36-38) or have no block layout.
const TypeTraits* type_traits(uint32_t id);
inline const TypeTraits& type_traits(GgmlType t) { return *type_traits(static_cast<uint32_t>(t)); }

// Case-insensitive lookup by ggml name ("Q4_K" or "q4_K").
std::optional<GgmlType> type_from_name(std::string_view name);

// Bytes of one row of n elements; requires n % block_size == 0.
inline uint64_t row_bytes(GgmlType t, uint64_t n) {
    const TypeTraits& tr = type_traits(t);
    return n / tr.block_size * tr.type_size;
}

// llama_ftype (general.file_type) names, e.g. 15 -> "Q4_K_M"; nullptr if unknown.
const char* file_type_name(uint32_t ftype);

}  // namespace r1
