// Rotary position embedding in the two GGUF conventions (GGUF.md §3.2). Angles follow HF:
// inv_freq_i = 1 / base^(2i/n_rot) rounded to float32, divided by the optional frequency
// factor, θ = pos · inv_freq_i in float32, cos/sin of that float.
#include <cmath>
#include <vector>

#include "backends/cpu/ops/ops.h"

namespace r1::cpu {
namespace {

// cos/sin (n_rot/2) for one position.
void rope_angles(const RopeArgs& a, int32_t pos, float* cos_out, float* sin_out) {
    const int32_t half = a.n_rot / 2;
    for (int32_t i = 0; i < half; ++i) {
        float inv_freq = float(1.0 / std::pow(double(a.freq_base), double(2 * i) / double(a.n_rot)));
        if (a.freq_factors) inv_freq = inv_freq / a.freq_factors[i];
        const float theta = float(pos) * inv_freq;
        cos_out[i] = float(std::cos(double(theta)));
        sin_out[i] = float(std::sin(double(theta)));
    }
}

void rope_token(const RopeArgs& a, int64_t t, const float* c, const float* s) {
    const int32_t half = a.n_rot / 2;
    for (int32_t h = 0; h < a.n_head; ++h) {
        float* x = a.x + (t * a.n_head + h) * a.head_dim;
        for (int32_t i = 0; i < half; ++i) {
            const int32_t i0 = a.mode == RopeMode::Neox ? i : 2 * i;
            const int32_t i1 = a.mode == RopeMode::Neox ? i + half : 2 * i + 1;
            const float x0 = x[i0], x1 = x[i1];
            x[i0] = x0 * c[i] - x1 * s[i];
            x[i1] = x0 * s[i] + x1 * c[i];
        }
    }
}

}  // namespace

void rope_ref(const RopeArgs& a) {
    std::vector<float> c(size_t(a.n_rot / 2)), s(size_t(a.n_rot / 2));
    for (int64_t t = 0; t < a.n_tokens; ++t) {
        rope_angles(a, a.pos0 + int32_t(t), c.data(), s.data());
        rope_token(a, t, c.data(), s.data());
    }
}

void rope(const RopeArgs& a, int n_threads) {
#pragma omp parallel num_threads(threads_for(a.n_tokens * a.n_head * a.n_rot * 8, n_threads))
    {
        std::vector<float> c(size_t(a.n_rot / 2)), s(size_t(a.n_rot / 2));
#pragma omp for schedule(static)
        for (int64_t t = 0; t < a.n_tokens; ++t) {
            rope_angles(a, a.pos0 + int32_t(t), c.data(), s.data());
            rope_token(a, t, c.data(), s.data());
        }
    }
}

}  // namespace r1::cpu
