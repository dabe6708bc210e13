// Matrix products on weights of any type with a row codec, and embedding lookup.
// The reference dequantizes each row and takes a sequential float32 dot product. The
// threaded op uses the SIMD matvec kernel of the weight type (backends/cpu/kernels.h; the
// activations quantized to its partner type as ggml does) on tiles of rows, each tile
// applied to every token of the batch while it is in cache; types without a kernel
// dequantize the tile to float32 instead. Tiles are split across threads, never a row.
#include <algorithm>
#include <vector>

#include "backends/cpu/kernels.h"
#include "backends/cpu/ops/ops.h"
#include "quant/types.h"
#include "core/error.h"

namespace r1::cpu {
namespace {

constexpr int64_t kTileRows = 16;  // weight rows dequantized together, reused by every token
constexpr int64_t kVecTileRows = 16;  // rows per task of the matvec kernels
// From this many tokens the batched int8 GEMM (which unpacks the weights once per call) is used.
constexpr int64_t kGemmMinTokens = 8;

// Sum of a[i]·b[i] with eight interleaved float32 partial sums (vectorisable, fixed order).
float dot8(const float* a, const float* b, int64_t n) {
    float acc[8] = {0, 0, 0, 0, 0, 0, 0, 0};
    int64_t i = 0;
    for (; i + 8 <= n; i += 8)
        for (int k = 0; k < 8; ++k) acc[k] += a[i + k] * b[i + k];
    for (; i < n; ++i) acc[i & 7] += a[i] * b[i];
    return ((acc[0] + acc[4]) + (acc[1] + acc[5])) + ((acc[2] + acc[6]) + (acc[3] + acc[7]));
}

const uint8_t* row_ptr(const WeightView& w, int64_t r) {
    return static_cast<const uint8_t*>(w.data) + size_t(r) * row_bytes(w.type, uint64_t(w.n_in));
}

}  // namespace

void matmul_ref(const WeightView& w, const float* x, int64_t n_tokens, float* y) {
    std::vector<float> row(size_t(w.n_in));
    for (int64_t r = 0; r < w.n_out; ++r) {
        R1_CHECK(dequantize_row(w.type, row_ptr(w, r), row.data(), w.n_in));
        for (int64_t t = 0; t < n_tokens; ++t) {
            const float* xt = x + t * w.n_in;
            float s = 0;
            for (int64_t i = 0; i < w.n_in; ++i) s += row[size_t(i)] * xt[i];
            y[t * w.n_out + r] = s;
        }
    }
}

namespace {

const MatvecKernel* kernel_for(const WeightView& w) {
    for (const MatvecKernel& k : matvec_kernels())
        if (k.weight == w.type && w.n_in % k.block_size == 0) {
            if (k.act == GgmlType::F32 || find_quantize(k.act)) return &k;
        }
    return nullptr;
}

void matmul_dequant(const WeightView& w, const float* x, int64_t n_tokens, float* y, int n_threads) {
    const int64_t n_tiles = (w.n_out + kTileRows - 1) / kTileRows;
#pragma omp parallel num_threads(threads_for(w.n_out * w.n_in * n_tokens, n_threads))
    {
        std::vector<float> tile(size_t(kTileRows * w.n_in));
#pragma omp for schedule(static)
        for (int64_t ti = 0; ti < n_tiles; ++ti) {
            const int64_t r0 = ti * kTileRows;
            const int64_t nr = std::min(kTileRows, w.n_out - r0);
            for (int64_t r = 0; r < nr; ++r)
                R1_CHECK(dequantize_row(w.type, row_ptr(w, r0 + r), tile.data() + r * w.n_in, w.n_in));
            for (int64_t t = 0; t < n_tokens; ++t) {
                const float* xt = x + t * w.n_in;
                float* yt = y + t * w.n_out + r0;
                for (int64_t r = 0; r < nr; ++r) yt[r] = dot8(tile.data() + r * w.n_in, xt, w.n_in);
            }
        }
    }
}

}  // namespace

void matmul(const WeightView& w, const float* x, int64_t n_tokens, float* y, int n_threads) {
    if (w.packed)
        return packed_matmul({.type = w.type, .w = w.data, .x = x, .y = y, .n_out = w.n_out, .n_in = w.n_in,
                              .n_tokens = n_tokens},
                             w.packed, n_threads);
    if (n_tokens >= kGemmMinTokens && gemm_supported(w.type, w.n_in))
        return gemm({.type = w.type, .w = w.data, .x = x, .y = y, .n_out = w.n_out, .n_in = w.n_in,
                     .n_tokens = n_tokens},
                    n_threads);
    const MatvecKernel* k = kernel_for(w);
    if (!k) return matmul_dequant(w, x, n_tokens, y, n_threads);

    // Activations in the kernel's type: float32 as is, or quantized rows (one per token).
    const void* act = x;
    size_t act_row = size_t(w.n_in) * sizeof(float);
    std::vector<uint8_t> quantized;
    if (k->act != GgmlType::F32) {
        const QuantizeKernel* q = find_quantize(k->act);
        act_row = row_bytes(k->act, uint64_t(w.n_in));
        quantized.resize(act_row * size_t(n_tokens));
#pragma omp parallel for schedule(static) num_threads(threads_for(w.n_in * n_tokens, n_threads))
        for (int64_t t = 0; t < n_tokens; ++t) q->kernel(x + t * w.n_in, quantized.data() + size_t(t) * act_row, w.n_in);
        act = quantized.data();
    }
    // Dynamic tiles: in decode the threads stream weights at different speeds, and a static
    // split left one thread waiting at the end of every matmul.
    const int64_t n_tiles = (w.n_out + kVecTileRows - 1) / kVecTileRows;
#pragma omp parallel for schedule(static) num_threads(threads_for(w.n_out * w.n_in * n_tokens, n_threads))
    for (int64_t ti = 0; ti < n_tiles; ++ti) {
        const int64_t r0 = ti * kVecTileRows;
        const int64_t nr = std::min(kVecTileRows, w.n_out - r0);
        for (int64_t t = 0; t < n_tokens; ++t)
            k->kernel({.w = row_ptr(w, r0), .x = static_cast<const uint8_t*>(act) + size_t(t) * act_row,
                       .y = y + t * w.n_out + r0, .n_out = nr, .n_in = w.n_in});
    }
}

void embed(const WeightView& table, std::span<const int32_t> ids, float* y, int n_threads) {
    const int64_t n = int64_t(ids.size());
#pragma omp parallel for schedule(static) num_threads(threads_for(n * table.n_in, n_threads))
    for (int64_t t = 0; t < n; ++t)
        R1_CHECK(dequantize_row(table.type, row_ptr(table, ids[size_t(t)]), y + t * table.n_in, table.n_in));
}

}  // namespace r1::cpu
