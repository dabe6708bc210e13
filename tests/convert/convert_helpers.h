// Shared helpers of the converter tests: running `r1 convert`, reading fixture checkpoints
// with the safetensors reader and GGUF tensors as float32.
#pragma once

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "runtime/gguf/gguf.h"
#include "runtime/safetensors/safetensors.h"
#include "tests/cli/run_r1.h"

namespace r1::test {

namespace fs = std::filesystem;

inline fs::path fixture_model(const std::string& name) { return fs::path(R1_FIXTURES) / "models" / name; }

// A fresh temporary directory per test process.
inline fs::path scratch_dir() {
    static fs::path dir = [] {
        fs::path d = fs::temp_directory_path() / fmt::format("r1_convert_test_{}", getpid());
        fs::create_directories(d);
        return d;
    }();
    return dir;
}

inline nlohmann::json read_json(const fs::path& p) {
    std::ifstream in(p);
    return nlohmann::json::parse(in);
}

// Converts a fixture (or any folder) and returns the output path; fails the test on error.
inline fs::path convert_model(const fs::path& dir, const std::string& type, const std::vector<std::string>& extra = {}) {
    fs::path out = scratch_dir() / fmt::format("{}-{}{}.gguf", dir.filename().string(), type,
                                               extra.empty() ? "" : "-" + std::to_string(std::hash<std::string>{}(
                                                                            fmt::format("{}", fmt::join(extra, " ")))));
    std::vector<std::string> args = {"convert", dir.string(), "-o", out.string(), "--type", type, "--quiet", "--force"};
    args.insert(args.end(), extra.begin(), extra.end());
    RunResult r = run_r1(args);
    EXPECT_EQ(r.status, 0) << r.err;
    return out;
}

// All tensors of an HF checkpoint folder (single file or shards), by name.
struct HfTensors {
    std::vector<std::unique_ptr<safetensors::File>> files;
    std::map<std::string, std::pair<const safetensors::File*, const safetensors::TensorInfo*>> by_name;

    explicit HfTensors(const fs::path& dir) {
        for (const auto& e : fs::directory_iterator(dir)) {
            if (e.path().extension() != ".safetensors") continue;
            files.push_back(safetensors::File::open(e.path()));
            for (const auto& t : files.back()->tensors()) by_name[t.name] = {files.back().get(), &t};
        }
    }
    bool has(const std::string& n) const { return by_name.count(n) != 0; }
    std::vector<int64_t> shape(const std::string& n) const { return by_name.at(n).second->shape; }
    std::vector<float> values(const std::string& n) const {
        auto [f, t] = by_name.at(n);
        std::vector<float> v(static_cast<size_t>(t->n_elements));
        f->read_f32(*t, 0, t->n_elements, v.data());
        return v;
    }
};

// A GGUF tensor's values as float32 (F32, F16, BF16 only: exact widening).
inline std::vector<float> gguf_values(const gguf::TensorInfo& t) {
    std::vector<float> v(static_cast<size_t>(t.n_elements()));
    for (size_t i = 0; i < v.size(); ++i) {
        uint16_t h;
        switch (t.type) {
            case GgmlType::F32: std::memcpy(&v[i], t.data + 4 * i, 4); break;
            case GgmlType::F16: std::memcpy(&h, t.data + 2 * i, 2); v[i] = safetensors::f16_bits_to_f32(h); break;
            case GgmlType::BF16: std::memcpy(&h, t.data + 2 * i, 2); v[i] = safetensors::bf16_bits_to_f32(h); break;
            default: ADD_FAILURE() << t.name << ": not a float type"; return v;
        }
    }
    return v;
}

}  // namespace r1::test
