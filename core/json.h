// Parsing JSON that a user or a file hands us, the same way everywhere: nesting deeper than a
// limit is refused by a linear pre-scan before nlohmann builds anything (the DOM, `dump` and
// the template engine's conversion recurse once per level: 20,000 nested lists overflowed the
// stack), and a syntax error becomes one r1::Error that names the input. Files are read
// through read_input_file (core/files.h), so their size cap applies too.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

namespace r1 {

// Deepest nesting of [ and { accepted; real inputs (HF configs, tokenizer.json, chat messages
// with tool calls) stay under 10.
inline constexpr int32_t kMaxJsonDepth = 128;

// The deepest nesting of [ and { outside strings (0 for a scalar). Linear, no recursion; on
// malformed text it is a bound, not a verdict (the parser then reports the syntax error).
int32_t json_depth(std::string_view text);

// `name` opens every error: "--kwargs: the JSON nests 50000 levels deep, more than the limit
// of 128", "config.json: not valid JSON: syntax error while parsing value at line 3, column 1".
nlohmann::json parse_json(std::string_view text, std::string_view name, int32_t max_depth = kMaxJsonDepth);
nlohmann::ordered_json parse_ordered_json(std::string_view text, std::string_view name,
                                          int32_t max_depth = kMaxJsonDepth);

// read_input_file(path, max_bytes, label) then parse_json, errors naming "label path".
nlohmann::json read_json_file(const std::string& path, size_t max_bytes, std::string_view label = {});

}  // namespace r1
