// The OpenAI request bodies r1 serve accepts, parsed and checked against hard limits before
// anything is tokenized: nesting depth, message count, field types and ranges (RELIABILITY.md
// server cases). Every rejection is an HttpError with the status and a message naming the field.
// Knows nothing of HTTP transport, models or tokenizers.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/json.h"  // json_depth, parse_json

namespace r1::server {

// A request the server refuses: HTTP status, OpenAI error type, one-line message.
class HttpError : public std::runtime_error {
public:
    HttpError(int status, std::string type, const std::string& message)
        : std::runtime_error(message), status(status), type(std::move(type)) {}
    int status;
    std::string type;  // invalid_request_error, not_found_error, authentication_error, ...
};
[[noreturn]] void bad_request(const std::string& message);  // 400 invalid_request_error

struct RequestLimits {
    size_t max_body_bytes = size_t(8) << 20;  // larger bodies: 413 before they are read
    int32_t max_json_depth = 32;              // [ and { nested deeper: 400
    size_t max_messages = 1024;
    size_t max_stop = 16;                     // stop strings per request
    size_t max_stop_bytes = 256;              // bytes per stop string
};

// Throws HttpError 400 when `body` nests deeper than `max_depth` or is not JSON: parse_json of
// core/json.h scans the depth before parsing, so a hostile body never builds a deep tree.
nlohmann::json parse_body(std::string_view body, const RequestLimits& limits);

// Fields shared by /v1/chat/completions and /v1/completions. Unset optionals take the
// server's defaults.
struct RequestCommon {
    std::string model;                  // "" when absent
    std::optional<int32_t> max_tokens;  // max_tokens or max_completion_tokens (>= 0)
    std::optional<float> temperature;   // [0, 2]
    std::optional<float> top_p;         // (0, 1]
    std::optional<int32_t> top_k;       // >= 0 (llama.cpp extension)
    std::optional<float> min_p;         // [0, 1] (llama.cpp extension)
    std::optional<uint64_t> seed;
    std::vector<std::string> stop;      // `stop`: a string or a list of strings
    bool stream = false;
    bool include_usage = false;         // stream_options.include_usage
    bool ignore_eos = false;            // llama.cpp extension
};

struct ChatRequest : RequestCommon {
    // [{role, content}] with content as one string; earlier assistant turns keep only their
    // answer (reasoning_content is dropped, as the R1 template drops text before </think>).
    nlohmann::ordered_json messages;
    // Reasoning tokens before the server closes the thinking: from think_budget (-1 unlimited,
    // N >= 0) or reasoning_effort (none 0, minimal 64, low 256, medium 1024, high unlimited).
    std::optional<int32_t> think_budget;
};

struct CompletionRequest : RequestCommon {
    std::string prompt;               // text prompt, or
    std::vector<int32_t> prompt_ids;  // token ids (a list of integers)
};

ChatRequest parse_chat_request(const nlohmann::json& body, const RequestLimits& limits);
CompletionRequest parse_completion_request(const nlohmann::json& body, const RequestLimits& limits);

// The budget for a reasoning_effort word; throws HttpError 400 for an unknown one.
int32_t think_budget_for_effort(std::string_view effort);

}  // namespace r1::server
