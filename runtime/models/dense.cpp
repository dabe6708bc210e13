// The dense decoder family: `llama` (R1-Distill-Llama) and `qwen2` (R1-Distill-Qwen).
// Pre-norm blocks h = x + Attn(RMSNorm(x)), out = h + SwiGLU(RMSNorm(h)) (GGUF.md §3.1);
// qwen2 adds q/k/v biases and rotates NeoX pairs, llama rotates adjacent pairs on its
// permuted Q/K rows with optional Llama-3 frequency factors (`rope_freqs`). Not here: MoE/MLA.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>

#include "core/checked.h"
#include "core/error.h"
#include "runtime/model/loader.h"
#include "runtime/models/models.h"

namespace r1 {
namespace {

constexpr int64_t kMaxLayers = 1024;
constexpr int64_t kMaxDim = int64_t(1) << 20;  // n_embd, n_ff, head dims
constexpr int64_t kMaxHeads = 4096;
constexpr int64_t kMaxVocab = int64_t(1) << 24;
constexpr int64_t kMaxCtx = int64_t(1) << 24;
constexpr int64_t kLogitRows = 32;  // output rows projected at once (bounds the logits scratch)

struct DenseConfig {
    int32_t n_vocab = 0, n_embd = 0, n_layer = 0, n_ff = 0;
    int32_t n_head = 0, n_head_kv = 0, head_dim = 0, n_rot = 0, n_ctx_train = 0;
    float rope_base = 10000.0f, rms_eps = 1e-6f;
    RopeMode rope_mode = RopeMode::Norm;
    bool qkv_bias = false;
};

// Every hyper-parameter from its key; missing or inconsistent ones are errors (M02-M04).
DenseConfig read_config(const gguf::File& f, const std::string& arch) {
    HParams hp(f, arch);
    DenseConfig c;
    c.n_layer = int32_t(hp.count("block_count", 1, kMaxLayers));
    hp.set_n_layer(c.n_layer);
    c.n_embd = int32_t(hp.count("embedding_length", 1, kMaxDim));
    c.n_ff = int32_t(hp.count("feed_forward_length", 1, kMaxDim));
    c.n_head = int32_t(hp.count("attention.head_count", 1, kMaxHeads));
    c.n_head_kv = int32_t(hp.count_opt("attention.head_count_kv", 1, kMaxHeads).value_or(c.n_head));
    c.n_ctx_train = int32_t(hp.count("context_length", 1, kMaxCtx));
    if (c.n_head % c.n_head_kv != 0)
        fail("{}: {} = {} is not a multiple of {} = {}", f.source(), hp.full("attention.head_count"), c.n_head,
             hp.full("attention.head_count_kv"), c.n_head_kv);
    if (auto kl = hp.count_opt("attention.key_length", 1, kMaxDim)) {
        c.head_dim = int32_t(*kl);
    } else {
        if (c.n_embd % c.n_head != 0)
            fail("{}: {} = {} is not a multiple of {} = {}", f.source(), hp.full("embedding_length"), c.n_embd,
                 hp.full("attention.head_count"), c.n_head);
        c.head_dim = c.n_embd / c.n_head;
    }
    if (auto vl = hp.count_opt("attention.value_length", 1, kMaxDim); vl && *vl != c.head_dim)
        fail("{}: {} = {} differs from the key length {}", f.source(), hp.full("attention.value_length"), *vl,
             c.head_dim);
    c.n_rot = int32_t(hp.count_opt("rope.dimension_count", 2, c.head_dim).value_or(c.head_dim));
    if (c.n_rot % 2 != 0) fail("{}: {} = {} must be even", f.source(), hp.full("rope.dimension_count"), c.n_rot);
    c.rope_base = hp.real_opt("rope.freq_base", 1.0f, 1e12f).value_or(10000.0f);
    c.rms_eps = hp.real("attention.layer_norm_rms_epsilon", 0.0f, 1.0f);
    if (auto st = hp.string_opt("rope.scaling.type"); st && *st != "none")
        fail("{}: {} = '{}' is not supported for {}", f.source(), hp.full("rope.scaling.type"), *st, arch);
    c.rope_mode = arch == "qwen2" ? RopeMode::Neox : RopeMode::Norm;
    c.qkv_bias = arch == "qwen2";

    const gguf::TensorInfo* embd = f.find_tensor("token_embd.weight");
    if (!embd) fail("{}: missing tensor 'token_embd.weight'", f.source());
    if (embd->n_dims != 2 || embd->ne[1] < 1 || embd->ne[1] > kMaxVocab)
        fail("{}: tensor 'token_embd.weight': expected (n_vocab, {}), got {} dims", f.source(), c.n_embd, embd->n_dims);
    c.n_vocab = int32_t(embd->ne[1]);
    if (auto nv = hp.count_opt("vocab_size", 1, kMaxVocab); nv && *nv != c.n_vocab)
        fail("{}: {} = {} but token_embd.weight has {} rows", f.source(), hp.full("vocab_size"), *nv, c.n_vocab);
    return c;
}

struct LayerWeights {
    const float* attn_norm = nullptr;  // (n_embd)
    WeightView wq;                     // (n_head·head_dim, n_embd)
    WeightView wk;                     // (n_head_kv·head_dim, n_embd)
    WeightView wv;                     // (n_head_kv·head_dim, n_embd)
    const float* bq = nullptr;         // (n_head·head_dim), qwen2 only
    const float* bk = nullptr;         // (n_head_kv·head_dim), qwen2 only
    const float* bv = nullptr;         // (n_head_kv·head_dim), qwen2 only
    WeightView wo;                     // (n_embd, n_head·head_dim)
    const float* ffn_norm = nullptr;   // (n_embd)
    WeightView w_gate;                 // (n_ff, n_embd)
    WeightView w_up;                   // (n_ff, n_embd)
    WeightView w_down;                 // (n_embd, n_ff)
};

struct DenseWeights {
    WeightView token_embd;               // (n_vocab, n_embd)
    std::vector<LayerWeights> layers;    // (n_layer)
    const float* output_norm = nullptr;  // (n_embd)
    WeightView output;                   // (n_vocab, n_embd); token_embd when tied
    const float* output_bias = nullptr;  // (n_vocab), optional
    const float* rope_freqs = nullptr;   // (n_rot/2), optional Llama-3 frequency factors
};

DenseWeights load_weights(TensorLoader& t, const DenseConfig& c) {
    const int64_t q_dim = int64_t(c.n_head) * c.head_dim, kv_dim = int64_t(c.n_head_kv) * c.head_dim;
    DenseWeights w;
    w.token_embd = t.matrix("token_embd.weight", c.n_vocab, c.n_embd);
    w.output_norm = t.vector("output_norm.weight", c.n_embd);
    w.output = t.has("output.weight") ? t.matrix("output.weight", c.n_vocab, c.n_embd) : w.token_embd;
    if (t.has("output.bias")) w.output_bias = t.vector("output.bias", c.n_vocab);
    if (t.has("rope_freqs.weight")) w.rope_freqs = t.vector("rope_freqs.weight", c.n_rot / 2);
    for (int32_t il = 0; il < c.n_layer; ++il) {
        const std::string p = fmt::format("blk.{}.", il);
        LayerWeights l;
        l.attn_norm = t.vector(p + "attn_norm.weight", c.n_embd);
        l.wq = t.matrix(p + "attn_q.weight", q_dim, c.n_embd);
        l.wk = t.matrix(p + "attn_k.weight", kv_dim, c.n_embd);
        l.wv = t.matrix(p + "attn_v.weight", kv_dim, c.n_embd);
        if (c.qkv_bias) {
            l.bq = t.vector(p + "attn_q.bias", q_dim);
            l.bk = t.vector(p + "attn_k.bias", kv_dim);
            l.bv = t.vector(p + "attn_v.bias", kv_dim);
        }
        l.wo = t.matrix(p + "attn_output.weight", c.n_embd, q_dim);
        l.ffn_norm = t.vector(p + "ffn_norm.weight", c.n_embd);
        l.w_gate = t.matrix(p + "ffn_gate.weight", c.n_ff, c.n_embd);
        l.w_up = t.matrix(p + "ffn_up.weight", c.n_ff, c.n_embd);
        l.w_down = t.matrix(p + "ffn_down.weight", c.n_embd, c.n_ff);
        w.layers.push_back(l);
    }
    return w;
}

// Activations of one batch of B tokens, carved from the context's scratch buffer.
struct Activations {
    float* x;       // (B, n_embd) residual stream
    float* xn;      // (B, n_embd) normed input / projection output
    float* q;       // (B, n_head·head_dim)
    float* k;       // (B, n_head_kv·head_dim)
    float* v;       // (B, n_head_kv·head_dim)
    float* attn;    // (B, n_head·head_dim)
    float* gate;    // (B, n_ff)
    float* up;      // (B, n_ff)
    float* logits;  // (kLogitRows, n_vocab)
};

uint64_t activation_floats(const DenseConfig& c, int64_t B) {
    const uint64_t q_dim = uint64_t(c.n_head) * uint64_t(c.head_dim);
    const uint64_t kv_dim = uint64_t(c.n_head_kv) * uint64_t(c.head_dim);
    return uint64_t(B) * (2 * uint64_t(c.n_embd) + 2 * q_dim + 2 * kv_dim + 2 * uint64_t(c.n_ff)) +
           uint64_t(kLogitRows) * uint64_t(c.n_vocab);
}

Activations carve(float* base, const DenseConfig& c, int64_t B) {
    const int64_t q_dim = int64_t(c.n_head) * c.head_dim, kv_dim = int64_t(c.n_head_kv) * c.head_dim;
    Activations a;
    float* p = base;
    auto take = [&](int64_t n) { float* r = p; p += n; return r; };
    a.x = take(B * c.n_embd);
    a.xn = take(B * c.n_embd);
    a.q = take(B * q_dim);
    a.k = take(B * kv_dim);
    a.v = take(B * kv_dim);
    a.attn = take(B * q_dim);
    a.gate = take(B * c.n_ff);
    a.up = take(B * c.n_ff);
    a.logits = take(kLogitRows * c.n_vocab);
    return a;
}

class DenseModel final : public Model {
public:
    DenseModel(std::unique_ptr<gguf::File> file, std::unique_ptr<Backend> backend, const std::string& arch)
        : Model(std::move(file), std::move(backend)) {
        c_ = read_config(*file_, arch);
        if (!backend_->supports(Op::Embed, file_->find_tensor("token_embd.weight")->type))
            fail("{}: token_embd.weight: type not supported by the {} backend", file_->source(), backend_->name());
        TensorLoader loader(*file_, *backend_);
        w_ = load_weights(loader, c_);
        loader.warn_unused();
        // Backends may keep their own copies of the matrices; the file's pages of those are then
        // dropped (token_embd stays: embed reads it, also when it is the tied output).
        auto prepare = [&](WeightView& m) {
            backend_->prepare_matrix(m);
            if (m.packed && m.data != w_.token_embd.data)
                file_->release(m.data, size_t(m.n_out) * row_bytes(m.type, uint64_t(m.n_in)));
        };
        for (LayerWeights& l : w_.layers)
            for (WeightView* m : {&l.wq, &l.wk, &l.wv, &l.wo, &l.w_gate, &l.w_up, &l.w_down}) prepare(*m);
        prepare(w_.output);
        info_.arch = arch;
        info_.name = file_->has("general.name") && file_->find("general.name")->type() == gguf::ValueType::STRING
                         ? file_->get<std::string>("general.name")
                         : file_->source();
        info_.n_vocab = c_.n_vocab;
        info_.n_ctx_train = c_.n_ctx_train;
        info_.n_embd = c_.n_embd;
        info_.n_layer = c_.n_layer;
        info_.n_head = c_.n_head;
        info_.n_head_kv = c_.n_head_kv;
        info_.head_dim = c_.head_dim;
        for (const auto& t : file_->tensors()) {
            info_.n_params += uint64_t(t.n_elements());
            info_.n_bytes += t.n_bytes;
        }
    }

