// The CPU backend's ops. Each op family has a plain-loop reference `<op>_ref` (one thread,
// the specification, what the tests use as the oracle) and the op the backend runs, which
// splits whole rows, tokens or heads across OpenMP threads and gives bit-identical results
// for any thread count (no reduction is ever split between threads).
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

// ---- dequant.cpp ----
// out (n) = row of n elements of `type` as float32; false if the type has no codec here.
bool dequantize_row(GgmlType type, const void* row, float* out, int64_t n);
// Weight types with a codec (matmul and embed accept them); activation-only types excluded.
bool can_dequantize(GgmlType type);

// ---- matmul.cpp ----
// y (n_tokens, W.n_out) = x (n_tokens, W.n_in) · Wᵀ: each weight row dequantized to float32,
// then a sequential float32 dot product.
void matmul_ref(const WeightView& w, const float* x, int64_t n_tokens, float* y);
// Same result layout through the SIMD matvec kernels (activations quantized to the kernel's
// type) or dequantized tiles; tiles of rows split across threads.
void matmul(const WeightView& w, const float* x, int64_t n_tokens, float* y, int n_threads);
// y (ids.size(), W.n_in) = rows `ids` of W, dequantized.
void embed(const WeightView& table, std::span<const int32_t> ids, float* y, int n_threads);

// ---- norm.cpp ----
void rms_norm_ref(const RmsNormArgs& a);
void rms_norm(const RmsNormArgs& a, int n_threads);

// ---- rope.cpp ----
void rope_ref(const RopeArgs& a);
void rope(const RopeArgs& a, int n_threads);

// ---- attention.cpp ----
void attention_ref(const AttentionArgs& a);
void attention(const AttentionArgs& a, int n_threads);

// ---- elementwise.cpp ----
void glu(const float* gate, const float* up, float* y, int64_t n, int n_threads);
void add(float* y, const float* x, int64_t n, int n_threads);
void add_bias(float* y, const float* bias, int64_t n_rows, int64_t n, int n_threads);
void softmax(float* x, int64_t n_rows, int64_t n, int n_threads);
int32_t argmax(const float* x, int64_t n);

}  // namespace r1::cpu
