// Internal to the tokenizer component: the shared tables of Tokenizer (token lookup, the
// special-token matcher) and the factories of the two model types (bpe.cpp, spm.cpp).
#pragma once

#include <array>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "runtime/tokenizer/tokenizer.h"

namespace r1::tokenizer {

// Byte trie over the text of CONTROL / USER_DEFINED / UNKNOWN tokens for leftmost-longest
// matching. USER_DEFINED tokens match always; the others only with parse_special.
class SpecialMatcher {
public:
    void add(std::string_view text, int32_t id, bool always);
    // Longest token starting at text[pos]: its length (0 if none) and id.
    size_t match(std::string_view text, size_t pos, bool parse_special, int32_t* id) const;
    bool may_start(unsigned char c) const { return first_[c]; }
    bool empty() const { return nodes_.size() <= 1; }

private:
    struct Node {
        std::vector<std::pair<unsigned char, int32_t>> next;  // sorted by byte
        int32_t id = -1;
        bool always = false;
    };
    std::vector<Node> nodes_{Node{}};
    std::array<bool, 256> first_{};
};

struct Tokenizer::Impl {
    std::unordered_map<std::string_view, int32_t> token_to_id;  // views into vocab_.tokens
    SpecialMatcher specials;
    std::vector<bool> lstrip, rstrip;  // (n_vocab) HF added-token whitespace stripping
};

std::unique_ptr<Tokenizer> make_bpe_tokenizer(Vocab v);
std::unique_ptr<Tokenizer> make_spm_tokenizer(Vocab v);

}  // namespace r1::tokenizer
