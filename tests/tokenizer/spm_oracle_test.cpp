// The SentencePiece-style encoder against libsentencepiece itself on random text (an
// independent implementation of the same model): identical ids for every string.
#include <gtest/gtest.h>

#include <random>

#include <sentencepiece_processor.h>

#include "tests/tokenizer/tokenizer_fixtures.h"

namespace r1::test {
namespace {

TEST(TokenizerSpmOracle, RandomTextMatchesLibSentencePiece) {
    sentencepiece::SentencePieceProcessor sp;
    ASSERT_TRUE(sp.Load(fixture("models/tiny-r1-llama/tokenizer.model").string()).ok());
    const tokenizer::Tokenizer& tok = hf_tokenizer("models/tiny-r1-llama");
    const std::vector<std::string> alphabet = {
        "a", "e", "t", "h", "n", "o", "s", "r", "T", "H", "I", " ", " ", "  ", "\n", "\t", ".", ",", "'",
        "!", "?", "1", "7", "\xC3\xA9", "\xE4\xBD\xA0", "\xF0\x9F\x98\x80", "the", " and", "ing", "KING",
        "\xE2\x96\x81", "\xE3\x80\x80"};
    std::mt19937 rng(1234);
    int same = 0, total = 0;
    for (int i = 0; i < 2000; ++i) {
        std::string text;
        int n = 1 + static_cast<int>(rng() % 24);
        for (int k = 0; k < n; ++k) text += alphabet[rng() % alphabet.size()];
        std::vector<int> want;
        ASSERT_TRUE(sp.Encode(text, &want).ok());
        std::vector<int32_t> got = tok.encode(text, false, false);
        ++total;
        bool eq = std::vector<int>(got.begin(), got.end()) == want;
        same += eq;
        EXPECT_TRUE(eq) << "'" << text << "'";
    }
    std::printf("libsentencepiece agreement: %d/%d\n", same, total);
}

}  // namespace
}  // namespace r1::test
