// Test harness for the backend conformance suite: host tensors (the scalar references' side),
// the same bytes mirrored on a backend, random fills, and an error measure.
#pragma once

#include <cmath>
#include <cstring>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "backends/backend.h"
#include "quant/codecs.h"

namespace r1::test {

// A host allocation (what the references read) mirrored into one buffer of a backend.
// Tensors are made on the host side with the usual views; on_backend() gives the same view of
// the backend's copy.
class Mirror {
public:
    Mirror(Backend& be, size_t n_bytes) : be_(be), host_(n_bytes + 64), buf_(be.alloc(n_bytes + 64)) {}
    ~Mirror() { be_.free(buf_); }
    Mirror(const Mirror&) = delete;
    Mirror& operator=(const Mirror&) = delete;

    Buffer host_buffer() { return {host_.data(), host_.size()}; }
    Tensor tensor(size_t offset, GgmlType type, std::initializer_list<int64_t> ne) {
        return make_tensor(host_buffer(), offset, type, ne);
    }
    Tensor on_backend(const Tensor& host) const {
        Tensor t = host;
        t.buffer = buf_;
        return t;
    }
    // Host bytes -> backend; backend bytes -> host (after sync).
    void push() { be_.upload(whole(buf_), host_.data()); }
    void pull() {
        be_.sync();
        be_.download(whole(buf_), host_.data());
    }
    std::vector<uint8_t>& bytes() { return host_; }

private:
    static Tensor whole(const Buffer& b) { return make_tensor(b, 0, GgmlType::I8, {int64_t(b.n_bytes)}); }
    Backend& be_;
    std::vector<uint8_t> host_;
    Buffer buf_;
};

inline float* f32(const Tensor& t, int64_t i0 = 0, int64_t i1 = 0, int64_t i2 = 0, int64_t i3 = 0) {
    return reinterpret_cast<float*>(static_cast<char*>(t.buffer.data) + t.offset + size_t(i0) * t.nb[0] +
                                    size_t(i1) * t.nb[1] + size_t(i2) * t.nb[2] + size_t(i3) * t.nb[3]);
}
inline int32_t* i32(const Tensor& t, int64_t i0 = 0, int64_t i1 = 0) {
    return reinterpret_cast<int32_t*>(static_cast<char*>(t.buffer.data) + t.offset + size_t(i0) * t.nb[0] +
                                      size_t(i1) * t.nb[1]);
}

// Every element of an F32 tensor (any strides) from N(0, scale²).
inline void fill(const Tensor& t, uint32_t seed, float scale = 1.0f) {
    std::mt19937 g(seed);
    std::normal_distribution<float> d(0.0f, scale);
    for (int64_t i3 = 0; i3 < t.ne[3]; ++i3)
        for (int64_t i2 = 0; i2 < t.ne[2]; ++i2)
            for (int64_t i1 = 0; i1 < t.ne[1]; ++i1)
                for (int64_t i0 = 0; i0 < t.ne[0]; ++i0) *f32(t, i0, i1, i2, i3) = d(g);
}

inline std::vector<float> randn(size_t n, uint32_t seed, float scale = 1.0f) {
    std::mt19937 g(seed);
    std::normal_distribution<float> d(0.0f, scale);
    std::vector<float> v(n);
    for (auto& x : v) x = d(g);
    return v;
}

// The elements of an F32 tensor in (i0, i1, i2, i3) order.
inline std::vector<float> values(const Tensor& t) {
    std::vector<float> v;
    for (int64_t i3 = 0; i3 < t.ne[3]; ++i3)
        for (int64_t i2 = 0; i2 < t.ne[2]; ++i2)
            for (int64_t i1 = 0; i1 < t.ne[1]; ++i1)
                for (int64_t i0 = 0; i0 < t.ne[0]; ++i0) v.push_back(*f32(t, i0, i1, i2, i3));
    return v;
}

// Normalized mean squared error Σ(a − b)² / Σ b² (ggml test-backend-ops' measure).
inline double nmse(const std::vector<float>& a, const std::vector<float>& b) {
    double num = 0, den = 0;
    for (size_t i = 0; i < a.size(); ++i) {
        num += (double(a[i]) - b[i]) * (double(a[i]) - b[i]);
        den += double(b[i]) * b[i];
    }
    return den == 0 ? num : num / den;
}

inline double max_abs_diff(const std::vector<float>& a, const std::vector<float>& b) {
    double m = 0;
    for (size_t i = 0; i < a.size(); ++i) m = std::max(m, std::fabs(double(a[i]) - b[i]));
    return m;
}

// Rows of a quantized matrix stack {n_in, n_out, n_mat}: the file bytes.
inline std::vector<uint8_t> quantized_weights(GgmlType t, int64_t n_in, int64_t n_rows, uint32_t seed) {
    auto w = randn(size_t(n_in * n_rows), seed, 0.5f);
    std::vector<uint8_t> bytes(size_t(n_rows) * row_bytes(t, uint64_t(n_in)));
    quantize_rows(t, w.data(), bytes.data(), n_rows, n_in);
    return bytes;
}

}  // namespace r1::test
