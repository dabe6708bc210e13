// Recursive-descent parser following jinja2's grammar and operator precedence:
// cond-expr < or < and < not < compare < + - < ~ < * / // % < ** < unary < postfix/filter/test.
// Unknown statements, filters and tests are syntax errors here, before anything renders.
#include <algorithm>

#include <fmt/format.h>

#include "runtime/chat/ast.h"
#include "runtime/chat/builtins.h"
#include "runtime/chat/lexer.h"

namespace r1::chat {
namespace {

class Parser {
public:
    Parser(std::vector<Token> toks, const Limits& limits) : toks_(std::move(toks)), limits_(limits) {}

    Template run() {
        Template t;
        std::string end = parse_body(t.body, {});
        if (!end.empty()) fail(cur(), fmt::format("unexpected '{}'", end));
        return t;
    }

private:
    struct Depth {
        Parser& p;
        explicit Depth(Parser& parser, const Token& at) : p(parser) {
            if (++p.depth_ > p.limits_.max_nesting)
                throw TemplateError(TemplateError::Kind::Limit, at.line, at.col,
                                    fmt::format("template nests deeper than {} levels", p.limits_.max_nesting));
        }
        ~Depth() { --p.depth_; }
    };

    const Token& cur() const { return toks_[pos_]; }
    const Token& peek(size_t n = 1) const { return toks_[std::min(pos_ + n, toks_.size() - 1)]; }
    const Token& next() {
        const Token& t = toks_[pos_];
        if (pos_ + 1 < toks_.size()) ++pos_;
        return t;
    }
    bool is_op(const char* op) const { return cur().type == Tok::Op && cur().text == op; }
    bool is_name(const char* n) const { return cur().type == Tok::Name && cur().text == n; }
    bool skip_op(const char* op) {
        if (!is_op(op)) return false;
        next();
        return true;
    }
    bool skip_name(const char* n) {
        if (!is_name(n)) return false;
        next();
        return true;
    }

    static std::string describe(const Token& t) {
        switch (t.type) {
            case Tok::Data: return "template data";
            case Tok::BlockBegin: return "begin of statement block";
            case Tok::BlockEnd: return "end of statement block";
            case Tok::VarBegin: return "begin of print statement";
            case Tok::VarEnd: return "end of print statement";
            case Tok::Eof: return "end of template";
            case Tok::String: return "string";
            case Tok::Int: return "integer";
            case Tok::Float: return "float";
            default: return fmt::format("'{}'", t.text);
        }
    }

    [[noreturn]] void fail(const Token& at, const std::string& msg) const {
        throw TemplateError(TemplateError::Kind::Syntax, at.line, at.col, msg);
    }
    void expect_op(const char* op) {
        if (!skip_op(op)) fail(cur(), fmt::format("expected '{}', got {}", op, describe(cur())));
    }
    std::string expect_name() {
        if (cur().type != Tok::Name) fail(cur(), fmt::format("expected a name, got {}", describe(cur())));
        return next().text;
    }
    void expect_block_end() {
        if (cur().type != Tok::BlockEnd) fail(cur(), fmt::format("expected end of statement block, got {}", describe(cur())));
        next();
    }

    ExprPtr node(Expr::Kind k, const Token& at) {
        auto e = std::make_unique<Expr>();
        e->kind = k;
        e->line = at.line;
        e->col = at.col;
        return e;
    }
    // Records the subtree height; deep trees would overflow the stack in evaluation and
    // destruction, so they are rejected here.
    ExprPtr finish(ExprPtr e) {
        int d = 0;
        for (const auto& a : e->args)
            if (a) d = std::max(d, a->depth);
        for (const auto& [k, a] : e->kwargs) d = std::max(d, a->depth);
        e->depth = d + 1;
        if (e->depth > limits_.max_expr_depth)
            throw TemplateError(TemplateError::Kind::Limit, e->line, e->col,
                                fmt::format("expression nests deeper than {} levels", limits_.max_expr_depth));
        return e;
    }

