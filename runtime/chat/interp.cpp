// Evaluation of statements and expressions with Python/jinja2 semantics: short-circuit
// and/or returning operands, int/float arithmetic (integer overflow is an error, not a bigint),
// str/list concatenation and repetition, attribute-then-item lookup, Python slicing.
#include "runtime/chat/interp.h"

#include <cmath>
#include <memory>

#include <fmt/format.h>

#include "runtime/chat/builtins.h"

namespace r1::chat {

void Interp::fail(const std::string& msg, TemplateError::Kind kind) const {
    throw TemplateError(kind, line_, col_, msg);
}

void Interp::fail_undefined(const Value& v) const {
    fail(v.s.empty() ? "undefined value used" : v.s);
}

void Interp::check_string_size(size_t n) const {
    if (n > limits_.max_output_bytes)
        fail(fmt::format("string of {} bytes exceeds the limit of {}", n, limits_.max_output_bytes),
             TemplateError::Kind::Limit);
}

void Interp::check_list_size(size_t n) const {
    if (n > limits_.max_list_items)
        fail(fmt::format("list of {} items exceeds the limit of {}", n, limits_.max_list_items),
             TemplateError::Kind::Limit);
}

Interp::DepthGuard::DepthGuard(Interp& x) : in(x) {
    if (++in.eval_depth_ > in.limits_.max_eval_depth) {
        --in.eval_depth_;
        in.fail(fmt::format("evaluation nests deeper than {} levels", in.limits_.max_eval_depth), TemplateError::Kind::Limit);
    }
}

void Interp::step() {
    if (++steps_ > limits_.max_steps)
        fail(fmt::format("render exceeded {} steps", limits_.max_steps), TemplateError::Kind::Limit);
    if ((steps_ & 0xFFFF) == 0) {
        std::chrono::duration<double> spent = std::chrono::steady_clock::now() - start_;
        if (spent.count() > limits_.max_seconds)
            fail(fmt::format("render took longer than {} s", limits_.max_seconds), TemplateError::Kind::Limit);
    }
}

void Interp::emit(std::string& out, std::string_view text) const {
    if (out.size() + text.size() > limits_.max_output_bytes)
        fail(fmt::format("output exceeds the limit of {} bytes", limits_.max_output_bytes), TemplateError::Kind::Limit);
    out += text;
}

std::string Interp::render(const Template& t, const Dict& context) {
    Scope root;
    for (auto& [k, v] : global_functions().items) root.vars[k] = v;
    for (const auto& [k, v] : context.items) root.vars[k] = v;
    root_ = &root;
    steps_ = 0;
    start_ = std::chrono::steady_clock::now();
    call_depth_ = 0;
    eval_depth_ = 0;
    std::string out;
    exec(t.body, root, out);
    root_ = nullptr;
    return out;
}

Interp::Flow Interp::exec(const Body& body, Scope& scope, std::string& out) {
    for (const auto& s : body) {
        Flow f = exec_stmt(*s, scope, out);
        if (f != Flow::Normal) return f;
    }
    return Flow::Normal;
}

Interp::Flow Interp::exec_stmt(const Stmt& s, Scope& scope, std::string& out) {
    DepthGuard guard(*this);
    step();
    at(s.line, s.col);
    switch (s.kind) {
        case Stmt::Kind::Text: emit(out, s.text); return Flow::Normal;
        case Stmt::Kind::Print: {
            Value v = eval(*s.expr, scope);
            emit(out, to_str(v));
            return Flow::Normal;
        }
        case Stmt::Kind::If:
            for (size_t k = 0; k < s.conds.size(); ++k)
                if (truthy(eval(*s.conds[k], scope))) return exec(s.bodies[k], scope, out);
            return exec(s.else_body, scope, out);
        case Stmt::Kind::For: return exec_for(s, scope, out);
        case Stmt::Kind::Set: exec_set(s, scope); return Flow::Normal;
        case Stmt::Kind::SetBlock: {
            std::string body;
            exec(s.bodies[0], scope, body);
            Value v = Value::string(std::move(body));
            if (s.expr) v = eval_filter(*s.expr, scope, &v);
            assign(scope, s.targets, v);
            return Flow::Normal;
        }
        case Stmt::Kind::Macro: {
            const Stmt* m = &s;
            scope.vars[s.text] = Value::function(s.text, [m](Interp& in, CallArgs& a) { return in.call_macro(*m, a); });
            return Flow::Normal;
        }
        case Stmt::Kind::CallBlock: {
            // caller() renders the block in the scope of the call site; it dies with the block.
            auto alive = std::make_shared<bool>(true);
            const Stmt* cb = &s;
            Scope* site = &scope;
            Value caller = Value::function("caller", [cb, site, alive](Interp& in, CallArgs& a) {
                if (!*alive) in.fail("caller() used after its call block ended");
                Scope sc;
                sc.parent = site;
                for (size_t k = 0; k < cb->targets.size(); ++k) {
                    const Value* v = find_arg(a, k, cb->targets[k]);
                    sc.vars[cb->targets[k]] = v ? *v : cb->values[k] ? in.eval(*cb->values[k], sc) : Value::undefined(
                        fmt::format("'{}' is undefined", cb->targets[k]));
                }
                std::string body;
                in.exec(cb->bodies[0], sc, body);
                return Value::string(std::move(body));
            });
            const Expr& call = *s.expr;
            Value fn = eval(*call.args[0], scope);
            CallArgs args = eval_args(call, scope, 1);
            args.kw.emplace_back("caller", caller);
            at(s.line, s.col);
            Value r = this->call(fn, args);
            *alive = false;
            emit(out, to_str(r));
            return Flow::Normal;
        }
        case Stmt::Kind::FilterBlock: {
            std::string body;
            exec(s.bodies[0], scope, body);
            Value v = Value::string(std::move(body));
            emit(out, to_str(eval_filter(*s.expr, scope, &v)));
            return Flow::Normal;
        }
        case Stmt::Kind::With: {
            Scope sc;
            sc.parent = &scope;
            for (size_t k = 0; k < s.targets.size(); ++k) sc.vars[s.targets[k]] = eval(*s.values[k], sc);
            return exec(s.bodies[0], sc, out);
        }
        case Stmt::Kind::Plain: return exec(s.bodies[0], scope, out);
        case Stmt::Kind::Break: return Flow::Break;
        case Stmt::Kind::Continue: return Flow::Continue;
    }
    return Flow::Normal;
}

void Interp::assign(Scope& scope, const std::vector<std::string>& targets, const Value& v) {
    if (targets.size() == 1) {
        scope.vars[targets[0]] = v;
        return;
    }
    List items = iterate(v);
    if (items.size() != targets.size())
        fail(fmt::format("cannot unpack {} values into {} names", items.size(), targets.size()));
    for (size_t k = 0; k < targets.size(); ++k) scope.vars[targets[k]] = items[k];
}

void Interp::exec_set(const Stmt& s, Scope& scope) {
    Value v = eval(*s.expr, scope);
    if (s.text.empty()) {
        assign(scope, s.targets, v);
        return;
    }
    Value ns = lookup(s.targets[0], scope);
    at(s.line, s.col);
    if (ns.kind != Value::Kind::Namespace) fail("cannot assign attribute on non-namespace object");
    if (s.text.starts_with("_")) fail(fmt::format("access to attribute '{}' is not allowed", s.text));
    ns.dict->set(s.text, std::move(v));
}

Interp::Flow Interp::exec_for(const Stmt& s, Scope& scope, std::string& out) {
    Value seq = eval(*s.expr, scope);
    at(s.line, s.col);
    if (seq.kind == Value::Kind::None || seq.is_number() || seq.kind == Value::Kind::Function)
        fail(fmt::format("'{}' object is not iterable", kind_name(seq)));
    List items = iterate(seq);
    if (s.cond) {
        List kept;
        for (auto& item : items) {
            Scope sc;
            sc.parent = &scope;
            assign(sc, s.targets, item);
            if (truthy(eval(*s.cond, sc))) kept.push_back(std::move(item));
        }
        items = std::move(kept);
    }
    if (items.empty()) {
        Scope sc;
        sc.parent = &scope;
        exec(s.else_body, sc, out);
        return Flow::Normal;
    }
    const int64_t n = int64_t(items.size());
    for (int64_t k = 0; k < n; ++k) {
        Scope sc;
        sc.parent = &scope;
        assign(sc, s.targets, items[size_t(k)]);
        Dict loop;
        loop.items.reserve(12);
        loop.items.emplace_back("index", Value::integer(k + 1));
        loop.items.emplace_back("index0", Value::integer(k));
        loop.items.emplace_back("revindex", Value::integer(n - k));
        loop.items.emplace_back("revindex0", Value::integer(n - k - 1));
        loop.items.emplace_back("first", Value::boolean(k == 0));
        loop.items.emplace_back("last", Value::boolean(k == n - 1));
        loop.items.emplace_back("length", Value::integer(n));
        loop.items.emplace_back("depth", Value::integer(1));
        loop.items.emplace_back("depth0", Value::integer(0));
        loop.items.emplace_back("previtem", k > 0 ? items[size_t(k - 1)] : Value::undefined("there is no previous item"));
        loop.items.emplace_back("nextitem", k + 1 < n ? items[size_t(k + 1)] : Value::undefined("there is no next item"));
        loop.items.emplace_back("cycle", Value::function("cycle", [k](Interp& in, CallArgs& a) {
            if (a.pos.empty()) in.fail("no items for cycling given");
            return a.pos[size_t(k) % a.pos.size()];
        }));
        sc.vars["loop"] = Value::make_dict(std::move(loop), Value::Kind::Object);
        step();
        if (exec(s.bodies[0], sc, out) == Flow::Break) break;
    }
    return Flow::Normal;
}

Value Interp::call_macro(const Stmt& m, CallArgs& args) {
    if (call_depth_ >= limits_.max_call_depth)
        fail(fmt::format("macro calls nest deeper than {}", limits_.max_call_depth), TemplateError::Kind::Limit);
    struct CallGuard {
        int& d;
        explicit CallGuard(int& x) : d(x) { ++d; }
        ~CallGuard() { --d; }
    } guard(call_depth_);
    Scope sc;
    sc.parent = root_;
    List varargs;
    for (size_t k = 0; k < args.pos.size(); ++k) {
        if (k < m.targets.size()) sc.vars[m.targets[k]] = args.pos[k];
        else varargs.push_back(args.pos[k]);
    }
    Dict kwargs;
    for (auto& [name, v] : args.kw) {
        bool is_param = false;
        for (size_t k = 0; k < m.targets.size(); ++k)
            if (m.targets[k] == name) {
                if (k < args.pos.size()) fail(fmt::format("macro '{}' got multiple values for argument '{}'", m.text, name));
                is_param = true;
            }
        if (is_param || name == "caller") sc.vars[name] = v;
        else kwargs.set(name, v);
    }
    for (size_t k = 0; k < m.targets.size(); ++k) {
        if (sc.vars.count(m.targets[k])) continue;
        sc.vars[m.targets[k]] = m.values[k] ? eval(*m.values[k], sc)
                                            : Value::undefined(fmt::format("'{}' is undefined", m.targets[k]));
    }
    sc.vars["varargs"] = Value::make_list(std::move(varargs), true);
    sc.vars["kwargs"] = Value::make_dict(std::move(kwargs));
    std::string out;
    exec(m.bodies[0], sc, out);
    return Value::string(std::move(out));
}

Value Interp::lookup(const std::string& name, Scope& scope) const {
    for (Scope* s = &scope; s; s = s->parent) {
        auto it = s->vars.find(name);
        if (it != s->vars.end()) return it->second;
    }
    return Value::undefined(fmt::format("'{}' is undefined", name));
}

Value Interp::call(const Value& fn, CallArgs& args) {
    if (fn.is_undefined()) fail_undefined(fn);
    if (fn.kind != Value::Kind::Function) fail(fmt::format("'{}' object is not callable", kind_name(fn)));
    return fn.fn->fn(*this, args);
}

Value Interp::getattr(const Value& obj, const std::string& name) {
    if (name.starts_with("_")) fail(fmt::format("access to attribute '{}' is not allowed", name));
    if (obj.is_undefined()) fail_undefined(obj);
    if (obj.kind == Value::Kind::Dict || obj.kind == Value::Kind::String) {
        if (auto m = bound_method(obj, name)) return *m;
    }
    if (obj.is_attr_bag()) {
        if (const Value* v = obj.dict->find(name)) return *v;
    }
    return Value::undefined(fmt::format("'{}' object has no attribute '{}'", kind_name(obj), name));
}

Value Interp::getitem(const Value& obj, const Value& key) {
    if (obj.is_undefined()) fail_undefined(obj);
    if (key.is_string() && key.s.starts_with("_")) fail(fmt::format("access to attribute '{}' is not allowed", key.s));
    if (obj.is_attr_bag() && key.is_string()) {
        if (const Value* v = obj.dict->find(key.s)) return *v;
        if (obj.kind == Value::Kind::Dict) {
            if (auto m = bound_method(obj, key.s)) return *m;
        }
        return Value::undefined(fmt::format("'{}' object has no attribute '{}'", kind_name(obj), key.s));
    }
    bool int_key = key.kind == Value::Kind::Int || key.kind == Value::Kind::Bool;
    int64_t idx = key.kind == Value::Kind::Int ? key.i : key.b;
    if (obj.is_list() && int_key) {
        int64_t n = int64_t(obj.list->size());
        if (idx < 0) idx += n;
        if (idx >= 0 && idx < n) return (*obj.list)[size_t(idx)];
        return Value::undefined(fmt::format("'{}' object has no element {}", kind_name(obj), key.i));
    }
    if (obj.is_string() && int_key) {
        auto cps = decode_utf8(obj.s);
        int64_t n = int64_t(cps.size());
        if (idx < 0) idx += n;
        if (idx >= 0 && idx < n) {
            std::string out;
            append_utf8(out, cps[size_t(idx)]);
            return Value::string(std::move(out));
        }
        return Value::undefined(fmt::format("'str' object has no element {}", key.i));
    }
    if (key.is_string()) return getattr(obj, key.s);
    return Value::undefined(fmt::format("'{}' object has no element {}", kind_name(obj), repr(key)));
}

List Interp::iterate(const Value& v) const {
    switch (v.kind) {
        case Value::Kind::List:
        case Value::Kind::Tuple: return *v.list;
        case Value::Kind::Dict: {
            List keys;
            for (const auto& kv : v.dict->items) keys.push_back(Value::string(kv.first));
            return keys;
        }
        case Value::Kind::String: {
            List chars;
            for (char32_t c : decode_utf8(v.s)) {
                std::string s;
                append_utf8(s, c);
                chars.push_back(Value::string(std::move(s)));
            }
            return chars;
        }
        case Value::Kind::Undefined: return {};
        default: fail(fmt::format("'{}' object is not iterable", kind_name(v)));
    }
}

bool Interp::contains(const Value& container, const Value& item) const {
    switch (container.kind) {
        case Value::Kind::String:
            if (!item.is_string()) fail(fmt::format("'in <string>' requires string as left operand, not {}", kind_name(item)));
            return container.s.find(item.s) != std::string::npos;
        case Value::Kind::List:
        case Value::Kind::Tuple:
            for (const auto& x : *container.list)
                if (equals(x, item)) return true;
            return false;
        case Value::Kind::Dict: return item.is_string() && container.dict->find(item.s) != nullptr;
        case Value::Kind::Undefined: return false;
        default: fail(fmt::format("argument of type '{}' is not iterable", kind_name(container)));
    }
}

CallArgs Interp::eval_args(const Expr& e, Scope& scope, size_t first) {
    CallArgs a;
    for (size_t k = first; k < e.args.size(); ++k) a.pos.push_back(eval(*e.args[k], scope));
    for (const auto& [name, x] : e.kwargs) a.kw.emplace_back(name, eval(*x, scope));
    return a;
}

Value Interp::eval_filter(const Expr& e, Scope& scope, const Value* block_input) {
    Value input = !e.args[0] ? (block_input ? *block_input : Value::undefined())
                  : e.args[0]->kind == Expr::Kind::Filter ? eval_filter(*e.args[0], scope, block_input)
                                                          : eval(*e.args[0], scope);
    CallArgs a = eval_args(e, scope, 1);
    step();
    at(e.line, e.col);
    return apply_filter(*this, e.name, std::move(input), a);
}

Value Interp::eval(const Expr& e, Scope& scope) {
    DepthGuard guard(*this);
    step();
    at(e.line, e.col);
    switch (e.kind) {
        case Expr::Kind::Const: return e.value;
        case Expr::Kind::Name: return lookup(e.name, scope);
        case Expr::Kind::List:
        case Expr::Kind::Tuple: {
            List items;
            for (const auto& x : e.args) items.push_back(eval(*x, scope));
            return Value::make_list(std::move(items), e.kind == Expr::Kind::Tuple);
        }
        case Expr::Kind::Dict: {
            Dict d;
            for (size_t k = 0; k + 1 < e.args.size(); k += 2) {
                Value key = eval(*e.args[k], scope);
                Value v = eval(*e.args[k + 1], scope);
                at(e.line, e.col);
                if (!key.is_string()) fail("dict keys must be strings");
                d.set(key.s, std::move(v));
            }
            return Value::make_dict(std::move(d));
        }
        case Expr::Kind::Attr: {
            Value obj = eval(*e.args[0], scope);
            at(e.line, e.col);
            return getattr(obj, e.name);
        }
        case Expr::Kind::Item: {
            Value obj = eval(*e.args[0], scope);
            Value key = eval(*e.args[1], scope);
            at(e.line, e.col);
            return getitem(obj, key);
        }
        case Expr::Kind::Slice: {
            Value obj = eval(*e.args[0], scope);
            Value parts[3];
            for (int k = 0; k < 3; ++k) parts[k] = e.args[size_t(k) + 1] ? eval(*e.args[size_t(k) + 1], scope) : Value::none();
            at(e.line, e.col);
            return eval_slice(obj, parts[0], parts[1], parts[2]);
        }
        case Expr::Kind::Call: {
            Value fn = eval(*e.args[0], scope);
            CallArgs a = eval_args(e, scope, 1);
            at(e.line, e.col);
            return call(fn, a);
        }
        case Expr::Kind::Filter: return eval_filter(e, scope, nullptr);
        case Expr::Kind::Test: {
            Value v = eval(*e.args[0], scope);
            CallArgs a = eval_args(e, scope, 1);
            at(e.line, e.col);
            bool r = apply_test(*this, e.name, v, a);
            return Value::boolean(e.negated ? !r : r);
        }
        case Expr::Kind::Neg:
        case Expr::Kind::Pos: {
            Value v = eval(*e.args[0], scope);
            at(e.line, e.col);
            if (v.is_undefined()) fail_undefined(v);
            if (e.kind == Expr::Kind::Pos && v.is_number()) return v.kind == Value::Kind::Bool ? Value::integer(v.b) : v;
            if (v.kind == Value::Kind::Float) return Value::number(-v.f);
            if (v.kind == Value::Kind::Int || v.kind == Value::Kind::Bool) {
                int64_t x = v.kind == Value::Kind::Int ? v.i : v.b;
                if (x == INT64_MIN) fail("integer overflow");
                return Value::integer(-x);
            }
            fail(fmt::format("bad operand type for unary {}: '{}'", e.kind == Expr::Kind::Neg ? '-' : '+', kind_name(v)));
        }
        case Expr::Kind::Not: return Value::boolean(!truthy(eval(*e.args[0], scope)));
        case Expr::Kind::Binary: return eval_binary(e, scope);
        case Expr::Kind::Compare: return eval_compare(e, scope);
        case Expr::Kind::Cond:
            if (truthy(eval(*e.args[1], scope))) return eval(*e.args[0], scope);
            if (e.args[2]) return eval(*e.args[2], scope);
            return Value::undefined("the inline if-expression evaluated to false and no else section was defined");
    }
    return Value::undefined();
}

Value Interp::eval_binary(const Expr& e, Scope& scope) {
    Value a = eval(*e.args[0], scope);
    if (e.name == "and") return truthy(a) ? eval(*e.args[1], scope) : a;
    if (e.name == "or") return truthy(a) ? a : eval(*e.args[1], scope);
    Value b = eval(*e.args[1], scope);
    at(e.line, e.col);
    if (e.name == "~") {
        std::string s = to_str(a);
        std::string t = to_str(b);
        check_string_size(s.size() + t.size());
        return Value::string(s + t);
    }
    return arith(e.name, a, b);
}

Value Interp::eval_compare(const Expr& e, Scope& scope) {
    Value left = eval(*e.args[0], scope);
    for (size_t k = 0; k < e.ops.size(); ++k) {
        Value right = eval(*e.args[k + 1], scope);
        at(e.line, e.col);
        const std::string& op = e.ops[k];
        bool r;
        if (op == "==") r = equals(left, right);
        else if (op == "!=") r = !equals(left, right);
        else if (op == "in") r = contains(right, left);
        else if (op == "notin") r = !contains(right, left);
        else {
            if (left.is_undefined()) fail_undefined(left);
            if (right.is_undefined()) fail_undefined(right);
            auto c = compare(left, right);
            if (!c) fail(fmt::format("'{}' not supported between instances of '{}' and '{}'", op, kind_name(left), kind_name(right)));
            r = op == "<" ? *c < 0 : op == "<=" ? *c <= 0 : op == ">" ? *c > 0 : *c >= 0;
        }
        if (!r) return Value::boolean(false);
        left = std::move(right);
    }
    return Value::boolean(true);
}

namespace {

// Python's slice.indices(): clamps start/stop for a sequence of length n.
void slice_indices(int64_t n, const Value& start, const Value& stop, int64_t step, int64_t& lo, int64_t& hi) {
    auto clamp = [&](const Value& v, int64_t dflt) {
        if (v.is_none()) return dflt;
        int64_t x = v.i;
        if (x < 0) {
            x += n;
            if (x < 0) x = step < 0 ? -1 : 0;
        } else if (x >= n) {
            x = step < 0 ? n - 1 : n;
        }
        return x;
    };
    lo = clamp(start, step < 0 ? n - 1 : 0);
    hi = clamp(stop, step < 0 ? -1 : n);
}

}  // namespace

Value Interp::eval_slice(const Value& obj, const Value& start, const Value& stop, const Value& step_v) {
    for (const Value* v : {&start, &stop, &step_v})
        if (!v->is_none() && v->kind != Value::Kind::Int) fail("slice indices must be integers or None");
    int64_t step = step_v.is_none() ? 1 : step_v.i;
    if (step == 0) fail("slice step cannot be zero");
    if (obj.is_undefined()) fail_undefined(obj);
    std::vector<char32_t> cps;
    int64_t n;
    if (obj.is_string()) {
        cps = decode_utf8(obj.s);
        n = int64_t(cps.size());
    } else if (obj.is_list()) {
        n = int64_t(obj.list->size());
    } else {
        fail(fmt::format("'{}' object is not subscriptable", kind_name(obj)));
    }
    int64_t lo, hi;
    slice_indices(n, start, stop, step, lo, hi);
    std::string s;
    List l;
    for (int64_t k = lo; step > 0 ? k < hi : k > hi; k += step) {
        if (obj.is_string()) append_utf8(s, cps[size_t(k)]);
        else l.push_back((*obj.list)[size_t(k)]);
    }
    if (obj.is_string()) return Value::string(std::move(s));
    return Value::make_list(std::move(l), obj.kind == Value::Kind::Tuple);
}

namespace {

bool mul_overflow(int64_t a, int64_t b, int64_t* r) { return __builtin_mul_overflow(a, b, r); }

}  // namespace

Value Interp::arith(const std::string& op, const Value& a, const Value& b) {
    if (a.is_undefined()) fail_undefined(a);
    if (b.is_undefined()) fail_undefined(b);
    auto type_error = [&]() -> Value {
        fail(fmt::format("unsupported operand type(s) for {}: '{}' and '{}'", op, kind_name(a), kind_name(b)));
    };
    if (op == "+") {
        if (a.is_string() && b.is_string()) {
            check_string_size(a.s.size() + b.s.size());
            return Value::string(a.s + b.s);
        }
        if (a.is_list() && b.is_list() && a.kind == b.kind) {
            check_list_size(a.list->size() + b.list->size());
            List l = *a.list;
            l.insert(l.end(), b.list->begin(), b.list->end());
            return Value::make_list(std::move(l), a.kind == Value::Kind::Tuple);
        }
        if (a.is_string() || b.is_string()) {
            if (a.is_string()) fail(fmt::format("can only concatenate str (not \"{}\") to str", kind_name(b)));
            return type_error();
        }
    }
    if (op == "*") {
        const Value* seq = a.is_string() || a.is_list() ? &a : b.is_string() || b.is_list() ? &b : nullptr;
        const Value* cnt = seq == &a ? &b : &a;
        if (seq && (cnt->kind == Value::Kind::Int || cnt->kind == Value::Kind::Bool)) {
            int64_t times = std::max<int64_t>(0, cnt->kind == Value::Kind::Int ? cnt->i : cnt->b);
            if (seq->is_string()) {
                int64_t total;
                if (mul_overflow(int64_t(seq->s.size()), times, &total)) total = INT64_MAX;
                check_string_size(size_t(total));
                std::string s;
                s.reserve(size_t(total));
                for (int64_t k = 0; k < times; ++k) s += seq->s;
                return Value::string(std::move(s));
            }
            int64_t total;
            if (mul_overflow(int64_t(seq->list->size()), times, &total)) total = INT64_MAX;
            check_list_size(size_t(total));
            List l;
            for (int64_t k = 0; k < times; ++k) l.insert(l.end(), seq->list->begin(), seq->list->end());
            return Value::make_list(std::move(l), seq->kind == Value::Kind::Tuple);
        }
    }
    if (op == "%" && a.is_string()) return percent_format(a.s, b);
    if (!a.is_number() || !b.is_number()) return type_error();
    bool ints = a.kind != Value::Kind::Float && b.kind != Value::Kind::Float;
    if (ints) {
        int64_t x = a.kind == Value::Kind::Int ? a.i : a.b, y = b.kind == Value::Kind::Int ? b.i : b.b, r = 0;
        if (op == "+") {
            if (__builtin_add_overflow(x, y, &r)) fail("integer overflow");
            return Value::integer(r);
        }
        if (op == "-") {
            if (__builtin_sub_overflow(x, y, &r)) fail("integer overflow");
            return Value::integer(r);
        }
        if (op == "*") {
            if (mul_overflow(x, y, &r)) fail("integer overflow");
            return Value::integer(r);
        }
        if (op == "/") {
            if (y == 0) fail("division by zero");
            return Value::number(double(x) / double(y));
        }
        if (op == "//" || op == "%") {
            if (y == 0) fail("integer division or modulo by zero");
            if (x == INT64_MIN && y == -1) fail("integer overflow");
            int64_t q = x / y, m = x % y;
            if (m != 0 && ((m < 0) != (y < 0))) {
                --q;
                m += y;
            }
            return Value::integer(op == "//" ? q : m);
        }
        if (op == "**") {
            if (y < 0) return Value::number(std::pow(double(x), double(y)));
            int64_t res = 1;
            for (int64_t k = 0; k < y; ++k) {
                if (mul_overflow(res, x, &res)) fail("integer overflow");
                if (res == 0 || res == 1) break;
            }
            return Value::integer(res);
        }
    }
    double x = a.as_double(), y = b.as_double();
    if (op == "+") return Value::number(x + y);
    if (op == "-") return Value::number(x - y);
    if (op == "*") return Value::number(x * y);
    if (op == "/") {
        if (y == 0) fail("float division by zero");
        return Value::number(x / y);
    }
    if (op == "//" || op == "%") {
        if (y == 0) fail("float modulo");
        double m = std::fmod(x, y);
        if (m != 0 && ((m < 0) != (y < 0))) m += y;
        if (op == "%") return Value::number(m);
        return Value::number(std::floor(x / y));
    }
    if (op == "**") return Value::number(std::pow(x, y));
    return type_error();
}

// printf-style `'%s' % value`: %s %r %d %i %f %% only.
Value Interp::percent_format(const std::string& f, const Value& args) {
    List items = args.kind == Value::Kind::Tuple ? *args.list : List{args};
    std::string out;
    size_t next = 0;
    for (size_t k = 0; k < f.size(); ++k) {
        if (f[k] != '%') {
            out += f[k];
            continue;
        }
        if (++k >= f.size()) fail("incomplete format");
        char c = f[k];
        if (c == '%') {
            out += '%';
            continue;
        }
        if (next >= items.size()) fail("not enough arguments for format string");
        const Value& v = items[next++];
        if (c == 's') out += to_str(v);
        else if (c == 'r') out += repr(v);
        else if ((c == 'd' || c == 'i') && v.is_number()) out += std::to_string(v.kind == Value::Kind::Float ? int64_t(v.f) : v.kind == Value::Kind::Int ? v.i : v.b);
        else if (c == 'f' && v.is_number()) out += fmt::format("{:.6f}", v.as_double());
        else fail(fmt::format("unsupported format character '{}'", c));
    }
    if (next < items.size()) fail("not all arguments converted during string formatting");
    check_string_size(out.size());
    return Value::string(std::move(out));
}

}  // namespace r1::chat
