// ids[r] = index of the largest element of row r of x {n, ...}, the first one on ties
// (argmax_ref). Rows may be strided (shape ne1, ne2). One workgroup per row (grid x·y);
// (value, index) pairs reduced in shared memory.
#version 450
#extension GL_GOOGLE_include_directive : require

layout(local_size_x_id = 0) in;

layout(std430, binding = 0) readonly buffer X { float x[]; };
layout(std430, binding = 1) writeonly buffer Out { int out_ids[]; };

layout(push_constant) uniform Params {
    uint x_off, x_s1, x_s2, x_s3;
    uint ne1, ne2, n_rows, n;
    uint out_off;
} p;

#include "common.glsl"

shared float rv[gl_WorkGroupSize.x];
shared uint ri[gl_WorkGroupSize.x];

void main() {
    const uint r = gl_WorkGroupID.x + gl_WorkGroupID.y * gl_NumWorkGroups.x;
    if (r >= p.n_rows) return;  // uniform across the workgroup
    const uint tid = gl_LocalInvocationID.x, ls = gl_WorkGroupSize.x;
    const uint b = p.x_off + row_at(r, p.ne1, p.ne2, p.x_s1, p.x_s2, p.x_s3);
    float best = -1.0 / 0.0;
    uint bi = 0xFFFFFFFFu;
    for (uint i = tid; i < p.n; i += ls)
        if (bi == 0xFFFFFFFFu || x[b + i] > best) { best = x[b + i]; bi = i; }
    rv[tid] = best;
    ri[tid] = bi;
    barrier();
    for (uint h = ls / 2u; h > 0u; h >>= 1) {
        if (tid < h) {
            const float ov = rv[tid + h];
            const uint oi = ri[tid + h];
            if (oi != 0xFFFFFFFFu && (ri[tid] == 0xFFFFFFFFu || ov > rv[tid] || (ov == rv[tid] && oi < ri[tid]))) {
                rv[tid] = ov;
                ri[tid] = oi;
            }
        }
        barrier();
    }
    if (tid == 0u) out_ids[p.out_off + r] = int(ri[0]);
}
