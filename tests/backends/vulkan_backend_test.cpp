// The Vulkan backend beyond the ops (which the conformance suite checks): device listing and
// selection errors, out-of-memory and binding-size errors at load, and the recorder's
// bookkeeping through Backend& (dispatches counted, barriers only between dependent ops, one
// submit per sync). Device 0 is Mesa's lavapipe in CI; every test skips where there is none.
#include <gtest/gtest.h>

#include <functional>
#include <vector>

#include "backends/vulkan/vulkan_backend.h"
#include "core/error.h"

namespace r1 {
namespace {

class VulkanBackend : public testing::Test {
protected:
    void SetUp() override {
        try {
            be_ = create_backend({.name = "vulkan"});
        } catch (const Error& e) {
            GTEST_SKIP() << e.what();
        }
    }
    std::unique_ptr<Backend> be_;
};

std::string message_of(const std::function<void()>& f) {
    try {
        f();
    } catch (const Error& e) {
        return e.what();
    }
    return "(no error)";
}

TEST_F(VulkanBackend, DevicesAreListedAndAnIndexPastThemIsAnError) {
    const std::vector<std::string> lines = list_devices("vulkan");
    ASSERT_FALSE(lines.empty());
    for (const std::string& l : lines) std::printf("%s\n", l.c_str());
    EXPECT_EQ(lines[0].rfind("0: ", 0), 0u) << lines[0];
    const int n = int(lines.size());
    const std::string e = message_of([&] { create_backend({.name = "vulkan", .device = n}); });
    EXPECT_NE(e.find(fmt::format("--device {} out of range", n)), std::string::npos) << e;
    EXPECT_NE(message_of([] { create_backend({.name = "vulkan", .device = -1}); }).find("--device -1"),
              std::string::npos);
}

TEST_F(VulkanBackend, NamesItsDeviceAndCountsItsMemory) {
    EXPECT_EQ(be_->name(), "vulkan");
    EXPECT_EQ(list_devices("vulkan")[0].find(be_->device_name()), 3u);
    const uint64_t before = be_->device_bytes();
    Buffer b = be_->alloc(size_t(3) << 20);
    EXPECT_GE(be_->device_bytes(), before + (uint64_t(3) << 20));
    be_->free(b);
    EXPECT_EQ(be_->device_bytes(), before);
}

TEST_F(VulkanBackend, OutOfMemoryNamesTheBytes) {
    const std::string e = message_of([&] { be_->alloc(size_t(1) << 52); });
    EXPECT_NE(e.find("out of memory"), std::string::npos) << e;
    EXPECT_NE(e.find("4294967296.0 MiB"), std::string::npos) << e;
}

// A weight no single binding can reach is refused at load with its name, before any byte of
// it is read (data points at nothing).
TEST_F(VulkanBackend, WeightLargerThanOneBindingIsRefusedAtLoad) {
    const char dummy = 0;
    WeightSource w;
    w.name = "blk.0.ffn_up_exps.weight";
    w.type = GgmlType::Q8_0;
    w.ne[0] = 4096;
    w.ne[1] = 1 << 20;  // 4.25 GiB of Q8_0: past every device's maxStorageBufferRange (< 4 GiB)
    w.data = &dummy;
    const std::string e = message_of([&] { be_->load_weight(w); });
    EXPECT_NE(e.find("tensor 'blk.0.ffn_up_exps.weight'"), std::string::npos) << e;
    EXPECT_NE(e.find("maxStorageBufferRange"), std::string::npos) << e;
}

TEST_F(VulkanBackend, TypesWithoutAShaderAreNotClaimed) {
    for (GgmlType t : {GgmlType::Q2_K, GgmlType::Q3_K, GgmlType::IQ4_NL, GgmlType::Q8_K, GgmlType::I32}) {
        EXPECT_FALSE(be_->supports(Op::Matmul, t)) << type_traits(t).name;
        EXPECT_FALSE(be_->supports(Op::GetRows, t)) << type_traits(t).name;
    }
    EXPECT_FALSE(be_->supports(Op::Attention, GgmlType::Q8_0));
}

TEST_F(VulkanBackend, OneSubmitPerSyncAndBarriersOnlyBetweenDependentOps) {
    const int64_t n = 64;
    Buffer buf = be_->alloc(size_t(6 * n) * 4);
    const Tensor a = make_tensor(buf, 0, GgmlType::F32, {n}), b = make_tensor(buf, size_t(n) * 4, GgmlType::F32, {n});
    const Tensor y = make_tensor(buf, size_t(2 * n) * 4, GgmlType::F32, {n, 4});
    std::vector<float> av(static_cast<size_t>(n)), bv(static_cast<size_t>(n));
    for (int64_t i = 0; i < n; ++i) av[size_t(i)] = float(i), bv[size_t(i)] = 0.5f * float(i);
    be_->upload(a, av.data());
    be_->upload(b, bv.data());
    be_->sync();
    const vulkan::Stats s0 = *vulkan::stats_of(*be_);
    be_->add(a, b, y.slice(1, 0, 1));  // independent: disjoint outputs, shared inputs
    be_->add(a, b, y.slice(1, 1, 1));
    EXPECT_EQ(vulkan::stats_of(*be_)->barriers, s0.barriers);
    be_->add(y.slice(1, 0, 1), b, y.slice(1, 2, 1));  // reads what the first add wrote
    EXPECT_EQ(vulkan::stats_of(*be_)->barriers, s0.barriers + 1);
    EXPECT_EQ(vulkan::stats_of(*be_)->dispatches, s0.dispatches + 3);
    EXPECT_EQ(vulkan::stats_of(*be_)->submits, s0.submits);  // nothing submitted before sync
    std::vector<float> got(static_cast<size_t>(n));
    be_->download(y.slice(1, 2, 1), got.data());
    EXPECT_EQ(vulkan::stats_of(*be_)->submits, s0.submits + 1);
    for (int64_t i = 0; i < n; ++i) EXPECT_EQ(got[size_t(i)], (av[size_t(i)] + bv[size_t(i)]) + bv[size_t(i)]);
    be_->free(buf);
}

// Transfers larger than the 16 MiB staging buffers go in pieces.
TEST_F(VulkanBackend, LargeTransfersRoundTrip) {
    std::vector<float> big(size_t(5) << 20), back(big.size());
    for (size_t i = 0; i < big.size(); ++i) big[i] = float(i % 9973);
    Buffer buf = be_->alloc(big.size() * 4 + 8);
    const Tensor t = make_tensor(buf, 8, GgmlType::F32, {int64_t(big.size())});
    be_->upload(t, big.data());
    be_->download(t, back.data());
    EXPECT_EQ(back, big);
    be_->free(buf);
}

TEST(VulkanRegistry, StatsOnlyForVulkan) {
    auto cpu = create_backend({.name = "cpu", .n_threads = 1});
    EXPECT_EQ(vulkan::stats_of(*cpu), nullptr);
}

}  // namespace
}  // namespace r1
