// StopMatcher and ReasoningSplitter: small state machines over streamed UTF-8 text.
#include "runtime/server/text_stream.h"

#include <algorithm>

namespace r1::server {
namespace {

constexpr std::string_view kOpen = "<think>", kClose = "</think>";

// Length of the longest suffix of `text` that is a proper prefix of `tag`.
size_t partial_suffix(std::string_view text, std::string_view tag) {
    for (size_t n = std::min(tag.size() - 1, text.size()); n > 0; --n)
        if (text.substr(text.size() - n) == tag.substr(0, n)) return n;
    return 0;
}

bool is_space(char c) { return c == ' ' || c == '\n' || c == '\r' || c == '\t'; }

}  // namespace

std::string StopMatcher::push(std::string_view text) {
    if (stopped_) return {};
    pending_ += text;
    size_t cut = std::string::npos;
    for (const auto& s : stop_) cut = std::min(cut, pending_.find(s));
    if (cut != std::string::npos) {
        stopped_ = true;
        std::string out = pending_.substr(0, cut);
        pending_.clear();
        return out;
    }
    size_t hold = 0;
    for (const auto& s : stop_) hold = std::max(hold, partial_suffix(pending_, s));
    std::string out = pending_.substr(0, pending_.size() - hold);
    pending_.erase(0, pending_.size() - hold);
    return out;
}

std::string StopMatcher::flush() {
    std::string out;
    out.swap(pending_);
    return out;
}

void ReasoningSplitter::add_reasoning(Split& out, std::string_view s) {
    if (!reasoning_started_) {
        while (!s.empty() && is_space(s.front())) s.remove_prefix(1);
        reasoning_started_ = !s.empty();
    }
    out.reasoning += s;
}

void ReasoningSplitter::add_content(Split& out, std::string_view s) {
    if (!content_started_) {
        while (!s.empty() && is_space(s.front())) s.remove_prefix(1);
        content_started_ = !s.empty();
    }
    out.content += s;
}

Split ReasoningSplitter::push(std::string_view text) {
    Split out;
    held_ += text;
    for (;;) {
        if (state_ == State::Start) {
            // Leading whitespace, then either <think> (or a prefix of it, held) or the answer.
            size_t i = 0;
            while (i < held_.size() && is_space(held_[i])) ++i;
            const std::string_view rest = std::string_view(held_).substr(i);
            if (rest.starts_with(kOpen)) {
                state_ = State::Reasoning;
                held_.erase(0, i + kOpen.size());
                continue;
            }
            if (rest.size() < kOpen.size() && kOpen.starts_with(rest)) return out;  // undecided
            state_ = State::Content;
            continue;
        }
        if (state_ == State::Reasoning) {
            if (size_t at = held_.find(kClose); at != std::string::npos) {
                add_reasoning(out, std::string_view(held_).substr(0, at));
                held_.erase(0, at + kClose.size());
                state_ = State::Content;
                continue;
            }
            const size_t hold = partial_suffix(held_, kClose);
            add_reasoning(out, std::string_view(held_).substr(0, held_.size() - hold));
            held_.erase(0, held_.size() - hold);
            return out;
        }
        add_content(out, held_);
        held_.clear();
        return out;
    }
}

Split ReasoningSplitter::flush() {
    Split out;
    if (state_ == State::Reasoning) add_reasoning(out, held_);
    else add_content(out, held_);
    held_.clear();
    return out;
}

}  // namespace r1::server
