// Causal attention over a KV cache (attention_ref without the cache store, which is copy.comp):
// for token t (position pos0 + t) and head h (KV head h / (n_head / n_head_kv)):
// out = softmax(q·Kᵀ · scale over positions 0..pos0+t) · V. K rows are dk wide, V rows dv
// (they differ for MLA); cache rows are f16 with -D KV_F16, float32 otherwise. One workgroup per
// (head, token) = grid (x, y); scores go to a scratch buffer (n_tokens, n_head, n_ctx).
#version 450
#extension GL_EXT_shader_16bit_storage : require

layout(local_size_x_id = 0) in;

layout(std430, binding = 0) readonly buffer Q { float q[]; };
#if defined(KV_F16)
layout(std430, binding = 1) readonly buffer K { uint16_t kc[]; };
layout(std430, binding = 2) readonly buffer V { uint16_t vc[]; };
float kload(uint i) { return unpackHalf2x16(uint(kc[i])).x; }
float vload(uint i) { return unpackHalf2x16(uint(vc[i])).x; }
#else
layout(std430, binding = 1) readonly buffer K { float kc[]; };
layout(std430, binding = 2) readonly buffer V { float vc[]; };
float kload(uint i) { return kc[i]; }
float vload(uint i) { return vc[i]; }
#endif
layout(std430, binding = 3) writeonly buffer O { float o[]; };
layout(std430, binding = 4) coherent buffer S { float sc[]; };

layout(push_constant) uniform Params {
    uint q_off, q_tok_stride, q_head_stride;   // floats
    uint k_off, k_pos_stride, k_head_stride;   // cache elements
    uint v_off, v_pos_stride, v_head_stride;
    uint o_off, o_tok_stride, o_head_stride;
    uint s_off, n_ctx;
    uint dk, dv, n_head, n_head_kv, pos0;
    float scale;
} p;

const uint kMaxDk = 1024u;
shared float qs[kMaxDk];
shared float red[gl_WorkGroupSize.x];

void main() {
    const uint h = gl_WorkGroupID.x, t = gl_WorkGroupID.y;
    const uint tid = gl_LocalInvocationID.x, ls = gl_WorkGroupSize.x;
    const uint g = h / (p.n_head / p.n_head_kv);
    const uint n_pos = p.pos0 + t + 1u;
    const uint qb = p.q_off + t * p.q_tok_stride + h * p.q_head_stride;
    for (uint d = tid; d < p.dk; d += ls) qs[d] = q[qb + d];
    barrier();
    const uint sb = p.s_off + (t * p.n_head + h) * p.n_ctx;
    float m = -1.0 / 0.0;
    for (uint j = tid; j < n_pos; j += ls) {
        const uint kb = p.k_off + j * p.k_pos_stride + g * p.k_head_stride;
        float s = 0.0;
        for (uint d = 0u; d < p.dk; ++d) s += qs[d] * kload(kb + d);
        s *= p.scale;
        sc[sb + j] = s;
        m = max(m, s);
    }
    red[tid] = m;
    barrier();
    for (uint k = ls / 2u; k > 0u; k >>= 1) {
        if (tid < k) red[tid] = max(red[tid], red[tid + k]);
        barrier();
    }
    m = red[0];
    barrier();
    float sum = 0.0;
    for (uint j = tid; j < n_pos; j += ls) {
        const float e = exp(sc[sb + j] - m);
        sc[sb + j] = e;
        sum += e;
    }
    red[tid] = sum;
    memoryBarrierBuffer();
    barrier();
    for (uint k = ls / 2u; k > 0u; k >>= 1) {
        if (tid < k) red[tid] += red[tid + k];
        barrier();
    }
    const float inv = 1.0 / red[0];
    const uint ob = p.o_off + t * p.o_tok_stride + h * p.o_head_stride;
    for (uint d = tid; d < p.dv; d += ls) {
        float acc = 0.0;
        for (uint j = 0u; j < n_pos; ++j)
            acc += sc[sb + j] * vload(p.v_off + j * p.v_pos_stride + g * p.v_head_stride + d);
        o[ob + d] = acc * inv;
    }
}
