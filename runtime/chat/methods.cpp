// Python str and dict methods reachable from templates (`s.strip()`, `d.items()`, ...), the
// global functions, and the argument-binding and string helpers the filters share. Mutating
// methods (list.append, dict.update, ...) do not exist here, as in ImmutableSandboxedEnvironment.
#include <algorithm>
#include <ctime>

#include <fmt/format.h>
#include <utf8proc.h>

#include "runtime/chat/builtins.h"
#include "runtime/chat/interp.h"

namespace r1::chat {

const Value* find_arg(const CallArgs& a, size_t index, std::string_view name) {
    if (index < a.pos.size()) return &a.pos[index];
    for (const auto& [k, v] : a.kw)
        if (k == name) return &v;
    return nullptr;
}

Value arg_or(const CallArgs& a, size_t index, std::string_view name, Value fallback) {
    const Value* v = find_arg(a, index, name);
    return v ? *v : std::move(fallback);
}

std::string case_map(std::string_view s, bool upper) {
    std::string out;
    out.reserve(s.size());
    for (char32_t c : decode_utf8(s))
        append_utf8(out, char32_t(upper ? utf8proc_toupper(utf8proc_int32_t(c)) : utf8proc_tolower(utf8proc_int32_t(c))));
    return out;
}

std::string py_strip(std::string_view s, const Value& chars, bool left, bool right) {
    auto cps = decode_utf8(s);
    std::vector<char32_t> set;
    bool whitespace = chars.is_none() || chars.is_undefined();
    if (!whitespace) set = decode_utf8(chars.s);
    auto strip_it = [&](char32_t c) {
        return whitespace ? is_py_space(c) : std::find(set.begin(), set.end(), c) != set.end();
    };
    size_t lo = 0, hi = cps.size();
    if (left)
        while (lo < hi && strip_it(cps[lo])) ++lo;
    if (right)
        while (hi > lo && strip_it(cps[hi - 1])) --hi;
    std::string out;
    for (size_t k = lo; k < hi; ++k) append_utf8(out, cps[k]);
    return out;
}

namespace {

std::string encode(const std::vector<char32_t>& cps, size_t lo, size_t hi) {
    std::string out;
    for (size_t k = lo; k < hi; ++k) append_utf8(out, cps[k]);
    return out;
}

// str.split / str.rsplit. sep None: runs of whitespace, no empty strings.
List py_split(Interp& in, const std::string& s, const Value& sep, int64_t maxsplit, bool from_right) {
    List out;
    if (sep.is_none() || sep.is_undefined()) {
        auto cps = decode_utf8(s);
        std::vector<std::pair<size_t, size_t>> words;
        for (size_t k = 0; k < cps.size();) {
            while (k < cps.size() && is_py_space(cps[k])) ++k;
            if (k >= cps.size()) break;
            size_t b = k;
            while (k < cps.size() && !is_py_space(cps[k])) ++k;
            words.emplace_back(b, k);
        }
        if (maxsplit < 0 || size_t(maxsplit) >= words.size()) {
            for (auto [b, e] : words) out.push_back(Value::string(encode(cps, b, e)));
            return out;
        }
        size_t m = size_t(maxsplit);
        if (!from_right) {
            for (size_t k = 0; k < m; ++k) out.push_back(Value::string(encode(cps, words[k].first, words[k].second)));
            out.push_back(Value::string(encode(cps, words[m].first, cps.size())));  // remainder keeps its tail
        } else {
            size_t first = words.size() - m;
            out.push_back(Value::string(encode(cps, 0, words[first - 1].second)));  // keeps its head
            for (size_t k = first; k < words.size(); ++k) out.push_back(Value::string(encode(cps, words[k].first, words[k].second)));
        }
        return out;
    }
    if (!sep.is_string()) in.fail("must be str or None");
    if (sep.s.empty()) in.fail("empty separator");
    std::vector<std::string> parts;
    if (!from_right) {
        size_t p = 0;
        for (int64_t n = 0; maxsplit < 0 || n < maxsplit; ++n) {
            size_t q = s.find(sep.s, p);
            if (q == std::string::npos) break;
            parts.push_back(s.substr(p, q - p));
            p = q + sep.s.size();
        }
        parts.push_back(s.substr(p));
    } else {
        size_t end = s.size();
        for (int64_t n = 0; maxsplit < 0 || n < maxsplit; ++n) {
            if (end < sep.s.size()) break;
            size_t q = s.rfind(sep.s, end - sep.s.size());
            if (q == std::string::npos) break;
            parts.push_back(s.substr(q + sep.s.size(), end - q - sep.s.size()));
            end = q;
        }
        parts.push_back(s.substr(0, end));
        std::reverse(parts.begin(), parts.end());
    }
    for (auto& p : parts) out.push_back(Value::string(std::move(p)));
    in.check_list_size(out.size());
    return out;
}

std::string title_case(std::string_view s) {
    std::string out;
    bool prev_cased = false;
    for (char32_t c : decode_utf8(s)) {
        bool cased = utf8proc_toupper(utf8proc_int32_t(c)) != utf8proc_int32_t(c) ||
                     utf8proc_tolower(utf8proc_int32_t(c)) != utf8proc_int32_t(c);
        append_utf8(out, char32_t(prev_cased ? utf8proc_tolower(utf8proc_int32_t(c)) : utf8proc_toupper(utf8proc_int32_t(c))));
        prev_cased = cased;
    }
    return out;
}

bool all_chars(std::string_view s, bool (*pred)(char32_t)) {
    auto cps = decode_utf8(s);
    if (cps.empty()) return false;
    for (char32_t c : cps)
        if (!pred(c)) return false;
    return true;
}

const std::string& str_arg(Interp& in, const CallArgs& a, size_t k, std::string_view name, std::string_view method) {
    const Value* v = find_arg(a, k, name);
    if (!v) in.fail(fmt::format("{}() missing argument '{}'", method, name));
    if (!v->is_string()) in.fail(fmt::format("{}() argument must be str, not {}", method, kind_name(*v)));
    return v->s;
}

int64_t int_arg(Interp& in, const CallArgs& a, size_t k, std::string_view name, int64_t fallback) {
    const Value* v = find_arg(a, k, name);
    if (!v || v->is_none()) return fallback;
    if (v->kind != Value::Kind::Int) in.fail(fmt::format("'{}' must be an integer", name));
    return v->i;
}

// startswith/endswith accept a str or a tuple of str.
bool affix_match(Interp& in, const std::string& s, const Value& what, bool prefix) {
    auto one = [&](const Value& w) {
        if (!w.is_string()) in.fail(fmt::format("{} first arg must be str or a tuple of str", prefix ? "startswith" : "endswith"));
        return prefix ? s.starts_with(w.s) : s.ends_with(w.s);
    };
    if (what.is_list()) {
        for (const auto& w : *what.list)
            if (one(w)) return true;
        return false;
    }
    return one(what);
}

Value string_method(Interp& in, const std::string& s, std::string_view m, CallArgs& a) {
    if (m == "strip" || m == "lstrip" || m == "rstrip") {
        Value chars = arg_or(a, 0, "chars", Value::none());
        if (!chars.is_none() && !chars.is_string()) in.fail(fmt::format("{} arg must be None or str", m));
        return Value::string(py_strip(s, chars, m != "rstrip", m != "lstrip"));
    }
    if (m == "split" || m == "rsplit")
        return Value::make_list(py_split(in, s, arg_or(a, 0, "sep", Value::none()), int_arg(in, a, 1, "maxsplit", -1), m == "rsplit"));
    if (m == "startswith" || m == "endswith") {
        const Value* w = find_arg(a, 0, "prefix");
        if (!w) in.fail(fmt::format("{}() takes at least 1 argument", m));
        return Value::boolean(affix_match(in, s, *w, m == "startswith"));
    }
    if (m == "upper" || m == "lower") return Value::string(case_map(s, m == "upper"));
    if (m == "title") return Value::string(title_case(s));
    if (m == "capitalize") {
        auto cps = decode_utf8(s);
        std::string out = cps.empty() ? "" : case_map(encode(cps, 0, 1), true);
        return Value::string(out + case_map(encode(cps, std::min<size_t>(1, cps.size()), cps.size()), false));
    }
    if (m == "replace") {
        const std::string& old = str_arg(in, a, 0, "old", m);
        const std::string& neu = str_arg(in, a, 1, "new", m);
        int64_t count = int_arg(in, a, 2, "count", -1);
        std::string out;
        size_t p = 0;
        if (old.empty()) {  // Python inserts `new` between every code point
            auto cps = decode_utf8(s);
            for (size_t k = 0; k <= cps.size(); ++k) {
                if (count < 0 || int64_t(k) < count) out += neu;
                if (k < cps.size()) append_utf8(out, cps[k]);
                in.check_string_size(out.size());
            }
            return Value::string(std::move(out));
        }
        for (int64_t n = 0; count < 0 || n < count; ++n) {
            size_t q = s.find(old, p);
            if (q == std::string::npos) break;
            out.append(s, p, q - p);
            out += neu;
            p = q + old.size();
            in.check_string_size(out.size());
        }
        out.append(s, p);
        in.check_string_size(out.size());
        return Value::string(std::move(out));
    }
    if (m == "find" || m == "rfind" || m == "index" || m == "rindex") {
        const std::string& sub = str_arg(in, a, 0, "sub", m);
        size_t q = (m == "find" || m == "index") ? s.find(sub) : s.rfind(sub);
        if (q == std::string::npos) {
            if (m == "index" || m == "rindex") in.fail("substring not found");
            return Value::integer(-1);
        }
        return Value::integer(int64_t(utf8_length(std::string_view(s).substr(0, q))));
    }
    if (m == "count") {
        const std::string& sub = str_arg(in, a, 0, "sub", m);
        if (sub.empty()) return Value::integer(int64_t(utf8_length(s)) + 1);
        int64_t n = 0;
        for (size_t q = s.find(sub); q != std::string::npos; q = s.find(sub, q + sub.size())) ++n;
        return Value::integer(n);
    }
    if (m == "join") {
        const Value* items = find_arg(a, 0, "iterable");
        if (!items) in.fail("join() takes exactly one argument");
        std::string out;
        bool first = true;
        for (const auto& x : in.iterate(*items)) {
            if (!x.is_string()) in.fail(fmt::format("sequence item: expected str instance, {} found", kind_name(x)));
            if (!first) out += s;
            out += x.s;
            first = false;
            in.check_string_size(out.size());
        }
        return Value::string(std::move(out));
    }
    if (m == "splitlines") {
        List out;
        size_t p = 0;
        while (p < s.size()) {
            size_t q = s.find_first_of("\r\n", p);
            if (q == std::string::npos) {
                out.push_back(Value::string(s.substr(p)));
                break;
            }
            out.push_back(Value::string(s.substr(p, q - p)));
            p = q + ((s[q] == '\r' && q + 1 < s.size() && s[q + 1] == '\n') ? 2 : 1);
        }
        return Value::make_list(std::move(out));
    }
    if (m == "removeprefix" || m == "removesuffix") {
        const std::string& x = str_arg(in, a, 0, m == "removeprefix" ? "prefix" : "suffix", m);
        if (m == "removeprefix" && s.starts_with(x)) return Value::string(s.substr(x.size()));
        if (m == "removesuffix" && s.ends_with(x) && !x.empty()) return Value::string(s.substr(0, s.size() - x.size()));
        return Value::string(s);
    }
    if (m == "isdigit") return Value::boolean(all_chars(s, [](char32_t c) { return c >= '0' && c <= '9'; }));
    if (m == "isspace") return Value::boolean(all_chars(s, is_py_space));
    if (m == "isalpha")
        return Value::boolean(all_chars(s, [](char32_t c) {
            auto cat = utf8proc_category(utf8proc_int32_t(c));
            return cat >= UTF8PROC_CATEGORY_LU && cat <= UTF8PROC_CATEGORY_LO;
        }));
    if (m == "isalnum")
        return Value::boolean(all_chars(s, [](char32_t c) {
            auto cat = utf8proc_category(utf8proc_int32_t(c));
            return (cat >= UTF8PROC_CATEGORY_LU && cat <= UTF8PROC_CATEGORY_LO) || (cat >= UTF8PROC_CATEGORY_ND && cat <= UTF8PROC_CATEGORY_NO);
        }));
    if (m == "islower") return Value::boolean(!s.empty() && case_map(s, false) == s && case_map(s, true) != s);
    if (m == "isupper") return Value::boolean(!s.empty() && case_map(s, true) == s && case_map(s, false) != s);
    in.fail(fmt::format("'str' object has no attribute '{}'", m));
}

Value dict_method(Interp& in, const Value& d, std::string_view m, CallArgs& a) {
    if (m == "items") {
        List out;
        for (const auto& [k, v] : d.dict->items) out.push_back(Value::make_list({Value::string(k), v}, true));
        return Value::make_list(std::move(out));
    }
    if (m == "keys" || m == "values") {
        List out;
        for (const auto& [k, v] : d.dict->items) out.push_back(m == "keys" ? Value::string(k) : v);
        return Value::make_list(std::move(out));
    }
    if (m == "get") {
        const Value* key = find_arg(a, 0, "key");
        if (!key) in.fail("get expected at least 1 argument");
        if (key->is_string())
            if (const Value* v = d.dict->find(key->s)) return *v;
        return arg_or(a, 1, "default", Value::none());
    }
    in.fail(fmt::format("'dict' object has no attribute '{}'", m));
}

constexpr std::string_view kStringMethods[] = {
    "strip", "lstrip", "rstrip", "split", "rsplit", "startswith", "endswith", "upper", "lower",
    "title", "capitalize", "replace", "find", "rfind", "index", "rindex", "count", "join",
    "splitlines", "removeprefix", "removesuffix", "isdigit", "isspace", "isalpha", "isalnum",
    "islower", "isupper",
};
constexpr std::string_view kDictMethods[] = {"items", "keys", "values", "get"};

}  // namespace

std::optional<Value> bound_method(const Value& obj, std::string_view name) {
    if (obj.is_string()) {
        if (std::find(std::begin(kStringMethods), std::end(kStringMethods), name) == std::end(kStringMethods)) return std::nullopt;
        std::string s = obj.s, m(name);
        return Value::function("str." + m, [s, m](Interp& in, CallArgs& a) { return string_method(in, s, m, a); });
    }
    if (obj.kind == Value::Kind::Dict) {
        if (std::find(std::begin(kDictMethods), std::end(kDictMethods), name) == std::end(kDictMethods)) return std::nullopt;
        std::string m(name);
        return Value::function("dict." + m, [obj, m](Interp& in, CallArgs& a) { return dict_method(in, obj, m, a); });
    }
    return std::nullopt;
}

Dict global_functions() {
    Dict g;
    g.set("range", Value::function("range", [](Interp& in, CallArgs& a) {
        if (a.pos.empty() || a.pos.size() > 3) in.fail("range expected 1 to 3 integer arguments");
        for (const auto& v : a.pos)
            if (v.kind != Value::Kind::Int) in.fail(fmt::format("'{}' object cannot be interpreted as an integer", kind_name(v)));
        int64_t start = a.pos.size() > 1 ? a.pos[0].i : 0;
        int64_t stop = a.pos.size() > 1 ? a.pos[1].i : a.pos[0].i;
        int64_t step = a.pos.size() > 2 ? a.pos[2].i : 1;
        if (step == 0) in.fail("range() arg 3 must not be zero");
        // Count first (in double to avoid overflow), so a huge range fails before allocating.
        double count = std::max(0.0, std::ceil((double(stop) - double(start)) / double(step)));
        in.check_list_size(size_t(std::min(count, 1e18)));
        List out;
        for (int64_t x = start; step > 0 ? x < stop : x > stop; x += step) out.push_back(Value::integer(x));
        return Value::make_list(std::move(out));
    }));
    auto make_dict = [](Value::Kind kind) {
        return [kind](Interp& in, CallArgs& a) {
            Dict d;
            if (a.pos.size() > 1) in.fail("expected at most 1 positional argument");
            if (!a.pos.empty()) {
                if (a.pos[0].kind != Value::Kind::Dict) in.fail("expected a dict as positional argument");
                d = *a.pos[0].dict;
            }
            for (auto& [k, v] : a.kw) d.set(k, v);
            return Value::make_dict(std::move(d), kind);
        };
    };
    g.set("namespace", Value::function("namespace", make_dict(Value::Kind::Namespace)));
    g.set("dict", Value::function("dict", make_dict(Value::Kind::Dict)));
    g.set("raise_exception", Value::function("raise_exception", [](Interp& in, CallArgs& a) -> Value {
        in.fail(a.pos.empty() ? std::string("raise_exception called") : to_str(a.pos[0]), TemplateError::Kind::Raised);
    }));
    g.set("strftime_now", Value::function("strftime_now", [](Interp& in, CallArgs& a) {
        const Value* f = find_arg(a, 0, "format");
        if (!f || !f->is_string()) in.fail("strftime_now() takes a format string");
        std::time_t now = std::time(nullptr);
        std::tm tm{};
        localtime_r(&now, &tm);
        std::string buf(256 + f->s.size() * 8, '\0');
        size_t n = std::strftime(buf.data(), buf.size(), f->s.c_str(), &tm);
        buf.resize(n);
        return Value::string(std::move(buf));
    }));
    return g;
}

}  // namespace r1::chat
