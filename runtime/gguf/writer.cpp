// Streaming GGUF writer: header, metadata and tensor infos first, then each tensor's bytes in
// declared order, each padded to the alignment. The output appears under its final name only
// after finish() succeeded (core/files.h OutputFile: a device or FIFO is written through).
#include <algorithm>

#include "core/checked.h"
#include "runtime/gguf/gguf.h"

namespace r1::gguf {

Writer::Writer(std::filesystem::path path, uint32_t alignment)
    : path_(std::move(path)), alignment_(alignment) {
    if (!is_pow2(alignment_) || alignment_ > kMaxAlignment)
        fail("{}: invalid alignment {}", path_.string(), alignment_);
}

Writer::~Writer() = default;  // an unfinished OutputFile removes its temporary file

const std::filesystem::path& Writer::tmp_path() const { return out_ ? out_->temp_path() : path_; }

void Writer::set(std::string key, Value value) {
    if (header_written_) fail("{}: metadata '{}' set after the header was written", path_.string(), key);
    if (key == "general.alignment" &&
        (value.type() != ValueType::U32 || std::get<uint32_t>(value.v) != alignment_))
        fail("{}: general.alignment must be the writer's alignment ({}) as u32", path_.string(), alignment_);
    if (key.empty()) fail("{}: empty metadata key", path_.string());
    if (value.type() == ValueType::ARRAY && std::get<Array>(value.v).elem_type == ValueType::ARRAY)
        fail("{}: key '{}': nested arrays are not written", path_.string(), key);
    for (auto& [k, v] : kv_) {
        if (k == key) {
            v = std::move(value);
            return;
        }
    }
    kv_.emplace_back(std::move(key), std::move(value));
}

void Writer::add_tensor(std::string name, GgmlType type, std::span<const int64_t> ne) {
    if (header_written_) fail("{}: tensor '{}' added after the header was written", path_.string(), name);
    if (name.empty() || name.size() > kMaxTensorName)
        fail("{}: tensor name '{}' must be 1..{} bytes", path_.string(), name, kMaxTensorName);
    if (tensor_index_.count(name)) fail("{}: duplicate tensor '{}'", path_.string(), name);
    if (ne.empty() || ne.size() > kMaxDims) fail("{}: tensor '{}' has {} dims", path_.string(), name, ne.size());
    const TypeTraits* tr = type_traits(static_cast<uint32_t>(type));
    if (!tr) fail("{}: tensor '{}' has an invalid type", path_.string(), name);
    TensorInfo t;
    t.name = std::move(name);
    t.type = type;
    int64_t n = 1;
    for (size_t d = 0; d < ne.size(); ++d) {
        if (ne[d] < 0 || !checked_mul(n, ne[d], &n)) fail("{}: tensor '{}' has a bad shape", path_.string(), t.name);
        t.ne[d] = ne[d];
    }
    if (t.ne[0] % tr->block_size != 0)
        fail("{}: tensor '{}': ne[0] = {} is not a multiple of the {} block size {}", path_.string(),
             t.name, t.ne[0], tr->name, tr->block_size);
    t.n_dims = static_cast<uint32_t>(ne.size());
    while (t.n_dims > 1 && t.ne[t.n_dims - 1] == 1) --t.n_dims;
    t.n_bytes = static_cast<uint64_t>(n) / tr->block_size * tr->type_size;
    uint64_t offset = 0;
    if (!tensors_.empty()) {
        const TensorInfo& prev = tensors_.back();
        uint64_t padded;
        R1_CHECK(checked_pad(prev.n_bytes, alignment_, &padded));
        offset = prev.offset + padded;
    }
    t.offset = offset;
    tensor_index_.emplace(t.name, tensors_.size());
    tensors_.push_back(std::move(t));
}

void Writer::raw(const void* p, size_t n) {
    if (n == 0) return;
    out_->write(p, n);
    pos_ += n;
}

void Writer::pad_to(uint64_t align) {
    static constexpr uint8_t kZeros[4096] = {};
    uint64_t target;
    R1_CHECK(checked_pad(pos_, align, &target));
    while (pos_ < target) raw(kZeros, std::min<uint64_t>(target - pos_, sizeof(kZeros)));
}

namespace {

template <typename T>
void put(std::string& out, T x) {
    out.append(reinterpret_cast<const char*>(&x), sizeof(T));
}

void put_string(std::string& out, std::string_view s) {
    put<uint64_t>(out, s.size());
    out.append(s);
}

void put_scalar(std::string& out, const Value& v) {
    std::visit(
        [&](const auto& x) {
            using T = std::decay_t<decltype(x)>;
            if constexpr (std::is_same_v<T, std::string>) put_string(out, x);
            else if constexpr (std::is_same_v<T, bool>) put<uint8_t>(out, x ? 1 : 0);
            else if constexpr (std::is_same_v<T, Array>) R1_CHECK(false);
            else put<T>(out, x);
        },
        v.v);
}

}  // namespace

void Writer::write_header() {
    if (alignment_ != kDefaultAlignment) set("general.alignment", alignment_);
    out_ = std::make_unique<OutputFile>(path_);
    std::string h;
    h.append("GGUF");
    put<uint32_t>(h, 3);
    put<uint64_t>(h, tensors_.size());
    put<uint64_t>(h, kv_.size());
    for (const auto& [k, v] : kv_) {
        put_string(h, k);
        put<uint32_t>(h, static_cast<uint32_t>(v.type()));
        if (v.type() == ValueType::ARRAY) {
            const Array& a = std::get<Array>(v.v);
            put<uint32_t>(h, static_cast<uint32_t>(a.elem_type));
            put<uint64_t>(h, a.items.size());
            for (const Value& x : a.items) {
                if (x.type() != a.elem_type) fail("{}: key '{}': mixed element types in an array", path_.string(), k);
                put_scalar(h, x);
            }
        } else {
            put_scalar(h, v);
        }
        raw(h.data(), h.size());
        h.clear();
    }
    for (const TensorInfo& t : tensors_) {
        put_string(h, t.name);
        put<uint32_t>(h, t.n_dims);
        for (uint32_t d = 0; d < t.n_dims; ++d) put<int64_t>(h, t.ne[d]);
        put<uint32_t>(h, static_cast<uint32_t>(t.type));
        put<uint64_t>(h, t.offset);
    }
    raw(h.data(), h.size());
    if (!tensors_.empty()) pad_to(alignment_);
    header_written_ = true;
    current_ = 0;
    current_done_ = 0;
}

void Writer::write(std::span<const uint8_t> bytes) {
    if (finished_) fail("{}: write after finish", path_.string());
    if (!header_written_) write_header();
    while (!bytes.empty()) {
        if (current_ >= tensors_.size())
            fail("{}: {} bytes written past the last tensor", path_.string(), bytes.size());
        const TensorInfo& t = tensors_[current_];
        uint64_t n = std::min<uint64_t>(bytes.size(), t.n_bytes - current_done_);
        raw(bytes.data(), n);
        current_done_ += n;
        bytes = bytes.subspan(n);
        if (current_done_ == t.n_bytes) {
            pad_to(alignment_);
            ++current_;
            current_done_ = 0;
        }
    }
    // Zero-byte tensors complete as soon as they are reached.
    while (current_ < tensors_.size() && tensors_[current_].n_bytes == 0) ++current_;
}

void Writer::finish() {
    if (finished_) return;
    if (!header_written_) write_header();
    write({});
    if (current_ != tensors_.size())
        fail("{}: tensor '{}' has {} of {} bytes written", path_.string(), tensors_[current_].name,
             current_done_, tensors_[current_].n_bytes);
    out_->commit();
    finished_ = true;
}

}  // namespace r1::gguf
