// The ops of the Vulkan backend as dispatches on a Context: each records one (or two) shader
// dispatches into the current command buffer and returns at once; results are read after
// Context::sync(). Tensors are byte offsets into device buffers with element strides, so views
// (a head slice, every other row) cost nothing. Semantics are the CPU references' in
// backends/cpu/ops/ops.h, which the tests compare against.
#pragma once

#include <cstdint>
#include <vector>

#include "backends/vulkan/context.h"
#include "quant/types.h"

namespace r1::vulkan {

// Bytes `offset` into `buf`; the element type is the op's.
struct View {
    const DeviceBuffer* buf = nullptr;
    size_t offset = 0;
};

// Weight types matvec and embed read as stored: F32, F16, Q8_0, Q4_0, Q4_K, Q6_K.
bool has_weight_shader(GgmlType type);

// y (n_tokens, n_out) = x (n_tokens, n_in) · Wᵀ; W (n_out, n_in) of `type`, rows contiguous.
struct MatmulOp {
    View w, x, y;
    GgmlType type = GgmlType::F32;
    int64_t n_out = 0, n_in = 0, n_tokens = 1;
    int64_t x_stride = 0, y_stride = 0;  // floats between tokens; 0: n_in / n_out
};
void matmul(Context& c, const MatmulOp& a);

// y (n_ids, n_in) = rows ids (int32 on the device) of the table W (n_rows, n_in) of `type`.
struct EmbedOp {
    View table, ids, y;
    GgmlType type = GgmlType::F32;
    int64_t n_in = 0, n_ids = 0;
};
void embed(Context& c, const EmbedOp& a);

// y (n_rows, n) = x / sqrt(mean(x²) + eps) · w; y may alias x.
struct RmsNormOp {
    View x, w, y;
    int64_t n_rows = 0, n = 0;
    int64_t x_stride = 0, y_stride = 0;  // floats between rows; 0: n
    float eps = 1e-6f;
};
void rms_norm(Context& c, const RmsNormOp& a);

// Rotates the first n_rot dims of each head in place with the table cs (rope_table).
struct RopeOp {
    View x, cs;  // cs: (positions, n_rot/2) pairs (cos, sin) from position 0
    int64_t n_tokens = 0;
    int32_t n_head = 0, n_rot = 0, pos0 = 0;
    int64_t tok_stride = 0, head_stride = 0;  // floats
    bool neox = false;
};
void rope(Context& c, const RopeOp& a);
// (n_pos, n_rot/2, 2) cos/sin for positions 0..n_pos-1, computed as rope_ref does:
// inv_freq_i = float(1 / base^(2i/n_rot)) / factors[i], θ = pos · inv_freq_i in float32,
// cos/sin in double rounded to float.
std::vector<float> rope_table(int32_t n_pos, int32_t n_rot, float freq_base, const float* freq_factors);

// y = silu(gate) ⊙ up; y = a + b[i mod nb]; y = x · s (n floats each; outputs may alias inputs).
void glu(Context& c, View gate, View up, View y, int64_t n);
void add(Context& c, View a, View b, View y, int64_t n, int64_t nb);
void scale(Context& c, View x, View y, int64_t n, float s);
// Each row of x (n_rows, n) replaced by its softmax.
void softmax(Context& c, View x, int64_t n_rows, int64_t n);
// out (n_rows) int32 = index of each row's largest value, the first on ties.
void argmax(Context& c, View x, View out, int64_t n_rows, int64_t n);

// dst row r = src row r (n floats each), converted to dst_type (F32 or F16).
struct CopyOp {
    View src, dst;
    GgmlType dst_type = GgmlType::F32;
    int64_t n_rows = 1, n = 0;
    int64_t src_stride = 0, dst_stride = 0;  // elements between rows; 0: n
};
void copy(Context& c, const CopyOp& a);

// Causal attention over the cache (its rows already stored, e.g. with copy()): for token t at
// position pos0 + t and head h, out = softmax(q·Kᵀ·scale over 0..pos0+t) · V with KV head
// h / (n_head / n_head_kv). K rows dk wide, V rows dv; cache of F32 or F16. scores: scratch of
// n_tokens · n_head · n_ctx floats.
struct AttentionOp {
    View q, k, v, out, scores;
    GgmlType cache_type = GgmlType::F16;
    int64_t n_tokens = 0;
    int32_t n_head = 0, n_head_kv = 0, dk = 0, dv = 0, pos0 = 0, n_ctx = 0;
    int64_t q_tok_stride = 0, q_head_stride = 0;    // floats; 0: packed (n_head, dk)
    int64_t k_pos_stride = 0, k_head_stride = 0;    // cache elements; 0: packed (n_head_kv, dk)
    int64_t v_pos_stride = 0, v_head_stride = 0;    // 0: packed (n_head_kv, dv)
    int64_t out_tok_stride = 0, out_head_stride = 0;  // 0: packed (n_head, dv)
    float scale = 1.0f;
};
void attention(Context& c, const AttentionOp& a);

}  // namespace r1::vulkan
