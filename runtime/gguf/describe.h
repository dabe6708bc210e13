// Human- and machine-readable views of GGUF metadata, shared by `r1 info` and diagnostics.
#pragma once

#include <nlohmann/json.hpp>
#include <string>

#include "runtime/gguf/gguf.h"

namespace r1::gguf {

// Arrays longer than max_array become {"type": "array[T]", "length": N}.
nlohmann::json to_json(const Value& v, size_t max_array = 16);
// One line: scalars as text, strings quoted and shortened, arrays as "[T x N]" when long.
std::string to_display(const Value& v, size_t max_chars = 80);

// general.file_type as its name ("Q4_K_M"); when the key is missing, the most common type of
// the 2-D tensors, marked "(guessed)".
std::string file_type_summary(const File& f);

}  // namespace r1::gguf
