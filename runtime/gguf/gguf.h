// GGUF v3 container: metadata values, the reader (mmap, every count checked before use) and
// the streaming writer (<out>.tmp, renamed on success). Knows nothing about models or formats
// beyond the type registry in quant/types.h.
#pragma once

#include <array>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <variant>
#include <vector>

#include "quant/types.h"
#include "core/error.h"
#include "core/files.h"

namespace r1::gguf {

// Metadata value type ids (GGUF.md §1.3). The order of Value's variant follows these ids.
enum class ValueType : uint32_t {
    U8 = 0, I8 = 1, U16 = 2, I16 = 3, U32 = 4, I32 = 5, F32 = 6, BOOL = 7,
    STRING = 8, ARRAY = 9, U64 = 10, I64 = 11, F64 = 12,
};
std::string_view value_type_name(ValueType t);

struct Value;
struct Array {
    ValueType elem_type = ValueType::U8;
    std::vector<Value> items;  // never nested: an array of arrays is rejected
    bool operator==(const Array& o) const;
};

struct Value {
    std::variant<uint8_t, int8_t, uint16_t, int16_t, uint32_t, int32_t, float, bool, std::string,
                 Array, uint64_t, int64_t, double>
        v;

    Value() = default;
    template <typename T>
    Value(T x) : v(std::move(x)) {}  // NOLINT: implicit on purpose, `Value{uint32_t{3}}`
    Value(const char* s) : v(std::string(s)) {}

    ValueType type() const { return static_cast<ValueType>(v.index()); }
    bool operator==(const Value& o) const { return v == o.v; }
    // Builds an array value from a vector of scalars or strings.
    template <typename T>
    static Value array(const std::vector<T>& xs);
};

inline bool Array::operator==(const Array& o) const {
    return elem_type == o.elem_type && items == o.items;
}

// Problem classes of RELIABILITY.md §4.1, so tests can tell which check fired.
enum class ErrorCode {
    Io, NotRegularFile, Truncated, BadMagic, Version, Count, StringLen, EmptyKey, KeyEncoding,
    DupKey, KvType, ArrayLen, Alignment, NDims, Shape, SizeOverflow, TensorType, BlockAlign,
    DataRange, Offset, TensorName, MissingKey,
};
std::string_view error_code_name(ErrorCode c);

class GgufError : public Error {
public:
    GgufError(ErrorCode code, const std::string& what) : Error(what), code_(code) {}
    ErrorCode code() const { return code_; }

private:
    ErrorCode code_;
};

constexpr int kMaxDims = 4;
constexpr uint32_t kDefaultAlignment = 32;
constexpr uint64_t kMaxStringLen = 64ull << 20;    // metadata string cap (64 MiB)
constexpr uint64_t kMaxArrayLen = 64ull << 20;     // array element cap (64 Mi)
constexpr uint64_t kMaxAlignment = 64ull << 10;    // general.alignment cap (64 KiB)
constexpr size_t kMaxTensorName = 63;              // bytes, as llama.cpp (64 with NUL)

struct TensorInfo {
    std::string name;
    GgmlType type = GgmlType::F32;
    uint32_t n_dims = 1;
    std::array<int64_t, kMaxDims> ne{1, 1, 1, 1};  // ggml order: ne[0] is contiguous
    uint64_t offset = 0;                           // relative to the data blob
    uint64_t n_bytes = 0;
    const uint8_t* data = nullptr;                 // view into the file (reader only)

    int64_t n_elements() const { return ne[0] * ne[1] * ne[2] * ne[3]; }
};

// A read-only GGUF file. Owns its mapping; values and tensor data are valid while it lives.
class File {
public:
    // mmaps a regular file (read-only, private). Throws GgufError naming the path and problem.
    static std::unique_ptr<File> open(const std::filesystem::path& path);
    // Parses bytes held elsewhere (tests, fuzzing); `bytes` must outlive the File.
    static std::unique_ptr<File> parse(std::span<const uint8_t> bytes, std::string source = "<memory>");

    ~File();
    File(const File&) = delete;
    File& operator=(const File&) = delete;

    uint32_t version() const { return version_; }
    uint32_t alignment() const { return alignment_; }
    uint64_t data_offset() const { return data_offset_; }  // absolute start of the data blob
    uint64_t file_size() const { return bytes_.size(); }
    uint64_t trailing_bytes() const { return trailing_; }  // bytes after the last tensor
    const std::string& source() const { return source_; }

    // Metadata in file order.
    const std::vector<std::pair<std::string, Value>>& metadata() const { return kv_; }
    const Value* find(std::string_view key) const;
    bool has(std::string_view key) const { return find(key) != nullptr; }

    // Typed access: throws GgufError (MissingKey / KvType) naming the key and both types.
    template <typename T>
    const T& get(std::string_view key) const;
    template <typename T>
    T get_or(std::string_view key, T fallback) const;
    // Any integer type whose value fits in int64 (writers disagree on u32 vs i32 for counts).
    int64_t get_int(std::string_view key) const;
    // Array of T (elements checked to be of T's type).
    template <typename T>
    std::vector<T> get_array(std::string_view key) const;
    const Array& get_array_value(std::string_view key) const;

    const std::vector<TensorInfo>& tensors() const { return tensors_; }
    const TensorInfo* find_tensor(std::string_view name) const;

