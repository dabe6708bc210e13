// Context bookkeeping and Model::forward: checks ids and room, splits long inputs into batches.
#include "runtime/model/model.h"

#include <algorithm>

#include "core/error.h"

namespace r1 {

Context::Context(Backend& backend, KvCache kv, size_t scratch_bytes, int32_t n_batch)
    : backend_(backend), kv_(std::move(kv)), scratch_(backend.alloc(scratch_bytes)), n_batch_(n_batch) {}

Context::~Context() { backend_.free(scratch_); }

void Context::truncate(int32_t n) {
    R1_CHECK(n >= 0 && n <= n_past());
    tokens_.resize(size_t(n));
}

void Model::forward(Context& ctx, std::span<const int32_t> tokens, Logits mode, std::span<float> logits) {
    const int64_t n = int64_t(tokens.size());
    if (n == 0) return;
    for (int32_t id : tokens)
        if (id < 0 || id >= info_.n_vocab)
            fail("token id {} is out of range (vocabulary of {} tokens)", id, info_.n_vocab);
    if (ctx.n_past() + n > ctx.n_ctx())
        fail("context is full: {} cached + {} new tokens > context size {} (use -c to enlarge it)",
             ctx.n_past(), n, ctx.n_ctx());
    const size_t need = size_t(mode == Logits::All ? n : 1) * size_t(info_.n_vocab);
    R1_CHECK(logits.size() >= need);

    for (int64_t b0 = 0; b0 < n; b0 += ctx.n_batch()) {
        const int64_t nb = std::min<int64_t>(ctx.n_batch(), n - b0);
        const bool last = b0 + nb == n;
        float* out = nullptr;
        if (mode == Logits::All) out = logits.data() + size_t(b0) * size_t(info_.n_vocab);
        else if (last) out = logits.data();
        forward_batch(ctx, tokens.subspan(size_t(b0), size_t(nb)), ctx.n_past(), mode, out);
        auto& t = ctx.mutable_tokens();
        t.insert(t.end(), tokens.begin() + b0, tokens.begin() + b0 + nb);
    }
}

}  // namespace r1
