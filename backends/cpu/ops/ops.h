// The CPU backend's ops over tensor handles (host memory). Each op has a plain-loop reference
// `<op>_ref` (one thread, the specification, the conformance suite's oracle) and the op the
// backend runs, which splits whole rows, tokens or heads across OpenMP threads and gives
// bit-identical results for any thread count (no reduction is ever split between threads).
// Tensors here always have nb[0] = the element size; rows may be strided.
#pragma once

#include <cstdint>
#include <span>

#include "backends/backend.h"

namespace r1::cpu {

// Threads worth waking for `work` multiply-adds or elements: below this, the fork/join and
// barrier cost more than the work itself (measured: decode on the fixture models spent
// most of its time in libgomp's barriers when every small op used every thread). 128K, not
// 1M: a 512-token prompt's norms, adds and KV stores (~786K elements, ~0.3 ms each) ran on
// one thread while the other waited.
constexpr int64_t kParallelWork = int64_t(1) << 17;
inline int threads_for(int64_t work, int n_threads) { return work >= kParallelWork ? n_threads : 1; }

// Tensor layouts of the CPU backend (Tensor::layout).
constexpr uint8_t kLayoutRows = 0;
constexpr uint8_t kLayoutPacked = 1;  // 16-row VNNI panels (kernels.h pack_matrix), one per matrix

// Host address of element (0, i1, i2, i3).
inline char* at(const Tensor& t, int64_t i1 = 0, int64_t i2 = 0, int64_t i3 = 0) {
    return static_cast<char*>(t.buffer.data) + t.offset + size_t(i1) * t.nb[1] + size_t(i2) * t.nb[2] +
           size_t(i3) * t.nb[3];
}
// Address of row r of the n_rows() rows in (i1, i2, i3) order.
inline char* row_at(const Tensor& t, int64_t r) {
    const int64_t i1 = r % t.ne[1], i2 = (r / t.ne[1]) % t.ne[2], i3 = r / (t.ne[1] * t.ne[2]);
    return at(t, i1, i2, i3);
}
inline bool same_shape(const Tensor& a, const Tensor& b) {
    return a.ne[0] == b.ne[0] && a.ne[1] == b.ne[1] && a.ne[2] == b.ne[2] && a.ne[3] == b.ne[3];
}

// One weight matrix W (n_out, n_in) in the backend's hands: the rows, or packed panels.
struct Matrix {
    GgmlType type = GgmlType::F32;
    int64_t n_out = 0, n_in = 0;
    const void* data = nullptr;    // rows, or null when only the packed copy exists
    const void* packed = nullptr;  // kLayoutPacked panels, or null
};
// Matrix m of a weight tensor {n_in, n_out, n_mat}.
Matrix matrix_of(const Tensor& w, int64_t m = 0);

// ---- dequant.cpp ----
// out (n) = row of n elements of `type` as float32; false if the type has no codec here.
bool dequantize_row(GgmlType type, const void* row, float* out, int64_t n);
// Weight types with a codec (matmul and get_rows accept them); activation-only types excluded.
bool can_dequantize(GgmlType type);

// ---- matmul.cpp ----
// y (n_tokens, n_out) = x (n_tokens, n_in) · Wᵀ, contiguous rows: each weight row dequantized
// to float32, then a sequential float32 dot product.
void matrix_mul_ref(const Matrix& w, const float* x, int64_t n_tokens, float* y);
// The same through the matmul path chosen by matmul_path() (kernels.h).
void matrix_mul(const Matrix& w, const float* x, int64_t n_tokens, float* y, int n_threads);
// Backend::matmul / matmul_id / get_rows (backend.h) and their references.
void matmul_ref(const Tensor& w, const Tensor& x, const Tensor& y);
void matmul(const Tensor& w, const Tensor& x, const Tensor& y, int n_threads);
void matmul_id_ref(const Tensor& w, const Tensor& x, const Tensor& ids, const Tensor& y);
void matmul_id(const Tensor& w, const Tensor& x, const Tensor& ids, const Tensor& y, int n_threads);
void get_rows_ref(const Tensor& table, const Tensor& ids, const Tensor& y);
void get_rows(const Tensor& table, const Tensor& ids, const Tensor& y, int n_threads);

// ---- norm.cpp ----
void rms_norm_ref(const Tensor& x, const Tensor& w, const Tensor& y, float eps);
void rms_norm(const Tensor& x, const Tensor& w, const Tensor& y, float eps, int n_threads);

// ---- rope.cpp ----
void rope_ref(const RopeArgs& a);
void rope(const RopeArgs& a, int n_threads);

// ---- attention.cpp ----
void attention_ref(const AttentionArgs& a);
void attention(const AttentionArgs& a, int n_threads);

// ---- elementwise.cpp ----
void swiglu_ref(const Tensor& gate, const Tensor& up, const Tensor& y);
void swiglu(const Tensor& gate, const Tensor& up, const Tensor& y, int n_threads);
void add_ref(const Tensor& a, const Tensor& b, const Tensor& y);
void add(const Tensor& a, const Tensor& b, const Tensor& y, int n_threads);
void mul_ref(const Tensor& a, const Tensor& b, const Tensor& y);
void mul(const Tensor& a, const Tensor& b, const Tensor& y, int n_threads);
void scale_ref(const Tensor& x, float s, const Tensor& y);
void scale(const Tensor& x, float s, const Tensor& y, int n_threads);
void sigmoid_ref(const Tensor& x, const Tensor& y);
void sigmoid(const Tensor& x, const Tensor& y, int n_threads);
void softmax_ref(const Tensor& x, const Tensor& y);
void softmax(const Tensor& x, const Tensor& y, int n_threads);
void copy_ref(const Tensor& src, const Tensor& dst);
void copy(const Tensor& src, const Tensor& dst, int n_threads);
void argmax_ref(const Tensor& x, const Tensor& ids);

// ---- moe.cpp ----
void moe_route_ref(const MoeRouteArgs& a);
void moe_route(const MoeRouteArgs& a, int n_threads);

}  // namespace r1::cpu
