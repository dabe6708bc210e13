// r1 serve's core without sockets: request limits and field errors (RELIABILITY.md server
// cases), the reasoning split with and without a prefilled <think>, stop strings split across
// pieces, and the API-key comparison.
#include <gtest/gtest.h>

#include <string>

#include "runtime/server/api.h"
#include "runtime/server/request.h"
#include "runtime/server/text_stream.h"

namespace r1::server {
namespace {

using nlohmann::json;

// The status and message of the HttpError `f` throws (status 0 when it does not throw).
template <typename F>
std::pair<int, std::string> error_of(F f) {
    try {
        f();
    } catch (const HttpError& e) {
        return {e.status, e.what()};
    }
    return {0, ""};
}

ChatRequest chat(const std::string& body, const RequestLimits& lim = {}) {
    return parse_chat_request(parse_body(body, lim), lim);
}

TEST(Request, ParsesTheFieldsOfAChatRequest) {
    const auto r = chat(R"({"model":"m","messages":[{"role":"system","content":"S"},{"role":"user","content":[{"type":"text","text":"a"},{"type":"text","text":"b"}]},
        {"role":"assistant","content":"A","reasoning_content":"hidden"}],
        "max_completion_tokens":7,"temperature":0.5,"top_p":0.9,"seed":42,"stop":["x","y"],"stream":true,
        "stream_options":{"include_usage":true},"reasoning_effort":"low","some_unknown_field":{"a":[1]}})");
    EXPECT_EQ(r.model, "m");
    ASSERT_EQ(r.messages.size(), 3u);
    EXPECT_EQ(r.messages[1]["content"], "ab");
    EXPECT_FALSE(r.messages[2].contains("reasoning_content"));  // earlier reasoning is dropped
    EXPECT_EQ(r.max_tokens, 7);
    EXPECT_FLOAT_EQ(*r.temperature, 0.5f);
    EXPECT_FLOAT_EQ(*r.top_p, 0.9f);
    EXPECT_EQ(r.seed, 42u);
    EXPECT_EQ(r.stop, (std::vector<std::string>{"x", "y"}));
    EXPECT_TRUE(r.stream);
    EXPECT_TRUE(r.include_usage);
    EXPECT_EQ(r.think_budget, 256);
    EXPECT_EQ(chat(R"({"messages":[{"role":"user","content":"x"}],"reasoning_effort":"none"})").think_budget, 0);
    EXPECT_EQ(chat(R"({"messages":[{"role":"user","content":"x"}],"think_budget":12})").think_budget, 12);
    EXPECT_EQ(chat(R"({"messages":[{"role":"user","content":"x"}],"stop":"end","max_tokens":null})").stop,
              std::vector<std::string>{"end"});
}

TEST(Request, WrongTypesAre400NamingTheField) {
    const std::pair<std::string, std::string> cases[] = {
        {R"({"messages":"hi"})", "'messages'"},
        {R"({"messages":[{"role":"user","content":"x"}],"temperature":"hot"})", "'temperature'"},
        {R"({"messages":[{"role":"user","content":"x"}],"max_tokens":1.5})", "'max_tokens'"},
        {R"({"messages":[{"role":"user","content":"x"}],"max_tokens":-5})", "'max_tokens'"},
        {R"({"messages":[{"role":"user","content":"x"}],"max_tokens":99999999999999999999})", "'max_tokens'"},
        {R"({"messages":[{"role":"user","content":"x"}],"top_p":0})", "'top_p'"},
        {R"({"messages":[{"role":"user","content":"x"}],"temperature":-1})", "'temperature'"},
        {R"({"messages":[{"role":"user","content":"x"}],"stream":"yes"})", "'stream'"},
        {R"({"messages":[{"role":"user","content":"x"}],"stop":[1]})", "'stop[0]'"},
        {R"({"messages":[{"role":"user","content":"x"}],"seed":"7"})", "'seed'"},
        {R"({"messages":[{"role":"user","content":"x"}],"n":2})", "'n'"},
        {R"({"messages":[{"role":"user","content":"x"}],"reasoning_effort":"extreme"})", "'reasoning_effort'"},
        {R"({"messages":[{"role":"wizard","content":"x"}]})", "'messages[0].role'"},
        {R"({"messages":[{"content":"x"}]})", "'messages[0].role'"},
        {R"({"messages":[{"role":"user","content":7}]})", "'messages[0].content'"},
        {R"({"messages":[{"role":"user","content":[{"type":"image_url"}]}]})", "'messages[0].content[0].type'"},
        {R"({"messages":[]})", "'messages'"},
        {R"({})", "'messages'"},
        {R"([1,2])", "JSON object"},
    };
    for (const auto& [body, field] : cases) {
        const auto [status, msg] = error_of([&] { chat(body); });
        EXPECT_EQ(status, 400) << body;
        EXPECT_NE(msg.find(field), std::string::npos) << body << " -> " << msg;
    }
}

