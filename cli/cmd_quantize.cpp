// `r1 quantize IN.gguf OUT.gguf T`: requantize a GGUF file to type mix T (CLI.md).
#include <memory>

#include "cli/commands.h"
#include "convert/convert.h"
#include "core/error.h"

namespace r1::cli {
namespace {

struct QuantizeArgs {
    std::string input, output, type;
    bool pure = false, quiet = false, force = false;
    int threads = 0;
};

void run_quantize(const QuantizeArgs& a) {
    auto mix = convert::mix_from_name(a.type);
    if (!mix) fail("type '{}' is not one of: {}", a.type, convert::mix_names());
    convert::quantize_gguf({.input = a.input, .output = a.output, .mix = *mix, .pure = a.pure,
                            .threads = a.threads, .quiet = a.quiet, .force = a.force});
}

}  // namespace

void add_quantize(CLI::App& app) {
    auto a = std::make_shared<QuantizeArgs>();
    CLI::App* sub = app.add_subcommand("quantize", "Requantize a GGUF file (F32/F16/BF16/Q8_0 sources) to another type mix");
    sub->add_option("input", a->input, "Input GGUF file")->required();
    sub->add_option("output", a->output, "Output GGUF file")->required();
    sub->add_option("type", a->type, "Type mix: " + convert::mix_names())->required();
    sub->add_flag("--pure", a->pure, "Every 2-D weight in the one type (no Q4_K_M-style bumps)");
    sub->add_option("-t,--threads", a->threads, "Worker threads (0: all cores)");
    sub->add_flag("-q,--quiet", a->quiet, "No progress output");
    sub->add_flag("-f,--force", a->force, "Overwrite an existing output file");
    sub->callback([a] { run_quantize(*a); });
}

R1_COMMAND(61, add_quantize);

}  // namespace r1::cli
