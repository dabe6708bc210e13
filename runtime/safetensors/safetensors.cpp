// safetensors header validation (RELIABILITY.md §4.3, the checks of the reference Rust crate
// plus duplicate keys and a tensor-count cap) and on-demand reads of tensor bytes.
#include "runtime/safetensors/safetensors.h"

#include "core/json.h"
#include "core/utf8.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstring>
#include <limits>
#include <unordered_set>

#include <nlohmann/json.hpp>

#include "core/checked.h"

namespace r1::safetensors {

namespace {

struct DtypeInfo {
    Dtype dtype;
    std::string_view name;
    size_t size;
};

constexpr DtypeInfo kDtypes[] = {
    {Dtype::BOOL, "BOOL", 1}, {Dtype::U8, "U8", 1},   {Dtype::I8, "I8", 1},
    {Dtype::I16, "I16", 2},   {Dtype::U16, "U16", 2}, {Dtype::F16, "F16", 2},
    {Dtype::BF16, "BF16", 2}, {Dtype::I32, "I32", 4}, {Dtype::U32, "U32", 4},
    {Dtype::F32, "F32", 4},   {Dtype::F64, "F64", 8}, {Dtype::I64, "I64", 8},
    {Dtype::U64, "U64", 8},   {Dtype::F8_E4M3, "F8_E4M3", 1}, {Dtype::F8_E5M2, "F8_E5M2", 1},
};


// Reads exactly n bytes at offset; false on EOF or error (errno set on error).
bool pread_all(int fd, void* dst, uint64_t n, uint64_t offset) {
    auto* p = static_cast<uint8_t*>(dst);
    while (n > 0) {
        ssize_t r = ::pread(fd, p, std::min<uint64_t>(n, 1 << 30), static_cast<off_t>(offset));
        if (r < 0 && errno == EINTR) continue;
        if (r <= 0) {
            if (r == 0) errno = 0;
            return false;
        }
        p += r;
        n -= static_cast<uint64_t>(r);
        offset += static_cast<uint64_t>(r);
    }
    return true;
}

// SAX handler that only looks at keys: duplicates per object and the number of top-level keys.
struct KeyChecker : nlohmann::json_sax<nlohmann::json> {
    std::vector<std::unordered_set<std::string>> open;  // keys of each open object
    int depth = 0;                                      // objects and arrays
    size_t top_level = 0;
    bool too_many = false, duplicate_top_level = false;
    std::string duplicate;

