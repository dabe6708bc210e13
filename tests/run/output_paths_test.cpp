// Issue 12 item 2: every command's output path that exists and is not a regular file (a device,
// a FIFO, a link to one, a link to /proc/self/fd/1) is written through and survives; a full
// device fails with "No space left"; a directory is refused with no DIR.tmp. Private nodes made
// with mknod/mkfifo in a temp folder only: a failing test must never replace the system's /dev.
#include <gtest/gtest.h>

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <filesystem>
#include <thread>

#include "tests/cli/run_r1.h"
#include "tests/model/goldens.h"

namespace r1::test {
namespace {

namespace fs = std::filesystem;
constexpr const char* kModel = "tiny-r1-qwen2";

class OutputPaths : public testing::Test {
protected:
    void SetUp() override {
        dir_ = fs::temp_directory_path() / ("r1-outpaths-" + std::to_string(getpid()) + "-" +
                                            testing::UnitTest::GetInstance()->current_test_info()->name());
        fs::remove_all(dir_);
        fs::create_directories(dir_);
        std::string why;
        model_ = converted(kModel, "f32", false, &why).string();
        ASSERT_FALSE(model_.empty()) << why;
    }
    void TearDown() override { fs::remove_all(dir_); }
    // mknod c 1 <minor> in the temp folder; skips the test where mknod is not allowed.
    fs::path char_node(const std::string& name, unsigned minor) {
        const auto p = dir_ / name;
        if (::mknod(p.c_str(), S_IFCHR | 0666, makedev(1, minor)) != 0) return {};
        return p;
    }
    static bool is_char(const fs::path& p) {
        struct stat st = {};
        return ::stat(p.c_str(), &st) == 0 && S_ISCHR(st.st_mode);
    }
    // The dump of two prompt tokens: 2 x n_vocab float32.
    std::vector<std::string> run_dump(const fs::path& out) {
        return {"run", "-m", model_, "--ids", "1 2", "-n", "0", "--dump-logits", out.string()};
    }
    size_t dump_bytes() {
        const auto ref = dir_ / "ref.f32";
        RunResult r = run_r1(run_dump(ref));
        EXPECT_EQ(r.status, 0) << r.err;
        const size_t n = fs::file_size(ref);
        fs::remove(ref);
        return n;
    }
    fs::path dir_;
    std::string model_;
};

#define NODE_OR_SKIP(var, name, minor)                                      \
    const fs::path var = char_node(name, minor);                            \
    if (var.empty()) GTEST_SKIP() << "mknod is not permitted here"

TEST_F(OutputPaths, DumpLogitsToNullDeviceKeepsTheNode) {
    NODE_OR_SKIP(null, "null", 3);
    RunResult r = run_r1(run_dump(null));
    EXPECT_EQ(r.status, 0) << r.err;
    EXPECT_TRUE(is_char(null));
    EXPECT_FALSE(fs::exists(dir_ / "null.tmp"));
}

TEST_F(OutputPaths, DumpLogitsToFullDeviceSaysNoSpace) {
    NODE_OR_SKIP(full, "full", 7);
    RunResult r = run_r1(run_dump(full));
    EXPECT_EQ(r.status, 1);
    EXPECT_NE(r.err.find("--dump-logits " + full.string() + ": write failed: No space left"), std::string::npos) << r.err;
    EXPECT_TRUE(is_char(full));
    EXPECT_FALSE(fs::exists(dir_ / "full.tmp"));
}

TEST_F(OutputPaths, DumpLogitsThroughASymlinkToADevice) {
    NODE_OR_SKIP(null, "null", 3);
    fs::create_symlink(null, dir_ / "link");
    RunResult r = run_r1(run_dump(dir_ / "link"));
    EXPECT_EQ(r.status, 0) << r.err;
    EXPECT_TRUE(fs::is_symlink(dir_ / "link"));
    EXPECT_TRUE(is_char(null));
}

TEST_F(OutputPaths, DumpLogitsIntoAFifoDeliversEveryByte) {
    const size_t want = dump_bytes();
    const auto fifo = dir_ / "fifo";
    ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
    size_t got = 0;
    std::thread reader([&] {
        const int fd = ::open(fifo.c_str(), O_RDONLY);
        char buf[65536];
        for (ssize_t n; (n = ::read(fd, buf, sizeof buf)) > 0;) got += size_t(n);
        ::close(fd);
    });
    RunResult r = run_r1(run_dump(fifo));
    // If r1 never opened the FIFO, release the reader blocked in open().
    if (const int w = ::open(fifo.c_str(), O_WRONLY | O_NONBLOCK); w >= 0) ::close(w);
    reader.join();
    EXPECT_EQ(r.status, 0) << r.err;
    EXPECT_EQ(got, want);
    struct stat st = {};
    ASSERT_EQ(::stat(fifo.c_str(), &st), 0);
    EXPECT_TRUE(S_ISFIFO(st.st_mode));
}

// The /dev/stdout idiom without touching /dev: a private link to /proc/self/fd/1.
TEST_F(OutputPaths, DumpLogitsThroughALinkToStdout) {
    const size_t want = dump_bytes();
    const auto link = dir_ / "stdout";
    fs::create_symlink("/proc/self/fd/1", link);
    RunResult r = run_r1(run_dump(link));
    EXPECT_EQ(r.status, 0) << r.err;
    EXPECT_EQ(r.out.size(), want);
    EXPECT_TRUE(fs::is_symlink(link));
}

TEST_F(OutputPaths, DumpLogitsToADirectoryLeavesNoTempFile) {
    const auto d = dir_ / "logits.d";
    fs::create_directories(d);
    RunResult r = run_r1(run_dump(d));
    EXPECT_EQ(r.status, 1);
    EXPECT_NE(r.err.find("--dump-logits " + d.string() + ": is a directory"), std::string::npos) << r.err;
    EXPECT_FALSE(fs::exists(d.string() + ".tmp"));
    EXPECT_TRUE(fs::is_empty(d));
}

TEST_F(OutputPaths, SaveLogitsToNullDevice) {
    NODE_OR_SKIP(null, "null", 3);
    RunResult r = run_r1({"perplexity", "-m", model_, "-f", std::string(R1_FIXTURES) + "/data/valid.txt", "-c", "64",
                          "--chunks", "1", "--save-logits", null.string()});
    EXPECT_EQ(r.status, 0) << r.err;
    EXPECT_TRUE(is_char(null));
    EXPECT_FALSE(fs::exists(dir_ / "null.tmp"));
}

TEST_F(OutputPaths, ConvertQuantizeSynthWriteThroughANullDevice) {
    NODE_OR_SKIP(null, "null", 3);
    const std::string fixture = fixture_dir(kModel).string();
    for (const auto& args : std::vector<std::vector<std::string>>{
             {"convert", fixture, "-o", null.string(), "-f", "-q", "--type", "q8_0"},
             {"quantize", model_, null.string(), "q8_0", "-f", "-q"},
             {"synth", "--preset", "tiny", "--type", "q8_0", "-o", null.string(), "-f", "-q"}}) {
        RunResult r = run_r1(args);
        EXPECT_EQ(r.status, 0) << args[0] << ": " << r.err;
        EXPECT_TRUE(is_char(null)) << args[0];
        EXPECT_FALSE(fs::exists(dir_ / "null.tmp")) << args[0];
    }
}

TEST_F(OutputPaths, ConvertToAFullDeviceSaysNoSpace) {
    NODE_OR_SKIP(full, "full", 7);
    RunResult r = run_r1({"convert", fixture_dir(kModel).string(), "-o", full.string(), "-f", "-q"});
    EXPECT_EQ(r.status, 1);
    EXPECT_NE(r.err.find(full.string() + ": write failed: No space left"), std::string::npos) << r.err;
    EXPECT_TRUE(is_char(full));
    EXPECT_FALSE(fs::exists(dir_ / "full.tmp"));
}

}  // namespace
}  // namespace r1::test
