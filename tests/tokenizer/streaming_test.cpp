// Decoding: the streaming Detokenizer gives the same text as decode(), holds partial UTF-8
// until complete, and token_to_piece never writes past the caller's buffer (T08).
#include <gtest/gtest.h>

#include <thread>

#include "tests/tokenizer/tokenizer_fixtures.h"
#include "runtime/tokenizer/unicode.h"

namespace r1::test {
namespace {

using namespace r1::tokenizer;

TEST(TokenizerStreaming, PushByPushEqualsDecode) {
    for (std::string dir : {"tokenizers/qwen3", "tokenizers/deepseek-v3", "models/tiny-r1-llama"}) {
        const Tokenizer& tok = hf_tokenizer(dir);
        for (std::string text : {"Hello 😀👍🏽 你好世界 こんにちは naïve", "<think>\nx\n</think>\n\nanswer ½ —"}) {
            std::vector<int32_t> ids = tok.encode(text, false, true);
            Detokenizer d(tok, true);
            std::string streamed;
            for (int32_t id : ids) {
                std::string part = d.push(id);
                EXPECT_TRUE(is_valid_utf8(part)) << dir;
                streamed += part;
            }
            streamed += d.flush();
            EXPECT_EQ(streamed, tok.decode(ids, true)) << dir;
            EXPECT_EQ(streamed, text) << dir;
        }
    }
}

TEST(TokenizerStreaming, PartialCharacterIsHeld) {
    // The SentencePiece fixture spells the emoji as four byte tokens.
    const Tokenizer& tok = hf_tokenizer("models/tiny-r1-llama");
    std::vector<int32_t> ids = tok.encode("\xF0\x9F\x98\x80", false, false);  // 😀
    ASSERT_EQ(ids.size(), 5u);  // ▁ + 4 bytes
    Detokenizer d(tok, true);
    std::string out;
    for (size_t i = 0; i + 1 < ids.size(); ++i) out += d.push(ids[i]);
    EXPECT_EQ(out, "");  // ▁ stripped at the start, 3 bytes of 4 held back
    EXPECT_EQ(d.push(ids.back()), "\xF0\x9F\x98\x80");
    // An unfinished character at the end becomes U+FFFD.
    Detokenizer d2(tok, true);
    for (size_t i = 0; i + 1 < ids.size(); ++i) d2.push(ids[i]);
    EXPECT_EQ(d2.flush(), kReplacement);
}

TEST(TokenizerStreaming, SpecialTokensShownOrHidden) {
    const Tokenizer& tok = hf_tokenizer("tokenizers/qwen3");
    std::vector<int32_t> ids = tok.encode("<|im_start|>hi<think>", false, true);
    ASSERT_EQ(ids.size(), 3u);
    EXPECT_EQ(tok.decode(ids, true), "<|im_start|>hi<think>");
    EXPECT_EQ(tok.decode(ids, false), "hi<think>");  // CONTROL hidden, USER_DEFINED kept
    EXPECT_THROW(tok.decode(std::vector<int32_t>{tok.n_vocab()}, true), Error);
}

TEST(TokenizerStreaming, TokenToPieceRespectsBuffer) {
    // T08: a token text of 1 MiB into a 1-byte buffer.
    Vocab v;
    v.model = "gpt2";
    v.pre = "gpt2";
    for (const std::string& b : byte_to_unicode()) v.tokens.push_back(b);
    v.tokens.push_back(std::string(1 << 20, 'x'));
    v.token_types.assign(v.tokens.size(), static_cast<int32_t>(TokenType::Normal));
    v.token_types.back() = static_cast<int32_t>(TokenType::UserDefined);
    v.merges = {"a b"};
    v.tokens.push_back("ab");
    v.token_types.push_back(static_cast<int32_t>(TokenType::Normal));
    auto tok = Tokenizer::create(v);
    char buf[2] = {'?', '?'};
    EXPECT_EQ(tok->token_to_piece(256, buf, 1, true), size_t{1} << 20);
    EXPECT_EQ(buf[0], '?');
    EXPECT_EQ(buf[1], '?');
    EXPECT_EQ(tok->token_to_piece(0x41, buf, 1, true), 1u);  // byte tokens are in byte order
    EXPECT_EQ(buf[0], 'A');
    EXPECT_EQ(tok->token_to_piece(-1, buf, 1, true), 0u);
}

TEST(TokenizerThreads, ConcurrentEncodeMatchesSerial) {
    const Tokenizer& tok = hf_tokenizer("tokenizers/qwen3");
    nlohmann::json doc = load_json(fixture("tokenizers/qwen3/cases.json"));
    std::vector<std::string> texts;
    for (const auto& c : doc["cases"]) texts.push_back(c["text"].get<std::string>());
    std::vector<std::vector<int32_t>> serial;
    for (const auto& t : texts) serial.push_back(tok.encode(t, true, true));
    std::vector<int> mismatches(4, 0);
    std::vector<std::thread> threads;
    for (int k = 0; k < 4; ++k)
        threads.emplace_back([&, k] {
            for (int rep = 0; rep < 20; ++rep)
                for (size_t i = 0; i < texts.size(); ++i)
                    mismatches[static_cast<size_t>(k)] += tok.encode(texts[i], true, true) != serial[i];
        });
    for (auto& t : threads) t.join();
    for (int m : mismatches) EXPECT_EQ(m, 0);
}

}  // namespace
}  // namespace r1::test
