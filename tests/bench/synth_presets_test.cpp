// `r1 synth` presets against GGUF.md §4.1, typed here independently of convert/synth.cpp:
// hyper-parameter keys, tensor shapes, parameter counts (the published model sizes) and the
// llama-quantize type mixes of GGUF.md §2.15 for the full-size shapes (no file written).
#include <map>
#include <string>

#include <gtest/gtest.h>

#include "convert/synth.h"

namespace r1::convert {
namespace {

struct Expected {
    std::string preset, arch;
    int64_t n_embd, n_layer, n_head, n_head_kv, n_ff, n_vocab;
    float theta, eps;
    uint64_t n_params;  // published totals: Qwen2.5-Math-1.5B (untied), Qwen2.5-7B, Llama-3.1-8B
};

const Expected kTable[] = {
    {"r1-distill-qwen-1.5b", "qwen2", 1536, 28, 12, 2, 8960, 151936, 10000.0f, 1e-6f, 1'777'088'000},
    {"r1-distill-qwen-7b", "qwen2", 3584, 28, 28, 4, 18944, 152064, 10000.0f, 1e-6f, 7'615'616'512},
    {"r1-distill-llama-8b", "llama", 4096, 32, 32, 8, 14336, 128256, 500000.0f, 1e-5f, 8'030'261'248},
};

const gguf::Value* meta(const Plan& p, const std::string& key) {
    for (const auto& [k, v] : p.metadata)
        if (k == key) return &v;
    return nullptr;
}

uint32_t meta_u32(const Plan& p, const std::string& key) {
    const gguf::Value* v = meta(p, key);
    EXPECT_NE(v, nullptr) << key;
    return v ? std::get<uint32_t>(v->v) : 0;
}

float meta_f32(const Plan& p, const std::string& key) {
    const gguf::Value* v = meta(p, key);
    EXPECT_NE(v, nullptr) << key;
    return v ? std::get<float>(v->v) : 0;
}

std::map<std::string, std::vector<int64_t>> shapes(const Plan& p) {
    std::map<std::string, std::vector<int64_t>> m;
    for (const auto& t : p.tensors) m[t.name] = t.ne;
    return m;
}

TEST(SynthPresets, MatchGgufTable) {
    for (const Expected& e : kTable) {
        SCOPED_TRACE(e.preset);
        Plan p = build_synth_plan(find_synth_preset(e.preset), 1);
        EXPECT_EQ(p.arch, e.arch);
        const std::string a = e.arch + ".";
        EXPECT_EQ(meta_u32(p, a + "embedding_length"), e.n_embd);
        EXPECT_EQ(meta_u32(p, a + "block_count"), e.n_layer);
        EXPECT_EQ(meta_u32(p, a + "feed_forward_length"), e.n_ff);
        EXPECT_EQ(meta_u32(p, a + "attention.head_count"), e.n_head);
        EXPECT_EQ(meta_u32(p, a + "attention.head_count_kv"), e.n_head_kv);
        EXPECT_EQ(meta_u32(p, a + "context_length"), 131072u);
        EXPECT_EQ(meta_u32(p, a + "rope.dimension_count"), 128u);  // head_dim 128 for all three
        EXPECT_EQ(meta_u32(p, a + "vocab_size"), e.n_vocab);
        EXPECT_EQ(meta_f32(p, a + "rope.freq_base"), e.theta);
        EXPECT_EQ(meta_f32(p, a + "attention.layer_norm_rms_epsilon"), e.eps);

        const int64_t hd = 128, q = e.n_head * hd, kv = e.n_head_kv * hd;
        auto s = shapes(p);
        EXPECT_EQ(s["token_embd.weight"], (std::vector<int64_t>{e.n_embd, e.n_vocab}));
        EXPECT_EQ(s["output.weight"], (std::vector<int64_t>{e.n_embd, e.n_vocab}));
        EXPECT_EQ(s["output_norm.weight"], (std::vector<int64_t>{e.n_embd}));
        const std::string last = fmt::format("blk.{}.", e.n_layer - 1);
        EXPECT_EQ(s[last + "attn_q.weight"], (std::vector<int64_t>{e.n_embd, q}));
        EXPECT_EQ(s[last + "attn_k.weight"], (std::vector<int64_t>{e.n_embd, kv}));
        EXPECT_EQ(s[last + "attn_v.weight"], (std::vector<int64_t>{e.n_embd, kv}));
        EXPECT_EQ(s[last + "attn_output.weight"], (std::vector<int64_t>{q, e.n_embd}));
        EXPECT_EQ(s[last + "ffn_gate.weight"], (std::vector<int64_t>{e.n_embd, e.n_ff}));
        EXPECT_EQ(s[last + "ffn_up.weight"], (std::vector<int64_t>{e.n_embd, e.n_ff}));
        EXPECT_EQ(s[last + "ffn_down.weight"], (std::vector<int64_t>{e.n_ff, e.n_embd}));
        EXPECT_EQ(s.count("blk." + std::to_string(e.n_layer) + ".attn_norm.weight"), 0u);
        // qwen2 has q/k/v biases; llama has none but a rope_freqs table (llama3 scaling).
        EXPECT_EQ(s.count(last + "attn_q.bias"), e.arch == "qwen2" ? 1u : 0u);
        EXPECT_EQ(s.count("rope_freqs.weight"), e.arch == "llama" ? 1u : 0u);

        uint64_t n = 0;
        for (const auto& t : p.tensors)
            if (t.name != "rope_freqs.weight") n += uint64_t(t.n_elements());
        EXPECT_EQ(n, e.n_params);
    }
}

std::map<GgmlType, int> type_counts(const Plan& p, Mix mix, std::map<std::string, GgmlType>* by_name = nullptr) {
    std::vector<TypeQuery> q;
    for (const auto& t : p.tensors) q.push_back({t.name, t.ne, t.layer});
    auto types = choose_types(q, mix, false, p.n_layer, p.n_expert);
    std::map<GgmlType, int> counts;
    for (size_t i = 0; i < types.size(); ++i) {
        if (p.tensors[i].ne.size() >= 2) ++counts[types[i]];
        if (by_name) (*by_name)[p.tensors[i].name] = types[i];
    }
    return counts;
}

// GGUF.md §2.15: a Qwen2.5-7B-shaped Q4_K_M has 29 Q6_K (14 attn_v + 14 ffn_down + output)
// and 169 Q4_K; Q4_0 keeps everything Q4_0 but output (Q6_K); Q8_0 is uniform.
TEST(SynthPresets, TypeMixesFollowLlamaQuantize) {
    Plan p = build_synth_plan(find_synth_preset("r1-distill-qwen-7b"), 1);
    std::map<std::string, GgmlType> types;
    auto km = type_counts(p, Mix::Q4_K_M, &types);
    EXPECT_EQ(km[GgmlType::Q6_K], 29);
    EXPECT_EQ(km[GgmlType::Q4_K], 169);
    EXPECT_EQ(types["output.weight"], GgmlType::Q6_K);
    EXPECT_EQ(types["token_embd.weight"], GgmlType::Q4_K);
    // use_more_bits(i, 28) holds for 0,1,2,5,8,...,23,24,25,26,27 and not for 3, 4, 6.
    for (int l : {0, 1, 2, 5, 8, 23, 27}) EXPECT_EQ(types[fmt::format("blk.{}.ffn_down.weight", l)], GgmlType::Q6_K) << l;
    for (int l : {3, 4, 6, 22}) EXPECT_EQ(types[fmt::format("blk.{}.attn_v.weight", l)], GgmlType::Q4_K) << l;
    EXPECT_EQ(types["blk.0.attn_norm.weight"], GgmlType::F32);
    EXPECT_EQ(types["blk.0.attn_q.bias"], GgmlType::F32);

    auto q4 = type_counts(p, Mix::Q4_0, &types);
    EXPECT_EQ(q4[GgmlType::Q6_K], 1);
    EXPECT_EQ(q4[GgmlType::Q4_0], 197);
    EXPECT_EQ(types["output.weight"], GgmlType::Q6_K);

    auto q8 = type_counts(p, Mix::Q8_0);
    EXPECT_EQ(q8[GgmlType::Q8_0], 198);
}

// deepseek2 presets (issue 14): R1's keys as GGUF.md §3.5 lists them, the Moonlight-shaped
// body as the issue gives it, and --layers keeping the first layers only.
TEST(SynthPresets, DeepseekPresetsMatchGgufTable) {
    Plan r1 = build_synth_plan(find_synth_preset("deepseek-r1"), 1);
    EXPECT_EQ(r1.arch, "deepseek2");
    const std::map<std::string, uint32_t> want_u32 = {
        {"block_count", 61}, {"context_length", 163840}, {"embedding_length", 7168},
        {"feed_forward_length", 18432}, {"attention.head_count", 128}, {"attention.head_count_kv", 1},
        {"attention.key_length", 576}, {"attention.value_length", 512}, {"attention.key_length_mla", 192},
        {"attention.value_length_mla", 128}, {"attention.q_lora_rank", 1536}, {"attention.kv_lora_rank", 512},
        {"rope.dimension_count", 64}, {"rope.scaling.original_context_length", 4096},
        {"leading_dense_block_count", 3}, {"expert_count", 256}, {"expert_used_count", 8},
        {"expert_shared_count", 1}, {"expert_feed_forward_length", 2048}, {"expert_gating_func", 2},
        {"expert_group_count", 8}, {"expert_group_used_count", 4}, {"vocab_size", 129280}};
    for (const auto& [k, v] : want_u32) EXPECT_EQ(meta_u32(r1, "deepseek2." + k), v) << k;
    EXPECT_EQ(meta_f32(r1, "deepseek2.rope.scaling.factor"), 40.0f);
    EXPECT_EQ(meta_f32(r1, "deepseek2.expert_weights_scale"), 2.5f);
    EXPECT_FLOAT_EQ(meta_f32(r1, "deepseek2.rope.scaling.yarn_log_multiplier"), 0.1f);
    auto s = shapes(r1);
    EXPECT_EQ(s["blk.0.attn_q_a.weight"], (std::vector<int64_t>{7168, 1536}));
    EXPECT_EQ(s["blk.0.attn_q_b.weight"], (std::vector<int64_t>{1536, 24576}));
    EXPECT_EQ(s["blk.0.attn_kv_a_mqa.weight"], (std::vector<int64_t>{7168, 576}));
    EXPECT_EQ(s["blk.0.attn_k_b.weight"], (std::vector<int64_t>{128, 512, 128}));
    EXPECT_EQ(s["blk.0.attn_v_b.weight"], (std::vector<int64_t>{512, 128, 128}));
    EXPECT_EQ(s["blk.0.attn_output.weight"], (std::vector<int64_t>{16384, 7168}));
    EXPECT_EQ(s["blk.2.ffn_gate.weight"], (std::vector<int64_t>{7168, 18432}));
    EXPECT_EQ(s.count("blk.3.ffn_gate.weight"), 0u);
    EXPECT_EQ(s["blk.3.ffn_gate_inp.weight"], (std::vector<int64_t>{7168, 256}));
    EXPECT_EQ(s["blk.3.exp_probs_b.bias"], (std::vector<int64_t>{256}));
    EXPECT_EQ(s["blk.60.ffn_gate_exps.weight"], (std::vector<int64_t>{7168, 2048, 256}));
    EXPECT_EQ(s["blk.60.ffn_down_exps.weight"], (std::vector<int64_t>{2048, 7168, 256}));
    EXPECT_EQ(s["blk.60.ffn_up_shexp.weight"], (std::vector<int64_t>{7168, 2048}));

    Plan four = build_synth_plan(find_synth_preset("deepseek-r1"), 1, 4);  // 3 dense + 1 MoE
    EXPECT_EQ(meta_u32(four, "deepseek2.block_count"), 4u);
    EXPECT_EQ(shapes(four).count("blk.3.ffn_down_exps.weight"), 1u);
    EXPECT_EQ(shapes(four).count("blk.4.attn_norm.weight"), 0u);
    EXPECT_THROW(build_synth_plan(find_synth_preset("deepseek-r1"), 1, 62), Error);

    Plan moon = build_synth_plan(find_synth_preset("deepseek-v3-16b-a3b"), 1);
    EXPECT_EQ(meta_u32(moon, "deepseek2.block_count"), 27u);
    EXPECT_EQ(meta_u32(moon, "deepseek2.attention.q_lora_rank"), 0u);  // written, not omitted
    EXPECT_EQ(meta_u32(moon, "deepseek2.expert_count"), 64u);
    EXPECT_EQ(meta_u32(moon, "deepseek2.expert_used_count"), 6u);
    EXPECT_EQ(meta_u32(moon, "deepseek2.expert_shared_count"), 2u);
    EXPECT_EQ(meta_f32(moon, "deepseek2.expert_weights_scale"), 2.446f);
    auto m = shapes(moon);
    EXPECT_EQ(m["blk.0.attn_q.weight"], (std::vector<int64_t>{2048, 16 * 192}));
    EXPECT_EQ(m["blk.0.ffn_gate.weight"], (std::vector<int64_t>{2048, 11264}));
    EXPECT_EQ(m["blk.26.ffn_gate_exps.weight"], (std::vector<int64_t>{2048, 1408, 64}));
    EXPECT_EQ(m["blk.26.ffn_gate_shexp.weight"], (std::vector<int64_t>{2048, 2816}));
    EXPECT_EQ(m["token_embd.weight"], (std::vector<int64_t>{2048, 129280}));
}

TEST(SynthPresets, UnknownPresetNamesTheChoices) {
    try {
        find_synth_preset("r1-distill-qwen-3b");
        FAIL() << "no error";
    } catch (const Error& e) {
        EXPECT_NE(std::string(e.what()).find("r1-distill-qwen-1.5b"), std::string::npos) << e.what();
    }
}

}  // namespace
}  // namespace r1::convert
