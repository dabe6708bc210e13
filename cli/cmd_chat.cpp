// `r1 chat [-m FILE]`: interactive chat (CLI.md). libedit line editing and history, streamed
// replies with the reasoning part dimmed on a terminal (or hidden), --think-budget, Ctrl-C to
// stop a reply or the reading of a long message, /clear and /exit. Each turn re-renders the whole
// conversation with the model's template; the KV cache keeps the longest unchanged prefix, so
// only the tail is evaluated. A message the context cannot hold is refused; the session goes on.
#include <signal.h>
#include <sys/resource.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <memory>
#include <optional>

#include <editline/readline.h>

#include "cli/commands.h"
#include "cli/model_options.h"
#include "runtime/chat/chat.h"
#include "core/error.h"
#include "core/files.h"
#include "runtime/generate/generate.h"

namespace r1::cli {
namespace {

constexpr const char* kDemoModel = "models/demo-tiny-r1-qwen2-q8_0.gguf";
// Appended when --think-budget runs out: closes the reasoning so the model answers.
constexpr const char* kThinkWrapUp = "\n\nTime is up; I will answer now.\n</think>\n\n";

std::atomic<bool> g_interrupted{false};
void on_sigint(int) { g_interrupted = true; }

struct ChatArgs {
    ModelFlags model;
    SamplingFlags sampling;
    std::string system;
    int n_predict = -1;
    int think_budget = -1;
    bool hide_think = false, timings = false;
};

// The demo model scripts/chat prepares: <repo>/models/..., found from the binary's place
// (<repo>/build/bin/r1) or the working directory.
std::string default_model() {
    std::error_code ec;
    const auto exe = std::filesystem::read_symlink("/proc/self/exe", ec);
    for (const auto& root : {exe.parent_path().parent_path().parent_path(), std::filesystem::current_path()}) {
        const auto p = root / kDemoModel;
        if (std::filesystem::exists(p)) return p.string();
    }
    fail("no -m given and the demo model {} does not exist (scripts/chat creates it)", kDemoModel);
}

// Reads one line: libedit on a terminal, else at most kMaxPromptFileBytes from standard input
// (an endless line such as `r1 chat < /dev/zero` is refused, not buffered). nullopt at the end.
std::optional<std::string> read_line(bool tty) {
    if (tty) {
        char* s = readline("> ");
        if (!s) return std::nullopt;
        std::string line(s);
        std::free(s);
        if (!line.empty()) add_history(line.c_str());
        return line;
    }
    std::string line;
    std::streambuf* in = std::cin.rdbuf();
    for (;;) {
        const int c = in->sbumpc();
        if (c == std::char_traits<char>::eof()) {
            if (line.empty()) return std::nullopt;
            return line;
        }
        if (c == '\n') return line;
        if (line.size() >= kMaxPromptFileBytes)
            fail("standard input: a line longer than the {} limit for one chat turn", size_text(kMaxPromptFileBytes));
        line.push_back(char(c));
    }
}

class ChatSession {
public:
    ChatSession(ChatArgs& a, LoadedModel& m)
        : a_(a), m_(m), tok_(m.tok()), tty_(isatty(STDOUT_FILENO)),
          sampler_(resolve_sampling(a.sampling, m.is_r1), m.model->info().n_vocab) {
        const auto t = chat::load_model_template(a.model.model);
        tmpl_.emplace(chat::ChatTemplate::from_source(t.source, t.bos_token, t.eos_token));
        ctx_ = m.model->new_context(context_options(a.model, *m.model));
        clear();
    }

    void clear() {
        messages_ = nlohmann::ordered_json::array();
        if (!a_.system.empty()) messages_.push_back({{"role", "system"}, {"content", a_.system}});
        ctx_->clear();
    }

