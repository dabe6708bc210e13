// dst = src element by element over a shape {ne0, ne1, ne2, ·} with any strides (copy_ref):
// 32-bit words (F32, I32) or f16 on either side (-D SRC_F16, DST_F16); F32 -> F16 rounds to
// nearest even and F16 -> F32 is exact (common.glsl), same-width copies move the bits. Stores
// new K/V rows into the cache, concatenates into views. Grid x·y.
#version 450
#extension GL_EXT_shader_16bit_storage : require
#extension GL_GOOGLE_include_directive : require

layout(local_size_x_id = 0) in;

#if defined(SRC_F16)
layout(std430, binding = 0) readonly buffer S { uint16_t src[]; };
#else
layout(std430, binding = 0) readonly buffer S { uint src[]; };
#endif
#if defined(DST_F16)
layout(std430, binding = 1) writeonly buffer D { uint16_t dst[]; };
#else
layout(std430, binding = 1) writeonly buffer D { uint dst[]; };
#endif

layout(push_constant) uniform Params {
    uint s_off, s_s1, s_s2, s_s3;  // elements
    uint d_off, d_s1, d_s2, d_s3;
    uint ne0, ne1, ne2, n;
} p;

#include "common.glsl"

void main() {
    const uint i = flat_id();
    if (i >= p.n) return;
    const uint r = i / p.ne0, i0 = i - r * p.ne0;
    const uint v = uint(src[p.s_off + i0 + row_at(r, p.ne1, p.ne2, p.s_s1, p.s_s2, p.s_s3)]);
    const uint di = p.d_off + i0 + row_at(r, p.ne1, p.ne2, p.d_s1, p.d_s2, p.d_s3);
#if defined(SRC_F16) && defined(DST_F16)
    dst[di] = uint16_t(v);
#elif defined(DST_F16)
    dst[di] = uint16_t(f32_to_f16_bits(v));
#elif defined(SRC_F16)
    dst[di] = f16_to_f32_bits(v);
#else
    dst[di] = v;
#endif
}
