// Conformance with Python's jinja2: the fixtures' template_cases.json (rendered by the fixture
// generator) and the extended oracle tests/fixtures/chat/template_oracle.json (rendered by
// tests/chat/make_template_oracle.py). Every expected string comes from jinja2, never from us.
#include <fstream>
#include <sstream>

#include <gtest/gtest.h>

#include "runtime/chat/ast.h"
#include "runtime/chat/chat.h"
#include "runtime/chat/interp.h"

namespace r1::chat {
namespace {

using OJson = nlohmann::ordered_json;

std::string read_file(const std::string& path) {
    std::ifstream f(path, std::ios::binary);
    EXPECT_TRUE(f) << path;
    std::ostringstream ss;
    ss << f.rdbuf();
    return ss.str();
}

OJson read_json(const std::string& rel) { return OJson::parse(read_file(std::string(R1_FIXTURES) + "/" + rel)); }

const OJson& oracle() {
    static const OJson j = read_json("chat/template_oracle.json");
    return j;
}

// kwargs minus add_generation_prompt, which apply() takes separately.
std::pair<bool, OJson> split_kwargs(const OJson& kwargs) {
    OJson extra = OJson::object();
    bool agp = false;
    for (const auto& [k, v] : kwargs.items()) {
        if (k == "add_generation_prompt") agp = v.get<bool>();
        else extra[k] = v;
    }
    return {agp, extra};
}

class FixtureGoldens : public testing::TestWithParam<std::string> {};

TEST_P(FixtureGoldens, RendersByteIdentical) {
    const std::string model = GetParam();
    OJson g = read_json("models/" + model + "/goldens/template_cases.json");
    std::string bos = g["special_tokens_passed"]["bos_token"], eos = g["special_tokens_passed"]["eos_token"];
    std::map<std::string, ChatTemplate> tpls;
    for (const auto& [key, file] : g["templates"].items())
        tpls.emplace(key, ChatTemplate::from_source(read_file(std::string(R1_FIXTURES) + "/templates/" + file.get<std::string>()), bos, eos));
    // The model's own tokenizer_config.json template must give the renders it names.
    ModelTemplate own = load_model_template(std::string(R1_FIXTURES) + "/models/" + model);
    ChatTemplate own_tpl = ChatTemplate::from_source(own.source, own.bos_token, own.eos_token);
    size_t n = 0;
    for (const auto& c : g["cases"]) {
        auto [agp, extra] = split_kwargs(c["kwargs"]);
        for (const auto& [key, expected] : c["renders"].items()) {
            EXPECT_EQ(tpls.at(key).apply(c["messages"], agp, extra), expected.get<std::string>()) << c["name"] << " / " << key;
            ++n;
        }
        std::string own_key = c["ids_with_this_model_tokenizer"]["template"];
        EXPECT_EQ(own_tpl.apply(c["messages"], agp, extra), c["renders"][own_key].get<std::string>()) << c["name"];
        // The built-in R1 fallback follows the same rules for these conversations.
        ChatTemplate fb = ChatTemplate::from_source(std::string(r1_fallback_template()), bos, eos);
        EXPECT_EQ(fb.apply(c["messages"], agp, extra), c["renders"][own_key].get<std::string>()) << c["name"];
    }
    EXPECT_EQ(n, 10u);
}

INSTANTIATE_TEST_SUITE_P(Models, FixtureGoldens, testing::Values("tiny-r1-qwen2", "tiny-r1-llama", "tiny-r1-moe"));

TEST(Oracle, EmbeddedFallbacksAreTheOnesRendered) {
    // The generator copied the fallbacks out of chat.cpp; a stale oracle fails here.
    EXPECT_EQ(oracle()["templates"]["fallback-r1"].get<std::string>(), r1_fallback_template());
    EXPECT_EQ(oracle()["templates"]["fallback-chatml"].get<std::string>(), chatml_fallback_template());
}

TEST(Oracle, ModelTemplates) {
    const OJson& o = oracle();
    std::string bos = o["bos_token"], eos = o["eos_token"];
    std::map<std::string, ChatTemplate> tpls;
    for (const auto& [name, src] : o["templates"].items()) tpls.emplace(name, ChatTemplate::from_source(src, bos, eos));
    size_t passed = 0, total = 0;
    for (const auto& c : o["template_cases"]) {
        ++total;
        std::string name = c["template"], conv = c["conversation"];
        auto [agp, extra] = split_kwargs(c["kwargs"]);
        const OJson& msgs = o["conversations"][conv];
        std::string label = name + " / " + conv + " / " + c["kwargs"].dump() + (c["tools"].is_null() ? "" : " + tools");
        if (c.contains("error")) {
            EXPECT_THROW(tpls.at(name).apply(msgs, agp, extra, c["tools"]), TemplateError) << label;
            ++passed;
            continue;
        }
        try {
            std::string got = tpls.at(name).apply(msgs, agp, extra, c["tools"]);
            EXPECT_EQ(got, c["expected"].get<std::string>()) << label;
            passed += got == c["expected"].get<std::string>();
        } catch (const TemplateError& e) {
            ADD_FAILURE() << label << ": " << e.what();
        }
    }
    EXPECT_EQ(passed, total);
    EXPECT_GE(total, 240u);
    RecordProperty("template_cases_passed", std::to_string(passed) + "/" + std::to_string(total));
}

TEST(Oracle, FeatureTemplates) {
    const OJson& o = oracle();
    size_t passed = 0, total = 0;
    for (const auto& c : o["feature_cases"]) {
        ++total;
        std::string src = c["template"];
        Dict ctx;
        for (const auto& [k, v] : c["context"].items()) ctx.set(k, from_json(v));
        Limits limits;
        try {
            Template t = parse(src, limits);
            Interp in(limits);
            std::string got = in.render(t, ctx);
            if (c.contains("error")) {
                ADD_FAILURE() << "expected " << c["error"] << " for: " << src << "\n got: " << got;
            } else {
                EXPECT_EQ(got, c["expected"].get<std::string>()) << src;
                passed += got == c["expected"].get<std::string>();
            }
        } catch (const TemplateError& e) {
            if (c.contains("error")) {
                // Where jinja2 fails at compile time, so must we (parse-time Syntax errors).
                std::string py = c["error"];
                bool py_syntax = py == "TemplateSyntaxError" || py == "TemplateAssertionError";
                EXPECT_EQ(py_syntax, e.kind() == TemplateError::Kind::Syntax) << src << ": " << e.what();
                passed += py_syntax == (e.kind() == TemplateError::Kind::Syntax);
            } else {
                ADD_FAILURE() << src << ": " << e.what();
            }
        }
    }
    EXPECT_EQ(passed, total);
    EXPECT_GE(total, 100u);
}

}  // namespace
}  // namespace r1::chat
