// The tokenizer embedded by `r1 convert`: a tokenizer built from the GGUF alone encodes the
// fixture prompts to the golden ids, the vocabulary is padded to config.json vocab_size, and
// the chat template is the one of tokenizer_config.json, byte for byte.
#include "runtime/tokenizer/tokenizer.h"
#include "runtime/tokenizer/vocab.h"
#include "tests/convert/convert_helpers.h"

namespace r1::test {
namespace {

class ConvertTokenizer : public ::testing::TestWithParam<std::string> {};

TEST_P(ConvertTokenizer, GgufVocabEncodesGoldenPrompts) {
    fs::path dir = fixture_model(GetParam());
    auto g = gguf::File::open(convert_model(dir, "f16"));
    auto tok = tokenizer::Tokenizer::create(tokenizer::vocab_from_gguf(*g));
    nlohmann::json prompts = read_json(dir / "goldens" / "prompts.json")["prompts"];
    ASSERT_FALSE(prompts.empty());
    for (const auto& p : prompts) {
        std::vector<int32_t> ids = tok->encode(p["text"].get<std::string>(), p["add_bos"].get<bool>(), true);
        EXPECT_EQ(ids, p["ids"].get<std::vector<int32_t>>()) << p["name"];
    }
}

TEST_P(ConvertTokenizer, VocabPaddedAndTemplateKept) {
    fs::path dir = fixture_model(GetParam());
    nlohmann::json cfg = read_json(dir / "config.json");
    nlohmann::json tc = read_json(dir / "tokenizer_config.json");
    auto g = gguf::File::open(convert_model(dir, "f16"));
    const auto& tokens = g->get_array_value("tokenizer.ggml.tokens");
    EXPECT_EQ(static_cast<int64_t>(tokens.items.size()), cfg["vocab_size"].get<int64_t>());
    EXPECT_EQ(g->get<std::string>("tokenizer.chat_template"), tc["chat_template"].get<std::string>());
    EXPECT_EQ(g->get<uint32_t>("tokenizer.ggml.bos_token_id"), cfg["bos_token_id"].get<uint32_t>());
    EXPECT_EQ(g->get<uint32_t>("tokenizer.ggml.eos_token_id"), cfg["eos_token_id"].get<uint32_t>());
    EXPECT_TRUE(g->get<bool>("tokenizer.ggml.add_bos_token"));
}

INSTANTIATE_TEST_SUITE_P(Fixtures, ConvertTokenizer,
                         ::testing::Values("tiny-r1-qwen2", "tiny-r1-llama"),
                         [](const auto& info) { return info.param.substr(8); });

}  // namespace
}  // namespace r1::test
