// core/files.h against private device nodes and FIFOs made in a temp folder (never the
// system's /dev): OutputFile writes through a device, FIFO or a link to one and replaces only
// regular files; read_input_file stops endless inputs at the cap and names the file.
#include <gtest/gtest.h>

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <atomic>
#include <csignal>
#include <filesystem>
#include <functional>
#include <fstream>
#include <thread>

#include "core/error.h"
#include "core/files.h"

namespace r1 {
namespace {

namespace fs = std::filesystem;

class FilesTest : public testing::Test {
protected:
    void SetUp() override {
        dir_ = fs::temp_directory_path() / ("r1-core-files-" + std::to_string(getpid()) + "-" +
                                            testing::UnitTest::GetInstance()->current_test_info()->name());
        fs::remove_all(dir_);
        fs::create_directories(dir_);
    }
    void TearDown() override { fs::remove_all(dir_); }
    // A private character device (1,3 null; 1,5 zero; 1,7 full); false when mknod is not allowed.
    bool make_char(const fs::path& p, unsigned minor) {
        return ::mknod(p.c_str(), S_IFCHR | 0666, makedev(1, minor)) == 0;
    }
    static bool is_char(const fs::path& p) {
        struct stat st = {};
        return ::stat(p.c_str(), &st) == 0 && S_ISCHR(st.st_mode);
    }
    fs::path dir_;
};

std::string error_of(const std::function<void()>& f) {
    try {
        f();
    } catch (const Error& e) {
        return e.what();
    }
    return "";
}

void write_all(OutputFile& f, size_t n) {
    std::vector<char> data(n, 'x');
    f.write(data.data(), data.size());
    f.commit();
}

TEST_F(FilesTest, RegularFileIsReplacedAtCommitOnly) {
    const auto p = dir_ / "out.bin";
    std::ofstream(p) << "old";
    {
        OutputFile f(p, "-o");
        f.write("new!", 4);
        EXPECT_FALSE(f.writes_through());
        EXPECT_TRUE(fs::exists(dir_ / "out.bin.tmp"));
        EXPECT_EQ(fs::file_size(p), 3u);  // untouched until commit
        f.commit();
    }
    EXPECT_EQ(fs::file_size(p), 4u);
    EXPECT_FALSE(fs::exists(dir_ / "out.bin.tmp"));
}

TEST_F(FilesTest, UncommittedFileLeavesNothing) {
    const auto p = dir_ / "never.bin";
    {
        OutputFile f(p);
        f.write("abc", 3);
    }
    EXPECT_FALSE(fs::exists(p));
    EXPECT_FALSE(fs::exists(dir_ / "never.bin.tmp"));
}

TEST_F(FilesTest, SymlinkToRegularFileStaysALink) {
    const auto target = dir_ / "target.bin", link = dir_ / "link.bin";
    std::ofstream(target) << "old";
    fs::create_symlink(target, link);
    OutputFile f(link);
    write_all(f, 10);
    EXPECT_TRUE(fs::is_symlink(link));
    EXPECT_EQ(fs::file_size(target), 10u);
}

TEST_F(FilesTest, NullDeviceIsWrittenThroughAndSurvives) {
    const auto p = dir_ / "null";
    if (!make_char(p, 3)) GTEST_SKIP() << "mknod not permitted here";
    OutputFile f(p, "-o");
    EXPECT_TRUE(f.writes_through());
    write_all(f, 3 << 20);
    EXPECT_TRUE(is_char(p));
    EXPECT_FALSE(fs::exists(dir_ / "null.tmp"));
}

TEST_F(FilesTest, FullDeviceFailsWithNoSpaceAndSurvives) {
    const auto p = dir_ / "full";
    if (!make_char(p, 7)) GTEST_SKIP() << "mknod not permitted here";
    const std::string e = error_of([&] {
        OutputFile f(p, "-o");
        write_all(f, 3 << 20);
    });
    EXPECT_NE(e.find("-o " + p.string()), std::string::npos) << e;
    EXPECT_NE(e.find("No space left"), std::string::npos) << e;
    EXPECT_TRUE(is_char(p));
    EXPECT_FALSE(fs::exists(dir_ / "full.tmp"));
}

TEST_F(FilesTest, SymlinkToDeviceIsFollowedNotReplaced) {
    const auto node = dir_ / "null", link = dir_ / "link";
    if (!make_char(node, 3)) GTEST_SKIP() << "mknod not permitted here";
    fs::create_symlink(node, link);
    OutputFile f(link);
    write_all(f, 1000);
    EXPECT_TRUE(fs::is_symlink(link));
    EXPECT_TRUE(is_char(node));
}

TEST_F(FilesTest, FifoDeliversEveryByteAndSurvives) {
    const auto p = dir_ / "fifo";
    ASSERT_EQ(::mkfifo(p.c_str(), 0600), 0);
    size_t got = 0;
    std::thread reader([&] {
        const int fd = ::open(p.c_str(), O_RDONLY);
        char buf[65536];
        for (ssize_t n; (n = ::read(fd, buf, sizeof buf)) > 0;) got += size_t(n);
        ::close(fd);
    });
    {
        OutputFile f(p);
        write_all(f, (5 << 20) + 17);
    }
    reader.join();
    EXPECT_EQ(got, size_t(5 << 20) + 17);
    struct stat st = {};
    ASSERT_EQ(::stat(p.c_str(), &st), 0);
    EXPECT_TRUE(S_ISFIFO(st.st_mode));
}

TEST_F(FilesTest, DirectoryIsRefusedWithoutATempFile) {
    const std::string e = error_of([&] { OutputFile f(dir_, "--dump-logits"); });
    EXPECT_NE(e.find("is a directory"), std::string::npos) << e;
    EXPECT_FALSE(fs::exists(dir_.string() + ".tmp"));
}

TEST_F(FilesTest, LinkToProcSelfFdWritesToThatDescriptor) {
    const auto file = dir_ / "captured", link = dir_ / "stdout-link";
    const int fd = ::open(file.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    ASSERT_GE(fd, 0);
    fs::create_symlink("/proc/self/fd/" + std::to_string(fd), link);
    {
        OutputFile f(link);
        EXPECT_TRUE(f.writes_through());
        write_all(f, 123);
    }
    ::close(fd);
    EXPECT_TRUE(fs::is_symlink(link));
    EXPECT_EQ(fs::file_size(file), 123u);
}

TEST_F(FilesTest, ReadsAFileWhole) {
    const auto p = dir_ / "in.txt";
    std::ofstream(p, std::ios::binary) << std::string(200000, 'a');
    EXPECT_EQ(read_input_file(p.string(), 1 << 20).size(), 200000u);
}

TEST_F(FilesTest, LargeFileIsRefusedByName) {
    const auto p = dir_ / "big.txt";
    std::ofstream(p, std::ios::binary) << std::string(2000, 'a');
    const std::string e = error_of([&] { read_input_file(p.string(), 1024, "-f"); });
    EXPECT_NE(e.find("-f " + p.string()), std::string::npos) << e;
    EXPECT_NE(e.find("1 KiB limit"), std::string::npos) << e;
}

TEST_F(FilesTest, ZeroDeviceStopsAtTheCap) {
    const auto p = dir_ / "zero";
    if (!make_char(p, 5)) GTEST_SKIP() << "mknod not permitted here";
    const std::string e = error_of([&] { read_input_file(p.string(), 1 << 20, "--messages"); });
    EXPECT_NE(e.find("--messages " + p.string() + ": larger than the 1 MiB limit"), std::string::npos) << e;
}

TEST_F(FilesTest, EndlessFifoStopsAtTheCap) {
    const auto p = dir_ / "fifo";
    ASSERT_EQ(::mkfifo(p.c_str(), 0600), 0);
    std::atomic<bool> done{false};
    std::thread writer([&] {
        const int fd = ::open(p.c_str(), O_WRONLY);
        std::vector<char> block(65536, 'z');
        while (!done && ::write(fd, block.data(), block.size()) > 0) {
        }
        ::close(fd);
    });
    std::signal(SIGPIPE, SIG_IGN);
    const std::string e = error_of([&] { read_input_file(p.string(), 1 << 20, "-f"); });
    done = true;
    writer.join();
    EXPECT_NE(e.find("larger than the 1 MiB limit"), std::string::npos) << e;
}

TEST_F(FilesTest, DirectoryAndMissingFileNameThePath) {
    EXPECT_NE(error_of([&] { read_input_file(dir_.string(), 100, "-f"); }).find("-f " + dir_.string() + ": is a directory"),
              std::string::npos);
    const auto missing = (dir_ / "nope").string();
    EXPECT_NE(error_of([&] { read_input_file(missing, 100, "--tools"); }).find("--tools " + missing + ": cannot open"),
              std::string::npos);
}

}  // namespace
}  // namespace r1
