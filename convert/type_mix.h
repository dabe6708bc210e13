// Output type mixes (`--type`): which ggml type each tensor gets, following llama-quantize's
// rules (GGUF.md §2.15): 1-D tensors, norms and the MoE router stay F32; Q4_K_M/Q5_K_M bump
// output, attn_v and selected ffn_down to Q6_K; rows that do not fit a block fall back.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "quant/types.h"

namespace r1::convert {

enum class Mix { F32, F16, BF16, Q8_0, Q4_0, Q4_1, Q5_0, Q5_1, Q4_K_M, Q5_K_M, Q6_K };

std::optional<Mix> mix_from_name(std::string_view name);  // "q4_k_m", case-insensitive
std::string_view mix_name(Mix m);                          // "q4_k_m"
std::string mix_names();                                   // "f32 f16 ... q6_k"
uint32_t mix_file_type(Mix m);                             // llama_ftype (general.file_type)
GgmlType mix_default_type(Mix m);

// Whether a tensor may be converted to a weight type at all (else it stays F32).
bool is_quantizable(std::string_view name, int n_dims);

struct TypeQuery {
    std::string name;           // GGUF name
    std::vector<int64_t> ne;    // ggml order
    int layer = -1;
};

// Assigns a type to every tensor of a model, in file order (the attn_v counter depends on it).
// has_output: the model has output.weight (else token_embd gets the output rules).
std::vector<GgmlType> choose_types(const std::vector<TypeQuery>& tensors, Mix mix, bool pure,
                                   int64_t n_layer, int64_t n_expert);

// The fallback chain for a row length that is not a multiple of the type's block size.
GgmlType fallback_type(GgmlType t, int64_t row_length);

// llama-quantize's use_more_bits(i, n).
bool use_more_bits(int64_t i, int64_t n);

}  // namespace r1::convert
