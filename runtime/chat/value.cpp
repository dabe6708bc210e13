// Value construction, Python str()/repr()/==/< semantics, JSON in (nlohmann) and out
// (byte-compatible with Python's json.dumps), and the UTF-8 code point helpers.
#include "runtime/chat/value.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <stdexcept>

#include <fmt/format.h>

namespace r1::chat {

const Value* Dict::find(std::string_view key) const {
    for (const auto& [k, v] : items)
        if (k == key) return &v;
    return nullptr;
}

void Dict::set(std::string key, Value v) {
    for (auto& [k, old] : items)
        if (k == key) {
            old = std::move(v);
            return;
        }
    items.emplace_back(std::move(key), std::move(v));
}

Value Value::undefined(std::string what) {
    Value v;
    v.s = std::move(what);
    return v;
}
Value Value::none() {
    Value v;
    v.kind = Kind::None;
    return v;
}
Value Value::boolean(bool x) {
    Value v;
    v.kind = Kind::Bool;
    v.b = x;
    return v;
}
Value Value::integer(int64_t x) {
    Value v;
    v.kind = Kind::Int;
    v.i = x;
    return v;
}
Value Value::number(double x) {
    Value v;
    v.kind = Kind::Float;
    v.f = x;
    return v;
}
Value Value::string(std::string x) {
    Value v;
    v.kind = Kind::String;
    v.s = std::move(x);
    return v;
}
Value Value::make_list(List x, bool tuple) {
    Value v;
    v.kind = tuple ? Kind::Tuple : Kind::List;
    v.list = std::make_shared<const List>(std::move(x));
    return v;
}
Value Value::make_dict(Dict x, Kind kind) {
    Value v;
    v.kind = kind;
    v.dict = std::make_shared<Dict>(std::move(x));
    return v;
}
Value Value::function(std::string name, NativeFn fn) {
    Value v;
    v.kind = Kind::Function;
    v.fn = std::make_shared<const Function>(Function{std::move(name), std::move(fn)});
    return v;
}

bool truthy(const Value& v) {
    switch (v.kind) {
        case Value::Kind::Undefined:
        case Value::Kind::None: return false;
        case Value::Kind::Bool: return v.b;
        case Value::Kind::Int: return v.i != 0;
        case Value::Kind::Float: return v.f != 0.0;
        case Value::Kind::String: return !v.s.empty();
        case Value::Kind::List:
        case Value::Kind::Tuple: return !v.list->empty();
        case Value::Kind::Dict: return !v.dict->items.empty();
        default: return true;
    }
}

const char* kind_name(const Value& v) {
    switch (v.kind) {
        case Value::Kind::Undefined: return "undefined";
        case Value::Kind::None: return "NoneType";
        case Value::Kind::Bool: return "bool";
        case Value::Kind::Int: return "int";
        case Value::Kind::Float: return "float";
        case Value::Kind::String: return "str";
        case Value::Kind::List: return "list";
        case Value::Kind::Tuple: return "tuple";
        case Value::Kind::Dict: return "dict";
        case Value::Kind::Namespace: return "Namespace";
        case Value::Kind::Object: return "LoopContext";
        case Value::Kind::Function: return "function";
    }
    return "?";
}

std::string float_repr(double d) {
    if (std::isnan(d)) return "nan";
    if (std::isinf(d)) return d < 0 ? "-inf" : "inf";
    if (d == 0.0) return std::signbit(d) ? "-0.0" : "0.0";
    char buf[64];
    auto r = std::to_chars(buf, buf + sizeof buf, d, std::chars_format::scientific);
    std::string_view sci(buf, static_cast<size_t>(r.ptr - buf));  // "-d.ddde+XX"
    std::string sign;
    if (sci.front() == '-') {
        sign = "-";
        sci.remove_prefix(1);
    }
    size_t e = sci.find('e');
    std::string digits;
    for (char c : sci.substr(0, e))
        if (c != '.') digits += c;
    int exp = std::stoi(std::string(sci.substr(e + 1)));
    std::string out = sign;
    if (exp >= -4 && exp < 16) {
        if (exp >= 0) {
            std::string ip = digits.substr(0, std::min<size_t>(digits.size(), size_t(exp) + 1));
            ip.append(size_t(exp) + 1 - ip.size(), '0');
            std::string fp = digits.size() > size_t(exp) + 1 ? digits.substr(size_t(exp) + 1) : "0";
            out += ip + "." + fp;
        } else {
            out += "0." + std::string(size_t(-exp - 1), '0') + digits;
        }
    } else {
        out += digits.substr(0, 1);
        if (digits.size() > 1) out += "." + digits.substr(1);
        out += fmt::format("e{}{:02d}", exp < 0 ? '-' : '+', std::abs(exp));
    }
    return out;
}

namespace {

std::string repr_string(const std::string& s) {
    char q = (s.find('\'') != std::string::npos && s.find('"') == std::string::npos) ? '"' : '\'';
    std::string out(1, q);
    for (unsigned char c : s) {
        if (c == '\\') out += "\\\\";
        else if (c == static_cast<unsigned char>(q)) out += std::string("\\") + q;
        else if (c == '\n') out += "\\n";
        else if (c == '\r') out += "\\r";
        else if (c == '\t') out += "\\t";
        else if (c < 0x20 || c == 0x7f) out += fmt::format("\\x{:02x}", c);
        else out += static_cast<char>(c);
    }
    return out + q;
}

}  // namespace

std::string repr(const Value& v) {
    switch (v.kind) {
        case Value::Kind::String: return repr_string(v.s);
        case Value::Kind::List:
        case Value::Kind::Tuple: {
            bool tuple = v.kind == Value::Kind::Tuple;
            std::string out = tuple ? "(" : "[";
            for (size_t k = 0; k < v.list->size(); ++k) out += (k ? ", " : "") + repr((*v.list)[k]);
            if (tuple && v.list->size() == 1) out += ",";
            return out + (tuple ? ")" : "]");
        }
        case Value::Kind::Dict: {
            std::string out = "{";
            bool first = true;
            for (const auto& [k, x] : v.dict->items) {
                out += (first ? "" : ", ") + repr_string(k) + ": " + repr(x);
                first = false;
            }
            return out + "}";
        }
        case Value::Kind::Namespace: {
            std::string out = "<Namespace {";
            bool first = true;
            for (const auto& [k, x] : v.dict->items) {
                out += (first ? "" : ", ") + repr_string(k) + ": " + repr(x);
                first = false;
            }
            return out + "}>";
        }
        default: return to_str(v);
    }
}

std::string to_str(const Value& v) {
    switch (v.kind) {
        case Value::Kind::Undefined: return "";
        case Value::Kind::None: return "None";
        case Value::Kind::Bool: return v.b ? "True" : "False";
        case Value::Kind::Int: return std::to_string(v.i);
        case Value::Kind::Float: return float_repr(v.f);
        case Value::Kind::String: return v.s;
        case Value::Kind::Object: return "<LoopContext>";
        case Value::Kind::Function: return fmt::format("<function {}>", v.fn->name);
        default: return repr(v);
    }
}

bool equals(const Value& a, const Value& b) {
    if (a.is_number() && b.is_number()) {
        if (a.kind == Value::Kind::Float || b.kind == Value::Kind::Float) return a.as_double() == b.as_double();
        int64_t x = a.kind == Value::Kind::Int ? a.i : a.b, y = b.kind == Value::Kind::Int ? b.i : b.b;
        return x == y;
    }
    if (a.is_list() && b.is_list()) {
        if (a.kind != b.kind || a.list->size() != b.list->size()) return false;
        for (size_t k = 0; k < a.list->size(); ++k)
            if (!equals((*a.list)[k], (*b.list)[k])) return false;
        return true;
    }
    if (a.kind != b.kind) return false;
    switch (a.kind) {
        case Value::Kind::Undefined:
        case Value::Kind::None: return true;
        case Value::Kind::String: return a.s == b.s;
        case Value::Kind::Dict: {
            if (a.dict->items.size() != b.dict->items.size()) return false;
            for (const auto& [k, x] : a.dict->items) {
                const Value* y = b.dict->find(k);
                if (!y || !equals(x, *y)) return false;
            }
            return true;
        }
        case Value::Kind::Namespace:
        case Value::Kind::Object: return a.dict == b.dict;
        case Value::Kind::Function: return a.fn == b.fn;
        default: return false;
    }
}

std::optional<int> compare(const Value& a, const Value& b) {
    if (a.is_number() && b.is_number()) {
        double x = a.as_double(), y = b.as_double();
        if (a.kind != Value::Kind::Float && b.kind != Value::Kind::Float) {
            int64_t p = a.kind == Value::Kind::Int ? a.i : a.b, q = b.kind == Value::Kind::Int ? b.i : b.b;
            return p < q ? -1 : p > q ? 1 : 0;
        }
        return x < y ? -1 : x > y ? 1 : 0;
    }
    if (a.is_string() && b.is_string()) {
        int c = a.s.compare(b.s);  // UTF-8 byte order == code point order
        return c < 0 ? -1 : c > 0 ? 1 : 0;
    }
    if (a.is_list() && b.is_list() && a.kind == b.kind) {
        size_t n = std::min(a.list->size(), b.list->size());
        for (size_t k = 0; k < n; ++k) {
            if (equals((*a.list)[k], (*b.list)[k])) continue;
            return compare((*a.list)[k], (*b.list)[k]);
        }
        return a.list->size() < b.list->size() ? -1 : a.list->size() > b.list->size() ? 1 : 0;
    }
    return std::nullopt;
}

Value from_json(const nlohmann::ordered_json& j) {
    switch (j.type()) {
        case nlohmann::ordered_json::value_t::null: return Value::none();
        case nlohmann::ordered_json::value_t::boolean: return Value::boolean(j.get<bool>());
        case nlohmann::ordered_json::value_t::number_integer: return Value::integer(j.get<int64_t>());
        case nlohmann::ordered_json::value_t::number_unsigned: {
            uint64_t u = j.get<uint64_t>();
            if (u > uint64_t(INT64_MAX)) return Value::number(double(u));
            return Value::integer(int64_t(u));
        }
        case nlohmann::ordered_json::value_t::number_float: return Value::number(j.get<double>());
        case nlohmann::ordered_json::value_t::string: return Value::string(j.get<std::string>());
        case nlohmann::ordered_json::value_t::array: {
            List l;
            l.reserve(j.size());
            for (const auto& x : j) l.push_back(from_json(x));
            return Value::make_list(std::move(l));
        }
        case nlohmann::ordered_json::value_t::object: {
            Dict d;
            for (const auto& [k, x] : j.items()) d.items.emplace_back(k, from_json(x));
            return Value::make_dict(std::move(d));
        }
        default: return Value::none();  // binary: never produced by the JSON parser
    }
}

std::vector<char32_t> decode_utf8(std::string_view s) {
    std::vector<char32_t> out;
    out.reserve(s.size());
    for (size_t k = 0; k < s.size();) {
        auto c = static_cast<unsigned char>(s[k]);
        int n = c < 0x80 ? 1 : (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 : (c >> 3) == 30 ? 4 : 0;
        if (n == 0 || k + size_t(n) > s.size()) {  // invalid byte: keep it as U+FFFD
            out.push_back(0xFFFD);
            ++k;
            continue;
        }
        char32_t cp = n == 1 ? c : n == 2 ? (c & 0x1F) : n == 3 ? (c & 0x0F) : (c & 0x07);
        for (int t = 1; t < n; ++t) cp = (cp << 6) | (static_cast<unsigned char>(s[k + size_t(t)]) & 0x3F);
        out.push_back(cp);
        k += size_t(n);
    }
    return out;
}

void append_utf8(std::string& out, char32_t c) {
    if (c < 0x80) {
        out += static_cast<char>(c);
    } else if (c < 0x800) {
        out += static_cast<char>(0xC0 | (c >> 6));
        out += static_cast<char>(0x80 | (c & 0x3F));
    } else if (c < 0x10000) {
        out += static_cast<char>(0xE0 | (c >> 12));
        out += static_cast<char>(0x80 | ((c >> 6) & 0x3F));
        out += static_cast<char>(0x80 | (c & 0x3F));
    } else {
        out += static_cast<char>(0xF0 | (c >> 18));
        out += static_cast<char>(0x80 | ((c >> 12) & 0x3F));
        out += static_cast<char>(0x80 | ((c >> 6) & 0x3F));
        out += static_cast<char>(0x80 | (c & 0x3F));
    }
}

size_t utf8_length(std::string_view s) {
    size_t n = 0;
    for (unsigned char c : s) n += (c & 0xC0) != 0x80;
    return n;
}

bool is_py_space(char32_t c) {
    return (c >= 0x09 && c <= 0x0D) || (c >= 0x1C && c <= 0x20) || c == 0x85 || c == 0xA0 ||
           c == 0x1680 || (c >= 0x2000 && c <= 0x200A) || c == 0x2028 || c == 0x2029 ||
           c == 0x202F || c == 0x205F || c == 0x3000;
}

namespace {

void dump_string(std::string& out, const std::string& s, bool ensure_ascii) {
    out += '"';
    for (char32_t c : decode_utf8(s)) {
        switch (c) {
            case '"': out += "\\\""; break;
            case '\\': out += "\\\\"; break;
            case '\n': out += "\\n"; break;
            case '\r': out += "\\r"; break;
            case '\t': out += "\\t"; break;
            case '\b': out += "\\b"; break;
            case '\f': out += "\\f"; break;
            default:
                if (c < 0x20) {
                    out += fmt::format("\\u{:04x}", uint32_t(c));
                } else if (ensure_ascii && c >= 0x80) {
                    if (c >= 0x10000) {
                        char32_t v = c - 0x10000;
                        out += fmt::format("\\u{:04x}\\u{:04x}", uint32_t(0xD800 + (v >> 10)),
                                           uint32_t(0xDC00 + (v & 0x3FF)));
                    } else {
                        out += fmt::format("\\u{:04x}", uint32_t(c));
                    }
                } else {
                    append_utf8(out, c);
                }
        }
    }
    out += '"';
}

void dump(std::string& out, const Value& v, const DumpOptions& o, int level) {
    auto newline = [&](int lvl) {
        out += '\n';
        for (int k = 0; k < lvl; ++k) out += *o.indent;
    };
    switch (v.kind) {
        case Value::Kind::None: out += "null"; return;
        case Value::Kind::Bool: out += v.b ? "true" : "false"; return;
        case Value::Kind::Int: out += std::to_string(v.i); return;
        case Value::Kind::Float:
            if (std::isnan(v.f)) out += "NaN";
            else if (std::isinf(v.f)) out += v.f < 0 ? "-Infinity" : "Infinity";
            else out += float_repr(v.f);
            return;
        case Value::Kind::String: dump_string(out, v.s, o.ensure_ascii); return;
        case Value::Kind::List:
        case Value::Kind::Tuple: {
            if (v.list->empty()) {
                out += "[]";
                return;
            }
            out += '[';
            for (size_t k = 0; k < v.list->size(); ++k) {
                if (k) out += o.item_sep;
                if (o.indent) newline(level + 1);
                dump(out, (*v.list)[k], o, level + 1);
            }
            if (o.indent) newline(level);
            out += ']';
            return;
        }
        case Value::Kind::Dict:
        case Value::Kind::Namespace: {
            if (v.kind == Value::Kind::Namespace) throw std::invalid_argument("Object of type Namespace is not JSON serializable");
            if (v.dict->items.empty()) {
                out += "{}";
                return;
            }
            std::vector<const std::pair<std::string, Value>*> items;
            for (const auto& kv : v.dict->items) items.push_back(&kv);
            if (o.sort_keys)
                std::stable_sort(items.begin(), items.end(), [](auto* a, auto* b) { return a->first < b->first; });
            out += '{';
            for (size_t k = 0; k < items.size(); ++k) {
                if (k) out += o.item_sep;
                if (o.indent) newline(level + 1);
                dump_string(out, items[k]->first, o.ensure_ascii);
                out += o.key_sep;
                dump(out, items[k]->second, o, level + 1);
            }
            if (o.indent) newline(level);
            out += '}';
            return;
        }
        default:
            throw std::invalid_argument(fmt::format("Object of type {} is not JSON serializable", kind_name(v)));
    }
}

}  // namespace

std::string dumps(const Value& v, const DumpOptions& o) {
    std::string out;
    dump(out, v, o, 0);
    return out;
}

}  // namespace r1::chat
