// The Backend seam: tensors that live in a backend's memory, weights handed to the backend at
// load, and ops over tensor handles that *enqueue* (CPU: run now; GPU: record or launch) with
// sync() before the host reads anything. No op returns a host value and no op takes a host
// pointer. Backends never know which model runs; the CPU backend's scalar references
// (backends/cpu/ops/ops.h) are the specification and tests/backends' oracle.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "quant/types.h"

namespace r1 {

class Backend;

// Memory owned by one backend: a host pointer on the CPU, an opaque handle on a GPU.
struct Buffer {
    void* data = nullptr;
    size_t n_bytes = 0;
};

// A tensor handle: where (buffer + offset), what (type) and how (shape + byte strides).
// ne[0] is the innermost dimension (GGUF/ggml order); nb[d] are the bytes between
// consecutive indices of dimension d, nb[0] the element size (a block type's rows are
// contiguous: nb[1] = row bytes). Handles are values: views share the buffer and cost nothing.
struct Tensor {
    static constexpr int kDims = 4;
    Buffer buffer;
    size_t offset = 0;  // bytes from the buffer start to element (0, 0, 0, 0)
    GgmlType type = GgmlType::F32;
    int64_t ne[kDims] = {0, 1, 1, 1};
    size_t nb[kDims] = {0, 0, 0, 0};
    // 0: GGUF rows. Anything else is a weight layout private to the backend that loaded the
    // tensor (the CPU's packed VNNI panels); only that backend reads such a tensor.
    uint8_t layout = 0;

    bool empty() const { return buffer.data == nullptr; }
    int64_t n_elements() const { return ne[0] * ne[1] * ne[2] * ne[3]; }
    int64_t n_rows() const { return ne[1] * ne[2] * ne[3]; }
    size_t row_size() const { return size_t(row_bytes(type, uint64_t(ne[0]))); }
    // Rows back to back (every dimension above 0 packed tightly on the one below it).
    bool contiguous() const;
    // Bytes spanned from the first to one past the last element.
    size_t n_bytes() const;

