// Finding a model's template (HF folders in both tokenizer_config forms, GGUF with token texts
// from the vocabulary, built-in fallbacks), the reasoning-start signal, the ChatMessage API and
// `r1 template` as CLI.md specifies it. Expected texts come from the fixtures' jinja2 goldens.
#include <filesystem>
#include <fstream>
#include <sstream>

#include <gtest/gtest.h>

#include "runtime/chat/chat.h"
#include "runtime/gguf/gguf.h"
#include "tests/cli/run_r1.h"

namespace r1::chat {
namespace {

namespace fs = std::filesystem;
using OJson = nlohmann::ordered_json;

const std::string kBos = "<｜begin▁of▁sentence｜>";
const std::string kEos = "<｜end▁of▁sentence｜>";

std::string fixture(const std::string& rel) { return std::string(R1_FIXTURES) + "/" + rel; }

std::string read_file(const fs::path& p) {
    std::ifstream f(p, std::ios::binary);
    std::ostringstream ss;
    ss << f.rdbuf();
    return ss.str();
}

void write_file(const fs::path& p, const std::string& text) {
    std::ofstream f(p, std::ios::binary);
    f << text;
}

struct TempDir {
    fs::path path;
    TempDir() {
        path = fs::temp_directory_path() / ("r1_chat_test_" + std::to_string(::getpid()) + "_" + std::to_string(counter()++));
        fs::create_directories(path);
    }
    ~TempDir() { fs::remove_all(path); }
    static int& counter() {
        static int n = 0;
        return n;
    }
};

// Parsed once; a reference, so that `for (c : golden_cases()["cases"])` iterates a live object.
const OJson& golden_cases() {
    static const OJson cases = OJson::parse(read_file(fixture("models/tiny-r1-qwen2/goldens/template_cases.json")));
    return cases;
}

TEST(ModelTemplate, HfFolderStringForm) {
    ModelTemplate t = load_model_template(fixture("models/tiny-r1-llama"));
    EXPECT_EQ(t.origin, "tokenizer_config.json");
    EXPECT_EQ(t.bos_token, kBos);
    EXPECT_EQ(t.eos_token, kEos);
    EXPECT_EQ(t.source, read_file(fixture("templates/deepseek-ai-DeepSeek-R1-Distill-Llama-8B.jinja")));
}

TEST(ModelTemplate, RealTokenizerConfigs) {
    ModelTemplate ds = load_model_template(fixture("tokenizers/deepseek-v3"));  // AddedToken objects
    EXPECT_EQ(ds.bos_token, kBos);
    EXPECT_EQ(ds.eos_token, kEos);
    ModelTemplate qw = load_model_template(fixture("tokenizers/qwen3/tokenizer_config.json"));  // bos null
    EXPECT_EQ(qw.bos_token, "");
    EXPECT_EQ(qw.eos_token, "<|im_end|>");
    auto tpl = ChatTemplate::from_source(qw.source, qw.bos_token, qw.eos_token);
    std::string out = tpl.apply(OJson::parse(R"([{"role":"user","content":"Hi"}])"), true, OJson{{"enable_thinking", false}});
    EXPECT_EQ(out, "<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n<think>\n\n</think>\n\n");
    EXPECT_FALSE(prompt_ends_in_reasoning(out));
}

TEST(ModelTemplate, HfFolderListFormAndChatTemplateJinja) {
    TempDir d;
    OJson cfg = {{"bos_token", {{"content", "<B>"}}}, {"eos_token", "<E>"},
                 {"chat_template", OJson::array({{{"name", "tool_use"}, {"template", "TOOLS"}},
                                                 {{"name", "default"}, {"template", "{{ bos_token }}D{{ eos_token }}"}}})}};
    write_file(d.path / "tokenizer_config.json", cfg.dump());
    ModelTemplate t = load_model_template(d.path);
    EXPECT_EQ(t.source, "{{ bos_token }}D{{ eos_token }}");
    EXPECT_EQ(ChatTemplate::from_source(t.source, t.bos_token, t.eos_token).apply(OJson::array(), false), "<B>D<E>");
    write_file(d.path / "chat_template.jinja", "J{{ messages|length }}");
    t = load_model_template(d.path);
    EXPECT_EQ(t.origin, "chat_template.jinja");
    EXPECT_EQ(t.source, "J{{ messages|length }}");
}

TEST(ModelTemplate, HfFolderErrors) {
    TempDir d;
    write_file(d.path / "tokenizer_config.json", "{not json");
    EXPECT_THROW(load_model_template(d.path), Error);
    write_file(d.path / "tokenizer_config.json", R"({"chat_template": 5})");
    EXPECT_THROW(load_model_template(d.path), Error);
    write_file(d.path / "tokenizer_config.json", R"({"bos_token": 5, "chat_template": "x"})");
    EXPECT_THROW(load_model_template(d.path), Error);
    write_file(d.path / "tokenizer_config.json", R"({})");  // no template, no known tokens
    EXPECT_THROW(load_model_template(d.path), Error);
    EXPECT_THROW(load_model_template(d.path / "missing"), Error);
}

fs::path write_gguf(const fs::path& dir, bool with_template, int64_t bos_id = 1) {
    fs::path p = dir / "model.gguf";
    gguf::Writer w(p);
    w.set("general.architecture", "qwen2");
    w.set("tokenizer.ggml.model", "gpt2");
    w.set("tokenizer.ggml.tokens", gguf::Value::array(std::vector<std::string>{kEos, kBos, "<｜User｜>", "<｜Assistant｜>", "a"}));
    w.set("tokenizer.ggml.bos_token_id", gguf::Value(uint32_t(bos_id)));
    w.set("tokenizer.ggml.eos_token_id", gguf::Value(uint32_t(0)));
    if (with_template) w.set("tokenizer.chat_template", read_file(fixture("templates/deepseek-ai-DeepSeek-R1-Distill-Qwen-32B.jinja")));
    w.finish();
    return p;
}

TEST(ModelTemplate, GgufTemplateAndTokenTexts) {
    TempDir d;
    ModelTemplate t = load_model_template(write_gguf(d.path, true));
    EXPECT_EQ(t.origin, "GGUF tokenizer.chat_template");
    EXPECT_EQ(t.bos_token, kBos);
    EXPECT_EQ(t.eos_token, kEos);
    auto tpl = ChatTemplate::from_source(t.source, t.bos_token, t.eos_token);
    for (const auto& c : golden_cases()["cases"]) {
        bool agp = c["kwargs"]["add_generation_prompt"];
        EXPECT_EQ(tpl.apply(c["messages"], agp), c["renders"]["qwen"].get<std::string>()) << c["name"];
    }
}

TEST(ModelTemplate, GgufWithoutTemplateUsesTheR1Fallback) {
    TempDir d;
    ModelTemplate t = load_model_template(write_gguf(d.path, false));
    EXPECT_EQ(t.origin, "fallback (R1)");
    EXPECT_EQ(t.source, r1_fallback_template());
}

TEST(ModelTemplate, GgufBosOutsideVocabulary) {
    TempDir d;
    try {
        load_model_template(write_gguf(d.path, true, 99));
        FAIL() << "expected an error";
    } catch (const Error& e) {
        EXPECT_NE(std::string(e.what()).find("tokenizer.ggml.bos_token_id = 99 is outside the vocabulary of 5"),
                  std::string::npos) << e.what();
    }
}

TEST(Fallback, ChosenFromSpecialTokens) {
    EXPECT_EQ(fallback_template_for({"<｜User｜>", "<｜Assistant｜>", kBos}), r1_fallback_template());
    EXPECT_EQ(fallback_template_for({"<|im_start|>", "<|im_end|>"}), chatml_fallback_template());
    EXPECT_THROW(fallback_template_for({"<s>", "</s>"}), Error);
}

TEST(Fallback, R1ToolCallsFollowTheOfficialMarkers) {
    // GGUF.md §4.4 rule 3, with arguments given as a JSON object (tojson) and as a string.
    auto tpl = ChatTemplate::from_source(std::string(r1_fallback_template()), kBos, kEos);
    auto msgs = OJson::parse(R"([{"role":"user","content":"w?"},
        {"role":"assistant","content":null,"tool_calls":[
          {"type":"function","function":{"name":"get","arguments":{"city":"Zürich"}}},
          {"type":"function","function":{"name":"now","arguments":"{}"}}]},
        {"role":"tool","content":"sunny"},{"role":"tool","content":"noon"},
        {"role":"assistant","content":"Sunny at noon."}])");
    EXPECT_EQ(tpl.apply(msgs, true),
              kBos + "<｜User｜>w?<｜Assistant｜><｜tool▁calls▁begin｜><｜tool▁call▁begin｜>function<｜tool▁sep｜>get\n"
                     "```json\n{\"city\": \"Zürich\"}\n```<｜tool▁call▁end｜>\n<｜tool▁call▁begin｜>function<｜tool▁sep｜>now\n"
                     "```json\n{}\n```<｜tool▁call▁end｜><｜tool▁calls▁end｜><｜end▁of▁sentence｜>"
                     "<｜tool▁outputs▁begin｜><｜tool▁output▁begin｜>sunny<｜tool▁output▁end｜>\n"
                     "<｜tool▁output▁begin｜>noon<｜tool▁output▁end｜><｜tool▁outputs▁end｜>Sunny at noon.<｜end▁of▁sentence｜>"
                     "<｜Assistant｜><think>\n");
}

TEST(Reasoning, PromptEndsInReasoning) {
    EXPECT_TRUE(prompt_ends_in_reasoning("<｜User｜>Hi<｜Assistant｜><think>\n"));
    EXPECT_TRUE(prompt_ends_in_reasoning("<think>"));
    EXPECT_FALSE(prompt_ends_in_reasoning("<｜User｜>Hi<｜Assistant｜>"));
    EXPECT_FALSE(prompt_ends_in_reasoning("<|im_start|>assistant\n<think>\n\n</think>\n\n"));
    EXPECT_FALSE(prompt_ends_in_reasoning("<｜User｜>what does <think> mean?<｜Assistant｜>"));
    EXPECT_FALSE(prompt_ends_in_reasoning(""));
    // Every golden with add_generation_prompt ends in reasoning; the others do not.
    for (const auto& c : golden_cases()["cases"])
        EXPECT_EQ(prompt_ends_in_reasoning(c["renders"]["qwen"].get<std::string>()),
                  c["kwargs"]["add_generation_prompt"].get<bool>()) << c["name"];
}

TEST(Api, ChatMessagesAndSortedJson) {
    auto tpl = ChatTemplate::from_source(read_file(fixture("templates/deepseek-ai-DeepSeek-R1-Distill-Qwen-32B.jinja")), kBos, kEos);
    for (const auto& c : golden_cases()["cases"]) {
        std::vector<ChatMessage> msgs;
        for (const auto& m : c["messages"]) msgs.push_back({m["role"], m["content"], std::nullopt, nullptr});
        bool agp = c["kwargs"]["add_generation_prompt"];
        EXPECT_EQ(tpl.apply(msgs, agp), c["renders"]["qwen"].get<std::string>()) << c["name"];
        nlohmann::json plain = nlohmann::json::parse(c["messages"].dump());
        EXPECT_EQ(tpl.apply(plain, agp), c["renders"]["qwen"].get<std::string>()) << c["name"];
    }
    ChatMessage m{"assistant", "x", "why", nullptr};
    OJson j = to_json({m});
    EXPECT_EQ(j.dump(), R"([{"role":"assistant","content":"x","reasoning_content":"why"}])");
}

TEST(Cli, TemplateRendersAFolderExactly) {
    TempDir d;
    OJson cases = golden_cases();
    for (const auto& c : cases["cases"]) {
        write_file(d.path / "m.json", c["messages"].dump());
        std::vector<std::string> args = {"template", "-m", fixture("models/tiny-r1-qwen2"), "--messages", (d.path / "m.json").string()};
        if (c["kwargs"]["add_generation_prompt"].get<bool>()) args.push_back("--add-generation-prompt");
        if (c["kwargs"].contains("enable_thinking")) args.insert(args.end(), {"--kwargs", R"({"enable_thinking": true})"});
        auto r = test::run_r1(args);
        EXPECT_EQ(r.status, 0) << r.err;
        EXPECT_EQ(r.out, c["renders"]["qwen"].get<std::string>()) << c["name"];
    }
}

TEST(Cli, TemplateReadsGgufAndStdin) {
    TempDir d;
    fs::path gguf = write_gguf(d.path, true);
    auto r = test::run_r1({"template", "-m", gguf.string(), "--messages", "-", "--add-generation-prompt"},
                          R"([{"role":"user","content":"Hi"}])");
    EXPECT_EQ(r.status, 0) << r.err;
    EXPECT_EQ(r.out, kBos + "<｜User｜>Hi<｜Assistant｜><think>\n");
}

TEST(Cli, TemplateErrorsAreOneLine) {
    TempDir d;
    write_file(d.path / "bad.json", "[{\"role\": ");
    for (auto args : std::vector<std::vector<std::string>>{
             {"template", "-m", fixture("models/tiny-r1-qwen2"), "--messages", (d.path / "bad.json").string()},
             {"template", "-m", fixture("models/tiny-r1-qwen2"), "--messages", (d.path / "nope.json").string()},
             {"template", "-m", (d.path / "nothing").string(), "--messages", (d.path / "bad.json").string()},
             {"template", "-m", fixture("models/tiny-r1-qwen2"), "--messages", "-", "--kwargs", "[1]"}}) {
        auto r = test::run_r1(args, "[]");
        EXPECT_EQ(r.status, 1) << args[4];
        EXPECT_EQ(r.out, "");
        EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
    }
    // A template error (here: the Llama 3.1 style raise_exception) is reported with its position.
    write_file(d.path / "tokenizer_config.json", R"({"chat_template": "{{ raise_exception('no system role') }}"})");
    auto r = test::run_r1({"template", "-m", d.path.string(), "--messages", "-"}, "[]");
    EXPECT_EQ(r.status, 1);
    EXPECT_NE(r.err.find("line 1 column 4: no system role"), std::string::npos) << r.err;
}

}  // namespace
}  // namespace r1::chat
