// Byte-level BPE ("gpt2", GGUF.md §6.1-6.4): NFC (Qwen2 family), regex pre-tokenization,
// bytes as GPT-2 unicode stand-ins, then merges by rank with a heap (ties: leftmost), so a
// 1 MB single piece costs O(n log n), not O(n^2). Symbols are token ids throughout.
#include <algorithm>
#include <functional>

#include "runtime/tokenizer/pretokenize.h"
#include "runtime/tokenizer/tokenizer_impl.h"
#include "runtime/tokenizer/unicode.h"

namespace r1::tokenizer {

namespace {

struct Merge {
    int32_t rank;
    int32_t result;
};

inline uint64_t pair_key(int32_t a, int32_t b) {
    return (static_cast<uint64_t>(static_cast<uint32_t>(a)) << 32) | static_cast<uint32_t>(b);
}

// Open-addressing table (linear probing) from a (left, right) id pair to its merge. The
// node-based std::unordered_map made encoding memory-latency bound (perf: ~40% of the time in
// its bucket walks on 1 MB of English with Qwen3's 151k merges).
class MergeTable {
public:
    void reserve(size_t n) {
        size_t cap = 16;
        while (cap < 2 * n) cap *= 2;
        slots_.assign(cap, Slot{kEmpty, {}});
        mask_ = cap - 1;
    }
    // Keeps the first merge inserted for a pair (the lower rank).
    void insert(uint64_t key, Merge m) {
        for (size_t i = hash(key) & mask_;; i = (i + 1) & mask_) {
            if (slots_[i].key == key) return;
            if (slots_[i].key == kEmpty) {
                slots_[i] = {key, m};
                return;
            }
        }
    }
    const Merge* find(uint64_t key) const {
        for (size_t i = hash(key) & mask_;; i = (i + 1) & mask_) {
            if (slots_[i].key == key) return &slots_[i].merge;
            if (slots_[i].key == kEmpty) return nullptr;
        }
    }

private:
    static constexpr uint64_t kEmpty = ~uint64_t{0};  // ids are < 2^31, so never a real key
    struct Slot {
        uint64_t key;
        Merge merge;
    };
    static size_t hash(uint64_t k) { return static_cast<size_t>((k * 0x9E3779B97F4A7C15ull) >> 20); }
    std::vector<Slot> slots_;
    size_t mask_ = 0;
};

// A queued merge at symbol `left`. Merge ranks are unique per pair and symbol ids only grow,
// so the candidate is still valid exactly when the pair now at `left` has this rank; that keeps
// the heap entry at 8 bytes (1 MB of one character queues ~3M of them).
struct Candidate {
    int32_t rank;
    int32_t left;  // symbol index (= byte position: orders candidates left to right)
    bool operator>(const Candidate& o) const {
        return rank != o.rank ? rank > o.rank : left > o.left;
    }
};

struct Symbol {
    int32_t id;
    int32_t prev, next;  // -1 at the ends
};

class BpeTokenizer final : public Tokenizer {
public:
    explicit BpeTokenizer(Vocab v) : Tokenizer(std::move(v)), pre_(vocab_.pre) {
        const auto& b2u = byte_to_unicode();
        for (int b = 0; b < 256; ++b) {
            int32_t id = token_id(b2u[static_cast<size_t>(b)]);
            if (id < 0)
                throw TokenizerError(ErrorCode::VocabIncomplete,
                                     fmt::format("tokenizer: byte-level vocabulary has no token for "
                                                 "byte 0x{:02X} ('{}')", b, b2u[static_cast<size_t>(b)]));
            byte_token_[static_cast<size_t>(b)] = id;
        }
        merges_.reserve(vocab_.merges.size());
        std::string joined;
        for (size_t r = 0; r < vocab_.merges.size(); ++r) {
            const std::string& m = vocab_.merges[r];
            size_t sp = m.size() > 1 ? m.find(' ', 1) : std::string::npos;
            auto bad = [&](const std::string& why) {
                return TokenizerError(ErrorCode::Merge,
                                      fmt::format("tokenizer: merge {} '{}': {}", r, m, why));
            };
            if (sp == std::string::npos) throw bad("no space separating the two tokens");
            std::string_view left(m.data(), sp), right(m.data() + sp + 1, m.size() - sp - 1);
            if (right.empty() || right.find(' ') != std::string_view::npos)
                throw bad("expected exactly two tokens separated by one space");
            int32_t a = token_id(left), b = token_id(right);
            if (a < 0) throw bad(fmt::format("'{}' is not in the vocabulary", left));
            if (b < 0) throw bad(fmt::format("'{}' is not in the vocabulary", right));
            joined.assign(left).append(right);
            int32_t c = token_id(joined);
            if (c < 0) throw bad(fmt::format("the merged token '{}' is not in the vocabulary", joined));
            merges_.insert(pair_key(a, b), Merge{static_cast<int32_t>(r), c});  // first rank wins
        }
    }

private:
    struct Scratch {
        std::vector<Symbol> syms;
        std::vector<Candidate> heap;
        std::vector<Span> pieces;
        std::string mapped;
        std::unordered_map<std::string_view, std::pair<uint32_t, uint32_t>> cache;  // -> ids range
        std::vector<int32_t> cache_ids;
    };
    static constexpr size_t kCacheMaxPiece = 64;

