// Strided row copy with conversion: dst[d_off + r·d_stride + i] = src[s_off + r·s_stride + i]
// for r < n_rows, i < n; float32 source, destination float32 or (-D DST_F16) f16 rounded to
// nearest even (packHalf2x16). Stores new K/V rows into the cache, copies views.
// One invocation per element, grid x·y over i, z over rows.
#version 450
#extension GL_EXT_shader_16bit_storage : require

layout(local_size_x_id = 0) in;

layout(std430, binding = 0) readonly buffer S { float src[]; };
#if defined(DST_F16)
layout(std430, binding = 1) writeonly buffer D { uint16_t dst[]; };
#else
layout(std430, binding = 1) writeonly buffer D { float dst[]; };
#endif

layout(push_constant) uniform Params { uint s_off, s_stride, d_off, d_stride, n; } p;

void main() {
    const uint i = gl_GlobalInvocationID.x + gl_GlobalInvocationID.y * gl_NumWorkGroups.x * gl_WorkGroupSize.x;
    if (i >= p.n) return;
    const uint r = gl_WorkGroupID.z;
    const float v = src[p.s_off + r * p.s_stride + i];
#if defined(DST_F16)
    dst[p.d_off + r * p.d_stride + i] = uint16_t(packHalf2x16(vec2(v, 0.0)) & 0xFFFFu);
#else
    dst[p.d_off + r * p.d_stride + i] = v;
#endif
}
