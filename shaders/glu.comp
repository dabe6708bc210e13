// SwiGLU: y (n) = silu(gate) ⊙ up = gate / (1 + e^−gate) · up (glu in ops.h); y may alias
// gate or up. One invocation per element, grid x·y.
#version 450

layout(local_size_x_id = 0) in;

layout(std430, binding = 0) buffer G { float g[]; };
layout(std430, binding = 1) buffer U { float u[]; };
layout(std430, binding = 2) buffer Y { float y[]; };

layout(push_constant) uniform Params { uint g_off, u_off, y_off, n; } p;

void main() {
    const uint i = gl_GlobalInvocationID.x + gl_GlobalInvocationID.y * gl_NumWorkGroups.x * gl_WorkGroupSize.x;
    if (i >= p.n) return;
    const float a = g[p.g_off + i];
    y[p.y_off + i] = a / (1.0 + exp(-a)) * u[p.u_off + i];
}
