// safetensors reader (GGUF.md §7.1) with every check of RELIABILITY.md §4.3 (ST01-ST16).
// The header is parsed and validated once; tensor bytes are read on demand with pread (never
// mmapped), so reading a checkpoint tensor by tensor keeps memory bounded.
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "core/error.h"

namespace r1::safetensors {

enum class Dtype {
    BOOL, U8, I8, I16, U16, F16, BF16, I32, U32, F32, F64, I64, U64, F8_E4M3, F8_E5M2,
};
std::string_view dtype_name(Dtype d);
size_t dtype_size(Dtype d);  // bytes per element
// Exact, case-sensitive spelling ("F16", not "f16"); nullopt when unknown.
std::optional<Dtype> dtype_from_name(std::string_view s);

// Problem classes of RELIABILITY.md §4.3, so tests can tell which check fired.
enum class ErrorCode {
    Io, NotRegularFile, HeaderTooSmall, InvalidHeaderLength, HeaderTooLarge, InvalidHeader,
    InvalidHeaderStart, InvalidHeaderDeserialization, Dtype, InvalidOffset, TensorInvalidInfo,
    ValidationOverflow, MetadataIncompleteBuffer, DuplicateTensor, InvalidMetadata, TooManyTensors,
};
std::string_view error_code_name(ErrorCode c);

class SafetensorsError : public Error {
public:
    SafetensorsError(ErrorCode code, const std::string& what) : Error(what), code_(code) {}
    ErrorCode code() const { return code_; }

private:
    ErrorCode code_;
};

constexpr uint64_t kMaxHeaderBytes = 100'000'000;  // the reference implementation's cap
constexpr size_t kMaxTensors = 1 << 16;            // per file (ST16); real shards hold a few thousand

struct TensorInfo {
    std::string name;
    Dtype dtype = Dtype::F32;
    std::vector<int64_t> shape;  // outermost first (row-major): HF [out, in]
    uint64_t begin = 0, end = 0; // byte range relative to the data buffer
    int64_t n_elements = 1;

    uint64_t n_bytes() const { return end - begin; }
};

class File {
public:
    // Opens a regular file and validates its header; tensor data stays on disk.
    static std::unique_ptr<File> open(const std::filesystem::path& path);
    // Validates bytes held elsewhere (tests, fuzzing); `bytes` must outlive the File.
    static std::unique_ptr<File> parse(std::span<const uint8_t> bytes, std::string source = "<memory>");

    ~File();
    File(const File&) = delete;
    File& operator=(const File&) = delete;

    const std::string& source() const { return source_; }
    uint64_t data_offset() const { return data_offset_; }  // 8 + header length
    // Tensors in header order.
    const std::vector<TensorInfo>& tensors() const { return tensors_; }
    const TensorInfo* find(std::string_view name) const;
    const std::map<std::string, std::string>& metadata() const { return metadata_; }

    // Copies n bytes starting `offset` bytes into tensor t's data. Throws on a short read.
    void read(const TensorInfo& t, uint64_t offset, uint64_t n, void* dst) const;
    // Converts elements [first, first + n) of a float tensor (F32, F16, BF16, F8_E4M3, F8_E5M2)
    // to float32 (exact: every source value is representable).
    void read_f32(const TensorInfo& t, int64_t first, int64_t n, float* dst) const;

private:
    File() = default;
    void parse_header(std::span<const uint8_t> prefix, uint64_t file_size);

    std::string source_;
    int fd_ = -1;
    std::span<const uint8_t> bytes_;  // in-memory variant
    uint64_t data_offset_ = 0;
    std::vector<TensorInfo> tensors_;
    std::unordered_map<std::string, size_t> index_;
    std::map<std::string, std::string> metadata_;
};

// Float conversions of the element formats (exact widening).
float f16_bits_to_f32(uint16_t h);
float bf16_bits_to_f32(uint16_t b);
float f8_e4m3_to_f32(uint8_t b);  // OCP E4M3FN: no infinities, 0x7F/0xFF are NaN
float f8_e5m2_to_f32(uint8_t b);

}  // namespace r1::safetensors