    bool null() override { return true; }
    bool boolean(bool) override { return true; }
    bool number_integer(number_integer_t) override { return true; }
    bool number_unsigned(number_unsigned_t) override { return true; }
    bool number_float(number_float_t, const string_t&) override { return true; }
    bool string(string_t&) override { return true; }
    bool binary(binary_t&) override { return true; }
    bool start_object(std::size_t) override {
        open.emplace_back();
        ++depth;
        return true;
    }
    bool key(string_t& k) override {
        if (!open.back().insert(k).second) {
            duplicate = k;
            duplicate_top_level = depth == 1;
            return false;
        }
        if (depth == 1 && ++top_level > kMaxTensors + 1) {
            too_many = true;
            return false;
        }
        return true;
    }
    bool end_object() override {
        open.pop_back();
        --depth;
        return true;
    }
    bool start_array(std::size_t) override {
        open.emplace_back();  // keeps open.back() meaning "innermost object" only for objects
        ++depth;
        return true;
    }
    bool end_array() override {
        open.pop_back();
        --depth;
        return true;
    }
    bool parse_error(std::size_t, const std::string&, const nlohmann::detail::exception&) override { return false; }
};

}  // namespace

std::string_view dtype_name(Dtype d) { return kDtypes[static_cast<int>(d)].name; }
size_t dtype_size(Dtype d) { return kDtypes[static_cast<int>(d)].size; }

std::optional<Dtype> dtype_from_name(std::string_view s) {
    for (const auto& d : kDtypes)
        if (d.name == s) return d.dtype;
    return std::nullopt;
}

std::string_view error_code_name(ErrorCode c) {
    static constexpr std::string_view kNames[] = {
        "io", "not a regular file", "HeaderTooSmall", "InvalidHeaderLength", "HeaderTooLarge",
        "InvalidHeader", "InvalidHeaderStart", "InvalidHeaderDeserialization", "dtype",
        "InvalidOffset", "TensorInvalidInfo", "ValidationOverflow", "MetadataIncompleteBuffer",
        "duplicate tensor", "invalid metadata", "too many tensors"};
    return kNames[static_cast<int>(c)];
}

float f16_bits_to_f32(uint16_t h) {
    uint32_t sign = static_cast<uint32_t>(h & 0x8000) << 16;
    uint32_t exp = (h >> 10) & 0x1F, man = h & 0x3FF;
    float v;
    if (exp == 0) v = std::ldexp(static_cast<float>(man), -24);
    else if (exp == 31) v = man ? std::numeric_limits<float>::quiet_NaN() : std::numeric_limits<float>::infinity();
    else v = std::ldexp(static_cast<float>(man | 0x400), static_cast<int>(exp) - 25);
    return sign ? -v : v;
}

float bf16_bits_to_f32(uint16_t b) {
    uint32_t u = static_cast<uint32_t>(b) << 16;
    float f;
    std::memcpy(&f, &u, 4);
    return f;
}

float f8_e4m3_to_f32(uint8_t b) {
    uint32_t exp = (b >> 3) & 0xF, man = b & 0x7;
    float v;
    if (exp == 15 && man == 7) v = std::numeric_limits<float>::quiet_NaN();
    else if (exp == 0) v = std::ldexp(static_cast<float>(man), -9);
    else v = std::ldexp(static_cast<float>(man | 0x8), static_cast<int>(exp) - 10);
    return (b & 0x80) ? -v : v;
}

float f8_e5m2_to_f32(uint8_t b) {
    uint32_t exp = (b >> 2) & 0x1F, man = b & 0x3;
    float v;
    if (exp == 31) v = man ? std::numeric_limits<float>::quiet_NaN() : std::numeric_limits<float>::infinity();
    else if (exp == 0) v = std::ldexp(static_cast<float>(man), -16);
    else v = std::ldexp(static_cast<float>(man | 0x4), static_cast<int>(exp) - 17);
    return (b & 0x80) ? -v : v;
}

File::~File() {
    if (fd_ >= 0) ::close(fd_);
}

std::unique_ptr<File> File::open(const std::filesystem::path& path) {
    std::unique_ptr<File> f(new File());
    f->source_ = path.string();
    const std::string& src = f->source_;
    f->fd_ = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK);
    if (f->fd_ < 0)
        throw SafetensorsError(ErrorCode::Io, fmt::format("{}: cannot open: {}", src, std::strerror(errno)));
    struct stat st {};
    if (fstat(f->fd_, &st) != 0)
        throw SafetensorsError(ErrorCode::Io, fmt::format("{}: cannot stat: {}", src, std::strerror(errno)));
    if (!S_ISREG(st.st_mode))
        throw SafetensorsError(ErrorCode::NotRegularFile, fmt::format("{}: not a regular file", src));
    auto file_size = static_cast<uint64_t>(st.st_size);
    std::vector<uint8_t> prefix(std::min<uint64_t>(file_size, 8));
    if (!pread_all(f->fd_, prefix.data(), prefix.size(), 0))
        throw SafetensorsError(ErrorCode::Io, fmt::format("{}: read failed: {}", src, std::strerror(errno)));
    if (file_size >= 8) {
        uint64_t n;
        std::memcpy(&n, prefix.data(), 8);
        // Only read the header once its length passed the checks (parse_header repeats them).
        uint64_t stop;
        if (checked_add<uint64_t>(n, 8, &stop) && n <= kMaxHeaderBytes && stop <= file_size) {
            prefix.resize(stop);
            if (!pread_all(f->fd_, prefix.data() + 8, n, 8))
                throw SafetensorsError(ErrorCode::Io, fmt::format("{}: read failed: {}", src, std::strerror(errno)));
        }
    }
    f->parse_header(prefix, file_size);
    return f;
}

std::unique_ptr<File> File::parse(std::span<const uint8_t> bytes, std::string source) {
    std::unique_ptr<File> f(new File());
    f->source_ = std::move(source);
    f->bytes_ = bytes;
    f->parse_header(bytes, bytes.size());
    return f;
}

const TensorInfo* File::find(std::string_view name) const {
    auto it = index_.find(std::string(name));
    return it == index_.end() ? nullptr : &tensors_[it->second];
}

