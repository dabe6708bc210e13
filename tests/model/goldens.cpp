// Fixture conversion (through the r1 binary, as a user would) and golden readers.
#include "tests/model/goldens.h"

#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <map>
#include <sstream>

#include "runtime/tokenizer/tokenizer.h"
#include "tests/cli/run_r1.h"

namespace r1::test {

std::filesystem::path fixture_dir(const std::string& model) {
    return std::filesystem::path(R1_FIXTURES) / "models" / model;
}

std::filesystem::path converted(const std::string& model, const std::string& type, bool pure, std::string* why) {
    static std::map<std::string, std::pair<std::filesystem::path, std::string>> cache;
    const std::string key = model + "-" + type + (pure ? "-pure" : "");
    if (auto it = cache.find(key); it != cache.end()) {
        if (why) *why = it->second.second;
        return it->second.first;
    }
    const auto dir = std::filesystem::temp_directory_path() / ("r1-model-test-" + std::to_string(getpid()));
    std::filesystem::create_directories(dir);
    auto out = dir / (key + ".gguf");
    std::vector<std::string> args{"convert", fixture_dir(model).string(), "-o", out.string(), "--type", type, "-q", "-f"};
    if (pure) args.push_back("--pure");
    RunResult r = run_r1(args);
    std::string reason;
    if (r.status != 0) {
        reason = "r1 convert --type " + type + " failed: " + r.err;
        out.clear();
    }
    cache[key] = {out, reason};
    if (why) *why = reason;
    return out;
}

std::vector<int32_t> valid_tokens(const std::string& model) {
    auto tok = tokenizer::Tokenizer::create(tokenizer::vocab_from_hf_dir(fixture_dir(model)));
    auto all = tok->encode(read_text(std::filesystem::path(R1_FIXTURES) / "data" / "valid.txt"), false, false);
    all.resize(std::min<size_t>(all.size(), 4096));
    return all;
}

nlohmann::json read_json(const std::filesystem::path& p) {
    std::ifstream in(p);
    return nlohmann::json::parse(in);
}

std::vector<float> read_floats(const std::filesystem::path& p) {
    std::ifstream in(p, std::ios::binary);
    std::vector<float> v(std::filesystem::file_size(p) / sizeof(float));
    in.read(reinterpret_cast<char*>(v.data()), std::streamsize(v.size() * sizeof(float)));
    return v;
}

std::string read_text(const std::filesystem::path& p) {
    std::ifstream in(p, std::ios::binary);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

nlohmann::json golden_prompt(const std::string& model, const std::string& name) {
    const auto all = read_json(fixture_dir(model) / "goldens" / "prompts.json");
    for (const auto& p : all["prompts"])
        if (p["name"] == name) return p;
    return {};
}

double mean_kl(const std::vector<float>& p_rows, const std::vector<float>& q_rows, int64_t n_vocab) {
    const int64_t n = int64_t(p_rows.size()) / n_vocab;
    double total = 0;
    for (int64_t r = 0; r < n; ++r) {
        const float* p = p_rows.data() + r * n_vocab;
        const float* q = q_rows.data() + r * n_vocab;
        double mp = p[0], mq = q[0], sp = 0, sq = 0;
        for (int64_t i = 0; i < n_vocab; ++i) mp = std::max(mp, double(p[i])), mq = std::max(mq, double(q[i]));
        for (int64_t i = 0; i < n_vocab; ++i) sp += std::exp(p[i] - mp), sq += std::exp(q[i] - mq);
        const double lp = std::log(sp) + mp, lq = std::log(sq) + mq;
        double kl = 0;
        for (int64_t i = 0; i < n_vocab; ++i) {
            const double a = p[i] - lp, b = q[i] - lq;
            kl += std::exp(a) * (a - b);
        }
        total += kl;
    }
    return total / double(n);
}

int64_t argmax_row(const float* row, int64_t n) {
    int64_t best = 0;
    for (int64_t i = 1; i < n; ++i)
        if (row[i] > row[best]) best = i;
    return best;
}

}  // namespace r1::test
