// Blocks shared by the model families, written against the Backend seam: attention over a
// KV cache (store the batch's K/V rows, attend causally), the SwiGLU feed-forward and the
// routed-expert MoE. Each is a few enqueued ops; nothing here reads a tensor on the host.
#pragma once

#include <cstdint>

#include "backends/backend.h"
#include "runtime/model/kv_cache.h"

namespace r1 {

// The inputs of one batch shared by every layer of a backend: token positions and the RoPE table.
struct BatchInputs {
    Tensor positions;  // I32 {n_tokens}: pos0, pos0 + 1, ...
    Tensor rope;       // F32 {2, n_rot/2, n_ctx} (backend.h rope_table)
    int32_t pos0 = 0;  // the batch's first position (its positions are contiguous)
};

// Stores k {k_dim, n_head_kv, B} (and v {v_dim, n_head_kv, B}, unless the cache keeps V in K)
// at positions pos0 .. pos0+B-1 of the layer's cache, then out {v_dim, n_head, B} = causal
// attention of q {k_dim, n_head, B} over positions 0 .. pos0+B-1.
void attention_with_cache(Backend& be, const KvLayer& cache, const BatchInputs& in, const Tensor& q,
                          const Tensor& k, const Tensor* v, float scale, const Tensor& out);

// y {n_embd, B} = W_down(silu(W_gate x) ⊙ W_up x); gate and up {n_ff, B} are scratch.
struct SwigluFfn {
    Tensor gate;  // W {n_embd, n_ff}
    Tensor up;    // W {n_embd, n_ff}
    Tensor down;  // W {n_ff, n_embd}
};
void swiglu_ffn(Backend& be, const SwigluFfn& w, const Tensor& x, const Tensor& gate, const Tensor& up,
                const Tensor& y);

// Routed experts (GGUF.md §5.2): route each token of x {n_embd, B}, run its n_used SwiGLU
// experts, y {n_embd, B} = Σ_k weight_k · expert_k(x). Shared experts are the caller's.
struct MoeFfn {
    Tensor gate_inp;   // W {n_embd, n_expert}
    Tensor bias;       // {n_expert} selection-only bias (exp_probs_b), or empty
    Tensor gate_exps;  // stack {n_embd, n_ff_exp, n_expert}
    Tensor up_exps;    // stack {n_embd, n_ff_exp, n_expert}
    Tensor down_exps;  // stack {n_ff_exp, n_embd, n_expert}
};
struct MoeRouting {
    Gating gating = Gating::Softmax;
    int32_t n_used = 1, n_group = 1, n_group_used = 1;
    bool norm = false;
    float scale = 1.0f;
};
struct MoeArgs {
    Tensor x;        // {n_embd, B}
    Tensor logits;   // scratch {n_expert, B}
    Tensor ids;      // scratch I32 {n_used, B}
    Tensor weights;  // scratch {n_used, B}
    Tensor gate;     // scratch {n_ff_exp, n_used, B}
    Tensor up;       // scratch {n_ff_exp, n_used, B}
    Tensor out;      // scratch {n_embd, n_used, B}
    Tensor y;        // {n_embd, B}, not x
};
void moe_ffn(Backend& be, const MoeFfn& w, const MoeRouting& r, const MoeArgs& a);

}  // namespace r1
