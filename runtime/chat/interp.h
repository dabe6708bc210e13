// The evaluator: walks a parsed Template with jinja2's scoping (a fresh scope per loop
// iteration, macros see the template's top-level names at call time), counts steps and
// output bytes against the Limits, and reports errors at the node being evaluated.
#pragma once

#include <chrono>
#include <string>
#include <unordered_map>

#include "runtime/chat/ast.h"
#include "runtime/chat/error.h"
#include "runtime/chat/value.h"

namespace r1::chat {

class Interp {
public:
    explicit Interp(const Limits& limits) : limits_(limits) {}

    // Renders `t` with `context` as the top-level variables (plus the global functions).
    std::string render(const Template& t, const Dict& context);

    // Errors at the current position.
    [[noreturn]] void fail(const std::string& msg, TemplateError::Kind kind = TemplateError::Kind::Runtime) const;
    // Raises the error an Undefined value carries when it is used.
    [[noreturn]] void fail_undefined(const Value& v) const;
    void check_string_size(size_t n) const;
    void check_list_size(size_t n) const;

    Value call(const Value& fn, CallArgs& args);
    Value getattr(const Value& obj, const std::string& name);
    Value getitem(const Value& obj, const Value& key);
    // Python iteration: list items, dict keys, string characters; Undefined is empty.
    List iterate(const Value& v) const;
    bool contains(const Value& container, const Value& item) const;
    const Limits& limits() const { return limits_; }

private:
    struct Scope {
        Scope* parent = nullptr;
        std::unordered_map<std::string, Value> vars;
    };
    enum class Flow { Normal, Break, Continue };

    void at(int line, int col) {
        line_ = line;
        col_ = col;
    }
    void step();
    void emit(std::string& out, std::string_view text) const;

    Flow exec(const Body& body, Scope& scope, std::string& out);
    Flow exec_stmt(const Stmt& s, Scope& scope, std::string& out);
    Flow exec_for(const Stmt& s, Scope& scope, std::string& out);
    void exec_set(const Stmt& s, Scope& scope);
    Value call_macro(const Stmt& m, CallArgs& args);

    Value eval(const Expr& e, Scope& scope);
    Value eval_binary(const Expr& e, Scope& scope);
    Value eval_compare(const Expr& e, Scope& scope);
    Value eval_filter(const Expr& e, Scope& scope, const Value* block_input);
    Value eval_slice(const Value& obj, const Value& start, const Value& stop, const Value& step);
    CallArgs eval_args(const Expr& e, Scope& scope, size_t first);
    Value lookup(const std::string& name, Scope& scope) const;
    void assign(Scope& scope, const std::vector<std::string>& targets, const Value& v);

    Value arith(const std::string& op, const Value& a, const Value& b);
    Value percent_format(const std::string& fmt, const Value& args);

    Limits limits_;  // a copy: an Interp may outlive the Limits it was made from
    Scope* root_ = nullptr;
    uint64_t steps_ = 0;
    std::chrono::steady_clock::time_point start_;
    int call_depth_ = 0;
    int eval_depth_ = 0;
    struct DepthGuard {
        Interp& in;
        explicit DepthGuard(Interp& x);
        ~DepthGuard() { --in.eval_depth_; }
    };
    int line_ = 1, col_ = 1;
};

}  // namespace r1::chat
