// Flags shared by the commands that run a model (run, chat, perplexity): model file, threads,
// context, backend, KV cache type, and the sampling flags with R1's recommended defaults.
#pragma once

#include <memory>
#include <string>

#include <CLI/CLI.hpp>

#include "runtime/model/model.h"
#include "runtime/sampling/sampler.h"
#include "runtime/tokenizer/tokenizer.h"

namespace r1::cli {

struct ModelFlags {
    std::string model;
    int threads = 0;
    int n_ctx = 0;
    int n_batch = 256;
    std::string backend = "cpu";
    int device = 0;
    int n_gpu_layers = -1;  // < 0: every layer on --backend
    bool cpu_moe = false;
    std::string cache_type = "auto";
};

struct SamplingFlags {
    SamplingParams params;
    CLI::Option* temp = nullptr;
    CLI::Option* top_p = nullptr;
    CLI::Option* top_k = nullptr;
    CLI::Option* min_p = nullptr;
};

// -m is added by the caller (chat has a default). Adds -t -c -b --backend --device -ngl --cpu-moe
// --cache-type.
void add_model_flags(CLI::App* cmd, ModelFlags& f);
void add_sampling_flags(CLI::App* cmd, SamplingFlags& f);

struct LoadedModel {
    std::unique_ptr<Model> model;
    std::unique_ptr<tokenizer::Tokenizer> tokenizer;  // null when the file has no vocabulary
    // The tokenizer, or an r1::Error saying the file has none.
    const tokenizer::Tokenizer& tok() const;
    bool is_r1 = false;  // the vocabulary has R1's <｜Assistant｜> and <think> tokens
};

// Loads the model and the tokenizer embedded in the GGUF file; validates the flags (R04/R05).
LoadedModel load_model_and_tokenizer(const ModelFlags& f);
ContextOptions context_options(const ModelFlags& f, const Model& m);
// The flags' sampling parameters; R1 defaults (temp 0.6, top-p 0.95) for flags not given.
SamplingParams resolve_sampling(const SamplingFlags& f, bool is_r1);

// "r1: prompt N tokens in X ms (Y tok/s) | generated ..." timing line for stderr.
std::string timing_line(int n_prompt, double prompt_ms, int n_gen, double gen_ms);

}  // namespace r1::cli
