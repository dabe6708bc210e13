// `r1 perplexity -m FILE -f TEXT_FILE`: perplexity over non-overlapping chunks (CLI.md), and
// KL-divergence between two model files of one vocabulary through --save-logits/--kl-base.
// The logits file: "R1LG", version, n_vocab, n_ctx, n_chunks, variant, the chunk tokens, then
// each chunk's scored rows as float32.
#include <algorithm>
#include <cmath>
#include <cstring>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <memory>

#include "cli/commands.h"
#include "cli/model_options.h"
#include "core/error.h"
#include "core/files.h"
#include "runtime/generate/perplexity.h"

namespace r1::cli {
namespace {

struct PplArgs {
    ModelFlags model;
    std::string text_file, save_logits, kl_base;
    int n_chunks = -1;
    bool bos = false, second_half = false;
};

struct LogitsHeader {
    char magic[4] = {'R', '1', 'L', 'G'};
    uint32_t version = 1;
    uint32_t n_vocab = 0, n_ctx = 0, n_chunks = 0, variant = 0;
};

int variant_of(const PplArgs& a) { return a.second_half ? 2 : a.bos ? 1 : 0; }

void run(PplArgs& a) {
    if (a.model.n_ctx == 0) a.model.n_ctx = 512;
    if (a.bos && a.second_half) fail("--bos and --score-second-half are two different conventions; pick one");
    if (!a.save_logits.empty() && !a.kl_base.empty()) fail("--save-logits and --kl-base: give one of them");
    const std::string text = read_input_file(a.text_file, kMaxPromptFileBytes, "-f");

    // Opened before the model loads: a directory or unwritable path fails fast, a device is written through.
    std::unique_ptr<OutputFile> save;
    if (!a.save_logits.empty()) save = std::make_unique<OutputFile>(a.save_logits, "--save-logits");
    LoadedModel m = load_model_and_tokenizer(a.model);
    const auto tokens = m.tok().encode(text, false, false);
    const ContextOptions co = context_options(a.model, *m.model);
    const int32_t n_vocab = m.model->info().n_vocab;
    PerplexityOptions po{.n_ctx = a.model.n_ctx, .n_chunks = a.n_chunks, .bos = m.tok().bos(),
                         .bos_prefixed = a.bos, .score_second_half = a.second_half, .kv_type = co.kv_type,
                         .n_batch = std::max(a.model.n_batch, a.model.n_ctx)};
    const int64_t n_chunks_avail = int64_t(tokens.size()) / a.model.n_ctx;
    const int64_t n_chunks = a.n_chunks > 0 ? std::min<int64_t>(a.n_chunks, n_chunks_avail) : n_chunks_avail;
    if (n_chunks == 0)
        fail("-f {}: the text has {} tokens, fewer than one chunk of {} (use a smaller -c)", a.text_file,
             tokens.size(), a.model.n_ctx);
    std::fprintf(stderr, "r1: %zu tokens, %lld chunks of %d\n", tokens.size(), (long long)n_chunks, a.model.n_ctx);

    LogitsHeader hdr{.n_vocab = uint32_t(n_vocab), .n_ctx = uint32_t(a.model.n_ctx), .n_chunks = uint32_t(n_chunks),
                     .variant = uint32_t(variant_of(a))};
    std::ifstream base;
    if (save) {
        save->write(&hdr, sizeof hdr);
        save->write(tokens.data(), size_t(n_chunks * a.model.n_ctx * 4));
    }
    if (!a.kl_base.empty()) {
        base.open(a.kl_base, std::ios::binary);
        if (!base) fail("--kl-base {}: cannot open", a.kl_base);
        LogitsHeader b;
        base.read(reinterpret_cast<char*>(&b), sizeof b);
        if (!base || std::memcmp(b.magic, hdr.magic, 4) != 0 || b.version != 1)
            fail("--kl-base {}: not a logits file of r1 perplexity --save-logits", a.kl_base);
        if (b.n_vocab != hdr.n_vocab || b.n_ctx != hdr.n_ctx || b.n_chunks != hdr.n_chunks || b.variant != hdr.variant)
            fail("--kl-base {}: made with n_vocab {}, -c {}, {} chunks, variant {}; this run has {}, {}, {}, {}",
                 a.kl_base, b.n_vocab, b.n_ctx, b.n_chunks, b.variant, hdr.n_vocab, hdr.n_ctx, hdr.n_chunks, hdr.variant);
        std::vector<int32_t> base_tokens(size_t(n_chunks * a.model.n_ctx));
        base.read(reinterpret_cast<char*>(base_tokens.data()), std::streamsize(base_tokens.size() * 4));
        if (!base || !std::equal(base_tokens.begin(), base_tokens.end(), tokens.begin()))
            fail("--kl-base {}: made from a different text or tokenizer", a.kl_base);
    }

    double kl_sum = 0, kl_max = 0;
    int64_t kl_rows = 0, top1_same = 0;
    std::vector<float> base_rows;
    auto on_scored = [&](const ScoredRows& s) {
        const size_t n = s.targets.size() * size_t(n_vocab);
        if (save) save->write(s.logits, n * sizeof(float));
        if (base.is_open()) {
            base_rows.resize(n);
            base.read(reinterpret_cast<char*>(base_rows.data()), std::streamsize(n * sizeof(float)));
            if (!base) fail("--kl-base {}: truncated", a.kl_base);
            for (size_t r = 0; r < s.targets.size(); ++r) {
                const float* p = base_rows.data() + r * size_t(n_vocab);
                const float* q = s.logits + r * size_t(n_vocab);
                double mp = p[0], mq = q[0], sp = 0, sq = 0;
                int32_t ap = 0, aq = 0;
                for (int32_t i = 0; i < n_vocab; ++i) {
                    if (p[i] > p[ap]) ap = i;
                    if (q[i] > q[aq]) aq = i;
                }
                mp = p[ap], mq = q[aq];
                for (int32_t i = 0; i < n_vocab; ++i) sp += std::exp(p[i] - mp), sq += std::exp(q[i] - mq);
                const double lp = std::log(sp) + mp, lq = std::log(sq) + mq;
                double kl = 0;
                for (int32_t i = 0; i < n_vocab; ++i) kl += std::exp(p[i] - lp) * ((p[i] - lp) - (q[i] - lq));
                kl_sum += kl, kl_max = std::max(kl_max, kl), ++kl_rows, top1_same += ap == aq;
            }
        }
        std::fprintf(stderr, "[%d]", s.chunk + 1);
    };
    PerplexityResult r = perplexity(*m.model, tokens, po, on_scored);
    std::fprintf(stderr, "\n");
    if (save) save->commit();
    std::cout << fmt::format("tokens scored: {}\nmean NLL: {:.6f}\n", r.n_scored, r.mean_nll);
    if (kl_rows)
        std::cout << fmt::format("KL-divergence vs {}: mean {:.6g}, max {:.6g}; same top-1: {:.2f}%\n", a.kl_base,
                                 kl_sum / double(kl_rows), kl_max, 100.0 * double(top1_same) / double(kl_rows));
    std::cout << fmt::format("PPL = {:.4f}\n", r.perplexity);
}

}  // namespace

void add_perplexity(CLI::App& app) {
    auto a = std::make_shared<PplArgs>();
    CLI::App* sub = app.add_subcommand("perplexity", "Perplexity of a model over a text file");
    sub->add_option("-m,--model", a->model.model, "GGUF model file")->required();
    sub->add_option("-f,--file", a->text_file, "Text file (tokenized whole, no special tokens; at most 64 MiB)")->required();
    sub->add_option("--chunks", a->n_chunks, "Score only the first N chunks");
    sub->add_flag("--bos", a->bos, "Prefix BOS to each chunk and score all of its tokens");
    sub->add_flag("--score-second-half", a->second_half, "llama-perplexity: BOS as first token, score the second half");
    sub->add_option("--save-logits", a->save_logits, "Save the scored logits for a later --kl-base");
    sub->add_option("--kl-base", a->kl_base, "KL-divergence against logits saved by --save-logits");
    add_model_flags(sub, a->model);
    sub->callback([a] { run(*a); });
}

R1_COMMAND(40, add_perplexity);

}  // namespace r1::cli
