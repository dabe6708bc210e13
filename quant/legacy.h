// Helpers shared by the legacy 32-element formats (Q4_0, Q4_1, Q5_0, Q5_1): block extremes
// and ggml's nibble layout. Internal to quant/.
#pragma once

#include <cmath>
#include <limits>

namespace r1::legacy {

// The element with the largest |x| (the first one on ties), sign kept.
inline float signed_absmax(const float* x, int n) {
    float amax = 0.0f, max = 0.0f;
    for (int j = 0; j < n; ++j) {
        if (amax < std::fabs(x[j])) {
            amax = std::fabs(x[j]);
            max = x[j];
        }
    }
    return max;
}

// Block minimum and maximum, scanning from +-FLT_MAX as ggml does.
inline void min_max(const float* x, int n, float& min, float& max) {
    min = std::numeric_limits<float>::max();
    max = -std::numeric_limits<float>::max();
    for (int j = 0; j < n; ++j) {
        if (x[j] < min) min = x[j];
        if (x[j] > max) max = x[j];
    }
}

// C's float -> integer conversion (truncation toward zero) of a value known to be in range.
inline int trunc_int(float v) { return static_cast<int>(v); }

}  // namespace r1::legacy
