// jinja2's lexer rules, re-implemented on bytes: root state (data up to the next `{{`, `{%`,
// `{#`), tag state (names, numbers, strings, operators, balanced brackets so `}}` inside a dict
// literal is not an end tag), comments and raw blocks. Positions are 1-based line and byte column.
#include "runtime/chat/lexer.h"

#include <algorithm>
#include <charconv>
#include <cstring>

#include <fmt/format.h>

#include "runtime/chat/value.h"

namespace r1::chat {

TemplateError::TemplateError(Kind kind, int line, int column, const std::string& message)
    : Error(fmt::format("chat template line {} column {}: {}", line, column, message)),
      kind_(kind), line_(line), column_(column), message_(message) {}

namespace {

// Python str.isspace on the UTF-8 sequence at s[k]; returns its length or 0.
size_t space_len(std::string_view s, size_t k) {
    auto c = static_cast<unsigned char>(s[k]);
    if (c < 0x80) return is_py_space(c) ? 1 : 0;
    int n = (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 : (c >> 3) == 30 ? 4 : 0;
    if (n == 0 || k + size_t(n) > s.size()) return 0;
    auto cps = decode_utf8(s.substr(k, size_t(n)));
    return cps.size() == 1 && is_py_space(cps[0]) ? size_t(n) : 0;
}

// Python str.rstrip() (all Unicode whitespace).
std::string_view rstrip_space(std::string_view s) {
    auto cps = decode_utf8(s);
    size_t keep = cps.size();
    while (keep > 0 && is_py_space(cps[keep - 1])) --keep;
    size_t bytes = 0;
    for (size_t k = 0; k < keep; ++k) {
        std::string tmp;
        append_utf8(tmp, cps[k]);
        bytes += tmp.size();
    }
    return s.substr(0, bytes);
}

bool all_space(std::string_view s) {
    if (s.empty()) return false;
    for (size_t k = 0; k < s.size();) {
        size_t n = space_len(s, k);
        if (n == 0) return false;
        k += n;
    }
    return true;
}

bool is_name_start(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_'; }
bool is_digit(char c) { return c >= '0' && c <= '9'; }

class Lexer {
public:
    explicit Lexer(std::string src) : src_(std::move(src)) {
        line_starts_.push_back(0);
        for (size_t k = 0; k < src_.size(); ++k)
            if (src_[k] == '\n') line_starts_.push_back(k + 1);
    }

    std::vector<Token> run() {
        bool line_starting = true;
        while (pos_ < src_.size()) {
            size_t open = find_tag_start(pos_);
            if (open == std::string::npos) {
                emit_data(pos_, std::string_view(src_).substr(pos_));
                break;
            }
            char kind = src_[open + 1];  // '{', '%' or '#'
            char sign = open + 2 < src_.size() ? src_[open + 2] : 0;
            bool has_sign = sign == '-' || sign == '+';
            std::string_view text = std::string_view(src_).substr(pos_, open - pos_);
            if (sign == '-') {
                text = rstrip_space(text);
            } else if (sign != '+' && kind != '{') {  // lstrip_blocks: not for {{
                size_t nl = text.rfind('\n');
                size_t l_pos = nl == std::string_view::npos ? 0 : nl + 1;
                if ((l_pos > 0 || line_starting) && all_space(text.substr(l_pos))) text = text.substr(0, l_pos);
            }
            emit_data(pos_, text);
            size_t after = open + 2 + (has_sign ? 1 : 0);
            if (kind == '#') {
                line_starting = lex_comment(open, after);
            } else if (kind == '%' && try_raw(open, after)) {
                line_starting = false;
            } else {
                line_starting = lex_tag(open, after, kind == '%');
            }
        }
        Token eof;
        eof.type = Tok::Eof;
        set_pos(eof, src_.size());
        toks_.push_back(eof);
        return std::move(toks_);
    }

private:
    [[noreturn]] void fail(size_t at, const std::string& msg) const {
        auto [line, col] = position(at);
        throw TemplateError(TemplateError::Kind::Syntax, line, col, msg);
    }

    std::pair<int, int> position(size_t at) const {
        auto it = std::upper_bound(line_starts_.begin(), line_starts_.end(), at);
        size_t idx = size_t(it - line_starts_.begin()) - 1;
        return {int(idx) + 1, int(at - line_starts_[idx]) + 1};
    }

    void set_pos(Token& t, size_t at) const {
        auto [line, col] = position(at);
        t.line = line;
        t.col = col;
    }

    size_t find_tag_start(size_t from) const {
        for (size_t k = src_.find('{', from); k != std::string::npos; k = src_.find('{', k + 1)) {
            if (k + 1 < src_.size() && (src_[k + 1] == '{' || src_[k + 1] == '%' || src_[k + 1] == '#')) return k;
        }
        return std::string::npos;
    }

    void emit_data(size_t at, std::string_view text) {
        if (text.empty()) return;
        Token t;
        t.type = Tok::Data;
        t.text = std::string(text);
        set_pos(t, at);
        toks_.push_back(std::move(t));
    }

    void push(Tok type, size_t at, std::string text = {}) {
        Token t;
        t.type = type;
        t.text = std::move(text);
        set_pos(t, at);
        toks_.push_back(std::move(t));
    }

    // After an end marker: `-` strips all following whitespace, plain ends drop one newline
    // (trim_blocks, not for `}}`), `+` keeps everything. Returns the new position.
    size_t after_end(size_t end, char sign, bool trim) const {
        if (sign == '-') {
            while (end < src_.size()) {
                size_t n = space_len(src_, end);
                if (n == 0) break;
                end += n;
            }
        } else if (sign != '+' && trim && end < src_.size() && src_[end] == '\n') {
            ++end;
        }
        return end;
    }

    bool lex_comment(size_t open, size_t from) {
        size_t close = src_.find("#}", from);
        if (close == std::string::npos) fail(open, "missing end of comment tag");
        char sign = close > from && (src_[close - 1] == '-' || src_[close - 1] == '+') ? src_[close - 1] : 0;
        pos_ = after_end(close + 2, sign, true);
        return pos_ > 0 && src_[pos_ - 1] == '\n';
    }

    // `{% raw %}...{% endraw %}`: the body is data, untouched.
    bool try_raw(size_t open, size_t from) {
        size_t k = skip_ws(from);
        if (src_.compare(k, 3, "raw") != 0 || (k + 3 < src_.size() && (is_name_start(src_[k + 3]) || is_digit(src_[k + 3]))))
            return false;
        k = skip_ws(k + 3);
        if (src_.compare(k, 3, "-%}") == 0) {
            k = after_end(k + 3, '-', false);
        } else if (src_.compare(k, 2, "%}") == 0) {
            k += 2;
        } else {
            return false;
        }
        // Find `{%[-+]? endraw [-+]?%}`.
        for (size_t e = src_.find("{%", k); e != std::string::npos; e = src_.find("{%", e + 1)) {
            char sign = e + 2 < src_.size() ? src_[e + 2] : 0;
            size_t q = skip_ws(e + 2 + ((sign == '-' || sign == '+') ? 1 : 0));
            if (src_.compare(q, 6, "endraw") != 0) continue;
            q = skip_ws(q + 6);
            char end_sign = (q < src_.size() && (src_[q] == '-' || src_[q] == '+')) ? src_[q] : 0;
            if (src_.compare(q + (end_sign ? 1 : 0), 2, "%}") != 0) continue;
            std::string_view body = std::string_view(src_).substr(k, e - k);
            if (sign == '-') body = rstrip_space(body);
            else if (sign != '+') {
                size_t nl = body.rfind('\n');
                size_t l_pos = nl == std::string_view::npos ? 0 : nl + 1;
                if (l_pos > 0 && all_space(body.substr(l_pos))) body = body.substr(0, l_pos);
            }
            emit_data(k, body);
            pos_ = after_end(q + (end_sign ? 1 : 0) + 2, end_sign, true);
            return true;
        }
        fail(open, "missing end of raw directive");
    }

    size_t skip_ws(size_t k) const {
        while (k < src_.size()) {
            size_t n = space_len(src_, k);
            if (n == 0) break;
            k += n;
        }
        return k;
    }

    // Tokens of one `{% ... %}` or `{{ ... }}`. Returns whether the end consumed a newline.
    bool lex_tag(size_t open, size_t k, bool block) {
        push(block ? Tok::BlockBegin : Tok::VarBegin, open);
        std::vector<char> balance;
        for (;;) {
            if (k >= src_.size()) fail(open, block ? "unexpected end of template, expected '%}'" : "unexpected end of template, expected '}}'");
            if (balance.empty()) {
                const char* end = block ? "%}" : "}}";
                char sign = 0;
                size_t e = k;
                if ((src_[k] == '-' || (block && src_[k] == '+')) && src_.compare(k + 1, 2, end) == 0) {
                    sign = src_[k];
                    e = k + 1;
                }
                if (src_.compare(e, 2, end) == 0) {
                    push(block ? Tok::BlockEnd : Tok::VarEnd, k);
                    pos_ = after_end(e + 2, sign, block);
                    return src_[pos_ - 1] == '\n';
                }
            }
            size_t n = space_len(src_, k);
            if (n > 0) {
                k += n;
                continue;
            }
            char c = src_[k];
            if (is_digit(c)) {
                k = lex_number(k);
            } else if (is_name_start(c)) {
                size_t e = k;
                while (e < src_.size() && (is_name_start(src_[e]) || is_digit(src_[e]))) ++e;
                push(Tok::Name, k, src_.substr(k, e - k));
                k = e;
            } else if (c == '\'' || c == '"') {
                k = lex_string(k);
            } else {
                k = lex_operator(k, balance);
            }
        }
    }

    size_t lex_number(size_t k) {
        size_t e = k;
        auto digits = [&](size_t p) {  // (\d+_)*\d+
            size_t q = p;
            if (q >= src_.size() || !is_digit(src_[q])) return p;
            while (q < src_.size() && (is_digit(src_[q]) || (src_[q] == '_' && q + 1 < src_.size() && is_digit(src_[q + 1])))) ++q;
            return q;
        };
        e = digits(k);
        bool is_float = false;
        if (e < src_.size() && src_[e] == '.' && e + 1 < src_.size() && is_digit(src_[e + 1])) {
            e = digits(e + 1);
            is_float = true;
        }
        if (e < src_.size() && (src_[e] == 'e' || src_[e] == 'E')) {
            size_t q = e + 1;
            if (q < src_.size() && (src_[q] == '+' || src_[q] == '-')) ++q;
            size_t r = digits(q);
            if (r > q) {
                e = r;
                is_float = true;
            }
        }
        std::string text;
        for (size_t q = k; q < e; ++q)
            if (src_[q] != '_') text += src_[q];
        Token t;
        set_pos(t, k);
        t.text = text;
        if (is_float) {
            t.type = Tok::Float;
            t.fval = std::strtod(text.c_str(), nullptr);
        } else {
            if (text.size() > 1 && text[0] == '0' && text.find_first_not_of('0') != std::string::npos)
                fail(k, fmt::format("invalid integer literal '{}'", text));
            t.type = Tok::Int;
            auto r = std::from_chars(text.data(), text.data() + text.size(), t.ival);
            if (r.ec != std::errc()) fail(k, fmt::format("integer literal '{}' out of range", text));
        }
        toks_.push_back(std::move(t));
        return e;
    }

    // Python unicode-escape decoding of a string literal (jinja2 does exactly that).
    size_t lex_string(size_t k) {
        char q = src_[k];
        std::string out;
        size_t p = k + 1;
        for (;;) {
            if (p >= src_.size()) fail(k, "unterminated string literal");
            char c = src_[p];
            if (c == q) break;
            if (c != '\\') {
                out += c;
                ++p;
                continue;
            }
            if (p + 1 >= src_.size()) fail(k, "unterminated string literal");
            char e = src_[p + 1];
            p += 2;
            auto hex = [&](int n) -> char32_t {
                if (p + size_t(n) > src_.size()) fail(k, "truncated \\x/\\u escape in string literal");
                uint32_t v = 0;
                for (int t = 0; t < n; ++t) {
                    char h = src_[p + size_t(t)];
                    int d = is_digit(h) ? h - '0' : (h >= 'a' && h <= 'f') ? h - 'a' + 10 : (h >= 'A' && h <= 'F') ? h - 'A' + 10 : -1;
                    if (d < 0) fail(k, "truncated \\x/\\u escape in string literal");
                    v = v * 16 + uint32_t(d);
                }
                p += size_t(n);
                return v;
            };
            switch (e) {
                case '\n': break;  // line continuation
                case '\\': out += '\\'; break;
                case '\'': out += '\''; break;
                case '"': out += '"'; break;
                case 'a': out += '\a'; break;
                case 'b': out += '\b'; break;
                case 'f': out += '\f'; break;
                case 'n': out += '\n'; break;
                case 'r': out += '\r'; break;
                case 't': out += '\t'; break;
                case 'v': out += '\v'; break;
                case 'x': append_utf8(out, hex(2)); break;
                case 'u': append_utf8(out, hex(4)); break;
                case 'U': {
                    char32_t v = hex(8);
                    if (v > 0x10FFFF) fail(k, "\\U escape out of range");
                    append_utf8(out, v);
                    break;
                }
                default:
                    if (e >= '0' && e <= '7') {
                        uint32_t v = uint32_t(e - '0');
                        for (int t = 0; t < 2 && p < src_.size() && src_[p] >= '0' && src_[p] <= '7'; ++t) v = v * 8 + uint32_t(src_[p++] - '0');
                        append_utf8(out, v);
                    } else {
                        out += '\\';
                        out += e;
                    }
            }
        }
        push(Tok::String, k, std::move(out));
        return p + 1;
    }

    size_t lex_operator(size_t k, std::vector<char>& balance) {
        static const char* kTwo[] = {"//", "**", "==", "!=", ">=", "<="};
        for (const char* op : kTwo)
            if (src_.compare(k, 2, op) == 0) {
                push(Tok::Op, k, op);
                return k + 2;
            }
        char c = src_[k];
        if (!std::strchr("+-/*%~[](){}><=.:|,;", c)) {
            size_t n = 1;
            auto u = static_cast<unsigned char>(c);
            if (u >= 0x80) n = (u >> 5) == 6 ? 2 : (u >> 4) == 14 ? 3 : (u >> 3) == 30 ? 4 : 1;
            fail(k, fmt::format("unexpected char '{}'", src_.substr(k, n)));
        }
        if (c == '(' || c == '[' || c == '{') balance.push_back(c == '(' ? ')' : c == '[' ? ']' : '}');
        if (c == ')' || c == ']' || c == '}') {
            if (balance.empty()) fail(k, fmt::format("unexpected '{}'", c));
            if (balance.back() != c) fail(k, fmt::format("unexpected '{}', expected '{}'", c, balance.back()));
            balance.pop_back();
        }
        push(Tok::Op, k, std::string(1, c));
        return k + 1;
    }

    std::string src_;
    std::vector<size_t> line_starts_;
    std::vector<Token> toks_;
    size_t pos_ = 0;
};

}  // namespace

std::vector<Token> lex(std::string_view source, const Limits& limits) {
    if (source.size() > limits.max_source_bytes)
        throw TemplateError(TemplateError::Kind::Limit, 1, 1,
                            fmt::format("template is {} bytes, more than the limit of {}", source.size(),
                                        limits.max_source_bytes));
    // Newlines: \r\n and \r become \n; one trailing newline is dropped (keep_trailing_newline=False).
    std::string src;
    src.reserve(source.size());
    for (size_t k = 0; k < source.size(); ++k) {
        if (source[k] == '\r') {
            src += '\n';
            if (k + 1 < source.size() && source[k + 1] == '\n') ++k;
        } else {
            src += source[k];
        }
    }
    if (!src.empty() && src.back() == '\n') src.pop_back();
    return Lexer(std::move(src)).run();
}

}  // namespace r1::chat
