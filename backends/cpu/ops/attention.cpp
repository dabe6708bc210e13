// Causal attention over the KV cache (F32 or F16 rows, K of dk and V of dv values per cell and
// KV head; V may be a view into K's rows; one sequence from cell 0, or several sequences each
// from its own first cell). The threaded op converts each KV head's cached rows to float once
// per block of consecutive query tokens of one sequence (K transposed) and serves every query
// head of that group from them with the SIMD attend_row of backends/cpu; value widths that are
// not a multiple of the vector length use the scalar attend() of the reference.
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

constexpr int64_t kTokenBlock = 32;  // query tokens sharing one conversion of the cached rows

// Cached row (position pos, KV head g) of a K or V tensor {d, n_head_kv, n_kv} as floats.
void load_row(const Tensor& c, int64_t pos, int64_t g, float* dst) {
    const char* p = at(c, g, pos);
    if (c.type == GgmlType::F16) f16_row_to_f32(reinterpret_cast<const uint16_t*>(p), dst, c.ne[0]);
    else std::memcpy(dst, p, size_t(c.ne[0]) * sizeof(float));
}

// One query row against n_pos float K rows (n_pos, dk) and V rows (n_pos, dv) -> out (dv).
void attend(const float* q, const float* k, const float* v, int64_t n_pos, int64_t dk, int64_t dv, float scale,
            float* scores, float* out) {
    float mx = -INFINITY;
    for (int64_t j = 0; j < n_pos; ++j) {
        float s = 0;
        const float* kj = k + j * dk;
        for (int64_t d = 0; d < dk; ++d) s += q[d] * kj[d];
        scores[j] = s * scale;
        mx = std::max(mx, scores[j]);
    }
    float sum = 0;
    for (int64_t j = 0; j < n_pos; ++j) {
        scores[j] = std::exp(scores[j] - mx);
        sum += scores[j];
    }
    std::fill(out, out + dv, 0.0f);
    for (int64_t j = 0; j < n_pos; ++j) {
        const float p = scores[j] / sum;
        const float* vj = v + j * dv;
        for (int64_t d = 0; d < dv; ++d) out[d] += p * vj[d];
    }
}

// Each token's position and the cache cell of its sequence's position 0 (AttentionArgs).
struct TokenCells {
    std::vector<int32_t> pos, cell0;  // (n_tokens)
};

TokenCells cells_of(const AttentionArgs& a) {
    const Tensor& q = a.q;
    R1_CHECK(q.type == GgmlType::F32 && a.out.type == GgmlType::F32 && a.positions.type == GgmlType::I32);
    R1_CHECK(a.k.type == a.v.type && (a.k.type == GgmlType::F16 || a.k.type == GgmlType::F32));
    R1_CHECK(q.ne[0] == a.k.ne[0] && a.out.ne[0] == a.v.ne[0] && a.out.ne[1] == q.ne[1] && a.out.ne[2] == q.ne[2]);
    R1_CHECK(a.k.ne[1] == a.v.ne[1] && a.k.ne[2] == a.v.ne[2] && q.ne[1] % a.k.ne[1] == 0);
    R1_CHECK(a.positions.ne[0] == q.ne[2] && a.seq.empty() == a.seq_cell0.empty());
    const int64_t n = q.ne[2];
    TokenCells c;
    c.pos.assign(reinterpret_cast<const int32_t*>(at(a.positions)), reinterpret_cast<const int32_t*>(at(a.positions)) + n);
    c.cell0.assign(size_t(n), 0);
    if (!a.seq.empty()) {
        R1_CHECK(a.seq.type == GgmlType::I32 && a.seq_cell0.type == GgmlType::I32 && a.seq.ne[0] == n);
        const auto* seq = reinterpret_cast<const int32_t*>(at(a.seq));
        const auto* cell0 = reinterpret_cast<const int32_t*>(at(a.seq_cell0));
        for (int64_t t = 0; t < n; ++t) {
            R1_CHECK(seq[t] >= 0 && seq[t] < a.seq_cell0.ne[0]);
            c.cell0[size_t(t)] = cell0[seq[t]];
        }
    }
    for (int64_t t = 0; t < n; ++t)
        R1_CHECK(c.pos[size_t(t)] >= 0 && c.cell0[size_t(t)] >= 0 &&
                 int64_t(c.cell0[size_t(t)]) + c.pos[size_t(t)] < a.k.ne[2]);
    return c;
}

}  // namespace

