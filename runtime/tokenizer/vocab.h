// The tokenizer vocabulary as GGUF stores it (`tokenizer.ggml.*`, GGUF.md §1.10): reading it
// from a GGUF file, importing it from Hugging Face files (tokenizer.json / tokenizer.model +
// tokenizer_config.json) and writing it back. No tokenization here (see tokenizer.h).
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "core/error.h"

namespace r1::gguf {
class File;
class Writer;
}  // namespace r1::gguf

namespace r1::tokenizer {

// GGUF `tokenizer.ggml.token_type` values.
enum class TokenType : int32_t {
    Undefined = 0, Normal = 1, Unknown = 2, Control = 3, UserDefined = 4, Unused = 5, Byte = 6,
};

// Problem classes of RELIABILITY.md §4.4 (T01-T15), so tests can tell which check fired.
enum class ErrorCode {
    VocabEmpty, VocabShape, SpecialId, Merge, ByteToken, VocabIncomplete, UnknownModel,
    UnknownPre, TokenizerJson, SpmModel, TooLong,
};
std::string_view error_code_name(ErrorCode c);

class TokenizerError : public Error {
public:
    TokenizerError(ErrorCode code, const std::string& what) : Error(what), code_(code) {}
    ErrorCode code() const { return code_; }

private:
    ErrorCode code_;
};

struct Vocab {
    std::string model;                // "gpt2" (byte-level BPE) or "llama" (SentencePiece-style)
    std::string pre;                  // BPE pre-tokenizer name (GGUF.md §6.2); empty for llama
    std::vector<std::string> tokens;  // (n_vocab) token text; BPE in GPT-2 byte-level spelling
    std::vector<float> scores;        // (n_vocab) SPM merge scores; empty for BPE
    std::vector<int32_t> token_types; // (n_vocab) TokenType values
    std::vector<std::string> merges;  // BPE merges "left right", rank = index; empty for llama
    int32_t bos_id = -1, eos_id = -1, unk_id = -1, pad_id = -1, eot_id = -1;  // -1: none
    bool add_bos = false;
    bool add_eos = false;
    bool add_space_prefix = false;    // SPM: dummy-prefix space before each text fragment
    std::string chat_template;        // Jinja source; empty if none
    // Hugging Face added-token flags that GGUF cannot store: strip whitespace on the left /
    // right of the token when it is matched in text. Empty when read from GGUF.
    std::vector<int32_t> lstrip_ids, rstrip_ids;

    int64_t n_vocab() const { return static_cast<int64_t>(tokens.size()); }
};

// Reads every tokenizer.* key. Type mismatches throw gguf::GgufError (KvType); missing or
// inconsistent data throws TokenizerError naming the file and key. Deep validation (merges,
// byte tokens) happens in Tokenizer::create.
Vocab vocab_from_gguf(const gguf::File& f);

// Imports a Hugging Face tokenizer folder: tokenizer.json (BPE) or tokenizer.model
// (SentencePiece BPE), plus tokenizer_config.json for BOS/EOS/PAD, add_bos_token and the chat
// template. The BPE pre-tokenizer name is identified from tokenizer.json's pre_tokenizer
// (see identify_pre in hf_import.cpp): its Split regexes are compared with the known sets of
// GGUF.md §6.2; the Qwen2 regex maps to "deepseek-r1-qwen" when the BOS token is DeepSeek's
// `<｜begin▁of▁sentence｜>`, else "qwen2". An unknown pre-tokenizer is an error naming it.
Vocab vocab_from_hf_dir(const std::filesystem::path& dir);

// Writes every tokenizer.* key as llama.cpp's converter does. Ids from tokens.size() up to
// n_vocab_padded get the text "[PAD<id>]" and type UNUSED (score -10000 for llama).
void write_vocab_gguf(const Vocab& v, gguf::Writer& w, int64_t n_vocab_padded);

// Added-token text that llama.cpp's converter treats as special: `<|...|>` or `<｜...｜>`.
bool looks_special(std::string_view text);

}  // namespace r1::tokenizer
