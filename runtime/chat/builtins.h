// The fixed vocabulary a template may use: filters, tests, methods of str/dict values and the
// global functions (range, namespace, dict, raise_exception, strftime_now). Nothing outside
// these tables is reachable from a template.
#pragma once

#include <string>
#include <string_view>

#include "runtime/chat/value.h"

namespace r1::chat {

class Interp;

bool has_filter(std::string_view name);
bool has_test(std::string_view name);

// `value | name(args)`.
Value apply_filter(Interp& in, std::string_view name, Value value, CallArgs& args);
// `value is name(args)`.
bool apply_test(Interp& in, std::string_view name, const Value& value, CallArgs& args);
// `obj.name` for str and dict methods: a bound method, or nullopt when `name` is not one.
std::optional<Value> bound_method(const Value& obj, std::string_view name);
// Global functions, in a dict for the root scope.
Dict global_functions();

// Argument binding for builtins: positional `index` or keyword `name`, else `fallback`.
const Value* find_arg(const CallArgs& a, size_t index, std::string_view name);
Value arg_or(const CallArgs& a, size_t index, std::string_view name, Value fallback);

// String helpers shared with the evaluator.
std::string py_strip(std::string_view s, const Value& chars, bool left, bool right);
std::string case_map(std::string_view s, bool upper);

}  // namespace r1::chat
