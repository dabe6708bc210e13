// Each row of x (n_rows, n) replaced by its softmax (softmax in ops.h): max, then the sum of
// e^(x - max) reduced in shared memory, then the quotient. One workgroup per row (grid x).
#version 450

layout(local_size_x_id = 0) in;

layout(std430, binding = 0) buffer X { float x[]; };

layout(push_constant) uniform Params { uint x_off, stride, n; } p;

shared float red[gl_WorkGroupSize.x];

void main() {
    const uint tid = gl_LocalInvocationID.x;
    const uint ls = gl_WorkGroupSize.x;
    const uint b = p.x_off + gl_WorkGroupID.x * p.stride;
    float m = -1.0 / 0.0;
    for (uint i = tid; i < p.n; i += ls) m = max(m, x[b + i]);
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
        const float e = exp(x[b + i] - m);
        x[b + i] = e;
        s += e;
    }
    red[tid] = s;
    barrier();
    for (uint h = ls / 2u; h > 0u; h >>= 1) {
        if (tid < h) red[tid] += red[tid + h];
        barrier();
    }
    const float inv = 1.0 / red[0];
    for (uint i = tid; i < p.n; i += ls) x[b + i] *= inv;
}
