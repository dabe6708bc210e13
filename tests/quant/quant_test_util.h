// Helpers of the quant tests: the GGUF.md §2.13 test row, hex and FNV-1a-64 of byte spans.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

namespace r1::test {

// x[i] = (((i*37 + 11) mod 97) - 48) / 16 * (1 + (i mod 5) * 0.25), exactly representable.
inline std::vector<float> gguf_test_row() {
    std::vector<float> x(256);
    for (int i = 0; i < 256; ++i) {
        x[i] = static_cast<float>((((i * 37 + 11) % 97) - 48) / 16.0 * (1 + (i % 5) * 0.25));
    }
    return x;
}

inline std::string to_hex(std::span<const uint8_t> b) {
    static const char* kDigits = "0123456789abcdef";
    std::string s;
    for (uint8_t v : b) {
        s += kDigits[v >> 4];
        s += kDigits[v & 0xF];
    }
    return s;
}

inline uint64_t fnv1a64(std::span<const uint8_t> b) {
    uint64_t h = 0xcbf29ce484222325ull;
    for (uint8_t v : b) {
        h ^= v;
        h *= 0x100000001b3ull;
    }
    return h;
}

template <class T>
std::span<const uint8_t> bytes_of(const std::vector<T>& v) {
    return {reinterpret_cast<const uint8_t*>(v.data()), v.size() * sizeof(T)};
}

}  // namespace r1::test
