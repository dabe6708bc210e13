// The `deepseek2` family (DeepSeek-V3 / R1, V2, Moonlight): MLA attention over a latent cache
// and MoE feed-forwards with shared experts (GGUF.md §3.5, §5). Attention always runs in the
// absorbed form (§5.4): the cache holds per token one 576-wide row [c_kv (kv_lora); k_pe
// (n_rot)], queries are taken into the latent space by attn_k_b and outputs back by attn_v_b.
// Files that carry only attn_kv_b are split into k_b / v_b at load. Not here: MTP layers.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>

#include "core/error.h"
#include "quant/codecs.h"
#include "runtime/model/loader.h"
#include "runtime/models/blocks.h"
#include "runtime/models/models.h"

namespace r1 {
namespace {

constexpr int64_t kMaxVocab = int64_t(1) << 24;  // token_embd rows (the vocab_size key: runtime/hparams)
constexpr int64_t kLogitRows = 32;  // output rows projected at once (bounds the logits scratch)

struct Deepseek2Config {
    int32_t n_vocab = 0, n_embd = 0, n_layer = 0, n_ff = 0, n_head = 0, n_ctx_train = 0;
    int32_t q_lora = 0;   // 0: no q LoRA (attn_q)
    int32_t kv_lora = 0;  // c_kv width
    int32_t n_rot = 0;    // qk_rope_head_dim
    int32_t n_nope = 0;   // qk_nope_head_dim = key length - n_rot
    int32_t v_dim = 0;    // v_head_dim
    float rms_eps = 1e-6f;
    RopeConfig rope;        // n_rot, base, YaRN
    float kq_scale = 0.0f;  // mscale(s, mscale_all_dim)² / sqrt(n_nope + n_rot)
    // MoE (n_expert == 0: every layer dense)
    int32_t n_dense_lead = 0, n_expert = 0, n_ff_exp = 0, n_shared = 0;
    MoeRouting routing;

