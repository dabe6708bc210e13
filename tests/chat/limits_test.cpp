// Bad input (RELIABILITY.md M07): oversized templates, runaway loops and recursion, huge
// outputs, deep nesting, dunder access, malformed tags. Each must end in a TemplateError of the
// right kind, with a position, quickly and without crashing; plus a deterministic fuzz sweep.
#include <chrono>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>

#include <gtest/gtest.h>

#include "runtime/chat/ast.h"
#include "runtime/chat/chat.h"
#include "runtime/chat/interp.h"

namespace r1::chat {
namespace {

using Kind = TemplateError::Kind;

// Parses and renders `src` with no variables; returns the error (or fails the test).
TemplateError render_error(const std::string& src, const Limits& limits = {}) {
    try {
        Template t = parse(src, limits);
        Interp in(limits);
        std::string out = in.render(t, Dict{});
        ADD_FAILURE() << "rendered without error (" << out.size() << " bytes): " << src.substr(0, 200);
    } catch (const TemplateError& e) {
        return e;
    }
    return TemplateError(Kind::Runtime, 0, 0, "no error");
}

std::string render(const std::string& src, const Dict& ctx = {}) {
    Limits limits;
    Template t = parse(src, limits);
    Interp in(limits);
    return in.render(t, ctx);
}

TEST(ChatLimits, FiftyMegabyteTemplateIsRejectedBeforeLexing) {
    std::string big(50u << 20, 'x');
    auto t0 = std::chrono::steady_clock::now();
    TemplateError e = render_error(big);
    EXPECT_EQ(e.kind(), Kind::Limit);
    EXPECT_NE(std::string(e.what()).find("bytes"), std::string::npos);
    EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::seconds(2));
    EXPECT_THROW(ChatTemplate::from_source(big, "", ""), TemplateError);
}

TEST(ChatLimits, InfiniteMacroRecursion) {
    TemplateError e = render_error("{% macro f(n) %}{{ f(n + 1) }}{% endmacro %}{{ f(0) }}");
    EXPECT_EQ(e.kind(), Kind::Limit);
    EXPECT_NE(std::string(e.what()).find("macro calls nest deeper"), std::string::npos) << e.what();
}

TEST(ChatLimits, MutualRecursionThroughCaller) {
    TemplateError e = render_error("{% macro a() %}{% call a() %}x{% endcall %}{% endmacro %}{{ a() }}");
    EXPECT_EQ(e.kind(), Kind::Limit);
}

TEST(ChatLimits, OutputOfGigabytesIsCapped) {
    Limits small;
    small.max_output_bytes = 4u << 20;  // the default (16 MiB) behaves the same, only slower
    auto t0 = std::chrono::steady_clock::now();
    TemplateError e = render_error("{% for i in range(100000) %}{{ 'x' * 100000 }}{% endfor %}", small);
    EXPECT_EQ(e.kind(), Kind::Limit);
    EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::seconds(10));
}

TEST(ChatLimits, StringDoublingIsCapped) {
    Limits small;
    small.max_output_bytes = 4u << 20;
    TemplateError e = render_error(
        "{% set ns = namespace(s='x') %}{% for i in range(64) %}{% set ns.s = ns.s ~ ns.s %}{% endfor %}{{ ns.s|length }}", small);
    EXPECT_EQ(e.kind(), Kind::Limit);
    EXPECT_EQ(render_error("{{ 'x' * 1000000000000 }}").kind(), Kind::Limit);
    EXPECT_EQ(render_error("{{ [1, 2] * 1000000000000 }}").kind(), Kind::Limit);
    EXPECT_EQ(render_error("{{ 'ab'.replace('', 'x' * 40000000) }}").kind(), Kind::Limit);
}

TEST(ChatLimits, HugeRangeFailsBeforeAllocating) {
    EXPECT_EQ(render_error("{{ range(1000000000000)|length }}").kind(), Kind::Limit);
    EXPECT_EQ(render_error("{{ range(-9223372036854775807, 9223372036854775807)|length }}").kind(), Kind::Limit);
}

TEST(ChatLimits, RunawayLoopsStopAtTheStepLimit) {
    Limits small;
    small.max_steps = 200000;
    auto t0 = std::chrono::steady_clock::now();
    TemplateError e = render_error("{% for i in range(100000) %}{% for j in range(100000) %}{% endfor %}{% endfor %}", small);
    EXPECT_EQ(e.kind(), Kind::Limit);
    EXPECT_NE(std::string(e.what()).find("steps"), std::string::npos);
    EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::seconds(5));
}

TEST(ChatLimits, WallClockLimit) {
    Limits quick;
    quick.max_seconds = 0.05;
    auto t0 = std::chrono::steady_clock::now();
    TemplateError e = render_error("{% for i in range(100000) %}{% for j in range(100000) %}{% endfor %}{% endfor %}", quick);
    EXPECT_EQ(e.kind(), Kind::Limit);
    EXPECT_NE(std::string(e.what()).find("longer than"), std::string::npos) << e.what();
    EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::seconds(3));
}