    void encode_fragment(std::string_view fragment, std::vector<int32_t>& out) const override {
        std::string normalized;
        std::string_view text = fragment;
        if (pre_.nfc()) {
            normalized = nfc(fragment);
            text = normalized;
        }
        Scratch s;
        pre_.split(text, s.pieces);
        for (const Span& p : s.pieces) {
            std::string_view piece = text.substr(p.begin, p.size);
            if (piece.size() <= kCacheMaxPiece) {
                auto it = s.cache.find(piece);
                if (it != s.cache.end()) {
                    auto [b, e] = it->second;
                    out.insert(out.end(), s.cache_ids.begin() + b, s.cache_ids.begin() + e);
                    continue;
                }
                auto b = static_cast<uint32_t>(s.cache_ids.size());
                encode_piece(piece, s, s.cache_ids);
                auto e = static_cast<uint32_t>(s.cache_ids.size());
                s.cache.emplace(piece, std::make_pair(b, e));
                out.insert(out.end(), s.cache_ids.begin() + b, s.cache_ids.begin() + e);
            } else {
                encode_piece(piece, s, out);
            }
        }
    }

    void encode_piece(std::string_view piece, Scratch& s, std::vector<int32_t>& out) const {
        const auto n = static_cast<int32_t>(piece.size());
        if (n == 1) {
            out.push_back(byte_token_[static_cast<unsigned char>(piece[0])]);
            return;
        }
        if (pre_.ignore_merges()) {  // Llama-3: a piece that is a token is emitted as is
            s.mapped.clear();
            for (char c : piece) s.mapped += byte_to_unicode()[static_cast<unsigned char>(c)];
            int32_t id = token_id(s.mapped);
            if (id >= 0) {
                out.push_back(id);
                return;
            }
        }
        auto& syms = s.syms;
        syms.resize(static_cast<size_t>(n));
        for (int32_t i = 0; i < n; ++i)
            syms[static_cast<size_t>(i)] = {byte_token_[static_cast<unsigned char>(piece[static_cast<size_t>(i)])],
                                            i - 1, i + 1 < n ? i + 1 : -1};
        auto& heap = s.heap;
        heap.clear();
        auto cmp = std::greater<Candidate>();
        auto merge_at = [&](int32_t left) -> const Merge* {
            const Symbol& l = syms[static_cast<size_t>(left)];
            if (l.id < 0 || l.next < 0) return nullptr;
            return merges_.find(pair_key(l.id, syms[static_cast<size_t>(l.next)].id));
        };
        auto push = [&](int32_t left) {
            if (left < 0) return;
            if (const Merge* m = merge_at(left)) {
                heap.push_back({m->rank, left});
                std::push_heap(heap.begin(), heap.end(), cmp);
            }
        };
        for (int32_t i = 0; i + 1 < n; ++i)
            if (const Merge* m = merge_at(i)) heap.push_back({m->rank, i});
        std::make_heap(heap.begin(), heap.end(), cmp);
        while (!heap.empty()) {
            std::pop_heap(heap.begin(), heap.end(), cmp);
            Candidate c = heap.back();
            heap.pop_back();
            const Merge* m = merge_at(c.left);
            if (!m || m->rank != c.rank) continue;  // stale: a side has merged since
            Symbol& l = syms[static_cast<size_t>(c.left)];
            Symbol& r = syms[static_cast<size_t>(l.next)];
            l.id = m->result;
            l.next = r.next;
            if (r.next >= 0) syms[static_cast<size_t>(r.next)].prev = c.left;
            r.id = -1;
            push(l.prev);
            push(c.left);
        }
        for (int32_t i = 0; i >= 0; i = syms[static_cast<size_t>(i)].next) out.push_back(syms[static_cast<size_t>(i)].id);
    }

    PreTokenizer pre_;
    std::array<int32_t, 256> byte_token_{};
    MergeTable merges_;
};

}  // namespace

std::unique_ptr<Tokenizer> make_bpe_tokenizer(Vocab v) { return std::make_unique<BpeTokenizer>(std::move(v)); }

}  // namespace r1::tokenizer
