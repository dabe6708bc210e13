// deepseek_v3 / deepseek_v2 -> GGUF `deepseek2` (GGUF.md §3.5): MLA with kv_b split into
// attn_k_b (per head transposed) and attn_v_b, routed experts stacked into ffn_*_exps, shared
// experts, router and exp_probs_b kept F32, MTP layers (>= num_hidden_layers) skipped.
#include "convert/plan.h"

namespace r1::convert {

namespace {

int64_t positive(const nlohmann::json& c, const char* key) {
    int64_t v = config_int(c, key);
    if (v <= 0 || v > (int64_t{1} << 31)) fail("config.json: '{}' = {} is out of range", key, v);
    return v;
}

int64_t non_negative(const nlohmann::json& c, const char* key, int64_t fallback) {
    int64_t v = config_int_or(c, key, fallback);
    if (v < 0 || v > (int64_t{1} << 31)) fail("config.json: '{}' = {} is out of range", key, v);
    return v;
}

// Experts E = 0..n-1 of one layer stacked along the outermost axis: output row r is row
// r % rows of expert r / rows.
OutTensor stacked_experts(std::string gguf_name, std::vector<Source> experts, int layer) {
    OutTensor t;
    t.name = std::move(gguf_name);
    t.layer = layer;
    const int64_t rows = experts.front().rows, cols = experts.front().cols;
    t.ne = {cols, rows, static_cast<int64_t>(experts.size())};
    for (const auto& e : experts) t.source_bytes += e.info->n_bytes();
    t.produce = [experts = std::move(experts), rows, cols](int64_t r0, int64_t n, float* dst) {
        for (int64_t r = r0; r < r0 + n;) {
            int64_t e = r / rows, in = r % rows, k = std::min(rows - in, r0 + n - r);
            experts[static_cast<size_t>(e)].read_rows(in, k, dst + (r - r0) * cols);
            r += k;
        }
    };
    return t;
}

// kv_b_proj [n_head * (nope + v), kv_lora] -> attn_k_b {nope, kv_lora, n_head}: per head the
// k_nope rows, transposed (row (h, c) holds kv_b[h*(nope+v) + j][c] for j < nope).
OutTensor k_b_tensor(std::string gguf_name, const Source& kv_b, int64_t n_head, int64_t nope, int64_t v,
                     int64_t kv_lora, int layer) {
    OutTensor t;
    t.name = std::move(gguf_name);
    t.layer = layer;
    t.ne = {nope, kv_lora, n_head};
    t.row_align = kv_lora;  // whole heads
    t.source_bytes = kv_b.info->n_bytes() * static_cast<uint64_t>(nope) / static_cast<uint64_t>(nope + v);
    t.produce = [kv_b, nope, v, kv_lora](int64_t r0, int64_t n, float* dst) {
        std::vector<float> head(static_cast<size_t>(nope * kv_lora));
        for (int64_t h = r0 / kv_lora; h < (r0 + n) / kv_lora; ++h) {
            kv_b.read_rows(h * (nope + v), nope, head.data());
            float* out = dst + (h - r0 / kv_lora) * kv_lora * nope;
            for (int64_t c = 0; c < kv_lora; ++c)
                for (int64_t j = 0; j < nope; ++j) out[c * nope + j] = head[static_cast<size_t>(j * kv_lora + c)];
        }
    };
    return t;
}

}  // namespace

DeepseekHParams deepseek_hparams(const nlohmann::json& c) {
    DeepseekHParams h;
    h.v3 = c["model_type"] == "deepseek_v3";
    h.n_embd = positive(c, "hidden_size");
    h.n_layer = positive(c, "num_hidden_layers");
    h.n_head = positive(c, "num_attention_heads");
    h.n_ff = positive(c, "intermediate_size");
    h.n_vocab = positive(c, "vocab_size");
    h.n_ctx = positive(c, "max_position_embeddings");
    h.q_lora = non_negative(c, "q_lora_rank", 0);  // 0 / null: "lite", plain q_proj
    h.kv_lora = positive(c, "kv_lora_rank");
    h.nope = positive(c, "qk_nope_head_dim");
    h.rope = positive(c, "qk_rope_head_dim");
    h.v_dim = positive(c, "v_head_dim");
    h.n_expert = non_negative(c, "n_routed_experts", 0);
    h.n_shared = non_negative(c, "n_shared_experts", 0);
    h.n_used = h.n_expert ? positive(c, "num_experts_per_tok") : 0;
    h.n_ff_exp = h.n_expert ? positive(c, "moe_intermediate_size") : 0;
    h.first_dense = non_negative(c, "first_k_dense_replace", 0);
    h.moe_freq = h.n_expert ? std::max<int64_t>(1, non_negative(c, "moe_layer_freq", 1)) : 1;
    h.theta = config_num_or(c, "rope_theta", 10000.0);
    h.eps = config_num_or(c, "rms_norm_eps", 1e-6);
    h.tied = config_bool_or(c, "tie_word_embeddings", false);
    if (h.n_expert && h.n_used > h.n_expert)
        fail("config.json: num_experts_per_tok {} exceeds n_routed_experts {}", h.n_used, h.n_expert);
    if (config_bool_or(c, "attention_bias", false)) fail("config.json: attention_bias = true is not supported");
    return h;
}

void add_deepseek_metadata(Plan& p, const nlohmann::json& c, const DeepseekHParams& h) {
    p.arch = "deepseek2";
    p.n_vocab = h.n_vocab;
    p.n_layer = h.n_layer;
    p.n_expert = h.n_expert;
    const std::string a = "deepseek2.";
    auto u32 = [](int64_t x) { return static_cast<uint32_t>(x); };
    p.set(a + "context_length", u32(h.n_ctx), "max_position_embeddings");
    p.set(a + "embedding_length", u32(h.n_embd), "hidden_size");
    p.set(a + "block_count", u32(h.n_layer), "num_hidden_layers");
    p.set(a + "feed_forward_length", u32(h.n_ff), "intermediate_size");
    p.set(a + "attention.head_count", u32(h.n_head), "num_attention_heads");
    p.set(a + "attention.head_count_kv", uint32_t{1});
    p.set(a + "attention.key_length", u32(h.kv_lora + h.rope), "kv_lora_rank + qk_rope_head_dim");
    p.set(a + "attention.value_length", u32(h.kv_lora), "kv_lora_rank");
    p.set(a + "attention.key_length_mla", u32(h.nope + h.rope), "qk_nope_head_dim + qk_rope_head_dim");
    p.set(a + "attention.value_length_mla", u32(h.v_dim), "v_head_dim");
    // Written as 0 for models without q LoRA too: llama.cpp otherwise guesses "lite" from the
    // layer count and refuses other depths (GGUF.md §3.5).
    p.set(a + "attention.q_lora_rank", u32(h.q_lora), "q_lora_rank");
    p.set(a + "attention.kv_lora_rank", u32(h.kv_lora), "kv_lora_rank");
    p.set(a + "attention.layer_norm_rms_epsilon", static_cast<float>(h.eps), "rms_norm_eps");
    p.set(a + "rope.dimension_count", u32(h.rope), "qk_rope_head_dim");
    p.set(a + "rope.freq_base", static_cast<float>(h.theta), "rope_theta");
    auto rs = c.find("rope_scaling");
    if (rs != c.end() && !rs->is_null()) {
        if (!rs->is_object()) fail("config.json: rope_scaling must be an object or null");
        std::string type = rs->contains("type") ? (*rs)["type"].get<std::string>()
                           : rs->contains("rope_type") ? (*rs)["rope_type"].get<std::string>() : "";
        if (type != "yarn") fail("config.json: rope_scaling type '{}' is not supported for deepseek (yarn only)", type);
        p.set(a + "rope.scaling.type", std::string("yarn"), "rope_scaling");
        p.set(a + "rope.scaling.factor", static_cast<float>(config_num(*rs, "factor")), "rope_scaling");
        p.set(a + "rope.scaling.original_context_length", u32(config_int(*rs, "original_max_position_embeddings")), "rope_scaling");
        p.set(a + "rope.scaling.yarn_beta_fast", static_cast<float>(config_num_or(*rs, "beta_fast", 32.0)), "rope_scaling");
        p.set(a + "rope.scaling.yarn_beta_slow", static_cast<float>(config_num_or(*rs, "beta_slow", 1.0)), "rope_scaling");
        if (rs->contains("mscale_all_dim"))  // stored as 0.1 x mscale_all_dim (GGUF.md §3.5)
            p.set(a + "rope.scaling.yarn_log_multiplier", static_cast<float>(0.1 * config_num(*rs, "mscale_all_dim")), "rope_scaling");
    }
    if (h.n_expert) {
        p.set(a + "leading_dense_block_count", u32(h.first_dense), "first_k_dense_replace");
        p.set(a + "expert_count", u32(h.n_expert), "n_routed_experts");
        p.set(a + "expert_used_count", u32(h.n_used), "num_experts_per_tok");
        p.set(a + "expert_shared_count", u32(h.n_shared), "n_shared_experts");
        p.set(a + "expert_feed_forward_length", u32(h.n_ff_exp), "moe_intermediate_size");
        p.set(a + "expert_weights_scale", static_cast<float>(config_num_or(c, "routed_scaling_factor", 1.0)), "routed_scaling_factor");
        if (config_bool_or(c, "norm_topk_prob", false)) p.set(a + "expert_weights_norm", true, "norm_topk_prob");
        std::string scoring =
            c.contains("scoring_func") ? c["scoring_func"].get<std::string>() : (h.v3 ? "sigmoid" : "softmax");
        if (scoring != "sigmoid" && scoring != "softmax")
            fail("config.json: scoring_func '{}' is not supported (sigmoid, softmax)", scoring);
        p.set(a + "expert_gating_func", uint32_t{scoring == "sigmoid" ? 2u : 1u}, "scoring_func");
        if (c.contains("n_group") && !c["n_group"].is_null()) {
            int64_t groups = positive(c, "n_group"), used = positive(c, "topk_group");
            if (h.n_expert % groups != 0 || used > groups)
                fail("config.json: n_group {} / topk_group {} do not divide n_routed_experts {}", groups, used,
                     h.n_expert);
            p.set(a + "expert_group_count", u32(groups), "n_group");
            p.set(a + "expert_group_used_count", u32(used), "topk_group");
        }
    }
    p.set(a + "vocab_size", u32(h.n_vocab), "vocab_size");
}

Plan build_plan_deepseek(const Checkpoint& ck) {
    const auto& c = ck.config();
    const DeepseekHParams h = deepseek_hparams(c);
    const bool v3 = h.v3;
    const int64_t n_embd = h.n_embd, n_layer = h.n_layer, n_head = h.n_head, n_ff = h.n_ff, n_vocab = h.n_vocab;
    const int64_t q_lora = h.q_lora, kv_lora = h.kv_lora, nope = h.nope, rope = h.rope, v_dim = h.v_dim;
    const int64_t n_expert = h.n_expert, n_shared = h.n_shared, n_ff_exp = h.n_ff_exp;
    const bool tied = h.tied;
    Plan p;
    add_deepseek_metadata(p, c, h);
    auto is_moe = [&](int64_t i) { return h.is_moe(i); };

    // Blocks present must match num_hidden_layers (+ MTP layers, which are skipped).
    const int64_t n_mtp = non_negative(c, "num_nextn_predict_layers", 0);
    for (const auto& name : ck.names()) {
        int layer = -1;
        if (std::sscanf(name.c_str(), "model.layers.%d.", &layer) != 1) continue;
        if (layer >= n_layer && layer < n_layer + n_mtp) ck.use(name);
        else if (layer < 0 || layer >= n_layer)
            fail("{}: checkpoint has '{}' but config.json num_hidden_layers = {}", ck.dir().string(), name, n_layer);
        if (name.find("rotary_emb.inv_freq") != std::string::npos) ck.use(name);
    }
    for (int64_t i = 0; i < n_layer; ++i)
        if (!ck.has(fmt::format("model.layers.{}.input_layernorm.weight", i)))
            fail("{}: config.json num_hidden_layers = {} but 'model.layers.{}.input_layernorm.weight' is missing",
                 ck.dir().string(), n_layer, i);

    const std::string emb_why = "vocab_size x hidden_size";
    p.tensors.push_back(copy_tensor("token_embd.weight", expect_tensor(ck, "model.embed_tokens.weight", {n_vocab, n_embd}, emb_why), -1));
    for (int64_t i = 0; i < n_layer; ++i) {
        const int L = static_cast<int>(i);
        const std::string hf = fmt::format("model.layers.{}.", i), gg = fmt::format("blk.{}.", i);
        auto w = [&](const std::string& n, std::vector<int64_t> shape, const std::string& why) {
            return expect_tensor(ck, hf + n, shape, why);
        };
        auto add = [&](const std::string& name, const Source& s) { p.tensors.push_back(copy_tensor(gg + name, s, L)); };
        add("attn_norm.weight", w("input_layernorm.weight", {n_embd}, "hidden_size"));
        const int64_t q_rows = n_head * (nope + rope);
        const std::string q_why = "num_attention_heads x (qk_nope_head_dim + qk_rope_head_dim)";
        if (q_lora) {
            add("attn_q_a.weight", w("self_attn.q_a_proj.weight", {q_lora, n_embd}, "q_lora_rank, hidden_size"));
            add("attn_q_a_norm.weight", w("self_attn.q_a_layernorm.weight", {q_lora}, "q_lora_rank"));
            add("attn_q_b.weight", w("self_attn.q_b_proj.weight", {q_rows, q_lora}, q_why + ", q_lora_rank"));
        } else {
            add("attn_q.weight", w("self_attn.q_proj.weight", {q_rows, n_embd}, q_why + ", hidden_size"));
        }
        add("attn_kv_a_mqa.weight", w("self_attn.kv_a_proj_with_mqa.weight", {kv_lora + rope, n_embd},
                                      "kv_lora_rank + qk_rope_head_dim, hidden_size"));
        add("attn_kv_a_norm.weight", w("self_attn.kv_a_layernorm.weight", {kv_lora}, "kv_lora_rank"));
        Source kv_b = w("self_attn.kv_b_proj.weight", {n_head * (nope + v_dim), kv_lora},
                        "num_attention_heads x (qk_nope_head_dim + v_head_dim), kv_lora_rank");
        p.tensors.push_back(k_b_tensor(gg + "attn_k_b.weight", kv_b, n_head, nope, v_dim, kv_lora, L));
        OutTensor vb = mapped_tensor(gg + "attn_v_b.weight", {kv_lora, v_dim, n_head}, kv_b,
                                     [nope, v_dim](int64_t r) { return (r / v_dim) * (nope + v_dim) + nope + r % v_dim; }, L);
        vb.row_align = v_dim;
        vb.source_bytes = kv_b.info->n_bytes() - p.tensors.back().source_bytes;
        p.tensors.push_back(std::move(vb));
        add("attn_output.weight", w("self_attn.o_proj.weight", {n_embd, n_head * v_dim}, "hidden_size, num_attention_heads x v_head_dim"));
        add("ffn_norm.weight", w("post_attention_layernorm.weight", {n_embd}, "hidden_size"));
        if (!is_moe(i)) {
            add("ffn_gate.weight", w("mlp.gate_proj.weight", {n_ff, n_embd}, "intermediate_size, hidden_size"));
            add("ffn_up.weight", w("mlp.up_proj.weight", {n_ff, n_embd}, "intermediate_size, hidden_size"));
            add("ffn_down.weight", w("mlp.down_proj.weight", {n_embd, n_ff}, "hidden_size, intermediate_size"));
            continue;
        }
        add("ffn_gate_inp.weight", w("mlp.gate.weight", {n_expert, n_embd}, "n_routed_experts, hidden_size"));
        if (v3 || ck.has(hf + "mlp.gate.e_score_correction_bias")) {
            Source b = w("mlp.gate.e_score_correction_bias", {n_expert}, "n_routed_experts");
            p.tensors.push_back(copy_tensor(gg + "exp_probs_b.bias", b, L));
        }
        for (const char* proj : {"gate", "up", "down"}) {
            std::vector<Source> experts;
            const bool down = proj[0] == 'd';
            std::vector<int64_t> shape = down ? std::vector<int64_t>{n_embd, n_ff_exp} : std::vector<int64_t>{n_ff_exp, n_embd};
            for (int64_t e = 0; e < n_expert; ++e)
                experts.push_back(w(fmt::format("mlp.experts.{}.{}_proj.weight", e, proj), shape,
                                    down ? "hidden_size, moe_intermediate_size" : "moe_intermediate_size, hidden_size"));
            p.tensors.push_back(stacked_experts(gg + fmt::format("ffn_{}_exps.weight", proj), std::move(experts), L));
        }
        if (n_shared) {
            const int64_t n_sh = n_ff_exp * n_shared;
            const std::string why = "moe_intermediate_size x n_shared_experts";
            add("ffn_gate_shexp.weight", w("mlp.shared_experts.gate_proj.weight", {n_sh, n_embd}, why + ", hidden_size"));
            add("ffn_up_shexp.weight", w("mlp.shared_experts.up_proj.weight", {n_sh, n_embd}, why + ", hidden_size"));
            add("ffn_down_shexp.weight", w("mlp.shared_experts.down_proj.weight", {n_embd, n_sh}, "hidden_size, " + why));
        }
    }
    p.tensors.push_back(copy_tensor("output_norm.weight", expect_tensor(ck, "model.norm.weight", {n_embd}, "hidden_size"), -1));
    if (tied) {
        if (ck.has("lm_head.weight")) ck.use("lm_head.weight");
    } else {
        if (!ck.has("lm_head.weight"))
            fail("{}: config.json tie_word_embeddings = false but 'lm_head.weight' is missing", ck.dir().string());
        p.tensors.push_back(copy_tensor("output.weight", expect_tensor(ck, "lm_head.weight", {n_vocab, n_embd}, emb_why), -1));
    }
    return p;
}

}  // namespace r1::convert