    bool is_moe(int32_t il) const { return n_expert > 0 && il >= n_dense_lead; }
};

// Every hyper-parameter from its key (GGUF.md §3.5) by the rules `r1 convert` also applies
// (runtime/hparams); missing or inconsistent ones are errors. Tensor-dependent checks here.
Deepseek2Config read_config(const gguf::File& f) {
    const Deepseek2Params p = read_deepseek2_params(HParams(f, "deepseek2"));
    auto bad = [&](const std::string& what) { fail("{}: {}", f.source(), what); };
    Deepseek2Config c;
    c.n_layer = p.n_layer;
    c.n_embd = p.n_embd;
    c.n_head = p.n_head;
    c.n_ctx_train = p.n_ctx_train;
    c.rms_eps = p.rms_eps;
    c.q_lora = p.q_lora;
    c.kv_lora = p.kv_lora;
    c.n_rot = p.n_rot;
    c.n_nope = p.qk_dim - p.n_rot;
    c.v_dim = p.v_dim;

    // RoPE: YaRN or none. GGUF keeps only mscale_all_dim (as 0.1 · it, yarn_log_multiplier);
    // cos/sin keep magnitude mscale(s, mscale) / mscale(s, mscale_all_dim) = 1 as in llama.cpp.
    c.rope = {.n_rot = c.n_rot, .freq_base = p.rope_base};
    float mscale = 1.0f;
    if (p.yarn) {
        c.rope.yarn_factor = p.yarn_factor;
        c.rope.yarn_orig_ctx = p.yarn_orig_ctx;
        c.rope.yarn_beta_fast = p.yarn_beta_fast;
        c.rope.yarn_beta_slow = p.yarn_beta_slow;
        mscale = 1.0f + p.yarn_log_mul * std::log(c.rope.yarn_factor);
    }
    c.kq_scale = mscale * mscale / std::sqrt(float(p.qk_dim));

    // FFN: the first leading_dense_block_count layers dense, the others MoE.
    c.n_expert = p.n_expert;
    c.n_dense_lead = p.n_dense_lead;
    c.n_ff = p.n_ff;
    if (c.n_expert > 0) {
        MoeRouting& r = c.routing;
        r.n_used = p.n_used;
        c.n_ff_exp = p.n_ff_exp;
        c.n_shared = p.n_shared;
        r.scale = p.expert_weights_scale;
        r.norm = p.expert_weights_norm;
        // Files with a selection bias are V3-style (sigmoid); a default softmax there would be
        // wrong.
        if (!p.gating && f.find_tensor(fmt::format("blk.{}.exp_probs_b.bias", c.n_dense_lead)))
            bad("missing key 'deepseek2.expert_gating_func' (the file has exp_probs_b, so softmax cannot be "
                "assumed)");
        r.gating = p.gating.value_or(1) == 2 ? Gating::Sigmoid : Gating::Softmax;
        r.n_group = p.n_group;
        r.n_group_used = p.n_group_used;
    }

    const gguf::TensorInfo* embd = f.find_tensor("token_embd.weight");
    if (!embd) bad("missing tensor 'token_embd.weight'");
    if (embd->n_dims != 2 || embd->ne[1] < 1 || embd->ne[1] > kMaxVocab)
        bad(fmt::format("tensor 'token_embd.weight': expected (n_vocab, {}), got {} dims", c.n_embd,
                        embd->n_dims));
    c.n_vocab = int32_t(embd->ne[1]);
    if (p.n_vocab && *p.n_vocab != c.n_vocab)
        bad(fmt::format("key 'deepseek2.vocab_size' = {} but token_embd.weight has {} rows", *p.n_vocab,
                        c.n_vocab));
    return c;
}

struct LayerWeights {
    Tensor attn_norm;  // {n_embd}
    Tensor wq_a;       // W {n_embd, q_lora}, q LoRA only
    Tensor q_a_norm;   // {q_lora}, q LoRA only
    Tensor wq;         // W {q_lora or n_embd, n_head·(n_nope + n_rot)}: attn_q_b or attn_q
    Tensor wkv_a;      // W {n_embd, kv_lora + n_rot}: [c_kv; k_pe]
    Tensor kv_a_norm;  // {kv_lora}
    Tensor k_b;        // stack {n_nope, kv_lora, n_head}: W_UKᵀ per head
    Tensor v_b;        // stack {kv_lora, v_dim, n_head}: W_UV per head
    Tensor wo;         // W {n_head·v_dim, n_embd}
    Tensor ffn_norm;   // {n_embd}
    SwigluFfn ffn;     // dense layers: n_embd -> n_ff -> n_embd
    MoeFfn moe;        // MoE layers: routed experts
    SwigluFfn shexp;   // MoE layers with shared experts: n_embd -> n_ff_exp·n_shared -> n_embd
};

struct Deepseek2Weights {
    Tensor token_embd;                 // table {n_embd, n_vocab}
    std::vector<LayerWeights> layers;  // (n_layer)
    Tensor output_norm;                // {n_embd}
    Tensor output;                     // W {n_embd, n_vocab}; token_embd's bytes when tied
};

// attn_kv_b {kv_lora, n_head·(n_nope + v_dim)} (older converters) split as the converter does
// (GGUF.md §3.5): k_b = each head's first n_nope rows transposed, v_b = its last v_dim rows.
// k_b is computed in F32 (F32 files) or F16; v_b keeps the file's rows and type.
void split_kv_b(TensorLoader& t, const std::string& p, const Deepseek2Config& c, LayerWeights& l) {
    const std::string name = p + "attn_kv_b.weight";
    const int64_t rows_per_head = int64_t(c.n_nope) + c.v_dim;
    const gguf::TensorInfo& kv_b = t.raw(name, {c.kv_lora, c.n_head * rows_per_head});
    const Codec* codec_of = codec(kv_b.type);
    if (!codec_of)
        fail("tensor '{}': type {} cannot be split at load", name, type_traits(kv_b.type).name);
    const size_t row = size_t(row_bytes(kv_b.type, uint64_t(c.kv_lora)));
    std::vector<float> head(size_t(c.n_nope) * size_t(c.kv_lora));
    std::vector<float> k_b(size_t(c.n_head) * head.size());  // {n_nope, kv_lora, n_head}
    std::vector<uint8_t> v_b(size_t(c.n_head) * size_t(c.v_dim) * row);
    for (int64_t h = 0; h < c.n_head; ++h) {
        const uint8_t* rows = kv_b.data + size_t(h * rows_per_head) * row;
        for (int64_t j = 0; j < c.n_nope; ++j)
            codec_of->dequantize_row(rows + size_t(j) * row, head.data() + j * c.kv_lora,
                                     c.kv_lora);
        float* kh = k_b.data() + size_t(h) * head.size();
        for (int64_t j = 0; j < c.n_nope; ++j)
            for (int64_t i = 0; i < c.kv_lora; ++i)
                kh[i * c.n_nope + j] = head[size_t(j * c.kv_lora + i)];
        std::memcpy(v_b.data() + size_t(h * c.v_dim) * row, rows + size_t(c.n_nope) * row,
                    size_t(c.v_dim) * row);
    }
    if (kv_b.type == GgmlType::F32) {
        l.k_b = t.derived(p + "attn_k_b (from attn_kv_b)", GgmlType::F32,
                          {c.n_nope, c.kv_lora, c.n_head}, k_b.data(), WeightUse::Matmul);
    } else {
        std::vector<uint16_t> h16(k_b.size());
        fp32_to_fp16_row(k_b.data(), h16.data(), int64_t(k_b.size()));
        l.k_b = t.derived(p + "attn_k_b (from attn_kv_b)", GgmlType::F16,
                          {c.n_nope, c.kv_lora, c.n_head}, h16.data(), WeightUse::Matmul);
    }
    l.v_b = t.derived(p + "attn_v_b (from attn_kv_b)", kv_b.type, {c.kv_lora, c.v_dim, c.n_head},
                      v_b.data(), WeightUse::Matmul);
}

// Each weight goes to the backend the placement gives its name (TensorLoader).
Deepseek2Weights load_weights(TensorLoader& t, const Deepseek2Config& c) {
    const int64_t q_dim = int64_t(c.n_head) * (c.n_nope + c.n_rot);
    Deepseek2Weights w;
    w.token_embd = t.rows("token_embd.weight", c.n_vocab, c.n_embd);
    for (int32_t il = 0; il < c.n_layer; ++il) {
        const std::string p = fmt::format("blk.{}.", il);
        LayerWeights l;
        l.attn_norm = t.vector(p + "attn_norm.weight", c.n_embd);
        if (c.q_lora > 0) {
            l.wq_a = t.matrix(p + "attn_q_a.weight", c.q_lora, c.n_embd);
            l.q_a_norm = t.vector(p + "attn_q_a_norm.weight", c.q_lora);
            l.wq = t.matrix(p + "attn_q_b.weight", q_dim, c.q_lora);
        } else {
            l.wq = t.matrix(p + "attn_q.weight", q_dim, c.n_embd);
        }
        l.wkv_a = t.matrix(p + "attn_kv_a_mqa.weight", int64_t(c.kv_lora) + c.n_rot, c.n_embd);
        l.kv_a_norm = t.vector(p + "attn_kv_a_norm.weight", c.kv_lora);
        if (t.has(p + "attn_k_b.weight") || !t.has(p + "attn_kv_b.weight")) {
            l.k_b = t.stack(p + "attn_k_b.weight", c.n_nope, c.kv_lora, c.n_head, Op::Matmul);
            l.v_b = t.stack(p + "attn_v_b.weight", c.kv_lora, c.v_dim, c.n_head, Op::Matmul);
        } else {
            split_kv_b(t, p, c, l);
        }
        l.wo = t.matrix(p + "attn_output.weight", c.n_embd, int64_t(c.n_head) * c.v_dim);
        l.ffn_norm = t.vector(p + "ffn_norm.weight", c.n_embd);
        if (!c.is_moe(il)) {
            l.ffn.gate = t.matrix(p + "ffn_gate.weight", c.n_ff, c.n_embd);
            l.ffn.up = t.matrix(p + "ffn_up.weight", c.n_ff, c.n_embd);
            l.ffn.down = t.matrix(p + "ffn_down.weight", c.n_embd, c.n_ff);
        } else {
            l.moe.gate_inp = t.matrix(p + "ffn_gate_inp.weight", c.n_expert, c.n_embd);
            if (t.has(p + "exp_probs_b.bias"))
                l.moe.bias = t.vector(p + "exp_probs_b.bias", c.n_expert);
            l.moe.gate_exps =
                t.stack(p + "ffn_gate_exps.weight", c.n_embd, c.n_ff_exp, c.n_expert, Op::MatmulId);
            l.moe.up_exps =
                t.stack(p + "ffn_up_exps.weight", c.n_embd, c.n_ff_exp, c.n_expert, Op::MatmulId);
            l.moe.down_exps =
                t.stack(p + "ffn_down_exps.weight", c.n_ff_exp, c.n_embd, c.n_expert, Op::MatmulId);
            if (c.n_shared > 0) {
                const int64_t n_sh = int64_t(c.n_ff_exp) * c.n_shared;
                l.shexp.gate = t.matrix(p + "ffn_gate_shexp.weight", n_sh, c.n_embd);
                l.shexp.up = t.matrix(p + "ffn_up_shexp.weight", n_sh, c.n_embd);
                l.shexp.down = t.matrix(p + "ffn_down_shexp.weight", c.n_embd, n_sh);
            }
        }
        w.layers.push_back(l);
    }
    w.output_norm = t.vector("output_norm.weight", c.n_embd);
    w.output = t.matrix(t.has("output.weight") ? "output.weight" : "token_embd.weight", c.n_vocab,
                        c.n_embd);
    return w;
}

// A context's activations for n_batch tokens, positions and RoPE table (one backend).
struct Deepseek2State final : ContextState {
    std::unique_ptr<Scratch> scratch;
    Tensor x, xn, y;  // {n_embd, n_batch}: residual stream; normed input / block output; MoE sum
    Tensor q_a;       // {q_lora, n_batch}
    Tensor q;         // {n_nope + n_rot, n_head, n_batch}
    Tensor kv;        // {kv_lora + n_rot, n_batch}: the batch's cache rows [c_kv; k_pe]
    Tensor q_lat;     // {kv_lora + n_rot, n_head, n_batch}: [W_UKᵀ q_nope; q_pe]
    Tensor o_lat;     // {kv_lora, n_head, n_batch}: attention output in the latent space
    Tensor o;         // {v_dim, n_head, n_batch}
    Tensor gate, up;  // n_batch rows of the widest of n_ff and n_ff_exp·n_shared (packed())
    Tensor router;    // {n_expert, n_batch}
    Tensor exp_ids;   // I32 {n_used, n_batch}
    Tensor exp_w;     // {n_used, n_batch}
    Tensor exp_gate, exp_up;  // {n_ff_exp, n_used, n_batch}
    Tensor exp_out;           // {n_embd, n_used, n_batch}
    Tensor ids;               // I32 {n_batch}
    Tensor logits;            // {n_vocab, kLogitRows}
    BatchInputs in;           // positions {n_batch}, RoPE table {2, n_rot/2, n_ctx}
};

class Deepseek2Model final : public Model {
  public:
    Deepseek2Model(std::unique_ptr<gguf::File> file, Placement placement)
        : Model(std::move(file), std::move(placement)) {
        c_ = read_config(*file_);
        // One backend runs every layer, the experts and the head (splits: issue 13's remainder).
        placement_.resolve(c_.n_layer);
        Backend& be = placement_.layer(0);
        for (int32_t il = 0; il < c_.n_layer; ++il)
            if (&placement_.layer(il) != &be || &placement_.experts(il) != &be || &placement_.output() != &be)
                fail("{}: deepseek2 runs every layer, its experts and its head on one backend for now: -ngl "
                     "below n_layer + 1 and --cpu-moe (a split with the {} backend) are not supported for it yet",
                     file_->source(), placement_.primary().name());
        if (!be.supports(Op::Attention, GgmlType::F16) || !be.supports(Op::Rope) ||
            !be.supports(Op::Swiglu) || !be.supports(Op::RmsNorm) ||
            !be.supports(Op::Copy, GgmlType::F16) || !be.supports(Op::MoeRoute) ||
            !be.supports(Op::Mul) || !be.supports(Op::Add))
            fail("{}: the {} backend lacks an op the deepseek2 model needs", file_->source(),
                 be.name());
        TensorLoader loader(*file_, placement_, c_.n_layer);
        w_ = load_weights(loader, c_);
        loader.warn_unused();
        loader.release_copied();
        info_.arch = "deepseek2";
        info_.name = file_->has("general.name") &&
                             file_->find("general.name")->type() == gguf::ValueType::STRING
                         ? file_->get<std::string>("general.name")
                         : file_->source();
        info_.n_vocab = c_.n_vocab;
        info_.n_ctx_train = c_.n_ctx_train;
        info_.n_embd = c_.n_embd;
        info_.n_layer = c_.n_layer;
        info_.n_head = c_.n_head;
        info_.n_head_kv = 1;  // the latent cache: one shared row per token
        info_.head_dim = c_.kv_lora + c_.n_rot;
        for (const auto& t : file_->tensors()) {
            info_.n_params += uint64_t(t.n_elements());
            info_.n_bytes += t.n_bytes;
        }
    }

