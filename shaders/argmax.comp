// out[r] = index of the largest of row r of x (n_rows, n), the first one on ties (argmax in
// ops.h). One workgroup per row (grid x); (value, index) pairs reduced in shared memory.
#version 450

layout(local_size_x_id = 0) in;

layout(std430, binding = 0) readonly buffer X { float x[]; };
layout(std430, binding = 1) writeonly buffer Out { int out_ids[]; };

layout(push_constant) uniform Params { uint x_off, stride, n, out_off; } p;

shared float rv[gl_WorkGroupSize.x];
shared uint ri[gl_WorkGroupSize.x];

void main() {
    const uint tid = gl_LocalInvocationID.x;
    const uint ls = gl_WorkGroupSize.x;
    const uint b = p.x_off + gl_WorkGroupID.x * p.stride;
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
    if (tid == 0u) out_ids[p.out_off + gl_WorkGroupID.x] = int(ri[0]);
}
