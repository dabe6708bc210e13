// `r1 bench -m FILE [-p 512] [-n 128] [-d DEPTH] [-t T] [--backend B] [--isa I] [-r REPS] [--json]`
// (CLI.md), with llama-bench's semantics: pp = one batch of p prompt tokens, tg = n tokens
// generated one at a time, each from a cache holding `depth` tokens (0: empty); median and min/max over the repetitions. It also
// measures the machine's read bandwidth and reports the fraction of the decode roofline reached.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "cli/commands.h"
#include "cli/model_options.h"
#include "core/error.h"
#include "runtime/gguf/describe.h"
#include "runtime/models/models.h"
#include "runtime/perf/perf.h"

namespace r1::cli {
namespace {

struct BenchArgs {
    std::string model;
    int n_prompt = 512, n_gen = 128, threads = 0, reps = 5, depth = 0;
    std::string backend = "cpu", isa;
    int device = 0;
    int n_gpu_layers = -1;
    bool cpu_moe = false;
    bool json = false, no_warmup = false, no_bandwidth = false;
    int bandwidth_mib = int(perf::kDefaultBandwidthBytes >> 20);
};

// Tokens/s of the repetitions: median (mean of the middle two for an even count), min, max.
struct Stats {
    std::vector<double> tps;
    double median() const {
        std::vector<double> s = tps;
        std::sort(s.begin(), s.end());
        const size_t n = s.size();
        return n % 2 ? s[n / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
    }
    double min() const { return *std::min_element(tps.begin(), tps.end()); }
    double max() const { return *std::max_element(tps.begin(), tps.end()); }
};

double seconds_since(std::chrono::steady_clock::time_point t0) {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

// Bytes of weights one decode step reads: every tensor except the embedding table, of which a
// step reads one row (the table counts when it doubles as the output projection), and of the
// stacked experts (ffn_*_exps) only the expert_used_count of expert_count a token is routed to.
uint64_t weight_bytes_per_token(const gguf::File& f) {
    const bool tied = f.find_tensor("output.weight") == nullptr;
    const std::string arch = f.get_or<std::string>("general.architecture", "");
    auto count = [&](const std::string& key) { return f.has(arch + "." + key) ? f.get_int(arch + "." + key) : 0; };
    const int64_t n_expert = count("expert_count"), n_used = count("expert_used_count");
    uint64_t b = 0;
    for (const auto& t : f.tensors()) {
        if (!tied && t.name == "token_embd.weight") continue;
        const bool experts = t.name.find("_exps.") != std::string::npos && n_used > 0 && n_used <= n_expert;
        b += experts ? t.n_bytes / uint64_t(n_expert) * uint64_t(n_used) : t.n_bytes;
    }
    return b;
}

std::string human_gb(uint64_t b) { return fmt::format("{:.2f} GB", double(b) / 1e9); }

void run_bench(const BenchArgs& a) {
    if (a.n_prompt < 0) fail("-p {}: the prompt length must be >= 0", a.n_prompt);
    if (a.n_gen < 0) fail("-n {}: the number of generated tokens must be >= 0", a.n_gen);
    if (a.n_prompt == 0 && a.n_gen == 0) fail("-p 0 -n 0: nothing to measure");
    if (a.depth < 0) fail("-d {}: the depth must be >= 0", a.depth);
    if (a.reps < 1 || a.reps > 1000) fail("-r {}: repetitions must be in [1, 1000]", a.reps);
    if (a.threads < 0 || a.threads > 1024) fail("-t {}: threads must be in [0, 1024]", a.threads);
    if (a.bandwidth_mib < 1 || a.bandwidth_mib > (1 << 20)) fail("--bw-mib {}: must be in [1, 1048576]", a.bandwidth_mib);
    if (!std::filesystem::is_regular_file(a.model)) fail("{}: no such file", a.model);

    const int threads = a.threads > 0 ? a.threads : perf::physical_cores();
    std::unique_ptr<Model> model = load_model(
        a.model, PlacementOptions{.backend = {.name = a.backend, .n_threads = threads, .device = a.device, .isa = a.isa},
                                  .n_gpu_layers = a.n_gpu_layers,
                                  .cpu_moe = a.cpu_moe});
    const ModelInfo& info = model->info();
    const int64_t positions = int64_t(a.depth) + a.n_prompt + a.n_gen;
    if (positions > info.n_ctx_train)
        fail("-d {} -p {} -n {}: {} positions exceed the model's context length {}", a.depth, a.n_prompt, a.n_gen,
             positions, info.n_ctx_train);
    const int32_t n_ctx = int32_t(std::max<int64_t>(1, positions));
    const int32_t n_batch = std::max({1, a.n_prompt, std::min(a.depth, 512)});
    auto ctx = model->new_context({.n_ctx = n_ctx, .n_batch = n_batch});

    // Random token ids (fixed seed), as llama-bench does: the speed does not depend on them.
    std::mt19937 rng(42);
    std::uniform_int_distribution<int32_t> dist(0, info.n_vocab - 1);
    std::vector<int32_t> prompt(size_t(a.n_prompt)), gen(size_t(a.n_gen)), filler(size_t(a.depth));
    for (auto& t : prompt) t = dist(rng);
    for (auto& t : filler) t = dist(rng);
    for (auto& t : gen) t = dist(rng);
    std::vector<float> logits(size_t(info.n_vocab));

    // The cache filled with `depth` tokens before each timed run (llama-bench -d), not timed.
    auto fill = [&] {
        ctx->clear();
        for (size_t i = 0; i < filler.size(); i += size_t(n_batch)) {
            const size_t n = std::min(filler.size() - i, size_t(n_batch));
            model->forward(*ctx, std::span(filler.data() + i, n), Logits::Last, logits);
        }
        model->sync();
    };
    auto run_pp = [&] {
        fill();
        const auto t0 = std::chrono::steady_clock::now();
        model->forward(*ctx, prompt, Logits::Last, logits);
        model->sync();
        return seconds_since(t0);
    };
    auto run_tg = [&](int n) {
        fill();
        const auto t0 = std::chrono::steady_clock::now();
        for (int i = 0; i < n; ++i) model->forward(*ctx, std::span(&gen[size_t(i)], 1), Logits::Last, logits);
        model->sync();
        return seconds_since(t0);
    };

    if (!a.no_warmup) {  // first touch of the mapped weights and the caches, not timed
        if (a.n_prompt > 0) run_pp();
        if (a.n_gen > 0) run_tg(1);
    }
    Stats pp, tg;
    for (int r = 0; r < a.reps; ++r) {
        if (a.n_prompt > 0) pp.tps.push_back(a.n_prompt / run_pp());
        if (a.n_gen > 0) tg.tps.push_back(a.n_gen / run_tg(a.n_gen));
    }

    std::optional<perf::Bandwidth> bw;
    if (!a.no_bandwidth) bw = perf::read_bandwidth(threads, size_t(a.bandwidth_mib) << 20);
    const uint64_t per_token = weight_bytes_per_token(model->file());
    const double roofline_tps = bw && per_token ? bw->gbs * 1e9 / double(per_token) : 0.0;
    std::optional<double> fraction;
    if (!tg.tps.empty() && roofline_tps > 0) fraction = tg.median() / roofline_tps;
    const std::string type = gguf::file_type_summary(model->file());
    const std::string file_name = std::filesystem::path(a.model).filename().string();

    if (a.json) {
        using nlohmann::json;
        auto opt = [](bool has, double v) { return has ? json(v) : json(nullptr); };
        json j;
        j["model"] = file_name;
        j["model_name"] = info.name;
        j["arch"] = info.arch;
        j["type"] = type;
        j["threads"] = threads;
        j["backend"] = model->backend().name();
        j["device"] = model->backend().device_name();
        j["isa"] = model->backend().isa().empty() ? json(nullptr) : json(std::string(model->backend().isa()));
        j["depth"] = a.depth;
        j["n_prompt"] = a.n_prompt;
        j["n_gen"] = a.n_gen;
        j["reps"] = a.reps;
        j["pp_tps"] = opt(!pp.tps.empty(), pp.tps.empty() ? 0 : pp.median());
        j["pp_tps_min"] = opt(!pp.tps.empty(), pp.tps.empty() ? 0 : pp.min());
        j["pp_tps_max"] = opt(!pp.tps.empty(), pp.tps.empty() ? 0 : pp.max());
        j["pp_tps_all"] = pp.tps;
        j["tg_tps"] = opt(!tg.tps.empty(), tg.tps.empty() ? 0 : tg.median());
        j["tg_tps_min"] = opt(!tg.tps.empty(), tg.tps.empty() ? 0 : tg.min());
        j["tg_tps_max"] = opt(!tg.tps.empty(), tg.tps.empty() ? 0 : tg.max());
        j["tg_tps_all"] = tg.tps;
        j["bandwidth_gbs"] = opt(bw.has_value(), bw ? bw->gbs : 0);
        j["bandwidth_bytes"] = bw ? json(bw->bytes) : json(nullptr);
        j["model_bytes"] = info.n_bytes;
        j["n_params"] = info.n_params;
        j["bytes_per_token"] = per_token;
        j["tg_roofline_tps"] = opt(roofline_tps > 0, roofline_tps);
        j["tg_roofline_fraction"] = fraction ? json(*fraction) : json(nullptr);
        j["cpu"] = perf::cpu_model_name();
        std::cout << j.dump(2) << "\n";
        return;
    }

    std::cout << fmt::format("| {:<28} | {:>9} | {:>8} | {:<11} | {:>7} | {:>12} | {:>28} |\n", "model", "size",
                             "params", "backend", "threads", "test", "t/s (median, min - max)");
    std::cout << fmt::format("| {:-<28} | {:->9} | {:->8} | {:-<11} | {:->7} | {:->12} | {:->28} |\n", "", "", "", "",
                             "", "", "");
    auto row = [&](const std::string& test, const Stats& s) {
        const std::string_view isa = model->backend().isa();
        std::cout << fmt::format("| {:<28} | {:>9} | {:>7.2f}B | {:<11} | {:>7} | {:>12} | {:>28} |\n",
                                 info.arch + " " + type, human_gb(info.n_bytes), double(info.n_params) / 1e9,
                                 fmt::format("{}{}{}", model->backend().name(), isa.empty() ? "" : " ", isa),
                                 threads, test,
                                 fmt::format("{:.2f} ({:.2f} - {:.2f})", s.median(), s.min(), s.max()));
    };
    const std::string at = a.depth > 0 ? fmt::format(" @ d{}", a.depth) : "";
    if (!pp.tps.empty()) row(fmt::format("pp{}{}", a.n_prompt, at), pp);
    if (!tg.tps.empty()) row(fmt::format("tg{}{}", a.n_gen, at), tg);
    if (bw) {
        std::cout << fmt::format("read bandwidth: {:.1f} GB/s ({} threads, {} MiB streaming read, best of {})\n",
                                 bw->gbs, bw->threads, bw->bytes >> 20, bw->passes);
        std::cout << fmt::format("decode roofline: {:.1f} t/s ({:.3f} GB of weights per token)", roofline_tps,
                                 double(per_token) / 1e9);
        if (fraction) std::cout << fmt::format("; tg reached {:.1f}%", 100.0 * *fraction);
        std::cout << "\n";
    }
}

}  // namespace

void add_bench(CLI::App& app) {
    auto a = std::make_shared<BenchArgs>();
    CLI::App* sub = app.add_subcommand("bench", "Measure prompt (pp) and generation (tg) speed, llama-bench style");
    sub->add_option("-m,--model", a->model, "GGUF model file")->required();
    sub->add_option("-p,--n-prompt", a->n_prompt, "Prompt tokens evaluated in one batch (0: skip pp)")
        ->capture_default_str();
    sub->add_option("-n,--n-gen", a->n_gen, "Tokens generated one at a time (0: skip tg)")->capture_default_str();
    sub->add_option("-t,--threads", a->threads, "Threads (0: physical cores)");
    sub->add_option("--backend", a->backend, "cpu | vulkan | cuda")->capture_default_str();
    sub->add_option("--device", a->device, "GPU index for --backend vulkan|cuda (r1 info --devices lists them)")
        ->capture_default_str();
    sub->add_option("-d,--depth", a->depth, "Tokens in the KV cache before each timed run (llama-bench -d)")
        ->capture_default_str();
    sub->add_option("--isa", a->isa, "Cap the CPU kernels at scalar | avx2 | avx512 (default: the CPU's best)");
    sub->add_option("--gpu-layers", a->n_gpu_layers,
                    "Layers on the --backend device counted from the last (also -ngl; default all)");
    sub->add_flag("--cpu-moe", a->cpu_moe, "Routed-expert weights stay on the CPU");
    sub->add_option("-r,--repetitions", a->reps, "Repetitions of each test")->capture_default_str();
    sub->add_flag("--json", a->json, "Print one JSON object");
    sub->add_flag("--no-warmup", a->no_warmup, "Skip the untimed warm-up run");
    sub->add_flag("--no-bandwidth", a->no_bandwidth, "Skip the read-bandwidth measurement");
    sub->add_option("--bw-mib", a->bandwidth_mib, "Buffer size of the bandwidth measurement in MiB")
        ->capture_default_str();
    sub->callback([a] { run_bench(*a); });
}

R1_COMMAND(70, add_bench);

}  // namespace r1::cli
