// `r1 convert HF_DIR -o OUT.gguf --type T`: Hugging Face checkpoint folder -> GGUF (CLI.md).
#include <memory>

#include "cli/commands.h"
#include "convert/convert.h"
#include "core/error.h"

namespace r1::cli {
namespace {

struct ConvertArgs {
    std::string input, output, type = "f16";
    bool pure = false, quiet = false, force = false;
    int threads = 0;
};

void run_convert(const ConvertArgs& a) {
    auto mix = convert::mix_from_name(a.type);
    if (!mix) fail("--type '{}' is not one of: {}", a.type, convert::mix_names());
    convert::convert_checkpoint({.input = a.input, .output = a.output, .mix = *mix, .pure = a.pure,
                                 .threads = a.threads, .quiet = a.quiet, .force = a.force});
}

}  // namespace

void add_convert(CLI::App& app) {
    auto a = std::make_shared<ConvertArgs>();
    CLI::App* sub = app.add_subcommand("convert", "Convert a Hugging Face checkpoint folder to GGUF in one pass");
    sub->add_option("hf_dir", a->input, "Folder with config.json, *.safetensors, tokenizer files")->required();
    sub->add_option("-o,--output", a->output, "Output GGUF file")->required();
    sub->add_option("--type", a->type, "Type mix: " + convert::mix_names())->capture_default_str();
    sub->add_flag("--pure", a->pure, "Every 2-D weight in the one type (no Q4_K_M-style bumps)");
    sub->add_option("-t,--threads", a->threads, "Worker threads (0: all cores)");
    sub->add_flag("-q,--quiet", a->quiet, "No progress output");
    sub->add_flag("-f,--force", a->force, "Overwrite an existing output file");
    sub->callback([a] { run_convert(*a); });
}

R1_COMMAND(60, add_convert);

}  // namespace r1::cli