    void turn(const std::string& user) {
        g_interrupted = false;
        messages_.push_back({{"role", "user"}, {"content", user}});
        const std::string rendered = tmpl_->apply(messages_, true);
        const bool starts_with_bos = !tmpl_->bos_token().empty() && rendered.starts_with(tmpl_->bos_token());
        std::vector<int32_t> prompt = tok_.encode(rendered, !starts_with_bos, true);
        if (!fits(prompt)) {
            messages_.erase(messages_.size() - 1);  // the conversation goes on without this turn
            return;
        }
        in_think_ = chat::prompt_ends_in_reasoning(rendered);
        n_think_ = 0;
        think_to_open_ = in_think_;  // "<think>" is shown with the first text of the reply

        std::string reply;
        GenerateResult r = run(prompt, reply);
        if (r.reason == StopReason::Cancelled && budget_hit_) {
            // --think-budget: close the reasoning and let the model answer (if there is room).
            const std::string wrap = kThinkWrapUp;
            show(std::string_view(wrap).substr(0, wrap.size() - 2));
            end_think();
            reply += wrap;
            std::vector<int32_t> next = ctx_->tokens();
            next.push_back(r.tokens.back());
            const auto extra = tok_.encode(wrap, false, true);
            next.insert(next.end(), extra.begin(), extra.end());
            if (int64_t(next.size()) < ctx_->n_ctx()) r = run(next, reply);
            else r.reason = StopReason::ContextFull;
        }
        if (r.reason == StopReason::Cancelled && r.n_generated == 0 && reply.empty()) {
            // Stopped while reading the prompt: no reply, so the turn is dropped.
            in_think_ = think_to_open_ = false;
            std::cout << dim(fmt::format("[stopped after reading {} of {} prompt tokens; message dropped]",
                                         ctx_->n_past() - r.n_reused, r.n_prompt - r.n_reused))
                      << "\n";
            std::cout.flush();
            messages_.erase(messages_.size() - 1);
            return;
        }
        if (in_think_) end_think();
        std::cout << "\n";
        if (r.reason == StopReason::Cancelled) std::cout << dim("[stopped]") << "\n";
        if (r.reason == StopReason::ContextFull)
            std::cout << dim(fmt::format("[context full ({} tokens): /clear starts over, -c enlarges it]", ctx_->n_ctx()))
                      << "\n";
        std::cout.flush();
        messages_.push_back({{"role", "assistant"}, {"content", reply}});
        if (a_.timings)
            std::fprintf(stderr, "%s (reused %d cached tokens)\n",
                         timing_line(r.n_prompt - r.n_reused, r.prompt_ms, r.n_generated, r.gen_ms).c_str(), r.n_reused);
    }

private:
    // Whether the rendered conversation `prompt` leaves room for a reply; if not, says so with
    // the numbers (stderr) and the turn is not sent.
    bool fits(const std::vector<int32_t>& prompt) const {
        const int64_t n_ctx = ctx_->n_ctx();
        if (int64_t(prompt.size()) < n_ctx) return true;
        // Tokens of the conversation so far that the new prompt keeps (its cached prefix).
        const auto& cached = ctx_->tokens();
        size_t kept = 0;
        while (kept < cached.size() && kept < prompt.size() && cached[kept] == prompt[kept]) ++kept;
        std::fprintf(stderr,
                     "r1 chat: message not sent: it needs %zu tokens (with room for a 1-token reply) but the "
                     "context has %lld left (%lld in all, %zu used by the conversation so far); /clear starts "
                     "over, -c enlarges the context\n",
                     prompt.size() - kept + 1, static_cast<long long>(n_ctx - int64_t(kept)),
                     static_cast<long long>(n_ctx), kept);
        return false;
    }

    GenerateResult run(const std::vector<int32_t>& prompt, std::string& reply) {
        budget_hit_ = false;
        return generate(*m_.model, *ctx_, tok_, sampler_, prompt,
                        {.n_predict = a_.n_predict, .stop = {}, .cancel = [] { return g_interrupted.load(); }},
                        [&](std::string_view text, int32_t token) {
                            reply += text;
                            if (in_think_ && token >= 0 && token == tok_.think_end()) {
                                show(text);
                                end_think();
                            } else {
                                show(text);
                                if (in_think_ && token >= 0 && a_.think_budget >= 0 && ++n_think_ >= a_.think_budget)
                                    budget_hit_ = true;
                            }
                            return !g_interrupted && !budget_hit_;
                        });
    }

