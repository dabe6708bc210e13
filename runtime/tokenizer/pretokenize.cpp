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
// DeepSeek-LLM (V1/V2 chat models). Written with \x{} escapes: a literal copy of the
// class is easily NFC-normalized by editors (U+1FD3 -> U+0390) into an invalid range.
constexpr const char* kDeepseekLlm[] = {
    R"([\r\n])",
    R"(\s?[A-Za-z\x{B5}\x{C0}-\x{D6}\x{D8}-\x{F6}\x{F8}-\x{1BA}\x{1BC}-\x{1BF}\x{1C4}-\x{293})"
    R"(\x{295}-\x{2AF}\x{370}-\x{373}\x{376}\x{377}\x{37B}-\x{37D}\x{37F}\x{386}\x{388}-\x{38A})"
    R"(\x{38C}\x{38E}-\x{3A1}\x{3A3}-\x{3F5}\x{3F7}-\x{481}\x{48A}-\x{52F}\x{531}-\x{556}\x{10A0}-)"
    R"(\x{10C5}\x{13A0}-\x{13F5}\x{13F8}-\x{13FD}\x{1C90}-\x{1CBA}\x{1CBD}-\x{1CBF}\x{1D00}-)"
    R"(\x{1D2B}\x{1D6B}-\x{1D77}\x{1D79}-\x{1D9A}\x{1E00}-\x{1F15}\x{1F18}-\x{1F1D}\x{1F20}-)"
    R"(\x{1F45}\x{1F48}-\x{1F4D}\x{1F50}-\x{1F57}\x{1F59}\x{1F5B}\x{1F5D}\x{1F5F}-\x{1F7D}\x{1F80}-)"
    R"(\x{1FB4}\x{1FB6}-\x{1FBC}\x{1FBE}\x{1FC2}-\x{1FC4}\x{1FC6}-\x{1FCC}\x{1FD0}-\x{1FD3}\x{1FD6})"
    R"(-\x{1FDB}\x{1FE0}-\x{1FEC}\x{1FF2}-\x{1FF4}\x{1FF6}-\x{1FFC}\x{2102}\x{2107}\x{210A}-)"
    R"(\x{2113}\x{2115}\x{2119}-\x{211D}\x{2124}\x{2126}\x{2128}\x{212A}-\x{212D}\x{212F}-\x{2134})"
    R"(\x{2139}\x{213C}-\x{213F}\x{2145}-\x{2149}\x{214E}\x{2183}\x{2184}\x{2C00}-\x{2C7B}\x{2C7E}-)"
    R"(\x{2CE4}\x{2CEB}-\x{2CEE}\x{2CF2}\x{2CF3}\x{A640}-\x{A66D}\x{A680}-\x{A69B}\x{A722}-\x{A76F})"
    R"(\x{A771}-\x{A787}\x{A78B}-\x{A78E}\x{AB70}-\x{ABBF}\x{FB00}-\x{FB06}\x{FB13}-\x{FB17})"
    R"(\x{FF21}-\x{FF3A}\x{FF41}-\x{FF5A}\x{10400}-\x{1044F}\x{104B0}-\x{104D3}\x{104D8}-\x{104FB})"
    R"(\x{10C80}-\x{10CB2}\x{10CC0}-\x{10CF2}\x{118A0}-\x{118DF}\x{1E900}-\x{1E943}]+)",
    R"(\s?[!-/:-~\x{FF01}-\x{FF0F}\x{FF1A}-\x{FF5E}\x{2018}-\x{201F}\x{3000}-\x{3002}]+)",
    R"(\s+\z)",  // llama.cpp's std::regex "$" is the end of the input only
    R"([\x{4E00}-\x{9FA5}\x{0800}-\x{4E00}\x{AC00}-\x{D7FF}]+)",
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
