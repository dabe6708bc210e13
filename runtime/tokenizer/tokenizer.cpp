// Model-independent parts of Tokenizer: vocabulary checks, special-token splitting
// (leftmost-longest, HF lstrip/rstrip), BOS/EOS, decoding and the streaming Detokenizer.
#include "runtime/tokenizer/tokenizer.h"

#include <algorithm>

#include "runtime/tokenizer/tokenizer_impl.h"
#include "runtime/tokenizer/unicode.h"

namespace r1::tokenizer {

// ---- SpecialMatcher ----

void SpecialMatcher::add(std::string_view text, int32_t id, bool always) {
    if (text.empty()) return;
    int32_t n = 0;
    for (char ch : text) {
        auto c = static_cast<unsigned char>(ch);
        auto& next = nodes_[static_cast<size_t>(n)].next;
        auto it = std::lower_bound(next.begin(), next.end(), std::make_pair(c, int32_t{-1}));
        if (it != next.end() && it->first == c) {
            n = it->second;
        } else {
            auto child = static_cast<int32_t>(nodes_.size());
            next.insert(it, {c, child});
            nodes_.emplace_back();
            n = child;
        }
    }
    Node& node = nodes_[static_cast<size_t>(n)];
    if (node.id < 0) {  // duplicate text: the lowest id wins
        node.id = id;
        node.always = always;
    }
    first_[static_cast<unsigned char>(text[0])] = true;
}

size_t SpecialMatcher::match(std::string_view text, size_t pos, bool parse_special, int32_t* id) const {
    size_t best = 0;
    int32_t n = 0;
    for (size_t i = pos; i < text.size(); ++i) {
        auto c = static_cast<unsigned char>(text[i]);
        const auto& next = nodes_[static_cast<size_t>(n)].next;
        auto it = std::lower_bound(next.begin(), next.end(), std::make_pair(c, int32_t{-1}));
        if (it == next.end() || it->first != c) break;
        n = it->second;
        const Node& node = nodes_[static_cast<size_t>(n)];
        if (node.id >= 0 && (parse_special || node.always)) {
            best = i + 1 - pos;
            *id = node.id;
        }
    }
    return best;
}

// ---- Tokenizer ----

namespace {

bool is_space_byte(unsigned char c) { return c == ' ' || (c >= '\t' && c <= '\r'); }

// Token texts that end generation besides EOS/EOT (llama.cpp's list, GGUF.md §4.3).
constexpr std::string_view kEogTexts[] = {
    "<|eot_id|>", "<|im_end|>", "<|end|>", "<end_of_turn>", "<|endoftext|>", "<|eom_id|>",
    "<EOT>", "<\xEF\xBD\x9C" "end\xE2\x96\x81of\xE2\x96\x81sentence\xEF\xBD\x9C>",
};

int parse_byte_token(std::string_view t) {
    auto hex = [](char c) {
        if (c >= '0' && c <= '9') return c - '0';
        if (c >= 'A' && c <= 'F') return c - 'A' + 10;
        if (c >= 'a' && c <= 'f') return c - 'a' + 10;
        return -1;
    };
    if (t.size() != 6 || !t.starts_with("<0x") || t[5] != '>') return -1;
    int hi = hex(t[3]), lo = hex(t[4]);
    return hi < 0 || lo < 0 ? -1 : hi * 16 + lo;
}

}  // namespace

Tokenizer::Tokenizer(Vocab v) : impl_(std::make_unique<Impl>()), vocab_(std::move(v)) {
    const size_t n = vocab_.tokens.size();
    if (n == 0) throw TokenizerError(ErrorCode::VocabEmpty, "tokenizer: the vocabulary is empty");
    if (n > static_cast<size_t>(INT32_MAX))
        throw TokenizerError(ErrorCode::VocabShape, fmt::format("tokenizer: {} tokens is too many", n));
    if (vocab_.token_types.empty()) vocab_.token_types.assign(n, static_cast<int32_t>(TokenType::Normal));
    if (vocab_.token_types.size() != n)
        throw TokenizerError(ErrorCode::VocabShape,
                             fmt::format("tokenizer: {} token types for {} tokens",
                                         vocab_.token_types.size(), n));
    if (!vocab_.scores.empty() && vocab_.scores.size() != n)
        throw TokenizerError(ErrorCode::VocabShape,
                             fmt::format("tokenizer: {} scores for {} tokens", vocab_.scores.size(), n));
    const auto nv = static_cast<int32_t>(n);
    auto check_id = [&](const char* what, int32_t id) {
        if (id < -1 || id >= nv)
            throw TokenizerError(ErrorCode::SpecialId,
                                 fmt::format("tokenizer: {} id {} is outside the vocabulary (0..{})",
                                             what, id, nv - 1));
    };
    check_id("bos", vocab_.bos_id);
    check_id("eos", vocab_.eos_id);
    check_id("unknown", vocab_.unk_id);
    check_id("padding", vocab_.pad_id);
    check_id("eot", vocab_.eot_id);
    if (vocab_.add_bos && vocab_.bos_id < 0)
        throw TokenizerError(ErrorCode::SpecialId, "tokenizer: add_bos is set but there is no BOS token");
    if (vocab_.add_eos && vocab_.eos_id < 0)
        throw TokenizerError(ErrorCode::SpecialId, "tokenizer: add_eos is set but there is no EOS token");

    impl_->token_to_id.reserve(n);
    impl_->lstrip.assign(n, false);
    impl_->rstrip.assign(n, false);
    for (int32_t id : vocab_.lstrip_ids) {
        check_id("lstrip token", id);
        if (id >= 0) impl_->lstrip[static_cast<size_t>(id)] = true;
    }
    for (int32_t id : vocab_.rstrip_ids) {
        check_id("rstrip token", id);
        if (id >= 0) impl_->rstrip[static_cast<size_t>(id)] = true;
    }
    std::vector<bool> seen_byte(256, false);
    for (int32_t id = 0; id < nv; ++id) {
        const std::string& t = vocab_.tokens[static_cast<size_t>(id)];
        impl_->token_to_id.emplace(t, id);  // duplicates: the first id wins
        int32_t type = vocab_.token_types[static_cast<size_t>(id)];
        if (type < 0 || type > 6)
            throw TokenizerError(ErrorCode::VocabShape,
                                 fmt::format("tokenizer: token {} has invalid type {}", id, type));
        auto tt = static_cast<TokenType>(type);
        if (tt == TokenType::Control || tt == TokenType::Unknown || tt == TokenType::UserDefined)
            impl_->specials.add(t, id, tt == TokenType::UserDefined);
        if (tt == TokenType::Byte) {
            int b = parse_byte_token(t);
            if (b < 0)
                throw TokenizerError(ErrorCode::ByteToken,
                                     fmt::format("tokenizer: byte token {} has text '{}', expected <0xHH>",
                                                 id, t));
            if (seen_byte[static_cast<size_t>(b)])
                throw TokenizerError(ErrorCode::ByteToken,
                                     fmt::format("tokenizer: byte token {} '{}' is a duplicate", id, t));
            seen_byte[static_cast<size_t>(b)] = true;
        }
        if (tt != TokenType::Normal && tt != TokenType::Byte && tt != TokenType::Unused) {
            if (t == "<think>" && think_begin_ < 0) think_begin_ = id;
            if (t == "</think>" && think_end_ < 0) think_end_ = id;
            if (std::find(std::begin(kEogTexts), std::end(kEogTexts), t) != std::end(kEogTexts))
                eog_.push_back(id);
        }
    }
    for (int32_t id : {vocab_.eos_id, vocab_.eot_id})
        if (id >= 0 && std::find(eog_.begin(), eog_.end(), id) == eog_.end()) eog_.push_back(id);
    std::sort(eog_.begin(), eog_.end());

    // Decoded bytes of every token.
    const bool spm = vocab_.model == "llama";
    pieces_.resize(n);
    for (size_t id = 0; id < n; ++id) {
        const std::string& t = vocab_.tokens[id];
        std::string& p = pieces_[id];
        switch (static_cast<TokenType>(vocab_.token_types[id])) {
            case TokenType::Normal:
                if (spm) {
                    for (size_t i = 0; i < t.size();) {
                        if (t.compare(i, 3, "\xE2\x96\x81") == 0) { p += ' '; i += 3; }
                        else p += t[i++];
                    }
                } else {
                    // Byte-level spelling back to bytes; a token with a character outside the
                    // byte alphabet is taken literally (as HF's reference decoder does).
                    const auto* s = reinterpret_cast<const unsigned char*>(t.data());
                    bool all = true;
                    for (size_t i = 0; i < t.size() && all;) {
                        size_t len;
                        uint32_t cp;
                        int b = utf8_next(s + i, t.size() - i, &len, &cp) == Utf8Status::Valid
                                    ? unicode_to_byte(cp) : -1;
                        if (b < 0) all = false;
                        else p += static_cast<char>(b);
                        i += len;
                    }
                    if (!all) p = t;
                }
                break;
            case TokenType::Byte: p = std::string(1, static_cast<char>(parse_byte_token(t))); break;
            case TokenType::Control:
            case TokenType::UserDefined:
            case TokenType::Unknown: p = t; break;
            case TokenType::Unused:
            case TokenType::Undefined: break;
        }
    }
}

Tokenizer::~Tokenizer() = default;

std::unique_ptr<Tokenizer> Tokenizer::create(Vocab v) {
    if (v.model == "gpt2") return make_bpe_tokenizer(std::move(v));
    if (v.model == "llama") return make_spm_tokenizer(std::move(v));
    throw TokenizerError(ErrorCode::UnknownModel,
                         fmt::format("tokenizer model '{}' is not supported (gpt2, llama)", v.model));
}

int32_t Tokenizer::token_id(std::string_view text) const {
    auto it = impl_->token_to_id.find(text);
    return it == impl_->token_to_id.end() ? -1 : it->second;
}

bool Tokenizer::is_eog(int32_t id) const { return std::binary_search(eog_.begin(), eog_.end(), id); }

std::vector<int32_t> Tokenizer::encode(std::string_view input, bool add_special, bool parse_special) const {
    if (input.size() > kMaxInputBytes)
        throw TokenizerError(ErrorCode::TooLong, fmt::format("tokenizer: input of {} bytes is over the "
                                                             "{} byte limit", input.size(), kMaxInputBytes));
    std::string cleaned;
    std::string_view text = input;
    if (!is_valid_utf8(input)) {  // policy: invalid UTF-8 becomes U+FFFD, never an error
        cleaned = sanitize_utf8(input);
        text = cleaned;
    }
    std::vector<int32_t> out;
    out.reserve(text.size() / 3 + 2);
    if (add_special && vocab_.add_bos) out.push_back(vocab_.bos_id);

    const SpecialMatcher& sm = impl_->specials;
    size_t raw_begin = 0;  // start of the pending plain-text fragment
    auto flush = [&](size_t end) {
        if (end > raw_begin) encode_fragment(text.substr(raw_begin, end - raw_begin), out);
    };
    if (!sm.empty()) {
        for (size_t i = 0; i < text.size();) {
            int32_t id = -1;
            size_t len = sm.may_start(static_cast<unsigned char>(text[i]))
                             ? sm.match(text, i, parse_special, &id) : 0;
            if (len == 0) { ++i; continue; }
            size_t end = i;
            if (impl_->lstrip[static_cast<size_t>(id)])
                while (end > raw_begin && is_space_byte(static_cast<unsigned char>(text[end - 1]))) --end;
            flush(end);
            out.push_back(id);
            i += len;
            if (impl_->rstrip[static_cast<size_t>(id)])
                while (i < text.size() && is_space_byte(static_cast<unsigned char>(text[i]))) ++i;
            raw_begin = i;
        }
    }
    flush(text.size());
    if (add_special && vocab_.add_eos) out.push_back(vocab_.eos_id);
    return out;
}

std::string_view Tokenizer::piece(int32_t id, bool show_special) const {
    if (id < 0 || id >= n_vocab()) return {};
    if (!show_special && token_type(id) == TokenType::Control) return {};
    return pieces_[static_cast<size_t>(id)];
}

size_t Tokenizer::token_to_piece(int32_t id, char* buf, size_t n, bool show_special) const {
    std::string_view p = piece(id, show_special);
    if (p.size() <= n && !p.empty()) std::copy(p.begin(), p.end(), buf);
    return p.size();
}

std::string Tokenizer::decode(std::span<const int32_t> ids, bool show_special) const {
    Detokenizer d(*this, show_special);
    std::string out;
    for (int32_t id : ids) {
        if (id < 0 || id >= n_vocab())
            fail("decode: token id {} is outside the vocabulary (0..{})", id, n_vocab() - 1);
        out += d.push(id);
    }
    out += d.flush();
    return out;
}

// ---- Detokenizer ----

std::string Detokenizer::push(int32_t id) {
    std::string_view p = tok_.piece(id, show_special_);
    if (id >= 0 && id < tok_.n_vocab()) {
        TokenType t = tok_.token_type(id);
        bool plain = t == TokenType::Normal || t == TokenType::Byte;
        if (tok_.strips_leading_space()) {
            // SentencePiece drops the dummy-prefix space at the start and after added tokens
            // (HF LlamaTokenizer legacy decoding, as the fixtures' reference does).
            if (plain) {
                if (at_start_ && p.starts_with(' ')) p.remove_prefix(1);
                at_start_ = false;
            } else if (t != TokenType::Unused) {
                at_start_ = true;
            }
        }
    }
    pending_.append(p);
    size_t k = utf8_complete_prefix(pending_);
    std::string out = is_valid_utf8(std::string_view(pending_).substr(0, k))
                          ? pending_.substr(0, k) : sanitize_utf8(std::string_view(pending_).substr(0, k));
    pending_.erase(0, k);
    return out;
}

std::string Detokenizer::flush() {
    std::string out = sanitize_utf8(pending_);
    pending_.clear();
    return out;
}

void Detokenizer::reset() {
    pending_.clear();
    at_start_ = true;
}

}  // namespace r1::tokenizer
