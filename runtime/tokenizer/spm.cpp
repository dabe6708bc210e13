// SentencePiece-style BPE ("llama", GGUF.md §6.5): dummy-prefix space, ' ' -> U+2581, then
// greedy merging of the adjacent pair whose concatenation is the highest-scoring token (ties:
// leftmost); characters with no token fall back to <0xXX> byte tokens (or UNK).
#include <algorithm>
#include <functional>

#include "runtime/tokenizer/tokenizer_impl.h"
#include "runtime/tokenizer/unicode.h"

namespace r1::tokenizer {

namespace {

constexpr std::string_view kSpace = "\xE2\x96\x81";  // U+2581

struct Candidate {
    float score;
    int32_t left;          // symbol index (ordered left to right)
    uint32_t size;         // bytes of left + right when queued (stale check)
    int32_t result;
    bool operator<(const Candidate& o) const {  // max-heap: higher score, then leftmost
        return score != o.score ? score < o.score : left > o.left;
    }
};

struct Symbol {
    uint32_t begin, size;  // bytes in the escaped text; size 0 = merged away
    int32_t prev, next;
};

class SpmTokenizer final : public Tokenizer {
public:
    explicit SpmTokenizer(Vocab v) : Tokenizer(std::move(v)) {
        if (vocab_.scores.empty())
            throw TokenizerError(ErrorCode::VocabShape, "tokenizer: llama vocabulary without scores");
        byte_token_.fill(-1);
        bool all_bytes = true;
        for (int b = 0; b < 256; ++b) {
            int32_t id = token_id(fmt::format("<0x{:02X}>", b));
            if (id >= 0 && token_type(id) == TokenType::Byte) byte_token_[static_cast<size_t>(b)] = id;
            else all_bytes = false;
        }
        if (!all_bytes && vocab_.unk_id < 0)
            throw TokenizerError(ErrorCode::VocabIncomplete,
                                 "tokenizer: llama vocabulary has neither all 256 <0xXX> byte tokens "
                                 "nor an unknown token for characters outside it");
    }

private:
    bool strips_leading_space() const override { return vocab_.add_space_prefix; }

    // Tokens that merges may produce: ordinary pieces (and user-defined ones, as SentencePiece).
    int32_t mergeable(std::string_view text) const {
        int32_t id = token_id(text);
        if (id < 0) return -1;
        TokenType t = token_type(id);
        return t == TokenType::Normal || t == TokenType::UserDefined ? id : -1;
    }

    void encode_fragment(std::string_view fragment, std::vector<int32_t>& out) const override {
        std::string text;
        text.reserve(fragment.size() + 8);
        if (vocab_.add_space_prefix) text += kSpace;
        for (char c : fragment) {
            if (c == ' ') text += kSpace;
            else text += c;
        }
        std::vector<Symbol> syms;
        const auto* s = reinterpret_cast<const unsigned char*>(text.data());
        for (size_t i = 0; i < text.size();) {
            size_t len;
            uint32_t cp;
            utf8_next(s + i, text.size() - i, &len, &cp);  // text is valid UTF-8
            auto idx = static_cast<int32_t>(syms.size());
            syms.push_back({static_cast<uint32_t>(i), static_cast<uint32_t>(len), idx - 1, idx + 1});
            i += len;
        }
        if (syms.empty()) return;
        syms.back().next = -1;
        std::vector<Candidate> heap;
        auto view = [&](uint32_t b, uint32_t n) { return std::string_view(text).substr(b, n); };
        auto push = [&](int32_t left) {
            if (left < 0) return;
            const Symbol& l = syms[static_cast<size_t>(left)];
            if (l.next < 0) return;
            const Symbol& r = syms[static_cast<size_t>(l.next)];
            int32_t id = mergeable(view(l.begin, l.size + r.size));
            if (id < 0) return;
            heap.push_back({vocab_.scores[static_cast<size_t>(id)], left, l.size + r.size, id});
            std::push_heap(heap.begin(), heap.end());
        };
        for (int32_t i = 0; i + 1 < static_cast<int32_t>(syms.size()); ++i) push(i);
        while (!heap.empty()) {
            std::pop_heap(heap.begin(), heap.end());
            Candidate c = heap.back();
            heap.pop_back();
            Symbol& l = syms[static_cast<size_t>(c.left)];
            if (l.size == 0 || l.next < 0) continue;
            Symbol& r = syms[static_cast<size_t>(l.next)];
            if (l.size + r.size != c.size) continue;  // stale: one side changed
            l.size += r.size;
            r.size = 0;
            l.next = r.next;
            if (r.next >= 0) syms[static_cast<size_t>(r.next)].prev = c.left;
            push(l.prev);
            push(c.left);
        }
        for (int32_t i = 0; i >= 0; i = syms[static_cast<size_t>(i)].next) {
            const Symbol& sym = syms[static_cast<size_t>(i)];
            std::string_view piece = view(sym.begin, sym.size);
            int32_t id = token_id(piece);
            if (id >= 0 && token_type(id) != TokenType::Byte && token_type(id) != TokenType::Unused) {
                out.push_back(id);
                continue;
            }
            // Byte fallback; without byte tokens for every byte, the piece becomes UNK.
            bool bytes = std::all_of(piece.begin(), piece.end(), [&](char c) {
                return byte_token_[static_cast<unsigned char>(c)] >= 0;
            });
            if (!bytes) {
                out.push_back(vocab_.unk_id);
                continue;
            }
            for (char c : piece) out.push_back(byte_token_[static_cast<unsigned char>(c)]);
        }
    }

    std::array<int32_t, 256> byte_token_{};
};

}  // namespace

std::unique_ptr<Tokenizer> make_spm_tokenizer(Vocab v) { return std::make_unique<SpmTokenizer>(std::move(v)); }

}  // namespace r1::tokenizer