    std::unique_ptr<Context> new_context(const ContextOptions& o) override {
        int32_t n_ctx = o.n_ctx > 0 ? o.n_ctx : std::min(c_.n_ctx_train, 4096);
        if (n_ctx > c_.n_ctx_train) {
            std::fprintf(
                stderr,
                "r1: warning: context %d exceeds the model's training context %d; using %d\n",
                n_ctx, c_.n_ctx_train, c_.n_ctx_train);
            n_ctx = c_.n_ctx_train;
        }
        Backend& be = placement_.layer(0);
        if (!be.supports(Op::Attention, o.kv_type) || !be.supports(Op::Copy, o.kv_type))
            fail("KV cache type {}: not supported by the {} backend", type_traits(o.kv_type).name,
                 be.name());
        const int32_t n_batch = std::clamp(o.n_batch, 1, n_ctx);
        const int32_t row = c_.kv_lora + c_.n_rot;
        KvCache kv(std::vector<Backend*>(size_t(c_.n_layer), &be), {.n_layer = c_.n_layer,
                                                                    .n_ctx = n_ctx,
                                                                    .n_head_kv = 1,
                                                                    .k_dim = row,
                                                                    .v_dim = c_.kv_lora,
                                                                    .v_in_k = true,
                                                                    .type = o.kv_type});
        return std::make_unique<Context>(std::move(kv), n_batch, make_state(be, n_batch, n_ctx));
    }

