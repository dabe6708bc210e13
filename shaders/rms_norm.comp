// y (n_rows, n) = x / sqrt(mean(x²) + eps) · w, per row (rms_norm_ref); y may alias x.
// One workgroup per row (grid x); float32 sum of squares reduced in shared memory.
// Spec constant 0 = workgroup size (a power of two).
#version 450

layout(local_size_x_id = 0) in;

layout(std430, binding = 0) buffer X { float x[]; };
layout(std430, binding = 1) readonly buffer W { float w[]; };
layout(std430, binding = 2) buffer Y { float y[]; };

layout(push_constant) uniform Params {
    uint x_off, x_stride;  // floats; stride between rows
    uint w_off;
    uint y_off, y_stride;
    uint n;
    float eps;
} p;

shared float red[gl_WorkGroupSize.x];

void main() {
    const uint r = gl_WorkGroupID.x;
    const uint tid = gl_LocalInvocationID.x;
    const uint ls = gl_WorkGroupSize.x;
    const uint xb = p.x_off + r * p.x_stride;
    float ss = 0.0;
    for (uint i = tid; i < p.n; i += ls) ss += x[xb + i] * x[xb + i];
    red[tid] = ss;
    barrier();
    for (uint h = ls / 2u; h > 0u; h >>= 1) {
        if (tid < h) red[tid] += red[tid + h];
        barrier();
    }
    const float scale = inversesqrt(red[0] / float(p.n) + p.eps);
    const uint yb = p.y_off + r * p.y_stride;
    for (uint i = tid; i < p.n; i += ls) y[yb + i] = (x[xb + i] * scale) * w[p.w_off + i];
}
