// MoE routing for one token per workgroup (moe_route_ref, GGUF.md §5.2): gating scores s
// (softmax or sigmoid of the logits), selection scores s' = s + bias; with n_group > 1 only the
// n_group_used groups with the largest sums of their two best s' stay eligible; the n_used
// largest s' (the lower index first on ties) give ids and weights s, divided by their sum when
// norm (at least 6.103515625e-5, llama.cpp's clamp), times scale. The scores are computed in
// parallel; the selection (n_used · n_expert comparisons) by invocation 0. n_expert <= 512.
#version 450
#extension GL_GOOGLE_include_directive : require

layout(local_size_x_id = 0) in;

layout(std430, binding = 0) readonly buffer L { float logits[]; };
layout(std430, binding = 1) readonly buffer B { float bias[]; };
layout(std430, binding = 2) writeonly buffer I { int ids[]; };
layout(std430, binding = 3) writeonly buffer W { float weights[]; };

layout(push_constant) uniform Params {
    uint l_off, l_stride;  // floats; stride between tokens
    uint b_off, has_bias;
    uint i_off, i_stride, w_off, w_stride;
    uint n_expert, n_used, sigmoid_gating, n_group, n_group_used, norm;
    float scale;
} p;

const uint kMaxExperts = 512u;
shared float s[kMaxExperts], sel[kMaxExperts];
shared bool allowed[kMaxExperts];
shared float red[gl_WorkGroupSize.x];

void main() {
    const uint t = gl_WorkGroupID.x;
    const uint tid = gl_LocalInvocationID.x, ls = gl_WorkGroupSize.x;
    const uint lb = p.l_off + t * p.l_stride;
    float mx = -1.0 / 0.0;
    for (uint e = tid; e < p.n_expert; e += ls) mx = max(mx, logits[lb + e]);
    red[tid] = mx;
    barrier();
    for (uint h = ls / 2u; h > 0u; h >>= 1) {
        if (tid < h) red[tid] = max(red[tid], red[tid + h]);
        barrier();
    }
    mx = red[0];
    barrier();
    float sum = 0.0;
    for (uint e = tid; e < p.n_expert; e += ls) {
        const float v = logits[lb + e];
        s[e] = p.sigmoid_gating != 0u ? 1.0 / (1.0 + exp(-v)) : exp(v - mx);
        sum += s[e];
    }
    red[tid] = sum;
    barrier();
    for (uint h = ls / 2u; h > 0u; h >>= 1) {
        if (tid < h) red[tid] += red[tid + h];
        barrier();
    }
    sum = red[0];
    for (uint e = tid; e < p.n_expert; e += ls) {
        if (p.sigmoid_gating == 0u) s[e] = s[e] / sum;
        sel[e] = s[e] + (p.has_bias != 0u ? bias[p.b_off + e] : 0.0);
        allowed[e] = true;
    }
    barrier();
    if (tid != 0u) return;

    if (p.n_group > 1u) {  // keep the n_group_used best groups (group score: its two best s')
        const uint per = p.n_expert / p.n_group;
        for (uint e = 0u; e < p.n_expert; ++e) allowed[e] = false;
        uint taken = 0u;  // bit g: group g chosen (n_group <= 32)
        for (uint k = 0u; k < p.n_group_used; ++k) {
            uint best_g = 0xFFFFFFFFu;
            float best = 0.0;
            for (uint g = 0u; g < p.n_group; ++g) {
                if ((taken & (1u << g)) != 0u) continue;
                float a = -1.0 / 0.0, b = -1.0 / 0.0;
                for (uint e = g * per; e < (g + 1u) * per; ++e) {
                    const float v = sel[e];
                    if (v > a) { b = a; a = v; } else if (v > b) { b = v; }
                }
                const float score = a + (per > 1u ? b : 0.0);
                if (best_g == 0xFFFFFFFFu || score > best) { best = score; best_g = g; }
            }
            taken |= 1u << best_g;
            for (uint e = best_g * per; e < (best_g + 1u) * per; ++e) allowed[e] = true;
        }
    }
    uint picked[32];
    float total = 0.0;
    for (uint k = 0u; k < p.n_used; ++k) {
        uint bi = 0xFFFFFFFFu;
        for (uint e = 0u; e < p.n_expert; ++e)
            if (allowed[e] && (bi == 0xFFFFFFFFu || sel[e] > sel[bi])) bi = e;
        allowed[bi] = false;
        picked[k] = bi;
        total += s[bi];
    }
    const float inv = p.norm != 0u ? 1.0 / max(total, 6.103515625e-5) : 1.0;
    for (uint k = 0u; k < p.n_used; ++k) {
        ids[p.i_off + t * p.i_stride + k] = int(picked[k]);
        weights[p.w_off + t * p.w_stride + k] = s[picked[k]] * inv * p.scale;
    }
}
