// Scratch carving, context bookkeeping and Model::forward: checks ids and room, splits long inputs into batches.
#include "runtime/model/model.h"

#include <algorithm>
#include <cstdio>

#include "core/error.h"

namespace r1 {

namespace {
constexpr size_t kAlign = 64;
}

size_t Scratch::bytes_for(GgmlType type, std::initializer_list<int64_t> ne) {
    return (tensor_bytes(type, ne) + kAlign - 1) / kAlign * kAlign;
}

Tensor Scratch::take(GgmlType type, std::initializer_list<int64_t> ne) {
    const size_t n = bytes_for(type, ne);
    R1_CHECK(used_ + n <= buffer_.n_bytes);
    Tensor t = make_tensor(buffer_, used_, type, ne);
    used_ += n;
    return t;
}

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
    const size_t need = size_t(mode == Logits::All ? n : mode == Logits::Last ? 1 : 0) * size_t(info_.n_vocab);
    R1_CHECK(logits.size() >= need);
    if (!announced_) {
        std::fprintf(stderr, "%s\n", placement_.load_line().c_str());
        announced_ = true;
    }

    for (int64_t b0 = 0; b0 < n; b0 += ctx.n_batch()) {
        const int64_t nb = std::min<int64_t>(ctx.n_batch(), n - b0);
        const bool last = b0 + nb == n;
        float* out = nullptr;
        if (mode == Logits::All) out = logits.data() + size_t(b0) * size_t(info_.n_vocab);
        else if (mode == Logits::Last && last) out = logits.data();
        forward_batch(ctx, tokens.subspan(size_t(b0), size_t(nb)), ctx.n_past(), mode, out);
        auto& t = ctx.mutable_tokens();
        t.insert(t.end(), tokens.begin() + b0, tokens.begin() + b0 + nb);
    }
}

}  // namespace r1
