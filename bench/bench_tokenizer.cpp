// Tokenizer throughput: encode MB/s of the real Qwen3 and DeepSeek-V3 tokenizers on 1 MB of
// English (Tiny Shakespeare) and 1 MB of mixed CJK / kana / source code, and the
// pre-tokenizer worst cases of RELIABILITY.md T15 at 128 KB and 1 MB (linear time shows as
// equal MB/s). Every input is first checked to round-trip (decode(encode(s)) == s).
#include <benchmark/benchmark.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <sstream>

#include "runtime/tokenizer/tokenizer.h"

namespace {

namespace fs = std::filesystem;
using r1::tokenizer::Tokenizer;

const fs::path kRoot = fs::path(__FILE__).parent_path().parent_path();

std::string slurp(const fs::path& p) {
    std::ifstream in(p, std::ios::binary);
    if (!in) {
        std::fprintf(stderr, "bench_tokenizer: cannot open %s\n", p.c_str());
        std::exit(1);
    }
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

const Tokenizer& tokenizer(const std::string& name) {
    static std::map<std::string, std::unique_ptr<Tokenizer>> cache;
    auto& t = cache[name];
    if (!t) t = Tokenizer::create(r1::tokenizer::vocab_from_hf_dir(kRoot / "tests/fixtures/tokenizers" / name));
    return *t;
}

// Cuts s to at most n bytes on a UTF-8 character boundary.
std::string cut(std::string s, size_t n) {
    if (s.size() <= n) return s;
    while (n > 0 && (static_cast<unsigned char>(s[n]) & 0xC0) == 0x80) --n;
    s.resize(n);
    return s;
}

std::string english() { return cut(slurp(kRoot / "tests/fixtures/data/tinyshakespeare.txt"), 1 << 20); }

std::string mixed() {
    const std::string cjk =
        "人工智能是计算机科学的一个分支，它企图了解智能的实质，并生产出一种新的能以人类智能相似的方式做出反应的智能机器。"
        "该领域的研究包括机器人、语言识别、图像识别、自然语言处理和专家系统等。\n"
        "深度学习模型需要大量的数据和计算资源，训练一个大型语言模型可能需要数千块图形处理器运行数周。\n"
        "東京は日本の首都であり、世界で最も人口の多い都市圏の一つです。カタカナとひらがなを混ぜた文章もあります。\n"
        "한국어 텍스트도 조금 섞어 봅니다. 서울은 대한민국의 수도입니다.\n";
    std::string code;
    for (const char* f : {"runtime/tokenizer/bpe.cpp", "runtime/tokenizer/tokenizer.cpp", "runtime/tokenizer/hf_import.cpp",
                          "runtime/tokenizer/spm.cpp", "runtime/tokenizer/unicode.cpp"})
        code += slurp(kRoot / f);
    std::string out;
    size_t at = 0;
    while (out.size() < (1u << 20)) {  // alternate ~2 KB of code with a CJK paragraph
        out += code.substr(at, 2048);
        at = (at + 2048) % code.size();
        out += cjk;
    }
    return cut(out, 1 << 20);
}

std::string repeat(const std::string& unit, size_t n) {
    std::string s;
    while (s.size() < n) s += unit;
    return cut(s, n);
}

void check_round_trip(const Tokenizer& tok, const std::string& text, const char* what) {
    if (tok.decode(tok.encode(text, false, false), true) != text) {
        std::fprintf(stderr, "bench_tokenizer: %s does not round-trip\n", what);
        std::exit(1);
    }
}

void run_encode(benchmark::State& state, const std::string& tok_name, const std::string& text, const char* what) {
    const Tokenizer& tok = tokenizer(tok_name);
    check_round_trip(tok, text, what);
    size_t n_tokens = 0;
    for (auto _ : state) {
        auto ids = tok.encode(text, false, false);
        n_tokens = ids.size();
        benchmark::DoNotOptimize(ids.data());
    }
    state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * text.size()));
    state.counters["tokens"] = static_cast<double>(n_tokens);
    state.counters["bytes/token"] = static_cast<double>(text.size()) / static_cast<double>(n_tokens);
}

void run_decode(benchmark::State& state, const std::string& tok_name, const std::string& text) {
    const Tokenizer& tok = tokenizer(tok_name);
    auto ids = tok.encode(text, false, false);
    for (auto _ : state) {
        std::string s = tok.decode(ids, true);
        benchmark::DoNotOptimize(s.data());
    }
    state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * text.size()));
}

void register_all() {
    static const std::string en = english(), mx = mixed();
    for (std::string t : {"qwen3", "deepseek-v3"}) {
        benchmark::RegisterBenchmark(("encode/" + t + "/english_1MB").c_str(),
                                     [t](benchmark::State& s) { run_encode(s, t, en, "english"); })
            ->Unit(benchmark::kMillisecond)->MinTime(2.0);
        benchmark::RegisterBenchmark(("encode/" + t + "/mixed_cjk_code_1MB").c_str(),
                                     [t](benchmark::State& s) { run_encode(s, t, mx, "mixed"); })
            ->Unit(benchmark::kMillisecond)->MinTime(2.0);
        benchmark::RegisterBenchmark(("decode/" + t + "/english_1MB").c_str(),
                                     [t](benchmark::State& s) { run_decode(s, t, en); })
            ->Unit(benchmark::kMillisecond);
    }
    static const std::vector<std::pair<std::string, std::string>> worst = {
        {"one_char", "a"}, {"digits", "7"}, {"spaces", " "}, {"newlines", "\n"}, {"punct", "!"},
        {"emoji_zwj", "\xF0\x9F\x91\xA8\xE2\x80\x8D\xF0\x9F\x91\xA9\xE2\x80\x8D\xF0\x9F\x91\xA7"}};
    for (std::string t : {"qwen3", "deepseek-v3"})
        for (const auto& [name, unit] : worst)
            for (size_t kb : {128, 1024}) {
                auto text = std::make_shared<std::string>(repeat(unit, kb << 10));
                std::string label = name;
                benchmark::RegisterBenchmark(
                    fmt::format("worst/{}/{}_{}KB", t, name, kb).c_str(),
                    [t, text, label](benchmark::State& s) { run_encode(s, t, *text, label.c_str()); })
                    ->Unit(benchmark::kMillisecond)->Iterations(kb > 128 ? 2 : 8);
            }
}

}  // namespace

int main(int argc, char** argv) {
    benchmark::Initialize(&argc, argv);
    register_all();
    benchmark::RunSpecifiedBenchmarks();
    benchmark::Shutdown();
    return 0;
}
