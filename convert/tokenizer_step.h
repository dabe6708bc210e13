// The tokenizer part of a conversion: all tokenizer.* keys from the folder's tokenizer.json or
// tokenizer.model and tokenizer_config.json, padded to the model's vocab_size.
#pragma once

#include <cstdint>
#include <filesystem>

#include "convert/checkpoint.h"
#include "runtime/gguf/gguf.h"

namespace r1::convert {

// Throws (before anything is written) when the tokenizer is missing or broken, or has more
// tokens than n_vocab (config.json vocab_size).
void add_tokenizer(const Checkpoint& ck, gguf::Writer& w, int64_t n_vocab);
// The same from a tokenizer folder alone (`r1 synth --tokenizer DIR`).
void add_tokenizer(const std::filesystem::path& dir, gguf::Writer& w, int64_t n_vocab);

}  // namespace r1::convert