    // A view of this tensor's memory with its own shape and strides (ggml_view_*): `offset`
    // bytes from this tensor's start; strides of the dimensions above 0 given (nb[0] inherited).
    Tensor view(std::initializer_list<int64_t> ne, std::initializer_list<size_t> nb, size_t offset = 0) const;
    // Indices [i0, i0 + n) of dimension `dim`.
    Tensor slice(int dim, int64_t i0, int64_t n) const;
    // The same contiguous elements with another shape.
    Tensor reshape(std::initializer_list<int64_t> ne) const;
};

// A contiguous tensor of `type` and shape `ne` at `offset` bytes into `buffer`.
Tensor make_tensor(const Buffer& buffer, size_t offset, GgmlType type, std::initializer_list<int64_t> ne);
// Bytes a contiguous tensor of that type and shape needs.
size_t tensor_bytes(GgmlType type, std::initializer_list<int64_t> ne);

enum class Op {
    GetRows, Matmul, MatmulId, RmsNorm, Rope, Attention, Swiglu, Add, Mul, Scale, Sigmoid, Softmax,
    Copy, MoeRoute, Argmax,
};
const char* op_name(Op op);

// What a weight is for, so the backend can store it to suit (repacked for matmul, F32 vectors).
enum class WeightUse {
    Matmul,  // W {n_in, n_out} or a stack {n_in, n_out, n_mat}: Matmul / MatmulId
    Rows,    // a table {n, n_rows} read with GetRows (token embeddings)
    Vector,  // F32 elements (norm weights, biases, routing bias, frequency factors)
};

// A weight as the file holds it. The backend copies, repacks or uploads it, or (persistent
// bytes, CPU) reads it in place.
struct WeightSource {
    std::string_view name;  // for messages
    GgmlType type = GgmlType::F32;
    int64_t ne[Tensor::kDims] = {1, 1, 1, 1};
    const void* data = nullptr;  // GGUF rows of `type`
    bool persistent = false;     // the bytes outlive the backend (a mapped file)
    WeightUse use = WeightUse::Matmul;
};

struct LoadedWeight {
    Tensor tensor;
    bool reads_source = false;  // the backend keeps reading the source bytes (do not release them)
};

// The two GGUF rotation conventions (GGUF.md §3.2).
enum class RopeMode {
    Norm,  // pairs (x[2i], x[2i+1]) — llama (Q/K rows permuted by the converter), deepseek2
    Neox,  // pairs (x[i], x[i + n_rot/2]) — qwen2
};

// Rotation angles per position (GGUF.md §3.2, §5.5). θ_i(pos) = pos · f_i with
// f_i = base^(−2i/n_rot) / freq_factors[i], blended with f_i / yarn.factor by YaRN's ramp
// between the correction dims of beta_fast and beta_slow (when yarn_factor > 1); cos and sin
// are scaled by attn_factor (deepseek2: mscale(s, mscale) / mscale(s, mscale_all_dim), HF's).
struct RopeConfig {
    int32_t n_rot = 0;  // rotated dims per head (even)
    float freq_base = 10000.0f;
    const float* freq_factors = nullptr;  // (n_rot/2) host floats, or null (all 1): Llama-3 `rope_freqs`
    float yarn_factor = 1.0f;             // rope.scaling.factor; <= 1: no YaRN
    int32_t yarn_orig_ctx = 0;            // rope.scaling.original_context_length
    float yarn_beta_fast = 32.0f, yarn_beta_slow = 1.0f;
    float attn_factor = 1.0f;
};
// The table a RoPE op reads: out (n_pos, n_rot/2, 2) = (cos θ_i(pos), sin θ_i(pos)) in float32.
// Computed once per context on the host and uploaded; every backend shares this definition.
void rope_table(const RopeConfig& c, int32_t n_pos, float* out);

struct RopeArgs {
    Tensor x;          // F32 {n_rot, n_head, n_tokens}, rotated in place; a view of a slice of each head
    Tensor positions;  // I32 {n_tokens}: the position of each token
    Tensor table;      // F32 {2, n_rot/2, n_pos} from rope_table; positions < n_pos
    RopeMode mode = RopeMode::Norm;
};

// Causal attention over a cache: for token t at position p = positions[t] and head h (KV head
// h / (n_head / n_head_kv)): out = softmax(scale · q·Kᵀ over cells c0..c0+p) · V, where c0 is
// the cell of position 0 of t's sequence: 0 for a batch of one sequence, seq_cell0[seq[t]] when
// a batch mixes sequences (the server's slots, each a range of cells of one cache).
// K and V widths may differ and V may be a view into K's rows (MLA: K 576, V its first 512).
// The new tokens' K/V rows are stored by the caller (copy into a view of the cache) first.
struct AttentionArgs {
    Tensor q;          // F32 {dk, n_head, n_tokens}
    Tensor k;          // F32/F16 {dk, n_head_kv, n_kv}: the cache cells 0 .. n_kv-1
    Tensor v;          // F32/F16 {dv, n_head_kv, n_kv}
    Tensor out;        // F32 {dv, n_head, n_tokens}
    Tensor positions;  // I32 {n_tokens}: each token's position in its sequence; c0 + p < n_kv
    float scale = 1.0f;
    // Several sequences in one batch, or both empty (one sequence from cell 0).
    Tensor seq{};        // I32 {n_tokens}: the sequence of each token, in [0, n_seq)
    Tensor seq_cell0{};  // I32 {n_seq}: the cell of each sequence's position 0
};

enum class Gating { Softmax, Sigmoid };

// MoE routing (GGUF.md §5.2) per token: s = gating(logits); selection score s' = s + bias;
// with n_group > 1 the experts form n_group groups scored by the sum of their top-2 s', only
// the top n_group_used groups stay eligible; the top n_used experts by s' (lowest index first
// on ties) get weights s (unbiased), divided by their sum when `norm`, times `scale`.
struct MoeRouteArgs {
    Tensor logits;   // F32 {n_expert, n_tokens}
    Tensor bias;     // F32 {n_expert} selection-only bias, or empty
    Tensor ids;      // I32 {n_used, n_tokens} out, in descending s'
    Tensor weights;  // F32 {n_used, n_tokens} out
    Gating gating = Gating::Softmax;
    int32_t n_group = 1;
    int32_t n_group_used = 1;
    bool norm = true;
    float scale = 1.0f;
};

class Backend {
public:
    virtual ~Backend() = default;

    virtual std::string_view name() const = 0;
    // The device the backend computes on, for messages ("NVIDIA GeForce RTX 4090"; the CPU: "CPU").
    virtual std::string device_name() const { return "CPU"; }
    // Bytes the backend holds in device memory (weights, caches, activations); 0 on the host.
    virtual uint64_t device_bytes() const { return 0; }
    // The instruction-set class the CPU kernels run at ("avx2", ...); empty for GPU backends.
    virtual std::string_view isa() const { return {}; }
    // Whether `op` runs here on tensors of `type` (the weight type for Matmul/MatmulId/GetRows,
    // the cache type for Attention). Models check every op they use at load, never later.
    virtual bool supports(Op op, GgmlType type = GgmlType::F32) const = 0;
    // Bytes of weights this backend can hold (UINT64_MAX: host memory, not counted).
    virtual uint64_t weight_capacity() const { return UINT64_MAX; }

