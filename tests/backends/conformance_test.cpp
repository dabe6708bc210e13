// The backend conformance suite (ggml's test-backend-ops for this seam): every op of backend.h
// run through Backend& on each backend built in, against the CPU scalar references
// (backends/cpu/ops/ops.h) on the same inputs: ragged sizes, strided views, every weight type
// the backend claims. A backend that is not built in or finds no device is skipped with the reason.
#include <gtest/gtest.h>

#include <algorithm>
#include <numeric>

#include "backends/cpu/ops/ops.h"
#include "core/error.h"
#include "quant/fp16.h"
#include "tests/backends/harness.h"

namespace r1 {
namespace {

using test::Mirror;

class Conformance : public testing::TestWithParam<const char*> {
protected:
    void SetUp() override {
        try {
            be_ = create_backend({.name = GetParam(), .n_threads = 3});
        } catch (const Error& e) {
            GTEST_SKIP() << e.what();
        }
    }
    Backend& be() { return *be_; }
    std::unique_ptr<Backend> be_;
};

const GgmlType kWeightTypes[] = {GgmlType::F32,  GgmlType::F16,  GgmlType::BF16, GgmlType::Q8_0,
                                 GgmlType::Q4_0, GgmlType::Q4_1, GgmlType::Q5_0, GgmlType::Q5_1,
                                 GgmlType::Q4_K, GgmlType::Q5_K, GgmlType::Q6_K};

// |y − y_ref| <= tol · Σ_i |w_i · x_i| per output: products of quantized weights quantize the
// activations (Q8_0 / Q8_K, ~1/254 of each block's largest value), float ones are exact but
// for the order of the sums.
double matmul_tolerance(GgmlType t) { return type_traits(t).is_quantized ? 1e-2 : 1e-5; }

// Σ_i |w_i · x_i| for every output of op(w, x): the same op on |dequant(w)| and |x| in F32.
template <class Op>
std::vector<float> magnitudes(const Tensor& w, const Tensor& x, const Tensor& y, Op op) {
    std::vector<float> wa(size_t(w.n_elements())), xa = test::values(x), ya(size_t(y.n_elements()));
    for (int64_t r = 0; r < w.n_rows(); ++r)
        cpu::dequantize_row(w.type, static_cast<const char*>(w.buffer.data) + w.offset + size_t(r) * w.row_size(),
                            wa.data() + r * w.ne[0], w.ne[0]);
    for (auto& v : wa) v = std::fabs(v);
    for (auto& v : xa) v = std::fabs(v);
    auto shape = [](const Tensor& t, std::vector<float>& v) {
        return make_tensor({v.data(), v.size() * 4}, 0, GgmlType::F32, {t.ne[0], t.ne[1], t.ne[2], t.ne[3]});
    };
    op(shape(w, wa), shape(x, xa), shape(y, ya));
    return ya;
}

void expect_close(const Tensor& y, const Tensor& y_ref, const std::vector<float>& mag, double tol) {
    const auto a = test::values(y), b = test::values(y_ref);
    for (size_t i = 0; i < a.size(); ++i) ASSERT_NEAR(a[i], b[i], tol * mag[i] + 1e-6) << "element " << i;
}

// The weight on the backend through load_weight (copied, repacked or uploaded), and the same
// bytes as a host tensor of GGUF rows for the reference.
struct Weight {
    std::vector<uint8_t> bytes;
    Tensor host;
    Tensor dev;
};
Weight load(Backend& be, GgmlType t, std::initializer_list<int64_t> ne, uint32_t seed, WeightUse use) {
    Weight w;
    const int64_t n_in = *ne.begin();
    const int64_t n_rows = std::accumulate(ne.begin() + 1, ne.end(), int64_t(1), std::multiplies<>());
    w.bytes = test::quantized_weights(t, n_in, n_rows, seed);
    w.host = make_tensor({w.bytes.data(), w.bytes.size()}, 0, t, ne);
    WeightSource src;
    src.name = "test";
    src.type = t;
    int d = 0;
    for (int64_t n : ne) src.ne[d++] = n;
    src.data = w.bytes.data();
    src.persistent = false;
    src.use = use;
    w.dev = be.load_weight(src).tensor;
    return w;
}

TEST_P(Conformance, MatmulEveryWeightTypeRaggedAndStrided) {
    for (GgmlType t : kWeightTypes) {
        if (!be().supports(Op::Matmul, t)) continue;
        const int64_t block = type_traits(t).block_size == 1 ? 32 : type_traits(t).block_size;
        for (int64_t n_in : {block, 3 * block})
            for (int64_t n_out : {1, 17, 33})
                for (int64_t n_tok : {1, 5, 8, 13}) {
                    SCOPED_TRACE(testing::Message() << type_traits(t).name << " n_in " << n_in << " n_out " << n_out
                                                    << " n_tok " << n_tok);
                    Weight w = load(be(), t, {n_in, n_out}, uint32_t(n_in + n_out), WeightUse::Matmul);
                    // x rows strided (16 floats of padding after each row); y contiguous.
                    const size_t x_row = size_t(n_in + 16) * 4;
                    Mirror m(be(), x_row * size_t(n_tok) + size_t(n_out * n_tok) * 8);
                    const Tensor x = m.tensor(0, GgmlType::F32, {n_in + 16, n_tok}).slice(0, 0, n_in);
                    const Tensor y = m.tensor(x_row * size_t(n_tok), GgmlType::F32, {n_out, n_tok});
                    const Tensor y_ref = m.tensor(x_row * size_t(n_tok) + size_t(n_out * n_tok) * 4, GgmlType::F32,
                                                  {n_out, n_tok});
                    test::fill(x, 7);
                    m.push();
                    be().matmul(w.dev, m.on_backend(x), m.on_backend(y));
                    m.pull();
                    cpu::matmul_ref(w.host, x, y_ref);
                    expect_close(y, y_ref, magnitudes(w.host, x, y, [](auto a, auto b, auto c) { cpu::matmul_ref(a, b, c); }),
                                 matmul_tolerance(t));
                }
    }
}

// A stack of per-head matrices {n_in, n_out, n_head} applied to x {n_in, n_head, n_tok} (MLA's
// attn_k_b / attn_v_b), x a strided view.
TEST_P(Conformance, MatmulStackedPerHead) {
    for (GgmlType t : {GgmlType::F32, GgmlType::F16, GgmlType::Q8_0, GgmlType::Q4_K}) {
        if (!be().supports(Op::Matmul, t)) continue;
        const int64_t n_in = type_traits(t).block_size == 1 ? 40 : type_traits(t).block_size, n_out = 24;
        for (int64_t n_tok : {1, 9}) {
            SCOPED_TRACE(testing::Message() << type_traits(t).name << " n_tok " << n_tok);
            const int64_t n_head = 3;
            Weight w = load(be(), t, {n_in, n_out, n_head}, 11, WeightUse::Matmul);
            const size_t x_bytes = size_t((n_in + 8) * n_head * n_tok) * 4, y_bytes = size_t(n_out * n_head * n_tok) * 4;
            Mirror m(be(), x_bytes + 2 * y_bytes);
            const Tensor x = m.tensor(0, GgmlType::F32, {n_in + 8, n_head, n_tok}).slice(0, 8, n_in);
            const Tensor y = m.tensor(x_bytes, GgmlType::F32, {n_out, n_head, n_tok});
            const Tensor y_ref = m.tensor(x_bytes + y_bytes, GgmlType::F32, {n_out, n_head, n_tok});
            test::fill(x, 3);
            m.push();
            be().matmul(w.dev, m.on_backend(x), m.on_backend(y));
            m.pull();
            cpu::matmul_ref(w.host, x, y_ref);
            expect_close(y, y_ref, magnitudes(w.host, x, y, [](auto a, auto b, auto c) { cpu::matmul_ref(a, b, c); }),
                         matmul_tolerance(t));
        }
    }
}

// mul_mat_id: experts picked per (token, slot), x shared by the slots or one per slot.
TEST_P(Conformance, MatmulIdOverExpertStacks) {
    for (GgmlType t : {GgmlType::F32, GgmlType::Q8_0, GgmlType::Q4_0, GgmlType::Q4_K, GgmlType::Q6_K}) {
        if (!be().supports(Op::MatmulId, t)) continue;
        const int64_t n_in = type_traits(t).block_size == 1 ? 64 : 2 * type_traits(t).block_size;
        const int64_t n_out = 20, n_expert = 5, n_used = 3;
        for (int64_t n_tok : {1, 10})
            for (int64_t n_xs : {int64_t(1), n_used}) {
                SCOPED_TRACE(testing::Message() << type_traits(t).name << " n_tok " << n_tok << " n_xs " << n_xs);
                Weight w = load(be(), t, {n_in, n_out, n_expert}, 5, WeightUse::Matmul);
                const size_t xb = size_t(n_in * n_xs * n_tok) * 4, ib = size_t(n_used * n_tok) * 4,
                             yb = size_t(n_out * n_used * n_tok) * 4;
                Mirror m(be(), xb + ib + 2 * yb);
                const Tensor x = m.tensor(0, GgmlType::F32, {n_in, n_xs, n_tok});
                const Tensor ids = m.tensor(xb, GgmlType::I32, {n_used, n_tok});
                const Tensor y = m.tensor(xb + ib, GgmlType::F32, {n_out, n_used, n_tok});
                const Tensor y_ref = m.tensor(xb + ib + yb, GgmlType::F32, {n_out, n_used, n_tok});
                test::fill(x, 9);
                for (int64_t tk = 0; tk < n_tok; ++tk)
                    for (int64_t k = 0; k < n_used; ++k) *test::i32(ids, k, tk) = int32_t((tk * 2 + k * 3) % n_expert);
                m.push();
                be().matmul_id(w.dev, m.on_backend(x), m.on_backend(ids), m.on_backend(y));
                m.pull();
                cpu::matmul_id_ref(w.host, x, ids, y_ref);
                expect_close(y, y_ref,
                             magnitudes(w.host, x, y, [&](auto a, auto b, auto c) { cpu::matmul_id_ref(a, b, ids, c); }),
                             matmul_tolerance(t));
            }
    }
}

TEST_P(Conformance, GetRowsEveryWeightType) {
    for (GgmlType t : kWeightTypes) {
        if (!be().supports(Op::GetRows, t)) continue;
        const int64_t n = type_traits(t).block_size == 1 ? 48 : type_traits(t).block_size;
        Weight w = load(be(), t, {n, 10}, 3, WeightUse::Rows);
        Mirror m(be(), 5 * 4 + size_t(2 * 5 * n) * 4);
        const Tensor ids = m.tensor(0, GgmlType::I32, {5});
        const Tensor y = m.tensor(20, GgmlType::F32, {n, 5}), y_ref = m.tensor(20 + size_t(5 * n) * 4, GgmlType::F32, {n, 5});
        const int32_t pick[5] = {3, 0, 9, 3, 7};
        std::memcpy(test::i32(ids), pick, sizeof pick);
        m.push();
        be().get_rows(w.dev, m.on_backend(ids), m.on_backend(y));
        m.pull();
        cpu::get_rows_ref(w.host, ids, y_ref);
        EXPECT_EQ(test::values(y), test::values(y_ref)) << type_traits(t).name;
    }
}

// Vectors stored as F16/BF16 arrive as F32.
TEST_P(Conformance, VectorWeightsBecomeF32) {
    std::vector<uint16_t> h{fp32_to_fp16(1.5f), fp32_to_fp16(-2.0f), fp32_to_fp16(0.25f)};
    WeightSource src;
    src.name = "norm";
    src.type = GgmlType::F16;
    src.ne[0] = 3;
    src.data = h.data();
    src.use = WeightUse::Vector;
    const Tensor t = be().load_weight(src).tensor;
    ASSERT_EQ(t.type, GgmlType::F32);
    float out[3];
    be().download(t, out);
    EXPECT_EQ(out[0], 1.5f);
    EXPECT_EQ(out[1], -2.0f);
    EXPECT_EQ(out[2], 0.25f);
}

TEST_P(Conformance, RmsNormOnStridedRows) {
    for (int64_t n : {1, 7, 64, 65}) {
        Mirror m(be(), size_t(3 * (n + 5) + n + 2 * 3 * n) * 4);
        const Tensor x = m.tensor(0, GgmlType::F32, {n + 5, 3}).slice(0, 0, n);
        const Tensor w = m.tensor(size_t(3 * (n + 5)) * 4, GgmlType::F32, {n});
        const Tensor y = m.tensor(size_t(3 * (n + 5) + n) * 4, GgmlType::F32, {n, 3});
        const Tensor y_ref = m.tensor(size_t(3 * (n + 5) + n + 3 * n) * 4, GgmlType::F32, {n, 3});
        test::fill(x, 1);
        test::fill(w, 2);
        m.push();
        be().rms_norm(m.on_backend(x), m.on_backend(w), m.on_backend(y), 1e-5f);
        m.pull();
        cpu::rms_norm_ref(x, w, y_ref, 1e-5f);
        EXPECT_LT(test::max_abs_diff(test::values(y), test::values(y_ref)), 1e-6) << n;
    }
}

// RoPE on a slice of each head (deepseek2's rope dims after the nope dims), both pairings,
// YaRN table, positions out of order.
TEST_P(Conformance, RopeOnHeadSliceWithYarn) {
    const int64_t head_dim = 24, n_head = 3, n_tok = 4, n_ctx = 40;
    for (RopeMode mode : {RopeMode::Norm, RopeMode::Neox})
        for (int64_t n_rot : {16, 8})
            for (float yarn : {1.0f, 40.0f}) {
                const size_t xb = size_t(head_dim * n_head * n_tok) * 4, tb = size_t(n_ctx * n_rot) * 4;
                Mirror m(be(), 2 * xb + tb + 16);
                const Tensor x0 = m.tensor(0, GgmlType::F32, {head_dim, n_head, n_tok});
                const Tensor x1 = m.tensor(xb, GgmlType::F32, {head_dim, n_head, n_tok});
                const Tensor table = m.tensor(2 * xb, GgmlType::F32, {2, n_rot / 2, n_ctx});
                const Tensor pos = m.tensor(2 * xb + tb, GgmlType::I32, {n_tok});
                test::fill(x0, 4);
                std::memcpy(m.bytes().data() + xb, m.bytes().data(), xb);
                const int32_t p[4] = {5, 3, 39, 0};
                std::memcpy(test::i32(pos), p, sizeof p);
                rope_table({.n_rot = int32_t(n_rot), .freq_base = 10000.0f, .yarn_factor = yarn, .yarn_orig_ctx = 16,
                            .attn_factor = yarn > 1 ? 0.9f : 1.0f},
                           int32_t(n_ctx), test::f32(table));
                m.push();
                const int64_t off = head_dim - n_rot;  // the last n_rot dims of each head
                be().rope({.x = m.on_backend(x0).slice(0, off, n_rot), .positions = m.on_backend(pos),
                           .table = m.on_backend(table), .mode = mode});
                m.pull();
                cpu::rope_ref({.x = x1.slice(0, off, n_rot), .positions = pos, .table = table, .mode = mode});
                EXPECT_LT(test::max_abs_diff(test::values(x0), test::values(x1)), 1e-6);
            }
}

// Attention with K and V widths apart, V a view into K's rows (MLA), GQA and MQA, both cache
// types, positions per token (a batch continuing a cache).
struct AttnCase {
    int64_t n_head, n_kv_head, dk, dv;
    bool v_in_k;
};

TEST_P(Conformance, AttentionWidthsViewsAndCacheTypes) {
    for (const AttnCase c : {AttnCase{4, 2, 32, 32, false}, AttnCase{4, 1, 72, 64, true}, AttnCase{3, 3, 8, 8, false},
                             AttnCase{2, 1, 40, 24, false}})
        for (GgmlType ct : {GgmlType::F32, GgmlType::F16})
            for (int64_t n_tok : {1, 37}) {
                if (!be().supports(Op::Attention, ct)) continue;
                SCOPED_TRACE(testing::Message() << "dk " << c.dk << " dv " << c.dv << " cache "
                                                << type_traits(ct).name << " n_tok " << n_tok);
                const int64_t n_kv = 45, es = ct == GgmlType::F16 ? 2 : 4;
                const size_t qb = size_t(c.dk * c.n_head * n_tok) * 4, kb = size_t(c.dk * c.n_kv_head * n_kv * es),
                             vb = size_t(c.dv * c.n_kv_head * n_kv * es), ob = size_t(c.dv * c.n_head * n_tok) * 4;
                Mirror m(be(), qb + kb + vb + 2 * ob + size_t(n_tok) * 4 + 64);
                const Tensor q = m.tensor(0, GgmlType::F32, {c.dk, c.n_head, n_tok});
                const Tensor k = m.tensor(qb, ct, {c.dk, c.n_kv_head, n_kv});
                const Tensor v = c.v_in_k ? k.view({c.dv, c.n_kv_head, n_kv}, {k.nb[1], k.nb[2]})
                                          : m.tensor(qb + kb, ct, {c.dv, c.n_kv_head, n_kv});
                const Tensor out = m.tensor(qb + kb + vb, GgmlType::F32, {c.dv, c.n_head, n_tok});
                const Tensor out_ref = m.tensor(qb + kb + vb + ob, GgmlType::F32, {c.dv, c.n_head, n_tok});
                const Tensor pos = m.tensor(qb + kb + vb + 2 * ob, GgmlType::I32, {n_tok});
                test::fill(q, 5);
                auto kv = test::randn(size_t(c.dk * c.n_kv_head * n_kv + c.dv * c.n_kv_head * n_kv), 6);
                for (size_t i = 0; i < kv.size(); ++i) {
                    auto* base = m.bytes().data() + qb;
                    if (ct == GgmlType::F16) reinterpret_cast<uint16_t*>(base)[i] = fp32_to_fp16(kv[i]);
                    else reinterpret_cast<float*>(base)[i] = kv[i];
                }
                for (int64_t t = 0; t < n_tok; ++t) *test::i32(pos, t) = int32_t(n_kv - n_tok + t);
                m.push();
                be().attention({.q = m.on_backend(q), .k = m.on_backend(k), .v = m.on_backend(v),
                                .out = m.on_backend(out), .positions = m.on_backend(pos), .scale = 0.3f});
                m.pull();
                cpu::attention_ref({.q = q, .k = k, .v = v, .out = out_ref, .positions = pos, .scale = 0.3f});
                EXPECT_LT(test::max_abs_diff(test::values(out), test::values(out_ref)), 1e-5);
            }
}

// A batch mixing sequences (the server): three sequences at cells 0, 40 and 90 of one cache,
// tokens interleaved out of order, each attending only to its own sequence's cells up to its
// position. Checked against the reference and, independently, against one-sequence attention
// of each token over a view of its sequence's cells (the single-sequence semantics).
TEST_P(Conformance, AttentionMultiSequenceBatch) {
    const int64_t dk = 40, dv = 32, n_head = 4, n_kv_head = 2, n_kv = 128;
    const int32_t cell0[] = {0, 40, 90};
    const int32_t seq[] = {1, 0, 1, 2, 2, 0, 1, 2, 0};  // 9 tokens, seq 2 first at position 30
    const int32_t pos[] = {7, 0, 8, 30, 31, 1, 9, 32, 2};
    const int64_t n_tok = 9;
    for (GgmlType ct : {GgmlType::F32, GgmlType::F16}) {
        if (!be().supports(Op::Attention, ct)) continue;
        SCOPED_TRACE(type_traits(ct).name);
        const size_t es = ct == GgmlType::F16 ? 2 : 4, qb = size_t(dk * n_head * n_tok) * 4,
                     kb = size_t(dk * n_kv_head * n_kv) * es, vb = size_t(dv * n_kv_head * n_kv) * es,
                     ob = size_t(dv * n_head * n_tok) * 4, ib = size_t(n_tok) * 4;
        Mirror m(be(), qb + kb + vb + 3 * ob + 3 * ib + 64);
        const Tensor q = m.tensor(0, GgmlType::F32, {dk, n_head, n_tok});
        const Tensor k = m.tensor(qb, ct, {dk, n_kv_head, n_kv});
        const Tensor v = m.tensor(qb + kb, ct, {dv, n_kv_head, n_kv});
        const Tensor out = m.tensor(qb + kb + vb, GgmlType::F32, {dv, n_head, n_tok});
        const Tensor out_ref = m.tensor(qb + kb + vb + ob, GgmlType::F32, {dv, n_head, n_tok});
        const Tensor out_one = m.tensor(qb + kb + vb + 2 * ob, GgmlType::F32, {dv, n_head, n_tok});
        const size_t ib0 = qb + kb + vb + 3 * ob;
        const Tensor tpos = m.tensor(ib0, GgmlType::I32, {n_tok});
        const Tensor tseq = m.tensor(ib0 + ib, GgmlType::I32, {n_tok});
        const Tensor tcell0 = m.tensor(ib0 + 2 * ib, GgmlType::I32, {3});
        test::fill(q, 7);
        const auto kv = test::randn(size_t((dk + dv) * n_kv_head * n_kv), 8);
        for (size_t i = 0; i < kv.size(); ++i) {
            auto* base = m.bytes().data() + qb;
            if (ct == GgmlType::F16) reinterpret_cast<uint16_t*>(base)[i] = fp32_to_fp16(kv[i]);
            else reinterpret_cast<float*>(base)[i] = kv[i];
        }
        for (int64_t t = 0; t < n_tok; ++t) {
            *test::i32(tpos, t) = pos[t];
            *test::i32(tseq, t) = seq[t];
        }
        for (int s = 0; s < 3; ++s) *test::i32(tcell0, s) = cell0[s];
        m.push();
        be().attention({.q = m.on_backend(q), .k = m.on_backend(k), .v = m.on_backend(v), .out = m.on_backend(out),
                        .positions = m.on_backend(tpos), .scale = 0.2f, .seq = m.on_backend(tseq),
                        .seq_cell0 = m.on_backend(tcell0)});
        m.pull();
        cpu::attention_ref({.q = q, .k = k, .v = v, .out = out_ref, .positions = tpos, .scale = 0.2f, .seq = tseq,
                            .seq_cell0 = tcell0});
        EXPECT_LT(test::max_abs_diff(test::values(out), test::values(out_ref)), 1e-5);
        for (int64_t t = 0; t < n_tok; ++t) {  // token t alone over its sequence's cells
            const int64_t c0 = cell0[seq[t]];
            cpu::attention_ref({.q = q.slice(2, t, 1), .k = k.slice(2, c0, n_kv - c0), .v = v.slice(2, c0, n_kv - c0),
                                .out = out_one.slice(2, t, 1), .positions = tpos.slice(0, t, 1), .scale = 0.2f});
        }
        EXPECT_LT(test::max_abs_diff(test::values(out_ref), test::values(out_one)), 1e-6);
    }
}

// The element-wise family, each on a strided view or with broadcasting.
TEST_P(Conformance, ElementwiseOps) {
    const int64_t n = 4096 + 37, rows = 3;
    const size_t tb = size_t((n + 3) * rows) * 4;
    Mirror m(be(), 6 * tb + 64);
    auto t = [&](int i) { return m.tensor(size_t(i) * tb, GgmlType::F32, {n + 3, rows}).slice(0, 0, n); };
    const Tensor a = t(0), b = t(1), y = t(2), y_ref = t(3);
    const Tensor bias = m.tensor(4 * tb, GgmlType::F32, {n});
    const Tensor per_row = m.tensor(5 * tb, GgmlType::F32, {1, rows});
    test::fill(a, 1, 3.0f);
    test::fill(b, 2);
    test::fill(bias, 3);
    test::fill(per_row, 4);
    auto check = [&](const char* what, auto run, auto ref, double tol) {
        std::fill(test::f32(y), test::f32(y) + 1, 0.0f);
        m.push();
        run();
        m.pull();
        ref();
        EXPECT_LE(test::max_abs_diff(test::values(y), test::values(y_ref)), tol) << what;
    };
    const Tensor A = m.on_backend(a), B = m.on_backend(b), Y = m.on_backend(y);
    check("swiglu", [&] { be().swiglu(A, B, Y); }, [&] { cpu::swiglu_ref(a, b, y_ref); }, 1e-5);
    check("add", [&] { be().add(A, B, Y); }, [&] { cpu::add_ref(a, b, y_ref); }, 0);
    check("add bias", [&] { be().add(A, m.on_backend(bias), Y); }, [&] { cpu::add_ref(a, bias, y_ref); }, 0);
    check("mul per row", [&] { be().mul(A, m.on_backend(per_row), Y); }, [&] { cpu::mul_ref(a, per_row, y_ref); }, 0);
    check("scale", [&] { be().scale(A, -0.75f, Y); }, [&] { cpu::scale_ref(a, -0.75f, y_ref); }, 0);
    // Values below 1 by a few units in the last place (6e-8 each): a GPU's exp is not the host
    // libm's (Vulkan allows 3 + 2|x| ulp).
    check("sigmoid", [&] { be().sigmoid(A, Y); }, [&] { cpu::sigmoid_ref(a, y_ref); }, 3e-7);
    check("softmax", [&] { be().softmax(A, Y); }, [&] { cpu::softmax_ref(a, y_ref); }, 1e-7);
    check("copy", [&] { be().copy(A, Y); }, [&] { cpu::copy_ref(a, y_ref); }, 0);
}

// Copies with conversion into views: concat of two halves into one row, F32 -> F16 -> F32.
TEST_P(Conformance, CopyConvertsAndConcatenates) {
    const int64_t n0 = 40, n1 = 24, rows = 5;
    Mirror m(be(), size_t((n0 + n1) * rows) * (4 + 2 + 4 + 4) + 64);
    const Tensor a = m.tensor(0, GgmlType::F32, {n0, rows});
    const Tensor b = m.tensor(size_t(n0 * rows) * 4, GgmlType::F32, {n1, rows});
    const size_t hb = size_t((n0 + n1) * rows) * 4;
    const Tensor h = m.tensor(hb, GgmlType::F16, {n0 + n1, rows});
    const Tensor back = m.tensor(hb + size_t((n0 + n1) * rows) * 2, GgmlType::F32, {n0 + n1, rows});
    test::fill(a, 1);
    test::fill(b, 2);
    m.push();
    be().copy(m.on_backend(a), m.on_backend(h).slice(0, 0, n0));
    be().copy(m.on_backend(b), m.on_backend(h).slice(0, n0, n1));
    be().copy(m.on_backend(h), m.on_backend(back));
    m.pull();
    for (int64_t r = 0; r < rows; ++r)
        for (int64_t i = 0; i < n0 + n1; ++i) {
            const float src = i < n0 ? *test::f32(a, i, r) : *test::f32(b, i - n0, r);
            EXPECT_EQ(*test::f32(back, i, r), fp16_to_fp32(fp32_to_fp16(src)));
        }
}

TEST_P(Conformance, ArgmaxPerRow) {
    Mirror m(be(), 4 * 17 * 4 + 16);
    const Tensor x = m.tensor(0, GgmlType::F32, {17, 4});
    const Tensor ids = m.tensor(4 * 17 * 4, GgmlType::I32, {4});
    test::fill(x, 3);
    *test::f32(x, 16, 0) = 100;  // last element wins
    *test::f32(x, 2, 1) = 50;    // ties: the first
    *test::f32(x, 9, 1) = 50;
    m.push();
    be().argmax(m.on_backend(x), m.on_backend(ids));
    m.pull();
    EXPECT_EQ(*test::i32(ids, 0), 16);
    EXPECT_EQ(*test::i32(ids, 1), 2);
    std::vector<int32_t> want(4);
    Tensor ref = ids;
    std::vector<int32_t> host(4);
    ref.buffer = {host.data(), 16};
    ref.offset = 0;
    cpu::argmax_ref(x, ref);
    for (int r = 0; r < 4; ++r) EXPECT_EQ(*test::i32(ids, r), host[size_t(r)]);
}

TEST_P(Conformance, MoeRouting) {
    const int64_t n_expert = 16, n_used = 4, n_tok = 7;
    for (Gating g : {Gating::Softmax, Gating::Sigmoid})
        for (int32_t n_group : {1, 4})
            for (bool with_bias : {false, true}) {
                Mirror m(be(), size_t(n_expert * n_tok + n_expert + 4 * n_used * n_tok) * 4);
                const size_t lb = size_t(n_expert * n_tok) * 4, bb = size_t(n_expert) * 4, ob = size_t(n_used * n_tok) * 4;
                const Tensor logits = m.tensor(0, GgmlType::F32, {n_expert, n_tok});
                const Tensor bias = m.tensor(lb, GgmlType::F32, {n_expert});
                const Tensor ids = m.tensor(lb + bb, GgmlType::I32, {n_used, n_tok});
                const Tensor w = m.tensor(lb + bb + ob, GgmlType::F32, {n_used, n_tok});
                const Tensor ids_ref = m.tensor(lb + bb + 2 * ob, GgmlType::I32, {n_used, n_tok});
                const Tensor w_ref = m.tensor(lb + bb + 3 * ob, GgmlType::F32, {n_used, n_tok});
                test::fill(logits, 8, 2.0f);
                test::fill(bias, 9, 0.3f);
                m.push();
                MoeRouteArgs a{.logits = m.on_backend(logits), .bias = with_bias ? m.on_backend(bias) : Tensor{},
                               .ids = m.on_backend(ids), .weights = m.on_backend(w), .gating = g, .n_group = n_group,
                               .n_group_used = n_group > 1 ? 2 : 1, .norm = g == Gating::Sigmoid, .scale = 2.5f};
                be().moe_route(a);
                m.pull();
                a.logits = logits, a.bias = with_bias ? bias : Tensor{}, a.ids = ids_ref, a.weights = w_ref;
                cpu::moe_route_ref(a);
                for (int64_t t = 0; t < n_tok; ++t)
                    for (int64_t k = 0; k < n_used; ++k) {
                        EXPECT_EQ(*test::i32(ids, k, t), *test::i32(ids_ref, k, t));
                        EXPECT_NEAR(*test::f32(w, k, t), *test::f32(w_ref, k, t), 1e-6);
                    }
            }
}

INSTANTIATE_TEST_SUITE_P(Backends, Conformance, testing::Values("cpu", "vulkan", "cuda"),
                         [](const auto& info) { return std::string(info.param); });

}  // namespace
}  // namespace r1
