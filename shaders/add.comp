// y (n) = a (n) + b (i mod nb): the residual add (nb = n) and the bias add (nb = row width)
// of ops.h; y may alias a or b. One invocation per element, grid x·y.
#version 450

layout(local_size_x_id = 0) in;

layout(std430, binding = 0) buffer A { float a[]; };
layout(std430, binding = 1) buffer B { float b[]; };
layout(std430, binding = 2) buffer Y { float y[]; };

layout(push_constant) uniform Params { uint a_off, b_off, y_off, n, nb; } p;

void main() {
    const uint i = gl_GlobalInvocationID.x + gl_GlobalInvocationID.y * gl_NumWorkGroups.x * gl_WorkGroupSize.x;
    if (i >= p.n) return;
    y[p.y_off + i] = a[p.a_off + i] + b[p.b_off + i % p.nb];
}
