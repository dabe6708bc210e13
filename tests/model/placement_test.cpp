// Placement of layers on backends (-ngl, --cpu-moe): the fixture models split between the CPU
// and a second CPU instance standing in for a device (a forwarding backend that counts what
// crosses to it) give logits identical to one backend, with exactly the copies the split needs;
// a device too small for its weights, or lacking an op, is refused at load before any weight is
// loaded; the layer ranges, expert rule and load line follow llama.cpp's -ngl.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <set>

#include <fmt/format.h>

#include "core/error.h"
#include "runtime/models/models.h"
#include "tests/model/goldens.h"

namespace r1::test {
namespace {

// A CPU backend under another name that counts transfers and weights, with an optional
// weight capacity and ops it declines.
class TestDevice final : public Backend {
public:
    explicit TestDevice(std::string name, uint64_t capacity = UINT64_MAX, std::set<Op> declined = {})
        : cpu_(create_backend({.name = "cpu", .n_threads = 2})), name_(std::move(name)), capacity_(capacity),
          declined_(std::move(declined)) {}

    std::vector<size_t> uploads, downloads;  // bytes of each transfer
    int n_weights = 0;

    std::string_view name() const override { return name_; }
    bool supports(Op op, GgmlType type) const override { return !declined_.count(op) && cpu_->supports(op, type); }
    uint64_t weight_capacity() const override { return capacity_; }
    Buffer alloc(size_t n) override { return cpu_->alloc(n); }
    void free(Buffer& b) override { cpu_->free(b); }
    void upload(const Tensor& dst, const void* src) override {
        uploads.push_back(dst.n_bytes());
        cpu_->upload(dst, src);
    }
    void download(const Tensor& src, void* dst) override {
        downloads.push_back(src.n_bytes());
        cpu_->download(src, dst);
    }
    void sync() override { cpu_->sync(); }
    LoadedWeight load_weight(const WeightSource& w) override {
        ++n_weights;
        return cpu_->load_weight(w);
    }
    void get_rows(const Tensor& t, const Tensor& ids, const Tensor& y) override { cpu_->get_rows(t, ids, y); }
    void matmul(const Tensor& w, const Tensor& x, const Tensor& y) override { cpu_->matmul(w, x, y); }
    void matmul_id(const Tensor& w, const Tensor& x, const Tensor& ids, const Tensor& y) override {
        cpu_->matmul_id(w, x, ids, y);
    }
    void rms_norm(const Tensor& x, const Tensor& w, const Tensor& y, float eps) override { cpu_->rms_norm(x, w, y, eps); }
    void rope(const RopeArgs& a) override { cpu_->rope(a); }
    void attention(const AttentionArgs& a) override { cpu_->attention(a); }
    void swiglu(const Tensor& g, const Tensor& u, const Tensor& y) override { cpu_->swiglu(g, u, y); }
    void add(const Tensor& a, const Tensor& b, const Tensor& y) override { cpu_->add(a, b, y); }
    void mul(const Tensor& a, const Tensor& b, const Tensor& y) override { cpu_->mul(a, b, y); }
    void scale(const Tensor& x, float s, const Tensor& y) override { cpu_->scale(x, s, y); }
    void sigmoid(const Tensor& x, const Tensor& y) override { cpu_->sigmoid(x, y); }
    void softmax(const Tensor& x, const Tensor& y) override { cpu_->softmax(x, y); }
    void copy(const Tensor& src, const Tensor& dst) override { cpu_->copy(src, dst); }
    void moe_route(const MoeRouteArgs& a) override { cpu_->moe_route(a); }
    void argmax(const Tensor& x, const Tensor& ids) override { cpu_->argmax(x, ids); }

private:
    std::unique_ptr<Backend> cpu_;
    std::string name_;
    uint64_t capacity_;
    std::set<Op> declined_;
};

std::filesystem::path fixture(const std::string& model, const std::string& type) {
    std::string why;
    auto p = converted(model, type, false, &why);
    if (p.empty()) ADD_FAILURE() << why;
    return p;
}

// The host a real CPU backend, the device a TestDevice (returned for inspection).
struct Split {
    Placement placement;
    TestDevice* device;
};
Split split(int32_t n_gpu_layers, bool cpu_moe = false, uint64_t capacity = UINT64_MAX, std::set<Op> declined = {}) {
    auto dev = std::make_unique<TestDevice>("dev", capacity, std::move(declined));
    TestDevice* d = dev.get();
    return {Placement(create_backend({.name = "cpu", .n_threads = 2}), std::move(dev), n_gpu_layers, cpu_moe), d};
}

std::vector<float> logits(Model& m, const std::vector<int32_t>& ids, int32_t n_batch) {
    auto ctx = m.new_context({.n_ctx = 256, .kv_type = GgmlType::F16, .n_batch = n_batch});
    std::vector<float> out(ids.size() * size_t(m.info().n_vocab));
    m.forward(*ctx, ids, Logits::All, out);
    // Then a few tokens one at a time (the decode shape), last logits appended.
    std::vector<float> last(size_t(m.info().n_vocab));
    for (int32_t t : {5, 17, 3}) {
        const int32_t one[] = {t};
        m.forward(*ctx, one, Logits::Last, last);
        out.insert(out.end(), last.begin(), last.end());
    }
    return out;
}

class PlacementSplit : public testing::TestWithParam<std::string> {};

TEST_P(PlacementSplit, LogitsIdenticalToOneBackendWithTheCrossingCopies) {
    const auto path = fixture(GetParam(), "q8_0");
    ASSERT_FALSE(path.empty());
    auto single = load_model(path, BackendOptions{.name = "cpu", .n_threads = 2});
    const int32_t n_layer = single->info().n_layer, n_embd = single->info().n_embd;
    ASSERT_GE(n_layer, 2);
    auto ids = golden_prompt(GetParam(), "passage")["ids"].get<std::vector<int32_t>>();
    ids.resize(std::min<size_t>(ids.size(), 40));
    const int32_t n_batch = 16;  // 40 tokens: batches of 16, 16, 8, then three of 1
    const auto ref = logits(*single, ids, n_batch);
    const size_t n_batches = 3 + 3;

    for (int32_t ngl : {0, 1, n_layer - 1, n_layer, n_layer + 1, -1}) {
        SCOPED_TRACE(testing::Message() << "-ngl " << ngl);
        auto [placement, dev] = split(ngl);
        auto m = load_model(path, std::move(placement));
        const int32_t on_dev = ngl < 0 ? n_layer : std::min(ngl, n_layer);
        const bool head_on_dev = ngl < 0 || ngl > n_layer;
        EXPECT_EQ(&m->placement().layer(n_layer - 1) == dev, on_dev > 0);
        EXPECT_EQ(&m->placement().output() == dev, head_on_dev);
        EXPECT_EQ(dev->n_weights > 0, on_dev > 0);
        dev->uploads.clear();
        dev->downloads.clear();

        EXPECT_EQ(logits(*m, ids, n_batch), ref);  // bit for bit: same kernels, copies are exact

        // What crossed to and from the device: the residual stream once each way where the
        // layers change backend (B tokens × n_embd floats), the logits where the head is there.
        auto residual = [&](const std::vector<size_t>& sizes) {  // transfers of a batch's residual
            size_t n = 0;
            for (size_t bytes : sizes)
                for (size_t b : {16, 8, 1}) n += bytes == b * size_t(n_embd) * sizeof(float);
            return n;
        };
        const bool crosses_in = on_dev > 0 && on_dev < n_layer;  // layer 0 (the input) on the host
        const bool crosses_out = on_dev > 0 && !head_on_dev;
        EXPECT_EQ(residual(dev->uploads), crosses_in ? n_batches : 0u);
        EXPECT_EQ(residual(dev->downloads), crosses_out ? n_batches : 0u);
        if (on_dev == 0) {
            EXPECT_TRUE(dev->uploads.empty());
            EXPECT_TRUE(dev->downloads.empty());
        }
        if (crosses_out) {
            EXPECT_EQ(dev->downloads.size(), n_batches);  // only the residual comes back
        }
        if (head_on_dev) {
            size_t logit_rows = 0;
            for (size_t d : dev->downloads) logit_rows += d / (sizeof(float) * size_t(m->info().n_vocab));
            EXPECT_EQ(logit_rows, ids.size() + 3);
        }
    }
}

INSTANTIATE_TEST_SUITE_P(Fixtures, PlacementSplit, testing::Values("tiny-r1-qwen2", "tiny-r1-llama"),
                         [](const auto& info) { return info.param.substr(8); });

// The real thing where a GPU backend is built in and has a device (lavapipe in CI): --backend
// vulkan -ngl 2 runs the last two layers there and the rest on the CPU; the logits agree with
// the CPU's within the Vulkan model checks' bound (1e-4 · max|logit|), and nothing is silently
// left on the CPU.
TEST(Placement, VulkanSplitAgreesWithTheCpu) {
    const auto path = fixture("tiny-r1-qwen2", "f32");
    ASSERT_FALSE(path.empty());
    std::unique_ptr<Model> split_model;
    try {
        split_model = load_model(path, PlacementOptions{.backend = {.name = "vulkan", .n_threads = 2}, .n_gpu_layers = 2});
    } catch (const Error& e) {
        GTEST_SKIP() << e.what();
    }
    const int32_t n_layer = split_model->info().n_layer;
    EXPECT_EQ(split_model->placement().layer(n_layer - 1).name(), "vulkan");
    EXPECT_EQ(split_model->placement().layer(n_layer - 3).name(), "cpu");
    EXPECT_EQ(split_model->placement().output().name(), "cpu");
    auto cpu = load_model(path, BackendOptions{.name = "cpu", .n_threads = 2});
    auto ids = golden_prompt("tiny-r1-qwen2", "passage")["ids"].get<std::vector<int32_t>>();
    ids.resize(std::min<size_t>(ids.size(), 24));
    const auto a = logits(*split_model, ids, 8), b = logits(*cpu, ids, 8);
    ASSERT_EQ(a.size(), b.size());
    double diff = 0, mag = 0;
    for (size_t i = 0; i < a.size(); ++i) {
        diff = std::max(diff, double(std::fabs(a[i] - b[i])));
        mag = std::max(mag, double(std::fabs(b[i])));
    }
    EXPECT_LE(diff, 1e-4 * mag);
}

TEST(Placement, CapacityExceededFailsBeforeAnyWeightIsLoaded) {
    const auto path = fixture("tiny-r1-qwen2", "f32");
    ASSERT_FALSE(path.empty());
    auto [placement, dev] = split(-1, false, 4096);
    try {
        load_model(path, std::move(placement));
        FAIL() << "loaded weights past the device's capacity";
    } catch (const Error& e) {
        const std::string msg = e.what();
        EXPECT_NE(msg.find("dev backend need"), std::string::npos) << msg;
        EXPECT_NE(msg.find("MiB"), std::string::npos) << msg;
        EXPECT_NE(msg.find("0.0 MiB"), std::string::npos) << msg;  // what it holds: 4 KiB
    }
    EXPECT_EQ(dev->n_weights, 0);
    // With the last layer only, a capacity that fits one layer's weights is enough.
    auto single = load_model(path, BackendOptions{.name = "cpu", .n_threads = 2});
    uint64_t last_layer = 0;
    const std::string prefix = fmt::format("blk.{}.", single->info().n_layer - 1);
    for (const auto& t : single->file().tensors())
        if (t.name.starts_with(prefix)) last_layer += t.n_bytes;
    auto [fits, dev2] = split(1, false, last_layer);
    EXPECT_NO_THROW(load_model(path, std::move(fits)));
    EXPECT_GT(dev2->n_weights, 0);
    auto [too_small, dev3] = split(1, false, last_layer - 1);
    EXPECT_THROW(load_model(path, std::move(too_small)), Error);
    EXPECT_EQ(dev3->n_weights, 0);
}

TEST(Placement, MissingOpIsRefusedAtLoad) {
    const auto path = fixture("tiny-r1-qwen2", "f32");
    ASSERT_FALSE(path.empty());
    for (Op op : {Op::Rope, Op::Swiglu, Op::RmsNorm}) {
        auto [placement, dev] = split(1, false, UINT64_MAX, {op});
        try {
            load_model(path, std::move(placement));
            FAIL() << op_name(op);
        } catch (const Error& e) {
            EXPECT_NE(std::string(e.what()).find(std::string("dev backend has no ") + op_name(op)), std::string::npos)
                << e.what();
        }
        EXPECT_EQ(dev->n_weights, 0) << op_name(op);
    }
    {  // no matmul for the file's type: named with the first tensor placed there
        auto [placement, dev] = split(1, false, UINT64_MAX, {Op::Matmul});
        try {
            load_model(path, std::move(placement));
            FAIL();
        } catch (const Error& e) {
            EXPECT_NE(std::string(e.what()).find("matmul on type f32 is not supported by the dev backend"),
                      std::string::npos)
                << e.what();
        }
    }
    {  // the cache type: refused when the context is made, before any token
        auto [placement, dev] = split(1, false, UINT64_MAX, {Op::Attention});
        auto m = load_model(path, std::move(placement));
        EXPECT_THROW(m->new_context({.n_ctx = 64}), Error);
    }
    {  // layers that are not on the device do not need its ops
        auto [placement, dev] = split(0, false, UINT64_MAX, {Op::Rope, Op::Attention});
        EXPECT_NO_THROW(load_model(path, std::move(placement))->new_context({.n_ctx = 64}));
    }
}

TEST(Placement, LayerRangesExpertRuleAndLoadLine) {
    auto [p, dev] = split(3);
    p.resolve(8);
    for (int32_t il = 0; il < 8; ++il) EXPECT_EQ(&p.layer(il) == dev, il >= 5) << il;
    EXPECT_EQ(&p.output(), &p.host());
    EXPECT_EQ(&p.input(), &p.host());
    EXPECT_EQ(&p.for_tensor("blk.6.attn_q.weight", WeightUse::Matmul), dev);
    EXPECT_EQ(&p.for_tensor("blk.6.ffn_up_exps.weight", WeightUse::Matmul), dev);  // no --cpu-moe
    EXPECT_EQ(&p.for_tensor("blk.2.attn_q.weight", WeightUse::Matmul), &p.host());
    EXPECT_EQ(&p.for_tensor("output.weight", WeightUse::Matmul), &p.host());
    EXPECT_EQ(p.load_line(), "backend dev: CPU, 3/8 layers, 0 MiB on device; cpu: layers 0-4, output");

    auto [all, dev_all] = split(-1, true);
    all.resolve(4);
    EXPECT_EQ(&all.output(), dev_all);
    EXPECT_EQ(&all.input(), dev_all);
    for (const char* name : {"blk.1.ffn_gate_exps.weight", "blk.1.ffn_up_exps.weight", "blk.1.ffn_down_exps.weight"})
        EXPECT_EQ(&all.for_tensor(name, WeightUse::Matmul), &all.host()) << name;
    for (const char* name : {"blk.1.ffn_gate_inp.weight", "blk.1.ffn_up_shexp.weight", "blk.1.exp_probs_b.bias"})
        EXPECT_EQ(&all.for_tensor(name, WeightUse::Matmul), dev_all) << name;
    EXPECT_EQ(&all.for_tensor("token_embd.weight", WeightUse::Rows), dev_all);
    EXPECT_EQ(all.load_line(), "backend dev: CPU, 4/4 layers, 0 MiB on device; cpu: routed experts");

    auto [head, dev_head] = split(9);  // more than n_layer: the head too (llama.cpp)
    head.resolve(8);
    EXPECT_EQ(&head.output(), dev_head);
    EXPECT_EQ(&head.input(), dev_head);

    // The CPU alone: -ngl and --cpu-moe accepted, and the load line says they changed nothing.
    Placement cpu = Placement::create({.backend = {.name = "cpu", .n_threads = 1}, .n_gpu_layers = 10, .cpu_moe = true});
    cpu.resolve(8);
    EXPECT_EQ(&cpu.layer(7), &cpu.host());
    EXPECT_EQ(cpu.backends().size(), 1u);
    EXPECT_EQ(cpu.load_line(),
              "backend cpu: 8 layers (-ngl 10 ignored: the cpu backend runs every layer; --cpu-moe: every "
              "weight is on the cpu already)");
}

TEST(Placement, LoadLineCountsTheWeightsOfEachBackend) {
    const auto path = fixture("tiny-r1-qwen2", "f32");
    ASSERT_FALSE(path.empty());
    auto single = load_model(path, BackendOptions{.name = "cpu", .n_threads = 2});
    uint64_t total = 0;
    for (const auto& t : single->file().tensors()) total += t.n_bytes;
    const std::string line = single->placement().load_line();
    EXPECT_EQ(line, fmt::format("backend cpu: {} layers, {:.1f} MiB weights", single->info().n_layer,
                                double(total) / (1024.0 * 1024.0)));
}

}  // namespace
}  // namespace r1::test
