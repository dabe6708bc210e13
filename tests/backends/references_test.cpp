// The CPU scalar references (the conformance suite's oracle) against the definitions written
// independently in double precision (the SIMD kernels against theirs: tests/cpu), and the
// CPU backend's results for 1, 2 and 3 threads (which must be bit-identical).
#include <gtest/gtest.h>

#include <cmath>

#include "backends/cpu/ops/ops.h"
#include "core/error.h"
#include "quant/fp16.h"
#include "tests/backends/harness.h"

namespace r1 {
namespace {

using test::Mirror;

Tensor host(std::vector<float>& v, std::initializer_list<int64_t> ne) {
    return make_tensor({v.data(), v.size() * 4}, 0, GgmlType::F32, ne);
}
Tensor host_i32(std::vector<int32_t>& v) {
    return make_tensor({v.data(), v.size() * 4}, 0, GgmlType::I32, {int64_t(v.size())});
}

TEST(References, MatmulRefIsTheDequantizedProduct) {
    for (GgmlType t : {GgmlType::F16, GgmlType::Q8_0, GgmlType::Q4_K}) {
        const int64_t n_in = type_traits(t).block_size == 1 ? 64 : 256, n_out = 9, n_tok = 3;
        auto bytes = test::quantized_weights(t, n_in, n_out, 1);
        const Tensor w = make_tensor({bytes.data(), bytes.size()}, 0, t, {n_in, n_out});
        auto xv = test::randn(size_t(n_in * n_tok), 2);
        std::vector<float> yv(size_t(n_out * n_tok)), deq(static_cast<size_t>(n_in));
        cpu::matmul_ref(w, host(xv, {n_in, n_tok}), host(yv, {n_out, n_tok}));
        for (int64_t r = 0; r < n_out; ++r) {
            codec(t)->dequantize_row(bytes.data() + size_t(r) * row_bytes(t, uint64_t(n_in)), deq.data(), n_in);
            for (int64_t k = 0; k < n_tok; ++k) {
                double s = 0, mag = 0;
                for (int64_t i = 0; i < n_in; ++i) {
                    s += double(deq[size_t(i)]) * xv[size_t(k * n_in + i)];
                    mag += std::fabs(double(deq[size_t(i)]) * xv[size_t(k * n_in + i)]);
                }
                EXPECT_NEAR(yv[size_t(k * n_out + r)], s, 1e-5 * mag + 1e-6);
            }
        }
    }
}

TEST(References, RmsNorm) {
    for (int64_t n : {1, 7, 65}) {
        auto x = test::randn(size_t(3 * n), 1), w = test::randn(size_t(n), 2);
        std::vector<float> y(x.size());
        cpu::rms_norm_ref(host(x, {n, 3}), host(w, {n}), host(y, {n, 3}), 1e-5f);
        for (int64_t r = 0; r < 3; ++r) {
            double ss = 0;
            for (int64_t i = 0; i < n; ++i) ss += double(x[size_t(r * n + i)]) * x[size_t(r * n + i)];
            const double s = 1 / std::sqrt(ss / double(n) + 1e-5);
            for (int64_t i = 0; i < n; ++i) EXPECT_NEAR(y[size_t(r * n + i)], x[size_t(r * n + i)] * s * w[size_t(i)], 1e-5);
        }
    }
}

// The RoPE table and op against the rotation written from the definition (GGUF.md §3.2, §5.5),
// both pairings, frequency factors, and YaRN with R1's numbers scaled down.
TEST(References, RopeTableAndRotation) {
    const int64_t n_head = 2, head_dim = 16, n_tok = 3, n_ctx = 64;
    for (RopeMode mode : {RopeMode::Norm, RopeMode::Neox})
        for (int64_t n_rot : {16, 8})
            for (int variant : {0, 1, 2}) {  // plain, frequency factors, YaRN
                std::vector<float> ff{1.0f, 2.5f, 8.0f, 3.0f, 1.0f, 1.5f, 4.0f, 2.0f};
                RopeConfig rc{.n_rot = int32_t(n_rot), .freq_base = 10000.0f,
                              .freq_factors = variant == 1 ? ff.data() : nullptr};
                if (variant == 2) rc.yarn_factor = 40.0f, rc.yarn_orig_ctx = 32, rc.attn_factor = 0.8f;
                std::vector<float> table(size_t(n_ctx * n_rot));
                rope_table(rc, int32_t(n_ctx), table.data());
                auto x = test::randn(size_t(n_tok * n_head * head_dim), 4);
                auto y = x;
                std::vector<int32_t> pos{7, 0, 63};
                cpu::rope_ref({.x = host(y, {head_dim, n_head, n_tok}).slice(0, 0, n_rot), .positions = host_i32(pos),
                               .table = host(table, {2, n_rot / 2, n_ctx}), .mode = mode});
                // YaRN ramp from its definition.
                const double L = 32, base = 10000;
                auto corr = [&](double beta) { return double(n_rot) * std::log(L / (beta * 2 * M_PI)) / (2 * std::log(base)); };
                const double low = std::max(0.0, std::floor(corr(32))), high = std::min(double(n_rot - 1), std::ceil(corr(1)));
                for (int t = 0; t < n_tok; ++t)
                    for (int h = 0; h < n_head; ++h)
                        for (int d = 0; d < head_dim; ++d) {
                            const float* in = x.data() + (t * n_head + h) * head_dim;
                            double want = in[d];
                            if (d < n_rot) {
                                const int half = int(n_rot / 2);
                                const int i = mode == RopeMode::Neox ? d % half : d / 2;
                                const bool first = mode == RopeMode::Neox ? d < half : d % 2 == 0;
                                const int i0 = mode == RopeMode::Neox ? i : 2 * i, i1 = mode == RopeMode::Neox ? i + half : 2 * i + 1;
                                double f = std::pow(base, -2.0 * i / double(n_rot)) / (variant == 1 ? ff[size_t(i)] : 1.0);
                                double mag = 1;
                                if (variant == 2) {
                                    const double ramp = std::clamp((i - low) / std::max(0.001, high - low), 0.0, 1.0);
                                    f = f / 40 * ramp + f * (1 - ramp);
                                    mag = 0.8;
                                }
                                const double th = pos[size_t(t)] * f;
                                want = first ? mag * (in[i0] * std::cos(th) - in[i1] * std::sin(th))
                                             : mag * (in[i0] * std::sin(th) + in[i1] * std::cos(th));
                            }
                            EXPECT_NEAR(y[size_t((t * n_head + h) * head_dim + d)], want, 2e-4 * (1 + std::fabs(want)))
                                << "variant " << variant;
                        }
            }
}

// Attention reference vs the softmax formula in double, K and V of different widths.
TEST(References, AttentionRefIsCausalSoftmax) {
    const int64_t n_head = 4, n_kv = 2, dk = 12, dv = 8, n_tok = 5, n_ctx = 9;
    auto q = test::randn(size_t(dk * n_head * n_tok), 1), k = test::randn(size_t(dk * n_kv * n_ctx), 2),
         v = test::randn(size_t(dv * n_kv * n_ctx), 3);
    std::vector<float> out(size_t(dv * n_head * n_tok));
    std::vector<int32_t> pos{4, 5, 6, 7, 8};
    cpu::attention_ref({.q = host(q, {dk, n_head, n_tok}), .k = host(k, {dk, n_kv, n_ctx}), .v = host(v, {dv, n_kv, n_ctx}),
                        .out = host(out, {dv, n_head, n_tok}), .positions = host_i32(pos), .scale = 0.4f});
    for (int64_t t = 0; t < n_tok; ++t)
        for (int64_t h = 0; h < n_head; ++h) {
            const int64_t g = h / (n_head / n_kv);
            std::vector<double> s;
            double mx = -1e300, sum = 0;
            for (int64_t j = 0; j <= pos[size_t(t)]; ++j) {
                double d = 0;
                for (int64_t e = 0; e < dk; ++e) d += q[size_t((t * n_head + h) * dk + e)] * double(k[size_t((j * n_kv + g) * dk + e)]);
                s.push_back(d * 0.4);
                mx = std::max(mx, s.back());
            }
            for (auto& x : s) sum += x = std::exp(x - mx);
            for (int64_t e = 0; e < dv; ++e) {
                double o = 0;
                for (size_t j = 0; j < s.size(); ++j) o += s[j] / sum * v[(j * size_t(n_kv) + size_t(g)) * size_t(dv) + size_t(e)];
                EXPECT_NEAR(out[size_t((t * n_head + h) * dv + e)], o, 1e-5);
            }
        }
}

// Routing reference on a hand-worked case (GGUF.md §5.2): 8 experts in 4 groups of 2, sigmoid
// gating, a bias that changes the selection but not the weights.
TEST(References, MoeRouteHandWorked) {
    // s' = s + b; groups {0,1} {2,3} {4,5} {6,7}.
    std::vector<float> logits{0.0f, 2.0f, -1.0f, 3.0f, 1.0f, 1.0f, -2.0f, 0.5f};
    std::vector<float> bias{0, 0, 0, 0, 0, 0, 2.0f, 0};  // expert 6 selectable only through its bias
    std::vector<int32_t> ids(2);
    std::vector<float> w(2);
    auto sig = [](double x) { return 1 / (1 + std::exp(-x)); };
    MoeRouteArgs a{.logits = host(logits, {8, 1}), .bias = host(bias, {8}),
                   .ids = make_tensor({ids.data(), 8}, 0, GgmlType::I32, {2, 1}), .weights = host(w, {2, 1}),
                   .gating = Gating::Sigmoid, .n_group = 4, .n_group_used = 2, .norm = true, .scale = 2.5f};
    cpu::moe_route_ref(a);
    // Group scores (top-2 sums of s'): g0 .5+.88, g1 .27+.95, g2 .73+.73, g3 (.12+2)+.62 -> g3, g2 kept.
    EXPECT_EQ(ids[0], 6);
    EXPECT_EQ(ids[1], 4);  // 4 and 5 tie: the lower index
    const double s6 = sig(-2.0), s4 = sig(1.0);
    EXPECT_NEAR(w[0], s6 / (s6 + s4) * 2.5, 1e-6);
    EXPECT_NEAR(w[1], s4 / (s6 + s4) * 2.5, 1e-6);
}

// The CPU backend gives the same bits for any thread count.
TEST(CpuBackend, ThreadCountDoesNotChangeResults) {
    std::vector<std::vector<float>> results;
    for (int threads : {1, 2, 3}) {
        auto be = create_backend({.name = "cpu", .n_threads = threads});
        const int64_t n_in = 256, n_out = 300, n_tok = 37;
        auto bytes = test::quantized_weights(GgmlType::Q4_K, n_in, n_out, 1);
        WeightSource src;
        src.type = GgmlType::Q4_K;
        src.ne[0] = n_in, src.ne[1] = n_out;
        src.data = bytes.data();
        const Tensor w = be->load_weight(src).tensor;
        Mirror m(*be, size_t(n_in + n_out) * n_tok * 4);
        const Tensor x = m.tensor(0, GgmlType::F32, {n_in, n_tok}), y = m.tensor(size_t(n_in * n_tok) * 4, GgmlType::F32, {n_out, n_tok});
        test::fill(x, 3);
        m.push();
        be->matmul(w, m.on_backend(x), m.on_backend(y));
        be->softmax(m.on_backend(y), m.on_backend(y));
        m.pull();
        results.push_back(test::values(y));
    }
    EXPECT_EQ(results[0], results[1]);
    EXPECT_EQ(results[0], results[2]);
}

TEST(CpuBackend, CreateBuffersAndTensorViews) {
    auto be = create_backend({.name = "cpu", .n_threads = 2});
    EXPECT_EQ(be->name(), "cpu");
    EXPECT_TRUE(be->supports(Op::Matmul, GgmlType::Q4_K));
    EXPECT_FALSE(be->supports(Op::Matmul, GgmlType::IQ2_XXS));
    EXPECT_FALSE(be->supports(Op::Attention, GgmlType::Q8_0));
    Buffer b = be->alloc(64);
    const Tensor t = make_tensor(b, 0, GgmlType::F32, {4, 4});
    EXPECT_TRUE(t.contiguous());
    EXPECT_FALSE(t.slice(0, 1, 2).contiguous());
    EXPECT_TRUE(t.slice(1, 1, 2).contiguous());
    EXPECT_EQ(t.slice(1, 1, 2).offset, 16u);
    EXPECT_EQ(t.reshape({2, 8}).nb[1], 8u);
    const float in[4] = {1, 2, 3, 4};
    float out[4] = {};
    be->upload(t.slice(1, 2, 1), in);
    be->download(t.slice(1, 2, 1), out);
    EXPECT_EQ(out[3], 4.0f);
    be->free(b);
    EXPECT_THROW(create_backend({.name = "metal"}), Error);
    EXPECT_GE(resolve_threads(0), 1);
    EXPECT_EQ(resolve_threads(100000), 1024);
}

}  // namespace
}  // namespace r1