TEST(ChatLimits, DeepNestingIsAnErrorNotAStackOverflow) {
    const int n = 100000;
    EXPECT_EQ(render_error("{{ " + std::string(n, '(') + "1" + std::string(n, ')') + " }}").kind(), Kind::Limit);
    EXPECT_EQ(render_error("{{ " + std::string(n, '[') + std::string(n, ']') + " }}").kind(), Kind::Limit);
    std::string nots;
    for (int k = 0; k < n; ++k) nots += "not ";
    EXPECT_EQ(render_error("{{ " + nots + "1 }}").kind(), Kind::Limit);
    EXPECT_EQ(render_error("{{ " + std::string(n, '-') + "1 }}").kind(), Kind::Limit);
    std::string chain = "{{ 1";
    for (int k = 0; k < n; ++k) chain += " + 1";
    EXPECT_EQ(render_error(chain + " }}").kind(), Kind::Limit);
    std::string filters = "{{ 'x'";
    for (int k = 0; k < n; ++k) filters += "|trim";
    EXPECT_EQ(render_error(filters + " }}").kind(), Kind::Limit);
    std::string ifs;
    for (int k = 0; k < n; ++k) ifs += "{% if true %}";
    EXPECT_EQ(render_error(ifs).kind(), Kind::Limit);
    // Recursion that nests statements: depth grows with every call.
    std::string nested = "{% macro f(n) %}";
    for (int k = 0; k < 100; ++k) nested += "{% if true %}";
    nested += "{{ f(n) }}";
    for (int k = 0; k < 100; ++k) nested += "{% endif %}";
    nested += "{% endmacro %}{{ f(1) }}";
    EXPECT_EQ(render_error(nested).kind(), Kind::Limit);
}

TEST(ChatLimits, DunderAndPrivateAttributesAreRefused) {
    Dict ctx;
    ctx.set("x", Value::string("s"));
    for (const char* src : {"{{ x.__class__ }}", "{{ x['__class__'] }}", "{{ ''.__class__.__mro__[1].__subclasses__() }}",
                            "{{ x|attr('__class__') }}", "{{ x._private }}", "{{ namespace().__init__ }}",
                            "{% set ns = namespace() %}{% set ns.__dict__ = 1 %}", "{{ range.__globals__ }}",
                            "{{ raise_exception.__self__ }}", "{{ {'a': 1}.__len__() }}"}) {
        try {
            Template t = parse(src, Limits{});
            Interp in(Limits{});
            std::string out = in.render(t, ctx);
            ADD_FAILURE() << src << " rendered: " << out;
        } catch (const TemplateError& e) {
            EXPECT_EQ(e.kind(), Kind::Runtime) << src;
            EXPECT_NE(std::string(e.what()).find("not allowed"), std::string::npos) << src << ": " << e.what();
        }
    }
}

TEST(ChatErrors, SyntaxErrorsCarryLineAndColumn) {
    struct Case {
        std::string src;
        int line;
        std::string needle;
    } cases[] = {
        {"line one\n{{ x", 2, "expected '}}'"},
        {"a\nb\n{% if x %}never closed", 3, "endif"},
        {"{# comment", 1, "comment"},
        {"ok\n{% raw %}x", 2, "raw"},
        {"{{ 'unterminated }}", 1, "unterminated string"},
        {"\n\n  {{ x|nosuch }}", 3, "no filter named 'nosuch'"},
        {"{{ x is nosuch }}", 1, "no test named 'nosuch'"},
        {"{% endfor %}", 1, "endfor"},
        {"{% frobnicate %}", 1, "unknown or unsupported tag 'frobnicate'"},
        {"{{ 1 + }}", 1, "end of print statement"},
        {"{{ a ]] }}", 1, "unexpected ']'"},
        {"{% break %}", 1, "outside of a loop"},
        {"{{ x @ y }}", 1, "unexpected char '@'"},
        {"{{ 007 }}", 1, "invalid integer"},
    };
    for (const auto& c : cases) {
        TemplateError e = render_error(c.src);
        EXPECT_EQ(e.kind(), Kind::Syntax) << c.src << ": " << e.what();
        EXPECT_EQ(e.line(), c.line) << c.src << ": " << e.what();
        EXPECT_GT(e.column(), 0);
        EXPECT_NE(std::string(e.what()).find(c.needle), std::string::npos) << c.src << ": " << e.what();
        EXPECT_NE(std::string(e.what()).find("line " + std::to_string(c.line)), std::string::npos) << e.what();
    }
}

