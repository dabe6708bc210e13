// qwen2 and llama conversion checked against the fixture checkpoints: every tensor's values
// (exact for f32, within rounding for f16/bf16), the llama Q/K permutation both as the
// documented axis swap and by its meaning (NORM rope on converted weights gives the same
// attention scores as HF's rotate_half rope), metadata from config.json, determinism.
#include <cmath>
#include <numbers>

#include "tests/convert/convert_helpers.h"

namespace r1::test {
namespace {

struct Mapping {
    std::string hf, gguf;
};

// HF -> GGUF names (GGUF.md §3.3/§3.4), written out here independently of convert/.
std::vector<Mapping> dense_mapping(const nlohmann::json& cfg, bool biases) {
    std::vector<Mapping> m = {{"model.embed_tokens.weight", "token_embd.weight"}, {"model.norm.weight", "output_norm.weight"}};
    if (!cfg.value("tie_word_embeddings", false)) m.push_back({"lm_head.weight", "output.weight"});
    const std::vector<std::pair<std::string, std::string>> per_layer = {
        {"input_layernorm.weight", "attn_norm.weight"}, {"self_attn.q_proj.weight", "attn_q.weight"},
        {"self_attn.k_proj.weight", "attn_k.weight"},   {"self_attn.v_proj.weight", "attn_v.weight"},
        {"self_attn.o_proj.weight", "attn_output.weight"}, {"post_attention_layernorm.weight", "ffn_norm.weight"},
        {"mlp.gate_proj.weight", "ffn_gate.weight"},    {"mlp.up_proj.weight", "ffn_up.weight"},
        {"mlp.down_proj.weight", "ffn_down.weight"}};
    for (int i = 0; i < cfg["num_hidden_layers"].get<int>(); ++i) {
        for (const auto& [h, g] : per_layer)
            m.push_back({fmt::format("model.layers.{}.{}", i, h), fmt::format("blk.{}.{}", i, g)});
        if (biases)
            for (const char* p : {"q", "k", "v"})
                m.push_back({fmt::format("model.layers.{}.self_attn.{}_proj.bias", i, p), fmt::format("blk.{}.attn_{}.bias", i, p)});
    }
    return m;
}

// The documented permutation, literally: view [n_h * hd, in] as [n_h, 2, hd/2, in], swap axes 1, 2.
std::vector<float> permute_axis_swap(const std::vector<float>& w, int64_t n_h, int64_t hd, int64_t in) {
    std::vector<float> out(w.size());
    for (int64_t h = 0; h < n_h; ++h)
        for (int64_t a = 0; a < 2; ++a)
            for (int64_t b = 0; b < hd / 2; ++b)
                for (int64_t c = 0; c < in; ++c) {
                    size_t src = static_cast<size_t>(((h * 2 + a) * (hd / 2) + b) * in + c);   // [h][a][b][c]
                    size_t dst = static_cast<size_t>(((h * (hd / 2) + b) * 2 + a) * in + c);   // [h][b][a][c]
                    out[dst] = w[src];
                }
    return out;
}

void expect_values(const HfTensors& hf, const gguf::File& g, const Mapping& m, double rel_tol,
                   const std::vector<float>* expected_override = nullptr) {
    const gguf::TensorInfo* t = g.find_tensor(m.gguf);
    ASSERT_NE(t, nullptr) << m.gguf;
    std::vector<int64_t> shape = hf.shape(m.hf);
    ASSERT_EQ(t->n_dims, shape.size()) << m.gguf;
    for (size_t d = 0; d < shape.size(); ++d) EXPECT_EQ(t->ne[d], shape[shape.size() - 1 - d]) << m.gguf;
    std::vector<float> want = expected_override ? *expected_override : hf.values(m.hf);
    std::vector<float> got = gguf_values(*t);
    ASSERT_EQ(want.size(), got.size());
    size_t bad = 0;
    for (size_t i = 0; i < want.size(); ++i) {
        double tol = rel_tol * std::fabs(want[i]) + (rel_tol > 0 ? 6e-8 : 0.0);
        if (!(std::fabs(double(want[i]) - double(got[i])) <= tol) && bad++ < 3)
            ADD_FAILURE() << m.gguf << "[" << i << "]: " << got[i] << " vs " << want[i];
    }
    EXPECT_EQ(bad, 0u) << m.gguf;
}

void check_dense_values(const std::string& model, const std::string& type, double rel_tol) {
    fs::path dir = fixture_model(model);
    nlohmann::json cfg = read_json(dir / "config.json");
    fs::path out = convert_model(dir, type);
    auto g = gguf::File::open(out);
    HfTensors hf(dir);
    const bool llama = cfg["model_type"] == "llama";
    std::vector<Mapping> map = dense_mapping(cfg, !llama);
    size_t n_expected = map.size() + (llama ? 1 : 0);  // + rope_freqs
    EXPECT_EQ(g->tensors().size(), n_expected);
    const int64_t hd = cfg.value("head_dim", cfg["hidden_size"].get<int64_t>() / cfg["num_attention_heads"].get<int64_t>());
    for (const auto& m : map) {
        const bool is_q = m.hf.find("q_proj.weight") != std::string::npos;
        const bool is_k = m.hf.find("k_proj.weight") != std::string::npos;
        if (llama && (is_q || is_k)) {
            int64_t n_h = cfg[is_q ? "num_attention_heads" : "num_key_value_heads"].get<int64_t>();
            std::vector<float> p = permute_axis_swap(hf.values(m.hf), n_h, hd, cfg["hidden_size"].get<int64_t>());
            expect_values(hf, *g, m, rel_tol, &p);
        } else {
            expect_values(hf, *g, m, rel_tol);
        }
        // Norms, biases and other 1-D tensors stay F32 in every mix.
        const gguf::TensorInfo* t = g->find_tensor(m.gguf);
        if (t && t->n_dims == 1) {
            EXPECT_EQ(t->type, GgmlType::F32) << m.gguf;
        }
        if (t && t->n_dims == 2) {
            GgmlType want = type == "f32" ? GgmlType::F32 : type == "f16" ? GgmlType::F16 : GgmlType::BF16;
            EXPECT_EQ(t->type, want) << m.gguf;
        }
    }
}

TEST(ConvertDense, Qwen2F32IsExact) { check_dense_values("tiny-r1-qwen2", "f32", 0.0); }
TEST(ConvertDense, LlamaF32IsExact) { check_dense_values("tiny-r1-llama", "f32", 0.0); }
TEST(ConvertDense, Qwen2F16WithinRounding) { check_dense_values("tiny-r1-qwen2", "f16", 1.0 / 2048); }
TEST(ConvertDense, Qwen2Bf16WithinRounding) { check_dense_values("tiny-r1-qwen2", "bf16", 1.0 / 256); }
TEST(ConvertDense, LlamaF16WithinRounding) { check_dense_values("tiny-r1-llama", "f16", 1.0 / 2048); }
TEST(ConvertDense, LlamaBf16IsExact) { check_dense_values("tiny-r1-llama", "bf16", 0.0); }  // bf16 source

// HF rope (rotate_half: pairs (i, i + hd/2)) on the original weights and ggml NORM rope
// (pairs (2j, 2j + 1)) on the converted ones must give the same q.k scores per head.
TEST(ConvertDense, LlamaQkPermutationPreservesAttentionScores) {
    fs::path dir = fixture_model("tiny-r1-llama");
    nlohmann::json cfg = read_json(dir / "config.json");
    auto g = gguf::File::open(convert_model(dir, "f32"));
    HfTensors hf(dir);
    const int64_t n_embd = cfg["hidden_size"], hd = cfg["head_dim"], n_head = cfg["num_attention_heads"],
                  n_kv = cfg["num_key_value_heads"];
    const double theta = cfg["rope_theta"];
    std::vector<float> wq = hf.values("model.layers.1.self_attn.q_proj.weight");
    std::vector<float> wk = hf.values("model.layers.1.self_attn.k_proj.weight");
    std::vector<float> gq = gguf_values(*g->find_tensor("blk.1.attn_q.weight"));
    std::vector<float> gk = gguf_values(*g->find_tensor("blk.1.attn_k.weight"));
    std::vector<double> x(static_cast<size_t>(n_embd)), y(static_cast<size_t>(n_embd));
    for (int64_t i = 0; i < n_embd; ++i) x[size_t(i)] = std::sin(0.37 * i + 1), y[size_t(i)] = std::cos(0.11 * i * i);
    auto matvec = [&](const std::vector<float>& w, const std::vector<double>& v, int64_t rows) {
        std::vector<double> r(static_cast<size_t>(rows), 0.0);
        for (int64_t o = 0; o < rows; ++o)
            for (int64_t i = 0; i < n_embd; ++i) r[size_t(o)] += double(w[size_t(o * n_embd + i)]) * v[size_t(i)];
        return r;
    };
    auto rope = [&](std::vector<double> v, int64_t pos, bool neox) {
        for (int64_t h = 0; h < int64_t(v.size()) / hd; ++h)
            for (int64_t j = 0; j < hd / 2; ++j) {
                double ang = pos * std::pow(theta, -2.0 * j / hd);
                size_t a = size_t(h * hd + (neox ? j : 2 * j)), b = size_t(h * hd + (neox ? j + hd / 2 : 2 * j + 1));
                double va = v[a], vb = v[b];
                v[a] = va * std::cos(ang) - vb * std::sin(ang);
                v[b] = va * std::sin(ang) + vb * std::cos(ang);
            }
        return v;
    };
    auto q_hf = rope(matvec(wq, x, n_head * hd), 7, true), k_hf = rope(matvec(wk, y, n_kv * hd), 3, true);
    auto q_gg = rope(matvec(gq, x, n_head * hd), 7, false), k_gg = rope(matvec(gk, y, n_kv * hd), 3, false);
    for (int64_t h = 0; h < n_head; ++h) {
        int64_t kh = h / (n_head / n_kv);
        double s_hf = 0, s_gg = 0;
        for (int64_t d = 0; d < hd; ++d) {
            s_hf += q_hf[size_t(h * hd + d)] * k_hf[size_t(kh * hd + d)];
            s_gg += q_gg[size_t(h * hd + d)] * k_gg[size_t(kh * hd + d)];
        }
        EXPECT_NEAR(s_gg, s_hf, 1e-9 * (1 + std::fabs(s_hf))) << "head " << h;
    }
}

uint32_t u32(const gguf::File& g, const std::string& k) { return g.get<uint32_t>(k); }

TEST(ConvertDense, MetadataFollowsConfig) {
    for (const char* model : {"tiny-r1-qwen2", "tiny-r1-llama"}) {
        fs::path dir = fixture_model(model);
        nlohmann::json c = read_json(dir / "config.json");
        auto g = gguf::File::open(convert_model(dir, "f16"));
        const std::string arch = c["model_type"];
        const std::string a = arch + ".";
        EXPECT_EQ(g->get<std::string>("general.architecture"), arch);
        EXPECT_EQ(g->metadata().front().first, "general.architecture");
        EXPECT_EQ(u32(*g, a + "context_length"), c["max_position_embeddings"].get<uint32_t>());
        EXPECT_EQ(u32(*g, a + "embedding_length"), c["hidden_size"].get<uint32_t>());
        EXPECT_EQ(u32(*g, a + "block_count"), c["num_hidden_layers"].get<uint32_t>());
        EXPECT_EQ(u32(*g, a + "feed_forward_length"), c["intermediate_size"].get<uint32_t>());
        EXPECT_EQ(u32(*g, a + "attention.head_count"), c["num_attention_heads"].get<uint32_t>());
        EXPECT_EQ(u32(*g, a + "attention.head_count_kv"), c["num_key_value_heads"].get<uint32_t>());
        EXPECT_EQ(g->get<float>(a + "rope.freq_base"), c["rope_theta"].get<float>());
        EXPECT_EQ(g->get<float>(a + "attention.layer_norm_rms_epsilon"), c["rms_norm_eps"].get<float>());
        const uint32_t hd = c.value("head_dim", c["hidden_size"].get<uint32_t>() / c["num_attention_heads"].get<uint32_t>());
        EXPECT_EQ(u32(*g, a + "rope.dimension_count"), hd);
        EXPECT_EQ(u32(*g, a + "vocab_size"), c["vocab_size"].get<uint32_t>());
        EXPECT_EQ(u32(*g, "general.file_type"), 1u);  // MOSTLY_F16
        EXPECT_EQ(u32(*g, "general.quantization_version"), 2u);
        EXPECT_EQ(g->find_tensor("output.weight") == nullptr, c["tie_word_embeddings"].get<bool>()) << model;
        EXPECT_EQ(g->find_tensor("token_embd.weight")->ne[1], c["vocab_size"].get<int64_t>());
    }
}

// llama3 rope scaling (GGUF.md §3.3) recomputed here in double precision.
TEST(ConvertDense, LlamaRopeFreqsFollowLlama3Scaling) {
    fs::path dir = fixture_model("tiny-r1-llama");
    nlohmann::json c = read_json(dir / "config.json");
    auto g = gguf::File::open(convert_model(dir, "f32"));
    const gguf::TensorInfo* t = g->find_tensor("rope_freqs.weight");
    ASSERT_NE(t, nullptr);
    EXPECT_EQ(t->type, GgmlType::F32);
    const auto& rs = c["rope_scaling"];
    const double factor = rs["factor"], lo = rs["low_freq_factor"], hi = rs["high_freq_factor"],
                 old = rs["original_max_position_embeddings"], theta = c["rope_theta"];
    const int hd = c["head_dim"];
    ASSERT_EQ(t->ne[0], hd / 2);
    std::vector<float> got = gguf_values(*t);
    int bands[3] = {0, 0, 0};
    for (int i = 0; i < hd / 2; ++i) {
        double wavelen = 2 * std::numbers::pi * std::pow(theta, 2.0 * i / hd);
        double want;
        if (wavelen < old / hi) want = 1, ++bands[0];
        else if (wavelen > old / lo) want = factor, ++bands[2];
        else {
            double smooth = (old / wavelen - lo) / (hi - lo);
            want = 1 / ((1 - smooth) / factor + smooth);
            ++bands[1];
        }
        EXPECT_NEAR(got[size_t(i)], want, 1e-5 * want) << i;
    }
    EXPECT_GT(bands[0] * bands[1] * bands[2], 0) << "the fixture spans all three bands";
}

TEST(ConvertDense, SameBytesWhateverTheThreadCount) {
    fs::path dir = fixture_model("tiny-r1-qwen2");
    fs::path a = convert_model(dir, "bf16", {"--threads", "1"});
    fs::path b = convert_model(dir, "bf16", {"--threads", "3"});
    std::ifstream fa(a, std::ios::binary), fb(b, std::ios::binary);
    std::string sa((std::istreambuf_iterator<char>(fa)), {}), sb((std::istreambuf_iterator<char>(fb)), {});
    EXPECT_FALSE(sa.empty());
    EXPECT_TRUE(sa == sb);
}

}  // namespace
}  // namespace r1::test
