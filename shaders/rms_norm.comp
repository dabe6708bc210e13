// y = x / sqrt(mean(x²) + eps) ⊙ w for every row of x {n, ...} (rms_norm_ref); rows of x and y
// may be strided (shape ne1, ne2), y may alias x. One workgroup per row (grid x·y); the sum of
// squares in float32, reduced in shared memory. Spec constant 0 = workgroup size (power of two).
#version 450
#extension GL_GOOGLE_include_directive : require

layout(local_size_x_id = 0) in;

layout(std430, binding = 0) buffer X { float x[]; };
layout(std430, binding = 1) readonly buffer W { float w[]; };
layout(std430, binding = 2) buffer Y { float y[]; };

layout(push_constant) uniform Params {
    uint x_off, x_s1, x_s2, x_s3;  // floats
    uint y_off, y_s1, y_s2, y_s3;
    uint ne1, ne2, n_rows, n;
    uint w_off;
    float eps;
} p;

#include "common.glsl"

shared float red[gl_WorkGroupSize.x];

void main() {
    const uint r = gl_WorkGroupID.x + gl_WorkGroupID.y * gl_NumWorkGroups.x;
    if (r >= p.n_rows) return;  // uniform across the workgroup
    const uint tid = gl_LocalInvocationID.x, ls = gl_WorkGroupSize.x;
    const uint xb = p.x_off + row_at(r, p.ne1, p.ne2, p.x_s1, p.x_s2, p.x_s3);
    const uint yb = p.y_off + row_at(r, p.ne1, p.ne2, p.y_s1, p.y_s2, p.y_s3);
    float ss = 0.0;
    for (uint i = tid; i < p.n; i += ls) ss += x[xb + i] * x[xb + i];
    red[tid] = ss;
    barrier();
    for (uint h = ls / 2u; h > 0u; h >>= 1) {
        if (tid < h) red[tid] += red[tid + h];
        barrier();
    }
    const float scale = 1.0 / sqrt(red[0] / float(p.n) + p.eps);
    for (uint i = tid; i < p.n; i += ls) y[yb + i] = (x[xb + i] * scale) * w[p.w_off + i];
}
