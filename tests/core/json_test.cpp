// core/json.h: the depth pre-scan against hand-counted texts, the limit at its edge, and errors
// that name the input in one line.
#include <gtest/gtest.h>

#include <functional>
#include <string>

#include "core/error.h"
#include "core/json.h"

namespace r1 {
namespace {

std::string nested(int depth, char open = '[', char close = ']') {
    return std::string(size_t(depth), open) + std::string(size_t(depth), close);
}

std::string error_of(const std::function<void()>& f) {
    try {
        f();
    } catch (const Error& e) {
        return e.what();
    }
    return "(no error)";
}

TEST(JsonDepth, CountsBracketsOutsideStrings) {
    EXPECT_EQ(json_depth("1"), 0);
    EXPECT_EQ(json_depth("[]"), 1);
    EXPECT_EQ(json_depth(R"({"a": [1, {"b": []}], "c": {}})"), 4);  // { [ { [
    EXPECT_EQ(json_depth(R"(["[[[", "\"{{{", "\\", [0]])"), 2);  // escapes and brackets in strings
    EXPECT_EQ(json_depth(nested(100000)), 100000);
}

TEST(ParseJson, AcceptsTheLimitAndRefusesOneMore) {
    EXPECT_TRUE(parse_json(nested(kMaxJsonDepth), "x").is_array());
    const std::string e = error_of([] { parse_json(nested(kMaxJsonDepth + 1), "--kwargs"); });
    EXPECT_EQ(e, "--kwargs: the JSON nests 129 levels deep, more than the limit of 128");
    const std::string o = error_of([] { parse_ordered_json("{\"a\":" + nested(50000, '{', '}') + "}", "--tools t.json"); });
    EXPECT_EQ(o.find("--tools t.json: the JSON nests 50001 levels deep"), 0u) << o;
}

TEST(ParseJson, SyntaxErrorsNameTheInputInOneLine) {
    const std::string e = error_of([] { parse_json("{\"a\": [1, 2", "config.json"); });
    EXPECT_EQ(e.find("config.json: not valid JSON: "), 0u) << e;
    EXPECT_EQ(e.find("[json.exception"), std::string::npos) << e;
    EXPECT_EQ(e.find('\n'), std::string::npos) << e;
    EXPECT_EQ(parse_ordered_json(R"({"b": 1, "a": 2})", "x").begin().key(), "b");  // order kept
}

}  // namespace
}  // namespace r1
