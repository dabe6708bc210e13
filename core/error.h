// r1::Error — the one exception type for bad input and environment (files, flags, shapes).
// Invariants of our own code use R1_CHECK, which aborts with file and line; kernels never throw.
#pragma once

#include <cstdio>
#include <cstdlib>
#include <stdexcept>
#include <string>
#include <utility>

#include <fmt/format.h>

namespace r1 {

class Error : public std::runtime_error {
public:
    explicit Error(const std::string& what) : std::runtime_error(what) {}
};

// Throws r1::Error with a fmt::format message: fail("{}: expected {}, got {}", name, a, b).
template <typename... Args>
[[noreturn]] void fail(fmt::format_string<Args...> fmt, Args&&... args) {
    throw Error(fmt::format(fmt, std::forward<Args>(args)...));
}

}  // namespace r1

// Invariant of our own code (never input validation): aborts with the location.
#define R1_CHECK(cond)                                                                \
    do {                                                                              \
        if (!(cond)) {                                                                \
            std::fprintf(stderr, "%s:%d: internal check failed: %s\n", __FILE__,      \
                         __LINE__, #cond);                                            \
            std::abort();                                                             \
        }                                                                             \
    } while (0)
