// MoE routing (GGUF.md §5.2): gating scores, group-limited top-k on the bias-shifted scores,
// weights from the unbiased scores, normalized and scaled. One token per task; a token's
// selection is sequential, so results do not depend on the thread count.
#include <algorithm>
#include <cmath>
#include <numeric>
#include <vector>

#include "backends/cpu/ops/ops.h"
#include "core/error.h"

namespace r1::cpu {
namespace {

void check(const MoeRouteArgs& a) {
    const int64_t n_expert = a.logits.ne[0], n_tok = a.logits.ne[1];
    R1_CHECK(a.logits.type == GgmlType::F32 && a.ids.type == GgmlType::I32 && a.weights.type == GgmlType::F32);
    R1_CHECK(a.ids.ne[1] == n_tok && a.weights.ne[1] == n_tok && a.ids.ne[0] == a.weights.ne[0]);
    R1_CHECK(a.ids.ne[0] >= 1 && a.ids.ne[0] <= n_expert);
    R1_CHECK(a.bias.empty() || (a.bias.type == GgmlType::F32 && a.bias.ne[0] == n_expert));
    R1_CHECK(a.n_group >= 1 && n_expert % a.n_group == 0 && a.n_group_used >= 1 && a.n_group_used <= a.n_group);
    R1_CHECK(a.n_group == 1 || a.ids.ne[0] <= a.n_group_used * (n_expert / a.n_group));
}

// Indices of the n largest of v (descending; the lower index first on ties), among `allowed`.
void top_n(const std::vector<float>& v, const std::vector<bool>& allowed, int64_t n, std::vector<int32_t>& out) {
    out.clear();
    for (int32_t i = 0; i < int32_t(v.size()); ++i)
        if (allowed[size_t(i)]) out.push_back(i);
    std::stable_sort(out.begin(), out.end(), [&](int32_t p, int32_t q) { return v[size_t(p)] > v[size_t(q)]; });
    out.resize(size_t(n));
}

void route_token(const MoeRouteArgs& a, int64_t t) {
    const int64_t n_expert = a.logits.ne[0], n_used = a.ids.ne[0];
    const auto* logits = reinterpret_cast<const float*>(at(a.logits, t));
    std::vector<float> s(static_cast<size_t>(n_expert)), sel(static_cast<size_t>(n_expert));
    if (a.gating == Gating::Sigmoid) {
        for (int64_t e = 0; e < n_expert; ++e) s[size_t(e)] = 1.0f / (1.0f + std::exp(-logits[e]));
    } else {
        const float mx = *std::max_element(logits, logits + n_expert);
        double sum = 0;
        for (int64_t e = 0; e < n_expert; ++e) sum += s[size_t(e)] = std::exp(logits[e] - mx);
        for (auto& x : s) x = float(x / sum);
    }
    const auto* bias = a.bias.empty() ? nullptr : reinterpret_cast<const float*>(at(a.bias));
    for (int64_t e = 0; e < n_expert; ++e) sel[size_t(e)] = s[size_t(e)] + (bias ? bias[e] : 0.0f);

    std::vector<bool> allowed(size_t(n_expert), true);
    std::vector<int32_t> picked;
    if (a.n_group > 1) {  // group score: the sum of its two best selection scores
        const int64_t per = n_expert / a.n_group;
        std::vector<float> gscore(size_t(a.n_group));
        for (int64_t g = 0; g < a.n_group; ++g) {
            std::vector<float> in(sel.begin() + g * per, sel.begin() + (g + 1) * per);
            std::partial_sort(in.begin(), in.begin() + std::min<int64_t>(2, per), in.end(), std::greater<float>());
            gscore[size_t(g)] = in[0] + (per > 1 ? in[1] : 0.0f);
        }
        top_n(gscore, std::vector<bool>(size_t(a.n_group), true), a.n_group_used, picked);
        std::fill(allowed.begin(), allowed.end(), false);
        for (int32_t g : picked) std::fill(allowed.begin() + g * per, allowed.begin() + (g + 1) * per, true);
    }
    top_n(sel, allowed, n_used, picked);

    auto* ids = reinterpret_cast<int32_t*>(at(a.ids, t));
    auto* w = reinterpret_cast<float*>(at(a.weights, t));
    double sum = 0;
    for (int64_t k = 0; k < n_used; ++k) sum += s[size_t(picked[size_t(k)])];
    const double inv = a.norm ? 1.0 / std::max(sum, 6.103515625e-5) : 1.0;  // llama.cpp's clamp
    for (int64_t k = 0; k < n_used; ++k) {
        ids[k] = picked[size_t(k)];
        w[k] = float(double(s[size_t(picked[size_t(k)])]) * inv * double(a.scale));
    }
}

}  // namespace

void moe_route_ref(const MoeRouteArgs& a) {
    check(a);
    for (int64_t t = 0; t < a.logits.ne[1]; ++t) route_token(a, t);
}

void moe_route(const MoeRouteArgs& a, int n_threads) {
    check(a);
#pragma omp parallel for schedule(static) num_threads(threads_for(a.logits.ne[1] * a.logits.ne[0] * 16, n_threads))
    for (int64_t t = 0; t < a.logits.ne[1]; ++t) route_token(a, t);
}

}  // namespace r1::cpu
