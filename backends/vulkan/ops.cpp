// Dispatch of each op (ops.h): tensor handles turned into bindings and element offsets and
// strides in the shaders' push-constant order, grids and specialization constants per op.
// Shapes are checked here as the CPU references check them (R1_CHECK: the callers' bugs).
#include "backends/vulkan/ops.h"

#include <algorithm>
#include <cstdlib>
#include <string>

#include "core/error.h"

namespace r1::vulkan {
namespace {

constexpr uint32_t kReduceLocal = 64;   // workgroup of the row reductions and attention
constexpr uint32_t kElemLocal = 256;    // workgroup of the element-wise shaders
constexpr uint32_t kMatvecLocal = 64;  // at most; fewer for short rows (matvec_local)
constexpr uint32_t kMaxGroups = 65535;  // the smallest maxComputeWorkGroupCount Vulkan allows

uint32_t u32(int64_t v) {
    R1_CHECK(v >= 0 && v <= int64_t(UINT32_MAX));
    return uint32_t(v);
}

const DeviceBuffer* buffer_of(const Tensor& t) {
    R1_CHECK(t.buffer.data != nullptr);
    return static_cast<const DeviceBuffer*>(t.buffer.data);
}

// A tensor as a shader argument: its binding (the bytes it spans), the element offset the
// shader adds to the binding's start, and element strides (0 along dimensions of size 1, so
// an operand of size 1 there is broadcast).
struct Arg {
    Binding binding;
    uint32_t off = 0;
    uint32_t s[Tensor::kDims] = {0, 0, 0, 0};
};
Arg arg(const Context& c, const Tensor& t, size_t elem, bool write) {
    const DeviceBuffer* buf = buffer_of(t);
    R1_CHECK(t.offset % elem == 0);
    const size_t span = t.n_bytes(), delta = c.bind_delta(t.offset);
    if (uint64_t(span + delta) > c.max_binding_bytes())
        fail("vulkan: a tensor of {:.1f} MiB is more than {} can bind at once ({:.1f} MiB, maxStorageBufferRange)",
             double(span) / 1048576.0, c.info().name, double(c.max_binding_bytes()) / 1048576.0);
    Arg a;
    a.binding = {buf, t.offset, span, write};
    a.off = u32(int64_t(delta / elem));
    for (int d = 0; d < Tensor::kDims; ++d) {
        R1_CHECK(t.nb[d] % elem == 0);
        a.s[d] = t.ne[d] == 1 ? 0 : u32(int64_t(t.nb[d] / elem));
    }
    if (t.ne[0] > 1) a.s[0] = 1;  // block-free types: nb[0] is the element size
    return a;
}
size_t elem_size(GgmlType t) {
    R1_CHECK(t == GgmlType::F32 || t == GgmlType::F16 || t == GgmlType::I32);
    return t == GgmlType::F16 ? 2 : 4;
}
bool same_shape(const Tensor& a, const Tensor& b) {
    return a.ne[0] == b.ne[0] && a.ne[1] == b.ne[1] && a.ne[2] == b.ne[2] && a.ne[3] == b.ne[3];
}

struct WeightShaders {
    GgmlType type;
    ShaderId matvec, embed;
};
constexpr WeightShaders kWeightShaders[] = {
    {GgmlType::F32, ShaderId::matvec_f32, ShaderId::embed_f32},
    {GgmlType::F16, ShaderId::matvec_f16, ShaderId::embed_f16},
    {GgmlType::BF16, ShaderId::matvec_bf16, ShaderId::embed_bf16},
    {GgmlType::Q8_0, ShaderId::matvec_q8_0, ShaderId::embed_q8_0},
    {GgmlType::Q4_0, ShaderId::matvec_q4_0, ShaderId::embed_q4_0},
    {GgmlType::Q4_1, ShaderId::matvec_q4_1, ShaderId::embed_q4_1},
    {GgmlType::Q5_0, ShaderId::matvec_q5_0, ShaderId::embed_q5_0},
    {GgmlType::Q5_1, ShaderId::matvec_q5_1, ShaderId::embed_q5_1},
    {GgmlType::Q4_K, ShaderId::matvec_q4_k, ShaderId::embed_q4_k},
    {GgmlType::Q5_K, ShaderId::matvec_q5_k, ShaderId::embed_q5_k},
    {GgmlType::Q6_K, ShaderId::matvec_q6_k, ShaderId::embed_q6_k},
};
const WeightShaders& weight_shaders(GgmlType t) {
    for (const WeightShaders& w : kWeightShaders)
        if (w.type == t) return w;
    R1_CHECK(!"a weight type without a shader reached an op (supports() said no)");
    return kWeightShaders[0];
}

// A weight tensor's binding in u16 words (every supported block size and row is even).
struct WeightArg {
    Binding binding;
    uint32_t off, row_words, mat_words;
};
WeightArg weight_arg(const Context& c, const Tensor& w) {
    R1_CHECK(w.layout == 0 && w.nb[1] % 2 == 0 && w.nb[2] % 2 == 0);
    const Arg a = arg(c, w, 2, false);
    return {a.binding, a.off, u32(int64_t(w.nb[1] / 2)), w.ne[2] == 1 ? 0u : u32(int64_t(w.nb[2] / 2))};
}

uint32_t n_elements(const Tensor& t) { return u32(t.n_elements()); }

void dispatch_1d(Context& c, ShaderId id, std::span<const Binding> b, const void* push, size_t push_bytes, int64_t n,
                 uint32_t local) {
    uint32_t gx, gy;
    Context::grid_1d(uint64_t(n), local, gx, gy);
    const uint32_t spec[] = {local};
    c.dispatch(id, spec, b, push, push_bytes, gx, gy);
}

// One workgroup per row: (x, y) grid of n_rows groups.
void dispatch_rows(Context& c, ShaderId id, std::span<const uint32_t> spec, std::span<const Binding> b,
                   const void* push, size_t push_bytes, int64_t n_rows) {
    uint32_t gx, gy;
    Context::grid_1d(uint64_t(n_rows), 1, gx, gy);
    c.dispatch(id, spec, b, push, push_bytes, gx, gy);
}

// y = a ∘ b (binary.comp) with b broadcast where its extent is 1.
void binary(Context& c, ShaderId id, const Tensor& a, const Tensor& b, const Tensor& y) {
    R1_CHECK(a.type == GgmlType::F32 && b.type == GgmlType::F32 && y.type == GgmlType::F32 && same_shape(a, y));
    for (int d = 0; d < Tensor::kDims; ++d) R1_CHECK(b.ne[d] == a.ne[d] || b.ne[d] == 1);
    if (a.n_elements() == 0) return;
    const Arg x = arg(c, a, 4, false), z = arg(c, b, 4, false), o = arg(c, y, 4, true);
    const uint32_t push[] = {x.off, x.s[0], x.s[1], x.s[2], x.s[3], z.off, z.s[0], z.s[1], z.s[2], z.s[3],
                             o.off, o.s[0], o.s[1], o.s[2], o.s[3], u32(a.ne[0]), u32(a.ne[1]), u32(a.ne[2]),
                             n_elements(a)};
    const Binding bs[] = {x.binding, z.binding, o.binding};
    dispatch_1d(c, id, bs, push, sizeof(push), a.n_elements(), kElemLocal);
}

void unary(Context& c, ShaderId id, const Tensor& x, float s, const Tensor& y) {
    R1_CHECK(x.type == GgmlType::F32 && y.type == GgmlType::F32 && same_shape(x, y));
    if (x.n_elements() == 0) return;
    const Arg a = arg(c, x, 4, false), o = arg(c, y, 4, true);
    struct {
        uint32_t u[14];
        float s;
    } push{{a.off, a.s[0], a.s[1], a.s[2], a.s[3], o.off, o.s[0], o.s[1], o.s[2], o.s[3], u32(x.ne[0]),
            u32(x.ne[1]), u32(x.ne[2]), n_elements(x)},
           s};
    const Binding bs[] = {a.binding, o.binding};
    dispatch_1d(c, id, bs, &push, sizeof(push), x.n_elements(), kElemLocal);
}

// Which matvec.comp mapping runs: 1 (an output element per invocation) on CPU devices, 0 (a
// workgroup per output element, coalesced weight reads) elsewhere; R1_VK_MATVEC=rows|chunks
// forces one (the tests run both on lavapipe). Measured on lavapipe, 2 vCPUs: the fixture
// model's 105-token prompt took 8 s of CPU in mapping 0, 97% of it in matvec (an 8-wide CPU
// pays per workgroup and per barrier what a GPU does not).
uint32_t matvec_map(const Context& c) {
    static const char* env = std::getenv("R1_VK_MATVEC");
    if (env && std::string(env) == "rows") return 1;
    if (env && std::string(env) == "chunks") return 0;
    return c.info().type == "cpu" ? 1 : 0;
}

// Invocations per mapping-0 workgroup: one per 32-element chunk of a row up to kMatvecLocal,
// at least a subgroup (short rows left most of 64 invocations idle).
uint32_t matvec_local(const Context& c, int64_t n_in) {
    const uint32_t sub = std::clamp<uint32_t>(c.info().subgroup_size, 1, kMatvecLocal);
    uint32_t ls = 1;
    while (ls < kMatvecLocal && int64_t(ls) * 32 < n_in) ls *= 2;
    return std::max(ls, sub);
}

// Backend::matmul (mode 0 one matrix, 1 a stack) and matmul_id (mode 2).
void matvec(Context& c, const Tensor& w, const Tensor& x, const Tensor* ids, const Tensor& y, uint32_t mode) {
    const WeightShaders& ws = weight_shaders(w.type);
    const WeightArg wa = weight_arg(c, w);
    const Arg xa = arg(c, x, 4, false), ya = arg(c, y, 4, true);
    const Arg ia = ids ? arg(c, *ids, 4, false) : xa;  // mode 0/1 bind x again as the unused ids
    const int64_t n_rows = y.n_rows();
    if (n_rows == 0 || w.ne[1] == 0) return;
    // Rows sharing a matrix go NT to a workgroup: mode 0 all rows, mode 1 rows of equal i1.
    const int64_t n_outer = mode == 1 ? y.ne[1] : 1, n_inner = n_rows / n_outer;
    const uint32_t nt = mode == 2 || n_inner == 1 ? 1 : 8;
    const int64_t n_groups = (n_inner + nt - 1) / nt;
    // x rows: mode 0 its own shape; otherwise y's indices (ne1 = 1 in x: one row for all).
    const uint32_t x_ne1 = u32(mode == 0 ? x.ne[1] : y.ne[1]), x_ne2 = u32(mode == 0 ? x.ne[2] : y.ne[2]);
    uint32_t push[] = {wa.off, wa.row_words, wa.mat_words, xa.off, xa.s[1], xa.s[2], xa.s[3], x_ne1, x_ne2,
                       ya.off, ya.s[1], ya.s[2], ya.s[3], u32(y.ne[1]), u32(y.ne[2]), u32(w.ne[0]), u32(w.ne[1]),
                       mode, ia.off, ids ? ia.s[1] : 0u, u32(n_inner), u32(mode == 1 ? y.ne[1] : 1),
                       u32(n_groups), 0};
    const uint32_t map = matvec_map(c), ls = map == 1 ? kMatvecLocal : matvec_local(c, w.ne[0]);
    const uint32_t spec[] = {ls, nt, map};
    const Binding bs[] = {wa.binding, xa.binding, ya.binding, ia.binding};
    uint32_t gx, gy;
    Context::grid_1d(uint64_t(w.ne[1]), map == 1 ? ls : 1, gx, gy);
    const int64_t n_z = n_outer * n_groups;
    for (int64_t z0 = 0; z0 < n_z; z0 += kMaxGroups) {  // z_base: grids past 65535 in pieces
        push[23] = u32(z0);
        c.dispatch(ws.matvec, spec, bs, push, sizeof(push), gx, gy, u32(std::min<int64_t>(kMaxGroups, n_z - z0)));
    }
}

}  // namespace

bool has_weight_shader(GgmlType type) {
    for (const WeightShaders& w : kWeightShaders)
        if (w.type == type) return true;
    return false;
}

void get_rows(Context& c, const Tensor& table, const Tensor& ids, const Tensor& y) {
    R1_CHECK(ids.type == GgmlType::I32 && y.type == GgmlType::F32 && y.ne[0] == table.ne[0] &&
             y.n_rows() == ids.ne[0] && table.ne[2] == 1 && table.ne[3] == 1);
    if (ids.ne[0] == 0) return;
    const WeightShaders& ws = weight_shaders(table.type);
    const WeightArg wa = weight_arg(c, table);
    const Arg ia = arg(c, ids, 4, false), ya = arg(c, y, 4, true);
    uint32_t push[] = {wa.off, wa.row_words, ia.off, 0, ya.off, ya.s[1], ya.s[2], ya.s[3], u32(y.ne[1]),
                       u32(y.ne[2]), u32(table.ne[0])};
    const uint32_t spec[] = {kElemLocal};
    const Binding bs[] = {wa.binding, ia.binding, ya.binding};
    const uint32_t gx = u32((table.ne[0] + 32 * kElemLocal - 1) / (32 * kElemLocal));
    for (int64_t i0 = 0; i0 < ids.ne[0]; i0 += kMaxGroups) {
        push[3] = u32(i0);
        c.dispatch(ws.embed, spec, bs, push, sizeof(push), gx, 1, u32(std::min<int64_t>(kMaxGroups, ids.ne[0] - i0)));
    }
}

void matmul(Context& c, const Tensor& w, const Tensor& x, const Tensor& y) {
    R1_CHECK(x.type == GgmlType::F32 && y.type == GgmlType::F32 && w.ne[3] == 1);
    R1_CHECK(x.ne[0] == w.ne[0] && y.ne[0] == w.ne[1] && y.n_rows() == x.n_rows());
    R1_CHECK(w.ne[2] == 1 || (x.ne[1] == w.ne[2] && y.ne[1] == w.ne[2] && x.ne[2] == y.ne[2] && x.ne[3] == 1 &&
                              y.ne[3] == 1));
    matvec(c, w, x, nullptr, y, w.ne[2] == 1 ? 0 : 1);
}

void matmul_id(Context& c, const Tensor& w, const Tensor& x, const Tensor& ids, const Tensor& y) {
    R1_CHECK(x.type == GgmlType::F32 && y.type == GgmlType::F32 && ids.type == GgmlType::I32);
    R1_CHECK(x.ne[0] == w.ne[0] && y.ne[0] == w.ne[1] && y.ne[1] == ids.ne[0] && y.ne[2] == ids.ne[1]);
    R1_CHECK((x.ne[1] == 1 || x.ne[1] == ids.ne[0]) && x.ne[2] == ids.ne[1] && y.ne[3] == 1 && x.ne[3] == 1);
    matvec(c, w, x, &ids, y, 2);
}

void rms_norm(Context& c, const Tensor& x, const Tensor& w, const Tensor& y, float eps) {
    R1_CHECK(x.type == GgmlType::F32 && w.type == GgmlType::F32 && y.type == GgmlType::F32);
    R1_CHECK(w.ne[0] == x.ne[0] && same_shape(x, y));
    if (x.n_elements() == 0) return;
    const Arg xa = arg(c, x, 4, true), wa = arg(c, w, 4, false), ya = arg(c, y, 4, true);  // x may be y
    struct {
        uint32_t u[13];
        float eps;
    } push{{xa.off, xa.s[1], xa.s[2], xa.s[3], ya.off, ya.s[1], ya.s[2], ya.s[3], u32(x.ne[1]), u32(x.ne[2]),
            u32(x.n_rows()), u32(x.ne[0]), wa.off},
           eps};
    const uint32_t spec[] = {kReduceLocal};
    const Binding bs[] = {xa.binding, wa.binding, ya.binding};
    dispatch_rows(c, ShaderId::rms_norm, spec, bs, &push, sizeof(push), x.n_rows());
}

void rope(Context& c, const RopeArgs& a) {
    R1_CHECK(a.x.type == GgmlType::F32 && a.table.type == GgmlType::F32 && a.positions.type == GgmlType::I32);
    R1_CHECK(a.x.ne[0] % 2 == 0 && a.table.ne[0] == 2 && a.table.ne[1] == a.x.ne[0] / 2 && a.table.contiguous());
    R1_CHECK(a.positions.ne[0] == a.x.ne[2] && a.x.ne[3] == 1);
    if (a.x.n_elements() == 0) return;
    const Arg xa = arg(c, a.x, 4, true), ta = arg(c, a.table, 4, false), pa = arg(c, a.positions, 4, false);
    const uint32_t push[] = {xa.off, xa.s[1], xa.s[2], u32(a.x.ne[2]), u32(a.x.ne[1]), u32(a.x.ne[0]),
                             a.mode == RopeMode::Neox ? 1u : 0u, ta.off, pa.off};
    const Binding bs[] = {xa.binding, ta.binding, pa.binding};
    dispatch_1d(c, ShaderId::rope, bs, push, sizeof(push), a.x.n_elements() / 2, kElemLocal);
}

void attention(Context& c, const AttentionArgs& a) {
    const Tensor& q = a.q;
    R1_CHECK(q.type == GgmlType::F32 && a.out.type == GgmlType::F32 && a.positions.type == GgmlType::I32);
    R1_CHECK(a.k.type == a.v.type && (a.k.type == GgmlType::F16 || a.k.type == GgmlType::F32));
    R1_CHECK(q.ne[0] == a.k.ne[0] && a.out.ne[0] == a.v.ne[0] && a.out.ne[1] == q.ne[1] && a.out.ne[2] == q.ne[2]);
    R1_CHECK(a.k.ne[1] == a.v.ne[1] && a.k.ne[2] == a.v.ne[2] && q.ne[1] % a.k.ne[1] == 0);
    R1_CHECK(a.positions.ne[0] == q.ne[2] && q.ne[0] <= 1024 && a.v.ne[0] <= 16 * int64_t(kReduceLocal));
    R1_CHECK(a.seq.empty() == a.seq_cell0.empty() && (a.seq.empty() || a.seq.ne[0] == q.ne[2]));
    if (q.ne[2] == 0) return;
    if (q.ne[2] > kMaxGroups) {  // tokens go in grid y: batches past its limit in pieces
        for (int64_t t0 = 0; t0 < q.ne[2]; t0 += kMaxGroups) {
            const int64_t n = std::min<int64_t>(kMaxGroups, q.ne[2] - t0);
            attention(c, {.q = q.slice(2, t0, n), .k = a.k, .v = a.v, .out = a.out.slice(2, t0, n),
                          .positions = a.positions.slice(0, t0, n), .scale = a.scale,
                          .seq = a.seq.empty() ? Tensor{} : a.seq.slice(0, t0, n), .seq_cell0 = a.seq_cell0});
        }
        return;
    }
    const size_t ce = elem_size(a.k.type);
    const Arg qa = arg(c, q, 4, false), ka = arg(c, a.k, ce, false), va = arg(c, a.v, ce, false),
              oa = arg(c, a.out, 4, true), pa = arg(c, a.positions, 4, false);
    // Several sequences: each token's first cell from seq and seq_cell0 (positions stand in as
    // the unused bindings of a one-sequence batch).
    const bool multi = !a.seq.empty();
    const Arg sa = multi ? arg(c, a.seq, 4, false) : pa, ca = multi ? arg(c, a.seq_cell0, 4, false) : pa;
    struct {
        uint32_t u[17];
        float scale;
        uint32_t seq[3];
    } push{{qa.off, qa.s[1], qa.s[2], ka.off, ka.s[1], ka.s[2], va.off, va.s[1], va.s[2], oa.off, oa.s[1],
            oa.s[2], pa.off, u32(q.ne[0]), u32(a.v.ne[0]), u32(q.ne[1]), u32(a.k.ne[1])},
           a.scale,
           {multi ? 1u : 0u, sa.off, ca.off}};
    const uint32_t spec[] = {kReduceLocal};
    const Binding bs[] = {qa.binding, ka.binding, va.binding, oa.binding, pa.binding, sa.binding, ca.binding};
    const ShaderId id = a.k.type == GgmlType::F16 ? ShaderId::attention_f16 : ShaderId::attention_f32;
    c.dispatch(id, spec, bs, &push, sizeof(push), u32(q.ne[1]), u32(q.ne[2]));
}

void swiglu(Context& c, const Tensor& gate, const Tensor& up, const Tensor& y) {
    R1_CHECK(same_shape(gate, up));
    binary(c, ShaderId::swiglu, gate, up, y);
}
void add(Context& c, const Tensor& a, const Tensor& b, const Tensor& y) { binary(c, ShaderId::add, a, b, y); }
void mul(Context& c, const Tensor& a, const Tensor& b, const Tensor& y) { binary(c, ShaderId::mul, a, b, y); }
void scale(Context& c, const Tensor& x, float s, const Tensor& y) { unary(c, ShaderId::scale, x, s, y); }
void sigmoid(Context& c, const Tensor& x, const Tensor& y) { unary(c, ShaderId::sigmoid, x, 0.0f, y); }

void softmax(Context& c, const Tensor& x, const Tensor& y) {
    R1_CHECK(x.type == GgmlType::F32 && y.type == GgmlType::F32 && same_shape(x, y));
    if (x.n_elements() == 0) return;
    const Arg xa = arg(c, x, 4, false), ya = arg(c, y, 4, true);
    const uint32_t push[] = {xa.off, xa.s[1], xa.s[2], xa.s[3], ya.off, ya.s[1], ya.s[2], ya.s[3],
                             u32(x.ne[1]), u32(x.ne[2]), u32(x.n_rows()), u32(x.ne[0])};
    const uint32_t spec[] = {kReduceLocal};
    const Binding bs[] = {xa.binding, ya.binding};
    dispatch_rows(c, ShaderId::softmax, spec, bs, push, sizeof(push), x.n_rows());
}

void copy(Context& c, const Tensor& src, const Tensor& dst) {
    R1_CHECK(same_shape(src, dst));
    R1_CHECK(src.type == dst.type || (src.type != GgmlType::I32 && dst.type != GgmlType::I32));
    if (src.n_elements() == 0) return;
    const bool s16 = src.type == GgmlType::F16, d16 = dst.type == GgmlType::F16;
    const Arg sa = arg(c, src, elem_size(src.type), false), da = arg(c, dst, elem_size(dst.type), true);
    const uint32_t push[] = {sa.off, sa.s[1], sa.s[2], sa.s[3], da.off, da.s[1], da.s[2], da.s[3],
                             u32(src.ne[0]), u32(src.ne[1]), u32(src.ne[2]), n_elements(src)};
    const ShaderId id = s16 ? (d16 ? ShaderId::copy_16_16 : ShaderId::copy_16_32)
                            : (d16 ? ShaderId::copy_32_16 : ShaderId::copy_32_32);
    const Binding bs[] = {sa.binding, da.binding};
    dispatch_1d(c, id, bs, push, sizeof(push), src.n_elements(), kElemLocal);
}

void moe_route(Context& c, const MoeRouteArgs& a) {
    const int64_t n_expert = a.logits.ne[0], n_tok = a.logits.ne[1], n_used = a.ids.ne[0];
    R1_CHECK(a.logits.type == GgmlType::F32 && a.ids.type == GgmlType::I32 && a.weights.type == GgmlType::F32);
    R1_CHECK(a.ids.ne[1] == n_tok && a.weights.ne[1] == n_tok && a.weights.ne[0] == n_used);
    R1_CHECK(n_used >= 1 && n_used <= n_expert && n_used <= 32 && n_expert <= 512);
    R1_CHECK(a.bias.empty() || (a.bias.type == GgmlType::F32 && a.bias.ne[0] == n_expert));
    R1_CHECK(a.n_group >= 1 && a.n_group <= 32 && n_expert % a.n_group == 0 && a.n_group_used >= 1 &&
             a.n_group_used <= a.n_group);
    R1_CHECK(a.n_group == 1 || n_used <= a.n_group_used * (n_expert / a.n_group));
    if (n_tok == 0) return;
    if (n_tok > kMaxGroups) {  // a workgroup per token in grid x: past its limit in pieces
        for (int64_t t0 = 0; t0 < n_tok; t0 += kMaxGroups) {
            MoeRouteArgs part = a;
            const int64_t n = std::min<int64_t>(kMaxGroups, n_tok - t0);
            part.logits = a.logits.slice(1, t0, n), part.ids = a.ids.slice(1, t0, n);
            part.weights = a.weights.slice(1, t0, n);
            moe_route(c, part);
        }
        return;
    }
    const Arg la = arg(c, a.logits, 4, false), ia = arg(c, a.ids, 4, true), wa = arg(c, a.weights, 4, true);
    const Arg ba = a.bias.empty() ? la : arg(c, a.bias, 4, false);
    struct {
        uint32_t u[14];
        float scale;
    } push{{la.off, la.s[1], ba.off, a.bias.empty() ? 0u : 1u, ia.off, ia.s[1], wa.off, wa.s[1], u32(n_expert),
            u32(n_used), a.gating == Gating::Sigmoid ? 1u : 0u, u32(a.n_group), u32(a.n_group_used),
            a.norm ? 1u : 0u},
           a.scale};
    const uint32_t spec[] = {kReduceLocal};
    const Binding bs[] = {la.binding, ba.binding, ia.binding, wa.binding};
    c.dispatch(ShaderId::moe_route, spec, bs, &push, sizeof(push), u32(n_tok));
}

void argmax(Context& c, const Tensor& x, const Tensor& ids) {
    R1_CHECK(x.type == GgmlType::F32 && ids.type == GgmlType::I32 && ids.ne[0] == x.n_rows());
    if (x.n_rows() == 0) return;
    const Arg xa = arg(c, x, 4, false), ia = arg(c, ids, 4, true);
    const uint32_t push[] = {xa.off, xa.s[1], xa.s[2], xa.s[3], u32(x.ne[1]), u32(x.ne[2]), u32(x.n_rows()),
                             u32(x.ne[0]), ia.off};
    const uint32_t spec[] = {kReduceLocal};
    const Binding bs[] = {xa.binding, ia.binding};
    dispatch_rows(c, ShaderId::argmax, spec, bs, push, sizeof(push), x.n_rows());
}

}  // namespace r1::vulkan