void File::parse_header(std::span<const uint8_t> prefix, uint64_t file_size) {
    const std::string& src = source_;
    auto err = [&](ErrorCode c, const std::string& msg) {
        throw SafetensorsError(c, fmt::format("{}: {}", src, msg));
    };
    if (file_size < 8) err(ErrorCode::HeaderTooSmall, fmt::format("file of {} bytes is shorter than the 8-byte header length", file_size));
    uint64_t n;
    std::memcpy(&n, prefix.data(), 8);
    uint64_t stop;
    if (!checked_add<uint64_t>(n, 8, &stop))
        err(ErrorCode::InvalidHeaderLength, fmt::format("header length {} overflows", n));
    if (n > kMaxHeaderBytes)
        err(ErrorCode::HeaderTooLarge, fmt::format("header length {} exceeds the limit of {} bytes", n, kMaxHeaderBytes));
    if (stop > file_size)
        err(ErrorCode::InvalidHeaderLength, fmt::format("header length {} runs past the end of the file ({} bytes)", n, file_size));
    R1_CHECK(prefix.size() >= stop);
    std::string_view header(reinterpret_cast<const char*>(prefix.data() + 8), n);
    if (!valid_utf8(header)) err(ErrorCode::InvalidHeader, "header is not valid UTF-8");
    if (header.empty() || header[0] != '{') err(ErrorCode::InvalidHeaderStart, "header does not start with '{'");
    while (!header.empty() && header.back() == ' ') header.remove_suffix(1);  // writer padding
    if (const int32_t d = json_depth(header); d > kMaxJsonDepth)  // a real header nests 3 deep
        err(ErrorCode::InvalidHeaderDeserialization,
            fmt::format("header nests {} levels deep, more than the limit of {}", d, kMaxJsonDepth));

    using json = nlohmann::json;
    // A first SAX pass rejects duplicate keys at any depth (nlohmann's DOM keeps the last one
    // silently) and caps the tensor count before anything is materialised (ST11, ST16).
    KeyChecker checker;
    bool sax_ok = false;
    try {
        sax_ok = json::sax_parse(header.begin(), header.end(), &checker);
    } catch (const json::exception& e) {
        err(ErrorCode::InvalidHeaderDeserialization, fmt::format("header is not valid JSON: {}", e.what()));
    }
    if (checker.too_many) err(ErrorCode::TooManyTensors, fmt::format("more than {} tensors", kMaxTensors));
    if (!checker.duplicate.empty())
        err(checker.duplicate_top_level ? ErrorCode::DuplicateTensor : ErrorCode::InvalidHeaderDeserialization,
            fmt::format("duplicate key '{}' in the header", checker.duplicate));
    if (!sax_ok) err(ErrorCode::InvalidHeaderDeserialization, "header is not valid JSON");
    json j;
    try {
        j = json::parse(header.begin(), header.end());
    } catch (const json::exception& e) {
        err(ErrorCode::InvalidHeaderDeserialization, fmt::format("header is not valid JSON: {}", e.what()));
    }
    if (!j.is_object()) err(ErrorCode::InvalidHeaderDeserialization, "header is not a JSON object");

    const uint64_t buffer_len = file_size - stop;
    tensors_.reserve(j.size());
    for (auto& item : j.items()) {
        const std::string& key = item.key();
        const json& val = item.value();
        if (key == "__metadata__") {
            if (!val.is_object()) err(ErrorCode::InvalidMetadata, "__metadata__ is not an object");
            for (auto& [mk, mv] : val.items()) {
                if (!mv.is_string())
                    err(ErrorCode::InvalidMetadata, fmt::format("__metadata__ value of '{}' is not a string", mk));
                metadata_[mk] = mv.get<std::string>();
            }
            continue;
        }
        auto bad = [&](const char* what) {
            err(ErrorCode::InvalidHeaderDeserialization, fmt::format("tensor '{}': {}", key, what));
        };
        if (!val.is_object()) bad("entry is not an object");
        auto dt = val.find("dtype");
        auto sh = val.find("shape");
        auto off = val.find("data_offsets");
        if (dt == val.end() || !dt->is_string()) bad("missing or non-string 'dtype'");
        if (sh == val.end() || !sh->is_array()) bad("missing or non-array 'shape'");
        if (off == val.end() || !off->is_array() || off->size() != 2 || !(*off)[0].is_number_unsigned() ||
            !(*off)[1].is_number_unsigned())
            bad("'data_offsets' must be two non-negative integers");
        TensorInfo t;
        t.name = key;
        auto d = dtype_from_name(dt->get_ref<const std::string&>());
        if (!d) err(ErrorCode::Dtype, fmt::format("tensor '{}': unknown dtype '{}'", key, dt->get_ref<const std::string&>()));
        t.dtype = *d;
        int64_t ne = 1;
        for (const auto& x : *sh) {
            if (!x.is_number_unsigned()) bad("'shape' entries must be non-negative integers");
            auto v = x.get<uint64_t>();
            if (v > static_cast<uint64_t>(INT64_MAX) || !checked_mul<int64_t>(ne, static_cast<int64_t>(v), &ne))
                err(ErrorCode::ValidationOverflow, fmt::format("tensor '{}': element count overflows", key));
            t.shape.push_back(static_cast<int64_t>(v));
        }
        t.n_elements = ne;
        t.begin = (*off)[0].get<uint64_t>();
        t.end = (*off)[1].get<uint64_t>();
        index_.emplace(t.name, tensors_.size());
        tensors_.push_back(std::move(t));
    }

    // Offsets must tile the data buffer exactly: no holes, no overlaps, nothing left over.
    std::vector<const TensorInfo*> order;
    order.reserve(tensors_.size());
    for (const auto& t : tensors_) order.push_back(&t);
    std::sort(order.begin(), order.end(), [](const TensorInfo* a, const TensorInfo* b) {
        return a->begin != b->begin ? a->begin < b->begin : a->end < b->end;
    });
    uint64_t start = 0;
    for (const TensorInfo* t : order) {
        if (t->begin != start || t->end < t->begin)
            err(ErrorCode::InvalidOffset,
                fmt::format("tensor '{}': data_offsets [{}, {}] do not start where the previous tensor ended ({})",
                            t->name, t->begin, t->end, start));
        uint64_t nbytes;
        if (!checked_mul<uint64_t>(static_cast<uint64_t>(t->n_elements), dtype_size(t->dtype), &nbytes))
            err(ErrorCode::ValidationOverflow, fmt::format("tensor '{}': byte size overflows", t->name));
        if (t->end - t->begin != nbytes)
            err(ErrorCode::TensorInvalidInfo,
                fmt::format("tensor '{}': {} {} elements need {} bytes, data_offsets give {}", t->name,
                            t->n_elements, dtype_name(t->dtype), nbytes, t->end - t->begin));
        start = t->end;
    }
    if (start != buffer_len)
        err(ErrorCode::MetadataIncompleteBuffer,
            fmt::format("tensors cover {} bytes but the data buffer holds {}", start, buffer_len));
    data_offset_ = stop;
}

