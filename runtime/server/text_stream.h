// Streaming text filters of a generation, fed piece by piece as tokens decode: StopMatcher cuts
// the output at the first stop string (holding back text that may start one), and
// ReasoningSplitter sends R1's <think>...</think> part to `reasoning` and the rest to `content`,
// tags removed, whether the template prefilled <think> (the reply starts inside it) or not.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace r1::server {

class StopMatcher {
public:
    explicit StopMatcher(std::vector<std::string> stop) : stop_(std::move(stop)) {}
    // Text safe to stream now; after a stop string is seen, the text before it and nothing more.
    std::string push(std::string_view text);
    std::string flush();  // the held-back text (at the end of the generation)
    bool stopped() const { return stopped_; }

private:
    std::vector<std::string> stop_;
    std::string pending_;
    bool stopped_ = false;
};

struct Split {
    std::string reasoning, content;
    bool empty() const { return reasoning.empty() && content.empty(); }
};

class ReasoningSplitter {
public:
    // starts_in_reasoning: the prompt ends inside an open <think> (R1's generation prompt).
    explicit ReasoningSplitter(bool starts_in_reasoning)
        : state_(starts_in_reasoning ? State::Reasoning : State::Start) {}
    Split push(std::string_view text);
    Split flush();
    bool in_reasoning() const { return state_ == State::Reasoning; }

private:
    // Start: before any text (a leading <think> opens the reasoning); Reasoning: inside it;
    // Content: after </think> or when the reply did not start with <think>.
    enum class State { Start, Reasoning, Content };
    State state_;
    std::string held_;          // text that may be the start of a tag
    bool reasoning_started_ = false, content_started_ = false;  // leading whitespace is dropped
    void add_reasoning(Split& out, std::string_view s);
    void add_content(Split& out, std::string_view s);
};

}  // namespace r1::server