void attention_ref(const AttentionArgs& a) {
    const TokenCells c = cells_of(a);
    const int64_t n_head = a.q.ne[1], n_kv_head = a.k.ne[1], group = n_head / n_kv_head;
    const int64_t dk = a.k.ne[0], dv = a.v.ne[0], n_kv = a.k.ne[2];
    std::vector<float> k(static_cast<size_t>(n_kv * dk)), v(static_cast<size_t>(n_kv * dv)), scores(static_cast<size_t>(n_kv));
    for (int64_t t = 0; t < a.q.ne[2]; ++t)
        for (int64_t h = 0; h < n_head; ++h) {
            const int64_t g = h / group, n_pos = c.pos[size_t(t)] + 1, c0 = c.cell0[size_t(t)];
            for (int64_t j = 0; j < n_pos; ++j) {
                load_row(a.k, c0 + j, g, k.data() + j * dk);
                load_row(a.v, c0 + j, g, v.data() + j * dv);
            }
            attend(reinterpret_cast<const float*>(at(a.q, h, t)), k.data(), v.data(), n_pos, dk, dv, a.scale,
                   scores.data(), reinterpret_cast<float*>(at(a.out, h, t)));
        }
}

void attention(const AttentionArgs& a, int n_threads) {
    const TokenCells c = cells_of(a);
    const int64_t n_tokens = a.q.ne[2], n_head = a.q.ne[1], n_kv_head = a.k.ne[1], group = n_head / n_kv_head;
    const int64_t dk = a.k.ne[0], dv = a.v.ne[0];
    // Blocks of up to kTokenBlock consecutive tokens of one sequence share the converted rows.
    struct Block {
        int64_t t0, t1, cell0;
    };
    std::vector<Block> blocks;
    for (int64_t t = 0; t < n_tokens; ++t) {
        const int64_t c0 = c.cell0[size_t(t)];
        if (blocks.empty() || blocks.back().cell0 != c0 || blocks.back().t1 - blocks.back().t0 == kTokenBlock)
            blocks.push_back({t, t, c0});
        blocks.back().t1 = t + 1;
    }
    const int64_t n_items = int64_t(blocks.size()) * n_kv_head;
    const int64_t max_pos = *std::max_element(c.pos.begin(), c.pos.end());
    const int64_t work = n_tokens * n_head * (max_pos + 1) * (dk + dv) / 2;
    const int64_t lanes = attn_lanes();
    const bool simd = dv % lanes == 0;
    const int32_t* pos = c.pos.data();
#pragma omp parallel num_threads(threads_for(work, n_threads))
    {
        std::vector<float> k, v, scores, row(static_cast<size_t>(dk));
#pragma omp for schedule(dynamic, 1)
        for (int64_t item = 0; item < n_items; ++item) {
            const int64_t g = item % n_kv_head;
            const Block& b = blocks[size_t(item / n_kv_head)];
            const int64_t n_all = *std::max_element(pos + b.t0, pos + b.t1) + 1;  // positions the block sees
            // K transposed (dk, ld) for the SIMD path, else rows; V as rows.
            const int64_t ld = simd ? (n_all + lanes - 1) / lanes * lanes : n_all;
            k.resize(std::max(k.size(), size_t(dk * ld)));
            v.resize(std::max(v.size(), size_t(dv * n_all)));
            scores.resize(std::max(scores.size(), size_t(ld)));
            for (int64_t j = 0; j < n_all; ++j) {
                load_row(a.v, b.cell0 + j, g, v.data() + j * dv);
                if (!simd) {
                    load_row(a.k, b.cell0 + j, g, k.data() + j * dk);
                    continue;
                }
                load_row(a.k, b.cell0 + j, g, row.data());
                for (int64_t d = 0; d < dk; ++d) k[size_t(d * ld + j)] = row[size_t(d)];
            }
            for (int64_t t = b.t0; t < b.t1; ++t)
                for (int64_t h = g * group; h < (g + 1) * group; ++h) {
                    const auto* q = reinterpret_cast<const float*>(at(a.q, h, t));
                    auto* out = reinterpret_cast<float*>(at(a.out, h, t));
                    const int64_t n_pos = pos[t] + 1;
                    if (simd)
                        attend_row({.q = q, .kt = k.data(), .v = v.data(), .scores = scores.data(), .out = out,
                                    .n_pos = n_pos, .ld = ld, .k_dim = dk, .v_dim = dv, .scale = a.scale});
                    else
                        attend(q, k.data(), v.data(), n_pos, dk, dv, a.scale, scores.data(), out);
                }
        }
    }
}

}  // namespace r1::cpu
