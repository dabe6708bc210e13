// y row i = row ids[i] of the table {n_in, n_rows} of the type chosen by -D TYPE_*, dequantized
// (dequant.glsl): Backend::get_rows (get_rows_ref). y's rows may be strided (shape ne1, ne2).
// One invocation per 32-element chunk of an output row; grid x over chunks, z over ids
// (id_base + z, so long id lists go in several dispatches). Spec constant 0 = workgroup size.
#version 450
#extension GL_EXT_shader_16bit_storage : require
#extension GL_GOOGLE_include_directive : require

layout(local_size_x_id = 0) in;

layout(std430, binding = 0) readonly buffer Wq { uint16_t wq[]; };
layout(std430, binding = 1) readonly buffer Ids { int ids[]; };
layout(std430, binding = 2) writeonly buffer Y { float y[]; };

layout(push_constant) uniform Params {
    uint w_off, row_words;  // u16 words
    uint ids_off, id_base;
    uint y_off, y_s1, y_s2, y_s3, y_ne1, y_ne2;  // floats
    uint n_in;
} p;

#include "common.glsl"
#include "dequant.glsl"

void main() {
    const uint c = gl_GlobalInvocationID.x;
    const uint i = p.id_base + gl_WorkGroupID.z;
    if (32u * c >= p.n_in) return;
    float v[32];
    deq32(p.w_off + uint(ids[p.ids_off + i]) * p.row_words, c, p.n_in, v);
    const uint yb = p.y_off + row_at(i, p.y_ne1, p.y_ne2, p.y_s1, p.y_s2, p.y_s3) + 32u * c;
    const uint lim = min(32u, p.n_in - 32u * c);
    for (uint l = 0u; l < lim; ++l) y[yb + l] = v[l];
}
