// `r1 convert` (HF folder -> GGUF) and `r1 quantize` (GGUF -> GGUF in another type mix).
// Everything is validated before the first byte is written; output goes to <out>.tmp and is
// renamed at the end, so an error or Ctrl-C never leaves a file at the final path.
#pragma once

#include <filesystem>
#include <string>

#include "convert/type_mix.h"

namespace r1::convert {

struct ConvertOptions {
    std::filesystem::path input;   // HF folder (convert) or GGUF file (quantize)
    std::filesystem::path output;  // GGUF file
    Mix mix = Mix::F16;
    bool pure = false;   // every 2-D weight in the mix's one type (llama-quantize --pure)
    int threads = 0;     // 0: all cores
    bool quiet = false;
    bool force = false;  // overwrite an existing output file
};

void convert_checkpoint(const ConvertOptions& o);
void quantize_gguf(const ConvertOptions& o);

// Output path checks shared by both commands (RELIABILITY.md C09).
void check_output_path(const ConvertOptions& o);

}  // namespace r1::convert