TEST(Request, LimitsOnBodyDepthMessagesAndStops) {
    RequestLimits lim;
    lim.max_body_bytes = 64;
    EXPECT_EQ(error_of([&] { parse_body(std::string(65, ' '), lim); }).first, 413);
    lim = {};
    const std::string deep = std::string(33, '[') + std::string(33, ']');
    EXPECT_EQ(json_depth(deep), 33);
    EXPECT_EQ(json_depth(R"({"a":"[[[[{{{{\"[[["})"), 1);  // brackets in strings do not count
    const auto [status, msg] = error_of([&] { parse_body(deep, lim); });
    EXPECT_EQ(status, 400);
    EXPECT_NE(msg.find("33"), std::string::npos) << msg;
    EXPECT_EQ(parse_body(std::string(32, '[') + std::string(32, ']'), lim).size(), 1u);
    EXPECT_EQ(error_of([&] { parse_body("{\"a\":", lim); }).first, 400);
    lim.max_messages = 2;
    EXPECT_EQ(error_of([&] { chat(R"({"messages":[{"role":"user","content":"a"},{"role":"user","content":"b"},{"role":"user","content":"c"}]})", lim); }).first, 400);
    lim = {};
    json many = {{"messages", {{{"role", "user"}, {"content", "x"}}}}, {"stop", json::array()}};
    for (int i = 0; i < 17; ++i) many["stop"].push_back("s" + std::to_string(i));
    EXPECT_EQ(error_of([&] { chat(many.dump()); }).first, 400);
}

TEST(Request, CompletionPromptAsTextOrIds) {
    const RequestLimits lim;
    EXPECT_EQ(parse_completion_request(json::parse(R"({"prompt":"hi"})"), lim).prompt, "hi");
    EXPECT_EQ(parse_completion_request(json::parse(R"({"prompt":["hi"]})"), lim).prompt, "hi");
    EXPECT_EQ(parse_completion_request(json::parse(R"({"prompt":[1,2,3]})"), lim).prompt_ids,
              (std::vector<int32_t>{1, 2, 3}));
    EXPECT_EQ(error_of([&] { parse_completion_request(json::parse(R"({"prompt":[1,-2]})"), lim); }).first, 400);
    EXPECT_EQ(error_of([&] { parse_completion_request(json::parse(R"({"prompt":7})"), lim); }).first, 400);
    EXPECT_EQ(error_of([&] { parse_completion_request(json::parse(R"({})"), lim); }).first, 400);
}

// Feeds `pieces` to a splitter and returns the concatenated reasoning and content.
Split split_all(bool prefilled, const std::vector<std::string>& pieces) {
    ReasoningSplitter s(prefilled);
    Split all;
    for (const auto& p : pieces) {
        Split o = s.push(p);
        all.reasoning += o.reasoning;
        all.content += o.content;
    }
    Split o = s.flush();
    all.reasoning += o.reasoning;
    all.content += o.content;
    return all;
}

TEST(ReasoningSplitter, PrefilledThinkStartsInsideTheReasoning) {
    const Split a = split_all(true, {"Let me ", "think.", "\n</th", "ink>", "\n\nThe answer ", "is 4."});
    EXPECT_EQ(a.reasoning, "Let me think.\n");
    EXPECT_EQ(a.content, "The answer is 4.");
    // Every split point of the same text gives the same result.
    const std::string text = "Let me think.\n</think>\n\nThe answer is 4.";
    for (size_t i = 0; i <= text.size(); ++i) {
        const Split b = split_all(true, {text.substr(0, i), text.substr(i)});
        EXPECT_EQ(b.reasoning, a.reasoning) << i;
        EXPECT_EQ(b.content, a.content) << i;
    }
}

TEST(ReasoningSplitter, OpenTagInTheOutputAndNoTagAtAll) {
    const Split a = split_all(false, {"<th", "ink>\nhm", "m</think>", "ok"});
    EXPECT_EQ(a.reasoning, "hmm");
    EXPECT_EQ(a.content, "ok");
    const Split b = split_all(false, {"Just ", "an answer <think> here"});
    EXPECT_EQ(b.reasoning, "");
    EXPECT_EQ(b.content, "Just an answer <think> here");
    const Split c = split_all(true, {"never closed </thi"});  // cut short: all of it is reasoning
    EXPECT_EQ(c.reasoning, "never closed </thi");
    EXPECT_EQ(c.content, "");
    EXPECT_EQ(split_all(false, {"<thi"}).content, "<thi");
}

TEST(StopMatcher, CutsAtTheFirstStopAcrossPieces) {
    StopMatcher m({"STOP", "xy"});
    std::string out = m.push("abc S");
    EXPECT_EQ(out, "abc ");  // "S" may start STOP: held back
    out += m.push("TO");
    out += m.push("P and more");
    EXPECT_TRUE(m.stopped());
    EXPECT_EQ(out, "abc ");
    EXPECT_EQ(m.push("later"), "");
    StopMatcher n({"xy"});
    std::string got = n.push("ax");
    got += n.push("b");
    got += n.flush();
    EXPECT_EQ(got, "axb");
    EXPECT_FALSE(n.stopped());
}

TEST(ApiKey, MatchesOnlyTheExactBearerHeader) {
    EXPECT_TRUE(api_key_matches("Bearer sekret", "sekret"));
    EXPECT_FALSE(api_key_matches("Bearer sekreT", "sekret"));
    EXPECT_FALSE(api_key_matches("Bearer sekret2", "sekret"));
    EXPECT_FALSE(api_key_matches("Bearer sekre", "sekret"));
    EXPECT_FALSE(api_key_matches("", "sekret"));
    EXPECT_FALSE(api_key_matches("sekret", "sekret"));
}

}  // namespace
}  // namespace r1::server
