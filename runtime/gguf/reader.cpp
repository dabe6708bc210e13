// GGUF reader. Every count and size read from the file is checked against the bytes left
// before it is used in arithmetic or an allocation (RELIABILITY.md §4.1, G01-G26).
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "core/checked.h"
#include "core/utf8.h"
#include "runtime/gguf/gguf.h"

namespace r1::gguf {

std::string_view value_type_name(ValueType t) {
    static constexpr std::string_view kNames[] = {"u8",  "i8",  "u16",    "i16",   "u32",
                                                  "i32", "f32", "bool",   "string", "array",
                                                  "u64", "i64", "f64"};
    auto i = static_cast<uint32_t>(t);
    return i < std::size(kNames) ? kNames[i] : "invalid";
}

std::string_view error_code_name(ErrorCode c) {
    static constexpr std::string_view kNames[] = {
        "io",         "not a regular file", "truncated",     "bad magic",    "version",
        "count",      "string length",      "empty key",     "key encoding", "duplicate key",
        "value type", "array length",       "alignment",     "n_dims",       "shape",
        "size overflow", "tensor type",     "block alignment", "data range", "offset",
        "tensor name", "missing key"};
    return kNames[static_cast<int>(c)];
}

void throw_type_mismatch(const std::string& source, std::string_view key, ValueType want,
                         ValueType got) {
    throw GgufError(ErrorCode::KvType, fmt::format("{}: key '{}': expected {}, got {}", source,
                                                   key, value_type_name(want), value_type_name(got)));
}

void throw_missing(const std::string& source, std::string_view key) {
    throw GgufError(ErrorCode::MissingKey, fmt::format("{}: missing key '{}'", source, key));
}

namespace {


// Bounds-checked little-endian cursor over the file bytes.
class Cursor {
public:
    Cursor(std::span<const uint8_t> b, const std::string& source) : b_(b), src_(source) {}

    uint64_t pos() const { return pos_; }
    uint64_t left() const { return b_.size() - pos_; }

    [[noreturn]] void fail(ErrorCode code, const std::string& msg) const {
        throw GgufError(code, fmt::format("{}: {}", src_, msg));
    }

    template <typename T>
    T read(std::string_view what) {
        if (left() < sizeof(T))
            fail(ErrorCode::Truncated, fmt::format("truncated: {} needs {} bytes at offset {}, {} left",
                                                   what, sizeof(T), pos_, left()));
        T x;
        std::memcpy(&x, b_.data() + pos_, sizeof(T));
        pos_ += sizeof(T);
        return x;
    }

