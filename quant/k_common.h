// Pieces shared by the K-quant codecs (GGUF.md §2.9-2.11): the 6-bit scale/min packing and
// ggml's reference searches make_qkx2 (affine, Q4_K/Q5_K) and make_qx (symmetric, Q6_K).
// Internal to quant/.
#pragma once

#include <cstdint>

namespace r1::kq {

constexpr float kGroupMaxEps = 1e-15f;

// Weighted affine fit x ~ scale * L + min over n values, L in 0..nmax (GGUF.md §2.9).
// Writes L (n); returns scale and stores the min as a non-negative "subtract" value in *the_min.
float make_qkx2(int n, int nmax, const float* x, const float* w, uint8_t* L, float* the_min,
                float rmin, float rdelta, int nstep);

// Symmetric fit x ~ scale * (L - nmax) with weights x^2 (ggml rmse_type 1, GGUF.md §2.11).
// Writes L (n) in 0..2*nmax-1; returns the scale (0 for an all-zero group).
float make_qx(int n, int nmax, const float* x, int8_t* L);

// Sub-block j (0..7) scale and min from the 12 packed bytes.
inline void get_scale_min(int j, const uint8_t* q, uint8_t& sc, uint8_t& m) {
    if (j < 4) {
        sc = q[j] & 63;
        m = q[j + 4] & 63;
    } else {
        sc = static_cast<uint8_t>((q[j + 4] & 0xF) | ((q[j - 4] >> 6) << 4));
        m = static_cast<uint8_t>((q[j + 4] >> 4) | ((q[j] >> 6) << 4));
    }
}

// Packs the 8 6-bit scales ls and mins lm into 12 bytes.
inline void pack_scale_mins(const uint8_t* ls, const uint8_t* lm, uint8_t* q) {
    for (int j = 0; j < 8; ++j) {
        if (j < 4) {
            q[j] = ls[j];
            q[j + 4] = lm[j];
        } else {
            q[j + 4] = static_cast<uint8_t>((ls[j] & 0xF) | ((lm[j] & 0xF) << 4));
            q[j - 4] = static_cast<uint8_t>(q[j - 4] | ((ls[j] >> 4) << 6));
            q[j] = static_cast<uint8_t>(q[j] | ((lm[j] >> 4) << 6));
        }
    }
}

}  // namespace r1::kq