TEST(ChatErrors, RuntimeErrorsPointAtTheExpression) {
    TemplateError e = render_error("first\nsecond {{ 1 + 'x' }}");
    EXPECT_EQ(e.kind(), Kind::Runtime);
    EXPECT_EQ(e.line(), 2);
    EXPECT_EQ(e.column(), 13);  // the '+'
    e = render_error("{% set m = {} %}\n\n   {{ m.content.strip() }}");
    EXPECT_EQ(e.line(), 3);
    EXPECT_NE(std::string(e.what()).find("'dict' object has no attribute 'content'"), std::string::npos) << e.what();
}

TEST(ChatErrors, RaiseExceptionIsItsOwnKind) {
    TemplateError e = render_error("\n{{ raise_exception('Conversation roles must alternate') }}");
    EXPECT_EQ(e.kind(), Kind::Raised);
    EXPECT_EQ(e.message(), "Conversation roles must alternate");
    EXPECT_EQ(e.line(), 2);
}

TEST(ChatErrors, ErrorsAreR1Errors) {
    EXPECT_THROW(ChatTemplate::from_source("{% if %}", "", ""), r1::Error);
    auto t = ChatTemplate::from_source("{{ messages[0].content + 1 }}", "", "");
    EXPECT_THROW(t.apply(nlohmann::ordered_json::parse(R"([{"role":"user","content":"x"}])"), false), r1::Error);
    EXPECT_THROW(t.apply(nlohmann::ordered_json::object(), false), r1::Error);  // messages not a list
}

TEST(ChatText, InvalidUtf8AndNulBytesPassThrough) {
    std::string src = std::string("a\xff\xfe") + '\0' + "b{{ 'c\xc3' }}";
    EXPECT_EQ(render(src), std::string("a\xff\xfe") + '\0' + "bc\xc3");
    EXPECT_EQ(render("{{ s|length }} {{ s[::-1]|length }}", [] {
                  Dict d;
                  d.set("s", Value::string("\xe4\xbd"));  // truncated 3-byte sequence
                  return d;
              }()),
              "1 2");
}

// Random token soup and random bytes: every input must either render or raise TemplateError.
TEST(ChatFuzz, RandomTemplatesNeverCrash) {
    static const char* kPieces[] = {
        "{{", "}}", "{%", "%}", "{#", "#}", "-", "+", "if", "else", "elif", "endif", "for", "in", "endfor", "set",
        "=", "macro", "endmacro", "call", "endcall", "x", "ns", "loop", "namespace(a=1)", "(", ")", "[", "]", "{",
        "}", ",", ":", ".", "|", "trim", "tojson", "is", "not", "defined", "'s'", "\"t\"", "1", "2.5", "~", "*",
        "/", "//", "%", "**", "==", "<", "and", "or", "range(3)", "messages", "raise_exception('r')", " ", "\n",
        "caller()", "items", "break", "continue", "raw", "endraw", "filter", "upper", "endfilter", "a.b", "[::-1]",
    };
    std::mt19937 rng(1234);
    Limits limits;
    limits.max_steps = 20000;
    limits.max_output_bytes = 1u << 16;
    Dict ctx;
    ctx.set("messages", from_json(nlohmann::ordered_json::parse(R"([{"role":"user","content":"hi"}])")));
    int rendered = 0, errors = 0;
    for (int iter = 0; iter < 3000; ++iter) {
        std::string src;
        int n = int(rng() % 40);
        for (int k = 0; k < n; ++k) {
            if (rng() % 16 == 0) src += char(rng() % 256);
            else src += kPieces[rng() % std::size(kPieces)];
            if (rng() % 2) src += ' ';
        }
        try {
            Template t = parse(src, limits);
            Interp in(limits);
            (void)in.render(t, ctx);
            ++rendered;
        } catch (const TemplateError&) {
            ++errors;
        }
    }
    EXPECT_GT(rendered, 30);
    EXPECT_GT(errors, 300);
}

// Replays tests/fuzz/corpus/chat (seeds and anything the libFuzzer target saved).
TEST(ChatFuzz, CorpusReplays) {
    std::filesystem::path dir = std::filesystem::path(R1_SOURCE_DIR) / "tests/fuzz/corpus/chat";
    ASSERT_TRUE(std::filesystem::is_directory(dir)) << dir;
    int n = 0;
    for (const auto& entry : std::filesystem::directory_iterator(dir)) {
        std::ifstream f(entry.path(), std::ios::binary);
        std::stringstream ss;
        ss << f.rdbuf();
        try {
            auto t = ChatTemplate::from_source(ss.str(), "<s>", "</s>");
            (void)t.apply(nlohmann::ordered_json::parse(R"([{"role":"user","content":"hi"}])"), true);
        } catch (const Error&) {
        }
        ++n;
    }
    EXPECT_GT(n, 5);
}

}  // namespace
}  // namespace r1::chat