    std::unique_ptr<Stmt> stmt(Stmt::Kind k, const Token& at) {
        auto s = std::make_unique<Stmt>();
        s->kind = k;
        s->line = at.line;
        s->col = at.col;
        return s;
    }

    // Parses statements until a block tag whose name is in `ends` (returned, tag name consumed)
    // or the end of the template (returns "").
    std::string parse_body(Body& body, std::initializer_list<const char*> ends) {
        Depth d(*this, cur());
        for (;;) {
            const Token& t = cur();
            switch (t.type) {
                case Tok::Eof:
                    if (ends.size() > 0)
                        fail(t, fmt::format("unexpected end of template, expected '{}'", *(ends.end() - 1)));
                    return {};
                case Tok::Data: {
                    auto s = stmt(Stmt::Kind::Text, t);
                    s->text = next().text;
                    body.push_back(std::move(s));
                    break;
                }
                case Tok::VarBegin: {
                    next();
                    auto s = stmt(Stmt::Kind::Print, t);
                    s->expr = parse_tuple(true, {});
                    if (cur().type != Tok::VarEnd) fail(cur(), fmt::format("expected end of print statement, got {}", describe(cur())));
                    next();
                    body.push_back(std::move(s));
                    break;
                }
                case Tok::BlockBegin: {
                    next();
                    const Token& name_tok = cur();
                    if (name_tok.type != Tok::Name) fail(name_tok, "tag name expected");
                    for (const char* e : ends)
                        if (name_tok.text == e) {
                            next();
                            return e;
                        }
                    body.push_back(parse_statement());
                    break;
                }
                default: fail(t, fmt::format("unexpected {}", describe(t)));
            }
        }
    }

    std::unique_ptr<Stmt> parse_statement() {
        const Token& t = cur();
        std::string n = next().text;
        if (n == "if") return parse_if(t);
        if (n == "for") return parse_for(t);
        if (n == "set") return parse_set(t);
        if (n == "macro") return parse_macro(t);
        if (n == "call") return parse_call_block(t);
        if (n == "filter") return parse_filter_block(t);
        if (n == "with") return parse_with(t);
        if (n == "generation") {
            auto s = stmt(Stmt::Kind::Plain, t);
            expect_block_end();
            s->bodies.emplace_back();
            parse_body(s->bodies[0], {"endgeneration"});
            expect_block_end();
            return s;
        }
        if (n == "break" || n == "continue") {
            if (loop_depth_ == 0) fail(t, fmt::format("'{}' outside of a loop", n));
            auto s = stmt(n == "break" ? Stmt::Kind::Break : Stmt::Kind::Continue, t);
            expect_block_end();
            return s;
        }
        fail(t, fmt::format("unknown or unsupported tag '{}'", n));
    }

    std::unique_ptr<Stmt> parse_if(const Token& t) {
        auto s = stmt(Stmt::Kind::If, t);
        for (;;) {
            s->conds.push_back(parse_tuple(false, {}));
            expect_block_end();
            s->bodies.emplace_back();
            std::string end = parse_body(s->bodies.back(), {"elif", "else", "endif"});
            if (end == "elif") continue;
            if (end == "else") {
                expect_block_end();
                parse_body(s->else_body, {"endif"});
            }
            expect_block_end();
            return s;
        }
    }

    std::vector<std::string> parse_targets(const char* end_name) {
        std::vector<std::string> names;
        bool paren = skip_op("(");
        for (;;) {
            names.push_back(expect_name());
            if (!skip_op(",")) break;
            if ((end_name && is_name(end_name)) || is_op("=") || is_op(")")) break;
        }
        if (paren) expect_op(")");
        return names;
    }

    std::unique_ptr<Stmt> parse_for(const Token& t) {
        auto s = stmt(Stmt::Kind::For, t);
        s->targets = parse_targets("in");
        if (!skip_name("in")) fail(cur(), fmt::format("expected 'in', got {}", describe(cur())));
        s->expr = parse_tuple(false, {"recursive"});
        if (skip_name("if")) s->cond = parse_expression(true);
        if (skip_name("recursive")) fail(t, "recursive for loops are not supported");
        expect_block_end();
        s->bodies.emplace_back();
        ++loop_depth_;
        std::string end = parse_body(s->bodies[0], {"else", "endfor"});
        --loop_depth_;
        if (end == "else") {
            expect_block_end();
            parse_body(s->else_body, {"endfor"});
        }
        expect_block_end();
        return s;
    }

