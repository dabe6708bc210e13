// CPU backend ops against independent double-precision references (the specification in
// ops.h), and the threaded ops against their one-thread references for 1, 2 and 3 threads.
#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <vector>

#include "backends/cpu/kernels.h"
#include "backends/cpu/ops/cpu_backend.h"
#include "backends/cpu/ops/ops.h"
#include "quant/codecs.h"
#include "quant/fp16.h"
#include "core/error.h"

namespace r1 {
namespace {

std::vector<float> randn(size_t n, uint32_t seed, float scale = 1.0f) {
    std::mt19937 g(seed);
    std::normal_distribution<float> d(0.0f, scale);
    std::vector<float> v(n);
    for (auto& x : v) x = d(g);
    return v;
}

// Quantizes rows with quant/'s codec and returns the file bytes and their dequantized floats.
struct QuantMatrix {
    std::vector<uint8_t> bytes;
    std::vector<float> deq;  // (n_out, n_in)
    WeightView view;
};
QuantMatrix make_matrix(GgmlType t, int64_t n_out, int64_t n_in, uint32_t seed) {
    QuantMatrix m;
    auto w = randn(size_t(n_out * n_in), seed, 0.5f);
    m.bytes.resize(size_t(n_out) * row_bytes(t, uint64_t(n_in)));
    quantize_rows(t, w.data(), m.bytes.data(), n_out, n_in);
    m.deq.resize(w.size());
    for (int64_t r = 0; r < n_out; ++r)
        codec(t)->dequantize_row(m.bytes.data() + size_t(r) * row_bytes(t, uint64_t(n_in)), m.deq.data() + r * n_in, n_in);
    m.view = {.type = t, .n_out = n_out, .n_in = n_in, .data = m.bytes.data()};
    return m;
}

class MatmulTypes : public testing::TestWithParam<GgmlType> {};

TEST_P(MatmulTypes, MatchesDoubleReferenceAndThreadsAgree) {
    const GgmlType t = GetParam();
    const int64_t block = type_traits(t).block_size;
    for (int64_t n_in : {block, 2 * block, 3 * block}) {
        for (int64_t n_out : {1, 15, 16, 17, 33}) {
            auto m = make_matrix(t, n_out, n_in, uint32_t(n_out * 7 + n_in));
            const int64_t n_tok = 5;
            auto x = randn(size_t(n_tok * n_in), 99);
            // The threaded op multiplies by x quantized to its kernel's activation type.
            auto xq = x;
            double tol = 1e-5;
            for (const auto& k : cpu::matvec_kernels())
                if (k.weight == t && k.act != GgmlType::F32) {
                    std::vector<uint8_t> blocks(row_bytes(k.act, uint64_t(n_in)));
                    for (int64_t tk = 0; tk < n_tok; ++tk) {
                        codec(k.act)->quantize_row(x.data() + tk * n_in, blocks.data(), n_in);
                        codec(k.act)->dequantize_row(blocks.data(), xq.data() + tk * n_in, n_in);
                    }
                    tol = std::max(k.rel_tol, 1e-5);
                }
            std::vector<float> ref(size_t(n_tok * n_out)), y1(ref.size()), y2(ref.size()), y3(ref.size());
            cpu::matmul_ref(m.view, x.data(), n_tok, ref.data());
            cpu::matmul(m.view, x.data(), n_tok, y1.data(), 1);
            cpu::matmul(m.view, x.data(), n_tok, y2.data(), 2);
            cpu::matmul(m.view, x.data(), n_tok, y3.data(), 3);
            for (int64_t tk = 0; tk < n_tok; ++tk)
                for (int64_t r = 0; r < n_out; ++r) {
                    double s = 0, sq = 0, mag = 0;
                    for (int64_t i = 0; i < n_in; ++i) {
                        const double wi = m.deq[size_t(r * n_in + i)];
                        s += wi * x[size_t(tk * n_in + i)];
                        sq += wi * xq[size_t(tk * n_in + i)];
                        mag += std::fabs(wi * x[size_t(tk * n_in + i)]);
                    }
                    const size_t k = size_t(tk * n_out + r);
                    EXPECT_NEAR(ref[k], s, 1e-5 * mag + 1e-6) << "type " << type_traits(t).name;
                    EXPECT_NEAR(y1[k], sq, tol * mag + 1e-6) << "type " << type_traits(t).name;
                }
            EXPECT_EQ(y1, y2);
            EXPECT_EQ(y1, y3);
        }
    }
}

INSTANTIATE_TEST_SUITE_P(AllWeightTypes, MatmulTypes,
                         testing::Values(GgmlType::F32, GgmlType::F16, GgmlType::BF16, GgmlType::Q8_0,
                                         GgmlType::Q4_0, GgmlType::Q4_1, GgmlType::Q5_0, GgmlType::Q5_1,
                                         GgmlType::Q4_K, GgmlType::Q5_K, GgmlType::Q6_K),
                         [](const auto& info) { return std::string(type_traits(info.param).name); });

TEST(CpuOps, EmbedGathersDequantizedRows) {
    auto m = make_matrix(GgmlType::Q8_0, 10, 64, 3);
    std::vector<int32_t> ids{3, 0, 9, 3};
    std::vector<float> y(ids.size() * 64);
    cpu::embed(m.view, ids, y.data(), 2);
    for (size_t t = 0; t < ids.size(); ++t)
        for (int i = 0; i < 64; ++i) EXPECT_EQ(y[t * 64 + size_t(i)], m.deq[size_t(ids[t]) * 64 + size_t(i)]);
}

TEST(CpuOps, RmsNorm) {
    for (int64_t n : {1, 7, 64, 65}) {
        auto x = randn(size_t(3 * n), 1), w = randn(size_t(n), 2);
        std::vector<float> ref(x.size()), y(x.size());
        cpu::rms_norm_ref({.x = x.data(), .w = w.data(), .y = ref.data(), .n_rows = 3, .n = n, .eps = 1e-5f});
        cpu::rms_norm({.x = x.data(), .w = w.data(), .y = y.data(), .n_rows = 3, .n = n, .eps = 1e-5f}, 2);
        EXPECT_EQ(ref, y);
        for (int64_t r = 0; r < 3; ++r) {
            double ss = 0;
            for (int64_t i = 0; i < n; ++i) ss += double(x[size_t(r * n + i)]) * x[size_t(r * n + i)];
            const double s = 1 / std::sqrt(ss / double(n) + 1e-5);
            for (int64_t i = 0; i < n; ++i)
                EXPECT_NEAR(ref[size_t(r * n + i)], x[size_t(r * n + i)] * s * w[size_t(i)], 1e-5);
        }
    }
}

// RoPE against the rotation written from the definition, for both pairings and with factors.
TEST(CpuOps, RopeBothModes) {
    const int32_t n_head = 3, head_dim = 8, n_tok = 4, pos0 = 5;
    for (RopeMode mode : {RopeMode::Norm, RopeMode::Neox})
        for (int32_t n_rot : {8, 4})
            for (bool factors : {false, true}) {
                std::vector<float> ff{1.0f, 2.5f, 8.0f, 3.0f};
                auto x = randn(size_t(n_tok * n_head * head_dim), 4);
                auto y = x, z = x;
                RopeArgs a{.x = y.data(), .n_tokens = n_tok, .pos0 = pos0, .n_head = n_head, .head_dim = head_dim,
                           .n_rot = n_rot, .freq_base = 10000.0f, .freq_factors = factors ? ff.data() : nullptr,
                           .mode = mode};
                cpu::rope_ref(a);
                a.x = z.data();
                cpu::rope(a, 2);
                EXPECT_EQ(y, z);
                for (int t = 0; t < n_tok; ++t)
                    for (int h = 0; h < n_head; ++h)
                        for (int d = 0; d < head_dim; ++d) {
                            const float* in = x.data() + (t * n_head + h) * head_dim;
                            double want = in[d];
                            if (d < n_rot) {
                                const int i = mode == RopeMode::Neox ? d % (n_rot / 2) : d / 2;
                                const bool first = mode == RopeMode::Neox ? d < n_rot / 2 : d % 2 == 0;
                                const int i0 = mode == RopeMode::Neox ? i : 2 * i, i1 = mode == RopeMode::Neox ? i + n_rot / 2 : 2 * i + 1;
                                double th = (pos0 + t) * std::pow(10000.0, -2.0 * i / n_rot) / (factors ? ff[size_t(i)] : 1.0);
                                want = first ? in[i0] * std::cos(th) - in[i1] * std::sin(th)
                                             : in[i0] * std::sin(th) + in[i1] * std::cos(th);
                            }
                            EXPECT_NEAR(y[size_t((t * n_head + h) * head_dim + d)], want, 1e-5);
                        }
            }
}

// Attention over a cache filled in two calls equals one call, and both the reference and the
// threaded op (SIMD for head sizes that are a multiple of the vector length) match the plain
// softmax formula in double precision.
class Attention : public testing::TestWithParam<int32_t> {};

TEST_P(Attention, GqaCausalIncremental) {
    const int32_t n_head = 4, n_kv = 2, hd = GetParam(), n_tok = 37, n_ctx = 64;
    auto q = randn(size_t(n_tok * n_head * hd), 5), k = randn(size_t(n_tok * n_kv * hd), 6),
         v = randn(size_t(n_tok * n_kv * hd), 7);
    for (GgmlType ct : {GgmlType::F32, GgmlType::F16}) {
        const size_t cache_bytes = size_t(n_ctx * n_kv * hd) * (ct == GgmlType::F16 ? 2 : 4);
        std::vector<uint8_t> kc(cache_bytes), vc(cache_bytes), kc2(cache_bytes), vc2(cache_bytes);
        std::vector<float> out_ref(q.size()), out1(q.size()), out2(q.size());
        AttentionArgs a{.q = q.data(), .k = k.data(), .v = v.data(), .out = out_ref.data(),
                        .cache = {.k = kc.data(), .v = vc.data(), .type = ct, .n_ctx = n_ctx}, .n_tokens = n_tok,
                        .pos0 = 0, .n_head = n_head, .n_head_kv = n_kv, .head_dim = hd, .scale = 0.35f};
        cpu::attention_ref(a);
        a.out = out1.data();
        cpu::attention(a, 3);
        // Incremental: 20 tokens, then 17.
        AttentionArgs b = a;
        b.cache = {.k = kc2.data(), .v = vc2.data(), .type = ct, .n_ctx = n_ctx};
        b.out = out2.data();
        b.n_tokens = 20;
        cpu::attention(b, 2);
        b.q += 20 * n_head * hd, b.k += 20 * n_kv * hd, b.v += 20 * n_kv * hd, b.out += 20 * n_head * hd;
        b.pos0 = 20, b.n_tokens = 17;
        cpu::attention(b, 2);
        EXPECT_EQ(out1, out2);
        // Definition, with K/V rounded as the cache stores them.
        auto round = [&](float x) { return ct == GgmlType::F16 ? fp16_to_fp32(fp32_to_fp16(x)) : x; };
        for (int t = 0; t < n_tok; ++t)
            for (int h = 0; h < n_head; ++h) {
                const int g = h / (n_head / n_kv);
                std::vector<double> s(size_t(t + 1));
                double mx = -1e300, sum = 0;
                for (int j = 0; j <= t; ++j) {
                    double d = 0;
                    for (int e = 0; e < hd; ++e) d += q[size_t((t * n_head + h) * hd + e)] * double(round(k[size_t((j * n_kv + g) * hd + e)]));
                    s[size_t(j)] = d * 0.35;
                    mx = std::max(mx, s[size_t(j)]);
                }
                for (auto& x : s) sum += x = std::exp(x - mx);
                for (int e = 0; e < hd; ++e) {
                    double o = 0;
                    for (int j = 0; j <= t; ++j) o += s[size_t(j)] / sum * double(round(v[size_t((j * n_kv + g) * hd + e)]));
                    EXPECT_NEAR(out_ref[size_t((t * n_head + h) * hd + e)], o, 1e-5);
                    EXPECT_NEAR(out1[size_t((t * n_head + h) * hd + e)], o, 1e-5);
                }
            }
    }
}

INSTANTIATE_TEST_SUITE_P(HeadSizes, Attention, testing::Values(8, 32, 64, 128));

TEST(CpuOps, ElementwiseAndSoftmax) {
    // SwiGLU over several 4096-element tasks and a ragged tail; float32 evaluation (vector exp,
    // divide, multiply) is good to a few ulp of the result.
    const size_t n_glu = 10000 + 7;
    auto g = randn(n_glu, 8, 3.0f), u = randn(n_glu, 9);
    std::vector<float> y(n_glu);
    cpu::glu(g.data(), u.data(), y.data(), int64_t(n_glu), 2);
    for (size_t i = 0; i < n_glu; ++i) {
        const double want = g[i] / (1 + std::exp(-double(g[i]))) * u[i];
        ASSERT_NEAR(y[i], want, 1e-6 * std::fabs(want) + 1e-30) << i;
    }
    auto s = randn(2 * 17, 10, 5.0f), s0 = s;
    cpu::softmax(s.data(), 2, 17, 2);
    for (int r = 0; r < 2; ++r) {
        double mx = -1e300, sum = 0;
        for (int i = 0; i < 17; ++i) mx = std::max(mx, double(s0[size_t(r * 17 + i)]));
        for (int i = 0; i < 17; ++i) sum += std::exp(s0[size_t(r * 17 + i)] - mx);
        for (int i = 0; i < 17; ++i) EXPECT_NEAR(s[size_t(r * 17 + i)], std::exp(s0[size_t(r * 17 + i)] - mx) / sum, 1e-6);
    }
    std::vector<float> t{1, 3, 2, 3};
    EXPECT_EQ(cpu::argmax(t.data(), 4), 1);
    std::vector<float> a{1, 2}, b{10, 20};
    cpu::add(a.data(), b.data(), 2, 1);
    EXPECT_EQ(a, (std::vector<float>{11, 22}));
    std::vector<float> m{1, 2, 3, 4};
    cpu::add_bias(m.data(), b.data(), 2, 2, 2);
    EXPECT_EQ(m, (std::vector<float>{11, 22, 13, 24}));
}

TEST(CpuBackend, CreateAndBuffers) {
    auto be = create_backend({.name = "cpu", .n_threads = 2});
    EXPECT_EQ(be->name(), "cpu");
    EXPECT_TRUE(be->supports(Op::Matmul, GgmlType::Q4_K));
    EXPECT_FALSE(be->supports(Op::Matmul, GgmlType::IQ2_XXS));
    Buffer b = be->alloc(16);
    const float in[4] = {1, 2, 3, 4};
    float out[4] = {};
    be->upload(b, 0, in, sizeof in);
    be->download(b, 0, out, sizeof out);
    EXPECT_EQ(out[3], 4.0f);
    be->free(b);
    EXPECT_THROW(create_backend({.name = "metal"}), Error);
    EXPECT_EQ(resolve_threads(0) >= 1, true);
    EXPECT_EQ(resolve_threads(100000), 1024);
}

}  // namespace
}  // namespace r1