  protected:
    void forward_batch(Context& ctx, std::span<const int32_t> tokens, int32_t pos0, Logits mode,
                       float* logits) override {
        auto& st = static_cast<Deepseek2State&>(ctx.state());
        Backend& be = placement_.layer(0);
        const int64_t B = int64_t(tokens.size());
        std::vector<int32_t> pos(tokens.size());
        for (size_t i = 0; i < pos.size(); ++i) pos[i] = pos0 + int32_t(i);
        st.in.pos0 = pos0;
        be.upload(st.in.positions.slice(0, 0, B), pos.data());

        // 1. Token embeddings: x = token_embd[tokens].
        be.upload(st.ids.slice(0, 0, B), tokens.data());
        be.get_rows(w_.token_embd, st.ids.slice(0, 0, B), st.x.slice(1, 0, B));

        for (int32_t il = 0; il < c_.n_layer; ++il) {
            const LayerWeights& l = w_.layers[size_t(il)];
            attention(st, l, ctx.kv().layer(il), B);
            if (c_.is_moe(il))
                moe(st, l, B);
            else
                dense_ffn(st, l, B);
        }
        if (!logits) return;

        // 6. Final norm and LM head, for the last row or every row (kLogitRows at a time).
        const int64_t r0 = mode == Logits::All ? 0 : B - 1;
        be.rms_norm(st.x.slice(1, r0, B - r0), w_.output_norm, st.xn.slice(1, r0, B - r0),
                    c_.rms_eps);
        for (int64_t r = r0; r < B; r += kLogitRows) {
            const int64_t nr = std::min(kLogitRows, B - r);
            const Tensor out = st.logits.slice(1, 0, nr);
            be.matmul(w_.output, st.xn.slice(1, r, nr), out);
            be.download(out, logits + (r - r0) * c_.n_vocab);
        }
    }

