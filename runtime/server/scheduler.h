// Continuous batching for r1 serve: N slots, each with its own Context (KV cache), stepped by
// one scheduler thread. Each step evaluates, for every busy slot, either the next chunk of its
// prompt (at most n_batch tokens, so a long prompt does not stall the others) or its last
// sampled token, then samples the slots whose input is done. New requests join at the next
// step, on the free slot whose cache shares the longest prefix with their prompt. A slot's
// tokens depend only on its own request, so a request's output is the same whatever else runs.
// All model evaluation of a step goes through decode_step(), the one place a multi-sequence
// forward (one pass over every slot's tokens) will replace the per-slot loop.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "runtime/model/model.h"
#include "runtime/sampling/sampler.h"
#include "runtime/tokenizer/tokenizer.h"

namespace r1::server {

// One generation as the scheduler runs it; the HTTP layer has rendered and tokenized it.
struct SlotRequest {
    std::vector<int32_t> prompt;        // checked by the caller: 1 <= size < n_ctx
    SamplingParams sampling;
    int32_t n_predict = -1;             // most sampled tokens; -1: until the context is full
    std::vector<std::string> stop;
    bool ignore_eos = false;
    bool split_reasoning = false;       // reasoning_content / content (else all is content)
    bool starts_in_reasoning = false;   // the prompt ends inside <think>
    int32_t think_budget = -1;          // reasoning tokens before the wrap-up; -1 unlimited
};

enum class Finish { None, Stop, Length, Cancelled, Error };
const char* finish_reason(Finish f);  // "stop", "length", ... as OpenAI spells them

struct Usage {
    int32_t prompt_tokens = 0;      // the prompt (with any suffix the server appended)
    int32_t completion_tokens = 0;  // sampled tokens (an end-of-generation token excluded)
    int32_t cached_tokens = 0;      // prompt tokens reused from the slot's cache
};

// What a Job has produced since the consumer last asked.
struct JobUpdate {
    std::string reasoning, content;
    Finish finish = Finish::None;  // set once, with the last text
    Usage usage;
    std::string error;             // Finish::Error: why
};

// The channel between one request's HTTP thread (consumer) and the scheduler (producer).
class Job {
public:
    // Blocks until there is text or the end, or `timeout` passes (then the update is empty).
    JobUpdate next(std::chrono::milliseconds timeout);
    // The client is gone: the scheduler frees the slot at its next step.
    void cancel() { cancelled_ = true; }
    bool cancelled() const { return cancelled_; }

    // Scheduler side.
    void emit(std::string_view reasoning, std::string_view content);
    void finish(Finish f, const Usage& usage, std::string error = {});

private:
    std::mutex mu_;
    std::condition_variable cv_;
    JobUpdate pending_;
    bool done_ = false, delivered_done_ = false;
    std::atomic<bool> cancelled_{false};
};

struct SchedulerOptions {
    int32_t n_slots = 1;
    ContextOptions context;  // per slot; n_batch is also the prompt chunk per step
    int32_t max_queue = 64;  // requests waiting for a slot; more: submit() refuses
};

struct SchedulerStats {
    int32_t n_slots = 0, slots_busy = 0, queued = 0;
    uint64_t requests_done = 0, prompt_tokens = 0, prompt_tokens_evaluated = 0, generated_tokens = 0;
    double prompt_seconds = 0, decode_seconds = 0;  // wall time of steps that evaluated prompts / decoded
};

class Scheduler {
public:
    // Allocates every slot's context (r1::Error when memory or n_ctx is wrong), starts the thread.
    Scheduler(Model& model, const tokenizer::Tokenizer& tok, const SchedulerOptions& options);
    ~Scheduler();  // stop()
    // Finishes every running and queued job as Cancelled and joins the thread; idempotent.
    void stop();
    Scheduler(const Scheduler&) = delete;
    Scheduler& operator=(const Scheduler&) = delete;

    int32_t n_ctx() const { return n_ctx_; }
    // Queues a request; nullptr when max_queue requests are already waiting.
    std::shared_ptr<Job> submit(SlotRequest request);
    SchedulerStats stats() const;

private:
    struct Slot;
    void loop();
    void admit();
    void step();
    // Evaluates each listed slot's next input span into its logits (the batching seam).
    void decode_step(const std::vector<Slot*>& slots);
    void start(Slot& slot);
    void on_token(Slot& slot, int32_t token);
    void release(Slot& slot, Finish f, std::string error = {});

    Model& model_;
    const tokenizer::Tokenizer& tok_;
    SchedulerOptions options_;
    int32_t n_ctx_ = 0;
    std::vector<int32_t> wrap_up_;  // tokens that close an over-budget reasoning
    std::vector<std::unique_ptr<Slot>> slots_;

    mutable std::mutex mu_;
    std::condition_variable cv_;
    std::deque<std::pair<SlotRequest, std::shared_ptr<Job>>> queue_;
    bool stop_ = false;
    SchedulerStats stats_;  // counters; under mu_
    std::mutex join_mu_;
    std::thread thread_;
};

}  // namespace r1::server
