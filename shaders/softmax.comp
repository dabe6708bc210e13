// Each row of y = softmax(row of x) (softmax_ref): max, then the sum of e^(x − max) reduced in
// shared memory, then the quotient. Rows may be strided (shape ne1, ne2); y may alias x (each
// element is read and written by one invocation). One workgroup per row (grid x·y).
#version 450
#extension GL_GOOGLE_include_directive : require

layout(local_size_x_id = 0) in;

layout(std430, binding = 0) readonly buffer X { float x[]; };
layout(std430, binding = 1) buffer Y { float y[]; };

layout(push_constant) uniform Params {
    uint x_off, x_s1, x_s2, x_s3;
    uint y_off, y_s1, y_s2, y_s3;
    uint ne1, ne2, n_rows, n;
} p;

#include "common.glsl"

shared float red[gl_WorkGroupSize.x];

void main() {
    const uint r = gl_WorkGroupID.x + gl_WorkGroupID.y * gl_NumWorkGroups.x;
    if (r >= p.n_rows) return;  // uniform across the workgroup
    const uint tid = gl_LocalInvocationID.x, ls = gl_WorkGroupSize.x;
    const uint xb = p.x_off + row_at(r, p.ne1, p.ne2, p.x_s1, p.x_s2, p.x_s3);
    const uint yb = p.y_off + row_at(r, p.ne1, p.ne2, p.y_s1, p.y_s2, p.y_s3);
    float m = -1.0 / 0.0;
    for (uint i = tid; i < p.n; i += ls) m = max(m, x[xb + i]);
    red[tid] = m;
    barrier();
    for (uint h = ls / 2u; h > 0u; h >>= 1) {
        if (tid < h) red[tid] = max(red[tid], red[tid + h]);
        barrier();
    }
    m = red[0];
    barrier();
    float s = 0.0;
    for (uint i = tid; i < p.n; i += ls) {
        const float e = exp(x[xb + i] - m);
        y[yb + i] = e;
        s += e;
    }
    red[tid] = s;
    barrier();
    for (uint h = ls / 2u; h > 0u; h >>= 1) {
        if (tid < h) red[tid] += red[tid + h];
        barrier();
    }
    const float inv = 1.0 / red[0];
    for (uint i = tid; i < p.n; i += ls) y[yb + i] *= inv;
}
