// `r1 synth`: preset config.json objects -> the converters' metadata and tensor layouts,
// random float rows (splitmix64 per row, Irwin-Hall approximation of a normal), then the
// same type mix, tokenizer step and streaming writer as `r1 convert`.
#include "convert/synth.h"

#include <cmath>

#include <fmt/format.h>

#include "convert/convert.h"
#include "convert/stream.h"
#include "convert/tokenizer_step.h"
#include "core/error.h"

namespace r1::convert {

namespace fs = std::filesystem;

namespace {

constexpr float kWeightStd = 0.02f;

nlohmann::json qwen2_config(int64_t n_embd, int64_t n_layer, int64_t n_head, int64_t n_head_kv, int64_t n_ff,
                            int64_t n_vocab, int64_t n_ctx, double eps) {
    return {{"model_type", "qwen2"},         {"hidden_size", n_embd},      {"num_hidden_layers", n_layer},
            {"num_attention_heads", n_head}, {"num_key_value_heads", n_head_kv}, {"intermediate_size", n_ff},
            {"vocab_size", n_vocab},         {"max_position_embeddings", n_ctx}, {"rope_theta", 10000.0},
            {"rms_norm_eps", eps},           {"tie_word_embeddings", false}, {"rope_scaling", nullptr}};
}

nlohmann::json llama3_config(int64_t n_embd, int64_t n_layer, int64_t n_head, int64_t n_head_kv, int64_t n_ff,
                             int64_t n_vocab) {
    return {{"model_type", "llama"},
            {"hidden_size", n_embd},
            {"num_hidden_layers", n_layer},
            {"num_attention_heads", n_head},
            {"num_key_value_heads", n_head_kv},
            {"intermediate_size", n_ff},
            {"vocab_size", n_vocab},
            {"max_position_embeddings", 131072},
            {"rope_theta", 500000.0},
            {"rms_norm_eps", 1e-5},
            {"tie_word_embeddings", false},
            {"attention_bias", false},
            {"mlp_bias", false},
            {"rope_scaling",
             {{"rope_type", "llama3"}, {"factor", 8.0}, {"low_freq_factor", 1.0}, {"high_freq_factor", 4.0},
              {"original_max_position_embeddings", 8192}}}};
}

// deepseek_v3 / deepseek_v2 config.json fields (GGUF.md §4.2 for R1).
struct DeepseekShape {
    const char* model_type;
    int64_t n_embd, n_layer, n_ff, n_head, q_lora, kv_lora, nope, rope, v_dim;
    int64_t n_expert, n_used, n_shared, n_ff_exp, first_dense, n_group, topk_group;
    double scale;
    int64_t n_vocab, n_ctx;
    double theta, eps, yarn_factor;  // yarn_factor 0: no rope scaling
    int64_t yarn_orig_ctx;
};

nlohmann::json deepseek_config(const DeepseekShape& d) {
    nlohmann::json c = {{"model_type", d.model_type},
                        {"hidden_size", d.n_embd},
                        {"num_hidden_layers", d.n_layer},
                        {"intermediate_size", d.n_ff},
                        {"num_attention_heads", d.n_head},
                        {"num_key_value_heads", d.n_head},
                        {"q_lora_rank", d.q_lora ? nlohmann::json(d.q_lora) : nlohmann::json(nullptr)},
                        {"kv_lora_rank", d.kv_lora},
                        {"qk_nope_head_dim", d.nope},
                        {"qk_rope_head_dim", d.rope},
                        {"v_head_dim", d.v_dim},
                        {"n_routed_experts", d.n_expert},
                        {"num_experts_per_tok", d.n_used},
                        {"n_shared_experts", d.n_shared},
                        {"moe_intermediate_size", d.n_ff_exp},
                        {"first_k_dense_replace", d.first_dense},
                        {"moe_layer_freq", 1},
                        {"routed_scaling_factor", d.scale},
                        {"norm_topk_prob", true},
                        {"scoring_func", std::string(d.model_type) == "deepseek_v3" ? "sigmoid" : "softmax"},
                        {"vocab_size", d.n_vocab},
                        {"max_position_embeddings", d.n_ctx},
                        {"rope_theta", d.theta},
                        {"rms_norm_eps", d.eps},
                        {"tie_word_embeddings", false},
                        {"attention_bias", false},
                        {"rope_scaling", nullptr}};
    if (d.n_group > 1) {
        c["n_group"] = d.n_group;
        c["topk_group"] = d.topk_group;
    }
    if (d.yarn_factor > 0)
        c["rope_scaling"] = {{"type", "yarn"},         {"factor", d.yarn_factor},
                             {"original_max_position_embeddings", d.yarn_orig_ctx},
                             {"beta_fast", 32},        {"beta_slow", 1},
                             {"mscale", 1.0},          {"mscale_all_dim", 1.0}};
    return c;
}

uint64_t splitmix64(uint64_t& s) {
    uint64_t z = (s += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

// Fills n values mean + std * z, z ~ N(0, 1) approximated by the sum of four 16-bit uniforms
// (mean 2, variance 1/3), one 64-bit draw per value.
void fill_normal(uint64_t state, float mean, float std, int64_t n, float* dst) {
    const float scale = std * std::sqrt(3.0f) / 65536.0f;
    for (int64_t i = 0; i < n; ++i) {
        const uint64_t r = splitmix64(state);
        const int64_t sum = int64_t(r & 0xFFFF) + int64_t((r >> 16) & 0xFFFF) + int64_t((r >> 32) & 0xFFFF) +
                            int64_t(r >> 48);
        dst[i] = mean + float(sum - 131070) * scale;
    }
}

// A tensor of random rows; row r of tensor `index` always gets the same values.
OutTensor random_tensor(std::string name, std::vector<int64_t> ne, int layer, uint64_t seed, uint64_t index,
                        float mean) {
    OutTensor t;
    t.name = std::move(name);
    t.ne = std::move(ne);
    t.layer = layer;
    t.source_bytes = uint64_t(t.n_elements()) * sizeof(float);
    const int64_t row = t.ne[0];
    uint64_t base = seed;
    base = splitmix64(base) ^ (index * 0xD1B54A32D192ED03ull);
    t.produce = [row, base, mean](int64_t r0, int64_t n, float* dst) {
        for (int64_t r = r0; r < r0 + n; ++r) {
            uint64_t s = base ^ (uint64_t(r) * 0x9E3779B97F4A7C15ull);
            fill_normal(splitmix64(s), mean, kWeightStd, row, dst + (r - r0) * row);
        }
    };
    return t;
}

}  // namespace

const std::vector<SynthPreset>& synth_presets() {
    static const std::vector<SynthPreset> presets = {
        // GGUF.md §4.1 (the distills' config.json values).
        {"r1-distill-qwen-1.5b", qwen2_config(1536, 28, 12, 2, 8960, 151936, 131072, 1e-6)},
        {"r1-distill-qwen-7b", qwen2_config(3584, 28, 28, 4, 18944, 152064, 131072, 1e-6)},
        {"r1-distill-llama-8b", llama3_config(4096, 32, 32, 8, 14336, 128256)},
        // Tiny shapes for tests: every row length a multiple of 256 so K-quants apply.
        {"tiny", qwen2_config(256, 2, 4, 2, 512, 1088, 4096, 1e-6)},
        {"tiny-llama", llama3_config(256, 2, 4, 2, 512, 1000)},
        // deepseek2 (issue 14): Moonlight-16B-A3B's body with DeepSeek-V3's vocabulary, and
        // DeepSeek-R1 itself (use --layers to write its first layers only).
        {"deepseek-v3-16b-a3b", deepseek_config({"deepseek_v3", 2048, 27, 11264, 16, 0, 512, 128, 64, 128, 64, 6, 2,
                                                 1408, 1, 1, 1, 2.446, 129280, 8192, 50000.0, 1e-5, 0, 0})},
        {"deepseek-r1", deepseek_config({"deepseek_v3", 7168, 61, 18432, 128, 1536, 512, 128, 64, 128, 256, 8, 1,
                                         2048, 3, 8, 4, 2.5, 129280, 163840, 10000.0, 1e-6, 40.0, 4096})},
        // Tiny deepseek2 for tests: q LoRA, grouped sigmoid routing with bias, YaRN; and a
        // "lite" one without q LoRA, with softmax routing and plain RoPE (deepseek_v2).
        {"tiny-deepseek", deepseek_config({"deepseek_v3", 256, 3, 512, 4, 128, 64, 32, 16, 32, 8, 2, 1, 128, 1, 2,
                                           1, 2.5, 1088, 1024, 10000.0, 1e-6, 4.0, 256})},
        {"tiny-deepseek-lite", deepseek_config({"deepseek_v2", 256, 3, 512, 4, 0, 64, 32, 16, 32, 8, 2, 2, 128, 1, 1,
                                                1, 1.0, 1088, 1024, 10000.0, 1e-6, 0, 0})},
    };
    return presets;
}

std::string synth_preset_names() {
    std::string s;
    for (const auto& p : synth_presets()) s += (s.empty() ? "" : " ") + p.name;
    return s;
}

const SynthPreset& find_synth_preset(std::string_view name) {
    for (const auto& p : synth_presets())
        if (p.name == name) return p;
    fail("--preset '{}' is not one of: {}", name, synth_preset_names());
}

// deepseek2 in the tensor layout `r1 convert` writes (arch_deepseek.cpp): MLA with attn_k_b /
// attn_v_b, stacked experts, shared experts, exp_probs_b for deepseek_v3.
Plan deepseek_synth_plan(const nlohmann::json& c, uint64_t seed) {
    const DeepseekHParams h = deepseek_hparams(c);
    Plan p;
    add_deepseek_metadata(p, c, h);
    uint64_t index = 0;
    auto add = [&](std::string name, std::vector<int64_t> ne, int layer, float mean) {
        p.tensors.push_back(random_tensor(std::move(name), std::move(ne), layer, seed, index++, mean));
    };
    const int64_t q_dim = h.n_head * (h.nope + h.rope);
    add("token_embd.weight", {h.n_embd, h.n_vocab}, -1, 0.0f);
    for (int64_t i = 0; i < h.n_layer; ++i) {
        const int L = int(i);
        const std::string b = fmt::format("blk.{}.", i);
        add(b + "attn_norm.weight", {h.n_embd}, L, 1.0f);
        if (h.q_lora) {
            add(b + "attn_q_a.weight", {h.n_embd, h.q_lora}, L, 0.0f);
            add(b + "attn_q_a_norm.weight", {h.q_lora}, L, 1.0f);
            add(b + "attn_q_b.weight", {h.q_lora, q_dim}, L, 0.0f);
        } else {
            add(b + "attn_q.weight", {h.n_embd, q_dim}, L, 0.0f);
        }
        add(b + "attn_kv_a_mqa.weight", {h.n_embd, h.kv_lora + h.rope}, L, 0.0f);
        add(b + "attn_kv_a_norm.weight", {h.kv_lora}, L, 1.0f);
        add(b + "attn_k_b.weight", {h.nope, h.kv_lora, h.n_head}, L, 0.0f);
        add(b + "attn_v_b.weight", {h.kv_lora, h.v_dim, h.n_head}, L, 0.0f);
        add(b + "attn_output.weight", {h.n_head * h.v_dim, h.n_embd}, L, 0.0f);
        add(b + "ffn_norm.weight", {h.n_embd}, L, 1.0f);
        if (!h.is_moe(i)) {
            add(b + "ffn_gate.weight", {h.n_embd, h.n_ff}, L, 0.0f);
            add(b + "ffn_up.weight", {h.n_embd, h.n_ff}, L, 0.0f);
            add(b + "ffn_down.weight", {h.n_ff, h.n_embd}, L, 0.0f);
            continue;
        }
        add(b + "ffn_gate_inp.weight", {h.n_embd, h.n_expert}, L, 0.0f);
        if (h.v3) add(b + "exp_probs_b.bias", {h.n_expert}, L, 0.0f);
        add(b + "ffn_gate_exps.weight", {h.n_embd, h.n_ff_exp, h.n_expert}, L, 0.0f);
        add(b + "ffn_up_exps.weight", {h.n_embd, h.n_ff_exp, h.n_expert}, L, 0.0f);
        add(b + "ffn_down_exps.weight", {h.n_ff_exp, h.n_embd, h.n_expert}, L, 0.0f);
        if (h.n_shared) {
            const int64_t n_sh = h.n_ff_exp * h.n_shared;
            add(b + "ffn_gate_shexp.weight", {h.n_embd, n_sh}, L, 0.0f);
            add(b + "ffn_up_shexp.weight", {h.n_embd, n_sh}, L, 0.0f);
            add(b + "ffn_down_shexp.weight", {n_sh, h.n_embd}, L, 0.0f);
        }
    }
    add("output_norm.weight", {h.n_embd}, -1, 1.0f);
    if (!h.tied) add("output.weight", {h.n_embd, h.n_vocab}, -1, 0.0f);
    return p;
}

Plan build_synth_plan(const SynthPreset& preset, uint64_t seed, int64_t n_layers) {
    nlohmann::json c = preset.config;
    if (n_layers > 0) {
        if (n_layers > c.at("num_hidden_layers").get<int64_t>())
            fail("--layers {}: the preset {} has {} layers", n_layers, preset.name, c.at("num_hidden_layers").get<int64_t>());
        c["num_hidden_layers"] = n_layers;
    }
    const std::string arch = c.at("model_type").get<std::string>();
    if (arch.starts_with("deepseek")) return deepseek_synth_plan(c, seed);
    const DenseHParams h = dense_hparams(c, arch);
    Plan p;
    p.arch = arch;
    add_dense_metadata(p, c, h);  // may add rope_freqs.weight (exact llama3 factors)

    uint64_t index = 0;
    auto add = [&](std::string name, std::vector<int64_t> ne, int layer, float mean) {
        p.tensors.push_back(random_tensor(std::move(name), std::move(ne), layer, seed, index++, mean));
    };
    const int64_t q_dim = h.n_head * h.head_dim, kv_dim = h.n_head_kv * h.head_dim;
    add("token_embd.weight", {h.n_embd, h.n_vocab}, -1, 0.0f);
    for (int64_t i = 0; i < h.n_layer; ++i) {
        const int L = int(i);
        const std::string b = fmt::format("blk.{}.", i);
        add(b + "attn_norm.weight", {h.n_embd}, L, 1.0f);
        add(b + "attn_q.weight", {h.n_embd, q_dim}, L, 0.0f);
        add(b + "attn_k.weight", {h.n_embd, kv_dim}, L, 0.0f);
        add(b + "attn_v.weight", {h.n_embd, kv_dim}, L, 0.0f);
        if (h.qkv_bias) {
            add(b + "attn_q.bias", {q_dim}, L, 0.0f);
            add(b + "attn_k.bias", {kv_dim}, L, 0.0f);
            add(b + "attn_v.bias", {kv_dim}, L, 0.0f);
        }
        add(b + "attn_output.weight", {q_dim, h.n_embd}, L, 0.0f);
        add(b + "ffn_norm.weight", {h.n_embd}, L, 1.0f);
        add(b + "ffn_gate.weight", {h.n_embd, h.n_ff}, L, 0.0f);
        add(b + "ffn_up.weight", {h.n_embd, h.n_ff}, L, 0.0f);
        add(b + "ffn_down.weight", {h.n_ff, h.n_embd}, L, 0.0f);
    }
    add("output_norm.weight", {h.n_embd}, -1, 1.0f);
    if (!h.tied) add("output.weight", {h.n_embd, h.n_vocab}, -1, 0.0f);
    return p;
}

void synth_model(const SynthOptions& o) {
    const SynthPreset& preset = find_synth_preset(o.preset);
    ConvertOptions out;
    out.output = o.output;
    out.force = o.force;
    check_output_path(out);
    if (!o.tokenizer.empty() && !fs::is_directory(o.tokenizer))
        fail("--tokenizer {}: not a directory", o.tokenizer.string());
    Plan plan = build_synth_plan(preset, o.seed, o.layers);
    check_hparams(plan, fmt::format("synth preset {}", preset.name));
    std::vector<TypeQuery> queries;
    for (const auto& t : plan.tensors) queries.push_back({t.name, t.ne, t.layer});
    std::vector<GgmlType> types = choose_types(queries, o.mix, false, plan.n_layer, plan.n_expert);

    gguf::Writer w(o.output);
    w.set("general.architecture", plan.arch);
    w.set("general.type", std::string("model"));
    w.set("general.name", fmt::format("{} (synthetic, seed {})", preset.name, o.seed));
    for (auto& [k, v] : plan.metadata) w.set(k, v);
    w.set("general.file_type", mix_file_type(o.mix));
    w.set("general.quantization_version", uint32_t{2});
    if (!o.tokenizer.empty()) add_tokenizer(o.tokenizer, w, plan.n_vocab);

    std::vector<StreamTensor> stream;
    uint64_t total = 0;
    for (size_t i = 0; i < plan.tensors.size(); ++i) {
        OutTensor& t = plan.tensors[i];
        w.add_tensor(t.name, types[i], t.ne);
        stream.push_back({.name = t.name, .type = types[i], .row_length = t.ne[0], .n_rows = t.n_rows(),
                          .row_align = t.row_align, .source_bytes = t.source_bytes, .produce = std::move(t.produce)});
        total += t.source_bytes;
    }
    Progress progress(stream.size(), total, o.quiet);
    stream_tensors(w, stream, o.threads > 0 ? o.threads : default_threads(), progress);
    w.finish();
    std::error_code ec;
    auto size = fs::file_size(o.output, ec);
    progress.finish(fmt::format("synth: wrote {} ({}, {} tensors, {:.1f} MB, {})", o.output.string(), preset.name,
                                stream.size(), double(size) / 1e6, mix_name(o.mix)));
}

}  // namespace r1::convert
