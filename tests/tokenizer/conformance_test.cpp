// Conformance with the fixtures' references: the real Qwen3 / DeepSeek-V3 tokenizers against
// ids from @lenml/tokenizers (cases.json), and every fixture model's goldens/prompts.json ids
// (byte-level BPE and SentencePiece), plus decoding of the golden greedy continuations.
#include <gtest/gtest.h>

#include "tests/tokenizer/tokenizer_fixtures.h"

namespace r1::test {
namespace {

using tokenizer::Tokenizer;

void check_cases(const std::string& name) {
    const Tokenizer& tok = hf_tokenizer("tokenizers/" + name);
    nlohmann::json doc = load_json(fixture("tokenizers/" + name + "/cases.json"));
    int ids_ok = 0, decode_ok = 0, total = 0;
    for (const auto& c : doc["cases"]) {
        ++total;
        std::string text = c["text"].get<std::string>();
        auto want = c["ids"].get<std::vector<int32_t>>();
        std::vector<int32_t> got = tok.encode(text, /*add_special=*/false, /*parse_special=*/true);
        EXPECT_EQ(got, want) << name << ": " << text;
        ids_ok += got == want;
        auto tokens = c["tokens"].get<std::vector<std::string>>();
        ASSERT_EQ(tokens.size(), want.size());
        for (size_t i = 0; i < want.size(); ++i)
            EXPECT_EQ(tok.vocab().tokens[static_cast<size_t>(want[i])], tokens[i]) << name << ": id " << want[i];
        std::string decoded = tok.decode(want, /*show_special=*/true);
        EXPECT_EQ(decoded, c["decoded"].get<std::string>()) << name << ": " << text;
        if (c["roundtrip_exact"].get<bool>()) {
            EXPECT_EQ(decoded, text);
        }
        decode_ok += decoded == c["decoded"].get<std::string>();
    }
    std::printf("%s: ids %d/%d, decode %d/%d\n", name.c_str(), ids_ok, total, decode_ok, total);
    EXPECT_EQ(total, 70);
}

TEST(TokenizerConformance, Qwen3Cases) { check_cases("qwen3"); }
TEST(TokenizerConformance, DeepseekV3Cases) { check_cases("deepseek-v3"); }

void check_goldens(const std::string& model) {
    const Tokenizer& tok = hf_tokenizer("models/" + model);
    nlohmann::json doc = load_json(fixture("models/" + model + "/goldens/prompts.json"));
    int ok = 0, total = 0;
    for (const auto& p : doc["prompts"]) {
        ++total;
        std::string text = p["text"].get<std::string>();
        auto want = p["ids"].get<std::vector<int32_t>>();
        std::vector<int32_t> got = tok.encode(text, p["add_bos"].get<bool>(), /*parse_special=*/true);
        EXPECT_EQ(got, want) << model << " prompt " << p["name"];
        ok += got == want;
        auto pieces = p["pieces"];
        ASSERT_EQ(pieces.size(), want.size());
        for (size_t i = 0; i < want.size(); ++i)
            EXPECT_EQ(tok.vocab().tokens[static_cast<size_t>(want[i])], pieces[i].get<std::string>())
                << model << " " << p["name"] << " id " << want[i];
        // The golden greedy text decodes only the generated ids.
        auto greedy = p["greedy"]["ids"].get<std::vector<int32_t>>();
        EXPECT_EQ(tok.decode(greedy, true), p["greedy"]["text"].get<std::string>()) << model << " " << p["name"];
    }
    std::printf("%s: prompt ids %d/%d\n", model.c_str(), ok, total);
}

TEST(TokenizerConformance, TinyQwen2Goldens) { check_goldens("tiny-r1-qwen2"); }
TEST(TokenizerConformance, TinyMoeGoldens) { check_goldens("tiny-r1-moe"); }
TEST(TokenizerConformance, TinyLlamaSentencePieceGoldens) { check_goldens("tiny-r1-llama"); }

TEST(TokenizerConformance, PreTokenizerIdentified) {
    EXPECT_EQ(hf_tokenizer("tokenizers/qwen3").vocab().pre, "qwen2");
    EXPECT_EQ(hf_tokenizer("tokenizers/deepseek-v3").vocab().pre, "deepseek-v3");
    EXPECT_EQ(hf_tokenizer("models/tiny-r1-qwen2").vocab().pre, "deepseek-r1-qwen");
    EXPECT_EQ(hf_tokenizer("models/tiny-r1-llama").vocab().model, "llama");
}

TEST(TokenizerConformance, SpecialIds) {
    // GGUF.md §4.3 / fixtures README: BOS/EOS and the think tokens.
    const Tokenizer& ds = hf_tokenizer("tokenizers/deepseek-v3");
    EXPECT_EQ(ds.bos(), 0);
    EXPECT_EQ(ds.eos(), 1);
    EXPECT_TRUE(ds.vocab().add_bos);
    EXPECT_TRUE(ds.is_eog(1));
    EXPECT_FALSE(ds.is_eog(0));
    EXPECT_EQ(ds.think_begin(), -1);  // V3 has no <think> token
    EXPECT_EQ(ds.encode("hi", true, true).front(), 0);

    const Tokenizer& q = hf_tokenizer("tokenizers/qwen3");
    EXPECT_EQ(q.think_begin(), 151667);
    EXPECT_EQ(q.think_end(), 151668);
    EXPECT_EQ(q.bos(), -1);
    EXPECT_EQ(q.eos(), 151645);                                  // <|im_end|>
    EXPECT_TRUE(q.is_eog(151643) && q.is_eog(151645));           // <|endoftext|>, <|im_end|>
    EXPECT_FALSE(q.vocab().add_bos);

    const Tokenizer& a = hf_tokenizer("models/tiny-r1-qwen2");
    EXPECT_EQ(a.bos(), 1025);
    EXPECT_EQ(a.eos(), 1024);
    EXPECT_EQ(a.think_begin(), 1028);
    EXPECT_EQ(a.think_end(), 1029);
    EXPECT_TRUE(a.is_eog(1024));

    const Tokenizer& b = hf_tokenizer("models/tiny-r1-llama");
    EXPECT_EQ(b.bos(), 4);
    EXPECT_EQ(b.eos(), 3);
    EXPECT_EQ(b.think_begin(), 7);
    EXPECT_EQ(b.think_end(), 8);
    EXPECT_TRUE(b.vocab().add_space_prefix);
}

}  // namespace
}  // namespace r1::test
