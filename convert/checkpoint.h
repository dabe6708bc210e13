// A Hugging Face checkpoint folder: config.json plus one safetensors file or a sharded index
// (GGUF.md §7.2), with the folder checks of RELIABILITY.md §4.7 (C01-C04, C09). Tensors are
// read as float32 rows on demand; F8_E4M3 weights are scaled by their weight_scale_inv blocks.
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "runtime/safetensors/safetensors.h"

namespace r1::convert {

// One checkpoint tensor seen as a row-major matrix (rows = product of all but the last dim).
struct Source {
    std::string name;
    const safetensors::File* file = nullptr;
    const safetensors::TensorInfo* info = nullptr;
    const safetensors::File* scale_file = nullptr;        // FP8 only: the block scales
    const safetensors::TensorInfo* scale = nullptr;       // [ceil(rows/bs0), ceil(cols/bs1)]
    int64_t block_rows = 0, block_cols = 0;               // FP8 block size (weight_block_size)
    int64_t rows = 1, cols = 1;

    // Rows [r0, r0 + n) as float32 into dst (n * cols values).
    void read_rows(int64_t r0, int64_t n, float* dst) const;
};

class Checkpoint {
public:
    // Reads config.json and validates every safetensors header before anything else happens.
    explicit Checkpoint(const std::filesystem::path& dir);

    const std::filesystem::path& dir() const { return dir_; }
    const nlohmann::json& config() const { return config_; }
    // Optional JSON files of the folder (null when absent).
    nlohmann::json read_json_if_exists(const std::string& file_name) const;

    bool has(const std::string& name) const { return tensors_.count(name) != 0; }
    // The tensor, with its FP8 scale attached; throws naming the tensor when it is missing.
    Source get(const std::string& name) const;
    // Names of every tensor in the checkpoint (sorted).
    std::vector<std::string> names() const;
    // Marks a tensor as consumed; unconsumed() lists the rest (unexpected tensors).
    void use(const std::string& name) const { used_[name] = true; }
    std::vector<std::string> unconsumed() const;
    uint64_t total_bytes() const { return total_bytes_; }

private:
    struct Entry {
        const safetensors::File* file;
        const safetensors::TensorInfo* info;
    };
    void add_file(const std::filesystem::path& p, const std::string& shard_name);

    std::filesystem::path dir_;
    nlohmann::json config_;
    std::vector<std::unique_ptr<safetensors::File>> files_;
    std::map<std::string, Entry> tensors_;
    mutable std::map<std::string, bool> used_;
    uint64_t total_bytes_ = 0;
};

// Config accessors that name the field in their errors.
int64_t config_int(const nlohmann::json& c, const char* key);
int64_t config_int_or(const nlohmann::json& c, const char* key, int64_t fallback);
double config_num(const nlohmann::json& c, const char* key);
double config_num_or(const nlohmann::json& c, const char* key, double fallback);
bool config_bool_or(const nlohmann::json& c, const char* key, bool fallback);

}  // namespace r1::convert
