// Causal grouped-query attention over the KV cache (F32 or F16 rows of head_dim per
// position and KV head). The threaded op converts each KV head's cached rows to float once
// per block of query tokens (K transposed) and serves every query head of that group from
// them with the SIMD attend_row of backends/cpu; head sizes that are not a multiple of the
// vector length use the scalar attend() of the reference.
#include <algorithm>
#include <cmath>
#include <cstring>
#include <vector>

#include "backends/cpu/kernels.h"
#include "backends/cpu/ops/ops.h"
#include "quant/fp16.h"
#include "core/error.h"

namespace r1::cpu {
namespace {

constexpr int64_t kTokenBlock = 32;  // query tokens sharing one conversion of the cached rows

// Writes one float row (head_dim) into cache slot (pos, g).
void store_row(const AttentionArgs& a, void* base, int32_t pos, int32_t g, const float* src) {
    const size_t idx = (size_t(pos) * size_t(a.n_head_kv) + size_t(g)) * size_t(a.head_dim);
    if (a.cache.type == GgmlType::F16) {
        auto* dst = static_cast<uint16_t*>(base) + idx;
        for (int32_t d = 0; d < a.head_dim; ++d) dst[d] = fp32_to_fp16(src[d]);
    } else {
        std::memcpy(static_cast<float*>(base) + idx, src, size_t(a.head_dim) * sizeof(float));
    }
}

void load_row(const AttentionArgs& a, const void* base, int32_t pos, int32_t g, float* dst) {
    const size_t idx = (size_t(pos) * size_t(a.n_head_kv) + size_t(g)) * size_t(a.head_dim);
    if (a.cache.type == GgmlType::F16) {
        f16_row_to_f32(static_cast<const uint16_t*>(base) + idx, dst, a.head_dim);  // exact, as fp16_to_fp32
    } else {
        std::memcpy(dst, static_cast<const float*>(base) + idx, size_t(a.head_dim) * sizeof(float));
    }
}

void store_kv(const AttentionArgs& a, int64_t t) {
    for (int32_t g = 0; g < a.n_head_kv; ++g) {
        const size_t off = (size_t(t) * size_t(a.n_head_kv) + size_t(g)) * size_t(a.head_dim);
        store_row(a, a.cache.k, a.pos0 + int32_t(t), g, a.k + off);
        store_row(a, a.cache.v, a.pos0 + int32_t(t), g, a.v + off);
    }
}

// One query row against n_pos float K/V rows (n_pos, head_dim) -> out (head_dim).
void attend(const float* q, const float* k, const float* v, int32_t n_pos, int32_t head_dim,
            float scale, float* scores, float* out) {
    float mx = -INFINITY;
    for (int32_t j = 0; j < n_pos; ++j) {
        float s = 0;
        const float* kj = k + size_t(j) * size_t(head_dim);
        for (int32_t d = 0; d < head_dim; ++d) s += q[d] * kj[d];
        scores[j] = s * scale;
        mx = std::max(mx, scores[j]);
    }
    float sum = 0;
    for (int32_t j = 0; j < n_pos; ++j) {
        scores[j] = std::exp(scores[j] - mx);
        sum += scores[j];
    }
    std::fill(out, out + head_dim, 0.0f);
    for (int32_t j = 0; j < n_pos; ++j) {
        const float p = scores[j] / sum;
        const float* vj = v + size_t(j) * size_t(head_dim);
        for (int32_t d = 0; d < head_dim; ++d) out[d] += p * vj[d];
    }
}

}  // namespace

void attention_ref(const AttentionArgs& a) {
    R1_CHECK(a.n_head % a.n_head_kv == 0 && a.pos0 + a.n_tokens <= a.cache.n_ctx);
    for (int64_t t = 0; t < a.n_tokens; ++t) store_kv(a, t);
    const int32_t group = a.n_head / a.n_head_kv;
    const int32_t n_all = a.pos0 + int32_t(a.n_tokens);
    std::vector<float> k(size_t(n_all) * size_t(a.head_dim));
    std::vector<float> v(k.size());
    std::vector<float> scores(static_cast<size_t>(n_all));
    for (int64_t t = 0; t < a.n_tokens; ++t) {
        const int32_t n_pos = a.pos0 + int32_t(t) + 1;
        for (int32_t h = 0; h < a.n_head; ++h) {
            const int32_t g = h / group;
            for (int32_t j = 0; j < n_pos; ++j) {
                load_row(a, a.cache.k, j, g, k.data() + size_t(j) * size_t(a.head_dim));
                load_row(a, a.cache.v, j, g, v.data() + size_t(j) * size_t(a.head_dim));
            }
            const size_t off = (size_t(t) * size_t(a.n_head) + size_t(h)) * size_t(a.head_dim);
            attend(a.q + off, k.data(), v.data(), n_pos, a.head_dim, a.scale, scores.data(), a.out + off);
        }
    }
}

void attention(const AttentionArgs& a, int n_threads) {
    R1_CHECK(a.n_head % a.n_head_kv == 0 && a.pos0 + a.n_tokens <= a.cache.n_ctx);
#pragma omp parallel for schedule(static) num_threads(threads_for(a.n_tokens * a.n_head_kv * a.head_dim, n_threads))
    for (int64_t t = 0; t < a.n_tokens; ++t) store_kv(a, t);

    const int32_t group = a.n_head / a.n_head_kv;
    const int64_t n_blocks = (a.n_tokens + kTokenBlock - 1) / kTokenBlock;
    const int64_t n_items = n_blocks * a.n_head_kv;
    const int64_t work = a.n_tokens * a.n_head * (a.pos0 + a.n_tokens) * a.head_dim;
    const int64_t lanes = attn_lanes();
    const bool simd = a.head_dim % lanes == 0;
    const size_t hd = size_t(a.head_dim);
#pragma omp parallel num_threads(threads_for(work, n_threads))
    {
        std::vector<float> k, v, scores, row(hd);
#pragma omp for schedule(dynamic, 1)
        for (int64_t item = 0; item < n_items; ++item) {
            const int32_t g = int32_t(item % a.n_head_kv);
            const int64_t t0 = (item / a.n_head_kv) * kTokenBlock;
            const int64_t t1 = std::min(a.n_tokens, t0 + kTokenBlock);
            const int32_t n_all = a.pos0 + int32_t(t1);  // positions visible to the block's last token
            // K transposed (head_dim, ld) for the SIMD path, else rows; V as rows.
            const int64_t ld = simd ? (n_all + lanes - 1) / lanes * lanes : n_all;
            k.resize(std::max(k.size(), hd * size_t(ld)));
            v.resize(std::max(v.size(), hd * size_t(n_all)));
            scores.resize(std::max(scores.size(), size_t(ld)));
            for (int32_t j = 0; j < n_all; ++j) {
                load_row(a, a.cache.v, j, g, v.data() + size_t(j) * hd);
                if (!simd) {
                    load_row(a, a.cache.k, j, g, k.data() + size_t(j) * hd);
                    continue;
                }
                load_row(a, a.cache.k, j, g, row.data());
                for (size_t d = 0; d < hd; ++d) k[d * size_t(ld) + size_t(j)] = row[d];
            }
            for (int64_t t = t0; t < t1; ++t)
                for (int32_t h = g * group; h < (g + 1) * group; ++h) {
                    const size_t off = (size_t(t) * size_t(a.n_head) + size_t(h)) * hd;
                    const int32_t n_pos = a.pos0 + int32_t(t) + 1;
                    if (simd)
                        attend_row({.q = a.q + off, .kt = k.data(), .v = v.data(), .scores = scores.data(),
                                    .out = a.out + off, .n_pos = n_pos, .ld = ld, .head_dim = a.head_dim,
                                    .scale = a.scale});
                    else
                        attend(a.q + off, k.data(), v.data(), n_pos, a.head_dim, a.scale, scores.data(), a.out + off);
                }
        }
    }
}

}  // namespace r1::cpu