  private:
    std::unique_ptr<Deepseek2State> make_state(Backend& be, int32_t n_batch, int32_t n_ctx) const {
        const int64_t nb = n_batch, qk = int64_t(c_.n_nope) + c_.n_rot,
                      row = int64_t(c_.kv_lora) + c_.n_rot;
        const int64_t n_used = c_.n_expert > 0 ? c_.routing.n_used : 0;
        const int64_t n_ff_max = std::max<int64_t>(c_.n_ff, int64_t(c_.n_ff_exp) * c_.n_shared);
        using S = Scratch;
        const auto F = GgmlType::F32, I = GgmlType::I32;
        size_t n =
            3 * S::bytes_for(F, {c_.n_embd, nb}) + S::bytes_for(F, {std::max(c_.q_lora, 1), nb}) +
            S::bytes_for(F, {qk, c_.n_head, nb}) + S::bytes_for(F, {row, nb}) +
            S::bytes_for(F, {row, c_.n_head, nb}) + S::bytes_for(F, {c_.kv_lora, c_.n_head, nb}) +
            S::bytes_for(F, {c_.v_dim, c_.n_head, nb}) +
            2 * S::bytes_for(F, {std::max<int64_t>(n_ff_max, 1), nb}) + 2 * S::bytes_for(I, {nb}) +
            S::bytes_for(F, {2, c_.n_rot / 2, n_ctx}) + S::bytes_for(F, {c_.n_vocab, kLogitRows});
        if (c_.n_expert > 0)
            n += S::bytes_for(F, {c_.n_expert, nb}) + S::bytes_for(I, {n_used, nb}) +
                 S::bytes_for(F, {n_used, nb}) + 2 * S::bytes_for(F, {c_.n_ff_exp, n_used, nb}) +
                 S::bytes_for(F, {c_.n_embd, n_used, nb});
        auto st = std::make_unique<Deepseek2State>();
        st->scratch = std::make_unique<Scratch>(be, n);
        Scratch& s = *st->scratch;
        st->x = s.take(F, {c_.n_embd, nb});
        st->xn = s.take(F, {c_.n_embd, nb});
        st->y = s.take(F, {c_.n_embd, nb});
        st->q_a = s.take(F, {std::max(c_.q_lora, 1), nb});
        st->q = s.take(F, {qk, c_.n_head, nb});
        st->kv = s.take(F, {row, nb});
        st->q_lat = s.take(F, {row, c_.n_head, nb});
        st->o_lat = s.take(F, {c_.kv_lora, c_.n_head, nb});
        st->o = s.take(F, {c_.v_dim, c_.n_head, nb});
        st->gate = s.take(F, {std::max<int64_t>(n_ff_max, 1), nb});
        st->up = s.take(F, {std::max<int64_t>(n_ff_max, 1), nb});
        if (c_.n_expert > 0) {
            st->router = s.take(F, {c_.n_expert, nb});
            st->exp_ids = s.take(I, {n_used, nb});
            st->exp_w = s.take(F, {n_used, nb});
            st->exp_gate = s.take(F, {c_.n_ff_exp, n_used, nb});
            st->exp_up = s.take(F, {c_.n_ff_exp, n_used, nb});
            st->exp_out = s.take(F, {c_.n_embd, n_used, nb});
        }
        st->ids = s.take(I, {nb});
        st->in.positions = s.take(I, {nb});
        st->in.rope = s.take(F, {2, c_.n_rot / 2, n_ctx});
        std::vector<float> table(size_t(n_ctx) * size_t(c_.n_rot));
        rope_table(c_.rope, n_ctx, table.data());
        be.upload(st->in.rope, table.data());
        st->logits = s.take(F, {c_.n_vocab, kLogitRows});
        return st;
    }

