// Matrix products on weights of any type with a row codec (2-D, stacked per head, or experts
// chosen per token) and row gathering. The reference dequantizes each row and takes a
// sequential float32 dot product. The threaded op picks one path per call (matmul_path):
// packed VNNI panels, the per-call int8 GEMM, the SIMD matvec kernel of the weight type (the
// activations quantized to its partner type as ggml does) on tiles of rows, or dequantized
// tiles. Tiles are split across threads, never a row.
#include <algorithm>
#include <cstring>
#include <vector>

#include "backends/cpu/kernels.h"
#include "backends/cpu/ops/ops.h"
#include "core/error.h"
#include "quant/types.h"

namespace r1::cpu {
namespace {

constexpr int64_t kTileRows = 16;     // weight rows dequantized together, reused by every token
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

const uint8_t* row_ptr(const Matrix& w, int64_t r) {
    return static_cast<const uint8_t*>(w.data) + size_t(r) * row_bytes(w.type, uint64_t(w.n_in));
}

const MatvecKernel* kernel_for(const Matrix& w) {
    for (const MatvecKernel& k : matvec_kernels())
        if (k.weight == w.type && w.n_in % k.block_size == 0) {
            if (k.act == GgmlType::F32 || find_quantize(k.act)) return &k;
        }
    return nullptr;
}

enum class MatmulPath {
    Packed,   // weights repacked at load (AVX-512 VNNI or AVX2 panels): every batch size
    Gemm,     // panels packed per call: prompts (>= kGemmMinTokens) of the other block types
    Matvec,   // the SIMD matvec kernel of the type, per token, on tiles of rows
    Dequant,  // rows dequantized to float32 tiles (types without a kernel)
};

// The one place that decides how a product runs. Its load-time half, whether a matrix is packed
// at all, is pack_supported() in load_weight (cpu_backend.cpp): AVX2 or AVX-512 VNNI CPUs.
MatmulPath matmul_path(const Matrix& w, int64_t n_tokens) {
    if (w.packed) return MatmulPath::Packed;
    if (n_tokens >= kGemmMinTokens && gemm_supported(w.type, w.n_in)) return MatmulPath::Gemm;
    if (kernel_for(w)) return MatmulPath::Matvec;
    return MatmulPath::Dequant;
}

void matmul_dequant(const Matrix& w, const float* x, int64_t n_tokens, float* y, int n_threads) {
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

void matmul_matvec(const MatvecKernel& k, const Matrix& w, const float* x, int64_t n_tokens, float* y,
                   int n_threads) {
    // Activations in the kernel's type: float32 as is, or quantized rows (one per token).
    const void* act = x;
    size_t act_row = size_t(w.n_in) * sizeof(float);
    std::vector<uint8_t> quantized;
    if (k.act != GgmlType::F32) {
        const QuantizeKernel* q = find_quantize(k.act);
        act_row = row_bytes(k.act, uint64_t(w.n_in));
        quantized.resize(act_row * size_t(n_tokens));
#pragma omp parallel for schedule(static) num_threads(threads_for(w.n_in * n_tokens, n_threads))
        for (int64_t t = 0; t < n_tokens; ++t) q->kernel(x + t * w.n_in, quantized.data() + size_t(t) * act_row, w.n_in);
        act = quantized.data();
    }
    const int64_t n_tiles = (w.n_out + kVecTileRows - 1) / kVecTileRows;
#pragma omp parallel for schedule(static) num_threads(threads_for(w.n_out * w.n_in * n_tokens, n_threads))
    for (int64_t ti = 0; ti < n_tiles; ++ti) {
        const int64_t r0 = ti * kVecTileRows;
        const int64_t nr = std::min(kVecTileRows, w.n_out - r0);
        for (int64_t t = 0; t < n_tokens; ++t)
            k.kernel({.w = row_ptr(w, r0), .x = static_cast<const uint8_t*>(act) + size_t(t) * act_row,
                      .y = y + t * w.n_out + r0, .n_out = nr, .n_in = w.n_in});
    }
}

// Rows of x (n_in each, F32, any strides) gathered into `buf` unless already back to back.
const float* dense_rows(const Tensor& x, std::vector<float>& buf) {
    if (x.contiguous()) return reinterpret_cast<const float*>(at(x));
    const int64_t n = x.n_rows();
    buf.resize(size_t(n * x.ne[0]));
    for (int64_t r = 0; r < n; ++r)
        std::memcpy(buf.data() + r * x.ne[0], row_at(x, r), size_t(x.ne[0]) * sizeof(float));
    return buf.data();
}

void check_matmul(const Tensor& w, const Tensor& x, const Tensor& y) {
    R1_CHECK(x.type == GgmlType::F32 && y.type == GgmlType::F32 && w.ne[3] == 1);
    R1_CHECK(x.ne[0] == w.ne[0] && y.ne[0] == w.ne[1] && y.n_rows() == x.n_rows());
    R1_CHECK(w.ne[2] == 1 || (x.ne[1] == w.ne[2] && y.ne[1] == w.ne[2] && x.ne[3] == 1));
}

}  // namespace

Matrix matrix_of(const Tensor& w, int64_t m) {
    Matrix mat;
    mat.type = w.type;
    mat.n_out = w.ne[1];
    mat.n_in = w.ne[0];
    const char* base = static_cast<const char*>(w.buffer.data) + w.offset + size_t(m) * w.nb[2];
    if (w.layout == kLayoutPacked) mat.packed = base;
    else mat.data = base;
    return mat;
}

void matrix_mul_ref(const Matrix& w, const float* x, int64_t n_tokens, float* y) {
    R1_CHECK(w.data);
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

void matrix_mul(const Matrix& w, const float* x, int64_t n_tokens, float* y, int n_threads) {
    const GemmArgs g{.type = w.type, .w = w.data, .x = x, .y = y, .n_out = w.n_out, .n_in = w.n_in,
                     .n_tokens = n_tokens, .packed = w.packed};
    switch (matmul_path(w, n_tokens)) {
        case MatmulPath::Packed: return packed_matmul(g, n_threads);
        case MatmulPath::Gemm: return gemm(g, n_threads);
        case MatmulPath::Matvec: return matmul_matvec(*kernel_for(w), w, x, n_tokens, y, n_threads);
        case MatmulPath::Dequant: return matmul_dequant(w, x, n_tokens, y, n_threads);
    }
}

void matmul_ref(const Tensor& w, const Tensor& x, const Tensor& y) {
    check_matmul(w, x, y);
    R1_CHECK(w.layout == kLayoutRows);
    std::vector<float> xr(size_t(x.ne[0])), yr(size_t(y.ne[0]));
    for (int64_t r = 0; r < x.n_rows(); ++r) {
        const int64_t m = w.ne[2] == 1 ? 0 : r % x.ne[1];
        std::memcpy(xr.data(), row_at(x, r), xr.size() * sizeof(float));
        matrix_mul_ref(matrix_of(w, m), xr.data(), 1, yr.data());
        std::memcpy(row_at(y, r), yr.data(), yr.size() * sizeof(float));
    }
}

void matmul(const Tensor& w, const Tensor& x, const Tensor& y, int n_threads) {
    check_matmul(w, x, y);
    if (w.ne[2] == 1) {
        std::vector<float> xb, yb;
        const float* xd = dense_rows(x, xb);
        if (y.contiguous()) return matrix_mul(matrix_of(w), xd, x.n_rows(), reinterpret_cast<float*>(at(y)), n_threads);
        yb.resize(size_t(y.n_rows() * y.ne[0]));
        matrix_mul(matrix_of(w), xd, x.n_rows(), yb.data(), n_threads);
        for (int64_t r = 0; r < y.n_rows(); ++r)
            std::memcpy(row_at(y, r), yb.data() + r * y.ne[0], size_t(y.ne[0]) * sizeof(float));
        return;
    }
    // A stack: matrix m takes x[:, m, t] for every t. Small matrices run one per thread.
    const int64_t n_mat = w.ne[2], n_tok = x.ne[2], n_in = w.ne[0], n_out = w.ne[1];
    const bool per_thread = n_in * n_out * n_tok < kParallelWork;
#pragma omp parallel for schedule(static) num_threads(per_thread ? threads_for(n_mat * n_in * n_out * n_tok, n_threads) : 1)
    for (int64_t m = 0; m < n_mat; ++m) {
        std::vector<float> xb(size_t(n_tok * n_in)), yb(size_t(n_tok * n_out));
        for (int64_t t = 0; t < n_tok; ++t)
            std::memcpy(xb.data() + t * n_in, at(x, m, t), size_t(n_in) * sizeof(float));
        matrix_mul(matrix_of(w, m), xb.data(), n_tok, yb.data(), per_thread ? 1 : n_threads);
        for (int64_t t = 0; t < n_tok; ++t)
            std::memcpy(at(y, m, t), yb.data() + t * n_out, size_t(n_out) * sizeof(float));
    }
}

namespace {

void check_matmul_id(const Tensor& w, const Tensor& x, const Tensor& ids, const Tensor& y) {
    R1_CHECK(x.type == GgmlType::F32 && y.type == GgmlType::F32 && ids.type == GgmlType::I32);
    R1_CHECK(x.ne[0] == w.ne[0] && y.ne[0] == w.ne[1] && y.ne[1] == ids.ne[0] && y.ne[2] == ids.ne[1]);
    R1_CHECK((x.ne[1] == 1 || x.ne[1] == ids.ne[0]) && x.ne[2] == ids.ne[1]);
}

int32_t expert_at(const Tensor& ids, const Tensor& w, int64_t k, int64_t t) {
    const int32_t e = *reinterpret_cast<const int32_t*>(at(ids, t) + size_t(k) * ids.nb[0]);
    R1_CHECK(e >= 0 && e < w.ne[2]);
    return e;
}

}  // namespace

void matmul_id_ref(const Tensor& w, const Tensor& x, const Tensor& ids, const Tensor& y) {
    check_matmul_id(w, x, ids, y);
    R1_CHECK(w.layout == kLayoutRows);
    std::vector<float> xr(size_t(x.ne[0])), yr(size_t(y.ne[0]));
    for (int64_t t = 0; t < ids.ne[1]; ++t)
        for (int64_t k = 0; k < ids.ne[0]; ++k) {
            std::memcpy(xr.data(), at(x, x.ne[1] == 1 ? 0 : k, t), xr.size() * sizeof(float));
            matrix_mul_ref(matrix_of(w, expert_at(ids, w, k, t)), xr.data(), 1, yr.data());
            std::memcpy(at(y, k, t), yr.data(), yr.size() * sizeof(float));
        }
}

// The (token, slot) pairs grouped by expert; each expert's rows gathered and multiplied once.
void matmul_id(const Tensor& w, const Tensor& x, const Tensor& ids, const Tensor& y, int n_threads) {
    check_matmul_id(w, x, ids, y);
    const int64_t n_used = ids.ne[0], n_tok = ids.ne[1], n_in = w.ne[0], n_out = w.ne[1];
    std::vector<std::vector<std::pair<int64_t, int64_t>>> by_expert(size_t(w.ne[2]));
    for (int64_t t = 0; t < n_tok; ++t)
        for (int64_t k = 0; k < n_used; ++k) by_expert[size_t(expert_at(ids, w, k, t))].push_back({k, t});
    std::vector<float> xb, yb;
    for (int64_t e = 0; e < w.ne[2]; ++e) {
        const auto& pairs = by_expert[size_t(e)];
        if (pairs.empty()) continue;
        const int64_t n = int64_t(pairs.size());
        xb.resize(size_t(n * n_in));
        yb.resize(size_t(n * n_out));
        for (int64_t i = 0; i < n; ++i)
            std::memcpy(xb.data() + i * n_in, at(x, x.ne[1] == 1 ? 0 : pairs[size_t(i)].first, pairs[size_t(i)].second),
                        size_t(n_in) * sizeof(float));
        matrix_mul(matrix_of(w, e), xb.data(), n, yb.data(), n_threads);
        for (int64_t i = 0; i < n; ++i)
            std::memcpy(at(y, pairs[size_t(i)].first, pairs[size_t(i)].second), yb.data() + i * n_out,
                        size_t(n_out) * sizeof(float));
    }
}

void get_rows_ref(const Tensor& table, const Tensor& ids, const Tensor& y) { get_rows(table, ids, y, 1); }

void get_rows(const Tensor& table, const Tensor& ids, const Tensor& y, int n_threads) {
    R1_CHECK(table.layout == kLayoutRows && ids.type == GgmlType::I32 && y.type == GgmlType::F32);
    R1_CHECK(y.ne[0] == table.ne[0] && y.n_rows() == ids.ne[0]);
    const int64_t n = ids.ne[0];
    const auto* id = reinterpret_cast<const int32_t*>(at(ids));
#pragma omp parallel for schedule(static) num_threads(threads_for(n * table.ne[0], n_threads))
    for (int64_t t = 0; t < n; ++t) {
        R1_CHECK(id[t] >= 0 && id[t] < table.ne[1]);
        R1_CHECK(dequantize_row(table.type, at(table, id[t]), reinterpret_cast<float*>(row_at(y, t)), table.ne[0]));
    }
}

}  // namespace r1::cpu
