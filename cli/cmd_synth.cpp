// `r1 synth --preset NAME --type T -o OUT.gguf [--tokenizer DIR]`: a full-size model of a known
// shape with random weights (fixed seed) for benchmarks without downloads (CLI.md).
#include <memory>

#include "cli/commands.h"
#include "convert/synth.h"
#include "core/error.h"

namespace r1::cli {
namespace {

struct SynthArgs {
    std::string preset, type = "q8_0", output, tokenizer;
    uint64_t seed = 1234;
    int threads = 0;
    int64_t layers = 0;
    bool quiet = false, force = false;
};

void run_synth(const SynthArgs& a) {
    auto mix = convert::mix_from_name(a.type);
    if (!mix) fail("--type '{}' is not one of: {}", a.type, convert::mix_names());
    convert::synth_model({.preset = a.preset, .output = a.output, .mix = *mix, .tokenizer = a.tokenizer,
                          .seed = a.seed, .threads = a.threads, .layers = a.layers, .quiet = a.quiet, .force = a.force});
}

}  // namespace

void add_synth(CLI::App& app) {
    auto a = std::make_shared<SynthArgs>();
    CLI::App* sub = app.add_subcommand("synth", "Write a full-size model with random weights (for benchmarks)");
    sub->add_option("--preset", a->preset, "Model shape: " + convert::synth_preset_names())->required();
    sub->add_option("--type", a->type, "Type mix: " + convert::mix_names())->capture_default_str();
    sub->add_option("-o,--output", a->output, "Output GGUF file")->required();
    sub->add_option("--tokenizer", a->tokenizer,
                    "Hugging Face tokenizer folder to embed (padded to the preset's vocabulary)");
    sub->add_option("--seed", a->seed, "Random seed")->capture_default_str();
    sub->add_option("-t,--threads", a->threads, "Worker threads (0: all cores)");
    sub->add_option("--layers", a->layers, "Write only the first N layers (0: all)")->check(CLI::NonNegativeNumber);
    sub->add_flag("-q,--quiet", a->quiet, "No progress output");
    sub->add_flag("-f,--force", a->force, "Overwrite an existing output file");
    sub->callback([a] { run_synth(*a); });
}

R1_COMMAND(65, add_synth);

}  // namespace r1::cli
