// A raw byte builder for hand-made GGUF files, independent of our writer, so tests can make
// files no correct writer would produce.
#pragma once

#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

namespace r1::test {

struct Bytes {
    std::vector<uint8_t> b;

    template <typename T>
    Bytes& put(T x) {
        uint8_t tmp[sizeof(T)];
        std::memcpy(tmp, &x, sizeof(T));
        for (uint8_t c : tmp) b.push_back(c);  // (insert() trips gcc 12's -Wstringop-overflow)
        return *this;
    }
    Bytes& u8(uint8_t x) { return put(x); }
    Bytes& u32(uint32_t x) { return put(x); }
    Bytes& u64(uint64_t x) { return put(x); }
    Bytes& i64(int64_t x) { return put(x); }
    Bytes& raw(std::string_view s) {
        for (char c : s) b.push_back(static_cast<uint8_t>(c));
        return *this;
    }
    Bytes& str(std::string_view s) { return u64(s.size()).raw(s); }
    Bytes& header(uint64_t n_tensors, uint64_t n_kv, uint32_t version = 3) {
        return raw("GGUF").u32(version).u64(n_tensors).u64(n_kv);
    }
    Bytes& kv_u32(std::string_view key, uint32_t v) { return str(key).u32(4).u32(v); }
    Bytes& kv_str(std::string_view key, std::string_view v) { return str(key).u32(8).str(v); }
    // Tensor info with up to 4 dims; type is the ggml type id.
    Bytes& tensor(std::string_view name, std::vector<int64_t> ne, uint32_t type, uint64_t offset) {
        str(name).u32(static_cast<uint32_t>(ne.size()));
        for (int64_t n : ne) i64(n);
        return u32(type).u64(offset);
    }
    Bytes& pad(size_t align) {
        while (b.size() % align) b.push_back(0);
        return *this;
    }
    Bytes& zeros(size_t n) {
        b.resize(b.size() + n, 0);
        return *this;
    }
};

}  // namespace r1::test
