// Causal attention over a KV cache (attention_ref): for token t at position pos[t] and head h
// (KV head h / (n_head / n_head_kv)): out = softmax(scale · q·Kᵀ over cells c0..c0+pos[t]) · V,
// c0 = 0, or cell0[seq[t]] when the batch mixes sequences (has_seq).
// K rows are dk wide, V rows dv (they differ for MLA, where V may be a view into K's rows);
// the cache is f16 with -D KV_F16, float32 otherwise. One workgroup per (head, token) = grid
// (x, y). Keys go in blocks of the workgroup size, one per invocation; the softmax is online
// (running max and sum, earlier partial sums rescaled when the max grows), and invocation i
// accumulates output dims i, i + ls, ... — so no score buffer and no length limit.
// Spec constant 0 = workgroup size (a power of two); dk <= 1024, dv <= 16 · workgroup size.
#version 450
#extension GL_EXT_shader_16bit_storage : require
#extension GL_GOOGLE_include_directive : require

layout(local_size_x_id = 0) in;

layout(std430, binding = 0) readonly buffer Q { float q[]; };
#if defined(KV_F16)
layout(std430, binding = 1) readonly buffer K { uint16_t kc[]; };
layout(std430, binding = 2) readonly buffer V { uint16_t vc[]; };
#else
layout(std430, binding = 1) readonly buffer K { float kc[]; };
layout(std430, binding = 2) readonly buffer V { float vc[]; };
#endif
layout(std430, binding = 3) writeonly buffer O { float o[]; };
layout(std430, binding = 4) readonly buffer Pos { int pos[]; };
layout(std430, binding = 5) readonly buffer Seq { int seq[]; };      // unused without has_seq
layout(std430, binding = 6) readonly buffer Cell0 { int cell0[]; };

layout(push_constant) uniform Params {
    uint q_off, q_head_stride, q_tok_stride;  // floats
    uint k_off, k_head_stride, k_pos_stride;  // cache elements
    uint v_off, v_head_stride, v_pos_stride;
    uint o_off, o_head_stride, o_tok_stride;
    uint pos_off, dk, dv, n_head, n_head_kv;
    float scale;
    uint has_seq, seq_off, cell0_off;
} p;

#include "common.glsl"

#if defined(KV_F16)
float kload(uint i) { return f16(uint(kc[i])); }
float vload(uint i) { return f16(uint(vc[i])); }
#else
float kload(uint i) { return kc[i]; }
float vload(uint i) { return vc[i]; }
#endif

const uint kMaxDk = 1024u, kMaxAcc = 16u;
shared float qs[kMaxDk];
shared float pr[gl_WorkGroupSize.x];   // this block's e^(s − max)
shared float red[gl_WorkGroupSize.x];

float reduce_max(float v, uint tid, uint ls) {
    red[tid] = v;
    barrier();
    for (uint k = ls / 2u; k > 0u; k >>= 1) {
        if (tid < k) red[tid] = max(red[tid], red[tid + k]);
        barrier();
    }
    const float r = red[0];
    barrier();
    return r;
}
float reduce_sum(float v, uint tid, uint ls) {
    red[tid] = v;
    barrier();
    for (uint k = ls / 2u; k > 0u; k >>= 1) {
        if (tid < k) red[tid] += red[tid + k];
        barrier();
    }
    const float r = red[0];
    barrier();
    return r;
}

void main() {
    const uint h = gl_WorkGroupID.x, t = gl_WorkGroupID.y;
    const uint tid = gl_LocalInvocationID.x, ls = gl_WorkGroupSize.x;
    const uint g = h / (p.n_head / p.n_head_kv);
    const uint n_pos = uint(pos[p.pos_off + t]) + 1u;
    const uint qb = p.q_off + t * p.q_tok_stride + h * p.q_head_stride;
    for (uint d = tid; d < p.dk; d += ls) qs[d] = q[qb + d];
    barrier();
    const uint c0 = p.has_seq != 0u ? uint(cell0[p.cell0_off + uint(seq[p.seq_off + t])]) : 0u;
    const uint kb = p.k_off + g * p.k_head_stride + c0 * p.k_pos_stride;
    const uint vb = p.v_off + g * p.v_head_stride + c0 * p.v_pos_stride;

    float acc[kMaxAcc];
    for (uint i = 0u; i < kMaxAcc; ++i) acc[i] = 0.0;
    float m = 0.0, l = 0.0;  // running max (valid after the first block) and sum
    for (uint j0 = 0u; j0 < n_pos; j0 += ls) {
        const uint j = j0 + tid;
        float s = -1.0 / 0.0;
        if (j < n_pos) {
            const uint kr = kb + j * p.k_pos_stride;
            s = 0.0;
            for (uint d = 0u; d < p.dk; ++d) s += qs[d] * kload(kr + d);
            s *= p.scale;
        }
        const float bm = reduce_max(s, tid, ls);
        const float m_new = j0 == 0u ? bm : max(m, bm);
        const float e = j < n_pos ? exp(s - m_new) : 0.0;
        pr[tid] = e;
        const float alpha = j0 == 0u ? 0.0 : exp(m - m_new);
        l = l * alpha + reduce_sum(e, tid, ls);  // its barriers also publish pr
        m = m_new;
        const uint nj = min(ls, n_pos - j0);
        for (uint i = 0u; i < kMaxAcc; ++i) {
            const uint d = tid + i * ls;
            if (d >= p.dv) break;
            float a = acc[i] * alpha;
            for (uint jj = 0u; jj < nj; ++jj) a += pr[jj] * vload(vb + (j0 + jj) * p.v_pos_stride + d);
            acc[i] = a;
        }
        barrier();  // pr is rewritten by the next block
    }
    const float inv = 1.0 / l;
    const uint ob = p.o_off + t * p.o_tok_stride + h * p.o_head_stride;
    for (uint i = 0u; i < kMaxAcc; ++i) {
        const uint d = tid + i * ls;
        if (d >= p.dv) break;
        o[ob + d] = acc[i] * inv;
    }
}
