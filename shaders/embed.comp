// y (n_ids, n_in) = rows ids of the table (n_rows, n_in) of the type chosen by -D TYPE_*,
// dequantized (dequant.glsl) — embed in backends/cpu/ops/ops.h. One invocation per 32-element
// chunk of an output row; grid x·y over chunks, z over ids. Spec constant 0 = workgroup size.
#version 450
#extension GL_EXT_shader_16bit_storage : require
#extension GL_GOOGLE_include_directive : require

layout(local_size_x_id = 0) in;

layout(std430, binding = 0) readonly buffer Wq { uint16_t wq[]; };
layout(std430, binding = 1) readonly buffer Ids { int ids[]; };
layout(std430, binding = 2) writeonly buffer Y { float y[]; };

layout(push_constant) uniform Params {
    uint w_off, row_words;  // u16 words
    uint ids_off;
    uint y_off, y_stride;   // floats
    uint n_in;
} p;

#include "dequant.glsl"

void main() {
    const uint c = gl_GlobalInvocationID.x;
    const uint i = gl_WorkGroupID.z;
    if (c >= p.n_in / 32u) return;
    float v[32];
    deq32(p.w_off + uint(ids[p.ids_off + i]) * p.row_words, c, v);
    const uint yb = p.y_off + i * p.y_stride + c * 32u;
    for (uint l = 0u; l < 32u; ++l) y[yb + l] = v[l];
}