    std::unique_ptr<Stmt> parse_set(const Token& t) {
        if (cur().type == Tok::Name && peek().type == Tok::Op && peek().text == ".") {
            auto s = stmt(Stmt::Kind::Set, t);
            s->targets.push_back(next().text);
            next();
            s->text = expect_name();
            expect_op("=");
            s->expr = parse_tuple(true, {});
            expect_block_end();
            return s;
        }
        std::vector<std::string> targets = parse_targets(nullptr);
        if (skip_op("=")) {
            auto s = stmt(Stmt::Kind::Set, t);
            s->targets = std::move(targets);
            s->expr = parse_tuple(true, {});
            expect_block_end();
            return s;
        }
        if (targets.size() != 1) fail(t, "a block set takes one name");
        auto s = stmt(Stmt::Kind::SetBlock, t);
        s->targets = std::move(targets);
        if (is_op("|")) s->expr = parse_filters(nullptr);
        expect_block_end();
        s->bodies.emplace_back();
        parse_body(s->bodies[0], {"endset"});
        expect_block_end();
        return s;
    }

    void parse_signature(Stmt& s) {
        expect_op("(");
        while (!is_op(")")) {
            if (!s.targets.empty()) expect_op(",");
            if (is_op(")")) break;
            s.targets.push_back(expect_name());
            s.values.push_back(skip_op("=") ? parse_expression(true) : nullptr);
        }
        expect_op(")");
    }

    std::unique_ptr<Stmt> parse_macro(const Token& t) {
        auto s = stmt(Stmt::Kind::Macro, t);
        s->text = expect_name();
        parse_signature(*s);
        expect_block_end();
        s->bodies.emplace_back();
        int saved = loop_depth_;
        loop_depth_ = 0;
        parse_body(s->bodies[0], {"endmacro"});
        loop_depth_ = saved;
        if (cur().type == Tok::Name) next();  // {% endmacro name %}
        expect_block_end();
        return s;
    }

    std::unique_ptr<Stmt> parse_call_block(const Token& t) {
        auto s = stmt(Stmt::Kind::CallBlock, t);
        if (is_op("(")) parse_signature(*s);
        s->expr = parse_expression(true);
        if (s->expr->kind != Expr::Kind::Call) fail(t, "expected a call after 'call'");
        expect_block_end();
        s->bodies.emplace_back();
        parse_body(s->bodies[0], {"endcall"});
        expect_block_end();
        return s;
    }

    std::unique_ptr<Stmt> parse_filter_block(const Token& t) {
        auto s = stmt(Stmt::Kind::FilterBlock, t);
        s->expr = parse_filters(nullptr, /*first_without_pipe=*/true);
        expect_block_end();
        s->bodies.emplace_back();
        parse_body(s->bodies[0], {"endfilter"});
        expect_block_end();
        return s;
    }

    std::unique_ptr<Stmt> parse_with(const Token& t) {
        auto s = stmt(Stmt::Kind::With, t);
        while (cur().type != Tok::BlockEnd) {
            if (!s->targets.empty()) expect_op(",");
            s->targets.push_back(expect_name());
            expect_op("=");
            s->values.push_back(parse_expression(true));
        }
        expect_block_end();
        s->bodies.emplace_back();
        parse_body(s->bodies[0], {"endwith"});
        expect_block_end();
        return s;
    }

    // ---- expressions ----

    bool is_tuple_end(std::initializer_list<const char*> extra) const {
        if (cur().type == Tok::VarEnd || cur().type == Tok::BlockEnd || cur().type == Tok::Eof) return true;
        if (is_op(")") || is_op("=")) return true;
        for (const char* e : extra)
            if (is_name(e)) return true;
        return false;
    }

