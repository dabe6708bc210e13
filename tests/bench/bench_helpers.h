// Shared by the synth/bench CLI tests: a per-process scratch folder, running `r1 synth`, files.
#pragma once

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <gtest/gtest.h>

#include "tests/cli/run_r1.h"

namespace r1::test {

namespace fs = std::filesystem;

// A scratch folder per test process, removed when the process exits.
inline fs::path bench_scratch() {
    struct Scratch {
        fs::path dir = fs::temp_directory_path() / fmt::format("r1_bench_test_{}", getpid());
        Scratch() { fs::create_directories(dir); }
        ~Scratch() {
            std::error_code ec;
            fs::remove_all(dir, ec);
        }
    };
    static Scratch s;
    return s.dir;
}

// Runs `r1 synth --preset P --type T -o <scratch>/<name>.gguf --quiet --force ...`; fails the test on error.
inline fs::path synth(const std::string& name, const std::string& preset, const std::string& type,
                      const std::vector<std::string>& extra = {}) {
    fs::path out = bench_scratch() / (name + ".gguf");
    std::vector<std::string> args = {"synth", "--preset", preset, "--type", type, "-o", out.string(), "--quiet", "--force"};
    args.insert(args.end(), extra.begin(), extra.end());
    RunResult r = run_r1(args);
    EXPECT_EQ(r.status, 0) << r.err;
    return out;
}

inline std::string file_bytes(const fs::path& p) {
    std::ifstream in(p, std::ios::binary);
    return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

// A failing command: exit status 1 and exactly one line on stderr.
inline void expect_one_line_error(const RunResult& r, const std::string& needle) {
    EXPECT_EQ(r.status, 1) << r.err;
    ASSERT_FALSE(r.err.empty());
    EXPECT_EQ(r.err.find('\n'), r.err.size() - 1) << r.err;
    EXPECT_NE(r.err.find(needle), std::string::npos) << r.err;
}

}  // namespace r1::test
