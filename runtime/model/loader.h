// Reading a model's GGUF description with every check of RELIABILITY.md §4.2: typed,
// range-checked hyper-parameters (M02-M04) and tensors checked by name, shape and type
// against them (M05, M06). Families use these; they never read the file directly.
#pragma once

#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "backends/backend.h"
#include "runtime/gguf/gguf.h"

namespace r1 {

// Hyper-parameters under "<arch>." with their bounds.
class HParams {
public:
    HParams(const gguf::File& file, std::string arch) : f_(file), arch_(std::move(arch)) {}

    // Required integer key in [min, max]; an array value must have n_layer equal elements (M04).
    int64_t count(std::string_view key, int64_t min, int64_t max) const;
    std::optional<int64_t> count_opt(std::string_view key, int64_t min, int64_t max) const;
    float real(std::string_view key, float min, float max) const;
    std::optional<float> real_opt(std::string_view key, float min, float max) const;
    std::optional<std::string> string_opt(std::string_view key) const;
    // Per-layer arrays are checked against this (set once block_count is known).
    void set_n_layer(int64_t n) { n_layer_ = n; }

    std::string full(std::string_view key) const { return arch_ + "." + std::string(key); }

private:
    int64_t as_count(const std::string& key, const gguf::Value& v) const;
    const gguf::File& f_;
    std::string arch_;
    int64_t n_layer_ = 0;
};

// Hands out views of the file's tensors after checking them; remembers which were used.
class TensorLoader {
public:
    TensorLoader(const gguf::File& file, const Backend& backend) : f_(file), backend_(backend) {}

    // W (n_out, n_in): ggml ne {n_in, n_out}, a type the backend multiplies by (M05, M06).
    WeightView matrix(const std::string& name, int64_t n_out, int64_t n_in);
    // A 1-D float vector of n elements (F32 in the file, or F16/BF16 converted to an owned copy).
    const float* vector(const std::string& name, int64_t n);
    bool has(const std::string& name) const { return f_.find_tensor(name) != nullptr; }
    // Warns on stderr about tensors no family asked for (M05 "extras warned about").
    void warn_unused() const;

private:
    const gguf::TensorInfo& find(const std::string& name);
    const gguf::File& f_;
    const Backend& backend_;
    std::set<std::string> used_;
    std::vector<std::vector<float>> owned_;
};

}  // namespace r1
