// Quantized conversions. `--pure` files are compared byte for byte (FNV-1a-64 per weight
// matrix) with tests/fixtures/quant/weight_refs.json, made from the HF weights by a numpy port
// of ggml's reference quantizers; the llama Q/K rows are un-permuted here with the documented
// axis swap before hashing. The default mixes are checked against GGUF.md §2.15's rules.
#include <algorithm>
#include <cctype>
#include <regex>

#include "tests/convert/convert_helpers.h"

namespace r1::test {
namespace {

uint64_t fnv1a64(const uint8_t* p, size_t n) {
    uint64_t h = 0xCBF29CE484222325ull;
    for (size_t i = 0; i < n; ++i) h = (h ^ p[i]) * 0x100000001B3ull;
    return h;
}

std::string upper(std::string_view s) {
    std::string u(s);
    std::transform(u.begin(), u.end(), u.begin(), [](unsigned char c) { return std::toupper(c); });
    return u;
}

struct Location {
    std::string gguf;
    int64_t expert = -1;  // slice of a stacked ffn_*_exps tensor
};

// HF weight (+ kv_b part) -> where GGUF.md §3 puts it; written here independently of convert/.
Location locate(const std::string& hf, const std::string& part) {
    if (hf == "model.embed_tokens.weight") return {"token_embd.weight"};
    if (hf == "lm_head.weight") return {"output.weight"};
    std::smatch m;
    static const std::regex layer(R"(model\.layers\.(\d+)\.(.*)\.weight)");
    if (!std::regex_match(hf, m, layer)) return {};
    const std::string blk = "blk." + m[1].str() + ".", rest = m[2].str();
    static const std::regex expert(R"(mlp\.experts\.(\d+)\.(gate|up|down)_proj)");
    std::smatch e;
    if (std::regex_match(rest, e, expert)) return {blk + "ffn_" + e[2].str() + "_exps.weight", std::stoll(e[1].str())};
    static const std::map<std::string, std::string> names = {
        {"self_attn.q_proj", "attn_q"}, {"self_attn.k_proj", "attn_k"}, {"self_attn.v_proj", "attn_v"},
        {"self_attn.o_proj", "attn_output"}, {"mlp.gate_proj", "ffn_gate"}, {"mlp.up_proj", "ffn_up"},
        {"mlp.down_proj", "ffn_down"}, {"self_attn.q_a_proj", "attn_q_a"}, {"self_attn.q_b_proj", "attn_q_b"},
        {"self_attn.kv_a_proj_with_mqa", "attn_kv_a_mqa"}, {"mlp.shared_experts.gate_proj", "ffn_gate_shexp"},
        {"mlp.shared_experts.up_proj", "ffn_up_shexp"}, {"mlp.shared_experts.down_proj", "ffn_down_shexp"}};
    if (rest == "self_attn.kv_b_proj") return {blk + part + ".weight"};
    auto it = names.find(rest);
    return it == names.end() ? Location{} : Location{blk + it->second + ".weight"};
}

struct PureCase {
    std::string model, mix, ref_type;
};

void PrintTo(const PureCase& c, std::ostream* os) { *os << c.model << " --type " << c.mix << " --pure"; }

class ConvertPure : public ::testing::TestWithParam<PureCase> {};

TEST_P(ConvertPure, BytesMatchTheReferenceQuantizer) {
    const PureCase& pc = GetParam();
    fs::path dir = fixture_model(pc.model);
    nlohmann::json cfg = read_json(dir / "config.json");
    nlohmann::json refs = read_json(fs::path(R1_FIXTURES) / "quant" / "weight_refs.json")["models"][pc.model];
    ASSERT_FALSE(refs.empty());
    auto g = gguf::File::open(convert_model(dir, pc.mix, {"--pure"}));
    std::map<std::string, int64_t> covered;  // GGUF tensor -> bytes matched
    for (const auto& e : refs) {
        const std::string hf = e["tensor"], part = e["part"];
        Location loc = locate(hf, part);
        ASSERT_FALSE(loc.gguf.empty()) << hf;
        const gguf::TensorInfo* t = g->find_tensor(loc.gguf);
        ASSERT_NE(t, nullptr) << loc.gguf;
        const auto& want = e["types"][pc.ref_type];
        EXPECT_EQ(upper(type_traits(t->type).name), want["as"].get<std::string>()) << loc.gguf;
        const int64_t rows = e["rows"], row_length = e["row_length"];
        ASSERT_EQ(t->ne[0], row_length) << loc.gguf;
        const uint64_t rb = row_bytes(t->type, static_cast<uint64_t>(row_length));
        const uint8_t* data = t->data + (loc.expert >= 0 ? static_cast<uint64_t>(loc.expert * rows) * rb : 0);
        ASSERT_LE((loc.expert >= 0 ? loc.expert + 1 : 1) * rows * static_cast<int64_t>(rb), static_cast<int64_t>(t->n_bytes));
        std::vector<uint8_t> bytes(data, data + rows * rb);
        const bool qk = hf.find("q_proj.weight") != std::string::npos || hf.find("k_proj.weight") != std::string::npos;
        if (cfg["model_type"] == "llama" && qk) {
            // GGUF row [h][b][a] holds HF row [h][a][b] (view [n_h, 2, hd/2], axes 1 and 2 swapped).
            const int64_t hd = cfg["head_dim"], half = hd / 2;
            std::vector<uint8_t> hf_order(bytes.size());
            for (int64_t h = 0; h < rows / hd; ++h)
                for (int64_t a = 0; a < 2; ++a)
                    for (int64_t b = 0; b < half; ++b)
                        std::memcpy(hf_order.data() + ((h * 2 + a) * half + b) * rb,
                                    bytes.data() + ((h * half + b) * 2 + a) * rb, rb);
            bytes.swap(hf_order);
        }
        EXPECT_EQ(fmt::format("{:016x}", fnv1a64(bytes.data(), bytes.size())), want["fnv1a64"].get<std::string>())
            << pc.model << " " << hf << " " << part << " as " << loc.gguf;
        covered[loc.gguf] += static_cast<int64_t>(bytes.size());
    }
    // Every non-F32 tensor is a reference matrix, fully covered; everything else stays F32.
    for (const auto& t : g->tensors()) {
        if (covered.count(t.name)) EXPECT_EQ(covered[t.name], static_cast<int64_t>(t.n_bytes)) << t.name;
        else EXPECT_EQ(t.type, GgmlType::F32) << t.name << " is not a reference matrix";
    }
}

std::vector<PureCase> pure_cases() {
    const std::vector<std::pair<std::string, std::string>> mixes = {
        {"q8_0", "Q8_0"}, {"q6_k", "Q6_K"}, {"q5_0", "Q5_0"}, {"q5_1", "Q5_1"}, {"q4_1", "Q4_1"},
        {"q4_0", "Q4_0"}, {"q4_k_m", "Q4_K"}, {"q5_k_m", "Q5_K"}, {"f16", "F16"}, {"bf16", "BF16"}};
    std::vector<PureCase> out;
    for (const char* m : {"tiny-r1-qwen2", "tiny-r1-llama", "tiny-r1-moe"})
        for (const auto& [mix, ref] : mixes) out.push_back({m, mix, ref});
    return out;
}

INSTANTIATE_TEST_SUITE_P(Fixtures, ConvertPure, ::testing::ValuesIn(pure_cases()), [](const auto& info) {
    std::string n = info.param.model.substr(8) + "_" + info.param.mix;
    std::replace(n.begin(), n.end(), '-', '_');
    return n;
});

// llama-quantize's use_more_bits(i, n), from GGUF.md §2.15.
bool more_bits(int64_t i, int64_t n) { return i < n / 8 || i >= 7 * n / 8 || (i - n / 8) % 3 == 2; }

TEST(ConvertMix, Q4KMFollowsTheLlamaQuantizeRules) {
    for (const char* model : {"tiny-r1-qwen2", "tiny-r1-llama", "tiny-r1-moe"}) {
        fs::path dir = fixture_model(model);
        nlohmann::json cfg = read_json(dir / "config.json");
        const int64_t n_layer = cfg["num_hidden_layers"];
        auto g = gguf::File::open(convert_model(dir, "q4_k_m"));
        EXPECT_EQ(g->get<uint32_t>("general.file_type"), 15u);
        int64_t i_attn_v = 0, n_attn_v = 0;
        for (const auto& t : g->tensors()) n_attn_v += t.name.find("attn_v.weight") != std::string::npos;
        const bool has_output = g->find_tensor("output.weight") != nullptr;
        for (const auto& t : g->tensors()) {
            GgmlType want = GgmlType::Q4_K;
            int layer = -1;
            std::sscanf(t.name.c_str(), "blk.%d.", &layer);
            if (t.n_dims == 1 || t.name.find("_norm.weight") != std::string::npos ||
                t.name.find("ffn_gate_inp") != std::string::npos || t.name == "rope_freqs.weight")
                want = GgmlType::F32;
            else if (t.name == "output.weight" || (!has_output && t.name == "token_embd.weight"))
                want = GgmlType::Q6_K;
            else if (t.name.find("attn_v.weight") != std::string::npos)
                want = more_bits(i_attn_v++, n_attn_v) ? GgmlType::Q6_K : GgmlType::Q4_K;
            else if (t.name.find("ffn_down") != std::string::npos)
                want = more_bits(layer, n_layer) ? GgmlType::Q6_K : GgmlType::Q4_K;
            // Rows that are not a multiple of 256: Q4_K -> Q5_0, Q6_K -> Q8_0.
            if (t.ne[0] % 256 != 0 && want == GgmlType::Q4_K) want = GgmlType::Q5_0;
            if (t.ne[0] % 256 != 0 && want == GgmlType::Q6_K) want = GgmlType::Q8_0;
            EXPECT_EQ(type_traits(t.type).name, type_traits(want).name) << model << " " << t.name;
        }
    }
}

TEST(ConvertMix, LegacyMixesBumpOnlyTheOutput) {
    auto g = gguf::File::open(convert_model(fixture_model("tiny-r1-qwen2"), "q4_0"));
    EXPECT_EQ(g->get<uint32_t>("general.file_type"), 2u);
    for (const auto& t : g->tensors()) {
        GgmlType want = t.n_dims == 1 ? GgmlType::F32 : t.name == "output.weight" ? GgmlType::Q6_K : GgmlType::Q4_0;
        EXPECT_EQ(t.type, want) << t.name;
    }
    auto q8 = gguf::File::open(convert_model(fixture_model("tiny-r1-qwen2"), "q8_0"));
    EXPECT_EQ(q8->find_tensor("output.weight")->type, GgmlType::Q8_0);
}

TEST(ConvertMix, QuantizedOutputIsDeterministicAcrossThreads) {
    fs::path dir = fixture_model("tiny-r1-moe");
    fs::path a = convert_model(dir, "q4_k_m", {"--threads", "1"});
    fs::path b = convert_model(dir, "q4_k_m", {"--threads", "4"});
    std::ifstream fa(a, std::ios::binary), fb(b, std::ios::binary);
    std::string sa((std::istreambuf_iterator<char>(fa)), {}), sb((std::istreambuf_iterator<char>(fb)), {});
    EXPECT_FALSE(sa.empty());
    EXPECT_TRUE(sa == sb);
}

}  // namespace
}  // namespace r1::test
