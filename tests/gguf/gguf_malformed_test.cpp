// Every malformed-file case of RELIABILITY.md §4.1 must give a GgufError of the right class
// with a message naming the source, never a crash or an allocation the size of a lie.
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include <gtest/gtest.h>

#include "core/sigbus_guard.h"
#include "runtime/gguf/gguf.h"
#include "tests/gguf/malformed_cases.h"

namespace r1::test {
namespace {

class Malformed : public ::testing::TestWithParam<MalformedCase> {};

TEST_P(Malformed, ReportsTheProblem) {
    const MalformedCase& c = GetParam();
    try {
        auto f = gguf::File::parse(c.bytes, "case.gguf");
        FAIL() << c.id << " (" << c.what << ") was accepted";
    } catch (const gguf::GgufError& e) {
        EXPECT_EQ(gguf::error_code_name(e.code()), gguf::error_code_name(c.expect))
            << c.id << " (" << c.what << "): " << e.what();
        EXPECT_EQ(std::string(e.what()).rfind("case.gguf: ", 0), 0u) << e.what();
        EXPECT_EQ(std::string(e.what()).find('\n'), std::string::npos) << "one line: " << e.what();
    }
}

INSTANTIATE_TEST_SUITE_P(Reliability, Malformed, ::testing::ValuesIn(malformed_cases()),
                         [](const auto& info) { return info.param.id; });

TEST(GgufContainer, TrailingGarbageIsAcceptedAndReported) {  // G23: policy = accept, warn
    Bytes b;
    b.header(1, 0).tensor("t", {4}, 0, 0).pad(32).zeros(32).raw("garbage-garbage-garbage-garbage-garbage");
    auto f = gguf::File::parse(b.b);
    EXPECT_GT(f->trailing_bytes(), 0u);
}

TEST(GgufContainer, ZeroElementTensorIsAValidContainer) {  // G24: rejected later, by the model
    Bytes b;
    b.header(2, 0).tensor("empty", {0}, 0, 0).tensor("t", {4}, 0, 0).pad(32).zeros(32);
    auto f = gguf::File::parse(b.b);
    ASSERT_EQ(f->tensors().size(), 2u);
    EXPECT_EQ(f->tensors()[0].n_elements(), 0);
    EXPECT_EQ(f->tensors()[1].n_bytes, 16u);
}

TEST(GgufContainer, NoTensorsNoPadding) {
    Bytes b;
    b.header(0, 1).kv_str("general.architecture", "llama");
    auto f = gguf::File::parse(b.b);
    EXPECT_EQ(f->get<std::string>("general.architecture"), "llama");
    EXPECT_EQ(f->trailing_bytes(), 0u);
}

TEST(GgufContainer, Version2IsRead) {
    Bytes b;
    b.header(0, 1, 2).kv_u32("x.y", 7);
    EXPECT_EQ(gguf::File::parse(b.b)->get<uint32_t>("x.y"), 7u);
}

// G25: not a regular file.
gguf::ErrorCode open_error(const std::filesystem::path& p) {
    try {
        gguf::File::open(p);
    } catch (const gguf::GgufError& e) {
        return e.code();
    }
    ADD_FAILURE() << p << " was accepted";
    return gguf::ErrorCode::Io;
}

TEST(GgufContainer, RejectsDirectoriesDevicesAndFifos) {
    auto dir = std::filesystem::temp_directory_path() / fmt::format("r1_gguf_g25_{}", getpid());
    std::filesystem::create_directories(dir);
    EXPECT_EQ(open_error(dir), gguf::ErrorCode::NotRegularFile);
    EXPECT_EQ(open_error("/dev/zero"), gguf::ErrorCode::NotRegularFile);
    auto fifo = dir / "fifo";
    ASSERT_EQ(mkfifo(fifo.c_str(), 0600), 0);
    EXPECT_EQ(open_error(fifo), gguf::ErrorCode::NotRegularFile);  // must not block
    EXPECT_EQ(open_error(dir / "missing.gguf"), gguf::ErrorCode::Io);
    std::filesystem::remove_all(dir);
}

TEST(GgufContainer, TypedAccessNamesKeyAndTypes) {
    Bytes b;
    b.header(0, 2).kv_u32("llama.block_count", 32).kv_str("general.name", "x");
    auto f = gguf::File::parse(b.b, "m.gguf");
    EXPECT_EQ(f->get<uint32_t>("llama.block_count"), 32u);
    EXPECT_EQ(f->get_int("llama.block_count"), 32);
    try {
        f->get<std::string>("llama.block_count");
        FAIL();
    } catch (const gguf::GgufError& e) {
        EXPECT_EQ(e.code(), gguf::ErrorCode::KvType);
        EXPECT_NE(std::string(e.what()).find("llama.block_count"), std::string::npos);
        EXPECT_NE(std::string(e.what()).find("expected string, got u32"), std::string::npos);
    }
    EXPECT_THROW(f->get_int("general.name"), gguf::GgufError);
    try {
        f->get<uint32_t>("llama.context_length");
        FAIL();
    } catch (const gguf::GgufError& e) {
        EXPECT_EQ(e.code(), gguf::ErrorCode::MissingKey);
    }
}

}  // namespace
}  // namespace r1::test

namespace r1::test {
namespace {

// G26: a file truncated on disk after it was mapped. Reading its tensor data raises SIGBUS;
// the guard turns that into one line and exit status 1. Runs in a child process.
TEST(GgufContainer, TruncatedAfterMapIsACleanExit) {
    auto path = std::filesystem::temp_directory_path() / fmt::format("r1_gguf_g26_{}.gguf", getpid());
    {
        gguf::Writer w(path);
        std::vector<int64_t> ne = {1 << 16};
        w.add_tensor("t", GgmlType::F32, ne);
        std::vector<uint8_t> bytes(size_t{4} << 16, 1);
        w.write(bytes);
        w.finish();
    }
    pid_t pid = fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
        install_sigbus_guard();
        int devnull = ::open("/dev/null", O_WRONLY);
        dup2(devnull, STDERR_FILENO);
        auto f = gguf::File::open(path);
        if (truncate(path.c_str(), 64) != 0) _exit(3);
        const auto& t = f->tensors()[0];
        volatile uint8_t sum = 0;
        for (uint64_t i = 0; i < t.n_bytes; i += 4096) sum = sum + t.data[i];
        _exit(2);  // not reached: the pages past the new end are gone
    }
    int status = 0;
    waitpid(pid, &status, 0);
    ASSERT_TRUE(WIFEXITED(status)) << "killed by signal " << WTERMSIG(status);
    EXPECT_EQ(WEXITSTATUS(status), 1);
    std::filesystem::remove(path);
}

}  // namespace
}  // namespace r1::test