    // Drops the whole mapped pages inside [p, p + n) from this process (a backend holds its own
    // copy of that tensor); reading them again faults them back in from the file. No-op for
    // parsed files and for ranges outside the mapping.
    void release(const void* p, size_t n) const;

private:
    File() = default;
    void parse_all();

    std::string source_;
    std::span<const uint8_t> bytes_;
    void* map_ = nullptr;
    size_t map_size_ = 0;
    uint32_t version_ = 0;
    uint32_t alignment_ = kDefaultAlignment;
    uint64_t data_offset_ = 0;
    uint64_t trailing_ = 0;
    std::vector<std::pair<std::string, Value>> kv_;
    std::unordered_map<std::string, size_t> kv_index_;
    std::vector<TensorInfo> tensors_;
    std::unordered_map<std::string, size_t> tensor_index_;
};

// Streaming writer. Declare metadata and tensors, then write each tensor's bytes in declared
// order (in one call or in chunks). Writes <path>.tmp and renames on finish(); a writer
// destroyed before finish() removes the temporary file, so no partial file is ever left.
// A device, FIFO or /dev/stdout given as the path is written through (core/files.h).
class Writer {
public:
    explicit Writer(std::filesystem::path path, uint32_t alignment = kDefaultAlignment);
    ~Writer();
    Writer(const Writer&) = delete;
    Writer& operator=(const Writer&) = delete;

    void set(std::string key, Value value);  // replaces an existing key, keeps its position
    // ne in ggml order; n_dims is trimmed of trailing 1s as GGUF writers do.
    void add_tensor(std::string name, GgmlType type, std::span<const int64_t> ne);

    // Appends bytes to the current tensor; moves to the next one when it is full.
    void write(std::span<const uint8_t> bytes);
    void finish();

    const std::vector<TensorInfo>& tensors() const { return tensors_; }
    const std::filesystem::path& tmp_path() const;  // where bytes go until finish()

private:
    void write_header();
    void raw(const void* p, size_t n);
    void pad_to(uint64_t align);

    std::filesystem::path path_;
    uint32_t alignment_;
    std::vector<std::pair<std::string, Value>> kv_;
    std::vector<TensorInfo> tensors_;
    std::unordered_map<std::string, size_t> tensor_index_;
    std::unique_ptr<OutputFile> out_;  // opened with the header
    uint64_t pos_ = 0;         // bytes written to the file so far
    size_t current_ = 0;       // tensor being written
    uint64_t current_done_ = 0;
    bool header_written_ = false;
    bool finished_ = false;
};

// ---- template definitions ----

template <typename T>
constexpr ValueType value_type_of() {
    if constexpr (std::is_same_v<T, uint8_t>) return ValueType::U8;
    else if constexpr (std::is_same_v<T, int8_t>) return ValueType::I8;
    else if constexpr (std::is_same_v<T, uint16_t>) return ValueType::U16;
    else if constexpr (std::is_same_v<T, int16_t>) return ValueType::I16;
    else if constexpr (std::is_same_v<T, uint32_t>) return ValueType::U32;
    else if constexpr (std::is_same_v<T, int32_t>) return ValueType::I32;
    else if constexpr (std::is_same_v<T, float>) return ValueType::F32;
    else if constexpr (std::is_same_v<T, bool>) return ValueType::BOOL;
    else if constexpr (std::is_same_v<T, std::string>) return ValueType::STRING;
    else if constexpr (std::is_same_v<T, Array>) return ValueType::ARRAY;
    else if constexpr (std::is_same_v<T, uint64_t>) return ValueType::U64;
    else if constexpr (std::is_same_v<T, int64_t>) return ValueType::I64;
    else if constexpr (std::is_same_v<T, double>) return ValueType::F64;
    else static_assert(sizeof(T) == 0, "not a GGUF value type");
}

template <typename T>
Value Value::array(const std::vector<T>& xs) {
    Array a;
    a.elem_type = value_type_of<T>();
    a.items.reserve(xs.size());
    for (const auto& x : xs) a.items.emplace_back(T(x));
    return Value(std::move(a));
}

[[noreturn]] void throw_type_mismatch(const std::string& source, std::string_view key,
                                      ValueType want, ValueType got);
[[noreturn]] void throw_missing(const std::string& source, std::string_view key);

template <typename T>
const T& File::get(std::string_view key) const {
    const Value* v = find(key);
    if (!v) throw_missing(source_, key);
    if (v->type() != value_type_of<T>()) throw_type_mismatch(source_, key, value_type_of<T>(), v->type());
    return std::get<T>(v->v);
}

template <typename T>
T File::get_or(std::string_view key, T fallback) const {
    return has(key) ? get<T>(key) : fallback;
}

template <typename T>
std::vector<T> File::get_array(std::string_view key) const {
    const Array& a = get_array_value(key);
    if (a.elem_type != value_type_of<T>())
        throw GgufError(ErrorCode::KvType,
                        fmt::format("{}: key '{}': expected array of {}, got array of {}", source_,
                                    key, value_type_name(value_type_of<T>()),
                                    value_type_name(a.elem_type)));
    std::vector<T> out;
    out.reserve(a.items.size());
    for (const Value& x : a.items) out.push_back(std::get<T>(x.v));
    return out;
}

}  // namespace r1::gguf
