// The backend the model tests run on: $R1_TEST_BACKEND (cpu by default). tests/model's
// CMakeLists.txt registers a subset of the model tests again with R1_TEST_BACKEND=vulkan.
#pragma once

#include <cstdlib>
#include <string>

#include "backends/backend.h"
#include "core/error.h"

namespace r1::test {

inline std::string test_backend() {
    const char* b = std::getenv("R1_TEST_BACKEND");
    return b && *b ? b : "cpu";
}

// Whether test_backend() can be created here (a GPU backend may have no device); *why says not.
inline bool backend_available(std::string* why) {
    try {
        create_backend({.name = test_backend(), .n_threads = 1});
        return true;
    } catch (const Error& e) {
        *why = e.what();
        return false;
    }
}

// R1_TEST_SLOW=1: the long checks (every perplexity chunk) also on backends that are slow on
// the CI machine (lavapipe); without it those run a few chunks there.
inline bool slow_tests() {
    const char* s = std::getenv("R1_TEST_SLOW");
    return test_backend() == "cpu" || (s && std::string(s) == "1");
}

}  // namespace r1::test
