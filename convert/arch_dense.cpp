// llama and qwen2 (GGUF.md §3.3, §3.4): HF names -> GGUF names, the llama Q/K row permutation,
// qwen2's q/k/v biases, tied embeddings and llama3 rope_freqs. Config fields are checked
// against every tensor shape.
#include <cmath>
#include <numbers>

#include "convert/plan.h"

namespace r1::convert {

namespace {

// Llama's Q/K rows within each head of hd rows: new row 2j + s takes old row s*hd/2 + j, which
// turns HF's rotate_half pairs (i, i + hd/2) into ggml's adjacent NORM pairs (2j, 2j + 1).
int64_t qk_permuted_row(int64_t r, int64_t head_dim) {
    int64_t head = r / head_dim, i = r % head_dim;
    return head * head_dim + (i % 2) * (head_dim / 2) + i / 2;
}

// llama3 rope scaling factors (GGUF.md §3.3), float32 arithmetic as the reference converter.
std::vector<float> llama3_rope_factors(const nlohmann::json& rs, double theta, int64_t head_dim) {
    const float factor = static_cast<float>(config_num_or(rs, "factor", 8.0));
    const float low = static_cast<float>(config_num_or(rs, "low_freq_factor", 1.0));
    const float high = static_cast<float>(config_num_or(rs, "high_freq_factor", 4.0));
    const float old_ctx = static_cast<float>(config_num_or(rs, "original_max_position_embeddings", 8192));
    if (!(high > low) || !(factor > 0) || !(old_ctx > 0))
        fail("config.json: rope_scaling (llama3) needs high_freq_factor > low_freq_factor and positive factors");
    const float low_wavelen = old_ctx / low, high_wavelen = old_ctx / high;
    std::vector<float> out;
    for (int64_t i = 0; i < head_dim; i += 2) {
        float exponent = static_cast<float>(i) / static_cast<float>(head_dim);
        float freq = 1.0f / std::pow(static_cast<float>(theta), exponent);
        float wavelen = static_cast<float>(2 * std::numbers::pi) / freq;
        if (wavelen < high_wavelen) out.push_back(1.0f);
        else if (wavelen > low_wavelen) out.push_back(factor);
        else {
            float smooth = (old_ctx / wavelen - low) / (high - low);
            out.push_back(1.0f / ((1.0f - smooth) / factor + smooth));
        }
    }
    return out;
}

int64_t positive(const nlohmann::json& c, const char* key) {
    int64_t v = config_int(c, key);
    if (v <= 0 || v > (int64_t{1} << 31)) fail("config.json: '{}' = {} is out of range", key, v);
    return v;
}

}  // namespace

DenseHParams dense_hparams(const nlohmann::json& c, const std::string& model_type) {
    DenseHParams h;
    h.llama = model_type == "llama";
    h.n_embd = positive(c, "hidden_size");
    h.n_layer = positive(c, "num_hidden_layers");
    h.n_head = positive(c, "num_attention_heads");
    h.n_head_kv = c.contains("num_key_value_heads") && !c["num_key_value_heads"].is_null()
                      ? positive(c, "num_key_value_heads") : h.n_head;
    h.n_ff = positive(c, "intermediate_size");
    h.n_vocab = positive(c, "vocab_size");
    h.n_ctx = positive(c, "max_position_embeddings");
    h.explicit_head_dim = c.contains("head_dim") && !c["head_dim"].is_null();
    if (h.explicit_head_dim) {
        h.head_dim = positive(c, "head_dim");
    } else {
        if (h.n_embd % h.n_head != 0)
            fail("config.json: hidden_size {} is not a multiple of num_attention_heads {}", h.n_embd, h.n_head);
        h.head_dim = h.n_embd / h.n_head;
    }
    if (h.n_head % h.n_head_kv != 0)
        fail("config.json: num_attention_heads {} is not a multiple of num_key_value_heads {}", h.n_head, h.n_head_kv);
    if (h.llama && h.head_dim % 2 != 0) fail("config.json: head_dim {} must be even", h.head_dim);
    h.theta = config_num_or(c, "rope_theta", 10000.0);
    h.eps = config_num_or(c, "rms_norm_eps", 1e-6);
    h.tied = config_bool_or(c, "tie_word_embeddings", false);
    h.qkv_bias = h.llama ? config_bool_or(c, "attention_bias", false) : true;
    if (config_bool_or(c, "mlp_bias", false)) fail("config.json: mlp_bias = true is not supported");
    return h;
}

void add_dense_metadata(Plan& p, const nlohmann::json& c, const DenseHParams& h) {
    const std::string a = p.arch + ".";
    p.n_vocab = h.n_vocab;
    p.n_layer = h.n_layer;
    p.set(a + "context_length", static_cast<uint32_t>(h.n_ctx), "max_position_embeddings");
    p.set(a + "embedding_length", static_cast<uint32_t>(h.n_embd), "hidden_size");
    p.set(a + "block_count", static_cast<uint32_t>(h.n_layer), "num_hidden_layers");
    p.set(a + "feed_forward_length", static_cast<uint32_t>(h.n_ff), "intermediate_size");
    p.set(a + "attention.head_count", static_cast<uint32_t>(h.n_head), "num_attention_heads");
    p.set(a + "attention.head_count_kv", static_cast<uint32_t>(h.n_head_kv), "num_key_value_heads");
    p.set(a + "rope.freq_base", static_cast<float>(h.theta), "rope_theta");
    p.set(a + "attention.layer_norm_rms_epsilon", static_cast<float>(h.eps), "rms_norm_eps");
    p.set(a + "rope.dimension_count", static_cast<uint32_t>(h.head_dim),
          h.explicit_head_dim ? "head_dim" : "hidden_size / num_attention_heads");
    if (h.explicit_head_dim) {
        p.set(a + "attention.key_length", static_cast<uint32_t>(h.head_dim), "head_dim");
        p.set(a + "attention.value_length", static_cast<uint32_t>(h.head_dim), "head_dim");
    }
    p.set(a + "vocab_size", static_cast<uint32_t>(h.n_vocab), "vocab_size");

    // RoPE scaling: llama3 becomes rope_freqs.weight; linear becomes keys; others are refused.
    auto rs = c.find("rope_scaling");
    if (rs != c.end() && !rs->is_null()) {
        if (!rs->is_object()) fail("config.json: rope_scaling must be an object or null");
        std::string type = rs->contains("rope_type") ? (*rs)["rope_type"].get<std::string>()
                           : rs->contains("type")    ? (*rs)["type"].get<std::string>() : "";
        if (type == "llama3") {
            std::vector<float> f = llama3_rope_factors(*rs, h.theta, h.head_dim);
            OutTensor t;
            t.name = "rope_freqs.weight";
            t.ne = {static_cast<int64_t>(f.size())};
            t.produce = [f](int64_t, int64_t, float* dst) { std::copy(f.begin(), f.end(), dst); };
            p.tensors.push_back(std::move(t));
        } else if (type == "linear") {
            p.set(a + "rope.scaling.type", std::string("linear"), "rope_scaling");
            p.set(a + "rope.scaling.factor", static_cast<float>(config_num(*rs, "factor")), "rope_scaling");
        } else if (type != "default") {
            fail("config.json: rope_scaling type '{}' is not supported for {}", type, p.arch);
        }
    }
}

Plan build_plan_dense(const Checkpoint& ck, const std::string& model_type) {
    const DenseHParams h = dense_hparams(ck.config(), model_type);
    const bool llama = h.llama;
    const int64_t n_embd = h.n_embd, n_layer = h.n_layer, n_ff = h.n_ff, n_vocab = h.n_vocab;
    const int64_t n_head = h.n_head, n_head_kv = h.n_head_kv, head_dim = h.head_dim;
    const bool tied = h.tied, qkv_bias = h.qkv_bias;
    Plan p;
    p.arch = model_type;
    add_dense_metadata(p, ck.config(), h);

    // Layers present must match num_hidden_layers exactly.
    for (const auto& name : ck.names()) {
        int layer = -1;
        if (std::sscanf(name.c_str(), "model.layers.%d.", &layer) == 1 && (layer < 0 || layer >= n_layer))
            fail("{}: checkpoint has '{}' but config.json num_hidden_layers = {}", ck.dir().string(), name, n_layer);
        if (name.find("rotary_emb.inv_freq") != std::string::npos) ck.use(name);  // recomputed at run time
    }
    for (int64_t i = 0; i < n_layer; ++i)
        if (!ck.has(fmt::format("model.layers.{}.input_layernorm.weight", i)))
            fail("{}: config.json num_hidden_layers = {} but 'model.layers.{}.input_layernorm.weight' is missing",
                 ck.dir().string(), n_layer, i);

    const std::string emb_why = "vocab_size x hidden_size";
    p.tensors.push_back(copy_tensor("token_embd.weight",
                                    expect_tensor(ck, "model.embed_tokens.weight", {n_vocab, n_embd}, emb_why), -1));

    const int64_t q_rows = n_head * head_dim, kv_rows = n_head_kv * head_dim;
    for (int64_t i = 0; i < n_layer; ++i) {
        const int L = static_cast<int>(i);
        const std::string hf = fmt::format("model.layers.{}.", i), gg = fmt::format("blk.{}.", i);
        auto w = [&](const std::string& n, std::vector<int64_t> shape, const std::string& why) {
            return expect_tensor(ck, hf + n, shape, why);
        };
        p.tensors.push_back(copy_tensor(gg + "attn_norm.weight", w("input_layernorm.weight", {n_embd}, "hidden_size"), L));
        Source q = w("self_attn.q_proj.weight", {q_rows, n_embd}, "num_attention_heads x head_dim, hidden_size");
        Source k = w("self_attn.k_proj.weight", {kv_rows, n_embd}, "num_key_value_heads x head_dim, hidden_size");
        Source v = w("self_attn.v_proj.weight", {kv_rows, n_embd}, "num_key_value_heads x head_dim, hidden_size");
        if (llama) {
            auto perm = [head_dim](int64_t r) { return qk_permuted_row(r, head_dim); };
            OutTensor tq = mapped_tensor(gg + "attn_q.weight", {n_embd, q_rows}, q, perm, L);
            OutTensor tk = mapped_tensor(gg + "attn_k.weight", {n_embd, kv_rows}, k, perm, L);
            tq.row_align = tk.row_align = head_dim;
            p.tensors.push_back(std::move(tq));
            p.tensors.push_back(std::move(tk));
        } else {
            p.tensors.push_back(copy_tensor(gg + "attn_q.weight", q, L));
            p.tensors.push_back(copy_tensor(gg + "attn_k.weight", k, L));
        }
        p.tensors.push_back(copy_tensor(gg + "attn_v.weight", v, L));
        if (qkv_bias) {
            Source qb = w("self_attn.q_proj.bias", {q_rows}, "num_attention_heads x head_dim");
            Source kb = w("self_attn.k_proj.bias", {kv_rows}, "num_key_value_heads x head_dim");
            Source vb = w("self_attn.v_proj.bias", {kv_rows}, "num_key_value_heads x head_dim");
            for (const auto& entry : {std::tuple{"attn_q.bias", qb, llama}, std::tuple{"attn_k.bias", kb, llama},
                                      std::tuple{"attn_v.bias", vb, false}}) {
                const Source& src = std::get<1>(entry);
                OutTensor t = copy_tensor(gg + std::get<0>(entry), src, L);
                if (std::get<2>(entry)) {  // biases are one row: permute the elements
                    t.produce = [src, head_dim](int64_t, int64_t, float* dst) {
                        std::vector<float> raw(static_cast<size_t>(src.cols));
                        src.read_rows(0, 1, raw.data());
                        for (int64_t e = 0; e < src.cols; ++e) dst[e] = raw[static_cast<size_t>(qk_permuted_row(e, head_dim))];
                    };
                }
                p.tensors.push_back(std::move(t));
            }
        }
        p.tensors.push_back(copy_tensor(gg + "attn_output.weight",
                                        w("self_attn.o_proj.weight", {n_embd, q_rows}, "hidden_size, num_attention_heads x head_dim"), L));
        p.tensors.push_back(copy_tensor(gg + "ffn_norm.weight", w("post_attention_layernorm.weight", {n_embd}, "hidden_size"), L));
        p.tensors.push_back(copy_tensor(gg + "ffn_gate.weight", w("mlp.gate_proj.weight", {n_ff, n_embd}, "intermediate_size, hidden_size"), L));
        p.tensors.push_back(copy_tensor(gg + "ffn_up.weight", w("mlp.up_proj.weight", {n_ff, n_embd}, "intermediate_size, hidden_size"), L));
        p.tensors.push_back(copy_tensor(gg + "ffn_down.weight", w("mlp.down_proj.weight", {n_embd, n_ff}, "hidden_size, intermediate_size"), L));
    }
    p.tensors.push_back(copy_tensor("output_norm.weight", expect_tensor(ck, "model.norm.weight", {n_embd}, "hidden_size"), -1));
    if (tied) {
        if (ck.has("lm_head.weight")) ck.use("lm_head.weight");  // same values as the embeddings
    } else {
        if (!ck.has("lm_head.weight"))
            fail("{}: config.json tie_word_embeddings = false but 'lm_head.weight' is missing", ck.dir().string());
        p.tensors.push_back(copy_tensor("output.weight", expect_tensor(ck, "lm_head.weight", {n_vocab, n_embd}, emb_why), -1));
    }
    return p;
}

}  // namespace r1::convert