    std::string dim(const std::string& s) const { return tty_ ? "\033[2m" + s + "\033[0m" : s; }
    void begin_think() {
        if (a_.hide_think) return;
        if (tty_) std::cout << "\033[2m";
        std::cout << "<think>\n";
    }
    void end_think() {
        in_think_ = false;
        if (!a_.hide_think && tty_) std::cout << "\033[0m";
    }
    void show(std::string_view text) {
        if (think_to_open_) {
            think_to_open_ = false;
            begin_think();
        }
        if (in_think_ && a_.hide_think) return;
        std::cout << text;
        std::cout.flush();
    }

    ChatArgs& a_;
    LoadedModel& m_;
    const tokenizer::Tokenizer& tok_;
    bool tty_;
    Sampler sampler_;
    std::optional<chat::ChatTemplate> tmpl_;
    std::unique_ptr<Context> ctx_;
    nlohmann::ordered_json messages_;
    bool in_think_ = false, think_to_open_ = false, budget_hit_ = false;
    int n_think_ = 0;
};

void run_chat(ChatArgs& a) {
    if (a.model.model.empty()) a.model.model = default_model();
    if (a.n_predict < -1) fail("-n {}: must be >= -1 (-1: until end of generation)", a.n_predict);
    if (a.think_budget < -1) fail("--think-budget {}: must be >= 0", a.think_budget);
    LoadedModel m = load_model_and_tokenizer(a.model);
    ChatSession session(a, m);
    const bool tty = isatty(STDIN_FILENO);
    struct sigaction sa = {};
    sa.sa_handler = on_sigint;
    sigemptyset(&sa.sa_mask);
    if (tty)
        std::fprintf(stderr, "r1 chat: %s (%s). /clear starts over, /exit quits, Ctrl-C stops a reply.\n",
                     m.model->info().name.c_str(), a.model.model.c_str());
    while (auto line = read_line(tty)) {
        if (*line == "/exit" || *line == "/quit") break;
        if (*line == "/clear") {
            session.clear();
            std::cout << "[conversation cleared]\n";
            continue;
        }
        if (line->empty()) continue;
        struct sigaction old = {};
        sigaction(SIGINT, &sa, &old);  // Ctrl-C stops the reply, not the program
        session.turn(*line);
        sigaction(SIGINT, &old, nullptr);
    }
    if (a.timings) {
        rusage ru = {};
        getrusage(RUSAGE_SELF, &ru);
        std::fprintf(stderr, "r1: peak RSS %.1f MiB\n", double(ru.ru_maxrss) / 1024.0);
    }
}

}  // namespace

void add_chat(CLI::App& app) {
    auto a = std::make_shared<ChatArgs>();
    CLI::App* sub = app.add_subcommand("chat", "Interactive chat with a model (the bundled demo without -m)");
    sub->add_option("-m,--model", a->model.model, "GGUF model file (default: the demo model)");
    sub->add_option("--system", a->system, "System prompt");
    sub->add_option("-n,--n-predict", a->n_predict, "Most tokens per reply (-1: until end of generation)");
    sub->add_option("--think-budget", a->think_budget, "Close the reasoning after N tokens and answer");
    sub->add_flag("--hide-think", a->hide_think, "Do not show the reasoning part");
    sub->add_flag("--timings", a->timings, "Speed after each reply and peak memory at the end (stderr)");
    add_model_flags(sub, a->model);
    add_sampling_flags(sub, a->sampling);
    sub->callback([a] { run_chat(*a); });
}

R1_COMMAND(10, add_chat);

}  // namespace r1::cli
