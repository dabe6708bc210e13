// Values of the template language: Python's None/bool/int/float/str/list/tuple/dict as jinja2
// sees them, plus Undefined, namespace() objects, read-only objects (`loop`) and callables
// (macros, globals, bound methods). Lists and dicts are immutable once built (the sandbox is
// jinja2's ImmutableSandboxedEnvironment); only namespaces change, through `set ns.x = ...`.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

namespace r1::chat {

class Interp;
struct Value;

using List = std::vector<Value>;

// Insertion-ordered string-keyed map (Python dict order; JSON objects keep their order).
// Keys are strings only: chat templates never use other key types.
struct Dict {
    std::vector<std::pair<std::string, Value>> items;
    const Value* find(std::string_view key) const;
    void set(std::string key, Value v);
};

// Positional and keyword arguments of a call.
struct CallArgs {
    std::vector<Value> pos;
    std::vector<std::pair<std::string, Value>> kw;
};

using NativeFn = std::function<Value(Interp&, CallArgs&)>;
struct Function {
    std::string name;
    NativeFn fn;
};

struct Value {
    enum class Kind : uint8_t {
        Undefined, None, Bool, Int, Float, String, List, Tuple, Dict, Namespace, Object, Function
    };
    Kind kind = Kind::Undefined;
    bool b = false;
    int64_t i = 0;
    double f = 0.0;
    std::string s;                          // String; for Undefined, the name that was missing
    std::shared_ptr<const List> list;       // List, Tuple
    std::shared_ptr<Dict> dict;             // Dict, Object (never mutated), Namespace (mutable)
    std::shared_ptr<const Function> fn;     // Function

    static Value undefined(std::string what = {});
    static Value none();
    static Value boolean(bool v);
    static Value integer(int64_t v);
    static Value number(double v);
    static Value string(std::string v);
    static Value make_list(List v, bool tuple = false);
    static Value make_dict(Dict v, Kind kind = Kind::Dict);
    static Value function(std::string name, NativeFn fn);

    bool is_undefined() const { return kind == Kind::Undefined; }
    bool is_none() const { return kind == Kind::None; }
    bool is_string() const { return kind == Kind::String; }
    bool is_number() const { return kind == Kind::Int || kind == Kind::Float || kind == Kind::Bool; }
    bool is_list() const { return kind == Kind::List || kind == Kind::Tuple; }
    bool is_mapping() const { return kind == Kind::Dict; }
    bool is_attr_bag() const { return kind == Kind::Dict || kind == Kind::Namespace || kind == Kind::Object; }
    double as_double() const { return kind == Kind::Float ? f : kind == Kind::Int ? double(i) : double(b); }
};

// Python truthiness (Undefined is false).
bool truthy(const Value& v);
// Python str() / repr() of a value; Undefined prints as "".
std::string to_str(const Value& v);
std::string repr(const Value& v);
// Python float repr: shortest round-trip digits, exponent when exp < -4 or exp >= 16.
std::string float_repr(double d);
// Python == (int/float/bool compare numerically; lists and dicts deeply).
bool equals(const Value& a, const Value& b);
// Python <, as -1/0/1; nullopt when the types cannot be ordered.
std::optional<int> compare(const Value& a, const Value& b);
const char* kind_name(const Value& v);

// JSON conversion. Objects keep their key order.
Value from_json(const nlohmann::ordered_json& j);

// Python json.dumps(v, ensure_ascii, indent, separators, sort_keys). indent < 0 means None,
// an empty indent_str with indent >= 0 means a number of spaces. Throws std::invalid_argument
// (message text) for values JSON cannot hold (Undefined, functions).
struct DumpOptions {
    bool ensure_ascii = false;
    std::optional<std::string> indent;  // nullopt: single line
    std::string item_sep = ", ";
    std::string key_sep = ": ";
    bool sort_keys = false;
};
std::string dumps(const Value& v, const DumpOptions& o);

// UTF-8 helpers: Python strings index by code point.
std::vector<char32_t> decode_utf8(std::string_view s);
void append_utf8(std::string& out, char32_t c);
size_t utf8_length(std::string_view s);
bool is_py_space(char32_t c);

}  // namespace r1::chat
