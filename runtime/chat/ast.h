// Syntax tree of a parsed template and the parser entry point. One node type per layer
// (Expr, Stmt) with a kind tag keeps the evaluator a pair of switches.
#pragma once

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "runtime/chat/error.h"
#include "runtime/chat/value.h"

namespace r1::chat {

struct Expr;
using ExprPtr = std::unique_ptr<Expr>;

struct Expr {
    enum class Kind {
        Const,    // value
        Name,     // name
        List,     // args = items
        Tuple,    // args = items
        Dict,     // args = key0, value0, key1, value1, ...
        Attr,     // args[0].name
        Item,     // args[0][args[1]]
        Slice,    // args[0][args[1]:args[2]:args[3]] (null parts omitted)
        Call,     // args[0](args[1..], kwargs)
        Filter,   // args[0] | name(args[1..], kwargs); args[0] null inside {% filter %}
        Test,     // args[0] is [not] name(args[1..], kwargs)
        Neg,      // -args[0]
        Pos,      // +args[0]
        Not,      // not args[0]
        Binary,   // args[0] op args[1]: + - * / // % ** ~ and or
        Compare,  // args[0] ops[0] args[1] ops[1] args[2] ...
        Cond,     // args[0] if args[1] else args[2] (args[2] may be null)
    };
    Kind kind;
    int line = 0, col = 0;
    Value value;                       // Const
    std::string name;                  // Name, Attr, Filter, Test; Binary: the operator
    std::vector<ExprPtr> args;
    std::vector<std::pair<std::string, ExprPtr>> kwargs;
    std::vector<std::string> ops;      // Compare: ==, !=, <, <=, >, >=, in, notin
    bool negated = false;              // Test: `is not`
    int depth = 1;                     // height of this subtree (bounded by Limits::max_expr_depth)
};

struct Stmt;
using Body = std::vector<std::unique_ptr<Stmt>>;

struct Stmt {
    enum class Kind {
        Text,        // text
        Print,       // {{ expr }}
        If,          // conds[i] -> bodies[i]; else_body
        For,         // for targets in expr [if cond] ... [else]
        Set,         // set targets = expr, or set ns.attr = expr (attr_target)
        SetBlock,    // set target %}body{% endset (expr: optional filter chain, arg null)
        Macro,       // macro name(params = defaults) body
        CallBlock,   // call[(params)] expr %}body{% endcall
        FilterBlock, // filter chain %}body{% endfilter
        With,        // with targets = values %}body{% endwith
        Break,
        Continue,
        Plain,       // body rendered as is (generation blocks)
    };
    Kind kind;
    int line = 0, col = 0;
    std::string text;                              // Text; Macro name; Set attr_target
    ExprPtr expr;                                  // Print, For iterable, Set value, CallBlock call
    ExprPtr cond;                                  // For filter
    std::vector<std::string> targets;              // For/Set/With/SetBlock names; Macro/Call params
    std::vector<ExprPtr> values;                   // Macro/Call param defaults (nullable); With values
    std::vector<ExprPtr> conds;                    // If: one per branch
    std::vector<Body> bodies;                      // If: one per branch; others: bodies[0]
    Body else_body;                                // If, For
    bool recursive = false;                        // For
};

struct Template {
    Body body;
};

// Parses template text. Throws TemplateError (Syntax, Limit).
Template parse(std::string_view source, const Limits& limits);

}  // namespace r1::chat