    std::string_view read_string(std::string_view what, uint64_t max_len) {
        auto len = read<uint64_t>(what);
        if (len > max_len)
            fail(ErrorCode::StringLen,
                 fmt::format("{}: string length {} exceeds the limit of {}", what, len, max_len));
        if (len > left())
            fail(ErrorCode::StringLen, fmt::format("{}: string length {} runs past the end of the "
                                                   "file ({} bytes left)", what, len, left()));
        std::string_view s(reinterpret_cast<const char*>(b_.data() + pos_), len);
        pos_ += len;
        return s;
    }

private:
    std::span<const uint8_t> b_;
    const std::string& src_;
    uint64_t pos_ = 0;
};

uint64_t scalar_size(ValueType t) {
    switch (t) {
        case ValueType::U8: case ValueType::I8: case ValueType::BOOL: return 1;
        case ValueType::U16: case ValueType::I16: return 2;
        case ValueType::U32: case ValueType::I32: case ValueType::F32: return 4;
        case ValueType::U64: case ValueType::I64: case ValueType::F64: return 8;
        case ValueType::STRING: return 8;  // minimum: the length prefix
        case ValueType::ARRAY: return 0;
    }
    return 0;
}

bool valid_value_type(uint32_t t) { return t <= static_cast<uint32_t>(ValueType::F64); }

Value read_scalar(Cursor& c, ValueType t, std::string_view what) {
    switch (t) {
        case ValueType::U8: return c.read<uint8_t>(what);
        case ValueType::I8: return c.read<int8_t>(what);
        case ValueType::U16: return c.read<uint16_t>(what);
        case ValueType::I16: return c.read<int16_t>(what);
        case ValueType::U32: return c.read<uint32_t>(what);
        case ValueType::I32: return c.read<int32_t>(what);
        case ValueType::F32: return c.read<float>(what);
        case ValueType::BOOL: {
            auto b = c.read<uint8_t>(what);
            if (b > 1) c.fail(ErrorCode::KvType, fmt::format("{}: bool value {} is not 0 or 1", what, b));
            return b == 1;
        }
        case ValueType::STRING: return std::string(c.read_string(what, kMaxStringLen));
        case ValueType::U64: return c.read<uint64_t>(what);
        case ValueType::I64: return c.read<int64_t>(what);
        case ValueType::F64: return c.read<double>(what);
        case ValueType::ARRAY: break;
    }
    c.fail(ErrorCode::KvType, fmt::format("{}: unexpected value type", what));
}

Value read_value(Cursor& c, const std::string& key) {
    auto t = c.read<uint32_t>(fmt::format("type of key '{}'", key));
    if (!valid_value_type(t))
        c.fail(ErrorCode::KvType, fmt::format("key '{}': invalid value type {}", key, static_cast<int32_t>(t)));
    if (static_cast<ValueType>(t) != ValueType::ARRAY)
        return read_scalar(c, static_cast<ValueType>(t), fmt::format("value of key '{}'", key));

    auto et = c.read<uint32_t>(fmt::format("array type of key '{}'", key));
    if (!valid_value_type(et))
        c.fail(ErrorCode::KvType, fmt::format("key '{}': invalid array element type {}", key, static_cast<int32_t>(et)));
    auto elem = static_cast<ValueType>(et);
    if (elem == ValueType::ARRAY)
        c.fail(ErrorCode::KvType, fmt::format("key '{}': arrays of arrays are not supported", key));
    auto count = c.read<uint64_t>(fmt::format("array length of key '{}'", key));
    uint64_t min_bytes;
    if (count > kMaxArrayLen || !checked_mul(count, scalar_size(elem), &min_bytes))
        c.fail(ErrorCode::ArrayLen, fmt::format("key '{}': array length {} exceeds the limit of {}",
                                                key, count, kMaxArrayLen));
    if (min_bytes > c.left())
        c.fail(ErrorCode::ArrayLen, fmt::format("key '{}': array of {} x {} needs at least {} bytes, "
                                                "{} left", key, count, value_type_name(elem),
                                                min_bytes, c.left()));
    Array a;
    a.elem_type = elem;
    a.items.reserve(count);  // bounded by the bytes left, checked above
    std::string what = fmt::format("element of array '{}'", key);
    for (uint64_t i = 0; i < count; ++i) a.items.push_back(read_scalar(c, elem, what));
    return Value(std::move(a));
}

}  // namespace

File::~File() {
    if (map_) munmap(map_, map_size_);
}

void File::release(const void* p, size_t n) const {
    if (!map_ || n == 0) return;
    const auto base = reinterpret_cast<uintptr_t>(map_);
    const auto page = uintptr_t(sysconf(_SC_PAGESIZE));
    uintptr_t lo = reinterpret_cast<uintptr_t>(p), hi = lo + n;
    if (lo < base || hi > base + map_size_) return;
    lo = (lo + page - 1) / page * page;
    hi = hi / page * page;
    if (hi > lo) madvise(reinterpret_cast<void*>(lo), hi - lo, MADV_DONTNEED);
}

std::unique_ptr<File> File::open(const std::filesystem::path& path) {
    std::string src = path.string();
    int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK);
    if (fd < 0)
        throw GgufError(ErrorCode::Io, fmt::format("{}: cannot open: {}", src, std::strerror(errno)));
    struct stat st {};
    if (fstat(fd, &st) != 0) {
        int e = errno;
        ::close(fd);
        throw GgufError(ErrorCode::Io, fmt::format("{}: cannot stat: {}", src, std::strerror(e)));
    }
    if (!S_ISREG(st.st_mode)) {
        ::close(fd);
        throw GgufError(ErrorCode::NotRegularFile,
                        fmt::format("{}: not a regular file ({})", src,
                                    S_ISDIR(st.st_mode) ? "a directory" : "a device, FIFO or socket"));
    }
    std::unique_ptr<File> f(new File());
    f->source_ = src;
    // The size is snapshot here; the mapping is private, so later writes to the file do not
    // change what we parsed. A file truncated after this point can still raise SIGBUS on
    // access (RELIABILITY.md G26): the runtime reads weights only from a file it validated.
    auto size = static_cast<size_t>(st.st_size);
    if (size > 0) {
        void* m = mmap(nullptr, size, PROT_READ, MAP_PRIVATE, fd, 0);
        if (m == MAP_FAILED) {
            int e = errno;
            ::close(fd);
            throw GgufError(ErrorCode::Io, fmt::format("{}: cannot mmap: {}", src, std::strerror(e)));
        }
        f->map_ = m;
        f->map_size_ = size;
        f->bytes_ = {static_cast<const uint8_t*>(m), size};
    }
    ::close(fd);
    f->parse_all();
    return f;
}

