// generate(): prompt evaluation with prefix reuse, then the sample -> forward loop with
// stop-string holdback (text that could start a stop string is not streamed until decided).
#include "runtime/generate/generate.h"

#include <algorithm>
#include <chrono>

#include "core/error.h"

namespace r1 {
namespace {

double ms_since(std::chrono::steady_clock::time_point t0) {
    return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
}

// Length of the longest suffix of `text` that is a proper prefix of some stop string.
size_t stop_holdback(std::string_view text, const std::vector<std::string>& stop) {
    size_t hold = 0;
    for (const auto& s : stop)
        for (size_t n = std::min(s.size() - 1, text.size()); n > hold; --n)
            if (text.substr(text.size() - n) == std::string_view(s).substr(0, n)) {
                hold = n;
                break;
            }
    return hold;
}

}  // namespace

std::string_view stop_reason_name(StopReason r) {
    switch (r) {
        case StopReason::Eog: return "end of generation";
        case StopReason::Length: return "token limit";
        case StopReason::ContextFull: return "context full";
        case StopReason::StopString: return "stop string";
        case StopReason::Cancelled: return "cancelled";
    }
    return "?";
}

std::vector<float> evaluate_prompt(Model& model, Context& ctx, std::span<const int32_t> prompt, int32_t* n_reused,
                                   const std::function<bool()>& cancel) {
    if (prompt.empty()) fail("the prompt is empty (no tokens)");
    if (int64_t(prompt.size()) > ctx.n_ctx())
        fail("the prompt has {} tokens, more than the context size {} (use -c to enlarge it)", prompt.size(),
             ctx.n_ctx());
    // Keep the cached prefix; at least the last prompt token is evaluated again for its logits.
    const auto& cached = ctx.tokens();
    size_t common = 0;
    while (common < cached.size() && common < prompt.size() && cached[common] == prompt[common]) ++common;
    common = std::min(common, prompt.size() - 1);
    ctx.truncate(int32_t(common));
    if (n_reused) *n_reused = int32_t(common);
    // One batch at a time so that a cancel is seen within one batch's time; only the last
    // batch computes logits.
    const auto rest = prompt.subspan(common);
    const size_t step = size_t(std::max(ctx.n_batch(), 1));
    size_t b0 = 0;
    for (; rest.size() - b0 > step; b0 += step) {
        if (cancel && cancel()) return {};
        model.forward(ctx, rest.subspan(b0, step), Logits::None, {});
    }
    if (cancel && cancel()) return {};
    std::vector<float> logits(size_t(model.info().n_vocab));
    model.forward(ctx, rest.subspan(b0), Logits::Last, logits);
    return logits;
}

GenerateResult generate(Model& model, Context& ctx, const tokenizer::Tokenizer& tok, Sampler& sampler,
                        std::span<const int32_t> prompt, const GenerateOptions& o, const OnText& on_text) {
    for (const auto& s : o.stop)
        if (s.empty()) fail("--stop: a stop string must not be empty");
    GenerateResult res;
    res.n_prompt = int32_t(prompt.size());
    auto t0 = std::chrono::steady_clock::now();
    std::vector<float> logits = evaluate_prompt(model, ctx, prompt, &res.n_reused, o.cancel);
    res.prompt_ms = ms_since(t0);
    if (logits.empty()) {
        res.reason = StopReason::Cancelled;
        return res;
    }
    for (int32_t t : prompt) sampler.accept(t);

    t0 = std::chrono::steady_clock::now();
    tokenizer::Detokenizer detok(tok, o.show_special);
    std::string pending;  // decoded text not yet streamed (held back for stop strings)
    auto emit = [&](std::string_view text, int32_t token) -> bool {
        res.text += text;
        return on_text(text, token);
    };
    res.reason = StopReason::Length;
    while (o.n_predict < 0 || res.n_generated < o.n_predict) {
        const int32_t id = sampler.sample(logits);
        sampler.accept(id);
        if (!o.ignore_eos && tok.is_eog(id)) {
            res.reason = StopReason::Eog;
            break;
        }
        ++res.n_generated;
        res.tokens.push_back(id);
        pending += detok.push(id);
        bool stopped = false;
        for (const auto& s : o.stop)
            if (size_t at = pending.find(s); at != std::string::npos) {
                pending.resize(at);
                stopped = true;
            }
        const size_t hold = stopped ? 0 : stop_holdback(pending, o.stop);
        if (pending.size() > hold) {
            const bool go_on = emit(std::string_view(pending).substr(0, pending.size() - hold), id);
            pending.erase(0, pending.size() - hold);
            if (!go_on) {
                res.reason = StopReason::Cancelled;
                break;
            }
        }
        if (stopped) {
            res.reason = StopReason::StopString;
            break;
        }
        if (o.n_predict >= 0 && res.n_generated >= o.n_predict) break;
        if (o.cancel && o.cancel()) {
            res.reason = StopReason::Cancelled;
            break;
        }
        if (ctx.n_past() >= ctx.n_ctx()) {
            res.reason = StopReason::ContextFull;
            break;
        }
        const int32_t one[1] = {id};
        model.forward(ctx, one, Logits::Last, logits);
    }
    if (res.reason != StopReason::StopString && res.reason != StopReason::Cancelled) {
        pending += detok.flush();
        if (!pending.empty()) emit(pending, -1);
    }
    res.gen_ms = ms_since(t0);
    return res;
}

}  // namespace r1
