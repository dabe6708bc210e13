// Request parsing with hard limits: depth scan, then typed field readers that name the field
// in every 400. Unknown fields are ignored, as OpenAI clients send many we do not use.
#include "runtime/server/request.h"

#include <cmath>
#include <limits>

#include <fmt/format.h>

#include "core/error.h"

namespace r1::server {
namespace {

using nlohmann::json;

const char* type_name(const json& v) {
    switch (v.type()) {
        case json::value_t::null: return "null";
        case json::value_t::boolean: return "a boolean";
        case json::value_t::string: return "a string";
        case json::value_t::array: return "an array";
        case json::value_t::object: return "an object";
        case json::value_t::number_float: return "a number";
        case json::value_t::number_integer:
        case json::value_t::number_unsigned: return "an integer";
        default: return "a value";
    }
}

[[noreturn]] void wrong_type(const std::string& field, const char* want, const json& got) {
    bad_request(fmt::format("'{}': expected {}, got {}", field, want, type_name(got)));
}

// The field, or nullptr when it is absent or null (OpenAI clients send null for "unset").
const json* field(const json& obj, const char* name) {
    auto it = obj.find(name);
    if (it == obj.end() || it->is_null()) return nullptr;
    return &*it;
}

std::optional<float> read_float(const json& obj, const char* name, double lo, double hi, bool lo_open = false) {
    const json* v = field(obj, name);
    if (!v) return std::nullopt;
    if (!v->is_number()) wrong_type(name, "a number", *v);
    const double d = v->get<double>();
    if (!std::isfinite(d) || d < lo || d > hi || (lo_open && d == lo))
        bad_request(fmt::format("'{}': {} is out of range {}{}, {}]", name, d, lo_open ? "(" : "[", lo, hi));
    return float(d);
}

std::optional<int64_t> read_int(const json& obj, const char* name, int64_t lo, int64_t hi) {
    const json* v = field(obj, name);
    if (!v) return std::nullopt;
    if (v->is_number_float()) {
        const double d = v->get<double>();
        if (d != std::floor(d)) wrong_type(name, "an integer", *v);
    } else if (!v->is_number_integer()) {
        wrong_type(name, "an integer", *v);
    }
    // Out-of-range unsigned values and floats are compared as doubles so nothing wraps.
    const double d = v->is_number_unsigned() ? double(v->get<uint64_t>()) : v->get<double>();
    if (d < double(lo) || d > double(hi))
        bad_request(fmt::format("'{}': {} is out of range [{}, {}]", name, v->dump(), lo, hi));
    return v->is_number_unsigned() ? int64_t(v->get<uint64_t>()) : v->get<int64_t>();
}

bool read_bool(const json& obj, const char* name, bool def) {
    const json* v = field(obj, name);
    if (!v) return def;
    if (!v->is_boolean()) wrong_type(name, "a boolean", *v);
    return v->get<bool>();
}

std::string read_string(const json& obj, const char* name) {
    const json* v = field(obj, name);
    if (!v) return {};
    if (!v->is_string()) wrong_type(name, "a string", *v);
    return v->get<std::string>();
}

void read_common(const json& body, const RequestLimits& limits, RequestCommon& r) {
    if (!body.is_object()) bad_request(fmt::format("the request body must be a JSON object, got {}", type_name(body)));
    r.model = read_string(body, "model");
    constexpr int64_t kMaxInt = std::numeric_limits<int32_t>::max();
    auto mt = read_int(body, "max_completion_tokens", 0, kMaxInt);
    if (!mt) mt = read_int(body, "max_tokens", -1, kMaxInt);  // -1: llama.cpp's "until the end"
    if (mt && *mt >= 0) r.max_tokens = int32_t(*mt);
    r.temperature = read_float(body, "temperature", 0, 2);
    r.top_p = read_float(body, "top_p", 0, 1, true);
    r.min_p = read_float(body, "min_p", 0, 1);
    if (auto k = read_int(body, "top_k", 0, kMaxInt)) r.top_k = int32_t(*k);
    if (const json* s = field(body, "seed")) {
        if (!s->is_number_integer()) wrong_type("seed", "an integer", *s);
        r.seed = s->is_number_unsigned() ? s->get<uint64_t>() : uint64_t(s->get<int64_t>());
    }
    if (auto n = read_int(body, "n", 1, std::numeric_limits<int64_t>::max()); n && *n != 1)
        bad_request(fmt::format("'n': only 1 choice per request is supported, got {}", *n));
    if (const json* s = field(body, "stop")) {
        auto add = [&](const json& one, const std::string& name) {
            if (!one.is_string()) wrong_type(name, "a string", one);
            std::string text = one.get<std::string>();
            if (text.empty()) return;  // an empty stop string never matches (OpenAI ignores it)
            if (text.size() > limits.max_stop_bytes)
                bad_request(fmt::format("'{}': {} bytes, more than the limit of {}", name, text.size(),
                                        limits.max_stop_bytes));
            r.stop.push_back(std::move(text));
        };
        if (s->is_string()) {
            add(*s, "stop");
        } else if (s->is_array()) {
            if (s->size() > limits.max_stop)
                bad_request(fmt::format("'stop': {} strings, more than the limit of {}", s->size(), limits.max_stop));
            for (size_t i = 0; i < s->size(); ++i) add((*s)[i], fmt::format("stop[{}]", i));
        } else {
            wrong_type("stop", "a string or an array of strings", *s);
        }
    }
    r.stream = read_bool(body, "stream", false);
    r.ignore_eos = read_bool(body, "ignore_eos", false);
    if (const json* so = field(body, "stream_options")) {
        if (!so->is_object()) wrong_type("stream_options", "an object", *so);
        r.include_usage = read_bool(*so, "include_usage", false);
    }
}

// A message's content: a string, or OpenAI's list of parts of which only text parts are read.
std::string message_content(const json& m, size_t i) {
    const std::string name = fmt::format("messages[{}].content", i);
    const json* c = field(m, "content");
    if (!c) return {};
    if (c->is_string()) return c->get<std::string>();
    if (!c->is_array()) wrong_type(name, "a string or an array of content parts", *c);
    std::string text;
    for (size_t k = 0; k < c->size(); ++k) {
        const json& part = (*c)[k];
        const std::string pname = fmt::format("{}[{}]", name, k);
        if (!part.is_object()) wrong_type(pname, "an object", part);
        const std::string type = read_string(part, "type");
        if (type != "text") bad_request(fmt::format("'{}.type': '{}' is not supported (only 'text')", pname, type));
        const json* t = field(part, "text");
        if (!t || !t->is_string()) wrong_type(pname + ".text", "a string", t ? *t : json());
        text += t->get<std::string>();
    }
    return text;
}

}  // namespace

void bad_request(const std::string& message) { throw HttpError(400, "invalid_request_error", message); }

nlohmann::json parse_body(std::string_view body, const RequestLimits& limits) {
    if (body.size() > limits.max_body_bytes)
        throw HttpError(413, "invalid_request_error",
                        fmt::format("the body has {} bytes, more than the limit of {}", body.size(), limits.max_body_bytes));
    try {
        return parse_json(body, "the body", limits.max_json_depth);  // depth pre-scan, then parse
    } catch (const Error& e) {
        bad_request(e.what());
    }
}

int32_t think_budget_for_effort(std::string_view effort) {
    if (effort == "none") return 0;
    if (effort == "minimal") return 64;
    if (effort == "low") return 256;
    if (effort == "medium") return 1024;
    if (effort == "high") return -1;
    bad_request(fmt::format("'reasoning_effort': '{}' is not one of none, minimal, low, medium, high", effort));
}

ChatRequest parse_chat_request(const nlohmann::json& body, const RequestLimits& limits) {
    ChatRequest r;
    read_common(body, limits, r);
    const json* msgs = field(body, "messages");
    if (!msgs) bad_request("'messages': required");
    if (!msgs->is_array()) wrong_type("messages", "an array", *msgs);
    if (msgs->empty()) bad_request("'messages': must not be empty");
    if (msgs->size() > limits.max_messages)
        bad_request(fmt::format("'messages': {} messages, more than the limit of {}", msgs->size(), limits.max_messages));
    r.messages = nlohmann::ordered_json::array();
    for (size_t i = 0; i < msgs->size(); ++i) {
        const json& m = (*msgs)[i];
        if (!m.is_object()) wrong_type(fmt::format("messages[{}]", i), "an object", m);
        const json* role = field(m, "role");
        if (!role) bad_request(fmt::format("'messages[{}].role': required", i));
        if (!role->is_string()) wrong_type(fmt::format("messages[{}].role", i), "a string", *role);
        const std::string rs = role->get<std::string>();
        if (rs != "system" && rs != "user" && rs != "assistant" && rs != "developer")
            bad_request(fmt::format("'messages[{}].role': '{}' is not one of system, developer, user, assistant", i, rs));
        r.messages.push_back({{"role", rs == "developer" ? "system" : rs}, {"content", message_content(m, i)}});
    }
    if (auto b = read_int(body, "think_budget", -1, std::numeric_limits<int32_t>::max())) r.think_budget = int32_t(*b);
    if (const json* e = field(body, "reasoning_effort")) {
        if (!e->is_string()) wrong_type("reasoning_effort", "a string", *e);
        if (!r.think_budget) r.think_budget = think_budget_for_effort(e->get<std::string>());
    }
    return r;
}

CompletionRequest parse_completion_request(const nlohmann::json& body, const RequestLimits& limits) {
    CompletionRequest r;
    read_common(body, limits, r);
    const json* p = field(body, "prompt");
    if (!p) bad_request("'prompt': required");
    // A list holding one string is the same as the string (OpenAI allows batches; we take one).
    const json* one = p->is_array() && p->size() == 1 && (*p)[0].is_string() ? &(*p)[0] : p;
    if (one->is_string()) {
        r.prompt = one->get<std::string>();
        if (r.prompt.empty()) bad_request("'prompt': must not be empty");
    } else if (one->is_array() && !one->empty()) {
        for (size_t i = 0; i < one->size(); ++i) {
            const json& t = (*one)[i];
            if (!t.is_number_integer()) wrong_type(fmt::format("prompt[{}]", i), "a token id (integer)", t);
            const double d = t.is_number_unsigned() ? double(t.get<uint64_t>()) : double(t.get<int64_t>());
            if (d < 0 || d > std::numeric_limits<int32_t>::max())
                bad_request(fmt::format("'prompt[{}]': token id {} is out of range", i, t.dump()));
            r.prompt_ids.push_back(int32_t(t.get<int64_t>()));
        }
    } else {
        wrong_type("prompt", "a string, or a non-empty array of token ids", *p);
    }
    return r;
}

}  // namespace r1::server
