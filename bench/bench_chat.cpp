// Chat template cost: parsing the R1-Distill and Qwen3 templates, and rendering conversations
// of 2, 32 and 512 messages (alternating user/assistant with <think> history). The render is
// first compared with the jinja2 golden of the fixtures, so a wrong engine is never timed.
#include <benchmark/benchmark.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "runtime/chat/chat.h"

namespace {

namespace fs = std::filesystem;
using r1::chat::ChatTemplate;
using OJson = nlohmann::ordered_json;

const fs::path kRoot = fs::path(__FILE__).parent_path().parent_path();

std::string slurp(const fs::path& p) {
    std::ifstream in(p, std::ios::binary);
    if (!in) {
        std::fprintf(stderr, "bench_chat: cannot open %s\n", p.c_str());
        std::exit(1);
    }
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

std::string template_source(const std::string& name) {
    if (name == "qwen3")
        return nlohmann::json::parse(slurp(kRoot / "tests/fixtures/tokenizers/qwen3/tokenizer_config.json"))["chat_template"];
    return slurp(kRoot / "tests/fixtures/templates/deepseek-ai-DeepSeek-R1-Distill-Qwen-32B.jinja");
}

OJson conversation(int n) {
    OJson msgs = OJson::array();
    msgs.push_back({{"role", "system"}, {"content", "You are a helpful assistant."}});
    for (int k = 0; k + 1 < n; ++k) {
        if (k % 2 == 0) msgs.push_back({{"role", "user"}, {"content", "Question " + std::to_string(k) + ": what is 2+2?"}});
        else msgs.push_back({{"role", "assistant"}, {"content", "<think>\nAdd them.\n</think>\n\nIt is 4."}});
    }
    return msgs;
}

void check_against_golden() {
    OJson g = OJson::parse(slurp(kRoot / "tests/fixtures/models/tiny-r1-qwen2/goldens/template_cases.json"));
    auto t = ChatTemplate::from_source(template_source("r1"), g["special_tokens_passed"]["bos_token"],
                                       g["special_tokens_passed"]["eos_token"]);
    for (const auto& c : g["cases"])
        if (t.apply(c["messages"], c["kwargs"]["add_generation_prompt"].get<bool>()) != c["renders"]["qwen"].get<std::string>()) {
            std::fprintf(stderr, "bench_chat: render of %s differs from the jinja2 golden\n", c["name"].get<std::string>().c_str());
            std::exit(1);
        }
}

void BM_Parse(benchmark::State& state, const std::string& name) {
    std::string src = template_source(name);
    for (auto _ : state) benchmark::DoNotOptimize(ChatTemplate::from_source(src, "<s>", "</s>"));
    state.SetBytesProcessed(int64_t(state.iterations()) * int64_t(src.size()));
}

void BM_Render(benchmark::State& state, const std::string& name) {
    auto t = ChatTemplate::from_source(template_source(name), "<s>", "</s>");
    OJson msgs = conversation(int(state.range(0)));
    size_t bytes = 0;
    for (auto _ : state) {
        std::string out = t.apply(msgs, true);
        bytes += out.size();
        benchmark::DoNotOptimize(out);
    }
    state.SetBytesProcessed(int64_t(bytes));
    state.counters["messages"] = double(state.range(0));
}

}  // namespace

int main(int argc, char** argv) {
    check_against_golden();
    for (const char* name : {"r1", "qwen3"}) {
        benchmark::RegisterBenchmark((std::string("parse/") + name).c_str(), BM_Parse, std::string(name));
        benchmark::RegisterBenchmark((std::string("render/") + name).c_str(), BM_Render, std::string(name))
            ->Arg(2)->Arg(32)->Arg(512)->Unit(benchmark::kMicrosecond);
    }
    benchmark::Initialize(&argc, argv);
    benchmark::RunSpecifiedBenchmarks();
    benchmark::Shutdown();
    return 0;
}
