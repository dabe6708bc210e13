// The OpenAI-compatible API of r1 serve without the transport: turns a request body into a
// SlotRequest (render the chat template, tokenize, check the context, resolve sampling) and
// builds the response bodies, SSE chunks, /v1/models and the Prometheus /metrics text. The
// HTTP server (cli/cmd_serve.cpp) only moves bytes; everything here throws HttpError.
#pragma once

#include <atomic>
#include <cstdint>
#include <mutex>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "runtime/chat/chat.h"
#include "runtime/server/request.h"
#include "runtime/server/scheduler.h"

namespace r1::server {

struct ApiOptions {
    std::string model_id;           // the name /v1/models lists and requests may give
    RequestLimits limits;
    bool split_reasoning = true;    // --reasoning-format deepseek (false: none)
    int32_t think_budget = -1;      // default reasoning budget (-1 unlimited)
    int32_t n_predict = -1;         // default max_tokens (-1: until the context is full)
    SamplingParams sampling;        // defaults for fields a request leaves out
    bool fixed_seed = false;        // a request without `seed` uses sampling.seed (else a random one)
};

enum class Endpoint { Chat, Completion };

// One request, ready for the scheduler.
struct Prepared {
    Endpoint endpoint = Endpoint::Chat;
    SlotRequest slot;
    bool stream = false, include_usage = false;
    std::string id;        // chatcmpl-... / cmpl-...
    int64_t created = 0;   // unix seconds
};

class Api {
public:
    Api(const tokenizer::Tokenizer& tok, chat::ChatTemplate tmpl, int32_t n_ctx, ApiOptions options);

    Prepared prepare_chat(std::string_view body) const;
    Prepared prepare_completion(std::string_view body) const;

    // The whole answer of a non-streamed request.
    nlohmann::json response(const Prepared& p, const std::string& reasoning, const std::string& content,
                            Finish finish, const Usage& usage) const;
    // One SSE event ("data: {...}\n\n") for streamed text; the first chat chunk also says the role.
    std::string chunk(const Prepared& p, std::string_view reasoning, std::string_view content, bool first) const;
    // The last events: finish_reason (+ usage), the usage-only chunk when asked, "data: [DONE]".
    std::string final_chunks(const Prepared& p, Finish finish, const Usage& usage) const;

    nlohmann::json models() const;
    std::string metrics(const SchedulerStats& s) const;
    static std::string error_body(int status, const std::string& type, const std::string& message);

    const ApiOptions& options() const { return options_; }
    // Counted by the HTTP layer.
    mutable std::atomic<uint64_t> n_requests{0}, n_rejected{0};

private:
    void check_model(const std::string& model) const;
    SlotRequest common_slot(const RequestCommon& r, std::vector<int32_t> prompt) const;

    const tokenizer::Tokenizer& tok_;
    chat::ChatTemplate tmpl_;
    mutable std::mutex tmpl_mu_;  // renders one at a time (cheap; the interpreter is not audited for sharing)
    int32_t n_ctx_;
    ApiOptions options_;
    int64_t started_;
};

// Constant-time comparison of an Authorization header with "Bearer <key>".
bool api_key_matches(std::string_view authorization, std::string_view key);

}  // namespace r1::server
