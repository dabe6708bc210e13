// y (n) = x (n) · s; y may alias x. One invocation per element, grid x·y.
#version 450

layout(local_size_x_id = 0) in;

layout(std430, binding = 0) buffer X { float x[]; };
layout(std430, binding = 1) buffer Y { float y[]; };

layout(push_constant) uniform Params { uint x_off, y_off, n; float s; } p;

void main() {
    const uint i = gl_GlobalInvocationID.x + gl_GlobalInvocationID.y * gl_NumWorkGroups.x * gl_WorkGroupSize.x;
    if (i >= p.n) return;
    y[p.y_off + i] = x[p.x_off + i] * p.s;
}
