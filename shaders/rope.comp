// Rotates x {n_rot, n_head, n_tokens} in place (a view: the rotated slice of each head), token
// t by the angles of position pos[t] from the table cs {2, n_rot/2, n_pos} (backend.h
// rope_table, computed on the host exactly as the CPU's, so any frequency scheme — factors,
// YaRN — is a different table, not a different shader): rope_ref. mode 0 = norm (pairs 2i,
// 2i+1), 1 = neox (pairs i, i + n_rot/2). One invocation per (token, head, pair), grid x·y.
#version 450
#extension GL_GOOGLE_include_directive : require

layout(local_size_x_id = 0) in;

layout(std430, binding = 0) buffer X { float x[]; };
layout(std430, binding = 1) readonly buffer Cs { float cs[]; };
layout(std430, binding = 2) readonly buffer Pos { int pos[]; };

layout(push_constant) uniform Params {
    uint x_off, head_stride, tok_stride;  // floats
    uint n_tokens, n_head, n_rot, mode;
    uint cs_off, pos_off;
} p;

#include "common.glsl"

void main() {
    const uint half_rot = p.n_rot / 2u;
    const uint g = flat_id();
    if (g >= p.n_tokens * p.n_head * half_rot) return;
    const uint i = g % half_rot;
    const uint h = (g / half_rot) % p.n_head;
    const uint t = g / (half_rot * p.n_head);
    const uint b = p.x_off + t * p.tok_stride + h * p.head_stride;
    const uint i0 = p.mode == 1u ? i : 2u * i;
    const uint i1 = p.mode == 1u ? i + half_rot : 2u * i + 1u;
    const uint c = p.cs_off + 2u * (uint(pos[p.pos_off + t]) * half_rot + i);
    const float co = cs[c], si = cs[c + 1u];
    const float x0 = x[b + i0], x1 = x[b + i1];
    precise float a0 = x0 * co, b0 = x1 * si, a1 = x0 * si, b1 = x1 * co;
    precise float r0 = a0 - b0, r1 = a1 + b1;
    x[b + i0] = r0;
    x[b + i1] = r1;
}