    // x += W_o · MLA(RMSNorm(x)) in the absorbed form (GGUF.md §5.3-5.4).
    void attention(const Deepseek2State& st, const LayerWeights& l, const KvLayer& cache,
                   int64_t B) const {
        Backend& be = placement_.layer(0);
        const Tensor x = st.x.slice(1, 0, B), xn = st.xn.slice(1, 0, B),
                     pos = st.in.positions.slice(0, 0, B);
        const Tensor q = st.q.slice(2, 0, B), kv = st.kv.slice(1, 0, B),
                     q_lat = st.q_lat.slice(2, 0, B);
        // 2. q = W_qb · RMSNorm(W_qa · xn) (or W_q · xn): per head [q_nope (n_nope); q_pe (n_rot)].
        be.rms_norm(x, l.attn_norm, xn, c_.rms_eps);
        const Tensor q2 = q.reshape({int64_t(c_.n_nope + c_.n_rot) * c_.n_head, B});
        if (c_.q_lora > 0) {
            const Tensor q_a = st.q_a.slice(1, 0, B);
            be.matmul(l.wq_a, xn, q_a);
            be.rms_norm(q_a, l.q_a_norm, q_a, c_.rms_eps);
            be.matmul(l.wq, q_a, q2);
        } else {
            be.matmul(l.wq, xn, q2);
        }
        // 3. The cache row [c_kv; k_pe] = W_kva · xn, c_kv normed, k_pe rotated (one head).
        be.matmul(l.wkv_a, xn, kv);
        be.rms_norm(kv.slice(0, 0, c_.kv_lora), l.kv_a_norm, kv.slice(0, 0, c_.kv_lora),
                    c_.rms_eps);
        const Tensor k_pe =
            kv.view({c_.n_rot, 1, B}, {kv.nb[1], kv.nb[1]}, size_t(c_.kv_lora) * sizeof(float));
        be.rope({.x = k_pe, .positions = pos, .table = st.in.rope, .mode = RopeMode::Norm});
        // 4. q in the latent space: [W_UKᵀ q_nope; rotated q_pe] per head.
        const Tensor q_pe = q.slice(0, c_.n_nope, c_.n_rot);
        be.rope({.x = q_pe, .positions = pos, .table = st.in.rope, .mode = RopeMode::Norm});
        be.matmul(l.k_b, q.slice(0, 0, c_.n_nope), q_lat.slice(0, 0, c_.kv_lora));
        be.copy(q_pe, q_lat.slice(0, c_.kv_lora, c_.n_rot));
        // 5. MQA over the latent cache (V = the c_kv part of each row), back out by W_UV per
        //    head, output projection, residual.
        BatchInputs in = st.in;
        in.positions = pos;
        const Tensor kv3 = kv.reshape({int64_t(c_.kv_lora) + c_.n_rot, 1, B});
        attention_with_cache(be, cache, in, q_lat, kv3, nullptr, c_.kq_scale,
                             st.o_lat.slice(2, 0, B));
        const Tensor o = st.o.slice(2, 0, B);
        be.matmul(l.v_b, st.o_lat.slice(2, 0, B), o);
        be.matmul(l.wo, o.reshape({int64_t(c_.v_dim) * c_.n_head, B}), xn);
        be.add(x, xn, x);
    }