std::unique_ptr<File> File::parse(std::span<const uint8_t> bytes, std::string source) {
    std::unique_ptr<File> f(new File());
    f->source_ = std::move(source);
    f->bytes_ = bytes;
    f->parse_all();
    return f;
}

const Value* File::find(std::string_view key) const {
    auto it = kv_index_.find(std::string(key));
    return it == kv_index_.end() ? nullptr : &kv_[it->second].second;
}

const TensorInfo* File::find_tensor(std::string_view name) const {
    auto it = tensor_index_.find(std::string(name));
    return it == tensor_index_.end() ? nullptr : &tensors_[it->second];
}

int64_t File::get_int(std::string_view key) const {
    const Value* v = find(key);
    if (!v) throw_missing(source_, key);
    return std::visit(
        [&](const auto& x) -> int64_t {
            using T = std::decay_t<decltype(x)>;
            if constexpr (std::is_integral_v<T> && !std::is_same_v<T, bool>) {
                if constexpr (std::is_same_v<T, uint64_t>) {
                    if (x > static_cast<uint64_t>(INT64_MAX))
                        throw GgufError(ErrorCode::KvType,
                                        fmt::format("{}: key '{}': value {} out of range", source_, key, x));
                }
                return static_cast<int64_t>(x);
            } else {
                throw GgufError(ErrorCode::KvType, fmt::format("{}: key '{}': expected an integer, got {}",
                                                               source_, key, value_type_name(v->type())));
            }
        },
        v->v);
}

const Array& File::get_array_value(std::string_view key) const { return get<Array>(key); }

