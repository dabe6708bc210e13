// Dispatch of each op (ops.h): push constants in the shaders' order, element offsets from
// the views' byte offsets, grids and specialization constants (workgroup sizes) per op.
#include "backends/vulkan/ops.h"

#include <cmath>

#include "core/error.h"

namespace r1::vulkan {
namespace {

constexpr uint32_t kReduceLocal = 64;    // workgroup of the row reductions
constexpr uint32_t kElemLocal = 256;     // workgroup of the element-wise shaders
constexpr uint32_t kMatvecLocal = 64;

// The binding of a view and the element offset the shader adds (elem_bytes per element).
struct Bound {
    Binding binding;
    uint32_t off;
};
Bound bind(const Context& c, View v, size_t n_bytes, size_t elem_bytes, bool write) {
    R1_CHECK(v.buf && v.offset % elem_bytes == 0);
    const size_t delta = c.bind_delta(v.offset);
    return {{v.buf, v.offset, n_bytes, write}, uint32_t(delta / elem_bytes)};
}

uint32_t u32(int64_t v) {
    R1_CHECK(v >= 0 && v <= int64_t(UINT32_MAX));
    return uint32_t(v);
}

struct WeightShaders {
    GgmlType type;
    ShaderId matvec, embed;
};
constexpr WeightShaders kWeightShaders[] = {
    {GgmlType::F32, ShaderId::matvec_f32, ShaderId::embed_f32},
    {GgmlType::F16, ShaderId::matvec_f16, ShaderId::embed_f16},
    {GgmlType::Q8_0, ShaderId::matvec_q8_0, ShaderId::embed_q8_0},
    {GgmlType::Q4_0, ShaderId::matvec_q4_0, ShaderId::embed_q4_0},
    {GgmlType::Q4_K, ShaderId::matvec_q4_k, ShaderId::embed_q4_k},
    {GgmlType::Q6_K, ShaderId::matvec_q6_k, ShaderId::embed_q6_k},
};
const WeightShaders& weight_shaders(GgmlType t) {
    for (const WeightShaders& w : kWeightShaders)
        if (w.type == t) return w;
    fail("vulkan: no shader for weights of type {}", type_traits(t).name);
}

void elementwise_grid(int64_t n, uint32_t& gx, uint32_t& gy) { Context::grid_1d(uint64_t(n), kElemLocal, gx, gy); }

}  // namespace

bool has_weight_shader(GgmlType type) {
    for (const WeightShaders& w : kWeightShaders)
        if (w.type == type) return true;
    return false;
}

void matmul(Context& c, const MatmulOp& a) {
    const WeightShaders& ws = weight_shaders(a.type);
    R1_CHECK(a.n_in % 32 == 0 && a.n_in % int64_t(type_traits(a.type).block_size) == 0);
    const int64_t x_stride = a.x_stride ? a.x_stride : a.n_in;
    const int64_t y_stride = a.y_stride ? a.y_stride : a.n_out;
    const size_t row = row_bytes(a.type, uint64_t(a.n_in));
    const Bound w = bind(c, a.w, row * size_t(a.n_out), 2, false);
    const Bound x = bind(c, a.x, size_t((a.n_tokens - 1) * x_stride + a.n_in) * 4, 4, false);
    const Bound y = bind(c, a.y, size_t((a.n_tokens - 1) * y_stride + a.n_out) * 4, 4, true);
    const uint32_t nt = a.n_tokens >= 8 ? 8 : a.n_tokens >= 4 ? 4 : a.n_tokens >= 2 ? 2 : 1;
    const uint32_t push[] = {w.off, u32(int64_t(row / 2)), x.off, u32(x_stride), y.off, u32(y_stride),
                             u32(a.n_in), u32(a.n_out), u32(a.n_tokens)};
    const uint32_t spec[] = {kMatvecLocal, nt};
    const Binding b[] = {w.binding, x.binding, y.binding};
    uint32_t gx, gy;
    Context::grid_1d(uint64_t(a.n_out), 1, gx, gy);
    c.dispatch(ws.matvec, spec, b, push, sizeof(push), gx, gy, u32((a.n_tokens + nt - 1) / nt));
}

void embed(Context& c, const EmbedOp& a) {
    const WeightShaders& ws = weight_shaders(a.type);
    R1_CHECK(a.n_in % 32 == 0);
    const size_t row = row_bytes(a.type, uint64_t(a.n_in));
    // The table binding covers the whole buffer from the view: ids pick any row.
    const Bound w = bind(c, a.table, a.table.buf->size - a.table.offset, 2, false);
    const Bound ids = bind(c, a.ids, size_t(a.n_ids) * 4, 4, false);
    const Bound y = bind(c, a.y, size_t(a.n_ids * a.n_in) * 4, 4, true);
    const uint32_t push[] = {w.off, u32(int64_t(row / 2)), ids.off, y.off, u32(a.n_in), u32(a.n_in)};
    const uint32_t spec[] = {kElemLocal};
    const Binding b[] = {w.binding, ids.binding, y.binding};
    c.dispatch(ws.embed, spec, b, push, sizeof(push), u32((a.n_in / 32 + kElemLocal - 1) / kElemLocal), 1,
               u32(a.n_ids));
}

void rms_norm(Context& c, const RmsNormOp& a) {
    const int64_t xs = a.x_stride ? a.x_stride : a.n, ys = a.y_stride ? a.y_stride : a.n;
    const Bound x = bind(c, a.x, size_t((a.n_rows - 1) * xs + a.n) * 4, 4, true);  // may alias y
    const Bound w = bind(c, a.w, size_t(a.n) * 4, 4, false);
    const Bound y = bind(c, a.y, size_t((a.n_rows - 1) * ys + a.n) * 4, 4, true);
    struct {
        uint32_t x_off, x_stride, w_off, y_off, y_stride, n;
        float eps;
    } push{x.off, u32(xs), w.off, y.off, u32(ys), u32(a.n), a.eps};
    const uint32_t spec[] = {kReduceLocal};
    const Binding b[] = {x.binding, w.binding, y.binding};
    c.dispatch(ShaderId::rms_norm, spec, b, &push, sizeof(push), u32(a.n_rows));
}

std::vector<float> rope_table(int32_t n_pos, int32_t n_rot, float freq_base, const float* freq_factors) {
    const int32_t half = n_rot / 2;
    std::vector<float> inv(size_t(half), 0.0f), t(size_t(n_pos) * size_t(half) * 2);
    for (int32_t i = 0; i < half; ++i) {
        inv[size_t(i)] = float(1.0 / std::pow(double(freq_base), double(2 * i) / double(n_rot)));
        if (freq_factors) inv[size_t(i)] = inv[size_t(i)] / freq_factors[i];
    }
    for (int32_t p = 0; p < n_pos; ++p)
        for (int32_t i = 0; i < half; ++i) {
            const float theta = float(p) * inv[size_t(i)];
            t[(size_t(p) * size_t(half) + size_t(i)) * 2] = float(std::cos(double(theta)));
            t[(size_t(p) * size_t(half) + size_t(i)) * 2 + 1] = float(std::sin(double(theta)));
        }
    return t;
}

void rope(Context& c, const RopeOp& a) {
    const int64_t half = a.n_rot / 2;
    const int64_t last = (a.n_tokens - 1) * a.tok_stride + (a.n_head - 1) * a.head_stride + a.n_rot;
    const Bound x = bind(c, a.x, size_t(last) * 4, 4, true);
    const Bound cs = bind(c, a.cs, size_t((a.pos0 + a.n_tokens) * half) * 8, 8, false);
    const uint32_t push[] = {x.off, u32(a.tok_stride), u32(a.head_stride), u32(a.n_tokens), u32(a.n_head),
                             u32(a.n_rot), a.neox ? 1u : 0u, u32(a.pos0), cs.off};
    const uint32_t spec[] = {kElemLocal};
    const Binding b[] = {x.binding, cs.binding};
    uint32_t gx, gy;
    elementwise_grid(a.n_tokens * a.n_head * half, gx, gy);
    c.dispatch(ShaderId::rope, spec, b, push, sizeof(push), gx, gy);
}

void glu(Context& c, View gate, View up, View y, int64_t n) {
    const Bound g = bind(c, gate, size_t(n) * 4, 4, false), u = bind(c, up, size_t(n) * 4, 4, false),
                o = bind(c, y, size_t(n) * 4, 4, true);
    const uint32_t push[] = {g.off, u.off, o.off, u32(n)};
    const uint32_t spec[] = {kElemLocal};
    const Binding b[] = {g.binding, u.binding, o.binding};
    uint32_t gx, gy;
    elementwise_grid(n, gx, gy);
    c.dispatch(ShaderId::glu, spec, b, push, sizeof(push), gx, gy);
}

void add(Context& c, View a, View b_, View y, int64_t n, int64_t nb) {
    const Bound x = bind(c, a, size_t(n) * 4, 4, false), bb = bind(c, b_, size_t(nb) * 4, 4, false),
                o = bind(c, y, size_t(n) * 4, 4, true);
    const uint32_t push[] = {x.off, bb.off, o.off, u32(n), u32(nb)};
    const uint32_t spec[] = {kElemLocal};
    const Binding b[] = {x.binding, bb.binding, o.binding};
    uint32_t gx, gy;
    elementwise_grid(n, gx, gy);
    c.dispatch(ShaderId::add, spec, b, push, sizeof(push), gx, gy);
}

void scale(Context& c, View x_, View y_, int64_t n, float s) {
    const Bound x = bind(c, x_, size_t(n) * 4, 4, false), y = bind(c, y_, size_t(n) * 4, 4, true);
    struct {
        uint32_t x_off, y_off, n;
        float s;
    } push{x.off, y.off, u32(n), s};
    const uint32_t spec[] = {kElemLocal};
    const Binding b[] = {x.binding, y.binding};
    uint32_t gx, gy;
    elementwise_grid(n, gx, gy);
    c.dispatch(ShaderId::scale, spec, b, &push, sizeof(push), gx, gy);
}

void softmax(Context& c, View x_, int64_t n_rows, int64_t n) {
    const Bound x = bind(c, x_, size_t(n_rows * n) * 4, 4, true);
    const uint32_t push[] = {x.off, u32(n), u32(n)};
    const uint32_t spec[] = {kReduceLocal};
    const Binding b[] = {x.binding};
    c.dispatch(ShaderId::softmax, spec, b, push, sizeof(push), u32(n_rows));
}

void argmax(Context& c, View x_, View out_, int64_t n_rows, int64_t n) {
    const Bound x = bind(c, x_, size_t(n_rows * n) * 4, 4, false), o = bind(c, out_, size_t(n_rows) * 4, 4, true);
    const uint32_t push[] = {x.off, u32(n), u32(n), o.off};
    const uint32_t spec[] = {kReduceLocal};
    const Binding b[] = {x.binding, o.binding};
    c.dispatch(ShaderId::argmax, spec, b, push, sizeof(push), u32(n_rows));
}

void copy(Context& c, const CopyOp& a) {
    R1_CHECK(a.dst_type == GgmlType::F32 || a.dst_type == GgmlType::F16);
    const size_t de = a.dst_type == GgmlType::F16 ? 2 : 4;
    const int64_t ss = a.src_stride ? a.src_stride : a.n, ds = a.dst_stride ? a.dst_stride : a.n;
    const Bound s = bind(c, a.src, size_t((a.n_rows - 1) * ss + a.n) * 4, 4, false);
    const Bound d = bind(c, a.dst, size_t((a.n_rows - 1) * ds + a.n) * de, de, true);
    const uint32_t push[] = {s.off, u32(ss), d.off, u32(ds), u32(a.n)};
    const uint32_t spec[] = {kElemLocal};
    const Binding b[] = {s.binding, d.binding};
    uint32_t gx, gy;
    elementwise_grid(a.n, gx, gy);
    R1_CHECK(gy == 1);  // rows go in z
    c.dispatch(a.dst_type == GgmlType::F16 ? ShaderId::copy_f16 : ShaderId::copy_f32, spec, b, push, sizeof(push),
               gx, 1, u32(a.n_rows));
}

void attention(Context& c, const AttentionOp& a) {
    R1_CHECK(a.cache_type == GgmlType::F32 || a.cache_type == GgmlType::F16);
    R1_CHECK(a.dk <= 1024 && a.n_head % a.n_head_kv == 0 && a.pos0 + a.n_tokens <= a.n_ctx);
    const size_t ce = a.cache_type == GgmlType::F16 ? 2 : 4;
    const int64_t qts = a.q_tok_stride ? a.q_tok_stride : int64_t(a.n_head) * a.dk;
    const int64_t qhs = a.q_head_stride ? a.q_head_stride : a.dk;
    const int64_t kps = a.k_pos_stride ? a.k_pos_stride : int64_t(a.n_head_kv) * a.dk;
    const int64_t khs = a.k_head_stride ? a.k_head_stride : a.dk;
    const int64_t vps = a.v_pos_stride ? a.v_pos_stride : int64_t(a.n_head_kv) * a.dv;
    const int64_t vhs = a.v_head_stride ? a.v_head_stride : a.dv;
    const int64_t ots = a.out_tok_stride ? a.out_tok_stride : int64_t(a.n_head) * a.dv;
    const int64_t ohs = a.out_head_stride ? a.out_head_stride : a.dv;
    const int64_t n_pos = a.pos0 + a.n_tokens;
    const Bound q = bind(c, a.q, size_t((a.n_tokens - 1) * qts + (a.n_head - 1) * qhs + a.dk) * 4, 4, false);
    const Bound k = bind(c, a.k, size_t((n_pos - 1) * kps + (a.n_head_kv - 1) * khs + a.dk) * ce, ce, false);
    const Bound v = bind(c, a.v, size_t((n_pos - 1) * vps + (a.n_head_kv - 1) * vhs + a.dv) * ce, ce, false);
    const Bound o = bind(c, a.out, size_t((a.n_tokens - 1) * ots + (a.n_head - 1) * ohs + a.dv) * 4, 4, true);
    const Bound s = bind(c, a.scores, size_t(a.n_tokens * a.n_head * a.n_ctx) * 4, 4, true);
    struct {
        uint32_t q_off, q_tok_stride, q_head_stride, k_off, k_pos_stride, k_head_stride, v_off, v_pos_stride,
            v_head_stride, o_off, o_tok_stride, o_head_stride, s_off, n_ctx, dk, dv, n_head, n_head_kv, pos0;
        float scale;
    } push{q.off, u32(qts), u32(qhs), k.off, u32(kps), u32(khs), v.off, u32(vps), u32(vhs), o.off, u32(ots),
           u32(ohs), s.off, u32(a.n_ctx), u32(a.dk), u32(a.dv), u32(a.n_head), u32(a.n_head_kv), u32(a.pos0), a.scale};
    const uint32_t spec[] = {kReduceLocal};
    const Binding b[] = {q.binding, k.binding, v.binding, o.binding, s.binding};
    c.dispatch(a.cache_type == GgmlType::F16 ? ShaderId::attention_f16 : ShaderId::attention_f32, spec, b, &push,
               sizeof(push), u32(a.n_head), u32(a.n_tokens));
}

}  // namespace r1::vulkan
