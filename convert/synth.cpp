// `r1 synth`: preset config.json objects -> the dense converter's metadata and tensor layout,
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

Plan build_synth_plan(const SynthPreset& preset, uint64_t seed) {
    const nlohmann::json& c = preset.config;
    const std::string arch = c.at("model_type").get<std::string>();
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
    Plan plan = build_synth_plan(preset, o.seed);
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
