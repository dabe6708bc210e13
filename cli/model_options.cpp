// Shared model/sampling flags and loading for run, chat and perplexity.
#include "cli/model_options.h"


#include "core/error.h"
#include "runtime/models/models.h"

namespace r1::cli {

void add_model_flags(CLI::App* cmd, ModelFlags& f) {
    cmd->add_option("-t,--threads", f.threads, "CPU threads (0: all cores)");
    cmd->add_option("-c,--ctx-size", f.n_ctx, "Context size in tokens (0: the model's, at most 4096)");
    cmd->add_option("-b,--batch-size", f.n_batch, "Most tokens evaluated in one pass")->capture_default_str();
    cmd->add_option("--backend", f.backend, "cpu, vulkan or cuda")->capture_default_str();
    cmd->add_option("--device", f.device, "GPU index for --backend vulkan|cuda (r1 info --devices lists them)")
        ->capture_default_str();
    cmd->add_option("--gpu-layers", f.n_gpu_layers,
                    "Layers on the --backend device counted from the last (also -ngl; default all; llama.cpp's)");
    cmd->add_flag("--cpu-moe", f.cpu_moe, "Routed-expert weights stay on the CPU (llama.cpp's --cpu-moe)");
    cmd->add_option("--cache-type", f.cache_type,
                    "KV cache type: f16, f32 or auto (f32 for an all-f32 model file, else f16)")
        ->capture_default_str();
}

void add_sampling_flags(CLI::App* cmd, SamplingFlags& f) {
    SamplingParams& p = f.params;
    f.temp = cmd->add_option("--temp", p.temp, "Temperature; 0 is greedy (R1 default 0.6)");
    f.top_k = cmd->add_option("--top-k", p.top_k, "Top-k; 0 is off (R1 default off, else 40)");
    f.top_p = cmd->add_option("--top-p", p.top_p, "Top-p nucleus; 1 is off (default 0.95)");
    f.min_p = cmd->add_option("--min-p", p.min_p, "Min-p; 0 is off (R1 default off, else 0.05)");
    cmd->add_option("--repeat-penalty", p.repeat_penalty, "Repetition penalty; 1 is off")->capture_default_str();
    cmd->add_option("--repeat-last-n", p.repeat_last_n, "Penalty window; -1 whole history")->capture_default_str();
    cmd->add_option("--presence-penalty", p.presence_penalty, "Presence penalty")->capture_default_str();
    cmd->add_option("--frequency-penalty", p.frequency_penalty, "Frequency penalty")->capture_default_str();
    cmd->add_option("-s,--seed", p.seed, "Random seed (same seed, same output)");
}

SamplingParams resolve_sampling(const SamplingFlags& f, bool is_r1) {
    SamplingParams p = f.params;
    if (is_r1) {
        const SamplingParams d = r1_sampling_defaults();
        if (!f.temp->count()) p.temp = d.temp;
        if (!f.top_p->count()) p.top_p = d.top_p;
        if (!f.top_k->count()) p.top_k = d.top_k;
        if (!f.min_p->count()) p.min_p = d.min_p;
    }
    validate(p);
    return p;
}

const tokenizer::Tokenizer& LoadedModel::tok() const {
    if (!tokenizer) fail("{}: the file has no tokenizer (key 'tokenizer.ggml.model' missing)", model->file().source());
    return *tokenizer;
}

LoadedModel load_model_and_tokenizer(const ModelFlags& f) {
    if (f.threads < 0) fail("-t {}: the thread count must be >= 0 (0: all cores)", f.threads);
    if (f.n_ctx < 0 || f.n_ctx > (1 << 24)) fail("-c {}: must be in [0, 16777216] (0: the model's)", f.n_ctx);
    if (f.n_batch < 1) fail("-b {}: must be >= 1", f.n_batch);
    if (f.cache_type != "auto" && f.cache_type != "f16" && f.cache_type != "f32")
        fail("--cache-type {}: expected f16, f32 or auto", f.cache_type);
    if (f.model.empty()) fail("-m: no model file given");
    LoadedModel m;
    m.model = load_model(f.model, PlacementOptions{.backend = {.name = f.backend,
                                                               .n_threads = resolve_threads(f.threads),
                                                               .device = f.device},
                                                   .n_gpu_layers = f.n_gpu_layers,
                                                   .cpu_moe = f.cpu_moe});
    // A file without a vocabulary still runs on token ids (--ids); text needs the tokenizer.
    if (!m.model->file().has("tokenizer.ggml.model")) return m;
    m.tokenizer = tokenizer::Tokenizer::create(tokenizer::vocab_from_gguf(m.model->file()));
    if (m.tokenizer->n_vocab() > m.model->info().n_vocab)
        fail("{}: the tokenizer has {} tokens but the model only {} output rows", f.model, m.tokenizer->n_vocab(),
             m.model->info().n_vocab);
    m.is_r1 = m.tokenizer->think_begin() >= 0 && m.tokenizer->token_id("<｜Assistant｜>") >= 0;
    return m;
}

ContextOptions context_options(const ModelFlags& f, const Model& m) {
    GgmlType kv = f.cache_type == "f32" ? GgmlType::F32 : GgmlType::F16;
    if (f.cache_type == "auto") {
        // An all-f32 file is a reference run: keep its keys and values in f32 too.
        bool all_f32 = true;
        for (const auto& t : m.file().tensors()) all_f32 &= t.type == GgmlType::F32;
        kv = all_f32 ? GgmlType::F32 : GgmlType::F16;
    }
    return {.n_ctx = f.n_ctx, .kv_type = kv, .n_batch = f.n_batch};
}

std::string timing_line(int n_prompt, double prompt_ms, int n_gen, double gen_ms) {
    auto rate = [](int n, double ms) { return ms > 0 ? n * 1000.0 / ms : 0.0; };
    return fmt::format("r1: prompt {} tokens in {:.1f} ms ({:.1f} tok/s), generated {} tokens in {:.1f} ms ({:.1f} tok/s)",
                       n_prompt, prompt_ms, rate(n_prompt, prompt_ms), n_gen, gen_ms, rate(n_gen, gen_ms));
}

}  // namespace r1::cli
