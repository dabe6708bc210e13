// Overflow-checked size arithmetic for every count or size read from a file.
// Each returns false on overflow instead of wrapping; callers turn that into an r1::Error.
#pragma once

#include <cstddef>
#include <cstdint>

namespace r1 {

template <typename T>
[[nodiscard]] constexpr bool checked_mul(T a, T b, T* out) {
    return !__builtin_mul_overflow(a, b, out);
}

template <typename T>
[[nodiscard]] constexpr bool checked_add(T a, T b, T* out) {
    return !__builtin_add_overflow(a, b, out);
}

// Rounds x up to a multiple of align (a power of two); false on overflow.
[[nodiscard]] constexpr bool checked_pad(uint64_t x, uint64_t align, uint64_t* out) {
    uint64_t t;
    if (__builtin_add_overflow(x, align - 1, &t)) return false;
    *out = t & ~(align - 1);
    return true;
}

constexpr bool is_pow2(uint64_t x) { return x != 0 && (x & (x - 1)) == 0; }

}  // namespace r1
