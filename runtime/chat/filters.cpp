// jinja2's built-in filters and tests that chat templates use, with jinja2's argument names
// and defaults. `tojson` is Hugging Face's: json.dumps(x, ensure_ascii=False, indent=None,
// separators=None, sort_keys=False), not jinja2's HTML-safe variant.
#include <algorithm>
#include <cmath>
#include <map>

#include <fmt/format.h>

#include "runtime/chat/builtins.h"
#include "runtime/chat/interp.h"

namespace r1::chat {
namespace {

using FilterFn = Value (*)(Interp&, Value&, CallArgs&);
using TestFn = bool (*)(Interp&, const Value&, CallArgs&);

int64_t length_of(Interp& in, const Value& v) {
    switch (v.kind) {
        case Value::Kind::String: return int64_t(utf8_length(v.s));
        case Value::Kind::List:
        case Value::Kind::Tuple: return int64_t(v.list->size());
        case Value::Kind::Dict: return int64_t(v.dict->items.size());
        case Value::Kind::Undefined: return 0;
        default: in.fail(fmt::format("object of type '{}' has no len()", kind_name(v)));
    }
}

bool bool_arg(const CallArgs& a, size_t k, std::string_view name, bool fallback) {
    const Value* v = find_arg(a, k, name);
    return v ? truthy(*v) : fallback;
}

// `attribute="a.b"` or an integer index, as jinja2's make_attrgetter.
Value get_attribute(Interp& in, const Value& item, const Value& attr) {
    if (attr.kind == Value::Kind::Int) return in.getitem(item, attr);
    Value cur = item;
    std::string path = to_str(attr);
    size_t p = 0;
    for (;;) {
        size_t q = path.find('.', p);
        std::string part = path.substr(p, q == std::string::npos ? std::string::npos : q - p);
        bool digits = !part.empty() && std::all_of(part.begin(), part.end(), [](char c) { return c >= '0' && c <= '9'; });
        cur = digits ? in.getitem(cur, Value::integer(std::stoll(part))) : in.getitem(cur, Value::string(part));
        if (q == std::string::npos) return cur;
        p = q + 1;
    }
}

// Sort key: lower-cased strings unless case_sensitive.
Value sort_key(const Value& v, bool case_sensitive) {
    return (!case_sensitive && v.is_string()) ? Value::string(case_map(v.s, false)) : v;
}

int cmp_or_fail(Interp& in, const Value& a, const Value& b) {
    auto c = compare(a, b);
    if (!c) in.fail(fmt::format("'<' not supported between instances of '{}' and '{}'", kind_name(a), kind_name(b)));
    return *c;
}

Value f_tojson(Interp& in, Value& v, CallArgs& a) {
    DumpOptions o;
    o.ensure_ascii = bool_arg(a, 0, "ensure_ascii", false);
    Value indent = arg_or(a, 1, "indent", Value::none());
    if (indent.kind == Value::Kind::Int) o.indent = std::string(size_t(std::max<int64_t>(0, std::min<int64_t>(indent.i, 64))), ' ');
    else if (indent.is_string()) o.indent = indent.s;
    else if (!indent.is_none()) in.fail("tojson indent must be an integer or a string");
    if (o.indent) o.item_sep = ",";
    Value seps = arg_or(a, 2, "separators", Value::none());
    if (seps.is_list()) {
        if (seps.list->size() != 2 || !(*seps.list)[0].is_string() || !(*seps.list)[1].is_string())
            in.fail("tojson separators must be a pair of strings");
        o.item_sep = (*seps.list)[0].s;
        o.key_sep = (*seps.list)[1].s;
    }
    o.sort_keys = bool_arg(a, 3, "sort_keys", false);
    try {
        std::string s = dumps(v, o);
        in.check_string_size(s.size());
        return Value::string(std::move(s));
    } catch (const std::invalid_argument& e) {
        in.fail(e.what());
    }
}

Value f_trim(Interp&, Value& v, CallArgs& a) { return Value::string(py_strip(to_str(v), arg_or(a, 0, "chars", Value::none()), true, true)); }
Value f_length(Interp& in, Value& v, CallArgs&) { return Value::integer(length_of(in, v)); }
Value f_upper(Interp&, Value& v, CallArgs&) { return Value::string(case_map(to_str(v), true)); }
Value f_lower(Interp&, Value& v, CallArgs&) { return Value::string(case_map(to_str(v), false)); }
Value f_string(Interp&, Value& v, CallArgs&) { return v.is_string() ? v : Value::string(to_str(v)); }
Value f_safe(Interp&, Value& v, CallArgs&) { return v; }

Value call_str_method(Interp& in, const std::string& s, const char* m, CallArgs& a) {
    Value fn = *bound_method(Value::string(s), m);
    return in.call(fn, a);
}
Value f_capitalize(Interp& in, Value& v, CallArgs& a) { return call_str_method(in, to_str(v), "capitalize", a); }
Value f_title(Interp& in, Value& v, CallArgs& a) { return call_str_method(in, to_str(v), "title", a); }

Value f_replace(Interp& in, Value& v, CallArgs& a) {
    CallArgs b;
    b.pos = {arg_or(a, 0, "old", Value::undefined()), arg_or(a, 1, "new", Value::undefined()),
             arg_or(a, 2, "count", Value::none())};
    if (b.pos[0].is_undefined() || b.pos[1].is_undefined()) in.fail("replace needs 'old' and 'new'");
    b.pos[0] = Value::string(to_str(b.pos[0]));
    b.pos[1] = Value::string(to_str(b.pos[1]));
    return call_str_method(in, to_str(v), "replace", b);
}

Value f_join(Interp& in, Value& v, CallArgs& a) {
    std::string sep = to_str(arg_or(a, 0, "d", Value::string("")));
    const Value* attr = find_arg(a, 1, "attribute");
    std::string out;
    bool first = true;
    for (const auto& x : in.iterate(v)) {
        if (!first) out += sep;
        out += to_str(attr ? get_attribute(in, x, *attr) : x);
        first = false;
        in.check_string_size(out.size());
    }
    return Value::string(std::move(out));
}

Value f_first(Interp& in, Value& v, CallArgs&) {
    List items = in.iterate(v);
    return items.empty() ? Value::undefined("No first item, sequence was empty.") : items.front();
}
Value f_last(Interp& in, Value& v, CallArgs&) {
    List items = in.iterate(v);
    return items.empty() ? Value::undefined("No last item, sequence was empty.") : items.back();
}

Value f_default(Interp&, Value& v, CallArgs& a) {
    bool boolean = bool_arg(a, 1, "boolean", false);
    if (v.is_undefined() || (boolean && !truthy(v))) return arg_or(a, 0, "default_value", Value::string(""));
    return v;
}

Value f_items(Interp& in, Value& v, CallArgs&) {
    if (v.is_undefined()) return Value::make_list({});
    if (v.kind != Value::Kind::Dict) in.fail(fmt::format("can only get item pairs from a mapping, not {}", kind_name(v)));
    List out;
    for (const auto& [k, x] : v.dict->items) out.push_back(Value::make_list({Value::string(k), x}, true));
    return Value::make_list(std::move(out));
}

Value f_list(Interp& in, Value& v, CallArgs&) { return Value::make_list(in.iterate(v)); }

Value f_int(Interp&, Value& v, CallArgs& a) {
    Value fallback = arg_or(a, 0, "default", Value::integer(0));
    if (v.kind == Value::Kind::Int) return v;
    if (v.kind == Value::Kind::Bool) return Value::integer(v.b);
    if (v.kind == Value::Kind::Float) return std::isfinite(v.f) && std::fabs(v.f) < 9.2e18 ? Value::integer(int64_t(v.f)) : fallback;
    if (v.is_string()) {
        std::string s = py_strip(v.s, Value::none(), true, true);
        s.erase(std::remove(s.begin(), s.end(), '_'), s.end());
        char* end = nullptr;
        errno = 0;
        long long x = std::strtoll(s.c_str(), &end, 10);
        if (!s.empty() && end == s.c_str() + s.size() && errno == 0) return Value::integer(x);
        double d = std::strtod(s.c_str(), &end);  // jinja2 falls back to int(float(s))
        if (!s.empty() && end == s.c_str() + s.size() && std::isfinite(d) && std::fabs(d) < 9.2e18) return Value::integer(int64_t(d));
    }
    return fallback;
}

Value f_float(Interp&, Value& v, CallArgs& a) {
    Value fallback = arg_or(a, 0, "default", Value::number(0.0));
    if (v.is_number()) return Value::number(v.as_double());
    if (v.is_string()) {
        std::string s = py_strip(v.s, Value::none(), true, true);
        char* end = nullptr;
        double d = std::strtod(s.c_str(), &end);
        if (!s.empty() && end == s.c_str() + s.size()) return Value::number(d);
    }
    return fallback;
}

Value f_abs(Interp& in, Value& v, CallArgs&) {
    if (v.kind == Value::Kind::Int) {
        if (v.i == INT64_MIN) in.fail("integer overflow");
        return Value::integer(v.i < 0 ? -v.i : v.i);
    }
    if (v.kind == Value::Kind::Bool) return Value::integer(v.b);
    if (v.kind == Value::Kind::Float) return Value::number(std::fabs(v.f));
    in.fail(fmt::format("bad operand type for abs(): '{}'", kind_name(v)));
}

Value f_round(Interp& in, Value& v, CallArgs& a) {
    if (!v.is_number()) in.fail("round needs a number");
    int64_t prec = 0;
    if (const Value* p = find_arg(a, 0, "precision"); p && p->kind == Value::Kind::Int) prec = p->i;
    std::string method = to_str(arg_or(a, 1, "method", Value::string("common")));
    double scale = std::pow(10.0, double(prec)), x = v.as_double() * scale;
    // Python's round() (used by "common") rounds halves to even.
    double r = method == "ceil" ? std::ceil(x) : method == "floor" ? std::floor(x) : std::nearbyint(x);
    if (method != "common" && method != "ceil" && method != "floor") in.fail("method must be common, ceil or floor");
    return Value::number(r / scale);
}

Value f_reverse(Interp& in, Value& v, CallArgs&) {
    if (v.is_string()) {
        auto cps = decode_utf8(v.s);
        std::string out;
        for (size_t k = cps.size(); k-- > 0;) append_utf8(out, cps[k]);
        return Value::string(std::move(out));
    }
    List items = in.iterate(v);
    std::reverse(items.begin(), items.end());
    return Value::make_list(std::move(items));
}

Value f_sort(Interp& in, Value& v, CallArgs& a) {
    bool reverse = bool_arg(a, 0, "reverse", false), cs = bool_arg(a, 1, "case_sensitive", false);
    const Value* attr = find_arg(a, 2, "attribute");
    List items = in.iterate(v);
    std::vector<std::pair<Value, Value>> keyed;
    for (auto& x : items) keyed.emplace_back(sort_key(attr ? get_attribute(in, x, *attr) : x, cs), x);
    std::stable_sort(keyed.begin(), keyed.end(), [&](const auto& p, const auto& q) {
        int c = cmp_or_fail(in, p.first, q.first);
        return reverse ? c > 0 : c < 0;
    });
    List out;
    for (auto& kv : keyed) out.push_back(std::move(kv.second));
    return Value::make_list(std::move(out));
}

Value f_dictsort(Interp& in, Value& v, CallArgs& a) {
    if (v.kind != Value::Kind::Dict) in.fail("dictsort needs a dict");
    bool cs = bool_arg(a, 0, "case_sensitive", false);
    std::string by = to_str(arg_or(a, 1, "by", Value::string("key")));
    bool reverse = bool_arg(a, 2, "reverse", false);
    List pairs;
    for (const auto& [k, x] : v.dict->items) pairs.push_back(Value::make_list({Value::string(k), x}, true));
    size_t idx = by == "value" ? 1 : 0;
    std::stable_sort(pairs.begin(), pairs.end(), [&](const Value& p, const Value& q) {
        int c = cmp_or_fail(in, sort_key((*p.list)[idx], cs), sort_key((*q.list)[idx], cs));
        return reverse ? c > 0 : c < 0;
    });
    return Value::make_list(std::move(pairs));
}

Value f_unique(Interp& in, Value& v, CallArgs& a) {
    bool cs = bool_arg(a, 0, "case_sensitive", false);
    const Value* attr = find_arg(a, 1, "attribute");
    List out, seen;
    for (auto& x : in.iterate(v)) {
        Value key = sort_key(attr ? get_attribute(in, x, *attr) : x, cs);
        if (std::any_of(seen.begin(), seen.end(), [&](const Value& s) { return equals(s, key); })) continue;
        seen.push_back(key);
        out.push_back(x);
    }
    return Value::make_list(std::move(out));
}

Value min_max(Interp& in, Value& v, CallArgs& a, bool want_max) {
    bool cs = bool_arg(a, 0, "case_sensitive", false);
    const Value* attr = find_arg(a, 1, "attribute");
    List items = in.iterate(v);
    if (items.empty()) return Value::undefined(want_max ? "No aggregated item, sequence was empty." : "No aggregated item, sequence was empty.");
    size_t best = 0;
    for (size_t k = 1; k < items.size(); ++k) {
        Value x = sort_key(attr ? get_attribute(in, items[k], *attr) : items[k], cs);
        Value y = sort_key(attr ? get_attribute(in, items[best], *attr) : items[best], cs);
        int c = cmp_or_fail(in, x, y);
        if (want_max ? c > 0 : c < 0) best = k;
    }
    return items[best];
}
Value f_max(Interp& in, Value& v, CallArgs& a) { return min_max(in, v, a, true); }
Value f_min(Interp& in, Value& v, CallArgs& a) { return min_max(in, v, a, false); }

Value f_sum(Interp& in, Value& v, CallArgs& a) {
    const Value* attr = find_arg(a, 0, "attribute");
    Value total = arg_or(a, 1, "start", Value::integer(0));
    for (auto& x : in.iterate(v)) {
        Value y = attr ? get_attribute(in, x, *attr) : x;
        if (!y.is_number() || !total.is_number()) in.fail("sum needs numbers");
        if (total.kind != Value::Kind::Float && y.kind != Value::Kind::Float) {
            int64_t r;
            if (__builtin_add_overflow(total.kind == Value::Kind::Int ? total.i : total.b, y.kind == Value::Kind::Int ? y.i : y.b, &r))
                in.fail("integer overflow");
            total = Value::integer(r);
        } else {
            total = Value::number(total.as_double() + y.as_double());
        }
    }
    return total;
}

Value f_indent(Interp&, Value& v, CallArgs& a) {
    Value w = arg_or(a, 0, "width", Value::integer(4));
    std::string pad = w.is_string() ? w.s : std::string(size_t(std::clamp<int64_t>(w.i, 0, 256)), ' ');
    bool first = bool_arg(a, 1, "first", false), blank = bool_arg(a, 2, "blank", false);
    std::string s = to_str(v) + "\n";  // as jinja2: a final newline does not make an extra line
    std::vector<std::string> lines;
    for (size_t p = 0; p < s.size();) {
        size_t q = s.find('\n', p);
        lines.push_back(s.substr(p, q - p));
        p = q + 1;
    }
    std::string out = lines[0];
    for (size_t k = 1; k < lines.size(); ++k) out += "\n" + ((blank || !lines[k].empty()) ? pad : "") + lines[k];
    if (first) out = pad + out;
    return Value::string(std::move(out));
}

Value f_escape(Interp&, Value& v, CallArgs&) {
    std::string out;
    for (char c : to_str(v)) {
        switch (c) {
            case '&': out += "&amp;"; break;
            case '<': out += "&lt;"; break;
            case '>': out += "&gt;"; break;
            case '"': out += "&#34;"; break;
            case '\'': out += "&#39;"; break;
            default: out += c;
        }
    }
    return Value::string(std::move(out));
}

// jinja2's attr() reads Python attributes only: methods of str/dict, namespace fields; never dict items.
Value f_attr(Interp& in, Value& v, CallArgs& a) {
    std::string name = to_str(arg_or(a, 0, "name", Value::string("")));
    if (v.kind == Value::Kind::Dict || v.is_string()) {
        if (name.starts_with("_")) in.fail(fmt::format("access to attribute '{}' is not allowed", name));
        if (auto m = bound_method(v, name)) return *m;
        return Value::undefined(fmt::format("'{}' object has no attribute '{}'", kind_name(v), name));
    }
    return in.getattr(v, name);
}

Value f_wordcount(Interp& in, Value& v, CallArgs&) {
    CallArgs none;
    Value words = call_str_method(in, to_str(v), "split", none);
    return Value::integer(int64_t(words.list->size()));
}

// select/reject(test, args...), selectattr/rejectattr(attr, test, args...).
Value select_common(Interp& in, Value& v, CallArgs& a, bool by_attr, bool keep) {
    size_t first = by_attr ? 1 : 0;
    std::string attr = by_attr && !a.pos.empty() ? to_str(a.pos[0]) : "";
    std::string test = a.pos.size() > first ? to_str(a.pos[first]) : "";
    if (!test.empty() && !has_test(test)) in.fail(fmt::format("no test named '{}'", test));
    CallArgs targs;
    for (size_t k = first + 1; k < a.pos.size(); ++k) targs.pos.push_back(a.pos[k]);
    targs.kw = a.kw;
    List out;
    for (auto& x : in.iterate(v)) {
        Value subject = by_attr ? get_attribute(in, x, Value::string(attr)) : x;
        bool ok = test.empty() ? truthy(subject) : apply_test(in, test, subject, targs);
        if (ok == keep) out.push_back(x);
    }
    return Value::make_list(std::move(out));
}
Value f_select(Interp& in, Value& v, CallArgs& a) { return select_common(in, v, a, false, true); }
Value f_reject(Interp& in, Value& v, CallArgs& a) { return select_common(in, v, a, false, false); }
Value f_selectattr(Interp& in, Value& v, CallArgs& a) { return select_common(in, v, a, true, true); }
Value f_rejectattr(Interp& in, Value& v, CallArgs& a) { return select_common(in, v, a, true, false); }

Value f_map(Interp& in, Value& v, CallArgs& a) {
    List out;
    const Value* attr = nullptr;
    for (const auto& [k, x] : a.kw)
        if (k == "attribute") attr = &x;
    if (attr) {
        const Value* dflt = nullptr;
        for (const auto& [k, x] : a.kw)
            if (k == "default") dflt = &x;
        for (auto& x : in.iterate(v)) {
            Value y = get_attribute(in, x, *attr);
            out.push_back(y.is_undefined() && dflt ? *dflt : y);
        }
        return Value::make_list(std::move(out));
    }
    if (a.pos.empty()) in.fail("map needs a filter name or attribute=");
    std::string name = to_str(a.pos[0]);
    if (!has_filter(name)) in.fail(fmt::format("no filter named '{}'", name));
    CallArgs fargs;
    fargs.pos.assign(a.pos.begin() + 1, a.pos.end());
    fargs.kw = a.kw;
    for (auto& x : in.iterate(v)) out.push_back(apply_filter(in, name, x, fargs));
    return Value::make_list(std::move(out));
}

const std::map<std::string_view, FilterFn>& filters() {
    static const std::map<std::string_view, FilterFn> m = {
        {"abs", f_abs}, {"attr", f_attr}, {"capitalize", f_capitalize}, {"count", f_length},
        {"d", f_default}, {"default", f_default}, {"dictsort", f_dictsort}, {"e", f_escape},
        {"escape", f_escape}, {"first", f_first}, {"float", f_float}, {"indent", f_indent},
        {"int", f_int}, {"items", f_items}, {"join", f_join}, {"last", f_last}, {"length", f_length},
        {"list", f_list}, {"lower", f_lower}, {"map", f_map}, {"max", f_max}, {"min", f_min},
        {"reject", f_reject}, {"rejectattr", f_rejectattr}, {"replace", f_replace},
        {"reverse", f_reverse}, {"round", f_round}, {"safe", f_safe}, {"select", f_select},
        {"selectattr", f_selectattr}, {"sort", f_sort}, {"string", f_string}, {"sum", f_sum},
        {"title", f_title}, {"tojson", f_tojson}, {"trim", f_trim}, {"unique", f_unique},
        {"upper", f_upper}, {"wordcount", f_wordcount},
    };
    return m;
}

const Value& test_arg(Interp& in, const CallArgs& a, std::string_view test) {
    if (a.pos.empty()) in.fail(fmt::format("test '{}' needs an argument", test));
    return a.pos[0];
}

bool t_defined(Interp&, const Value& v, CallArgs&) { return !v.is_undefined(); }
bool t_undefined(Interp&, const Value& v, CallArgs&) { return v.is_undefined(); }
bool t_none(Interp&, const Value& v, CallArgs&) { return v.is_none(); }
bool t_boolean(Interp&, const Value& v, CallArgs&) { return v.kind == Value::Kind::Bool; }
bool t_false(Interp&, const Value& v, CallArgs&) { return v.kind == Value::Kind::Bool && !v.b; }
bool t_true(Interp&, const Value& v, CallArgs&) { return v.kind == Value::Kind::Bool && v.b; }
bool t_integer(Interp&, const Value& v, CallArgs&) { return v.kind == Value::Kind::Int; }
bool t_float(Interp&, const Value& v, CallArgs&) { return v.kind == Value::Kind::Float; }
bool t_number(Interp&, const Value& v, CallArgs&) { return v.is_number(); }
bool t_string(Interp&, const Value& v, CallArgs&) { return v.is_string(); }
bool t_mapping(Interp&, const Value& v, CallArgs&) { return v.kind == Value::Kind::Dict; }
bool t_iterable(Interp&, const Value& v, CallArgs&) {
    return v.is_string() || v.is_list() || v.kind == Value::Kind::Dict || v.is_undefined();
}
bool t_sequence(Interp&, const Value& v, CallArgs&) { return v.is_string() || v.is_list() || v.kind == Value::Kind::Dict; }
bool t_callable(Interp&, const Value& v, CallArgs&) { return v.kind == Value::Kind::Function; }
bool t_lower(Interp&, const Value& v, CallArgs&) { return v.is_string() && case_map(v.s, false) == v.s; }
bool t_upper(Interp&, const Value& v, CallArgs&) { return v.is_string() && case_map(v.s, true) == v.s; }
bool t_odd(Interp& in, const Value& v, CallArgs&) {
    if (v.kind != Value::Kind::Int) in.fail("test 'odd' needs an integer");
    return (v.i % 2) != 0;
}
bool t_even(Interp& in, const Value& v, CallArgs&) {
    if (v.kind != Value::Kind::Int) in.fail("test 'even' needs an integer");
    return (v.i % 2) == 0;
}
bool t_divisibleby(Interp& in, const Value& v, CallArgs& a) {
    const Value& d = test_arg(in, a, "divisibleby");
    if (v.kind != Value::Kind::Int || d.kind != Value::Kind::Int) in.fail("test 'divisibleby' needs integers");
    if (d.i == 0) in.fail("integer division or modulo by zero");
    return d.i == -1 || v.i % d.i == 0;
}
bool t_eq(Interp& in, const Value& v, CallArgs& a) { return equals(v, test_arg(in, a, "eq")); }
bool t_ne(Interp& in, const Value& v, CallArgs& a) { return !equals(v, test_arg(in, a, "ne")); }
bool t_lt(Interp& in, const Value& v, CallArgs& a) { return cmp_or_fail(in, v, test_arg(in, a, "lt")) < 0; }
bool t_le(Interp& in, const Value& v, CallArgs& a) { return cmp_or_fail(in, v, test_arg(in, a, "le")) <= 0; }
bool t_gt(Interp& in, const Value& v, CallArgs& a) { return cmp_or_fail(in, v, test_arg(in, a, "gt")) > 0; }
bool t_ge(Interp& in, const Value& v, CallArgs& a) { return cmp_or_fail(in, v, test_arg(in, a, "ge")) >= 0; }
bool t_in(Interp& in, const Value& v, CallArgs& a) { return in.contains(test_arg(in, a, "in"), v); }
bool t_sameas(Interp& in, const Value& v, CallArgs& a) {
    const Value& o = test_arg(in, a, "sameas");
    if (v.kind != o.kind) return false;
    if (v.is_none() || v.kind == Value::Kind::Bool) return equals(v, o);
    if (v.is_list()) return v.list == o.list;
    if (v.is_attr_bag()) return v.dict == o.dict;
    return false;
}

const std::map<std::string_view, TestFn>& tests() {
    static const std::map<std::string_view, TestFn> m = {
        {"defined", t_defined}, {"undefined", t_undefined}, {"none", t_none},
        {"boolean", t_boolean}, {"false", t_false}, {"true", t_true}, {"integer", t_integer},
        {"float", t_float}, {"number", t_number}, {"string", t_string}, {"mapping", t_mapping},
        {"iterable", t_iterable}, {"sequence", t_sequence}, {"callable", t_callable},
        {"lower", t_lower}, {"upper", t_upper}, {"odd", t_odd}, {"even", t_even},
        {"divisibleby", t_divisibleby}, {"eq", t_eq}, {"equalto", t_eq}, {"==", t_eq},
        {"ne", t_ne}, {"!=", t_ne}, {"lt", t_lt}, {"lessthan", t_lt}, {"<", t_lt}, {"le", t_le},
        {"<=", t_le}, {"gt", t_gt}, {"greaterthan", t_gt}, {">", t_gt}, {"ge", t_ge}, {">=", t_ge},
        {"in", t_in}, {"sameas", t_sameas},
    };
    return m;
}

}  // namespace

bool has_filter(std::string_view name) { return filters().count(name) > 0; }
bool has_test(std::string_view name) { return tests().count(name) > 0; }

Value apply_filter(Interp& in, std::string_view name, Value value, CallArgs& args) {
    auto it = filters().find(name);
    if (it == filters().end()) in.fail(fmt::format("no filter named '{}'", name));
    // Filters other than default/d see an Undefined as "" or empty (jinja2's default
    // Undefined), except where Python would raise on it; those check for themselves.
    return it->second(in, value, args);
}

bool apply_test(Interp& in, std::string_view name, const Value& value, CallArgs& args) {
    auto it = tests().find(name);
    if (it == tests().end()) in.fail(fmt::format("no test named '{}'", name));
    return it->second(in, value, args);
}

}  // namespace r1::chat
