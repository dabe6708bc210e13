// The Backend seam: buffers, sync and the op families a forward pass is written against.
// Activations are float32 rows in memory the backend allocated (host memory on the CPU);
// weights are WeightViews into the mapped GGUF file (uploaded once by GPU backends).
// Backends never know which model runs; the CPU backend's scalar references are the oracle.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>

#include "quant/types.h"

namespace r1 {

enum class Op { Embed, Matmul, RmsNorm, Rope, Attention, Glu, Add, Softmax, Argmax };

// A weight matrix W (n_out, n_in): n_out rows of n_in elements of `type`, GGUF row-major
// (ggml ne = {n_in, n_out}). A 1-D tensor is one row: n_out = 1.
struct WeightView {
    GgmlType type = GgmlType::F32;
    int64_t n_out = 0;
    int64_t n_in = 0;
    const void* data = nullptr;  // row r starts at data + r * row_bytes(type, n_in)
    // A copy of the matrix in a layout private to the backend that made it (prepare_matrix), or
    // null. Backends use it instead of `data` for matmul; `data` stays valid for everything else.
    const void* packed = nullptr;
};

// Memory owned by a backend. On the CPU `data` is a host pointer.
struct Buffer {
    void* data = nullptr;
    size_t n_bytes = 0;
};

// y (n_rows, n) = x / sqrt(mean(x²) + eps) · w; y may alias x.
struct RmsNormArgs {
    const float* x = nullptr;  // (n_rows, n)
    const float* w = nullptr;  // (n)
    float* y = nullptr;        // (n_rows, n)
    int64_t n_rows = 0;
    int64_t n = 0;
    float eps = 1e-6f;
};

// The two GGUF rotation conventions (GGUF.md §3.2).
enum class RopeMode {
    Norm,  // pairs (x[2i], x[2i+1]) — llama (Q/K rows permuted by the converter), deepseek2
    Neox,  // pairs (x[i], x[i + n_rot/2]) — qwen2
};

// Rotates the first n_rot dims of each head of x in place, token t at position pos0 + t:
// θ_i = pos · freq_base^(−2i/n_rot) / freq_factors[i]; (a, b) -> (a cosθ − b sinθ, a sinθ + b cosθ).
struct RopeArgs {
    float* x = nullptr;  // (n_tokens, n_head, head_dim)
    int64_t n_tokens = 0;
    int32_t pos0 = 0;
    int32_t n_head = 0;
    int32_t head_dim = 0;
    int32_t n_rot = 0;
    float freq_base = 10000.0f;
    const float* freq_factors = nullptr;  // (n_rot/2) or null (all 1): Llama-3 `rope_freqs`
    RopeMode mode = RopeMode::Norm;
};

// One layer's K and V cache: (n_ctx, n_head_kv, head_dim) each, of type F32 or F16.
struct KvLayerView {
    void* k = nullptr;
    void* v = nullptr;
    GgmlType type = GgmlType::F16;
    int32_t n_ctx = 0;
};

// Causal attention with grouped KV heads over a cache: stores the new k/v rows at
// positions pos0 .. pos0+n_tokens-1, then for token t (position p = pos0 + t) and head h
// (kv head h / (n_head / n_head_kv)): out = softmax(q·Kᵀ · scale over positions 0..p) · V.
struct AttentionArgs {
    const float* q = nullptr;  // (n_tokens, n_head, head_dim)
    const float* k = nullptr;  // (n_tokens, n_head_kv, head_dim)
    const float* v = nullptr;  // (n_tokens, n_head_kv, head_dim)
    float* out = nullptr;      // (n_tokens, n_head, head_dim)
    KvLayerView cache;
    int64_t n_tokens = 0;
    int32_t pos0 = 0;
    int32_t n_head = 0;
    int32_t n_head_kv = 0;
    int32_t head_dim = 0;
    float scale = 1.0f;
};

class Backend {
public:
    virtual ~Backend() = default;

    virtual std::string_view name() const = 0;
    // Whether `op` runs here (for Matmul/Embed: on weights of `type`); declined ops fall back to the CPU.
    virtual bool supports(Op op, GgmlType type = GgmlType::F32) const = 0;

    virtual Buffer alloc(size_t n_bytes) = 0;  // zero-filled; throws r1::Error when out of memory
    virtual void free(Buffer& b) = 0;
    virtual void upload(Buffer& dst, size_t offset, const void* src, size_t n_bytes) = 0;
    virtual void download(const Buffer& src, size_t offset, void* dst, size_t n_bytes) = 0;
    // Waits for every enqueued op; results are visible to the host afterwards.
    virtual void sync() = 0;

    // Called once per weight matrix at model load: the backend may attach a copy of it in a
    // layout of its own (w.packed), kept until the backend is destroyed. Default: nothing.
    virtual void prepare_matrix(WeightView& w) { (void)w; }

    // y (n_ids, table.n_in) = rows `ids` of the table (dequantized). Ids are checked by the caller.
    virtual void embed(const WeightView& table, std::span<const int32_t> ids, float* y) = 0;
    // y (n_tokens, W.n_out) = x (n_tokens, W.n_in) · Wᵀ.
    virtual void matmul(const WeightView& w, const float* x, int64_t n_tokens, float* y) = 0;
    virtual void rms_norm(const RmsNormArgs& a) = 0;
    virtual void rope(const RopeArgs& a) = 0;
    virtual void attention(const AttentionArgs& a) = 0;
    // SwiGLU: y (n) = silu(gate) ⊙ up; y may alias gate or up.
    virtual void glu(const float* gate, const float* up, float* y, int64_t n) = 0;
    // y (n) += x (n).
    virtual void add(float* y, const float* x, int64_t n) = 0;
    // y (n_rows, n) += bias (n) for every row.
    virtual void add_bias(float* y, const float* bias, int64_t n_rows, int64_t n) = 0;
    // Each row of x (n_rows, n) replaced by its softmax.
    virtual void softmax(float* x, int64_t n_rows, int64_t n) = 0;
    // Index of the largest of x (n); the first one on ties.
    virtual int32_t argmax(const float* x, int64_t n) = 0;
};

struct BackendOptions {
    std::string name = "cpu";  // cpu | vulkan | cuda
    int n_threads = 0;         // <= 0: all hardware threads
};

// Creates the named backend; throws r1::Error naming it when it is unknown or not built in.
std::unique_ptr<Backend> create_backend(const BackendOptions& options);

// Threads to use for a request of n (<= 0: hardware concurrency), clamped to [1, 1024] (R04).
int resolve_threads(int n);

}  // namespace r1
