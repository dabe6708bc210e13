// The dense decoder family: `llama` (R1-Distill-Llama) and `qwen2` (R1-Distill-Qwen).
// Pre-norm blocks h = x + Attn(RMSNorm(x)), out = h + SwiGLU(RMSNorm(h)) (GGUF.md §3.1);
// qwen2 adds q/k/v biases and rotates NeoX pairs, llama rotates adjacent pairs on its
// permuted Q/K rows with optional Llama-3 frequency factors (`rope_freqs`). Not here: MoE/MLA.
// Each layer runs on the backend the placement gives it; the residual is copied (copy_across)
// where consecutive layers, or the last layer and the head, run on different backends.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>

#include "core/checked.h"
#include "core/error.h"
#include "runtime/model/loader.h"
#include "runtime/models/blocks.h"
#include "runtime/models/models.h"

namespace r1 {
namespace {

constexpr int64_t kMaxVocab = int64_t(1) << 24;  // token_embd rows (the vocab_size key: runtime/hparams)
constexpr int64_t kLogitRows = 32;  // output rows projected at once (bounds the logits scratch)

struct DenseConfig {
    int32_t n_vocab = 0, n_embd = 0, n_layer = 0, n_ff = 0;
    int32_t n_head = 0, n_head_kv = 0, head_dim = 0, n_rot = 0, n_ctx_train = 0;
    float rope_base = 10000.0f, rms_eps = 1e-6f;
    RopeMode rope_mode = RopeMode::Norm;
    bool qkv_bias = false;
};

// Every hyper-parameter from its key by the rules `r1 convert` also applies (runtime/hparams);
// missing or inconsistent ones are errors (M02-M04). n_vocab comes from token_embd's rows.
DenseConfig read_config(const gguf::File& f, const std::string& arch) {
    const DenseParams p = read_dense_params(HParams(f, arch));
    DenseConfig c;
    c.n_embd = p.n_embd;
    c.n_layer = p.n_layer;
    c.n_ff = p.n_ff;
    c.n_head = p.n_head;
    c.n_head_kv = p.n_head_kv;
    c.head_dim = p.head_dim;
    c.n_rot = p.n_rot;
    c.n_ctx_train = p.n_ctx_train;
    c.rope_base = p.rope_base;
    c.rms_eps = p.rms_eps;
    c.rope_mode = arch == "qwen2" ? RopeMode::Neox : RopeMode::Norm;
    c.qkv_bias = arch == "qwen2";

    const gguf::TensorInfo* embd = f.find_tensor("token_embd.weight");
    if (!embd) fail("{}: missing tensor 'token_embd.weight'", f.source());
    if (embd->n_dims != 2 || embd->ne[1] < 1 || embd->ne[1] > kMaxVocab)
        fail("{}: tensor 'token_embd.weight': expected (n_vocab, {}), got {} dims", f.source(), c.n_embd, embd->n_dims);
    c.n_vocab = int32_t(embd->ne[1]);
    if (p.n_vocab && *p.n_vocab != c.n_vocab)
        fail("{}: key '{}.vocab_size' = {} but token_embd.weight has {} rows", f.source(), arch, *p.n_vocab, c.n_vocab);
    return c;
}

struct LayerWeights {
    Tensor attn_norm;  // {n_embd}
    Tensor wq;         // W {n_embd, n_head·head_dim}
    Tensor wk;         // W {n_embd, n_head_kv·head_dim}
    Tensor wv;         // W {n_embd, n_head_kv·head_dim}
    Tensor bq;         // {n_head·head_dim}, qwen2 only
    Tensor bk;         // {n_head_kv·head_dim}, qwen2 only
    Tensor bv;         // {n_head_kv·head_dim}, qwen2 only
    Tensor wo;         // W {n_head·head_dim, n_embd}
    Tensor ffn_norm;   // {n_embd}
    SwigluFfn ffn;     // n_embd -> n_ff -> n_embd
};

struct DenseWeights {
    Tensor token_embd;                // table {n_embd, n_vocab}
    std::vector<LayerWeights> layers;  // (n_layer)
    Tensor output_norm;               // {n_embd}
    Tensor output;                    // W {n_embd, n_vocab}; token_embd's bytes when tied
    Tensor output_bias;               // {n_vocab}, optional
    std::vector<float> rope_freqs;    // (n_rot/2) host floats, optional Llama-3 frequency factors
};

// Each weight goes to the backend the placement gives its name (TensorLoader).
DenseWeights load_weights(TensorLoader& t, const DenseConfig& c) {
    const int64_t q_dim = int64_t(c.n_head) * c.head_dim, kv_dim = int64_t(c.n_head_kv) * c.head_dim;
    DenseWeights w;
    w.token_embd = t.rows("token_embd.weight", c.n_vocab, c.n_embd);
    if (t.has("rope_freqs.weight")) w.rope_freqs = t.host_vector("rope_freqs.weight", c.n_rot / 2);
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
        l.ffn.gate = t.matrix(p + "ffn_gate.weight", c.n_ff, c.n_embd);
        l.ffn.up = t.matrix(p + "ffn_up.weight", c.n_ff, c.n_embd);
        l.ffn.down = t.matrix(p + "ffn_down.weight", c.n_embd, c.n_ff);
        w.layers.push_back(l);
    }
    w.output_norm = t.vector("output_norm.weight", c.n_embd);
    w.output = t.matrix(t.has("output.weight") ? "output.weight" : "token_embd.weight", c.n_vocab, c.n_embd);
    if (t.has("output.bias")) w.output_bias = t.vector("output.bias", c.n_vocab);
    return w;
}

// One backend's share of a context: activations for n_batch tokens, positions and RoPE table.
struct Lane {
    Backend* be = nullptr;
    std::unique_ptr<Scratch> scratch;
    Tensor x, xn;      // {n_embd, n_batch} residual stream; normed input / projection output
    Tensor q, attn;    // {n_head·head_dim, n_batch}
    Tensor k, v;       // {n_head_kv·head_dim, n_batch}
    Tensor gate, up;   // {n_ff, n_batch}
    Tensor ids;        // I32 {n_batch}
    Tensor logits;     // {n_vocab, kLogitRows}, on the output's backend only
    BatchInputs in;    // positions {n_batch}, RoPE table {2, n_rot/2, n_ctx}
};

struct DenseState final : ContextState {
    std::vector<Lane> lanes;      // one per distinct backend, in layer order
    std::vector<size_t> lane_of;  // (n_layer)
    size_t output_lane = 0;       // the lane of the final norm and head
};

class DenseModel final : public Model {
public:
    DenseModel(std::unique_ptr<gguf::File> file, Placement placement, const std::string& arch)
        : Model(std::move(file), std::move(placement)) {
        c_ = read_config(*file_, arch);
        // Ops first (a backend without one is refused before any weight is loaded), then the
        // weights, each checked against its backend's matmul / get_rows for its type.
        placement_.resolve(c_.n_layer);
        for (int32_t il = 0; il < c_.n_layer; ++il) layer_be_.push_back(&placement_.layer(il));
        auto require = [&](Backend& be, std::initializer_list<Op> ops) {
            for (Op op : ops)
                if (!be.supports(op))
                    fail("{}: the {} backend has no {} on f32, which the {} model needs", file_->source(), be.name(),
                         op_name(op), arch);
        };
        for (Backend* be : layer_be_) require(*be, {Op::RmsNorm, Op::Rope, Op::Swiglu, Op::Add});
        require(placement_.output(), {Op::RmsNorm, Op::Add});
        TensorLoader loader(*file_, placement_, c_.n_layer);
        w_ = load_weights(loader, c_);
        loader.warn_unused();
        loader.release_copied();
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
        for (Backend* be : layer_be_)
            if (!be->supports(Op::Attention, o.kv_type) || !be->supports(Op::Copy, o.kv_type))
                fail("KV cache type {}: not supported by the {} backend", type_traits(o.kv_type).name, be->name());
        const int32_t n_batch = std::clamp(o.n_batch, 1, n_ctx);
        KvCache kv(layer_be_, {.n_layer = c_.n_layer, .n_ctx = n_ctx, .n_head_kv = c_.n_head_kv,
                               .k_dim = c_.head_dim, .v_dim = c_.head_dim, .type = o.kv_type});
        auto st = std::make_unique<DenseState>();
        std::vector<float> table(size_t(n_ctx) * size_t(c_.n_rot));
        rope_table({.n_rot = c_.n_rot, .freq_base = c_.rope_base,
                    .freq_factors = w_.rope_freqs.empty() ? nullptr : w_.rope_freqs.data()},
                   n_ctx, table.data());
        auto lane_for = [&](Backend& be) {
            for (size_t i = 0; i < st->lanes.size(); ++i)
                if (st->lanes[i].be == &be) return i;
            st->lanes.push_back(make_lane(be, n_batch, n_ctx, table));
            return st->lanes.size() - 1;
        };
        for (int32_t il = 0; il < c_.n_layer; ++il) st->lane_of.push_back(lane_for(*layer_be_[size_t(il)]));
        st->output_lane = lane_for(placement_.output());
        return std::make_unique<Context>(std::move(kv), n_batch, std::move(st));
    }

protected:
    void forward_batch(Context& ctx, std::span<const int32_t> tokens, int32_t pos0, Logits mode,
                       float* logits) override {
        auto& st = static_cast<DenseState&>(ctx.state());
        const int64_t B = int64_t(tokens.size());
        std::vector<int32_t> pos(tokens.size());
        for (size_t i = 0; i < pos.size(); ++i) pos[i] = pos0 + int32_t(i);
        for (Lane& lane : st.lanes) {
            lane.in.pos0 = pos0;
            lane.be->upload(lane.in.positions.slice(0, 0, B), pos.data());
        }

        // 1. Token embeddings: x = token_embd[tokens], on the first layer's backend.
        Lane* lane = &st.lanes[st.lane_of.front()];
        lane->be->upload(lane->ids.slice(0, 0, B), tokens.data());
        lane->be->get_rows(w_.token_embd, lane->ids.slice(0, 0, B), lane->x.slice(1, 0, B));

        for (int32_t il = 0; il < c_.n_layer; ++il) {
            Lane* next = &st.lanes[st.lane_of[size_t(il)]];
            if (next != lane) copy_across(*lane->be, lane->x.slice(1, 0, B), *next->be, next->x.slice(1, 0, B));
            lane = next;
            layer(*lane, w_.layers[size_t(il)], ctx.kv().layer(il), B);
        }
        if (!logits) return;

        // 6. Final norm and LM head, for the last row or every row (kLogitRows at a time).
        Lane* head = &st.lanes[st.output_lane];
        if (head != lane) copy_across(*lane->be, lane->x.slice(1, 0, B), *head->be, head->x.slice(1, 0, B));
        lane = head;
        Backend& be = *lane->be;
        const int64_t r0 = mode == Logits::All ? 0 : B - 1;
        be.rms_norm(lane->x.slice(1, r0, B - r0), w_.output_norm, lane->xn.slice(1, r0, B - r0), c_.rms_eps);
        for (int64_t r = r0; r < B; r += kLogitRows) {
            const int64_t nr = std::min(kLogitRows, B - r);
            const Tensor out = lane->logits.slice(1, 0, nr);
            be.matmul(w_.output, lane->xn.slice(1, r, nr), out);
            if (!w_.output_bias.empty()) be.add(out, w_.output_bias, out);
            be.download(out, logits + (r - r0) * c_.n_vocab);
        }
    }

private:
    Lane make_lane(Backend& be, int32_t n_batch, int32_t n_ctx, const std::vector<float>& table) const {
        const int64_t q_dim = int64_t(c_.n_head) * c_.head_dim, kv_dim = int64_t(c_.n_head_kv) * c_.head_dim;
        const bool out = &be == &placement_.output();
        using S = Scratch;
        const size_t n = 2 * S::bytes_for(GgmlType::F32, {c_.n_embd, n_batch}) +
                         2 * S::bytes_for(GgmlType::F32, {q_dim, n_batch}) +
                         2 * S::bytes_for(GgmlType::F32, {kv_dim, n_batch}) +
                         2 * S::bytes_for(GgmlType::F32, {c_.n_ff, n_batch}) +
                         2 * S::bytes_for(GgmlType::I32, {n_batch}) +
                         S::bytes_for(GgmlType::F32, {2, c_.n_rot / 2, n_ctx}) +
                         (out ? S::bytes_for(GgmlType::F32, {c_.n_vocab, kLogitRows}) : 0);
        Lane l;
        l.be = &be;
        l.scratch = std::make_unique<Scratch>(be, n);
        Scratch& s = *l.scratch;
        l.x = s.take(GgmlType::F32, {c_.n_embd, n_batch});
        l.xn = s.take(GgmlType::F32, {c_.n_embd, n_batch});
        l.q = s.take(GgmlType::F32, {q_dim, n_batch});
        l.attn = s.take(GgmlType::F32, {q_dim, n_batch});
        l.k = s.take(GgmlType::F32, {kv_dim, n_batch});
        l.v = s.take(GgmlType::F32, {kv_dim, n_batch});
        l.gate = s.take(GgmlType::F32, {c_.n_ff, n_batch});
        l.up = s.take(GgmlType::F32, {c_.n_ff, n_batch});
        l.ids = s.take(GgmlType::I32, {n_batch});
        l.in.positions = s.take(GgmlType::I32, {n_batch});
        l.in.rope = s.take(GgmlType::F32, {2, c_.n_rot / 2, n_ctx});
        be.upload(l.in.rope, table.data());
        if (out) l.logits = s.take(GgmlType::F32, {c_.n_vocab, kLogitRows});
        return l;
    }

