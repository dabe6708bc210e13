// y[:, row] = W_m · x[:, row] for every row (i1, i2, i3) of y {n_out, ...}: Backend::matmul
// and matmul_id (backends/cpu/ops/ops.h matmul_ref, matmul_id_ref). W {n_in, n_out, n_mat} of
// the type chosen by -D TYPE_* (dequant.glsl), read as stored in the GGUF file; float32
// accumulation. The matrix m of a row: mode 0: 0; mode 1 (stack): i1; mode 2 (experts):
// ids[i1, i2]. x rows use y's indices with x's strides (stride 0: one x row shared), except in
// mode 0, where x has its own shape (ne1, ne2) with as many rows.
// A workgroup takes NT rows of y sharing one matrix (grid z = outer · n_groups + group; rows
// o + outer_mul · (NT·group + t)) and, by spec constant MAP:
//  0 (GPUs): one output element r_out (grid x·y); its invocations take 32-element chunks of
//    the weight row (coalesced reads), dequantize each once for the NT rows, and reduce;
//  1 (CPU devices such as lavapipe): one output element per invocation (grid x·y over groups
//    of them), each walking its whole weight row while every invocation reads the same x
//    values: no reduction, no barrier but one, an order of magnitude fewer workgroups.
// Spec constants: 0 = workgroup size (a power of two; MAP 0: sized to the row's chunks, at
// least a subgroup), 1 = NT (rows per workgroup, <= 8), 2 = MAP.
#version 450
#extension GL_EXT_shader_16bit_storage : require
#extension GL_GOOGLE_include_directive : require

layout(local_size_x_id = 0) in;
layout(constant_id = 1) const uint NT = 8;
layout(constant_id = 2) const uint MAP = 0;

layout(std430, binding = 0) readonly buffer Wq { uint16_t wq[]; };
layout(std430, binding = 1) readonly buffer X { float x[]; };
layout(std430, binding = 2) writeonly buffer Y { float y[]; };
layout(std430, binding = 3) readonly buffer Ids { int ids[]; };

layout(push_constant) uniform Params {
    uint w_off, row_words, mat_words;  // u16 words
    uint x_off, x_s1, x_s2, x_s3, x_ne1, x_ne2;  // floats
    uint y_off, y_s1, y_s2, y_s3, y_ne1, y_ne2;
    uint n_in, n_out;
    uint mode, ids_off, ids_s1;  // ids I32 {n_used, n_tokens}: (i1, i2) at ids_off + i1 + i2·ids_s1
    uint n_inner, outer_mul, n_groups;
    uint z_base;  // grids of more than 65535 groups go in several dispatches
} p;

#include "common.glsl"
#include "dequant.glsl"

shared float red[8 * gl_WorkGroupSize.x];
shared uint xb[8], yb[8];  // the NT rows' x and y offsets, computed once per workgroup
shared uint w_mat;          // the matrix's first word

// Σ_l v[l] · x[b + l] over the first lim (<= 32) elements of a chunk.
float dot_chunk(const float v[32], uint b, uint lim) {
    float s = 0.0;
    if (lim == 32u) {
        for (uint l = 0u; l < 32u; ++l) s += v[l] * x[b + l];
    } else {
        for (uint l = 0u; l < lim; ++l) s += v[l] * x[b + l];
    }
    return s;
}

void main() {
    const uint tid = gl_LocalInvocationID.x, ls = gl_WorkGroupSize.x;
    const uint g = gl_WorkGroupID.x + gl_WorkGroupID.y * gl_NumWorkGroups.x;
    if ((MAP == 0u ? g : g * ls) >= p.n_out) return;  // uniform across the workgroup
    const uint z = gl_WorkGroupID.z + p.z_base;
    const uint o = z / p.n_groups, j0 = (z % p.n_groups) * NT;
    const uint nt = min(NT, p.n_inner - j0);
    if (tid < nt) {
        const uint r = o + p.outer_mul * (j0 + tid);
        xb[tid] = p.x_off + row_at(r, p.x_ne1, p.x_ne2, p.x_s1, p.x_s2, p.x_s3);
        yb[tid] = p.y_off + row_at(r, p.y_ne1, p.y_ne2, p.y_s1, p.y_s2, p.y_s3);
    }
    if (tid == 0u) {
        uint m = 0u;
        if (p.mode == 1u) {
            m = o;
        } else if (p.mode == 2u) {  // NT == 1
            const uint r = o + p.outer_mul * j0, q = r / p.y_ne1;
            m = uint(ids[p.ids_off + (r - q * p.y_ne1) + (q % p.y_ne2) * p.ids_s1]);
        }
        w_mat = p.w_off + m * p.mat_words;
    }
    barrier();

    float acc[8] = float[8](0, 0, 0, 0, 0, 0, 0, 0);
    float v[32];
    const uint n_chunks = (p.n_in + 31u) / 32u;
    if (MAP == 1u) {
        const uint r_out = g * ls + tid;
        if (r_out >= p.n_out) return;  // no barrier follows
        const uint row = w_mat + r_out * p.row_words;
        for (uint c = 0u; c < n_chunks; ++c) {
            deq32(row, c, p.n_in, v);
            const uint lim = min(32u, p.n_in - 32u * c);
            for (uint t = 0u; t < nt; ++t) acc[t] += dot_chunk(v, xb[t] + 32u * c, lim);
        }
        for (uint t = 0u; t < nt; ++t) y[yb[t] + r_out] = acc[t];
        return;
    }

    const uint row = w_mat + g * p.row_words;
    for (uint c = tid; c < n_chunks; c += ls) {
        deq32(row, c, p.n_in, v);
        const uint lim = min(32u, p.n_in - 32u * c);
        for (uint t = 0u; t < nt; ++t) acc[t] += dot_chunk(v, xb[t] + 32u * c, lim);
    }
    for (uint t = 0u; t < nt; ++t) red[t * ls + tid] = acc[t];
    barrier();
    for (uint h = ls / 2u; h > 0u; h >>= 1) {
        if (tid < h)
            for (uint t = 0u; t < nt; ++t) red[t * ls + tid] += red[t * ls + tid + h];
        barrier();
    }
    if (tid < nt) y[yb[tid] + g] = red[tid * ls];
}
