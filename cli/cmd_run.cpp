// `r1 run -m FILE -p PROMPT ...`: one generation streamed to stdout (CLI.md). Diagnostics and
// timings go to stderr; --dump-logits writes every prompt position's logits (float32 LE).
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <memory>
#include <sstream>

#include "cli/commands.h"
#include "cli/model_options.h"
#include "runtime/chat/chat.h"
#include "core/error.h"
#include "core/files.h"
#include "runtime/generate/generate.h"

namespace r1::cli {
namespace {

struct RunArgs {
    ModelFlags model;
    SamplingFlags sampling;
    std::string prompt, prompt_file, ids, dump_logits;
    int n_predict = -1;
    bool echo = false, ignore_eos = false, chat = false, no_special = false;
    std::vector<std::string> stop;
};

std::vector<int32_t> parse_ids(const std::string& s, int32_t n_vocab) {
    std::vector<int32_t> ids;
    std::istringstream in(s);
    std::string w;
    while (in >> w) {
        size_t used = 0;
        long long v = 0;
        try {
            v = std::stoll(w, &used);
        } catch (const std::exception&) {
            used = 0;
        }
        if (used != w.size()) fail("--ids: '{}' is not a token id", w);
        if (v < 0 || v >= n_vocab) fail("--ids: token id {} is out of range [0, {})", w, n_vocab);
        ids.push_back(int32_t(v));
    }
    if (ids.empty()) fail("--ids: no token ids given");
    return ids;
}

// Writes n_prompt x n_vocab float32 to `out` (opened before the model ran: a bad path fails fast).
void write_logits(OutputFile& out, const std::vector<float>& logits) {
    out.write(logits.data(), logits.size() * sizeof(float));
    out.commit();
}

void run(RunArgs& a) {
    if (a.n_predict < -1) fail("-n {}: must be >= -1 (-1: until end of generation)", a.n_predict);
    int sources = !a.prompt.empty() + !a.prompt_file.empty() + !a.ids.empty();
    if (sources != 1) fail("give the prompt with exactly one of -p, -f or --ids");
    if (a.chat && !a.ids.empty()) fail("--chat: not with --ids (the template renders text)");

    // The prompt file is read (bounded) before the model loads: a bad -f fails fast.
    std::string text = a.prompt;
    if (!a.prompt_file.empty()) text = read_input_file(a.prompt_file, kMaxPromptFileBytes, "-f");
    // A directory or unwritable path is refused before the model runs; a device is written through.
    std::unique_ptr<OutputFile> dump;
    if (!a.dump_logits.empty()) dump = std::make_unique<OutputFile>(a.dump_logits, "--dump-logits");
    LoadedModel m = load_model_and_tokenizer(a.model);
    Model& model = *m.model;
    const SamplingParams sp = resolve_sampling(a.sampling, m.is_r1);

    std::vector<int32_t> prompt;
    if (!a.ids.empty()) {
        prompt = parse_ids(a.ids, model.info().n_vocab);
    } else {
        const auto& tok = m.tok();
        bool add_bos = true;
        if (a.chat) {
            // A rendered chat prompt carries its own BOS text; plain text gets the tokenizer's.
            const auto t = chat::load_model_template(a.model.model);
            text = chat::ChatTemplate::from_source(t.source, t.bos_token, t.eos_token)
                       .apply(nlohmann::ordered_json::array({{{"role", "user"}, {"content", text}}}), true);
            add_bos = t.bos_token.empty() || !text.starts_with(t.bos_token);
        }
        prompt = tok.encode(text, add_bos, !a.no_special);
    }

    auto ctx = model.new_context(context_options(a.model, model));
    if (int64_t(prompt.size()) > ctx->n_ctx())
        fail("the prompt has {} tokens, more than the context size {} (use -c to enlarge it)", prompt.size(),
             ctx->n_ctx());
    if (a.echo) {
        std::cout << m.tok().decode(prompt, false);
        std::cout.flush();
    }
    if (dump) {
        std::vector<float> logits(prompt.size() * size_t(model.info().n_vocab));
        model.forward(*ctx, prompt, Logits::All, logits);
        write_logits(*dump, logits);
        if (a.n_predict == 0) return;
    }
    if (a.n_predict == 0) {
        evaluate_prompt(model, *ctx, prompt, nullptr);
        return;
    }
    Sampler sampler(sp, model.info().n_vocab);
    GenerateResult r = generate(model, *ctx, m.tok(), sampler, prompt,
                                {.n_predict = a.n_predict, .ignore_eos = a.ignore_eos, .stop = a.stop, .cancel = {}},
                                [](std::string_view t, int32_t) {
                                    std::cout << t;
                                    std::cout.flush();
                                    return true;
                                });
    std::cout.flush();
    if (r.reason == StopReason::ContextFull)
        std::fprintf(stderr, "\nr1: context full (%d tokens): generation stopped; use -c to enlarge it\n",
                     ctx->n_ctx());
    std::fprintf(stderr, "\n%s\n", timing_line(r.n_prompt - r.n_reused, r.prompt_ms, r.n_generated, r.gen_ms).c_str());
}

}  // namespace

void add_run(CLI::App& app) {
    auto a = std::make_shared<RunArgs>();
    CLI::App* sub = app.add_subcommand("run", "One generation from a prompt, streamed to stdout");
    sub->add_option("-m,--model", a->model.model, "GGUF model file")->required();
    sub->add_option("-p,--prompt", a->prompt, "Prompt text");
    sub->add_option("-f,--file", a->prompt_file, "Read the prompt from a file (at most 64 MiB)");
    sub->add_option("--ids", a->ids, "Prompt as token ids, e.g. \"1 2 3\"");
    sub->add_option("-n,--n-predict", a->n_predict, "Tokens to generate (-1: until end of generation)")
        ->capture_default_str();
    sub->add_flag("--echo", a->echo, "Print the prompt before the generated text");
    sub->add_flag("--ignore-eos", a->ignore_eos, "Keep generating past end-of-generation tokens");
    sub->add_flag("--chat", a->chat, "Wrap the prompt in the model's chat template as a user turn");
    sub->add_flag("--no-special", a->no_special, "Do not parse special-token text in the prompt");
    sub->add_option("--stop", a->stop, "Stop when this text is generated (repeatable)");
    sub->add_option("--dump-logits", a->dump_logits, "Write the logits of every prompt position (float32)");
    add_model_flags(sub, a->model);
    add_sampling_flags(sub, a->sampling);
    sub->callback([a] { run(*a); });
}

R1_COMMAND(20, add_run);

}  // namespace r1::cli
