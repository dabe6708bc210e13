// The scheduler thread: admit queued requests to free slots (longest cached prefix first),
// evaluate one step for every busy slot, sample, stream text through the stop and reasoning
// filters into each request's Job.
#include "runtime/server/scheduler.h"

#include <algorithm>
#include <optional>

#include "core/error.h"
#include "runtime/server/text_stream.h"

namespace r1::server {
namespace {

// Appended when a reasoning budget runs out: closes the thinking so the model answers (as
// `r1 chat --think-budget` does).
constexpr std::string_view kThinkWrapUp = "\n\nTime is up; I will answer now.\n</think>\n\n";

size_t common_prefix(const std::vector<int32_t>& a, const std::vector<int32_t>& b) {
    size_t n = 0;
    while (n < a.size() && n < b.size() && a[n] == b[n]) ++n;
    return n;
}

}  // namespace

const char* finish_reason(Finish f) {
    switch (f) {
        case Finish::Stop: return "stop";
        case Finish::Length: return "length";
        case Finish::Cancelled: return "cancelled";
        case Finish::Error: return "error";
        case Finish::None: break;
    }
    return "none";
}

JobUpdate Job::next(std::chrono::milliseconds timeout) {
    std::unique_lock lk(mu_);
    cv_.wait_for(lk, timeout, [&] {
        return !pending_.reasoning.empty() || !pending_.content.empty() || (done_ && !delivered_done_);
    });
    JobUpdate out = std::move(pending_);
    pending_ = {};
    if (done_ && !delivered_done_) delivered_done_ = true;
    else out.finish = Finish::None;
    return out;
}

void Job::emit(std::string_view reasoning, std::string_view content) {
    if (reasoning.empty() && content.empty()) return;
    {
        std::lock_guard lk(mu_);
        pending_.reasoning += reasoning;
        pending_.content += content;
    }
    cv_.notify_all();
}

void Job::finish(Finish f, const Usage& usage, std::string error) {
    {
        std::lock_guard lk(mu_);
        pending_.finish = f;
        pending_.usage = usage;
        pending_.error = std::move(error);
        done_ = true;
    }
    cv_.notify_all();
}

struct Scheduler::Slot {
    std::unique_ptr<Context> ctx;
    std::shared_ptr<Job> job;  // null: free
    SlotRequest req;
    std::optional<Sampler> sampler;
    std::optional<tokenizer::Detokenizer> detok;
    std::optional<StopMatcher> stops;
    std::optional<ReasoningSplitter> split;
    std::vector<int32_t> input;  // tokens still to evaluate: the prompt's tail, or the last sampled token
    size_t input_pos = 0;        // evaluated so far
    size_t chunk = 0;            // tokens evaluated in this step
    std::vector<float> logits;   // (n_vocab) of the last evaluated token
    int32_t n_generated = 0, n_think = 0;
    Usage usage;
    uint64_t last_used = 0;
};

Scheduler::Scheduler(Model& model, const tokenizer::Tokenizer& tok, const SchedulerOptions& options)
    : model_(model), tok_(tok), options_(options) {
    if (options.n_slots < 1 || options.n_slots > 256) fail("--parallel {}: must be in [1, 256]", options.n_slots);
    if (options.max_queue < 0) fail("--max-queue {}: must be >= 0", options.max_queue);
    for (int32_t i = 0; i < options.n_slots; ++i) {
        auto s = std::make_unique<Slot>();
        s->ctx = model.new_context(options.context);
        s->logits.resize(size_t(model.info().n_vocab));
        slots_.push_back(std::move(s));
    }
    n_ctx_ = slots_[0]->ctx->n_ctx();
    wrap_up_ = tok.encode(kThinkWrapUp, false, true);
    stats_.n_slots = options.n_slots;
    thread_ = std::thread([this] { loop(); });
}

Scheduler::~Scheduler() { stop(); }

void Scheduler::stop() {
    {
        std::lock_guard lk(mu_);
        stop_ = true;
    }
    cv_.notify_all();
    std::lock_guard lk(join_mu_);
    if (thread_.joinable()) thread_.join();
}

std::shared_ptr<Job> Scheduler::submit(SlotRequest request) {
    R1_CHECK(!request.prompt.empty() && int64_t(request.prompt.size()) < n_ctx_);
    auto job = std::make_shared<Job>();
    {
        std::lock_guard lk(mu_);
        if (stop_) return nullptr;
        // Busy slots plus waiting requests: beyond the slots, at most max_queue may wait.
        if (stats_.slots_busy + int32_t(queue_.size()) >= options_.n_slots + options_.max_queue) return nullptr;
        queue_.emplace_back(std::move(request), job);
        stats_.queued = int32_t(queue_.size());
    }
    cv_.notify_all();
    return job;
}

SchedulerStats Scheduler::stats() const {
    std::lock_guard lk(mu_);
    return stats_;
}

void Scheduler::loop() {
    for (;;) {
        {
            std::unique_lock lk(mu_);
            cv_.wait(lk, [&] { return stop_ || !queue_.empty() || stats_.slots_busy > 0; });
            if (stop_) break;
        }
        admit();
        step();
    }
    for (auto& s : slots_)
        if (s->job) release(*s, Finish::Cancelled);
    std::lock_guard lk(mu_);
    for (auto& [req, job] : queue_) job->finish(Finish::Cancelled, {});
    queue_.clear();
}

void Scheduler::admit() {
    static uint64_t clock = 0;
    for (;;) {
        Slot* best = nullptr;
        {
            std::lock_guard lk(mu_);
            if (queue_.empty()) return;
            const auto& prompt = queue_.front().first.prompt;
            size_t best_common = 0;
            for (auto& s : slots_) {
                if (s->job) continue;
                const size_t c = common_prefix(s->ctx->tokens(), prompt);
                if (!best || c > best_common || (c == best_common && s->last_used < best->last_used)) {
                    best = s.get();
                    best_common = c;
                }
            }
            if (!best) return;
            best->req = std::move(queue_.front().first);
            best->job = std::move(queue_.front().second);
            queue_.pop_front();
            stats_.queued = int32_t(queue_.size());
            ++stats_.slots_busy;
        }
        best->last_used = ++clock;
        start(*best);
    }
}

void Scheduler::start(Slot& s) {
    const auto& prompt = s.req.prompt;
    // Keep the cached prefix; at least the last prompt token is evaluated again for its logits.
    const size_t common = std::min(common_prefix(s.ctx->tokens(), prompt), prompt.size() - 1);
    s.ctx->truncate(int32_t(common));
    s.input.assign(prompt.begin() + ptrdiff_t(common), prompt.end());
    s.input_pos = 0;
    s.sampler.emplace(s.req.sampling, model_.info().n_vocab);
    for (int32_t t : prompt) s.sampler->accept(t);
    s.detok.emplace(tok_, false);
    s.stops.emplace(s.req.stop);
    s.split.emplace(s.req.starts_in_reasoning);
    s.n_generated = s.n_think = 0;
    s.usage = {.prompt_tokens = int32_t(prompt.size()), .completion_tokens = 0, .cached_tokens = int32_t(common)};
    std::lock_guard lk(mu_);
    stats_.prompt_tokens += prompt.size();
    stats_.prompt_tokens_evaluated += prompt.size() - common;
}

void Scheduler::release(Slot& s, Finish f, std::string error) {
    if (f == Finish::Error) s.ctx->clear();  // a failed pass may have left the cache half-written
    s.job->finish(f, s.usage, std::move(error));
    s.job.reset();
    std::lock_guard lk(mu_);
    --stats_.slots_busy;
    ++stats_.requests_done;
    stats_.generated_tokens += uint64_t(s.usage.completion_tokens);
}

void Scheduler::decode_step(const std::vector<Slot*>& slots) {
    // One forward per slot for now; a multi-sequence forward would take all spans in one pass.
    for (Slot* s : slots) {
        try {
            model_.forward(*s->ctx, std::span(s->input).subspan(s->input_pos, s->chunk), Logits::Last, s->logits);
            s->input_pos += s->chunk;
        } catch (const std::exception& e) {
            release(*s, Finish::Error, e.what());
        }
    }
}

void Scheduler::step() {
    const auto t0 = std::chrono::steady_clock::now();
    std::vector<Slot*> work;
    for (auto& sp : slots_) {
        Slot& s = *sp;
        if (!s.job) continue;
        if (s.job->cancelled()) {
            release(s, Finish::Cancelled);
            continue;
        }
        R1_CHECK(s.input_pos < s.input.size());
        s.chunk = std::min(s.input.size() - s.input_pos, size_t(s.ctx->n_batch()));
        work.push_back(&s);
    }
    if (work.empty()) return;
    decode_step(work);
    for (Slot* s : work) {
        if (!s->job || s->input_pos < s->input.size()) continue;  // failed, or prompt not finished
        if (s->req.n_predict >= 0 && s->n_generated >= s->req.n_predict) {
            release(*s, Finish::Length);
            continue;
        }
        const int32_t id = s->sampler->sample(s->logits);
        s->sampler->accept(id);
        on_token(*s, id);
    }
    const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    std::lock_guard lk(mu_);
    stats_.decode_seconds += secs;
}

void Scheduler::on_token(Slot& s, int32_t id) {
    // Raw text -> stop strings -> reasoning split -> the job.
    auto emit = [&](std::string_view raw) {
        std::string text = s.stops->push(raw);
        Split part = s.split->push(text);
        if (s.stops->stopped()) {
            Split rest = s.split->flush();
            part.reasoning += rest.reasoning;
            part.content += rest.content;
        }
        if (s.req.split_reasoning) s.job->emit(part.reasoning, part.content);
        else s.job->emit({}, text);
    };
    auto finish_text = [&] {
        std::string tail = s.detok->flush();
        if (!s.stops->stopped()) {
            std::string text = s.stops->push(tail);
            if (!s.stops->stopped()) text += s.stops->flush();
            Split part = s.split->push(text);
            Split rest = s.split->flush();
            if (s.req.split_reasoning) s.job->emit(part.reasoning + rest.reasoning, part.content + rest.content);
            else s.job->emit({}, text);
        }
    };

    if (!s.req.ignore_eos && tok_.is_eog(id)) {
        finish_text();
        release(s, Finish::Stop);
        return;
    }
    ++s.n_generated;
    ++s.usage.completion_tokens;
    const bool thinking = s.split->in_reasoning();
    emit(s.detok->push(id));
    if (s.stops->stopped()) {
        release(s, Finish::Stop);
        return;
    }
    if (s.req.n_predict >= 0 && s.n_generated >= s.req.n_predict) {
        finish_text();
        release(s, Finish::Length);
        return;
    }
    s.input.assign(1, id);
    s.input_pos = 0;
    if (thinking && s.split->in_reasoning() && s.req.think_budget >= 0 && ++s.n_think >= s.req.think_budget) {
        s.input.insert(s.input.end(), wrap_up_.begin(), wrap_up_.end());
        emit(kThinkWrapUp);
        if (s.stops->stopped()) {
            release(s, Finish::Stop);
            return;
        }
    }
    if (s.ctx->n_past() + int64_t(s.input.size()) > s.ctx->n_ctx()) {
        finish_text();
        release(s, Finish::Length);
    }
}

}  // namespace r1::server
