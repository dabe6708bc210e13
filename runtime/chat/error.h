// Template errors (r1::Error with kind, line and column) and the sandbox limits that bound a
// parse and a render in size, time (steps) and depth (RELIABILITY.md M07).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

#include "core/error.h"

namespace r1::chat {

class TemplateError : public Error {
public:
    enum class Kind {
        Syntax,   // lexer/parser: the template text is not valid
        Runtime,  // evaluation: undefined value used, type error, bad call
        Limit,    // a sandbox limit was hit (size, steps, depth, output)
        Raised,   // the template called raise_exception(msg)
    };
    TemplateError(Kind kind, int line, int column, const std::string& message);
    Kind kind() const { return kind_; }
    int line() const { return line_; }
    int column() const { return column_; }
    const std::string& message() const { return message_; }  // without the position prefix

private:
    Kind kind_;
    int line_, column_;
    std::string message_;
};

// Bounds of one template. The defaults sit far above what real chat templates need (the
// largest known ones are ~20 KB and render a conversation in well under 100k steps; a step
// costs about a microsecond, so the step cap alone bounds a render to a few seconds).
struct Limits {
    size_t max_source_bytes = 1u << 20;    // template text
    int max_nesting = 128;                 // parser: nested blocks, brackets, unary operators
    int max_expr_depth = 256;              // parser: depth of one expression tree (a+b+c+... chains)
    uint64_t max_steps = 5'000'000;        // evaluated statements + expressions + loop iterations
    double max_seconds = 5.0;              // wall clock per render (checked every 64k steps)
    size_t max_output_bytes = 16u << 20;   // rendered text, and any one string value
    size_t max_list_items = 1u << 18;      // any one list (range(), repetition, ...)
    int max_call_depth = 64;               // nested macro calls
    int max_eval_depth = 1500;             // nested statement + expression evaluations (C++ stack)
};

}  // namespace r1::chat
