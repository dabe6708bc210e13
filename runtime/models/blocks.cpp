// The shared blocks of blocks.h.
#include "runtime/models/blocks.h"

namespace r1 {

void attention_with_cache(Backend& be, const KvLayer& cache, const BatchInputs& in, const Tensor& q,
                          const Tensor& k, const Tensor* v, float scale, const Tensor& out) {
    const int64_t B = q.ne[2], n_kv = in.pos0 + B;
    be.copy(k, cache.k.slice(2, in.pos0, B));
    if (v) be.copy(*v, cache.v.slice(2, in.pos0, B));
    be.attention({.q = q, .k = cache.k.slice(2, 0, n_kv), .v = cache.v.slice(2, 0, n_kv), .out = out,
                  .positions = in.positions, .scale = scale});
}

void swiglu_ffn(Backend& be, const SwigluFfn& w, const Tensor& x, const Tensor& gate, const Tensor& up,
                const Tensor& y) {
    be.matmul(w.gate, x, gate);
    be.matmul(w.up, x, up);
    be.swiglu(gate, up, gate);
    be.matmul(w.down, gate, y);
}

void moe_ffn(Backend& be, const MoeFfn& w, const MoeRouting& r, const MoeArgs& a) {
    const int64_t n_embd = a.x.ne[0], B = a.x.ne[1];
    be.matmul(w.gate_inp, a.x, a.logits);
    be.moe_route({.logits = a.logits, .bias = w.bias, .ids = a.ids, .weights = a.weights, .gating = r.gating,
                  .n_group = r.n_group, .n_group_used = r.n_group_used, .norm = r.norm, .scale = r.scale});
    const Tensor x1 = a.x.reshape({n_embd, 1, B});  // every expert of a token reads the same row
    be.matmul_id(w.gate_exps, x1, a.ids, a.gate);
    be.matmul_id(w.up_exps, x1, a.ids, a.up);
    be.swiglu(a.gate, a.up, a.gate);
    be.matmul_id(w.down_exps, a.gate, a.ids, a.out);
    be.mul(a.out, a.weights.reshape({1, r.n_used, B}), a.out);
    const Tensor y1 = a.y.reshape({n_embd, 1, B});
    be.copy(a.out.slice(1, 0, 1), y1);
    for (int32_t k = 1; k < r.n_used; ++k) be.add(y1, a.out.slice(1, k, 1), y1);
}

}  // namespace r1
