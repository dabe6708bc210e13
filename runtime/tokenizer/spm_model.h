// A bounded reader for SentencePiece's tokenizer.model (a ModelProto protobuf): pieces,
// scores, types and the few trainer/normalizer fields the "llama" tokenizer needs. Every
// length is checked against the bytes left; nesting is fixed (no recursion on input).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace r1::tokenizer {

struct SpmModel {
    std::vector<std::string> pieces;
    std::vector<float> scores;
    std::vector<int32_t> types;  // SentencePiece piece types = GGUF TokenType values
    int32_t unk_id = 0, bos_id = 1, eos_id = 2, pad_id = -1;  // TrainerSpec defaults
    int32_t model_type = 1;                                    // 1 UNIGRAM, 2 BPE
    bool byte_fallback = false;
    bool add_dummy_prefix = true;
    bool remove_extra_whitespaces = true;
    std::string normalizer_name;
    size_t precompiled_charsmap_size = 0;
};

// Throws TokenizerError(SpmModel) naming `source` for anything malformed or unsupported
// (pieces must be non-empty valid UTF-8 without NUL, at most 64 KiB; BPE models only).
SpmModel parse_spm_model(std::string_view bytes, const std::string& source);

}  // namespace r1::tokenizer