    ExprPtr parse_tuple(bool with_condexpr, std::initializer_list<const char*> extra, bool parens = false) {
        const Token& t = cur();
        std::vector<ExprPtr> items;
        bool is_tuple = false;
        for (;;) {
            if (!items.empty()) expect_op(",");
            if (is_tuple_end(extra)) break;
            items.push_back(parse_expression(with_condexpr));
            if (is_op(",")) is_tuple = true;
            else break;
        }
        if (!is_tuple) {
            if (!items.empty()) return std::move(items[0]);
            if (!parens) fail(cur(), fmt::format("expected an expression, got {}", describe(cur())));
        }
        auto e = node(Expr::Kind::Tuple, t);
        e->args = std::move(items);
        return finish(std::move(e));
    }

    ExprPtr parse_expression(bool with_condexpr) {
        Depth d(*this, cur());
        if (!with_condexpr) return parse_or();
        ExprPtr e = parse_or();
        while (is_name("if")) {
            const Token& t = next();
            auto c = node(Expr::Kind::Cond, t);
            ExprPtr cond = parse_or();
            ExprPtr other = skip_name("else") ? parse_expression(true) : nullptr;
            c->args.push_back(std::move(e));
            c->args.push_back(std::move(cond));
            c->args.push_back(std::move(other));
            e = finish(std::move(c));
        }
        return e;
    }

    ExprPtr binary(const Token& t, const std::string& op, ExprPtr a, ExprPtr b) {
        auto e = node(Expr::Kind::Binary, t);
        e->name = op;
        e->args.push_back(std::move(a));
        e->args.push_back(std::move(b));
        return finish(std::move(e));
    }

    ExprPtr parse_or() {
        ExprPtr e = parse_and();
        while (is_name("or")) {
            const Token& t = next();
            e = binary(t, "or", std::move(e), parse_and());
        }
        return e;
    }
    ExprPtr parse_and() {
        ExprPtr e = parse_not();
        while (is_name("and")) {
            const Token& t = next();
            e = binary(t, "and", std::move(e), parse_not());
        }
        return e;
    }
    ExprPtr parse_not() {
        if (is_name("not")) {
            Depth d(*this, cur());
            auto e = node(Expr::Kind::Not, next());
            e->args.push_back(parse_not());
            return finish(std::move(e));
        }
        return parse_compare();
    }
    ExprPtr parse_compare() {
        const Token& t = cur();
        ExprPtr first = parse_math1();
        ExprPtr e;
        for (;;) {
            std::string op;
            if (cur().type == Tok::Op && (cur().text == "==" || cur().text == "!=" || cur().text == "<" ||
                                          cur().text == "<=" || cur().text == ">" || cur().text == ">=")) {
                op = next().text;
            } else if (is_name("in")) {
                next();
                op = "in";
            } else if (is_name("not") && peek().type == Tok::Name && peek().text == "in") {
                next();
                next();
                op = "notin";
            } else {
                break;
            }
            if (!e) {
                e = node(Expr::Kind::Compare, t);
                e->args.push_back(std::move(first));
            }
            e->ops.push_back(op);
            e->args.push_back(parse_math1());
        }
        return e ? finish(std::move(e)) : std::move(first);
    }
    ExprPtr parse_math1() {
        ExprPtr e = parse_concat();
        while (is_op("+") || is_op("-")) {
            const Token& t = next();
            e = binary(t, t.text, std::move(e), parse_concat());
        }
        return e;
    }
    ExprPtr parse_concat() {
        ExprPtr e = parse_math2();
        while (is_op("~")) {
            const Token& t = next();
            e = binary(t, "~", std::move(e), parse_math2());
        }
        return e;
    }
    ExprPtr parse_math2() {
        ExprPtr e = parse_pow();
        while (is_op("*") || is_op("/") || is_op("//") || is_op("%")) {
            const Token& t = next();
            e = binary(t, t.text, std::move(e), parse_pow());
        }
        return e;
    }
    ExprPtr parse_pow() {
        ExprPtr e = parse_unary(true);
        while (is_op("**")) {
            const Token& t = next();
            e = binary(t, "**", std::move(e), parse_unary(true));
        }
        return e;
    }
    ExprPtr parse_unary(bool with_filter) {
        Depth d(*this, cur());
        ExprPtr e;
        if (is_op("-") || is_op("+")) {
            const Token& t = next();
            e = node(t.text == "-" ? Expr::Kind::Neg : Expr::Kind::Pos, t);
            e->args.push_back(parse_unary(false));
            e = finish(std::move(e));
        } else {
            e = parse_primary();
        }
        e = parse_postfix(std::move(e));
        if (with_filter) e = parse_filter_expr(std::move(e));
        return e;
    }