    // Zero-filled memory; throws r1::Error when out of memory.
    virtual Buffer alloc(size_t n_bytes) = 0;
    virtual void free(Buffer& b) = 0;
    // Host <-> tensor transfers of a contiguous tensor's n_bytes(). upload completes before it
    // returns (the host may reuse src); download syncs first.
    virtual void upload(const Tensor& dst, const void* src) = 0;
    virtual void download(const Tensor& src, void* dst) = 0;
    // Waits for every enqueued op.
    virtual void sync() = 0;

    // Takes a weight at model load (see WeightSource); the tensor stays valid while the backend lives.
    virtual LoadedWeight load_weight(const WeightSource& w) = 0;

    // y {n, n_ids} = rows ids of table {n, n_rows}, dequantized to F32.
    virtual void get_rows(const Tensor& table, const Tensor& ids, const Tensor& y) = 0;
    // y {n_out, ...} = W · x for every row of x {n_in, ...}; W {n_in, n_out}. A stack W
    // {n_in, n_out, n_mat}: x {n_in, n_mat, n_tokens} -> y {n_out, n_mat, n_tokens}, matrix m
    // applied to x[:, m, t]. x may be strided; y is F32.
    virtual void matmul(const Tensor& w, const Tensor& x, const Tensor& y) = 0;
    // Expert matmul (ggml mul_mat_id): W {n_in, n_out, n_expert}, ids I32 {n_used, n_tokens},
    // x {n_in, n_xs, n_tokens} with n_xs = n_used or 1 (shared) -> y {n_out, n_used, n_tokens}:
    // y[:, k, t] = W[ids[k, t]] · x[:, n_xs == 1 ? 0 : k, t].
    virtual void matmul_id(const Tensor& w, const Tensor& x, const Tensor& ids, const Tensor& y) = 0;
    // y = x / sqrt(mean(x²) + eps) ⊙ w for every row of x {n, ...} (rows may be strided); y may be x.
    virtual void rms_norm(const Tensor& x, const Tensor& w, const Tensor& y, float eps) = 0;
    virtual void rope(const RopeArgs& a) = 0;
    virtual void attention(const AttentionArgs& a) = 0;
    // y = silu(gate) ⊙ up, same shapes; y may alias either.
    virtual void swiglu(const Tensor& gate, const Tensor& up, const Tensor& y) = 0;
    // y = a + b and y = a ⊙ b; b broadcast over each dimension where b.ne[d] == 1. y may alias a.
    virtual void add(const Tensor& a, const Tensor& b, const Tensor& y) = 0;
    virtual void mul(const Tensor& a, const Tensor& b, const Tensor& y) = 0;
    // y = s · x; y = 1 / (1 + e^−x); each row of y = softmax(row of x). y may alias x.
    virtual void scale(const Tensor& x, float s, const Tensor& y) = 0;
    virtual void sigmoid(const Tensor& x, const Tensor& y) = 0;
    virtual void softmax(const Tensor& x, const Tensor& y) = 0;
    // dst = src element by element, same shape, any strides; F32 <-> F16 converted (concat =
    // copies into views of one tensor).
    virtual void copy(const Tensor& src, const Tensor& dst) = 0;
    virtual void moe_route(const MoeRouteArgs& a) = 0;
    // ids I32 {n_rows} = index of the largest element of each row of x (the first on ties).
    virtual void argmax(const Tensor& x, const Tensor& ids) = 0;
};

// Moves a tensor between backends (through the host for now); waits for `from` first.
void copy_across(Backend& from, const Tensor& src, Backend& to, const Tensor& dst);

struct BackendOptions {
    std::string name = "cpu";  // cpu | vulkan | cuda
    int n_threads = 0;         // <= 0: all hardware threads
    int device = 0;            // GPU backends: the device index (list_devices order)
    // CPU only: cap the kernels at an instruction-set class ("scalar", "avx2", "avx512"), so one
    // machine runs the paths a smaller CPU takes (r1 bench --isa). Empty: the best this CPU has.
    std::string isa = "";
};

// Creates the named backend (backends/registry.cpp); throws r1::Error naming it when it is
// unknown or not built in, or (GPU) when there is no driver or no such device.
std::unique_ptr<Backend> create_backend(const BackendOptions& options);
// One line per device of a GPU backend, in --device order ("0: NVIDIA GeForce RTX 4090
// (discrete, 24564 MiB, Vulkan 1.3.277, subgroup 32)"); empty when the driver reports none.
// Throws r1::Error when the backend is not built in or its driver cannot be opened.
std::vector<std::string> list_devices(std::string_view backend);

// Threads to use for a request of n (<= 0: hardware concurrency), clamped to [1, 1024] (R04).
int resolve_threads(int n);

}  // namespace r1
