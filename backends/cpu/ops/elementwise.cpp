// Element-wise ops over tensors with strided rows: SwiGLU, add and multiply with broadcasting,
// scale, sigmoid, row softmax, copy (with F32 <-> F16 conversion) and row argmax. Each op is
// a loop over rows applying one row function, so the reference and the threaded op share it
// and differ only in how rows are split; SwiGLU's row function is the SIMD silu_mul, whose
// reference is silu_mul_ref (backends/cpu/kernels.h).
#include <algorithm>
#include <cmath>
#include <cstring>

#include "backends/cpu/kernels.h"
#include "backends/cpu/ops/ops.h"
#include "core/error.h"
#include "quant/fp16.h"

namespace r1::cpu {
namespace {

template <class T>
T* row_ptr(const Tensor& t, int64_t r) {
    return reinterpret_cast<T*>(row_at(t, r));
}

// Row r of `a`'s shape mapped onto a broadcast operand b (b.ne[d] == 1 repeats it).
const float* broadcast_row(const Tensor& a, const Tensor& b, int64_t r) {
    const int64_t i1 = r % a.ne[1], i2 = (r / a.ne[1]) % a.ne[2], i3 = r / (a.ne[1] * a.ne[2]);
    return reinterpret_cast<const float*>(at(b, i1 % b.ne[1], i2 % b.ne[2], i3 % b.ne[3]));
}

void check_binary(const Tensor& a, const Tensor& b, const Tensor& y) {
    R1_CHECK(a.type == GgmlType::F32 && b.type == GgmlType::F32 && y.type == GgmlType::F32 && same_shape(a, y));
    for (int d = 0; d < Tensor::kDims; ++d) R1_CHECK(b.ne[d] == a.ne[d] || b.ne[d] == 1);
}

// Rows split across threads when the work is worth it (never within a row).
template <class RowFn>
void for_rows(int64_t n_rows, int64_t n, int n_threads, RowFn fn) {
#pragma omp parallel for schedule(static) num_threads(threads_for(n_rows * n, n_threads))
    for (int64_t r = 0; r < n_rows; ++r) fn(r);
}

template <class F>
void binary(const Tensor& a, const Tensor& b, const Tensor& y, int n_threads, F f) {
    check_binary(a, b, y);
    const int64_t n = a.ne[0];
    if (a.contiguous() && b.contiguous() && y.contiguous() && same_shape(a, b)) {  // one flat loop
        const float* ad = row_ptr<const float>(a, 0);
        const float* bd = row_ptr<const float>(b, 0);
        float* yd = row_ptr<float>(y, 0);
        const int64_t total = a.n_elements();
#pragma omp parallel for schedule(static) num_threads(threads_for(total, n_threads))
        for (int64_t i = 0; i < total; ++i) yd[i] = f(ad[i], bd[i]);
        return;
    }
    const bool scalar_b = b.ne[0] == 1;
    for_rows(a.n_rows(), n, n_threads, [&](int64_t r) {
        const float* ar = row_ptr<const float>(a, r);
        const float* br = broadcast_row(a, b, r);
        float* yr = row_ptr<float>(y, r);
        for (int64_t i = 0; i < n; ++i) yr[i] = f(ar[i], br[scalar_b ? 0 : i]);
    });
}

void check_unary(const Tensor& x, const Tensor& y) {
    R1_CHECK(x.type == GgmlType::F32 && y.type == GgmlType::F32 && same_shape(x, y));
}

void softmax_row(const float* x, float* y, int64_t n) {
    const float mx = *std::max_element(x, x + n);
    double sum = 0;
    for (int64_t i = 0; i < n; ++i) {
        y[i] = std::exp(x[i] - mx);
        sum += y[i];
    }
    const float inv = float(1.0 / sum);
    for (int64_t i = 0; i < n; ++i) y[i] *= inv;
}

void copy_row(const Tensor& src, const Tensor& dst, int64_t r) {
    const int64_t n = src.ne[0];
    const char* s = row_at(src, r);
    char* d = row_at(dst, r);
    if (src.type == dst.type) return (void)std::memmove(d, s, src.row_size());
    if (src.type == GgmlType::F32 && dst.type == GgmlType::F16) {
        for (int64_t i = 0; i < n; ++i)
            reinterpret_cast<uint16_t*>(d)[i] = fp32_to_fp16(reinterpret_cast<const float*>(s)[i]);
        return;
    }
    R1_CHECK(src.type == GgmlType::F16 && dst.type == GgmlType::F32);
    f16_row_to_f32(reinterpret_cast<const uint16_t*>(s), reinterpret_cast<float*>(d), n);
}

void check_copy(const Tensor& src, const Tensor& dst) {
    R1_CHECK(same_shape(src, dst));
    const auto ok = [](GgmlType t) { return t == GgmlType::F32 || t == GgmlType::F16 || t == GgmlType::I32; };
    R1_CHECK(ok(src.type) && ok(dst.type) && (src.type == dst.type || src.type != GgmlType::I32));
}

}  // namespace

void swiglu_ref(const Tensor& gate, const Tensor& up, const Tensor& y) {
    check_unary(gate, y);
    check_unary(up, y);
    for (int64_t r = 0; r < y.n_rows(); ++r)
        silu_mul_ref(row_ptr<const float>(gate, r), row_ptr<const float>(up, r), row_ptr<float>(y, r), y.ne[0]);
}

void swiglu(const Tensor& gate, const Tensor& up, const Tensor& y, int n_threads) {
    check_unary(gate, y);
    check_unary(up, y);
    if (gate.contiguous() && up.contiguous() && y.contiguous()) {  // 4096-element tasks over the whole tensor
        constexpr int64_t kChunk = 4096;
        const int64_t n = y.n_elements(), n_chunks = (n + kChunk - 1) / kChunk;
        const float* g = row_ptr<const float>(gate, 0);
        const float* u = row_ptr<const float>(up, 0);
        float* yd = row_ptr<float>(y, 0);
#pragma omp parallel for schedule(static) num_threads(threads_for(n, n_threads))
        for (int64_t c = 0; c < n_chunks; ++c) {
            const int64_t i = c * kChunk;
            silu_mul(g + i, u + i, yd + i, std::min(kChunk, n - i));
        }
        return;
    }
    for_rows(y.n_rows(), y.ne[0], n_threads, [&](int64_t r) {
        silu_mul(row_ptr<const float>(gate, r), row_ptr<const float>(up, r), row_ptr<float>(y, r), y.ne[0]);
    });
}

void add_ref(const Tensor& a, const Tensor& b, const Tensor& y) { add(a, b, y, 1); }
void add(const Tensor& a, const Tensor& b, const Tensor& y, int n_threads) {
    binary(a, b, y, n_threads, [](float p, float q) { return p + q; });
}
void mul_ref(const Tensor& a, const Tensor& b, const Tensor& y) { mul(a, b, y, 1); }
void mul(const Tensor& a, const Tensor& b, const Tensor& y, int n_threads) {
    binary(a, b, y, n_threads, [](float p, float q) { return p * q; });
}

void scale_ref(const Tensor& x, float s, const Tensor& y) { scale(x, s, y, 1); }
void scale(const Tensor& x, float s, const Tensor& y, int n_threads) {
    check_unary(x, y);
    for_rows(x.n_rows(), x.ne[0], n_threads, [&](int64_t r) {
        const float* xr = row_ptr<const float>(x, r);
        float* yr = row_ptr<float>(y, r);
        for (int64_t i = 0; i < x.ne[0]; ++i) yr[i] = xr[i] * s;
    });
}

void sigmoid_ref(const Tensor& x, const Tensor& y) { sigmoid(x, y, 1); }
void sigmoid(const Tensor& x, const Tensor& y, int n_threads) {
    check_unary(x, y);
    for_rows(x.n_rows(), x.ne[0], n_threads, [&](int64_t r) {
        const float* xr = row_ptr<const float>(x, r);
        float* yr = row_ptr<float>(y, r);
        for (int64_t i = 0; i < x.ne[0]; ++i) yr[i] = 1.0f / (1.0f + std::exp(-xr[i]));
    });
}

void softmax_ref(const Tensor& x, const Tensor& y) { softmax(x, y, 1); }
void softmax(const Tensor& x, const Tensor& y, int n_threads) {
    check_unary(x, y);
    for_rows(x.n_rows(), x.ne[0], n_threads,
             [&](int64_t r) { softmax_row(row_ptr<const float>(x, r), row_ptr<float>(y, r), x.ne[0]); });
}

void copy_ref(const Tensor& src, const Tensor& dst) {
    check_copy(src, dst);
    for (int64_t r = 0; r < src.n_rows(); ++r) copy_row(src, dst, r);
}
void copy(const Tensor& src, const Tensor& dst, int n_threads) {
    check_copy(src, dst);
    for_rows(src.n_rows(), src.ne[0], n_threads, [&](int64_t r) { copy_row(src, dst, r); });
}

void argmax_ref(const Tensor& x, const Tensor& ids) {
    R1_CHECK(x.type == GgmlType::F32 && ids.type == GgmlType::I32 && ids.ne[0] == x.n_rows());
    auto* out = reinterpret_cast<int32_t*>(at(ids));
    for (int64_t r = 0; r < x.n_rows(); ++r) {
        const float* xr = row_ptr<const float>(x, r);
        int64_t best = 0;
        for (int64_t i = 1; i < x.ne[0]; ++i)
            if (xr[i] > xr[best]) best = i;
        out[r] = int32_t(best);
    }
}

}  // namespace r1::cpu