    ExprPtr parse_primary() {
        const Token& t = cur();
        switch (t.type) {
            case Tok::Name: {
                next();
                auto e = node(Expr::Kind::Const, t);
                if (t.text == "true" || t.text == "True") e->value = Value::boolean(true);
                else if (t.text == "false" || t.text == "False") e->value = Value::boolean(false);
                else if (t.text == "none" || t.text == "None") e->value = Value::none();
                else {
                    e->kind = Expr::Kind::Name;
                    e->name = t.text;
                }
                return e;
            }
            case Tok::String: {
                std::string s = next().text;
                while (cur().type == Tok::String) s += next().text;
                auto e = node(Expr::Kind::Const, t);
                e->value = Value::string(std::move(s));
                return e;
            }
            case Tok::Int:
            case Tok::Float: {
                next();
                auto e = node(Expr::Kind::Const, t);
                e->value = t.type == Tok::Int ? Value::integer(t.ival) : Value::number(t.fval);
                return e;
            }
            case Tok::Op:
                if (t.text == "(") {
                    next();
                    ExprPtr e = parse_tuple(true, {}, true);
                    expect_op(")");
                    return e;
                }
                if (t.text == "[") {
                    next();
                    auto e = node(Expr::Kind::List, t);
                    while (!is_op("]")) {
                        if (!e->args.empty()) expect_op(",");
                        if (is_op("]")) break;
                        e->args.push_back(parse_expression(true));
                    }
                    expect_op("]");
                    return finish(std::move(e));
                }
                if (t.text == "{") {
                    next();
                    auto e = node(Expr::Kind::Dict, t);
                    while (!is_op("}")) {
                        if (!e->args.empty()) expect_op(",");
                        if (is_op("}")) break;
                        e->args.push_back(parse_expression(true));
                        expect_op(":");
                        e->args.push_back(parse_expression(true));
                    }
                    expect_op("}");
                    return finish(std::move(e));
                }
                [[fallthrough]];
            default: fail(t, fmt::format("unexpected {}", describe(t)));
        }
    }

    ExprPtr parse_postfix(ExprPtr e) {
        for (;;) {
            if (is_op(".")) {
                const Token& t = next();
                if (cur().type == Tok::Name) {
                    auto a = node(Expr::Kind::Attr, t);
                    a->name = next().text;
                    a->args.push_back(std::move(e));
                    e = finish(std::move(a));
                } else if (cur().type == Tok::Int) {
                    auto a = node(Expr::Kind::Item, t);
                    auto idx = node(Expr::Kind::Const, cur());
                    idx->value = Value::integer(next().ival);
                    a->args.push_back(std::move(e));
                    a->args.push_back(std::move(idx));
                    e = finish(std::move(a));
                } else {
                    fail(cur(), fmt::format("expected a name after '.', got {}", describe(cur())));
                }
            } else if (is_op("[")) {
                e = parse_subscript(std::move(e));
            } else if (is_op("(")) {
                e = parse_call(std::move(e));
            } else {
                return e;
            }
        }
    }

