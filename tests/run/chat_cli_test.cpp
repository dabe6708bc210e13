// `r1 chat` driven through pipes (issue 12 item 11): a message the context cannot hold is
// refused with the numbers and the conversation goes on; SIGINT (Ctrl-C) while a long message
// is read stops the reading there, drops that message, and the session goes on. In both, the
// later replies equal those of a session that never had the dropped message (greedy).
#include <gtest/gtest.h>

#include <csignal>
#include <regex>
#include <thread>

#include "runtime/gguf/gguf.h"
#include "tests/cli/run_r1.h"
#include "tests/model/goldens.h"

namespace r1::test {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

std::string model_f32() {
    std::string why;
    auto p = converted("tiny-r1-qwen2", "f32", false, &why);
    EXPECT_FALSE(p.empty()) << why;
    return p.string();
}

std::string repeat(const std::string& s, int n) {
    std::string out;
    for (int i = 0; i < n; ++i) out += s;
    return out;
}

int count(const std::string& text, const std::string& needle) {
    int n = 0;
    for (size_t at = text.find(needle); at != std::string::npos; at = text.find(needle, at + 1)) ++n;
    return n;
}

TEST(ChatCli, OverLongMessageIsRefusedAndTheConversationGoesOn) {
    const std::string m = model_f32();
    const std::vector<std::string> args = {"chat", "-m", m, "-c", "128", "-n", "8", "--temp", "0", "-t", "1"};
    const std::string too_long = repeat("hello world ", 200);  // ~800 tokens
    const RunResult r = run_r1(args, "hi\n" + too_long + "\nhow are you\n");
    EXPECT_EQ(r.status, 0) << r.err;
    std::smatch mm;
    static const std::regex re(R"(message not sent: it needs (\d+) tokens .*context has (\d+) left \((\d+) in all, (\d+) used)");
    ASSERT_TRUE(std::regex_search(r.err, mm, re)) << r.err;
    EXPECT_GT(std::stoi(mm[1]), std::stoi(mm[2])) << r.err;
    EXPECT_EQ(std::stoi(mm[3]), 128) << r.err;
    EXPECT_EQ(std::stoi(mm[2]) + std::stoi(mm[4]), 128) << r.err;
    EXPECT_GT(std::stoi(mm[4]), 0) << "the first turn is part of the conversation: " << r.err;
    // The refusal is one line; the other is the model's load line ("backend cpu: ...").
    EXPECT_EQ(count(r.err, "\n"), 2) << r.err;
    EXPECT_EQ(r.err.rfind("backend cpu: ", 0), 0u) << r.err;

    const RunResult without = run_r1(args, "hi\nhow are you\n");
    ASSERT_EQ(without.status, 0) << without.err;
    EXPECT_EQ(r.out, without.out);
}

// A copy of the model whose training context is 64K positions, so that a message can take
// seconds to read with one token per batch (-b 1) and a signal lands inside the reading.
fs::path long_context_model(const std::string& f32) {
    const fs::path out = fs::path(f32).parent_path() / "qwen2-f32-ctx64k.gguf";
    auto f = gguf::File::open(f32);
    gguf::Writer w(out, f->alignment());
    for (const auto& [k, v] : f->metadata()) w.set(k, k == "qwen2.context_length" ? gguf::Value(uint32_t{65536}) : v);
    for (const auto& t : f->tensors()) w.add_tensor(t.name, t.type, std::span(t.ne.data(), t.n_dims));
    for (const auto& t : f->tensors()) w.write(std::span(t.data, t.n_bytes));
    w.finish();
    return out;
}

TEST(ChatCli, CtrlCStopsTheReadingOfALongMessage) {
    const std::string m = long_context_model(model_f32()).string();
    const std::vector<std::string> args = {"chat", "-m", m, "-c", "16384", "-b", "1", "-n", "6",
                                           "--temp", "0", "-t", "1", "--timings"};
    R1Process p(args);
    p.write("hi\n");
    ASSERT_TRUE(p.wait_for_err("r1: prompt", 120s)) << "first reply: " << p.out() << p.err();
    // ~12000 tokens: read one at a time, this takes far longer than the 30 s allowed below.
    p.write(repeat("hello world ", 3000) + "\n");
    std::this_thread::sleep_for(1s);  // the message is being read (tokenizing it takes milliseconds)
    p.signal(SIGINT);
    ASSERT_TRUE(p.wait_for_out("message dropped]", 30s)) << "no stop within 30 s: " << p.out() << p.err();
    p.write("hi\n");
    p.close_stdin();
    ASSERT_EQ(p.wait(120s), 0) << p.err();

    std::smatch mm;
    static const std::regex re(R"(\[stopped after reading (\d+) of (\d+) prompt tokens; message dropped\]\n)");
    std::string out = p.out();
    ASSERT_TRUE(std::regex_search(out, mm, re)) << out;
    EXPECT_LT(std::stoi(mm[1]), std::stoi(mm[2]));
    EXPECT_GT(std::stoi(mm[2]), 10000);
    EXPECT_EQ(count(p.err(), "r1: prompt"), 2) << p.err();  // timings of the two replies

    // Without the stop note, the output is that of a session with only the two short turns.
    out = std::regex_replace(out, re, "");
    const RunResult without = run_r1(args, "hi\nhi\n");
    ASSERT_EQ(without.status, 0) << without.err;
    EXPECT_EQ(out, without.out);
}

}  // namespace
}  // namespace r1::test
