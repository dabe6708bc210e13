// Rotates the first n_rot dims of each head of x (n_tokens, n_head, head_dim) in place, token t
// at position pos0 + t (rope_ref). cos/sin come from a table cs (positions, n_rot/2, 2) the
// backend computes on the host exactly as the CPU does, so any frequency scheme (factors,
// YaRN) is a different table, not a different shader. mode 0 = norm (pairs 2i, 2i+1),
// 1 = neox (pairs i, i + n_rot/2). One invocation per (token, head, pair), grid x·y.
#version 450

layout(local_size_x_id = 0) in;

layout(std430, binding = 0) buffer X { float x[]; };
layout(std430, binding = 1) readonly buffer Cs { vec2 cs[]; };

layout(push_constant) uniform Params {
    uint x_off, tok_stride, head_stride;  // floats
    uint n_tokens, n_head, n_rot, mode;
    uint pos0;    // position of token 0
    uint cs_off;  // vec2 index of the table's position 0
} p;

void main() {
    const uint half_rot = p.n_rot / 2u;
    const uint g = gl_GlobalInvocationID.x + gl_GlobalInvocationID.y * gl_NumWorkGroups.x * gl_WorkGroupSize.x;
    if (g >= p.n_tokens * p.n_head * half_rot) return;
    const uint i = g % half_rot;
    const uint h = (g / half_rot) % p.n_head;
    const uint t = g / (half_rot * p.n_head);
    const uint b = p.x_off + t * p.tok_stride + h * p.head_stride;
    const uint i0 = p.mode == 1u ? i : 2u * i;
    const uint i1 = p.mode == 1u ? i + half_rot : 2u * i + 1u;
    const vec2 c = cs[p.cs_off + (p.pos0 + t) * half_rot + i];
    const float x0 = x[b + i0], x1 = x[b + i1];
    x[b + i0] = x0 * c.x - x1 * c.y;
    x[b + i1] = x0 * c.y + x1 * c.x;
}
