// Api: request -> SlotRequest, and the OpenAI response shapes (chat.completion,
// chat.completion.chunk, text_completion) with reasoning_content beside content.
#include "runtime/server/api.h"

#include <chrono>
#include <random>

#include <fmt/format.h>

#include "core/error.h"

namespace r1::server {
namespace {

using nlohmann::json;

int64_t unix_now() {
    return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
}

std::string new_id(std::string_view prefix) {
    static std::atomic<uint64_t> counter{0};
    thread_local std::mt19937_64 rng{std::random_device{}()};
    return fmt::format("{}{:012x}{:04x}", prefix, rng() & 0xffffffffffffull, (counter++) & 0xffff);
}

json usage_json(const Usage& u) {
    return {{"prompt_tokens", u.prompt_tokens},
            {"completion_tokens", u.completion_tokens},
            {"total_tokens", u.prompt_tokens + u.completion_tokens},
            {"prompt_tokens_details", {{"cached_tokens", u.cached_tokens}}}};
}

std::string sse(const json& j) { return "data: " + j.dump(-1, ' ', false, json::error_handler_t::replace) + "\n\n"; }

}  // namespace

bool api_key_matches(std::string_view authorization, std::string_view key) {
    constexpr std::string_view kBearer = "Bearer ";
    // Compare every byte of the longer text so the time does not depend on where they differ.
    const std::string want = std::string(kBearer) + std::string(key);
    const size_t n = std::max(want.size(), authorization.size());
    unsigned diff = unsigned(want.size() != authorization.size());
    for (size_t i = 0; i < n; ++i) {
        const unsigned char a = i < authorization.size() ? authorization[i] : 0;
        const unsigned char b = i < want.size() ? want[i] : 0;
        diff |= unsigned(a ^ b);
    }
    return diff == 0;
}

Api::Api(const tokenizer::Tokenizer& tok, chat::ChatTemplate tmpl, int32_t n_ctx, ApiOptions options)
    : tok_(tok), tmpl_(std::move(tmpl)), n_ctx_(n_ctx), options_(std::move(options)), started_(unix_now()) {}

void Api::check_model(const std::string& model) const {
    if (!model.empty() && model != options_.model_id)
        throw HttpError(404, "not_found_error",
                        fmt::format("model '{}' not found; this server serves '{}'", model, options_.model_id));
}

SlotRequest Api::common_slot(const RequestCommon& r, std::vector<int32_t> prompt) const {
    const int64_t n_prompt = int64_t(prompt.size());
    if (n_prompt == 0) bad_request("the prompt is empty (no tokens)");
    if (n_prompt >= n_ctx_)
        throw HttpError(400, "exceed_context_size_error",
                        fmt::format("the prompt has {} tokens but the context holds {} (prompt and reply together)",
                                    n_prompt, n_ctx_));
    SlotRequest s;
    s.prompt = std::move(prompt);
    // max_tokens is capped by the room left in the context; absent: until the context is full.
    const int64_t want = r.max_tokens ? *r.max_tokens : options_.n_predict;
    s.n_predict = want >= 0 ? int32_t(std::min<int64_t>(want, n_ctx_ - n_prompt)) : -1;
    s.sampling = options_.sampling;
    if (r.temperature) s.sampling.temp = *r.temperature;
    if (r.top_p) s.sampling.top_p = *r.top_p;
    if (r.top_k) s.sampling.top_k = *r.top_k;
    if (r.min_p) s.sampling.min_p = *r.min_p;
    if (r.seed) s.sampling.seed = *r.seed;
    else if (!options_.fixed_seed) s.sampling.seed = std::random_device{}() * 0x9E3779B97F4A7C15ull + std::random_device{}();
    s.stop = r.stop;
    s.ignore_eos = r.ignore_eos;
    return s;
}

Prepared Api::prepare_chat(std::string_view body) const {
    const ChatRequest r = parse_chat_request(parse_body(body, options_.limits), options_.limits);
    check_model(r.model);
    std::string rendered;
    try {
        std::lock_guard lk(tmpl_mu_);
        rendered = tmpl_.apply(r.messages, true);
    } catch (const Error& e) {
        bad_request(fmt::format("'messages': the chat template failed: {}", e.what()));
    }
    bool in_reasoning = chat::prompt_ends_in_reasoning(rendered);
    const int32_t budget = r.think_budget.value_or(options_.think_budget);
    if (budget == 0 && in_reasoning) {
        rendered += "</think>\n\n";  // "none": an empty thinking block, the reply is the answer
        in_reasoning = false;
    }
    const bool has_bos = !tmpl_.bos_token().empty() && rendered.starts_with(tmpl_.bos_token());
    std::vector<int32_t> ids;
    try {
        ids = tok_.encode(rendered, !has_bos, true);
    } catch (const Error& e) {
        bad_request(fmt::format("'messages': {}", e.what()));
    }
    Prepared p{.endpoint = Endpoint::Chat, .slot = common_slot(r, std::move(ids)), .stream = r.stream,
               .include_usage = r.include_usage, .id = new_id("chatcmpl-"), .created = unix_now()};
    p.slot.split_reasoning = options_.split_reasoning;
    p.slot.starts_in_reasoning = in_reasoning;
    p.slot.think_budget = budget;
    return p;
}

Prepared Api::prepare_completion(std::string_view body) const {
    const CompletionRequest r = parse_completion_request(parse_body(body, options_.limits), options_.limits);
    check_model(r.model);
    std::vector<int32_t> ids = r.prompt_ids;
    if (ids.empty()) {
        try {
            ids = tok_.encode(r.prompt, true, true);
        } catch (const Error& e) {
            bad_request(fmt::format("'prompt': {}", e.what()));
        }
    }
    for (size_t i = 0; i < ids.size(); ++i)
        if (ids[i] >= tok_.n_vocab())
            bad_request(fmt::format("'prompt[{}]': token id {} is out of range [0, {})", i, ids[i], tok_.n_vocab()));
    return {.endpoint = Endpoint::Completion, .slot = common_slot(r, std::move(ids)), .stream = r.stream,
            .include_usage = r.include_usage, .id = new_id("cmpl-"), .created = unix_now()};
}

json Api::response(const Prepared& p, const std::string& reasoning, const std::string& content, Finish finish,
                   const Usage& usage) const {
    json choice = {{"index", 0}, {"finish_reason", finish_reason(finish)}};
    if (p.endpoint == Endpoint::Chat) {
        json msg = {{"role", "assistant"}, {"content", content}};
        if (options_.split_reasoning) msg["reasoning_content"] = reasoning;
        choice["message"] = msg;
    } else {
        choice["text"] = content;
        choice["logprobs"] = nullptr;
    }
    return {{"id", p.id},
            {"object", p.endpoint == Endpoint::Chat ? "chat.completion" : "text_completion"},
            {"created", p.created},
            {"model", options_.model_id},
            {"choices", json::array({choice})},
            {"usage", usage_json(usage)}};
}

std::string Api::chunk(const Prepared& p, std::string_view reasoning, std::string_view content, bool first) const {
    std::string out;
    const bool chat = p.endpoint == Endpoint::Chat;
    auto event = [&](json choice) {
        return sse({{"id", p.id},
                    {"object", chat ? "chat.completion.chunk" : "text_completion"},
                    {"created", p.created},
                    {"model", options_.model_id},
                    {"choices", json::array({std::move(choice)})}});
    };
    if (!chat) {
        if (!content.empty()) out += event({{"index", 0}, {"text", content}, {"logprobs", nullptr}, {"finish_reason", nullptr}});
        return out;
    }
    if (first) out += event({{"index", 0}, {"delta", {{"role", "assistant"}, {"content", ""}}}, {"finish_reason", nullptr}});
    if (!reasoning.empty())
        out += event({{"index", 0}, {"delta", {{"reasoning_content", reasoning}}}, {"finish_reason", nullptr}});
    if (!content.empty()) out += event({{"index", 0}, {"delta", {{"content", content}}}, {"finish_reason", nullptr}});
    return out;
}

std::string Api::final_chunks(const Prepared& p, Finish finish, const Usage& usage) const {
    const bool chat = p.endpoint == Endpoint::Chat;
    json choice = {{"index", 0}, {"finish_reason", finish_reason(finish)}};
    if (chat) choice["delta"] = json::object();
    else choice["text"] = "", choice["logprobs"] = nullptr;
    json last = {{"id", p.id},
                 {"object", chat ? "chat.completion.chunk" : "text_completion"},
                 {"created", p.created},
                 {"model", options_.model_id},
                 {"choices", json::array({choice})},
                 {"usage", usage_json(usage)}};
    std::string out = sse(last);
    if (p.include_usage) {  // OpenAI's shape: one more chunk with no choices and the usage
        last["choices"] = json::array();
        out += sse(last);
    }
    return out + "data: [DONE]\n\n";
}

json Api::models() const {
    return {{"object", "list"},
            {"data", json::array({{{"id", options_.model_id}, {"object", "model"}, {"created", started_},
                                   {"owned_by", "r1-edge"}}})}};
}

std::string Api::metrics(const SchedulerStats& s) const {
    std::string out;
    auto metric = [&](const char* name, const char* type, const char* help, double v) {
        out += fmt::format("# HELP {} {}\n# TYPE {} {}\n{} {}\n", name, help, name, type, name, v);
    };
    metric("r1_requests_total", "counter", "HTTP requests received.", double(n_requests.load()));
    metric("r1_requests_rejected_total", "counter", "Requests answered with a 4xx or 5xx status.", double(n_rejected.load()));
    metric("r1_generations_total", "counter", "Generations finished (any reason).", double(s.requests_done));
    metric("r1_prompt_tokens_total", "counter", "Prompt tokens of admitted requests.", double(s.prompt_tokens));
    metric("r1_prompt_tokens_evaluated_total", "counter", "Prompt tokens evaluated (not reused from a cache).",
           double(s.prompt_tokens_evaluated));
    metric("r1_generated_tokens_total", "counter", "Tokens sampled.", double(s.generated_tokens));
    metric("r1_busy_seconds_total", "counter", "Seconds the scheduler spent evaluating.", s.decode_seconds);
    metric("r1_tokens_per_second", "gauge", "Sampled tokens per busy second, since the start.",
           s.decode_seconds > 0 ? double(s.generated_tokens) / s.decode_seconds : 0.0);
    metric("r1_requests_queued", "gauge", "Requests waiting for a slot.", double(s.queued));
    metric("r1_slots_busy", "gauge", "Slots generating.", double(s.slots_busy));
    metric("r1_slots_total", "gauge", "Slots (--parallel).", double(s.n_slots));
    return out;
}

std::string Api::error_body(int status, const std::string& type, const std::string& message) {
    return json{{"error", {{"message", message}, {"type", type}, {"code", status}}}}.dump(
        -1, ' ', false, json::error_handler_t::replace);
}

}  // namespace r1::server
