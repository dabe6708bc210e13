// One generation on a model: evaluate the prompt (reusing the context's cached prefix), then
// sample, stream complete UTF-8 text, and stop on end-of-generation tokens, stop strings,
// the token budget, a full context, or the caller's cancel (also between prompt batches).
#pragma once

#include <cstdint>
#include <functional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "runtime/model/model.h"
#include "runtime/sampling/sampler.h"
#include "runtime/tokenizer/tokenizer.h"

namespace r1 {

struct GenerateOptions {
    int32_t n_predict = -1;          // most tokens to generate; -1: until EOG or the context is full
    bool ignore_eos = false;         // keep going past end-of-generation tokens
    bool show_special = false;       // stream the text of CONTROL tokens too
    std::vector<std::string> stop;   // stop strings (not included in the output)
    // Polled between prompt batches (ContextOptions::n_batch tokens each) and between generated
    // tokens; true stops with StopReason::Cancelled (a long prompt is interrupted, not finished).
    std::function<bool()> cancel;
};

enum class StopReason { Eog, Length, ContextFull, StopString, Cancelled };
std::string_view stop_reason_name(StopReason r);

struct GenerateResult {
    StopReason reason = StopReason::Length;
    int32_t n_prompt = 0;   // prompt tokens
    int32_t n_reused = 0;   // of which were already cached and not re-evaluated
    int32_t n_generated = 0;
    double prompt_ms = 0;   // prompt evaluation time
    double gen_ms = 0;      // generation time (sampling + forward)
    std::string text;       // everything streamed
    std::vector<int32_t> tokens;  // the generated ids (an end-of-generation token excluded)
};

// Called with each piece of complete UTF-8 text and the token that finished it (-1 when the
// text is flushed at the end). Return false to stop (StopReason::Cancelled).
using OnText = std::function<bool(std::string_view text, int32_t token)>;

// Makes the context hold `prompt` and returns the logits of its last token (n_vocab): the
// longest cached prefix is kept, the rest evaluated one batch (ctx.n_batch() tokens) at a time.
// Throws r1::Error when the prompt is empty or longer than the context (RELIABILITY.md R01).
// When `cancel` returns true between batches, stops there and returns an empty vector; the
// context then holds the prompt's evaluated part.
std::vector<float> evaluate_prompt(Model& model, Context& ctx, std::span<const int32_t> prompt, int32_t* n_reused,
                                   const std::function<bool()>& cancel = {});

GenerateResult generate(Model& model, Context& ctx, const tokenizer::Tokenizer& tok, Sampler& sampler,
                        std::span<const int32_t> prompt, const GenerateOptions& options, const OnText& on_text);

}  // namespace r1
