// Token sampling from logits: repetition/presence/frequency penalties, then greedy (temp <= 0)
// or top-k -> top-p -> min-p -> temperature -> a draw from a seeded generator (llama.cpp's
// default chain order). Same seed and logits give the same tokens on every machine.
#pragma once

#include <cstdint>
#include <deque>
#include <random>
#include <span>
#include <vector>

namespace r1 {

struct SamplingParams {
    float temp = 0.8f;              // <= 0: greedy (argmax, first index on ties)
    int32_t top_k = 40;             // <= 0: off
    float top_p = 0.95f;            // 1: off
    float min_p = 0.05f;            // 0: off; keeps tokens with p >= min_p · p_max
    float repeat_penalty = 1.0f;    // 1: off; divides positive / multiplies negative logits
    int32_t repeat_last_n = 64;     // window of the penalties; 0: off, -1: whole history
    float presence_penalty = 0.0f;  // subtracted once from tokens seen in the window
    float frequency_penalty = 0.0f; // subtracted per occurrence in the window
    uint64_t seed = 0xC0FFEE;
};

// The sampling parameters DeepSeek recommends for R1 models (GGUF.md §4.5).
SamplingParams r1_sampling_defaults();

// Throws r1::Error naming the flag for NaN/Inf or out-of-range values (RELIABILITY.md R08).
void validate(const SamplingParams& p);

class Sampler {
public:
    Sampler(const SamplingParams& params, int32_t n_vocab);

    // Picks the next token from logits (n_vocab); does not record it (see accept).
    int32_t sample(std::span<const float> logits);
    // Records a token (prompt or generated) in the penalty window.
    void accept(int32_t token);
    void reset();

    const SamplingParams& params() const { return p_; }

private:
    struct Candidate {
        int32_t id;
        float logit;
    };
    double uniform();  // [0, 1) from the top 53 bits of the generator

    SamplingParams p_;
    int32_t n_vocab_;
    std::mt19937_64 rng_;
    std::deque<int32_t> history_;
    std::vector<Candidate> cand_;
};

}  // namespace r1
