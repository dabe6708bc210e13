// y (n_tokens, n_out) = x (n_tokens, n_in) · Wᵀ for W (n_out, n_in) of the type chosen by
// -D TYPE_* (dequant.glsl), read as stored in the GGUF file; float32 accumulation. Matches
// matmul_ref (backends/cpu/ops/ops.h) to summation order. One workgroup per output row
// (rows over x and y of the grid) and NT tokens (grid z); each invocation takes 32-element
// chunks of the row, dequantizes them once and applies them to the NT tokens.
// Spec constants: 0 = workgroup size (a power of two), 1 = NT (tokens per workgroup, <= 8).
#version 450
#extension GL_EXT_shader_16bit_storage : require
#extension GL_GOOGLE_include_directive : require

layout(local_size_x_id = 0) in;
layout(constant_id = 1) const uint NT = 4;

layout(std430, binding = 0) readonly buffer Wq { uint16_t wq[]; };
layout(std430, binding = 1) readonly buffer X { float x[]; };
layout(std430, binding = 2) writeonly buffer Y { float y[]; };

layout(push_constant) uniform Params {
    uint w_off;     // u16 words
    uint row_words; // u16 words per weight row
    uint x_off, x_stride;  // floats; stride between tokens
    uint y_off, y_stride;
    uint n_in, n_out, n_tokens;
} p;

#include "dequant.glsl"

shared float red[8 * gl_WorkGroupSize.x];

void main() {
    const uint r = gl_WorkGroupID.x + gl_WorkGroupID.y * gl_NumWorkGroups.x;
    const uint t0 = gl_WorkGroupID.z * NT;
    const uint tid = gl_LocalInvocationID.x;
    const uint ls = gl_WorkGroupSize.x;
    if (r >= p.n_out) return;  // uniform across the workgroup
    const uint nt = min(NT, p.n_tokens - t0);
    float acc[8] = float[8](0, 0, 0, 0, 0, 0, 0, 0);
    const uint row = p.w_off + r * p.row_words;
    float v[32];
    for (uint c = tid; c < p.n_in / 32u; c += ls) {
        deq32(row, c, v);
        for (uint t = 0u; t < nt; ++t) {
            const uint xb = p.x_off + (t0 + t) * p.x_stride + c * 32u;
            float s = 0.0;
            for (uint l = 0u; l < 32u; ++l) s += v[l] * x[xb + l];
            acc[t] += s;
        }
    }
    for (uint t = 0u; t < nt; ++t) red[t * ls + tid] = acc[t];
    barrier();
    for (uint h = ls / 2u; h > 0u; h >>= 1) {
        if (tid < h)
            for (uint t = 0u; t < nt; ++t) red[t * ls + tid] += red[t * ls + tid + h];
        barrier();
    }
    if (tid < nt) y[p.y_off + (t0 + tid) * p.y_stride + r] = red[tid * ls];
}
