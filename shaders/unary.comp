// y = f(x) element by element over a shape {ne0, ne1, ne2, ·} with any strides, f chosen by
// -D: OP_SCALE (x · s), OP_SIGMOID (1 / (1 + e^−x)) (scale_ref, sigmoid_ref). y may alias x.
// Grid x·y.
#version 450
#extension GL_GOOGLE_include_directive : require

layout(local_size_x_id = 0) in;

layout(std430, binding = 0) readonly buffer X { float x[]; };
layout(std430, binding = 1) writeonly buffer Y { float y[]; };

layout(push_constant) uniform Params {
    uint x_off, x_s0, x_s1, x_s2, x_s3;  // floats
    uint y_off, y_s0, y_s1, y_s2, y_s3;
    uint ne0, ne1, ne2, n;
    float s;
} p;

#include "common.glsl"

void main() {
    const uint i = flat_id();
    if (i >= p.n) return;
    const uint r = i / p.ne0, i0 = i - r * p.ne0;
    const float v = x[p.x_off + i0 * p.x_s0 + row_at(r, p.ne1, p.ne2, p.x_s1, p.x_s2, p.x_s3)];
#if defined(OP_SCALE)
    const float f = v * p.s;
#elif defined(OP_SIGMOID)
    const float f = 1.0 / (1.0 + exp(-v));
#else
#error "unary.comp: define OP_SCALE or OP_SIGMOID"
#endif
    y[p.y_off + i0 * p.y_s0 + row_at(r, p.ne1, p.ne2, p.y_s1, p.y_s2, p.y_s3)] = f;
}
