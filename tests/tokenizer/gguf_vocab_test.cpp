// Vocab through GGUF: write_vocab_gguf -> gguf::File -> vocab_from_gguf gives a tokenizer with
// the same ids on every conformance case and golden prompt; padding entries as llama.cpp.
#include <gtest/gtest.h>

#include <filesystem>

#include "runtime/gguf/gguf.h"
#include "tests/tokenizer/tokenizer_fixtures.h"

namespace r1::test {
namespace {

using namespace r1::tokenizer;
namespace fs = std::filesystem;

fs::path temp_path(const std::string& name) {
    return fs::temp_directory_path() / fmt::format("r1_tok_{}_{}", ::getpid(), name);
}

std::unique_ptr<Tokenizer> through_gguf(const Vocab& v, int64_t padded, const std::string& name) {
    fs::path p = temp_path(name + ".gguf");
    {
        gguf::Writer w(p);
        w.set("general.architecture", "llama");
        write_vocab_gguf(v, w, padded);
        w.finish();
    }
    auto f = gguf::File::open(p);
    auto tok = Tokenizer::create(vocab_from_gguf(*f));
    fs::remove(p);
    return tok;
}

void expect_same_ids(const Tokenizer& a, const Tokenizer& b, const std::vector<std::string>& texts) {
    for (const std::string& t : texts) {
        EXPECT_EQ(a.encode(t, true, true), b.encode(t, true, true)) << t;
        EXPECT_EQ(a.encode(t, false, false), b.encode(t, false, false)) << t;
    }
}

std::vector<std::string> case_texts(const std::string& rel) {
    std::vector<std::string> out;
    nlohmann::json doc = load_json(fixture(rel));
    const auto& list = doc.contains("cases") ? doc["cases"] : doc["prompts"];
    for (const auto& c : list) out.push_back(c["text"].get<std::string>());
    return out;
}

TEST(TokenizerGguf, RealTokenizersRoundTrip) {
    for (std::string name : {"qwen3", "deepseek-v3"}) {
        const Tokenizer& hf = hf_tokenizer("tokenizers/" + name);
        auto g = through_gguf(hf.vocab(), hf.n_vocab(), name);
        EXPECT_EQ(g->vocab().pre, hf.vocab().pre);
        EXPECT_EQ(g->vocab().tokens, hf.vocab().tokens);
        EXPECT_EQ(g->vocab().merges, hf.vocab().merges);
        expect_same_ids(hf, *g, case_texts("tokenizers/" + name + "/cases.json"));
        EXPECT_EQ(g->eog_ids(), hf.eog_ids());
    }
}

TEST(TokenizerGguf, FixtureModelsPaddedToEmbeddingRows) {
    // tokenizer A has 1030 tokens, config.json vocab_size 1088; tokenizer B exactly 1000.
    for (auto [model, padded] : {std::pair<std::string, int64_t>{"tiny-r1-qwen2", 1088},
                                 {"tiny-r1-moe", 1088}, {"tiny-r1-llama", 1000}}) {
        const Tokenizer& hf = hf_tokenizer("models/" + model);
        auto g = through_gguf(hf.vocab(), padded, model);
        ASSERT_EQ(g->n_vocab(), padded);
        if (padded > hf.n_vocab()) {
            EXPECT_EQ(g->vocab().tokens[1030], "[PAD1030]");
            EXPECT_EQ(g->token_type(1087), TokenType::Unused);
            EXPECT_EQ(g->decode(std::vector<int32_t>{1030, 1087}, true), "");
        }
        EXPECT_EQ(g->bos(), hf.bos());
        EXPECT_EQ(g->eos(), hf.eos());
        EXPECT_EQ(g->vocab().add_bos, hf.vocab().add_bos);
        EXPECT_EQ(g->vocab().add_space_prefix, hf.vocab().add_space_prefix);
        EXPECT_EQ(g->vocab().chat_template, hf.vocab().chat_template);
        EXPECT_FALSE(g->vocab().chat_template.empty());
        // Golden prompt ids again, now from the GGUF vocabulary.
        nlohmann::json doc = load_json(fixture("models/" + model + "/goldens/prompts.json"));
        for (const auto& p : doc["prompts"])
            EXPECT_EQ(g->encode(p["text"].get<std::string>(), p["add_bos"].get<bool>(), true),
                      p["ids"].get<std::vector<int32_t>>()) << model << " " << p["name"];
    }
}

TEST(TokenizerGguf, PaddingSmallerThanVocabIsAnError) {
    const Tokenizer& hf = hf_tokenizer("models/tiny-r1-qwen2");
    gguf::Writer w(temp_path("small.gguf"));
    EXPECT_THROW(write_vocab_gguf(hf.vocab(), w, 10), Error);
}

}  // namespace
}  // namespace r1::test
