// --backend / --device as a user meets them (CLI.md, second round): `r1 info --devices` lists
// every backend's devices or why there are none; a GPU run prints one load line naming the
// device and gives the goldens' greedy text; a backend or device that is not there is one
// line and exit 1, never a run on the CPU instead.
#include <gtest/gtest.h>

#include <algorithm>

#include "tests/cli/run_r1.h"
#include "tests/model/goldens.h"

namespace r1::test {
namespace {

int count_lines(const std::string& s) { return int(std::count(s.begin(), s.end(), '\n')); }

// The `r1 info --devices` line of Vulkan device 0, or "" when there is none.
std::string vulkan_device0() {
    RunResult r = run_r1({"info", "--devices"});
    const size_t at = r.out.find("vulkan 0: ");
    return at == std::string::npos ? "" : r.out.substr(at, r.out.find('\n', at) - at);
}

TEST(BackendFlags, InfoDevicesListsEveryBackend) {
    RunResult r = run_r1({"info", "--devices"});
    ASSERT_EQ(r.status, 0) << r.err;
    EXPECT_EQ(r.out.rfind("cpu: ", 0), 0u) << r.out;
    EXPECT_NE(r.out.find("\nvulkan"), std::string::npos) << r.out;  // devices, or why there are none
    EXPECT_NE(r.out.find("\ncuda"), std::string::npos) << r.out;
    EXPECT_EQ(r.err, "");
}

TEST(BackendFlags, MissingBackendOrDeviceIsOneLineAndExit1) {
    std::string why;
    const auto m = converted("tiny-r1-qwen2", "f32", false, &why);
    ASSERT_FALSE(m.empty()) << why;
    for (const std::vector<std::string>& flags :
         {std::vector<std::string>{"--backend", "vulkan", "--device", "99"}, {"--backend", "cuda"},
          {"--backend", "metal"}, {"--backend", "vulkan", "--device", "-1"}}) {
        std::vector<std::string> args{"run", "-m", m.string(), "-p", "hi", "-n", "2"};
        args.insert(args.end(), flags.begin(), flags.end());
        RunResult r = run_r1(args);
        EXPECT_EQ(r.status, 1) << flags[1];
        EXPECT_EQ(r.out, "") << flags[1];
        EXPECT_EQ(count_lines(r.err), 1) << r.err;
        EXPECT_EQ(r.err.rfind("r1: error: ", 0), 0u) << r.err;
    }
}

TEST(BackendFlags, VulkanRunNamesTheDeviceAndGivesTheGoldenText) {
    const std::string dev = vulkan_device0();
    if (dev.empty()) GTEST_SKIP() << "no Vulkan device (r1 info --devices)";
    std::string why;
    const auto m = converted("tiny-r1-qwen2", "f32", false, &why);
    ASSERT_FALSE(m.empty()) << why;
    const auto p = golden_prompt("tiny-r1-qwen2", "plain");
    RunResult r = run_r1({"run", "-m", m.string(), "--backend", "vulkan", "--device", "0", "-p",
                          p["text"].get<std::string>(), "--temp", "0", "--ignore-eos", "-n", "32"});
    ASSERT_EQ(r.status, 0) << r.err;
    EXPECT_EQ(r.out, p["greedy"]["text"].get<std::string>());
    // "vulkan 0: <name> (cpu, ...)" -> "backend vulkan: <name>, 4/4 layers, <n> MiB on device"
    const std::string name = dev.substr(10, dev.rfind(" (") - 10);
    EXPECT_EQ(r.err.rfind("backend vulkan: " + name + ", 4/4 layers, ", 0), 0u) << r.err;
    EXPECT_NE(r.err.find(" MiB on device\n"), std::string::npos) << r.err;
}

}  // namespace
}  // namespace r1::test
