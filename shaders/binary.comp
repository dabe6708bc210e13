// y = a ∘ b element by element over a shape {ne0, ne1, ne2, ·} with any strides, where ∘ is
// chosen by -D: OP_ADD (a + b), OP_MUL (a ⊙ b), OP_SWIGLU (silu(a) ⊙ b = a / (1 + e^−a) · b).
// b broadcasts along a dimension where its stride is 0 (add_ref, mul_ref, swiglu_ref).
// y may alias a or b (each element is read and written by one invocation). Grid x·y.
#version 450
#extension GL_GOOGLE_include_directive : require

layout(local_size_x_id = 0) in;

layout(std430, binding = 0) readonly buffer A { float a[]; };
layout(std430, binding = 1) readonly buffer B { float b[]; };
layout(std430, binding = 2) writeonly buffer Y { float y[]; };

layout(push_constant) uniform Params {
    uint a_off, a_s0, a_s1, a_s2, a_s3;  // floats
    uint b_off, b_s0, b_s1, b_s2, b_s3;
    uint y_off, y_s0, y_s1, y_s2, y_s3;
    uint ne0, ne1, ne2, n;
} p;

#include "common.glsl"

void main() {
    const uint i = flat_id();
    if (i >= p.n) return;
    const uint r = i / p.ne0, i0 = i - r * p.ne0;
    const float va = a[p.a_off + i0 * p.a_s0 + row_at(r, p.ne1, p.ne2, p.a_s1, p.a_s2, p.a_s3)];
    const float vb = b[p.b_off + i0 * p.b_s0 + row_at(r, p.ne1, p.ne2, p.b_s1, p.b_s2, p.b_s3)];
#if defined(OP_ADD)
    const float v = va + vb;
#elif defined(OP_MUL)
    const float v = va * vb;
#elif defined(OP_SWIGLU)
    const float v = va / (1.0 + exp(-va)) * vb;
#else
#error "binary.comp: define OP_ADD, OP_MUL or OP_SWIGLU"
#endif
    y[p.y_off + i0 * p.y_s0 + row_at(r, p.ne1, p.ne2, p.y_s1, p.y_s2, p.y_s3)] = v;
}
