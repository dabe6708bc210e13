// `r1 bench` on a tiny synthesized model: every documented --json key with sane values (no
// timing thresholds), the model size and bytes per token against the GGUF reader, the roofline
// fraction against its definition, text output, and one-line user errors.
#include <nlohmann/json.hpp>

#include "runtime/gguf/gguf.h"
#include "tests/bench/bench_helpers.h"

namespace r1::test {
namespace {

const fs::path& tiny_model() {
    static fs::path p = synth("bench-tiny", "tiny", "q4_0");
    return p;
}

TEST(Bench, JsonHasEveryDocumentedKey) {
    RunResult r = run_r1({"bench", "-m", tiny_model().string(), "-p", "16", "-n", "4", "-r", "3", "-t", "2",
                          "--bw-mib", "32", "--json"});
    ASSERT_EQ(r.status, 0) << r.err;
    nlohmann::json j = nlohmann::json::parse(r.out);
    for (const char* k : {"model", "type", "threads", "backend", "pp_tps", "tg_tps", "pp_tps_min", "pp_tps_max",
                          "tg_tps_min", "tg_tps_max", "bandwidth_gbs", "model_bytes", "tg_roofline_fraction"})
        EXPECT_TRUE(j.contains(k)) << k;
    EXPECT_EQ(j["model"], "bench-tiny.gguf");
    EXPECT_EQ(j["type"], "Q4_0");
    EXPECT_EQ(j["threads"], 2);
    EXPECT_EQ(j["backend"], "cpu");
    for (const char* t : {"pp", "tg"}) {
        const double med = j[fmt::format("{}_tps", t)], lo = j[fmt::format("{}_tps_min", t)],
                     hi = j[fmt::format("{}_tps_max", t)];
        EXPECT_GT(lo, 0) << t;
        EXPECT_LE(lo, med) << t;
        EXPECT_LE(med, hi) << t;
        EXPECT_EQ(j[fmt::format("{}_tps_all", t)].size(), 3u) << t;
    }

    auto f = gguf::File::open(tiny_model());
    uint64_t all = 0, embd = 0;
    for (const auto& t : f->tensors()) {
        all += t.n_bytes;
        if (t.name == "token_embd.weight") embd = t.n_bytes;
    }
    EXPECT_EQ(j["model_bytes"], all);
    EXPECT_EQ(j["bytes_per_token"], all - embd);  // untied: the embedding table is not streamed

    const double bw = j["bandwidth_gbs"];
    EXPECT_GT(bw, 0.1);
    const double fraction = j["tg_roofline_fraction"];
    EXPECT_GT(fraction, 0);
    EXPECT_NEAR(fraction, j["tg_tps"].get<double>() * double(all - embd) / (bw * 1e9), 1e-9 * fraction + 1e-12);
}

// MoE (issue 14): a decode step reads only the routed experts' rows, expert_used_count of
// expert_count of each stacked ffn_*_exps tensor; tiny-deepseek routes 2 of 8.
TEST(Bench, MoeBytesPerTokenCountActiveExperts) {
    static fs::path moe = synth("bench-tiny-deepseek", "tiny-deepseek", "q8_0");
    RunResult r = run_r1({"bench", "-m", moe.string(), "-p", "0", "-n", "2", "-r", "1", "--no-bandwidth", "--json"});
    ASSERT_EQ(r.status, 0) << r.err;
    nlohmann::json j = nlohmann::json::parse(r.out);
    auto f = gguf::File::open(moe);
    uint64_t want = 0, exps = 0;
    for (const auto& t : f->tensors()) {
        if (t.name == "token_embd.weight") continue;
        if (t.name.ends_with("_exps.weight")) exps += t.n_bytes / 8 * 2;
        else want += t.n_bytes;
    }
    EXPECT_GT(exps, 0u);
    EXPECT_EQ(j["bytes_per_token"], want + exps);
}

TEST(Bench, SkippedTestsAreNull) {
    RunResult r = run_r1({"bench", "-m", tiny_model().string(), "-p", "0", "-n", "2", "-r", "1", "--no-bandwidth",
                          "--json"});
    ASSERT_EQ(r.status, 0) << r.err;
    nlohmann::json j = nlohmann::json::parse(r.out);
    EXPECT_TRUE(j["pp_tps"].is_null());
    EXPECT_TRUE(j["bandwidth_gbs"].is_null());
    EXPECT_TRUE(j["tg_roofline_fraction"].is_null());
    EXPECT_GT(j["tg_tps"].get<double>(), 0);
    EXPECT_GE(j["threads"].get<int>(), 1);  // default: physical cores
}

TEST(Bench, TextTable) {
    RunResult r = run_r1({"bench", "-m", tiny_model().string(), "-p", "8", "-n", "2", "-r", "1", "-t", "1",
                          "--bw-mib", "16"});
    ASSERT_EQ(r.status, 0) << r.err;
    EXPECT_NE(r.out.find("pp8"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("tg2"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("read bandwidth"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("roofline"), std::string::npos) << r.out;
}

// --isa caps the CPU kernels and is reported; -d fills the cache first and counts toward the
// context length.
TEST(Bench, IsaAndDepth) {
    const std::string m = tiny_model().string();
    RunResult r = run_r1({"bench", "-m", m, "-p", "4", "-n", "2", "-r", "1", "-d", "24", "--isa", "scalar",
                          "--no-bandwidth", "--json"});
    ASSERT_EQ(r.status, 0) << r.err;
    nlohmann::json j = nlohmann::json::parse(r.out);
    EXPECT_EQ(j["isa"], "scalar");
    EXPECT_EQ(j["depth"], 24);
    EXPECT_GT(j["tg_tps"].get<double>(), 0);

    r = run_r1({"bench", "-m", m, "-p", "4", "-n", "2", "-r", "1", "-d", "8", "--no-bandwidth"});
    ASSERT_EQ(r.status, 0) << r.err;
    EXPECT_NE(r.out.find("pp4 @ d8"), std::string::npos) << r.out;

    // avx2 runs where the CPU has it and is refused in one line where it does not.
    r = run_r1({"bench", "-m", m, "-p", "0", "-n", "1", "-r", "1", "--isa", "avx2", "--no-bandwidth", "--json"});
    if (r.status == 0) EXPECT_EQ(nlohmann::json::parse(r.out)["isa"], "avx2");
    else expect_one_line_error(r, "at most");

    expect_one_line_error(run_r1({"bench", "-m", m, "--isa", "sse9", "-p", "1", "-n", "1"}), "sse9");
    expect_one_line_error(run_r1({"bench", "-m", m, "-d", "-1"}), "-d");
    expect_one_line_error(run_r1({"bench", "-m", m, "-d", "100000", "-p", "1", "-n", "1"}), "context");
    expect_one_line_error(run_r1({"bench", "-m", m, "--backend", "vulkan", "--isa", "avx2", "-p", "1", "-n", "1"}),
                          "avx2");
}

TEST(Bench, UserErrors) {
    const std::string m = tiny_model().string();
    expect_one_line_error(run_r1({"bench", "-m", m, "-r", "0"}), "-r");
    expect_one_line_error(run_r1({"bench", "-m", m, "-p", "-3"}), "-p");
    expect_one_line_error(run_r1({"bench", "-m", m, "-p", "0", "-n", "0"}), "nothing");
    expect_one_line_error(run_r1({"bench", "-m", m, "-p", "5000", "-n", "1"}), "context");
    expect_one_line_error(run_r1({"bench", "-m", m, "--backend", "nosuch", "-p", "1", "-n", "1"}), "nosuch");
    expect_one_line_error(run_r1({"bench", "-m", (bench_scratch() / "missing.gguf").string()}), "missing.gguf");
    expect_one_line_error(run_r1({"bench", "-m", m, "--bogus"}), "bogus");
    expect_one_line_error(run_r1({"bench"}), "model");
    // Not a GGUF file.
    const fs::path junk = bench_scratch() / "junk.gguf";
    std::ofstream(junk) << "not a gguf file";
    expect_one_line_error(run_r1({"bench", "-m", junk.string()}), "junk.gguf");
}

}  // namespace
}  // namespace r1::test