    // One pre-norm block on the lane's backend: x += Attn(RMSNorm(x)); x += FFN(RMSNorm(x)).
    void layer(const Lane& a, const LayerWeights& l, const KvLayer& cache, int64_t B) const {
        Backend& be = *a.be;
        const Tensor x = a.x.slice(1, 0, B), xn = a.xn.slice(1, 0, B);
        const Tensor q = a.q.slice(1, 0, B), k = a.k.slice(1, 0, B), v = a.v.slice(1, 0, B);
        // 2. Attention block: xn = RMSNorm(x); q, k, v projections (+ bias for qwen2).
        be.rms_norm(x, l.attn_norm, xn, c_.rms_eps);
        be.matmul(l.wq, xn, q);
        be.matmul(l.wk, xn, k);
        be.matmul(l.wv, xn, v);
        if (!l.bq.empty()) {
            be.add(q, l.bq, q);
            be.add(k, l.bk, k);
            be.add(v, l.bv, v);
        }
        // 3. Rotary positions on the first n_rot dims of each q and k head.
        const Tensor qh = q.reshape({c_.head_dim, c_.n_head, B}), kh = k.reshape({c_.head_dim, c_.n_head_kv, B});
        be.rope({.x = qh.slice(0, 0, c_.n_rot), .positions = a.in.positions.slice(0, 0, B), .table = a.in.rope,
                 .mode = c_.rope_mode});
        be.rope({.x = kh.slice(0, 0, c_.n_rot), .positions = a.in.positions.slice(0, 0, B), .table = a.in.rope,
                 .mode = c_.rope_mode});
        // 4. Causal GQA over the cache (stores k, v at pos0 ...), output projection, residual.
        BatchInputs in = a.in;
        in.positions = in.positions.slice(0, 0, B);
        const Tensor vh = v.reshape({c_.head_dim, c_.n_head_kv, B});
        const Tensor attn = a.attn.slice(1, 0, B);
        attention_with_cache(be, cache, in, qh, kh, &vh, 1.0f / std::sqrt(float(c_.head_dim)),
                             attn.reshape({c_.head_dim, c_.n_head, B}));
        be.matmul(l.wo, attn, xn);
        be.add(x, xn, x);
        // 5. FFN block: x += W_down(silu(W_gate · RMSNorm(x)) ⊙ W_up · RMSNorm(x)).
        be.rms_norm(x, l.ffn_norm, xn, c_.rms_eps);
        swiglu_ffn(be, l.ffn, xn, a.gate.slice(1, 0, B), a.up.slice(1, 0, B), xn);
        be.add(x, xn, x);
    }

    DenseConfig c_;
    DenseWeights w_;
    std::vector<Backend*> layer_be_;  // (n_layer) placement_.layer(il)
};

}  // namespace

std::unique_ptr<Model> load_dense(std::unique_ptr<gguf::File> file, Placement placement, const std::string& arch) {
    return std::make_unique<DenseModel>(std::move(file), std::move(placement), arch);
}

}  // namespace r1
