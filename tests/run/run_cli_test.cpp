// `r1 run` and `r1 perplexity` as a user calls them, on fixture models converted by `r1
// convert`: greedy text and --dump-logits against the goldens, seed determinism across
// thread counts, and one clear line + exit 1 for bad input (RELIABILITY.md R01-R08).
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>

#include "tests/cli/run_r1.h"
#include "tests/model/goldens.h"

namespace r1::test {
namespace {

std::string ids_string(const nlohmann::json& ids) {
    std::string s;
    for (const auto& i : ids) s += (s.empty() ? "" : " ") + std::to_string(i.get<int>());
    return s;
}

class RunCli : public testing::TestWithParam<std::string> {
protected:
    std::string model() {
        std::string why;
        auto p = converted(GetParam(), "f32", false, &why);
        EXPECT_FALSE(p.empty()) << why;
        return p.string();
    }
};

TEST_P(RunCli, GreedyTextEqualsGoldens) {
    const auto m = model();
    for (const std::string name : {"plain", "passage", "unicode", "chat"}) {
        const auto p = golden_prompt(GetParam(), name);
        std::vector<std::string> args{"run", "-m", m, "--temp", "0", "--ignore-eos", "-n", "32"};
        if (name == "chat") {  // the rendered text already starts with BOS: give its ids
            args.insert(args.end(), {"--ids", ids_string(p["ids"])});
        } else {
            args.insert(args.end(), {"-p", p["text"].get<std::string>()});
        }
        RunResult r = run_r1(args);
        ASSERT_EQ(r.status, 0) << r.err;
        EXPECT_EQ(r.out, p["greedy"]["text"].get<std::string>()) << name;
    }
}

TEST_P(RunCli, DumpLogitsEqualsGoldens) {
    const auto out = std::filesystem::temp_directory_path() / ("r1-dump-" + GetParam() + ".f32");
    RunResult r = run_r1({"run", "-m", model(), "--ids", ids_string(golden_prompt(GetParam(), "passage")["ids"]),
                          "--dump-logits", out.string(), "-n", "0"});
    ASSERT_EQ(r.status, 0) << r.err;
    EXPECT_EQ(r.out, "");
    const auto got = read_floats(out), ref = read_floats(fixture_dir(GetParam()) / "goldens" / "passage.all.f32");
    ASSERT_EQ(got.size(), ref.size());
    double md = 0, mx = 0;
    for (size_t i = 0; i < ref.size(); ++i) md = std::max(md, double(std::fabs(got[i] - ref[i]))), mx = std::max(mx, double(std::fabs(ref[i])));
    EXPECT_LE(md, 1e-4 * mx);
    std::filesystem::remove(out);
}

TEST_P(RunCli, SameSeedSameTextForOneAndTwoThreads) {
    const auto m = model();
    auto a = run_r1({"run", "-m", m, "-p", "ROMEO:", "-n", "24", "--temp", "0.9", "--seed", "7", "-t", "1"});
    auto b = run_r1({"run", "-m", m, "-p", "ROMEO:", "-n", "24", "--temp", "0.9", "--seed", "7", "-t", "2"});
    ASSERT_EQ(a.status, 0) << a.err;
    EXPECT_EQ(a.out, b.out);
    EXPECT_FALSE(a.out.empty());
}

TEST_P(RunCli, PerplexityOfTwoChunksMatchesValidPpl) {
    RunResult r = run_r1({"perplexity", "-m", model(), "-f", std::string(R1_FIXTURES) + "/data/valid.txt", "-c", "256",
                          "--chunks", "2", "--bos"});
    ASSERT_EQ(r.status, 0) << r.err;
    const auto ref = read_json(fixture_dir(GetParam()) / "goldens" / "valid_ppl.json")["bos_prefixed"]["chunks"];
    const double want = std::exp((ref[0]["nll_sum"].get<double>() + ref[1]["nll_sum"].get<double>()) / 512.0);
    const auto at = r.out.rfind("PPL = ");
    ASSERT_NE(at, std::string::npos) << r.out;
    EXPECT_NEAR(std::stod(r.out.substr(at + 6)), want, 0.001 * want);
}

INSTANTIATE_TEST_SUITE_P(Fixtures, RunCli, testing::Values("tiny-r1-qwen2", "tiny-r1-llama"),
                         [](const auto& info) { return info.param.substr(8); });

// Bad input: exit 1 and one line on stderr that names the flag or the problem.
TEST(RunCliBadInput, OneClearLineAndExitOne) {
    std::string why;
    const auto m = converted("tiny-r1-qwen2", "f32", false, &why).string();
    ASSERT_FALSE(m.empty()) << why;
    const std::vector<std::pair<std::vector<std::string>, std::string>> cases = {
        {{"run", "-m", m, "-p", "ROMEO: speak", "-c", "2"}, "context"},        // R01
        {{"run", "-m", m, "--ids", "-1"}, "--ids"},                             // R06
        {{"run", "-m", m, "--ids", "1 1088"}, "--ids"},                         // R06
        {{"run", "-m", m, "--ids", "2147483648"}, "--ids"},                     // R06
        {{"run", "-m", m, "-p", "x", "-n", "-2"}, "-n"},                        // R03
        {{"run", "-m", m, "-p", "x", "--temp", "nan"}, "--temp"},               // R08
        {{"run", "-m", m, "-p", "x", "--temp", "-1"}, "--temp"},                // R08
        {{"run", "-m", m, "-p", "x", "--top-p", "2"}, "--top-p"},               // R08
        {{"run", "-m", m, "-p", "x", "--top-k", "-1"}, "--top-k"},              // R08
        {{"run", "-m", m, "-p", "x", "-t", "-1"}, "-t"},                        // R04
        {{"run", "-m", m, "-p", "x", "-c", "-5"}, "-c"},                        // R05
        {{"run", "-m", m, "-p", "x", "--backend", "metal"}, "--backend"},
        {{"run", "-m", "/nonexistent.gguf", "-p", "x"}, "nonexistent"},
        {{"run", "-m", m}, "prompt"},
        {{"perplexity", "-m", m, "-f", std::string(R1_FIXTURES) + "/data/valid.txt", "-c", "100000"}, "tokens"},
    };
    for (const auto& [args, needle] : cases) {
        RunResult r = run_r1(args);
        EXPECT_EQ(r.status, 1) << args[4] << ": " << r.err;
        EXPECT_NE(r.err.find("r1: error:"), std::string::npos) << r.err;
        EXPECT_NE(r.err.find(needle), std::string::npos) << r.err;
        EXPECT_EQ(r.err.find('\n'), r.err.size() - 1) << "more than one line: " << r.err;
    }
}

}  // namespace
}  // namespace r1::test
