// FP8 checkpoints (DeepSeek's F8_E4M3 weights with 128x128 weight_scale_inv blocks): a copy
// of tiny-r1-moe whose linear weights are written here in FP8 converts to the values of its
// BF16 twin within FP8 rounding, and exactly to q * scale_inv where no transform applies.
// Also checks the deepseek2 metadata against config.json.
#include <cmath>

#include "tests/convert/convert_helpers.h"

namespace r1::test {
namespace {

struct StTensor {
    std::string dtype;
    std::vector<int64_t> shape;
    std::vector<uint8_t> bytes;
};

void write_safetensors(const fs::path& p, const std::map<std::string, StTensor>& ts) {
    nlohmann::json h = nlohmann::json::object();
    uint64_t off = 0;
    for (const auto& [name, t] : ts) {
        h[name] = {{"dtype", t.dtype}, {"shape", t.shape}, {"data_offsets", {off, off + t.bytes.size()}}};
        off += t.bytes.size();
    }
    std::string s = h.dump();
    s.append((8 - s.size() % 8) % 8, ' ');
    std::ofstream f(p, std::ios::binary);
    uint64_t n = s.size();
    f.write(reinterpret_cast<const char*>(&n), 8);
    f << s;
    for (const auto& [name, t] : ts) f.write(reinterpret_cast<const char*>(t.bytes.data()), static_cast<std::streamsize>(t.bytes.size()));
}

// Round to nearest E4M3FN code (ties to even code), saturating at 448.
uint8_t to_e4m3(float x) {
    static const std::vector<float> table = [] {
        std::vector<float> t;
        for (int c = 0; c < 127; ++c) t.push_back(safetensors::f8_e4m3_to_f32(static_cast<uint8_t>(c)));
        return t;
    }();
    uint8_t sign = std::signbit(x) ? 0x80 : 0;
    float a = std::min(std::fabs(x), 448.0f);
    auto it = std::lower_bound(table.begin(), table.end(), a);
    int hi = static_cast<int>(it - table.begin());
    int code = hi;
    if (hi > 0) {
        float dl = a - table[size_t(hi - 1)], dh = hi < 127 ? table[size_t(hi)] - a : INFINITY;
        code = dl < dh ? hi - 1 : dh < dl ? hi : ((hi - 1) % 2 == 0 ? hi - 1 : hi);
    }
    return static_cast<uint8_t>(sign | code);
}

std::vector<uint8_t> f32_bytes(const std::vector<float>& v) {
    std::vector<uint8_t> b(v.size() * 4);
    std::memcpy(b.data(), v.data(), b.size());
    return b;
}

bool is_fp8_weight(const std::string& n) {
    return n.find("_proj.weight") != std::string::npos;  // attention, MLP and expert projections
}

struct Fp8Models {
    fs::path fp8, twin;
    std::map<std::string, std::pair<std::vector<float>, std::vector<float>>> dequant;  // name -> (values, scales)
};

Fp8Models make_models() {
    fs::path src = fixture_model("tiny-r1-moe");
    Fp8Models m{scratch_dir() / "fp8-moe", scratch_dir() / "bf16-moe", {}};
    for (const fs::path& d : {m.fp8, m.twin}) {
        fs::remove_all(d);
        fs::create_directories(d);
        for (const char* f : {"tokenizer.json", "tokenizer_config.json", "generation_config.json"})
            fs::copy_file(src / f, d / f);
    }
    nlohmann::json cfg = read_json(src / "config.json");
    std::ofstream(m.twin / "config.json") << cfg.dump(1);
    cfg["quantization_config"] = {{"quant_method", "fp8"}, {"fmt", "e4m3"}, {"activation_scheme", "dynamic"},
                                  {"weight_block_size", {128, 128}}};
    std::ofstream(m.fp8 / "config.json") << cfg.dump(1);

    HfTensors hf(src);
    std::map<std::string, StTensor> fp8, twin;
    for (const auto& [name, ft] : hf.by_name) {
        std::vector<float> w = hf.values(name);
        std::vector<int64_t> shape = hf.shape(name);
        if (!is_fp8_weight(name)) {
            fp8[name] = twin[name] = {"F32", shape, f32_bytes(w)};
            continue;
        }
        std::vector<uint8_t> tb(w.size() * 2);
        for (size_t i = 0; i < w.size(); ++i) {
            uint32_t u;
            std::memcpy(&u, &w[i], 4);
            uint16_t h = static_cast<uint16_t>((u + 0x7FFF + ((u >> 16) & 1)) >> 16);
            std::memcpy(tb.data() + 2 * i, &h, 2);
        }
        twin[name] = {"BF16", shape, tb};
        const int64_t rows = shape[0], cols = shape[1], br = (rows + 127) / 128, bc = (cols + 127) / 128;
        std::vector<float> scale(static_cast<size_t>(br * bc), 0.0f);
        for (int64_t r = 0; r < rows; ++r)
            for (int64_t c = 0; c < cols; ++c) {
                float& s = scale[size_t(r / 128 * bc + c / 128)];
                s = std::max(s, std::fabs(w[size_t(r * cols + c)]));
            }
        for (float& s : scale) s = s > 0 ? s / 448.0f : 1.0f;
        std::vector<uint8_t> q(w.size());
        std::vector<float> deq(w.size());
        for (int64_t r = 0; r < rows; ++r)
            for (int64_t c = 0; c < cols; ++c) {
                size_t i = size_t(r * cols + c);
                float s = scale[size_t(r / 128 * bc + c / 128)];
                q[i] = to_e4m3(w[i] / s);
                deq[i] = safetensors::f8_e4m3_to_f32(q[i]) * s;
            }
        fp8[name] = {"F8_E4M3", shape, q};
        fp8[name + "_scale_inv"] = {"F32", {br, bc}, f32_bytes(scale)};
        m.dequant[name] = {deq, scale};
    }
    write_safetensors(m.fp8 / "model.safetensors", fp8);
    write_safetensors(m.twin / "model.safetensors", twin);
    return m;
}

TEST(ConvertFp8, MatchesTheBf16TwinWithinFp8Rounding) {
    Fp8Models m = make_models();
    auto a = gguf::File::open(convert_model(m.fp8, "f32"));
    auto b = gguf::File::open(convert_model(m.twin, "f32"));
    ASSERT_EQ(a->tensors().size(), b->tensors().size());
    size_t checked = 0;
    for (const auto& ta : a->tensors()) {
        const gguf::TensorInfo* tb = b->find_tensor(ta.name);
        ASSERT_NE(tb, nullptr) << ta.name;
        std::vector<float> va = gguf_values(ta), vb = gguf_values(*tb);
        ASSERT_EQ(va.size(), vb.size());
        float amax = 0;
        for (float x : vb) amax = std::max(amax, std::fabs(x));
        // E4M3 keeps 3 mantissa bits (relative error <= 2^-4), BF16 rounding adds 2^-8; the
        // subnormal step of the block scale (<= amax / 448 * 2^-9) bounds the rest.
        for (size_t i = 0; i < va.size(); ++i)
            ASSERT_LE(std::fabs(va[i] - vb[i]), std::fabs(vb[i]) * (1.0f / 16 + 1.0f / 256) + amax / 448 * 0.002f)
                << ta.name << "[" << i << "]";
        ++checked;
    }
    EXPECT_EQ(checked, b->tensors().size());
    // Where no transform applies the value is exactly q * scale_inv.
    for (const auto& [hf, gg] : std::vector<std::pair<std::string, std::string>>{
             {"model.layers.0.self_attn.q_a_proj.weight", "blk.0.attn_q_a.weight"},
             {"model.layers.1.self_attn.q_b_proj.weight", "blk.1.attn_q_b.weight"},
             {"model.layers.1.mlp.shared_experts.down_proj.weight", "blk.1.ffn_down_shexp.weight"}}) {
        std::vector<float> got = gguf_values(*a->find_tensor(gg));
        EXPECT_TRUE(got == m.dequant.at(hf).first) << gg;
    }
    std::vector<float> exps = gguf_values(*a->find_tensor("blk.2.ffn_up_exps.weight"));
    const auto& e5 = m.dequant.at("model.layers.2.mlp.experts.5.up_proj.weight").first;
    EXPECT_TRUE(std::equal(e5.begin(), e5.end(), exps.begin() + static_cast<std::ptrdiff_t>(5 * e5.size())));
}

TEST(ConvertFp8, MissingScaleIsAnError) {
    Fp8Models m = make_models();
    // Rewrite without one scale tensor.
    HfTensors hf(m.fp8);
    std::map<std::string, StTensor> ts;
    for (const auto& [name, ft] : hf.by_name) {
        if (name == "model.layers.0.self_attn.o_proj.weight_scale_inv") continue;
        StTensor t{std::string(safetensors::dtype_name(ft.second->dtype)), ft.second->shape, std::vector<uint8_t>(ft.second->n_bytes())};
        ft.first->read(*ft.second, 0, ft.second->n_bytes(), t.bytes.data());
        ts[name] = std::move(t);
    }
    hf.files.clear();
    write_safetensors(m.fp8 / "model.safetensors", ts);
    fs::path out = scratch_dir() / "fp8-missing.gguf";
    RunResult r = run_r1({"convert", m.fp8.string(), "-o", out.string(), "--type", "f16"});
    EXPECT_EQ(r.status, 1);
    EXPECT_NE(r.err.find("o_proj.weight_scale_inv"), std::string::npos) << r.err;
    EXPECT_FALSE(fs::exists(out));
}

TEST(ConvertDeepseek, MetadataFollowsConfig) {
    fs::path dir = fixture_model("tiny-r1-moe");
    nlohmann::json c = read_json(dir / "config.json");
    auto g = gguf::File::open(convert_model(dir, "f16"));
    auto u = [&](const std::string& k) { return g->get<uint32_t>("deepseek2." + k); };
    auto f = [&](const std::string& k) { return g->get<float>("deepseek2." + k); };
    EXPECT_EQ(g->get<std::string>("general.architecture"), "deepseek2");
    EXPECT_EQ(u("block_count"), c["num_hidden_layers"].get<uint32_t>());
    EXPECT_EQ(u("context_length"), c["max_position_embeddings"].get<uint32_t>());
    EXPECT_EQ(u("embedding_length"), c["hidden_size"].get<uint32_t>());
    EXPECT_EQ(u("feed_forward_length"), c["intermediate_size"].get<uint32_t>());
    EXPECT_EQ(u("attention.head_count"), c["num_attention_heads"].get<uint32_t>());
    EXPECT_EQ(u("attention.head_count_kv"), 1u);
    EXPECT_EQ(u("attention.key_length"), c["kv_lora_rank"].get<uint32_t>() + c["qk_rope_head_dim"].get<uint32_t>());
    EXPECT_EQ(u("attention.value_length"), c["kv_lora_rank"].get<uint32_t>());
    EXPECT_EQ(u("attention.key_length_mla"), c["qk_nope_head_dim"].get<uint32_t>() + c["qk_rope_head_dim"].get<uint32_t>());
    EXPECT_EQ(u("attention.value_length_mla"), c["v_head_dim"].get<uint32_t>());
    EXPECT_EQ(u("attention.q_lora_rank"), c["q_lora_rank"].get<uint32_t>());
    EXPECT_EQ(u("attention.kv_lora_rank"), c["kv_lora_rank"].get<uint32_t>());
    EXPECT_EQ(u("rope.dimension_count"), c["qk_rope_head_dim"].get<uint32_t>());
    EXPECT_EQ(f("rope.freq_base"), c["rope_theta"].get<float>());
    EXPECT_EQ(f("attention.layer_norm_rms_epsilon"), c["rms_norm_eps"].get<float>());
    const auto& rs = c["rope_scaling"];
    EXPECT_EQ(g->get<std::string>("deepseek2.rope.scaling.type"), "yarn");
    EXPECT_EQ(f("rope.scaling.factor"), rs["factor"].get<float>());
    EXPECT_EQ(u("rope.scaling.original_context_length"), rs["original_max_position_embeddings"].get<uint32_t>());
    EXPECT_EQ(f("rope.scaling.yarn_beta_fast"), rs["beta_fast"].get<float>());
    EXPECT_EQ(f("rope.scaling.yarn_beta_slow"), rs["beta_slow"].get<float>());
    EXPECT_FLOAT_EQ(f("rope.scaling.yarn_log_multiplier"), 0.1f * rs["mscale_all_dim"].get<float>());
    EXPECT_EQ(u("leading_dense_block_count"), c["first_k_dense_replace"].get<uint32_t>());
    EXPECT_EQ(u("expert_count"), c["n_routed_experts"].get<uint32_t>());
    EXPECT_EQ(u("expert_used_count"), c["num_experts_per_tok"].get<uint32_t>());
    EXPECT_EQ(u("expert_shared_count"), c["n_shared_experts"].get<uint32_t>());
    EXPECT_EQ(u("expert_feed_forward_length"), c["moe_intermediate_size"].get<uint32_t>());
    EXPECT_EQ(f("expert_weights_scale"), c["routed_scaling_factor"].get<float>());
    EXPECT_TRUE(g->get<bool>("deepseek2.expert_weights_norm"));
    EXPECT_EQ(u("expert_gating_func"), 2u);  // sigmoid
    EXPECT_EQ(u("expert_group_count"), c["n_group"].get<uint32_t>());
    EXPECT_EQ(u("expert_group_used_count"), c["topk_group"].get<uint32_t>());
    EXPECT_EQ(u("vocab_size"), c["vocab_size"].get<uint32_t>());
    // Router and correction bias stay F32; k_b / v_b have the split shapes.
    EXPECT_EQ(g->find_tensor("blk.1.ffn_gate_inp.weight")->type, GgmlType::F32);
    const gguf::TensorInfo* pb = g->find_tensor("blk.1.exp_probs_b.bias");
    ASSERT_NE(pb, nullptr);
    EXPECT_EQ(pb->type, GgmlType::F32);
    const gguf::TensorInfo* kb = g->find_tensor("blk.0.attn_k_b.weight");
    const gguf::TensorInfo* vb = g->find_tensor("blk.0.attn_v_b.weight");
    ASSERT_TRUE(kb && vb);
    EXPECT_EQ((std::vector<int64_t>{kb->ne[0], kb->ne[1], kb->ne[2]}),
              (std::vector<int64_t>{c["qk_nope_head_dim"], c["kv_lora_rank"], c["num_attention_heads"]}));
    EXPECT_EQ((std::vector<int64_t>{vb->ne[0], vb->ne[1], vb->ne[2]}),
              (std::vector<int64_t>{c["kv_lora_rank"], c["v_head_dim"], c["num_attention_heads"]}));
    EXPECT_EQ(g->find_tensor("blk.0.attn_kv_b.weight"), nullptr);
    EXPECT_EQ(g->find_tensor("blk.0.ffn_gate_inp.weight"), nullptr);  // layer 0 is dense
}

}  // namespace
}  // namespace r1::test