void File::parse_all() {
    Cursor c(bytes_, source_);

    // Header (G01-G05).
    if (bytes_.size() < 4) c.fail(ErrorCode::Truncated, fmt::format("truncated: {} bytes is too short for a GGUF header", bytes_.size()));
    std::string_view magic(reinterpret_cast<const char*>(bytes_.data()), 4);
    if (magic != "GGUF") {
        if (magic == "GGML" || magic == "GGJT" || magic == "ggjt" || magic == "ggml" || magic == "ggmf" || magic == "lmgg" || magic == "tjgg")
            c.fail(ErrorCode::BadMagic, "bad magic: this is a legacy GGML/GGJT file (pre-GGUF); convert it to GGUF v3");
        c.fail(ErrorCode::BadMagic, "bad magic: not a GGUF file");
    }
    c.read<uint32_t>("magic");
    version_ = c.read<uint32_t>("version");
    if ((version_ & 0xFFFFu) == 0 && version_ != 0)
        c.fail(ErrorCode::Version, fmt::format("version 0x{:08x}: the file looks byte-swapped (big-endian); only little-endian files are supported", version_));
    if (version_ == 1) c.fail(ErrorCode::Version, "GGUF version 1 is obsolete and not supported; use version 2 or 3");
    if (version_ == 0 || version_ > 3) c.fail(ErrorCode::Version, fmt::format("unsupported GGUF version {} (supported: 2, 3)", version_));

    auto n_tensors = c.read<uint64_t>("tensor count");
    auto n_kv = c.read<uint64_t>("metadata count");
    constexpr uint64_t kMinKv = 8 + 1 + 4 + 1;                  // key len, key, type, value
    constexpr uint64_t kMinTensor = 8 + 1 + 4 + 8 + 4 + 8;      // name len, name, n_dims, ne, type, offset
    if (n_tensors > (uint64_t{1} << 40) || n_kv > (uint64_t{1} << 40))
        c.fail(ErrorCode::Count, fmt::format("implausible counts: {} tensors, {} metadata entries", n_tensors, n_kv));
    if (n_kv > c.left() / kMinKv)
        c.fail(ErrorCode::Truncated, fmt::format("truncated: {} metadata entries cannot fit in the {} bytes left", n_kv, c.left()));
    if (n_tensors > c.left() / kMinTensor)
        c.fail(ErrorCode::Truncated, fmt::format("truncated: {} tensors cannot fit in the {} bytes left", n_tensors, c.left()));

    // Metadata (G06-G14).
    kv_.reserve(n_kv);
    for (uint64_t i = 0; i < n_kv; ++i) {
        std::string_view key = c.read_string(fmt::format("key of metadata entry {}", i), 65535);
        if (key.empty()) c.fail(ErrorCode::EmptyKey, fmt::format("metadata entry {} has an empty key", i));
        for (char ch : key) {
            if (ch < 0x20 || ch > 0x7E)
                c.fail(ErrorCode::KeyEncoding, fmt::format("metadata entry {}: key is not printable ASCII", i));
        }
        std::string k(key);
        if (kv_index_.count(k)) c.fail(ErrorCode::DupKey, fmt::format("duplicate key '{}'", k));
        Value v = read_value(c, k);
        kv_index_.emplace(k, kv_.size());
        kv_.emplace_back(std::move(k), std::move(v));
    }
    if (const Value* a = find("general.alignment")) {
        if (a->type() != ValueType::U32)
            c.fail(ErrorCode::KvType, fmt::format("key 'general.alignment': expected u32, got {}", value_type_name(a->type())));
        uint32_t al = std::get<uint32_t>(a->v);
        if (!is_pow2(al) || al > kMaxAlignment)
            c.fail(ErrorCode::Alignment, fmt::format("general.alignment = {}: must be a power of two no larger than {}", al, kMaxAlignment));
        alignment_ = al;
    }

    // Tensor infos (G15-G18, G22).
    tensors_.reserve(n_tensors);
    for (uint64_t i = 0; i < n_tensors; ++i) {
        TensorInfo t;
        std::string_view name = c.read_string(fmt::format("name of tensor {}", i), kMaxStringLen);
        if (name.empty()) c.fail(ErrorCode::TensorName, fmt::format("tensor {} has an empty name", i));
        if (name.size() > kMaxTensorName)
            c.fail(ErrorCode::TensorName, fmt::format("tensor {}: name of {} bytes is longer than {}", i, name.size(), kMaxTensorName));
        if (!valid_utf8(name)) c.fail(ErrorCode::TensorName, fmt::format("tensor {}: name is not valid UTF-8", i));
        t.name = name;
        if (tensor_index_.count(t.name)) c.fail(ErrorCode::TensorName, fmt::format("duplicate tensor name '{}'", t.name));
        std::string what = fmt::format("tensor '{}'", t.name);
        t.n_dims = c.read<uint32_t>(what);
        if (t.n_dims == 0 || t.n_dims > kMaxDims)
            c.fail(ErrorCode::NDims, fmt::format("{}: n_dims = {} (must be 1..{})", what, t.n_dims, kMaxDims));
        for (uint32_t d = 0; d < t.n_dims; ++d) {
            t.ne[d] = c.read<int64_t>(what);
            if (t.ne[d] < 0) c.fail(ErrorCode::Shape, fmt::format("{}: dimension {} is negative ({})", what, d, t.ne[d]));
        }
        auto type_id = c.read<uint32_t>(what);
        const TypeTraits* tr = type_traits(type_id);
        if (!tr) c.fail(ErrorCode::TensorType, fmt::format("{}: unknown or removed tensor type {}", what, static_cast<int32_t>(type_id)));
        t.type = static_cast<GgmlType>(type_id);
        t.offset = c.read<uint64_t>(what);

        int64_t n = 1;
        for (int d = 0; d < kMaxDims; ++d) {
            if (!checked_mul(n, t.ne[d], &n))
                c.fail(ErrorCode::SizeOverflow, fmt::format("{}: element count overflows", what));
        }
        if (t.ne[0] % tr->block_size != 0)
            c.fail(ErrorCode::BlockAlign, fmt::format("{}: ne[0] = {} is not a multiple of the {} block size {}",
                                                      what, t.ne[0], tr->name, tr->block_size));
        uint64_t bytes;
        if (!checked_mul(static_cast<uint64_t>(n) / tr->block_size, uint64_t{tr->type_size}, &bytes))
            c.fail(ErrorCode::SizeOverflow, fmt::format("{}: byte size overflows", what));
        t.n_bytes = bytes;
        tensor_index_.emplace(t.name, tensors_.size());
        tensors_.push_back(std::move(t));
    }

    // Data blob (G19-G21, G23).
    uint64_t data_start = c.pos();
    if (n_tensors > 0 && !checked_pad(data_start, alignment_, &data_start))
        c.fail(ErrorCode::SizeOverflow, "data offset overflows");
    data_offset_ = data_start;
    uint64_t data_size = bytes_.size() >= data_start ? bytes_.size() - data_start : 0;
    // First the layout's total size, so that sizes adding past 2^64 are named as such.
    uint64_t total = 0;
    for (const TensorInfo& t : tensors_) {
        uint64_t padded;
        if (!checked_pad(t.n_bytes, alignment_, &padded) || !checked_add(total, padded, &total))
            throw GgufError(ErrorCode::SizeOverflow,
                            fmt::format("{}: tensor '{}': padded tensor sizes overflow", source_, t.name));
    }
    uint64_t expect = 0;
    for (TensorInfo& t : tensors_) {
        uint64_t end;
        if (!checked_add(t.offset, t.n_bytes, &end) || end > data_size)
            throw GgufError(ErrorCode::DataRange,
                            fmt::format("{}: tensor '{}': data [{}, +{}) lies outside the {} bytes of "
                                        "tensor data", source_, t.name, t.offset, t.n_bytes, data_size));
        if (t.offset % alignment_ != 0)
            throw GgufError(ErrorCode::Offset, fmt::format("{}: tensor '{}': offset {} is not a multiple of "
                                                           "the alignment {}", source_, t.name, t.offset, alignment_));
        if (t.offset != expect)
            throw GgufError(ErrorCode::Offset,
                            fmt::format("{}: tensor '{}': offset {} where {} was expected (tensors must be "
                                        "stored in order, contiguous and non-overlapping)",
                                        source_, t.name, t.offset, expect));
        uint64_t padded;
        R1_CHECK(checked_pad(t.n_bytes, alignment_, &padded));  // checked in the first pass
        expect += padded;
        t.data = bytes_.data() + data_start + t.offset;
    }
    uint64_t used = 0;
    if (!tensors_.empty()) {
        const TensorInfo& last = tensors_.back();
        used = data_start + last.offset + last.n_bytes;
    } else {
        used = c.pos();
    }
    trailing_ = bytes_.size() > used ? bytes_.size() - used : 0;
    // Padding after the last tensor is normal; more than one alignment unit is trailing data.
    if (trailing_ < alignment_) trailing_ = 0;
}

}  // namespace r1::gguf