    ExprPtr parse_subscript(ExprPtr obj) {
        const Token& t = next();  // [
        ExprPtr parts[3];
        bool is_slice = false;
        if (!is_op(":")) parts[0] = parse_expression(true);
        if (skip_op(":")) {
            is_slice = true;
            if (!is_op("]") && !is_op(":")) parts[1] = parse_expression(true);
            if (skip_op(":") && !is_op("]")) parts[2] = parse_expression(true);
        }
        if (!is_slice && is_op(",")) fail(cur(), "tuple subscripts are not supported");
        expect_op("]");
        auto e = node(is_slice ? Expr::Kind::Slice : Expr::Kind::Item, t);
        e->args.push_back(std::move(obj));
        e->args.push_back(std::move(parts[0]));
        if (is_slice) {
            e->args.push_back(std::move(parts[1]));
            e->args.push_back(std::move(parts[2]));
        }
        return finish(std::move(e));
    }

    void parse_call_args(Expr& e) {
        expect_op("(");
        bool first = true;
        while (!is_op(")")) {
            if (!first) expect_op(",");
            first = false;
            if (is_op(")")) break;
            if (is_op("*") || is_op("**")) fail(cur(), "*args and **kwargs in calls are not supported");
            if (cur().type == Tok::Name && peek().type == Tok::Op && peek().text == "=") {
                std::string k = next().text;
                next();
                e.kwargs.emplace_back(std::move(k), parse_expression(true));
            } else {
                if (!e.kwargs.empty()) fail(cur(), "positional argument after keyword argument");
                e.args.push_back(parse_expression(true));
            }
        }
        expect_op(")");
    }

    ExprPtr parse_call(ExprPtr callee) {
        auto e = node(Expr::Kind::Call, cur());
        e->line = callee->line;  // errors raised by the call point at the callee
        e->col = callee->col;
        e->args.push_back(std::move(callee));
        parse_call_args(*e);
        return finish(std::move(e));
    }

    std::string dotted_name() {
        std::string n = expect_name();
        while (is_op(".")) {
            next();
            n += "." + expect_name();
        }
        return n;
    }

    // `| f(args) | g` applied to `e` (null in {% filter %} and {% set x | f %} blocks).
    ExprPtr parse_filters(ExprPtr e, bool first_without_pipe = false) {
        bool need_pipe = !first_without_pipe;
        while (!need_pipe || is_op("|")) {
            if (need_pipe) next();
            need_pipe = true;
            const Token& t = cur();
            auto f = node(Expr::Kind::Filter, t);
            f->name = dotted_name();
            if (!has_filter(f->name)) fail(t, fmt::format("no filter named '{}'", f->name));
            f->args.push_back(std::move(e));
            if (is_op("(")) parse_call_args(*f);
            e = finish(std::move(f));
        }
        return e;
    }

    ExprPtr parse_test(ExprPtr e) {
        const Token& t = next();  // is
        auto x = node(Expr::Kind::Test, t);
        x->negated = skip_name("not");
        const Token& nt = cur();
        x->name = dotted_name();
        if (!has_test(x->name)) fail(nt, fmt::format("no test named '{}'", x->name));
        x->args.push_back(std::move(e));
        if (is_op("(")) {
            parse_call_args(*x);
        } else if ((cur().type == Tok::Name || cur().type == Tok::String || cur().type == Tok::Int ||
                    cur().type == Tok::Float || is_op("[") || is_op("{")) &&
                   !is_name("else") && !is_name("or") && !is_name("and")) {
            if (is_name("is")) fail(cur(), "you cannot chain multiple tests with is");
            x->args.push_back(parse_postfix(parse_primary()));
        }
        return finish(std::move(x));
    }

    ExprPtr parse_filter_expr(ExprPtr e) {
        for (;;) {
            if (is_op("|")) e = parse_filters(std::move(e));
            else if (is_name("is")) e = parse_test(std::move(e));
            else if (is_op("(")) e = parse_call(std::move(e));
            else return e;
        }
    }

    std::vector<Token> toks_;
    const Limits& limits_;
    size_t pos_ = 0;
    int depth_ = 0;
    int loop_depth_ = 0;
};

}  // namespace

Template parse(std::string_view source, const Limits& limits) {
    return Parser(lex(source, limits), limits).run();
}

}  // namespace r1::chat
