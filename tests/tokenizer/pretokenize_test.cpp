// Pre-tokenizer regex sets on inputs whose split follows directly from the regexes of
// GGUF.md §6.2, including the sets no fixture tokenizer uses (llama-bpe, gpt2, deepseek-llm),
// and HF added-token lstrip/rstrip.
#include <gtest/gtest.h>

#include "runtime/tokenizer/pretokenize.h"
#include "runtime/tokenizer/tokenizer.h"
#include "runtime/tokenizer/unicode.h"

namespace r1::test {
namespace {

using namespace r1::tokenizer;

std::vector<std::string> split(const std::string& pre, const std::string& text) {
    PreTokenizer p(pre);
    std::vector<Span> spans;
    p.split(text, spans);
    std::vector<std::string> out;
    for (const Span& s : spans) out.push_back(text.substr(s.begin, s.size));
    return out;
}

using V = std::vector<std::string>;

TEST(PreTokenizer, DigitGrouping) {
    EXPECT_EQ(split("qwen2", "12345"), (V{"1", "2", "3", "4", "5"}));        // \p{N}
    EXPECT_EQ(split("llama-bpe", "12345"), (V{"123", "45"}));                // \p{N}{1,3}
    EXPECT_EQ(split("deepseek-v3", "12345"), (V{"123", "45"}));
    EXPECT_EQ(split("gpt2", "x 12345"), (V{"x", " 12345"}));                 // ' ?\p{N}+'
    EXPECT_EQ(split("deepseek-llm", "12345"), (V{"12345"}));                 // \p{N}+
}

TEST(PreTokenizer, ContractionsSpacesAndNewlines) {
    for (std::string pre : {"qwen2", "llama-bpe"}) {
        EXPECT_EQ(split(pre, "I'M here"), (V{"I", "'M", " here"})) << pre;
        EXPECT_EQ(split(pre, "a  b"), (V{"a", " ", " b"})) << pre;           // \s+(?!\S) leaves one space
        EXPECT_EQ(split(pre, "a\n\nb"), (V{"a", "\n\n", "b"})) << pre;
        EXPECT_EQ(split(pre, "x!!\n"), (V{"x", "!!\n"})) << pre;
    }
    EXPECT_EQ(split("gpt2", "don't stop"), (V{"don", "'t", " stop"}));
    // deepseek-llm: newlines isolated first, then \s?[cased letters]+; its ASCII-symbol split
    // ([!-/:-~], which spans the ASCII letters) then leaves non-ASCII letters as gaps.
    EXPECT_EQ(split("deepseek-llm", "Hello world\n"), (V{"Hello", " world", "\n"}));
    EXPECT_EQ(split("deepseek-llm", "w\xE1\xBF\x93rld"), (V{"w", "\xE1\xBF\x93", "rld"}));
}

TEST(PreTokenizer, DeepseekV3CjkAndPunctuation) {
    // Split 2 isolates CJK/kana runs; split 3 glues one ASCII punctuation mark to letters.
    EXPECT_EQ(split("deepseek-v3", "中文abc"), (V{"中文", "abc"}));
    EXPECT_EQ(split("deepseek-v3", "カナabc"), (V{"カナ", "abc"}));
    EXPECT_EQ(split("deepseek-v3", "a.bc"), (V{"a", ".bc"}));
}

TEST(PreTokenizer, UnknownNameIsAnError) {
    EXPECT_THROW(PreTokenizer("qwen3-typo"), TokenizerError);
    for (std::string pre : {"qwen2", "deepseek-r1-qwen", "deepseek-v3", "deepseek-llm", "llama-bpe", "llama3", "gpt2",
                            "default"})
        EXPECT_NO_THROW(PreTokenizer{pre}) << pre;
}

TEST(PreTokenizer, AddedTokenStripping) {
    Vocab v;
    v.model = "gpt2";
    v.pre = "gpt2";
    for (const std::string& b : byte_to_unicode()) v.tokens.push_back(b);
    v.tokens.push_back("<mask>");
    v.tokens.push_back("<sep>");
    v.token_types.assign(v.tokens.size(), static_cast<int32_t>(TokenType::Normal));
    v.token_types[256] = v.token_types[257] = static_cast<int32_t>(TokenType::Control);
    v.merges = {"a b"};
    v.tokens.push_back("ab");
    v.token_types.push_back(static_cast<int32_t>(TokenType::Normal));
    v.lstrip_ids = {256};
    v.rstrip_ids = {257};
    auto tok = Tokenizer::create(v);
    auto byte = [](char c) { return static_cast<int32_t>(static_cast<unsigned char>(c)); };
    // "x <mask> y": lstrip eats the space before <mask>; the one after stays.
    EXPECT_EQ(tok->encode("x <mask> y", false, true), (std::vector<int32_t>{byte('x'), 256, byte(' '), byte('y')}));
    // "x <sep>  y": rstrip eats both spaces after <sep>.
    EXPECT_EQ(tok->encode("x <sep>  y", false, true), (std::vector<int32_t>{byte('x'), byte(' '), 257, byte('y')}));
}

}  // namespace
}  // namespace r1::test