    std::unique_ptr<Context> new_context(const ContextOptions& o) override {
        int32_t n_ctx = o.n_ctx > 0 ? o.n_ctx : std::min(c_.n_ctx_train, 4096);
        if (n_ctx > c_.n_ctx_train) {
            std::fprintf(stderr, "r1: warning: context %d exceeds the model's training context %d; using %d\n",
                         n_ctx, c_.n_ctx_train, c_.n_ctx_train);
            n_ctx = c_.n_ctx_train;
        }
        const int32_t n_batch = std::clamp(o.n_batch, 1, n_ctx);
        KvCache kv(*backend_, {.n_layer = c_.n_layer, .n_ctx = n_ctx, .n_head_kv = c_.n_head_kv,
                               .head_dim = c_.head_dim, .type = o.kv_type});
        return std::make_unique<Context>(*backend_, std::move(kv), activation_floats(c_, n_batch) * sizeof(float),
                                         n_batch);
    }

protected:
    void forward_batch(Context& ctx, std::span<const int32_t> tokens, int32_t pos0, Logits mode,
                       float* logits) override {
        Backend& be = *backend_;
        const int64_t B = int64_t(tokens.size());
        const int64_t q_dim = int64_t(c_.n_head) * c_.head_dim, kv_dim = int64_t(c_.n_head_kv) * c_.head_dim;
        const Activations a = carve(ctx.scratch(), c_, ctx.n_batch());

        // 1. Token embeddings: x = token_embd[tokens].
        be.embed(w_.token_embd, tokens, a.x);

        for (int32_t il = 0; il < c_.n_layer; ++il) {
            const LayerWeights& l = w_.layers[size_t(il)];
            // 2. Attention block: xn = RMSNorm(x); q, k, v projections (+ bias for qwen2).
            be.rms_norm({.x = a.x, .w = l.attn_norm, .y = a.xn, .n_rows = B, .n = c_.n_embd, .eps = c_.rms_eps});
            be.matmul(l.wq, a.xn, B, a.q);
            be.matmul(l.wk, a.xn, B, a.k);
            be.matmul(l.wv, a.xn, B, a.v);
            if (l.bq) {
                be.add_bias(a.q, l.bq, B, q_dim);
                be.add_bias(a.k, l.bk, B, kv_dim);
                be.add_bias(a.v, l.bv, B, kv_dim);
            }
            // 3. Rotary positions on q and k.
            const RopeArgs rope{.x = a.q, .n_tokens = B, .pos0 = pos0, .n_head = c_.n_head, .head_dim = c_.head_dim,
                                .n_rot = c_.n_rot, .freq_base = c_.rope_base, .freq_factors = w_.rope_freqs,
                                .mode = c_.rope_mode};
            be.rope(rope);
            RopeArgs rope_k = rope;
            rope_k.x = a.k;
            rope_k.n_head = c_.n_head_kv;
            be.rope(rope_k);
            // 4. Causal GQA over the cache (stores k, v at pos0 ...), output projection, residual.
            be.attention({.q = a.q, .k = a.k, .v = a.v, .out = a.attn, .cache = ctx.kv().layer(il), .n_tokens = B,
                          .pos0 = pos0, .n_head = c_.n_head, .n_head_kv = c_.n_head_kv, .head_dim = c_.head_dim,
                          .scale = 1.0f / std::sqrt(float(c_.head_dim))});
            be.matmul(l.wo, a.attn, B, a.xn);
            be.add(a.x, a.xn, B * c_.n_embd);
            // 5. FFN block: x += W_down(silu(W_gate · RMSNorm(x)) ⊙ W_up · RMSNorm(x)).
            be.rms_norm({.x = a.x, .w = l.ffn_norm, .y = a.xn, .n_rows = B, .n = c_.n_embd, .eps = c_.rms_eps});
            be.matmul(l.w_gate, a.xn, B, a.gate);
            be.matmul(l.w_up, a.xn, B, a.up);
            be.glu(a.gate, a.up, a.gate, B * c_.n_ff);
            be.matmul(l.w_down, a.gate, B, a.xn);
            be.add(a.x, a.xn, B * c_.n_embd);
        }
        if (!logits) return;

        // 6. Final norm and LM head, for the last row or every row (kLogitRows at a time).
        const int64_t r0 = mode == Logits::All ? 0 : B - 1;
        const int64_t n_rows = B - r0;
        be.rms_norm({.x = a.x + r0 * c_.n_embd, .w = w_.output_norm, .y = a.xn + r0 * c_.n_embd, .n_rows = n_rows,
                     .n = c_.n_embd, .eps = c_.rms_eps});
        const Buffer& scratch = ctx.scratch_buffer();
        for (int64_t r = 0; r < n_rows; r += kLogitRows) {
            const int64_t nr = std::min(kLogitRows, n_rows - r);
            be.matmul(w_.output, a.xn + (r0 + r) * c_.n_embd, nr, a.logits);
            if (w_.output_bias) be.add_bias(a.logits, w_.output_bias, nr, c_.n_vocab);
            be.sync();
            const size_t off = size_t(a.logits - ctx.scratch()) * sizeof(float);
            be.download(scratch, off, logits + r * c_.n_vocab, size_t(nr * c_.n_vocab) * sizeof(float));
        }
    }

private:
    DenseConfig c_;
    DenseWeights w_;
};

}  // namespace

std::unique_ptr<Model> load_dense(std::unique_ptr<gguf::File> file, std::unique_ptr<Backend> backend,
                                  const std::string& arch) {
    return std::make_unique<DenseModel>(std::move(file), std::move(backend), arch);
}

}  // namespace r1
