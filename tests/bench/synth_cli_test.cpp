// `r1 synth` as a user meets it: the tiny presets read back with `r1 info --json` and the GGUF
// reader against shapes typed here, the embedded tokenizer checked against the fixture's
// tokenizer.json, the value statistics, determinism across threads, and user errors.
#include <cmath>
#include <cstring>
#include <map>
#include <numbers>

#include <nlohmann/json.hpp>

#include "runtime/gguf/gguf.h"
#include "tests/bench/bench_helpers.h"

namespace r1::test {
namespace {

nlohmann::json info_json(const fs::path& p) {
    RunResult r = run_r1({"info", p.string(), "--json"});
    EXPECT_EQ(r.status, 0) << r.err;
    return nlohmann::json::parse(r.out);
}

std::map<std::string, nlohmann::json> tensors_by_name(const nlohmann::json& info) {
    std::map<std::string, nlohmann::json> m;
    for (const auto& t : info["tensors"]) m[t["name"].get<std::string>()] = t;
    return m;
}

// The tiny preset: qwen2, 256 wide, 2 layers, 4 heads of 64 (2 KV heads), FFN 512, vocab 1088.
TEST(Synth, TinyShapesAndKeys) {
    auto info = info_json(synth("tiny-q8", "tiny", "q8_0"));
    EXPECT_EQ(info["architecture"], "qwen2");
    const auto& m = info["metadata"];
    EXPECT_EQ(m["qwen2.embedding_length"], 256);
    EXPECT_EQ(m["qwen2.block_count"], 2);
    EXPECT_EQ(m["qwen2.feed_forward_length"], 512);
    EXPECT_EQ(m["qwen2.attention.head_count"], 4);
    EXPECT_EQ(m["qwen2.attention.head_count_kv"], 2);
    EXPECT_EQ(m["qwen2.rope.dimension_count"], 64);
    EXPECT_EQ(m["qwen2.vocab_size"], 1088);
    EXPECT_FLOAT_EQ(m["qwen2.rope.freq_base"].get<float>(), 10000.0f);
    EXPECT_FLOAT_EQ(m["qwen2.attention.layer_norm_rms_epsilon"].get<float>(), 1e-6f);
    EXPECT_EQ(m["general.file_type"], 7);  // MOSTLY_Q8_0
    EXPECT_EQ(m["general.quantization_version"], 2);
    EXPECT_EQ(m.count("tokenizer.ggml.tokens"), 0u);  // no --tokenizer, no tokenizer keys

    auto t = tensors_by_name(info);
    EXPECT_EQ(t.size(), 3u + 2u * 12u);  // embd, output_norm, output + 12 per layer
    auto shape = [&](const std::string& n) { return t[n]["shape"].get<std::vector<int64_t>>(); };
    EXPECT_EQ(shape("token_embd.weight"), (std::vector<int64_t>{256, 1088}));
    EXPECT_EQ(shape("output.weight"), (std::vector<int64_t>{256, 1088}));
    EXPECT_EQ(shape("blk.1.attn_q.weight"), (std::vector<int64_t>{256, 256}));
    EXPECT_EQ(shape("blk.1.attn_k.weight"), (std::vector<int64_t>{256, 128}));
    EXPECT_EQ(shape("blk.1.attn_v.bias"), (std::vector<int64_t>{128}));
    EXPECT_EQ(shape("blk.1.attn_output.weight"), (std::vector<int64_t>{256, 256}));
    EXPECT_EQ(shape("blk.1.ffn_up.weight"), (std::vector<int64_t>{256, 512}));
    EXPECT_EQ(shape("blk.1.ffn_down.weight"), (std::vector<int64_t>{512, 256}));
    for (const auto& [name, ti] : t)
        EXPECT_EQ(ti["type"], ti["shape"].size() >= 2 ? "q8_0" : "f32") << name;
}

// Q4_K_M on 2 layers: use_more_bits(i, 2) is true only for layer 1, so layer 1's attn_v and
// ffn_down are Q6_K; output is Q6_K; everything else 2-D Q4_K (GGUF.md §2.15).
TEST(Synth, TinyQ4KMMix) {
    auto t = tensors_by_name(info_json(synth("tiny-q4km", "tiny", "q4_k_m")));
    EXPECT_EQ(t["output.weight"]["type"], "q6_K");
    EXPECT_EQ(t["token_embd.weight"]["type"], "q4_K");
    EXPECT_EQ(t["blk.0.attn_v.weight"]["type"], "q4_K");
    EXPECT_EQ(t["blk.0.ffn_down.weight"]["type"], "q4_K");
    EXPECT_EQ(t["blk.1.attn_v.weight"]["type"], "q6_K");
    EXPECT_EQ(t["blk.1.ffn_down.weight"]["type"], "q6_K");
    EXPECT_EQ(t["blk.1.ffn_gate.weight"]["type"], "q4_K");
}

// The tiny llama preset: no biases, Llama-3 rope factors (base 500000, head_dim 64) computed
// here from the formula of GGUF.md §3.3 in double precision.
TEST(Synth, TinyLlamaRopeFreqs) {
    auto f = gguf::File::open(synth("tiny-llama-f32", "tiny-llama", "f32"));
    EXPECT_EQ(f->get<std::string>("general.architecture"), "llama");
    EXPECT_EQ(f->find_tensor("blk.0.attn_q.bias"), nullptr);
    const gguf::TensorInfo* rf = f->find_tensor("rope_freqs.weight");
    ASSERT_NE(rf, nullptr);
    ASSERT_EQ(rf->n_elements(), 32);
    const float* v = reinterpret_cast<const float*>(rf->data);
    for (int i = 0; i < 32; ++i) {
        const double freq = std::pow(500000.0, -2.0 * i / 64.0), wavelen = 2 * std::numbers::pi / freq;
        double want;
        if (wavelen < 8192.0 / 4) want = 1;
        else if (wavelen > 8192.0) want = 8;
        else {
            const double smooth = (8192.0 / wavelen - 1) / 3;
            want = 1 / ((1 - smooth) / 8 + smooth);
        }
        EXPECT_NEAR(v[i], want, 1e-4 * want) << i;
    }
}

nlohmann::json read_json_file(const fs::path& p) {
    std::ifstream in(p);
    return nlohmann::json::parse(in);
}

// --tokenizer embeds the fixture tokenizer (1030 tokens) padded to the preset's 1088 rows.
TEST(Synth, TokenizerPaddedToVocab) {
    const fs::path dir = fs::path(R1_FIXTURES) / "models" / "tiny-r1-qwen2";
    auto f = gguf::File::open(synth("tiny-tok", "tiny", "q8_0", {"--tokenizer", dir.string()}));
    auto tokens = f->get_array<std::string>("tokenizer.ggml.tokens");
    auto types = f->get_array<int32_t>("tokenizer.ggml.token_type");
    ASSERT_EQ(tokens.size(), 1088u);
    ASSERT_EQ(types.size(), 1088u);
    EXPECT_EQ(f->get<std::string>("tokenizer.ggml.model"), "gpt2");

    nlohmann::json tj = read_json_file(dir / "tokenizer.json");
    for (const auto& [text, id] : tj["model"]["vocab"].items()) {
        ASSERT_LT(id.get<size_t>(), 1088u);
        EXPECT_EQ(tokens[id.get<size_t>()], text);
        EXPECT_EQ(types[id.get<size_t>()], 1) << text;  // NORMAL
    }
    for (const auto& at : tj["added_tokens"]) EXPECT_EQ(tokens[at["id"].get<size_t>()], at["content"].get<std::string>());
    EXPECT_EQ(types[1024], 3);  // <｜end▁of▁sentence｜>: CONTROL
    EXPECT_EQ(types[1028], 4);  // <think>: USER_DEFINED
    for (size_t id = 1030; id < 1088; ++id) {
        EXPECT_EQ(tokens[id], fmt::format("[PAD{}]", id));
        EXPECT_EQ(types[id], 5);  // UNUSED
    }
    EXPECT_EQ(f->get<uint32_t>("tokenizer.ggml.bos_token_id"), 1025u);
    EXPECT_EQ(f->get<uint32_t>("tokenizer.ggml.eos_token_id"), 1024u);
}

// Weights ~N(0, 0.02²), norms ~1 + N(0, 0.02²).
TEST(Synth, ValueStatistics) {
    auto f = gguf::File::open(synth("tiny-f32", "tiny", "f32"));
    auto stats = [&](const std::string& name) {
        const gguf::TensorInfo* t = f->find_tensor(name);
        EXPECT_NE(t, nullptr) << name;
        EXPECT_EQ(t->type, GgmlType::F32);
        const float* v = reinterpret_cast<const float*>(t->data);
        double s = 0, s2 = 0;
        for (int64_t i = 0; i < t->n_elements(); ++i) s += v[i];
        const double mean = s / double(t->n_elements());
        for (int64_t i = 0; i < t->n_elements(); ++i) s2 += (v[i] - mean) * (v[i] - mean);
        return std::pair{mean, std::sqrt(s2 / double(t->n_elements()))};
    };
    auto [m, sd] = stats("token_embd.weight");  // 278,528 values
    EXPECT_NEAR(m, 0.0, 2e-4);
    EXPECT_NEAR(sd, 0.02, 5e-4);
    auto [mn, sdn] = stats("blk.0.attn_norm.weight");  // 256 values
    EXPECT_NEAR(mn, 1.0, 0.01);
    EXPECT_NEAR(sdn, 0.02, 0.005);
    auto [m2, sd2] = stats("blk.1.ffn_down.weight");
    EXPECT_NEAR(sd2, 0.02, 5e-4);
    // Different tensors are not copies of each other.
    const gguf::TensorInfo* q = f->find_tensor("blk.0.attn_q.weight");
    const gguf::TensorInfo* o = f->find_tensor("blk.0.attn_output.weight");
    EXPECT_NE(std::memcmp(q->data, o->data, q->n_bytes), 0);
}

TEST(Synth, SameBytesForAnyThreadCountAndSeedMatters) {
    const std::string a = file_bytes(synth("det-1", "tiny", "q4_k_m", {"--threads", "1"}));
    const std::string b = file_bytes(synth("det-2", "tiny", "q4_k_m", {"--threads", "2"}));
    const std::string c = file_bytes(synth("det-seed", "tiny", "q4_k_m", {"--seed", "7"}));
    EXPECT_FALSE(a.empty());
    EXPECT_EQ(a, b);
    EXPECT_EQ(a.size(), c.size());
    EXPECT_NE(a, c);
}

TEST(Synth, UserErrorsAreOneLineAndLeaveNoFile) {
    const fs::path out = bench_scratch() / "err.gguf";
    expect_one_line_error(run_r1({"synth", "--preset", "nope", "--type", "q8_0", "-o", out.string()}), "nope");
    expect_one_line_error(run_r1({"synth", "--preset", "tiny", "--type", "q3_x", "-o", out.string()}), "q3_x");
    expect_one_line_error(run_r1({"synth", "--preset", "tiny", "--type", "q8_0", "-o", out.string(), "--tokenizer",
                                  (bench_scratch() / "no-such-dir").string()}),
                          "no-such-dir");
    // A tokenizer larger than the vocabulary: the fixture tokenizer has 1030 > 1000 (tiny-llama).
    expect_one_line_error(run_r1({"synth", "--preset", "tiny-llama", "--type", "q8_0", "-o", out.string(),
                                  "--tokenizer", (fs::path(R1_FIXTURES) / "models" / "tiny-r1-qwen2").string()}),
                          "1030");
    EXPECT_FALSE(fs::exists(out));
    EXPECT_FALSE(fs::exists(out.string() + ".tmp"));
    expect_one_line_error(run_r1({"synth", "--type", "q8_0", "-o", out.string()}), "preset");
    // An existing file is kept unless --force.
    const fs::path keep = synth("keep", "tiny", "q8_0");
    const std::string before = file_bytes(keep);
    expect_one_line_error(run_r1({"synth", "--preset", "tiny", "--type", "f16", "-o", keep.string()}), "exists");
    EXPECT_EQ(file_bytes(keep), before);
}

}  // namespace
}  // namespace r1::test
