// Rotary position embedding in the two GGUF conventions (GGUF.md §3.2) on a view of each head
// (the first n_rot dims, or deepseek2's rope slice), cos/sin read from the context's table
// (backend.h rope_table: computed once per context, YaRN included) at each token's position.
#include "backends/cpu/ops/ops.h"
#include "core/error.h"

namespace r1::cpu {
namespace {

void check(const RopeArgs& a) {
    R1_CHECK(a.x.type == GgmlType::F32 && a.table.type == GgmlType::F32 && a.positions.type == GgmlType::I32);
    R1_CHECK(a.x.ne[0] % 2 == 0 && a.table.ne[0] == 2 && a.table.ne[1] == a.x.ne[0] / 2 && a.table.contiguous());
    R1_CHECK(a.positions.ne[0] == a.x.ne[2] && a.x.ne[3] == 1);
}

// Token t: every head rotated by the angles of its position.
void rope_token(const RopeArgs& a, int64_t t) {
    const int32_t pos = reinterpret_cast<const int32_t*>(at(a.positions))[t];
    R1_CHECK(pos >= 0 && pos < a.table.ne[2]);
    const auto* cs = reinterpret_cast<const float*>(at(a.table, 0, pos));  // (n_rot/2, 2)
    const int64_t half = a.x.ne[0] / 2;
    for (int64_t h = 0; h < a.x.ne[1]; ++h) {
        float* x = reinterpret_cast<float*>(at(a.x, h, t));
        for (int64_t i = 0; i < half; ++i) {
            const int64_t i0 = a.mode == RopeMode::Neox ? i : 2 * i;
            const int64_t i1 = a.mode == RopeMode::Neox ? i + half : 2 * i + 1;
            const float c = cs[2 * i], s = cs[2 * i + 1];
            const float x0 = x[i0], x1 = x[i1];
            x[i0] = x0 * c - x1 * s;
            x[i1] = x0 * s + x1 * c;
        }
    }
}

}  // namespace

void rope_ref(const RopeArgs& a) {
    check(a);
    for (int64_t t = 0; t < a.x.ne[2]; ++t) rope_token(a, t);
}

void rope(const RopeArgs& a, int n_threads) {
    check(a);
#pragma omp parallel for schedule(static) num_threads(threads_for(a.x.ne[2] * a.x.ne[1] * a.x.ne[0] * 4, n_threads))
    for (int64_t t = 0; t < a.x.ne[2]; ++t) rope_token(a, t);
}

}  // namespace r1::cpu
