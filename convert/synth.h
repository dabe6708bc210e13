// `r1 synth`: full-size dense models of a known shape (GGUF.md §4.1) with random weights from a
// fixed seed, written with the same metadata, type mixes and streaming writer as `r1 convert`,
// optionally with a real tokenizer padded to the preset's vocabulary. For benchmarks without downloads.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "convert/plan.h"
#include "convert/type_mix.h"

namespace r1::convert {

struct SynthPreset {
    std::string name;     // "r1-distill-qwen-1.5b"
    nlohmann::json config;  // the HF config.json fields the dense converter reads
};

// Every preset: the three R1-Distill shapes of GGUF.md §4.1, two deepseek2 shapes (issue 14)
// and tiny ones for tests.
const std::vector<SynthPreset>& synth_presets();
std::string synth_preset_names();  // "r1-distill-qwen-1.5b r1-distill-qwen-7b ..."
// Throws r1::Error listing the presets when `name` is not one.
const SynthPreset& find_synth_preset(std::string_view name);

// The plan of a preset: metadata as `r1 convert` writes it for that config.json, and every
// tensor with a producer of random values: weights ~N(0, 0.02²), norms ~1 + N(0, 0.02²), biases
// ~N(0, 0.02²), each row from its own generator so the bytes never depend on the threads.
// n_layers > 0 writes only the first n_layers layers (at most the preset's).
Plan build_synth_plan(const SynthPreset& preset, uint64_t seed, int64_t n_layers = 0);

struct SynthOptions {
    std::string preset;
    std::filesystem::path output;
    Mix mix = Mix::Q8_0;
    std::filesystem::path tokenizer;  // HF tokenizer folder; empty: no tokenizer.* keys
    uint64_t seed = 1234;
    int threads = 0;  // 0: all cores
    int64_t layers = 0;  // > 0: only the first `layers` layers
    bool quiet = false;
    bool force = false;
};

// Writes <output>.tmp and renames it at the end (an error leaves nothing at the final path).
void synth_model(const SynthOptions& o);

}  // namespace r1::convert