    // The first n·B floats of a scratch tensor as a contiguous {n, B} (FFN widths differ by layer).
    static Tensor packed(const Tensor& scratch, int64_t n, int64_t B) {
        return scratch.view({n, B}, {size_t(n) * sizeof(float)});
    }

    // x += SwiGLU(RMSNorm(x)) for the leading dense layers.
    void dense_ffn(const Deepseek2State& st, const LayerWeights& l, int64_t B) const {
        Backend& be = placement_.layer(0);
        const Tensor x = st.x.slice(1, 0, B), xn = st.xn.slice(1, 0, B);
        be.rms_norm(x, l.ffn_norm, xn, c_.rms_eps);
        swiglu_ffn(be, l.ffn, xn, packed(st.gate, c_.n_ff, B), packed(st.up, c_.n_ff, B), xn);
        be.add(x, xn, x);
    }

    // x += routed experts (GGUF.md §5.2) + shared experts, both of RMSNorm(x).
    void moe(const Deepseek2State& st, const LayerWeights& l, int64_t B) const {
        Backend& be = placement_.layer(0);
        const Tensor x = st.x.slice(1, 0, B), xn = st.xn.slice(1, 0, B), y = st.y.slice(1, 0, B);
        be.rms_norm(x, l.ffn_norm, xn, c_.rms_eps);
        moe_ffn(be, l.moe, c_.routing,
                {.x = xn,
                 .logits = st.router.slice(1, 0, B),
                 .ids = st.exp_ids.slice(1, 0, B),
                 .weights = st.exp_w.slice(1, 0, B),
                 .gate = st.exp_gate.slice(2, 0, B),
                 .up = st.exp_up.slice(2, 0, B),
                 .out = st.exp_out.slice(2, 0, B),
                 .y = y});
        be.add(x, y, x);
        if (c_.n_shared > 0) {
            const int64_t n_sh = int64_t(c_.n_ff_exp) * c_.n_shared;
            swiglu_ffn(be, l.shexp, xn, packed(st.gate, n_sh, B), packed(st.up, n_sh, B), xn);
            be.add(x, xn, x);
        }
    }

    Deepseek2Config c_;
    Deepseek2Weights w_;
};

}  // namespace

std::unique_ptr<Model> load_deepseek2(std::unique_ptr<gguf::File> file, Placement placement) {
    return std::make_unique<Deepseek2Model>(std::move(file), std::move(placement));
}

}  // namespace r1
