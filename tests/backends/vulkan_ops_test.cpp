// The Vulkan ops (backends/vulkan/ops.h) on device 0 — Mesa's lavapipe in CI — against the
// CPU backend's scalar references (backends/cpu/ops/ops.h) on random data with tiny, ragged
// shapes and views at unaligned offsets; and the recorder's bookkeeping: dispatches counted,
// barriers only between dependent commands, one submit per sync. Skips when no device.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <memory>
#include <random>
#include <vector>

#include "backends/cpu/ops/ops.h"
#include "backends/vulkan/context.h"
#include "backends/vulkan/ops.h"
#include "core/error.h"
#include "quant/codecs.h"
#include "quant/fp16.h"

namespace r1::vulkan {
namespace {

std::vector<float> randn(size_t n, uint32_t seed, float scale = 1.0f) {
    std::mt19937 g(seed);
    std::normal_distribution<float> d(0.0f, scale);
    std::vector<float> v(n);
    for (auto& x : v) x = d(g);
    return v;
}

// One Context for the whole binary (pipelines are built once, as in the backend), or the
// reason there is none.
Context* device(std::string* why) {
    static std::unique_ptr<Context> ctx;
    static std::string reason;
    static bool tried = false;
    if (!tried) {
        tried = true;
        try {
            ctx = std::make_unique<Context>(0);
        } catch (const Error& e) {
            reason = e.what();
        }
    }
    *why = reason;
    return ctx.get();
}

class Vk : public testing::Test {
protected:
    void SetUp() override {
        std::string why;
        c = device(&why);
        if (!c) GTEST_SKIP() << "no Vulkan device: " << why;
    }
    void TearDown() override {
        if (!c) return;
        for (DeviceBuffer* b : bufs) c->free(b);
    }
    // A device buffer holding `bytes` after `pad` leading bytes (to test unaligned views).
    View put(const void* data, size_t bytes, size_t pad = 0) {
        DeviceBuffer* b = c->alloc(pad + bytes);
        bufs.push_back(b);
        c->upload(b, pad, data, bytes);
        return {b, pad};
    }
    template <typename T>
    View put(const std::vector<T>& v, size_t pad = 0) { return put(v.data(), v.size() * sizeof(T), pad); }
    View zeros(size_t bytes, size_t pad = 0) {
        DeviceBuffer* b = c->alloc(pad + bytes);
        bufs.push_back(b);
        return {b, pad};
    }
    std::vector<float> get(View v, size_t n) {
        std::vector<float> out(n);
        c->download(v.buf, v.offset, out.data(), n * 4);
        c->sync();
        return out;
    }
    Context* c = nullptr;
    std::vector<DeviceBuffer*> bufs;
};

// Host tensors over this test's packed arrays, for the CPU references (backend.h handles).
Tensor h(std::vector<float>& v, std::initializer_list<int64_t> ne) {
    return make_tensor({v.data(), v.size() * 4}, 0, GgmlType::F32, ne);
}
Tensor h32(std::vector<int32_t>& v) { return make_tensor({v.data(), v.size() * 4}, 0, GgmlType::I32, {int64_t(v.size())}); }

void expect_close(const std::vector<float>& got, const std::vector<float>& want, float tol, const char* what) {
    ASSERT_EQ(got.size(), want.size());
    float scale = 0;
    for (float w : want) scale = std::max(scale, std::fabs(w));
    for (size_t i = 0; i < want.size(); ++i)
        ASSERT_NEAR(got[i], want[i], tol * std::max(scale, 1.0f)) << what << " at " << i;
}

TEST(VulkanDevices, ListOrExplain) {
    try {
        const auto devs = list_devices();
        for (const auto& d : devs) std::printf("%s\n", describe(d).c_str());
        if (devs.empty()) GTEST_SKIP() << "the Vulkan loader reports no device";
        EXPECT_THROW(Context(int(devs.size())), Error);
    } catch (const Error& e) {
        GTEST_SKIP() << e.what();
    }
}

TEST_F(Vk, OutOfMemoryNamesTheBytes) {
    try {
        c->alloc(size_t(1) << 52);
        FAIL() << "a 4 PiB allocation succeeded";
    } catch (const Error& e) {
        EXPECT_NE(std::string(e.what()).find("out of memory"), std::string::npos) << e.what();
        EXPECT_NE(std::string(e.what()).find("4294967296.0 MiB"), std::string::npos) << e.what();
    }
}

class VkMatmul : public Vk, public testing::WithParamInterface<GgmlType> {};

TEST_P(VkMatmul, MatchesReference) {
    const GgmlType t = GetParam();
    const int64_t block = std::max<int64_t>(type_traits(t).block_size, 32);
    for (int64_t n_in : {block, 2 * block}) {
        for (int64_t n_tokens : {1, 3, 9}) {
            const int64_t n_out = 7;
            const auto w = randn(size_t(n_out * n_in), 11, 0.5f);
            std::vector<uint8_t> bytes(size_t(n_out) * row_bytes(t, uint64_t(n_in)));
            quantize_rows(t, w.data(), bytes.data(), n_out, n_in);
            // x with a token stride wider than n_in, and everything at unaligned offsets.
            const int64_t xs = n_in + 5;
            const auto x = randn(size_t(n_tokens * xs), 12);
            std::vector<float> want(size_t(n_tokens * n_out));
            std::vector<float> xp(size_t(n_tokens * n_in));
            for (int64_t tk = 0; tk < n_tokens; ++tk)
                std::copy_n(x.begin() + tk * xs, n_in, xp.begin() + tk * n_in);
            cpu::matmul_ref(make_tensor({bytes.data(), bytes.size()}, 0, t, {n_in, n_out}), h(xp, {n_in, n_tokens}),
                            h(want, {n_out, n_tokens}));
            const View wv = put(bytes, 2 * 37), xv = put(x, 4 * 3), yv = zeros(want.size() * 4, 4 * 9);
            matmul(*c, {.w = wv, .x = xv, .y = yv, .type = t, .n_out = n_out, .n_in = n_in, .n_tokens = n_tokens,
                        .x_stride = xs});
            expect_close(get(yv, want.size()), want, 2e-5f, type_traits(t).name.data());
        }
    }
}

TEST_P(VkMatmul, EmbedMatchesDequantizedRows) {
    const GgmlType t = GetParam();
    const int64_t n_in = std::max<int64_t>(type_traits(t).block_size, 32) * 2, n_rows = 6;
    const auto w = randn(size_t(n_rows * n_in), 21, 0.5f);
    const size_t rb = row_bytes(t, uint64_t(n_in));
    std::vector<uint8_t> bytes(size_t(n_rows) * rb);
    quantize_rows(t, w.data(), bytes.data(), n_rows, n_in);
    const std::vector<int32_t> ids = {5, 0, 3, 3};
    std::vector<float> want(ids.size() * size_t(n_in));
    for (size_t i = 0; i < ids.size(); ++i)
        ASSERT_TRUE(cpu::dequantize_row(t, bytes.data() + size_t(ids[i]) * rb, want.data() + i * size_t(n_in), n_in));
    const View tv = put(bytes, 18), iv = put(ids), yv = zeros(want.size() * 4);
    embed(*c, {.table = tv, .ids = iv, .y = yv, .type = t, .n_in = n_in, .n_ids = int64_t(ids.size())});
    expect_close(get(yv, want.size()), want, 1e-6f, "embed");
}

INSTANTIATE_TEST_SUITE_P(Types, VkMatmul,
                         testing::Values(GgmlType::F32, GgmlType::F16, GgmlType::Q8_0, GgmlType::Q4_0, GgmlType::Q4_K,
                                         GgmlType::Q6_K),
                         [](const auto& info) { return std::string(type_traits(info.param).name); });

TEST_F(Vk, RmsNormStridedAndInPlace) {
    const int64_t n_rows = 3, n = 37, xs = 41;
    auto x = randn(size_t(n_rows * xs), 1);
    const auto w = randn(size_t(n), 2);
    std::vector<float> xp(size_t(n_rows * n)), want(xp.size());
    for (int64_t r = 0; r < n_rows; ++r) std::copy_n(x.begin() + r * xs, n, xp.begin() + r * n);
    auto wc = w;
    cpu::rms_norm_ref(h(xp, {n, n_rows}), h(wc, {n}), h(want, {n, n_rows}), 1e-5f);
    const View xv = put(x, 4), wv = put(w), yv = zeros(want.size() * 4);
    rms_norm(*c, {.x = xv, .w = wv, .y = yv, .n_rows = n_rows, .n = n, .x_stride = xs, .eps = 1e-5f});
    expect_close(get(yv, want.size()), want, 1e-6f, "rms_norm");
    // In place: y = x, packed rows.
    const View pv = put(xp);
    rms_norm(*c, {.x = pv, .w = wv, .y = pv, .n_rows = n_rows, .n = n, .eps = 1e-5f});
    expect_close(get(pv, want.size()), want, 1e-6f, "rms_norm in place");
}

TEST_F(Vk, RopeBothModesWithFactorsAndOffsetPositions) {
    for (bool neox : {false, true}) {
        const int32_t n_head = 3, head_dim = 16, n_rot = 12, pos0 = 5;
        const int64_t n_tokens = 4;
        auto x = randn(size_t(n_tokens * n_head * head_dim), 3);
        std::vector<float> factors = {1.0f, 2.0f, 4.0f, 1.5f, 8.0f, 1.0f};
        std::vector<float> want = x;
        std::vector<float> cs(size_t(pos0 + n_tokens) * size_t(n_rot));
        r1::rope_table({.n_rot = n_rot, .freq_base = 10000.0f, .freq_factors = factors.data()}, pos0 + int32_t(n_tokens),
                       cs.data());
        std::vector<int32_t> pos;
        for (int64_t t = 0; t < n_tokens; ++t) pos.push_back(pos0 + int32_t(t));
        cpu::rope_ref({.x = h(want, {head_dim, n_head, n_tokens}).slice(0, 0, n_rot), .positions = h32(pos),
                       .table = h(cs, {2, n_rot / 2, pos0 + n_tokens}), .mode = neox ? RopeMode::Neox : RopeMode::Norm});
        const auto table = rope_table(pos0 + int32_t(n_tokens), n_rot, 10000.0f, factors.data());
        const View xv = put(x, 12), tv = put(table, 8);
        rope(*c, {.x = xv, .cs = tv, .n_tokens = n_tokens, .n_head = n_head, .n_rot = n_rot, .pos0 = pos0,
                  .tok_stride = n_head * head_dim, .head_stride = head_dim, .neox = neox});
        expect_close(get(xv, x.size()), want, 1e-6f, neox ? "neox" : "norm");
    }
}

TEST_F(Vk, ElementwiseOps) {
    const int64_t n = 1000;
    const auto g = randn(size_t(n), 4, 3.0f), u = randn(size_t(n), 5);
    std::vector<float> want(static_cast<size_t>(n));
    auto gc = g, uc = u;
    cpu::swiglu(h(gc, {n}), h(uc, {n}), h(want, {n}), 1);
    const View gv = put(g, 4), uv = put(u), yv = zeros(size_t(n) * 4);
    glu(*c, gv, uv, yv, n);
    expect_close(get(yv, size_t(n)), want, 1e-6f, "glu");

    // Residual add in place, then a bias add over rows of 40 (n = 25 rows).
    std::vector<float> sum = g;
    cpu::add(h(sum, {n}), h(uc, {n}), h(sum, {n}), 1);
    add(*c, gv, uv, gv, n, n);
    expect_close(get(gv, size_t(n)), sum, 1e-7f, "add");
    auto bias = randn(40, 6);
    cpu::add(h(sum, {40, 25}), h(bias, {40}), h(sum, {40, 25}), 1);
    add(*c, gv, put(bias), gv, n, 40);
    expect_close(get(gv, size_t(n)), sum, 1e-7f, "add_bias");

    for (float& v : sum) v *= 0.125f;
    scale(*c, gv, gv, n, 0.125f);
    expect_close(get(gv, size_t(n)), sum, 1e-7f, "scale");
}

TEST_F(Vk, SoftmaxAndArgmaxWithTies) {
    const int64_t n_rows = 3, n = 77;
    auto x = randn(size_t(n_rows * n), 7, 4.0f);
    x[10] = x[50] = 100.0f;                   // row 0: tie, the first wins
    x[n + 70] = 50.0f, x[n + 3] = 50.0f;      // row 1: tie
    std::vector<int32_t> want_ids;
    want_ids.resize(size_t(n_rows));
    cpu::argmax_ref(h(x, {n, n_rows}), h32(want_ids));
    EXPECT_EQ(want_ids[0], 10);
    EXPECT_EQ(want_ids[1], 3);
    const View xv = put(x), iv = zeros(size_t(n_rows) * 4);
    argmax(*c, xv, iv, n_rows, n);
    std::vector<int32_t> ids(static_cast<size_t>(n_rows));
    c->download(iv.buf, iv.offset, ids.data(), ids.size() * 4);
    c->sync();
    EXPECT_EQ(ids, want_ids);

    std::vector<float> want = x;
    cpu::softmax(h(want, {n, n_rows}), h(want, {n, n_rows}), 1);
    softmax(*c, xv, n_rows, n);
    expect_close(get(xv, want.size()), want, 1e-6f, "softmax");
}

// Two calls (a 3-token prompt, then 2 more tokens) against attention_ref, which also stores
// the new rows; on the device the rows are stored with copy() first.
TEST_F(Vk, AttentionOverCacheF32AndF16) {
    for (GgmlType ct : {GgmlType::F32, GgmlType::F16}) {
        const int32_t n_head = 4, n_head_kv = 2, hd = 32, n_ctx = 8;
        const size_t ce = ct == GgmlType::F16 ? 2 : 4;
        const size_t cache_elems = size_t(n_ctx * n_head_kv * hd);
        std::vector<uint8_t> kc(cache_elems * ce), vc(cache_elems * ce);
        const View kv = zeros(cache_elems * ce), vv = zeros(cache_elems * ce);
        const View sv = zeros(size_t(3 * n_head * n_ctx) * 4);
        uint32_t seed = 40;
        for (auto [pos0, n_tokens] : {std::pair{0, 3}, std::pair{3, 2}}) {
            auto q = randn(size_t(n_tokens * n_head * hd), seed++), k = randn(size_t(n_tokens * n_head_kv * hd), seed++),
                 v = randn(size_t(n_tokens * n_head_kv * hd), seed++);
            std::vector<float> want(q.size());
            // The reference: store the rows (copy into the cache view), then attend.
            const Tensor kct = make_tensor({kc.data(), kc.size()}, 0, ct, {hd, n_head_kv, n_ctx});
            const Tensor vct = make_tensor({vc.data(), vc.size()}, 0, ct, {hd, n_head_kv, n_ctx});
            cpu::copy_ref(h(k, {hd, n_head_kv, n_tokens}), kct.slice(2, pos0, n_tokens));
            cpu::copy_ref(h(v, {hd, n_head_kv, n_tokens}), vct.slice(2, pos0, n_tokens));
            std::vector<int32_t> pos;
            for (int32_t t = 0; t < n_tokens; ++t) pos.push_back(pos0 + t);
            cpu::attention_ref({.q = h(q, {hd, n_head, n_tokens}), .k = kct.slice(2, 0, pos0 + n_tokens),
                                .v = vct.slice(2, 0, pos0 + n_tokens), .out = h(want, {hd, n_head, n_tokens}),
                                .positions = h32(pos), .scale = 0.17f});
            const View qv = put(q, 4), knew = put(k), vnew = put(v), ov = zeros(q.size() * 4);
            const size_t row = size_t(pos0) * size_t(n_head_kv * hd) * ce;
            copy(*c, {.src = knew, .dst = {kv.buf, kv.offset + row}, .dst_type = ct, .n_rows = n_tokens,
                      .n = n_head_kv * hd});
            copy(*c, {.src = vnew, .dst = {vv.buf, vv.offset + row}, .dst_type = ct, .n_rows = n_tokens,
                      .n = n_head_kv * hd});
            attention(*c, {.q = qv, .k = kv, .v = vv, .out = ov, .scores = sv, .cache_type = ct, .n_tokens = n_tokens,
                           .n_head = n_head, .n_head_kv = n_head_kv, .dk = hd, .dv = hd, .pos0 = pos0, .n_ctx = n_ctx,
                           .scale = 0.17f});
            expect_close(get(ov, want.size()), want, 1e-5f, ct == GgmlType::F16 ? "f16 cache" : "f32 cache");
            // The stored rows equal the reference cache's, bit for bit.
            std::vector<uint8_t> got(kc.size());
            c->download(kv.buf, kv.offset, got.data(), got.size());
            c->sync();
            EXPECT_EQ(got, kc);
        }
    }
}

// K rows wider than V rows (MLA: V is the first dv of each K row), one KV head.
TEST_F(Vk, AttentionWithVAsAViewOfK) {
    const int32_t n_head = 3, dk = 48, dv = 32, n_ctx = 4, n_tokens = 4;
    const auto q = randn(size_t(n_tokens * n_head * dk), 60), kr = randn(size_t(n_tokens * dk), 61);
    std::vector<float> want(size_t(n_tokens * n_head * dv));
    for (int t = 0; t < n_tokens; ++t)
        for (int h = 0; h < n_head; ++h) {
            std::vector<double> s(size_t(t + 1));
            double mx = -1e300, sum = 0;
            for (int j = 0; j <= t; ++j) {
                double d = 0;
                for (int i = 0; i < dk; ++i) d += double(q[size_t((t * n_head + h) * dk + i)]) * kr[size_t(j * dk + i)];
                s[size_t(j)] = d * 0.1;
                mx = std::max(mx, s[size_t(j)]);
            }
            for (double& e : s) sum += (e = std::exp(e - mx));
            for (int i = 0; i < dv; ++i) {
                double o = 0;
                for (int j = 0; j <= t; ++j) o += s[size_t(j)] / sum * kr[size_t(j * dk + i)];
                want[size_t((t * n_head + h) * dv + i)] = float(o);
            }
        }
    const View qv = put(q), kv = put(kr), ov = zeros(want.size() * 4), sv = zeros(size_t(n_tokens * n_head * n_ctx) * 4);
    attention(*c, {.q = qv, .k = kv, .v = kv, .out = ov, .scores = sv, .cache_type = GgmlType::F32,
                   .n_tokens = n_tokens, .n_head = n_head, .n_head_kv = 1, .dk = dk, .dv = dv, .pos0 = 0,
                   .n_ctx = n_ctx, .v_pos_stride = dk, .scale = 0.1f});
    expect_close(get(ov, want.size()), want, 1e-5f, "mla");
}

TEST_F(Vk, OneSubmitPerSyncAndBarriersOnlyBetweenDependentDispatches) {
    const int64_t n = 64;
    const auto a = randn(size_t(n), 8), b = randn(size_t(n), 9);
    const View av = put(a), bv = put(b);
    const View out = zeros(size_t(4 * n) * 4);
    c->sync();
    const Stats s0 = c->stats();
    // Independent: two adds into disjoint halves of one buffer, reading the same inputs.
    add(*c, av, bv, out, n, n);
    add(*c, av, bv, {out.buf, out.offset + size_t(n) * 4}, n, n);
    EXPECT_EQ(c->stats().barriers, s0.barriers);
    // Dependent: reads what the first add wrote.
    add(*c, out, bv, {out.buf, out.offset + size_t(2 * n) * 4}, n, n);
    EXPECT_EQ(c->stats().barriers, s0.barriers + 1);
    EXPECT_EQ(c->stats().dispatches, s0.dispatches + 3);
    EXPECT_EQ(c->stats().submits, s0.submits);  // nothing submitted before sync
    const auto got = get({out.buf, out.offset + size_t(2 * n) * 4}, size_t(n));
    EXPECT_EQ(c->stats().submits, s0.submits + 1);
    for (int64_t i = 0; i < n; ++i) EXPECT_FLOAT_EQ(got[size_t(i)], (a[size_t(i)] + b[size_t(i)]) + b[size_t(i)]);
}

// Uploads and downloads larger than the staging buffers go in pieces.
TEST_F(Vk, LargeTransfersRoundTrip) {
    std::vector<float> big(size_t(5) << 20);  // 20 MiB
    for (size_t i = 0; i < big.size(); ++i) big[i] = float(i % 9973);
    const View v = put(big, 8);
    EXPECT_EQ(get(v, big.size()), big);
}

}  // namespace
}  // namespace r1::vulkan
