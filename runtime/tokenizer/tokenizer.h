// Tokenizer: text <-> token ids for byte-level BPE ("gpt2") and SentencePiece-style ("llama")
// vocabularies (GGUF.md §6), plus a streaming Detokenizer that holds back partial UTF-8.
// Invalid UTF-8 in the input is replaced by U+FFFD before tokenizing (never an exception);
// decoded text is valid UTF-8 with invalid byte runs shown as U+FFFD. A Tokenizer is immutable
// after create(): encode/decode may run concurrently from several threads.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "runtime/tokenizer/vocab.h"

namespace r1::tokenizer {

class Tokenizer {
public:
    // Validates the vocabulary (merges, byte tokens, special ids, pre-tokenizer name) and
    // builds the lookup tables; throws TokenizerError naming what is wrong.
    static std::unique_ptr<Tokenizer> create(Vocab v);
    virtual ~Tokenizer();

    // add_special: prepend BOS (append EOS) when the vocabulary says so. parse_special: text
    // of CONTROL tokens becomes those tokens; USER_DEFINED tokens (<think>) always match.
    std::vector<int32_t> encode(std::string_view text, bool add_special, bool parse_special) const;
    // Concatenated pieces; CONTROL tokens only when show_special; invalid UTF-8 -> U+FFFD.
    // Throws r1::Error for an id outside [0, n_vocab).
    std::string decode(std::span<const int32_t> ids, bool show_special) const;
    // The bytes of one token (may be part of a UTF-8 character). Returns the piece length;
    // writes it to buf only when it fits in n bytes (so a result > n means "buffer too small",
    // nothing written). Unknown ids give 0.
    size_t token_to_piece(int32_t id, char* buf, size_t n, bool show_special) const;
    std::string_view piece(int32_t id, bool show_special) const;

    const Vocab& vocab() const { return vocab_; }
    int32_t n_vocab() const { return static_cast<int32_t>(vocab_.tokens.size()); }
    int32_t bos() const { return vocab_.bos_id; }
    int32_t eos() const { return vocab_.eos_id; }
    bool is_eog(int32_t id) const;
    const std::vector<int32_t>& eog_ids() const { return eog_; }
    int32_t think_begin() const { return think_begin_; }  // "<think>" or -1
    int32_t think_end() const { return think_end_; }      // "</think>" or -1
    TokenType token_type(int32_t id) const { return static_cast<TokenType>(vocab_.token_types[id]); }
    int32_t token_id(std::string_view text) const;  // exact token text -> id, or -1

    // Caps the input of encode (bytes); longer input throws TokenizerError(TooLong).
    static constexpr size_t kMaxInputBytes = size_t{1} << 30;

protected:
    explicit Tokenizer(Vocab v);
    // Encodes one fragment of plain valid UTF-8 (no special tokens in it), appending ids.
    virtual void encode_fragment(std::string_view text, std::vector<int32_t>& out) const = 0;
    // Whether decoding strips one leading space after the start / a special token (SPM).
    virtual bool strips_leading_space() const { return false; }

    struct Impl;
    std::unique_ptr<Impl> impl_;
    Vocab vocab_;
    std::vector<std::string> pieces_;  // (n_vocab) decoded bytes of each token
    std::vector<int32_t> eog_;
    int32_t think_begin_ = -1, think_end_ = -1;

    friend class Detokenizer;
};

// Streaming decode: push ids as they are generated, get back text that is complete UTF-8;
// a partial character is held until the bytes that finish it arrive (or flush()).
class Detokenizer {
public:
    Detokenizer(const Tokenizer& tok, bool show_special) : tok_(tok), show_special_(show_special) {}
    std::string push(int32_t id);
    std::string flush();  // remaining bytes; an incomplete character becomes U+FFFD
    void reset();

private:
    const Tokenizer& tok_;
    bool show_special_;
    bool at_start_ = true;  // SPM: strip the dummy-prefix space of the next piece
    std::string pending_;
};

}  // namespace r1::tokenizer
