// Template lexer: splits template text into data and tag tokens the way jinja2's lexer does
// with Hugging Face's settings (trim_blocks, lstrip_blocks, newline normalisation, the single
// trailing newline dropped, `-`/`+` whitespace control, comments, raw blocks).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "runtime/chat/error.h"

namespace r1::chat {

enum class Tok : uint8_t {
    Data,        // literal template text
    BlockBegin,  // {%
    BlockEnd,    // %}
    VarBegin,    // {{
    VarEnd,      // }}
    Name,
    String,      // text holds the decoded value
    Int,
    Float,
    Op,          // text holds the operator
    Eof,
};

struct Token {
    Tok type = Tok::Eof;
    std::string text;
    int64_t ival = 0;
    double fval = 0.0;
    int line = 1, col = 1;
};

// Throws TemplateError (Syntax, or Limit for an oversized source).
std::vector<Token> lex(std::string_view source, const Limits& limits);

}  // namespace r1::chat
