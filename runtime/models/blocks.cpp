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

}  // namespace r1
