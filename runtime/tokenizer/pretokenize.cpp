// The pre-tokenizer regex sets (strings as in llama.cpp's llama-vocab.cpp, GGUF.md §6.2) and
// the PCRE2 "Isolated" splitter. The contraction alternatives are spelled case by case
// ('[sS]) as llama.cpp and transformers.js do, instead of tokenizer.json's (?i:'s|...), which
// under Unicode case folding would also match U+017F (long s).
#include "runtime/tokenizer/pretokenize.h"

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include "runtime/tokenizer/unicode.h"
#include "runtime/tokenizer/vocab.h"

namespace r1::tokenizer {

namespace {

constexpr const char* kQwen2 =
    R"((?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+)";
constexpr const char* kLlama3 =
    R"((?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+)";
constexpr const char* kGpt2 =
    R"('s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S))";
// DeepSeek-V3: digits in groups of up to 3, CJK/kana runs, then the main split.
constexpr const char* kDeepseek3[] = {
    R"(\p{N}{1,3})",
    R"([\x{4E00}-\x{9FA5}\x{3040}-\x{309F}\x{30A0}-\x{30FF}]+)",
    R"([!"#$%&'()*+,\-./:;<=>?@\[\\\]^_`{|}~][A-Za-z]+|[^\r\n\p{L}\p{P}\p{S}]?[\p{L}\p{M}]+| ?[\p{P}\p{S}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+)",
};
// DeepSeek-LLM (V1/V2 chat models).
constexpr const char* kDeepseekLlm[] = {
    R"([\r\n])",
    "\\s?[A-Za-zµÀ-ÖØ-öø-ƺƼ-ƿǄ-ʓʕ-ʯͰ-ͳͶͷͻ-ͽͿΆΈ-ΊΌΎ-ΡΣ-ϵϷ-ҁҊ-ԯԱ-ՖႠ-ჅᎠ-Ᏽᏸ-ᏽᲐ-ᲺᲽ-Ჿᴀ-ᴫᵫ-ᵷᵹ-ᶚḀ-ἕἘ-Ἕἠ-ὅὈ-Ὅὐ-"
    "ὗὙὛὝὟ-ώᾀ-ᾴᾶ-ᾼιῂ-ῄῆ-ῌῐ-ΐῖ-Ίῠ-Ῥῲ-ῴῶ-ῼℂℇℊ-ℓℕℙ-ℝℤΩℨK-ℭℯ-ℴℹℼ-ℿⅅ-ⅉⅎↃↄⰀ-ⱻⱾ-ⳤⳫ-ⳮⳲⳳꙀ-ꙭꚀ-ꚛꜢ-ꝯꝱ-ꞇꞋ-ꞎꭰ-ꮿﬀ-ﬆﬓ-"
    "ﬗＡ-Ｚａ-ｚ𐐀-𐑏𐒰-𐓓𐓘-𐓻𐲀-𐲲𐳀-𐳲𑢠-𑣟𞤀-𞥃]+",
    "\\s?[!-/:-~！-／：-～‘-‟　-。]+",
    R"(\s+$)",
    "[一-龥ࠀ-一가-퟿]+",
    R"(\p{N}+)",
};
// llama.cpp's fallback set for pre = "default".
constexpr const char* kDefault[] = {
    R"([\p{P}\$\+<=>\^~\|]+)",
    R"('s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S))",
    R"(\p{N}+)",
    R"([0-9][0-9][0-9])",
};

}  // namespace

std::vector<std::string> PreTokenizer::regexes_for(const std::string& pre) {
    if (pre == "qwen2" || pre == "deepseek-r1-qwen") return {kQwen2};
    if (pre == "llama-bpe" || pre == "llama3") return {kLlama3};
    if (pre == "deepseek-v3") return {std::begin(kDeepseek3), std::end(kDeepseek3)};
    if (pre == "deepseek-llm") return {std::begin(kDeepseekLlm), std::end(kDeepseekLlm)};
    if (pre == "gpt2" || pre == "gpt-2") return {kGpt2};
    if (pre == "default") return {std::begin(kDefault), std::end(kDefault)};
    return {};
}

struct PreTokenizer::Regex {
    pcre2_code* code = nullptr;
    bool jit = false;
    ~Regex() { pcre2_code_free(code); }
};

PreTokenizer::PreTokenizer(const std::string& pre) {
    std::vector<std::string> exprs = regexes_for(pre);
    if (exprs.empty())
        throw TokenizerError(ErrorCode::UnknownPre,
                             fmt::format("unknown BPE pre-tokenizer '{}' (known: qwen2, "
                                         "deepseek-r1-qwen, deepseek-v3, deepseek-llm, llama-bpe, "
                                         "llama3, gpt2, default)", pre));
    nfc_ = pre == "qwen2" || pre == "deepseek-r1-qwen";
    ignore_merges_ = pre == "llama-bpe" || pre == "llama3";
    for (const std::string& e : exprs) {
        auto r = std::make_unique<Regex>();
        int err = 0;
        PCRE2_SIZE off = 0;
        r->code = pcre2_compile(reinterpret_cast<PCRE2_SPTR>(e.data()), e.size(),
                                PCRE2_UTF | PCRE2_UCP | PCRE2_NO_UTF_CHECK, &err, &off, nullptr);
        if (!r->code) {
            PCRE2_UCHAR msg[256];
            pcre2_get_error_message(err, msg, sizeof msg);
            fail("pre-tokenizer '{}': regex does not compile at {}: {}", pre, off,
                 reinterpret_cast<const char*>(msg));
        }
        r->jit = pcre2_jit_compile(r->code, PCRE2_JIT_COMPLETE) == 0;
        regexes_.push_back(std::move(r));
    }
}

PreTokenizer::~PreTokenizer() = default;

namespace {

// Owns per-call PCRE2 state: match data and, only if a match overflows the default JIT
// stack, a larger one.
struct MatchState {
    pcre2_match_data* md = nullptr;
    pcre2_match_context* mc = nullptr;
    pcre2_jit_stack* js = nullptr;
    ~MatchState() {
        pcre2_match_data_free(md);
        pcre2_match_context_free(mc);
        pcre2_jit_stack_free(js);
    }
};

size_t char_len(const char* p, size_t n) {
    size_t len;
    uint32_t cp;
    utf8_next(reinterpret_cast<const unsigned char*>(p), n, &len, &cp);
    return len;
}

}  // namespace

void PreTokenizer::split(std::string_view text, std::vector<Span>& out) const {
    std::vector<Span> cur{{0, text.size()}}, next;
    if (text.empty()) return;
    MatchState st;
    st.md = pcre2_match_data_create(2, nullptr);
    if (!st.md) throw std::bad_alloc();
    for (const auto& re : regexes_) {
        next.clear();
        next.reserve(cur.size() * 2);
        for (const Span& piece : cur) {
            const auto* subject = reinterpret_cast<PCRE2_SPTR>(text.data() + piece.begin);
            size_t pos = 0, gap = 0;  // next search start; start of the unmatched gap
            while (pos < piece.size) {
                int rc;
                for (;;) {
                    rc = re->jit ? pcre2_jit_match(re->code, subject, piece.size, pos, 0, st.md, st.mc)
                                 : pcre2_match(re->code, subject, piece.size, pos,
                                               PCRE2_NO_UTF_CHECK, st.md, st.mc);
                    if (rc != PCRE2_ERROR_JIT_STACKLIMIT || st.js) break;
                    st.js = pcre2_jit_stack_create(64 << 10, 64 << 20, nullptr);
                    st.mc = pcre2_match_context_create(nullptr);
                    if (!st.js || !st.mc) throw std::bad_alloc();
                    pcre2_jit_stack_assign(st.mc, nullptr, st.js);
                }
                if (rc == PCRE2_ERROR_NOMATCH) break;
                if (rc < 0) fail("pre-tokenizer: regex match failed (PCRE2 error {})", rc);
                const PCRE2_SIZE* ov = pcre2_get_ovector_pointer(st.md);
                size_t b = ov[0], e = ov[1];
                if (e == b) {  // empty match: not a piece; move on by one character
                    pos = b + char_len(text.data() + piece.begin + b, piece.size - b);
                    continue;
                }
                if (b > gap) next.push_back({piece.begin + gap, b - gap});
                next.push_back({piece.begin + b, e - b});
                gap = pos = e;
            }
            if (gap < piece.size) next.push_back({piece.begin + gap, piece.size - gap});
        }
        cur.swap(next);
    }
    out.insert(out.end(), cur.begin(), cur.end());
}

}  // namespace r1::tokenizer
