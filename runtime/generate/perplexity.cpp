// perplexity(): chunking, the three input/scoring variants, NLL in double.
#include "runtime/generate/perplexity.h"

#include <algorithm>
#include <cmath>

#include "core/error.h"

namespace r1 {

double token_nll(std::span<const float> row, int32_t target) {
    double mx = row[0];
    for (float x : row) mx = std::max(mx, double(x));
    double sum = 0;
    for (float x : row) sum += std::exp(double(x) - mx);
    return std::log(sum) + mx - double(row[size_t(target)]);
}

PerplexityResult perplexity(Model& model, std::span<const int32_t> tokens, const PerplexityOptions& o,
                            const OnScored& on_scored) {
    if (o.n_ctx < 2) fail("-c {}: perplexity needs chunks of at least 2 tokens", o.n_ctx);
    if ((o.bos_prefixed || o.score_second_half) && o.bos < 0) fail("--bos: the model's vocabulary has no BOS token");
    int64_t n_chunks = int64_t(tokens.size()) / o.n_ctx;
    if (n_chunks == 0)
        fail("the text has {} tokens, fewer than one chunk of {} (use a smaller -c)", tokens.size(), o.n_ctx);
    if (o.n_chunks > 0) n_chunks = std::min<int64_t>(n_chunks, o.n_chunks);

    const int32_t n_vocab = model.info().n_vocab;
    auto ctx = model.new_context({.n_ctx = o.n_ctx, .kv_type = o.kv_type, .n_batch = o.n_batch});
    if (ctx->n_ctx() < o.n_ctx) fail("-c {}: larger than the model's context {}", o.n_ctx, ctx->n_ctx());
    std::vector<int32_t> input, targets;
    std::vector<float> logits;
    PerplexityResult r;
    for (int64_t c = 0; c < n_chunks; ++c) {
        const auto chunk = tokens.subspan(size_t(c * o.n_ctx), size_t(o.n_ctx));
        int64_t first_row = 0;  // first logits row that is scored
        if (o.score_second_half) {
            input.assign(chunk.begin(), chunk.end());
            input[0] = o.bos;
            targets.assign(chunk.begin() + o.n_ctx / 2 + 1, chunk.end());
            first_row = o.n_ctx / 2;
        } else if (o.bos_prefixed) {
            input.assign(1, o.bos);
            input.insert(input.end(), chunk.begin(), chunk.end() - 1);
            targets.assign(chunk.begin(), chunk.end());
        } else {
            input.assign(chunk.begin(), chunk.end() - 1);
            targets.assign(chunk.begin() + 1, chunk.end());
        }
        ctx->clear();
        logits.resize(input.size() * size_t(n_vocab));
        model.forward(*ctx, input, Logits::All, logits);
        double nll = 0;
        for (size_t i = 0; i < targets.size(); ++i)
            nll += token_nll(std::span<const float>(logits).subspan((size_t(first_row) + i) * size_t(n_vocab),
                                                                     size_t(n_vocab)),
                             targets[i]);
        if (on_scored)
            on_scored({.chunk = int32_t(c), .logits = logits.data() + size_t(first_row) * size_t(n_vocab),
                       .targets = targets});
        r.chunk_nll.push_back(nll);
        r.chunk_scored.push_back(int64_t(targets.size()));
        r.n_scored += int64_t(targets.size());
        r.mean_nll += nll;
    }
    r.mean_nll /= double(r.n_scored);
    r.perplexity = std::exp(r.mean_nll);
    return r;
}

}  // namespace r1
