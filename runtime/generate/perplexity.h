// Perplexity over a token sequence cut into non-overlapping chunks of n_ctx tokens, each
// evaluated from position 0 of a fresh context (the conventions of the fixtures'
// valid_ppl.json and of llama-perplexity). Log-softmax and sums in double.
#pragma once

#include <cstdint>
#include <functional>
#include <span>
#include <vector>

#include "runtime/model/model.h"

namespace r1 {

struct PerplexityOptions {
    int32_t n_ctx = 512;             // tokens per chunk
    int32_t n_chunks = -1;           // first N chunks; <= 0: all whole chunks
    int32_t bos = -1;                // BOS id for the variants that use it
    bool bos_prefixed = false;       // input [BOS] + chunk[:-1], all n_ctx chunk tokens scored
    bool score_second_half = false;  // llama-perplexity: chunk with BOS as first token, second half scored
    GgmlType kv_type = GgmlType::F32;
    int32_t n_batch = 512;
};

struct PerplexityResult {
    std::vector<double> chunk_nll;      // (n_chunks) sum of -log p(target)
    std::vector<int64_t> chunk_scored;  // (n_chunks) predictions scored
    double mean_nll = 0;
    double perplexity = 0;
    int64_t n_scored = 0;
};

// The scored rows of one chunk: logits (n_rows, n_vocab) and the token each row predicts.
struct ScoredRows {
    int32_t chunk = 0;
    const float* logits = nullptr;
    std::span<const int32_t> targets;
};
using OnScored = std::function<void(const ScoredRows&)>;

// Throws r1::Error when there is not one whole chunk of text, or n_ctx is out of range.
PerplexityResult perplexity(Model& model, std::span<const int32_t> tokens, const PerplexityOptions& options,
                            const OnScored& on_scored = {});

// -log softmax(row)[target] in double.
double token_nll(std::span<const float> row, int32_t target);

}  // namespace r1