void File::read(const TensorInfo& t, uint64_t offset, uint64_t n, void* dst) const {
    uint64_t end;
    if (!checked_add(offset, n, &end) || end > t.n_bytes())
        fail("{}: tensor '{}': read of {} bytes at {} is out of range", source_, t.name, n, offset);
    uint64_t at = data_offset_ + t.begin + offset;
    if (fd_ < 0) {
        std::memcpy(dst, bytes_.data() + at, n);
        return;
    }
    if (!pread_all(fd_, dst, n, at))
        fail("{}: tensor '{}': read failed: {}", source_, t.name,
             errno ? std::strerror(errno) : "file shrank while reading");
}

void File::read_f32(const TensorInfo& t, int64_t first, int64_t n, float* dst) const {
    const size_t es = dtype_size(t.dtype);
    if (first < 0 || n < 0 || first > t.n_elements || n > t.n_elements - first)
        fail("{}: tensor '{}': elements [{}, +{}) out of range", source_, t.name, first, n);
    if (t.dtype == Dtype::F32) {
        read(t, static_cast<uint64_t>(first) * 4, static_cast<uint64_t>(n) * 4, dst);
        return;
    }
    if (t.dtype != Dtype::F16 && t.dtype != Dtype::BF16 && t.dtype != Dtype::F8_E4M3 && t.dtype != Dtype::F8_E5M2)
        fail("{}: tensor '{}': dtype {} is not a floating-point type", source_, t.name, dtype_name(t.dtype));
    // Convert through a small bounce buffer: the source may be unaligned (ST15).
    uint8_t buf[1 << 14];
    const int64_t per = static_cast<int64_t>(sizeof(buf) / es);
    for (int64_t done = 0; done < n;) {
        int64_t k = std::min(per, n - done);
        read(t, static_cast<uint64_t>(first + done) * es, static_cast<uint64_t>(k) * es, buf);
        float* out = dst + done;
        switch (t.dtype) {
            case Dtype::F16:
                for (int64_t i = 0; i < k; ++i) {
                    uint16_t h;
                    std::memcpy(&h, buf + 2 * i, 2);
                    out[i] = f16_bits_to_f32(h);
                }
                break;
            case Dtype::BF16:
                for (int64_t i = 0; i < k; ++i) {
                    uint16_t h;
                    std::memcpy(&h, buf + 2 * i, 2);
                    out[i] = bf16_bits_to_f32(h);
                }
                break;
            case Dtype::F8_E4M3:
                for (int64_t i = 0; i < k; ++i) out[i] = f8_e4m3_to_f32(buf[i]);
                break;
            default:
                for (int64_t i = 0; i < k; ++i) out[i] = f8_e5m2_to_f32(buf[i]);
                break;
        }
        done += k;
    }
}

}  // namespace r1::safetensors
