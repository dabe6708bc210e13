// Sampler: penalties, greedy or the top-k / top-p / min-p / temperature chain, seeded draw.
#include "runtime/sampling/sampler.h"

#include <algorithm>
#include <cmath>
#include <unordered_map>

#include "core/error.h"

namespace r1 {

SamplingParams r1_sampling_defaults() {
    SamplingParams p;
    p.temp = 0.6f;
    p.top_p = 0.95f;
    p.top_k = 0;
    p.min_p = 0.0f;
    return p;
}

void validate(const SamplingParams& p) {
    auto finite = [](float x, const char* flag) {
        if (!std::isfinite(x)) fail("{}: must be a finite number, got {}", flag, x);
    };
    finite(p.temp, "--temp");
    finite(p.top_p, "--top-p");
    finite(p.min_p, "--min-p");
    finite(p.repeat_penalty, "--repeat-penalty");
    finite(p.presence_penalty, "--presence-penalty");
    finite(p.frequency_penalty, "--frequency-penalty");
    if (p.temp < 0) fail("--temp: must be >= 0, got {}", p.temp);
    if (p.top_p < 0 || p.top_p > 1) fail("--top-p: must be in [0, 1], got {}", p.top_p);
    if (p.min_p < 0 || p.min_p > 1) fail("--min-p: must be in [0, 1], got {}", p.min_p);
    if (p.top_k < 0) fail("--top-k: must be >= 0, got {}", p.top_k);
    if (p.repeat_penalty <= 0) fail("--repeat-penalty: must be > 0, got {}", p.repeat_penalty);
    if (p.repeat_last_n < -1) fail("--repeat-last-n: must be >= -1, got {}", p.repeat_last_n);
}

Sampler::Sampler(const SamplingParams& params, int32_t n_vocab) : p_(params), n_vocab_(n_vocab), rng_(params.seed) {
    validate(p_);
}

void Sampler::reset() {
    history_.clear();
    rng_.seed(p_.seed);
}

void Sampler::accept(int32_t token) {
    if (p_.repeat_last_n == 0) return;
    history_.push_back(token);
    if (p_.repeat_last_n > 0 && int32_t(history_.size()) > p_.repeat_last_n) history_.pop_front();
}

double Sampler::uniform() { return double(rng_() >> 11) * 0x1.0p-53; }

int32_t Sampler::sample(std::span<const float> logits) {
    cand_.resize(size_t(n_vocab_));
    for (int32_t i = 0; i < n_vocab_; ++i) cand_[size_t(i)] = {i, logits[size_t(i)]};

    // 1. Penalties over the recent window.
    const bool penalize = p_.repeat_penalty != 1.0f || p_.presence_penalty != 0.0f || p_.frequency_penalty != 0.0f;
    if (penalize && !history_.empty()) {
        std::unordered_map<int32_t, int32_t> count;
        for (int32_t t : history_) ++count[t];
        for (auto [id, n] : count) {
            if (id < 0 || id >= n_vocab_) continue;
            float& l = cand_[size_t(id)].logit;
            l = l > 0 ? l / p_.repeat_penalty : l * p_.repeat_penalty;
            l -= float(n) * p_.frequency_penalty + p_.presence_penalty;
        }
    }

    // 2. Greedy: the largest logit, first index on ties.
    if (p_.temp <= 0) {
        size_t best = 0;
        for (size_t i = 1; i < cand_.size(); ++i)
            if (cand_[i].logit > cand_[best].logit) best = i;
        return cand_[best].id;
    }

    // 3. Sort by logit (ties by id, so the order is total); top-k keeps the k best.
    auto better = [](const Candidate& a, const Candidate& b) {
        return a.logit > b.logit || (a.logit == b.logit && a.id < b.id);
    };
    size_t n = cand_.size();
    if (p_.top_k > 0 && size_t(p_.top_k) < n) {
        std::partial_sort(cand_.begin(), cand_.begin() + p_.top_k, cand_.end(), better);
        n = size_t(p_.top_k);
    } else {
        std::sort(cand_.begin(), cand_.end(), better);
    }

    // 4. Probabilities of the survivors (softmax, untempered), then top-p and min-p cuts.
    std::vector<double> prob(n);
    double sum = 0;
    for (size_t i = 0; i < n; ++i) sum += prob[i] = std::exp(double(cand_[i].logit) - double(cand_[0].logit));
    if (p_.top_p < 1.0f) {
        double cum = 0;
        for (size_t i = 0; i < n; ++i) {
            cum += prob[i] / sum;
            if (cum >= p_.top_p) {
                n = i + 1;
                break;
            }
        }
    }
    if (p_.min_p > 0.0f) {
        size_t keep = 1;
        while (keep < n && prob[keep] >= p_.min_p * prob[0]) ++keep;  // prob[0] is the largest
        n = keep;
    }

    // 5. Temperature on the kept logits, then one draw.
    std::vector<double> w(n);
    double total = 0;
    for (size_t i = 0; i < n; ++i)
        total += w[i] = std::exp((double(cand_[i].logit) - double(cand_[0].logit)) / double(p_.temp));
    double r = uniform() * total;
    for (size_t i = 0; i < n; ++i) {
        r -= w[i];
        if (r < 0) return cand_[i].id;
    }
    return cand_[n - 1].id;
}

}  // namespace r1
