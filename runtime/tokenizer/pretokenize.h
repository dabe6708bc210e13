// Byte-level BPE pre-tokenization (GGUF.md §6.2): the regex sets named by tokenizer.ggml.pre,
// compiled once with PCRE2 (UTF + UCP, JIT when available). Each regex splits every current
// piece into its matches and the gaps between them ("Isolated"); the next regex splits those.
#pragma once

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace r1::tokenizer {

struct Span {
    size_t begin = 0, size = 0;  // byte range in the text
};

class PreTokenizer {
public:
    // Throws TokenizerError(UnknownPre) naming `pre` if it is not a known set.
    explicit PreTokenizer(const std::string& pre);
    ~PreTokenizer();
    PreTokenizer(const PreTokenizer&) = delete;
    PreTokenizer& operator=(const PreTokenizer&) = delete;

    // Splits valid UTF-8 `text` into pieces (appended to `out`, in order, covering the text).
    void split(std::string_view text, std::vector<Span>& out) const;

    bool nfc() const { return nfc_; }               // HF Qwen2 tokenizers NFC-normalize first
    bool ignore_merges() const { return ignore_merges_; }  // Llama-3: whole-piece lookup first

    // The regexes of a known pre-tokenizer name (empty if unknown), exactly as used.
    static std::vector<std::string> regexes_for(const std::string& pre);

private:
    struct Regex;
    std::vector<std::unique_ptr<Regex>> regexes_;
    bool nfc_ = false;
    bool ignore_merges_ = false;
};

}  // namespace r1::tokenizer
