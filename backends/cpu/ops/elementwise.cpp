// Element-wise ops over tensors with strided rows: SwiGLU, add and multiply with broadcasting,
// scale, sigmoid, row softmax, copy (with F32 <-> F16 conversion) and row argmax. The arithmetic
// ops are one loop over rows (or flat chunks) applying a row function of backends/cpu/kernels.h:
// the threaded op runs the SIMD kernel, the reference its double-precision reference, so the
// conformance suite compares two computations while views and broadcasting are shared.
#include <algorithm>
#include <cmath>
#include <cstring>
#include <vector>

#include "backends/cpu/kernels.h"
#include "backends/cpu/ops/ops.h"
#include "core/error.h"
#include "quant/fp16.h"

namespace r1::cpu {
namespace {

constexpr int64_t kChunk = 4096;  // elements per task when the tensors are flat

template <class T>
T* row_ptr(const Tensor& t, int64_t r) {
    return reinterpret_cast<T*>(row_at(t, r));
}

// Row r of `a`'s shape mapped onto a broadcast operand b (b.ne[d] == 1 repeats it).
const float* broadcast_row(const Tensor& a, const Tensor& b, int64_t r) {
    const int64_t i1 = r % a.ne[1], i2 = (r / a.ne[1]) % a.ne[2], i3 = r / (a.ne[1] * a.ne[2]);
    return reinterpret_cast<const float*>(at(b, i1 % b.ne[1], i2 % b.ne[2], i3 % b.ne[3]));
}

void check_unary(const Tensor& x, const Tensor& y) {
    R1_CHECK(x.type == GgmlType::F32 && y.type == GgmlType::F32 && same_shape(x, y));
}

void check_binary(const Tensor& a, const Tensor& b, const Tensor& y) {
    check_unary(a, y);
    R1_CHECK(b.type == GgmlType::F32);
    for (int d = 0; d < Tensor::kDims; ++d) R1_CHECK(b.ne[d] == a.ne[d] || b.ne[d] == 1);
}

// y = fn(a, b, s) over y's shape; b (binary ops) broadcast, a row of b.ne[0] == 1 repeated.
// per_row: fn needs whole rows (softmax); otherwise flat tensors run in chunks of kChunk.
void run_rows(RowFn fn, const Tensor& a, const Tensor* b, float s, const Tensor& y, bool per_row, int n_threads) {
    const int64_t n = y.ne[0], n_rows = y.n_rows();
    const int nt = threads_for(y.n_elements(), n_threads);
    const bool flat = !per_row && a.contiguous() && y.contiguous() && (!b || (b->contiguous() && same_shape(a, *b)));
    if (flat) {
        const float* ad = row_ptr<const float>(a, 0);
        const float* bd = b ? row_ptr<const float>(*b, 0) : nullptr;
        float* yd = row_ptr<float>(y, 0);
        const int64_t total = y.n_elements(), n_chunks = (total + kChunk - 1) / kChunk;
#pragma omp parallel for schedule(static) num_threads(nt)
        for (int64_t c = 0; c < n_chunks; ++c) {
            const int64_t i = c * kChunk;
            fn({.a = ad + i, .b = bd ? bd + i : nullptr, .y = yd + i, .n = std::min(kChunk, total - i), .s = s});
        }
        return;
    }
    const bool repeat_b = b && b->ne[0] == 1 && n > 1;
#pragma omp parallel num_threads(nt)
    {
        std::vector<float> b_row(repeat_b ? size_t(n) : 0);
#pragma omp for schedule(static)
        for (int64_t r = 0; r < n_rows; ++r) {
            const float* br = b ? broadcast_row(a, *b, r) : nullptr;
            if (repeat_b) {
                std::fill(b_row.begin(), b_row.end(), *br);
                br = b_row.data();
            }
            fn({.a = row_ptr<const float>(a, r), .b = br, .y = row_ptr<float>(y, r), .n = n, .s = s});
        }
    }
}

// One row, converted; simd: F16 -> F32 through f16_row_to_f32, else fp16_to_fp32 per element.
void copy_row(const Tensor& src, const Tensor& dst, int64_t r, bool simd) {
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
    const auto* h = reinterpret_cast<const uint16_t*>(s);
    auto* f = reinterpret_cast<float*>(d);
    if (simd) return f16_row_to_f32(h, f, n);
    for (int64_t i = 0; i < n; ++i) f[i] = fp16_to_fp32(h[i]);
}

void check_copy(const Tensor& src, const Tensor& dst) {
    R1_CHECK(same_shape(src, dst));
    const auto ok = [](GgmlType t) { return t == GgmlType::F32 || t == GgmlType::F16 || t == GgmlType::I32; };
    R1_CHECK(ok(src.type) && ok(dst.type) && (src.type == dst.type || src.type != GgmlType::I32));
}

}  // namespace

void swiglu_ref(const Tensor& gate, const Tensor& up, const Tensor& y) {
    check_binary(gate, up, y);
    R1_CHECK(same_shape(gate, up));
    run_rows(silu_mul_f32_ref, gate, &up, 0, y, false, 1);
}
void swiglu(const Tensor& gate, const Tensor& up, const Tensor& y, int n_threads) {
    check_binary(gate, up, y);
    R1_CHECK(same_shape(gate, up));
    run_rows(silu_mul_f32, gate, &up, 0, y, false, n_threads);
}

void add_ref(const Tensor& a, const Tensor& b, const Tensor& y) {
    check_binary(a, b, y);
    run_rows(add_f32_ref, a, &b, 0, y, false, 1);
}
void add(const Tensor& a, const Tensor& b, const Tensor& y, int n_threads) {
    check_binary(a, b, y);
    run_rows(add_f32, a, &b, 0, y, false, n_threads);
}

void mul_ref(const Tensor& a, const Tensor& b, const Tensor& y) {
    check_binary(a, b, y);
    run_rows(mul_f32_ref, a, &b, 0, y, false, 1);
}
void mul(const Tensor& a, const Tensor& b, const Tensor& y, int n_threads) {
    check_binary(a, b, y);
    run_rows(mul_f32, a, &b, 0, y, false, n_threads);
}

void scale_ref(const Tensor& x, float s, const Tensor& y) {
    check_unary(x, y);
    run_rows(scale_f32_ref, x, nullptr, s, y, false, 1);
}
void scale(const Tensor& x, float s, const Tensor& y, int n_threads) {
    check_unary(x, y);
    run_rows(scale_f32, x, nullptr, s, y, false, n_threads);
}

void sigmoid_ref(const Tensor& x, const Tensor& y) {
    check_unary(x, y);
    run_rows(sigmoid_f32_ref, x, nullptr, 0, y, false, 1);
}
void sigmoid(const Tensor& x, const Tensor& y, int n_threads) {
    check_unary(x, y);
    run_rows(sigmoid_f32, x, nullptr, 0, y, false, n_threads);
}

void softmax_ref(const Tensor& x, const Tensor& y) {
    check_unary(x, y);
    run_rows(softmax_f32_ref, x, nullptr, 0, y, true, 1);
}
void softmax(const Tensor& x, const Tensor& y, int n_threads) {
    check_unary(x, y);
    run_rows(softmax_f32, x, nullptr, 0, y, true, n_threads);
}

void copy_ref(const Tensor& src, const Tensor& dst) {
    check_copy(src, dst);
    for (int64_t r = 0; r < src.n_rows(); ++r) copy_row(src, dst, r, false);
}
void copy(const Tensor& src, const Tensor& dst, int n_threads) {
    check_copy(src, dst);
#pragma omp parallel for schedule(static) num_threads(threads_for(src.n_elements(), n_threads))
    for (int64_t r = 0; r < src.n_rows(); ++r) copy_row(src, dst, r, true);
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
