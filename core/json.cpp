// JSON with a depth limit and named errors (see json.h).
#include "core/json.h"

#include <algorithm>

#include "core/error.h"
#include "core/files.h"

namespace r1 {

namespace {

// nlohmann's what() starts with "[json.exception.parse_error.101] ": not the user's business.
std::string_view without_exception_id(std::string_view what) {
    if (what.starts_with("[json.exception.")) {
        const size_t close = what.find("] ");
        if (close != std::string_view::npos) what.remove_prefix(close + 2);
    }
    return what;
}

template <typename Json>
Json parse_checked(std::string_view text, std::string_view name, int32_t max_depth) {
    if (const int32_t d = json_depth(text); d > max_depth)
        fail("{}: the JSON nests {} levels deep, more than the limit of {}", name, d, max_depth);
    try {
        return Json::parse(text.begin(), text.end());
    } catch (const nlohmann::json::exception& e) {
        fail("{}: not valid JSON: {}", name, without_exception_id(e.what()));
    }
}

}  // namespace

int32_t json_depth(std::string_view text) {
    int32_t depth = 0, deepest = 0;
    bool in_string = false;
    for (size_t i = 0; i < text.size(); ++i) {
        const char c = text[i];
        if (in_string) {
            if (c == '\\') ++i;
            else if (c == '"') in_string = false;
        } else if (c == '"') {
            in_string = true;
        } else if (c == '[' || c == '{') {
            deepest = std::max(deepest, ++depth);
        } else if (c == ']' || c == '}') {
            --depth;
        }
    }
    return deepest;
}

nlohmann::json parse_json(std::string_view text, std::string_view name, int32_t max_depth) {
    return parse_checked<nlohmann::json>(text, name, max_depth);
}

nlohmann::ordered_json parse_ordered_json(std::string_view text, std::string_view name, int32_t max_depth) {
    return parse_checked<nlohmann::ordered_json>(text, name, max_depth);
}

nlohmann::json read_json_file(const std::string& path, size_t max_bytes, std::string_view label) {
    const std::string text = read_input_file(path, max_bytes, label);
    return parse_json(text, label.empty() ? path : fmt::format("{} {}", label, path));
}

}  // namespace r1
