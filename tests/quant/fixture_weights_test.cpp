// The fixture models' weight matrices quantized to every GGUF type must give the same bytes as
// ggml's reference quantizers: tests/fixtures/quant/weight_refs.json holds FNV-1a-64 hashes made
// by the fixtures' numpy port of ggml (tests/quant/make_weight_refs.py), which the fixtures
// compared byte for byte with llama-quantize (Q8_0, Q6_K, Q5_0, Q4_1, Q4_0, Q4_K, F16, BF16;
// Q5_1 and Q5_K come from extensions of that port). The safetensors reader here is test-only.
#include <gtest/gtest.h>

#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <stdexcept>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "quant/codecs.h"
#include "tests/quant/quant_test_util.h"

namespace r1 {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

struct Tensor {
    std::vector<int64_t> shape;
    std::vector<float> data;
};

std::vector<uint8_t> read_file(const fs::path& p) {
    std::ifstream f(p, std::ios::binary);
    if (!f) throw std::runtime_error("cannot open " + p.string());
    return {std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>()};
}

// F32 and BF16 tensors of one .safetensors file, as float32.
void read_safetensors(const fs::path& p, std::map<std::string, Tensor>& out) {
    const std::vector<uint8_t> bytes = read_file(p);
    uint64_t n = 0;
    if (bytes.size() < 8) throw std::runtime_error(p.string() + ": too short");
    std::memcpy(&n, bytes.data(), 8);
    if (n > bytes.size() - 8) throw std::runtime_error(p.string() + ": header length past the end");
    const json header = json::parse(bytes.begin() + 8, bytes.begin() + 8 + static_cast<int64_t>(n));
    const uint8_t* data = bytes.data() + 8 + n;
    const uint64_t data_size = bytes.size() - 8 - n;
    for (const auto& [name, info] : header.items()) {
        if (name == "__metadata__") continue;
        Tensor t;
        t.shape = info.at("shape").get<std::vector<int64_t>>();
        int64_t numel = 1;
        for (int64_t d : t.shape) numel *= d;
        const std::string dtype = info.at("dtype").get<std::string>();
        const uint64_t begin = info.at("data_offsets").at(0).get<uint64_t>();
        const uint64_t end = info.at("data_offsets").at(1).get<uint64_t>();
        const uint64_t elem = dtype == "F32" ? 4 : dtype == "BF16" ? 2 : 0;
        if (elem == 0) throw std::runtime_error(name + ": unsupported dtype " + dtype);
        if (begin > end || end > data_size || end - begin != static_cast<uint64_t>(numel) * elem) {
            throw std::runtime_error(name + ": bad data_offsets");
        }
        t.data.resize(static_cast<size_t>(numel));
        for (int64_t i = 0; i < numel; ++i) {
            const uint8_t* src = data + begin + static_cast<uint64_t>(i) * elem;
            if (elem == 4) {
                std::memcpy(&t.data[i], src, 4);
            } else {
                const uint32_t bits = static_cast<uint32_t>(src[0] | (src[1] << 8)) << 16;
                std::memcpy(&t.data[i], &bits, 4);
            }
        }
        out[name] = std::move(t);
    }
}

// The GGUF rows of one part of a HF weight (see make_weight_refs.py): the whole [out, in]
// matrix, or for kv_b_proj [nh*(nope+vd), rank] the per-head transposed k_nope block
// ("attn_k_b", rows of nope) or the v block ("attn_v_b", rows of rank).
std::vector<float> gguf_rows(const Tensor& w, const std::string& part, const json& cfg) {
    if (part.empty()) return w.data;
    const int64_t nh = cfg.at("num_attention_heads"), nope = cfg.at("qk_nope_head_dim"), vd = cfg.at("v_head_dim");
    const int64_t rank = w.shape.at(1);
    if (w.shape.at(0) != nh * (nope + vd)) throw std::runtime_error("kv_b_proj: unexpected shape");
    std::vector<float> rows;
    rows.reserve(static_cast<size_t>(part == "attn_k_b" ? nh * rank * nope : nh * vd * rank));
    for (int64_t h = 0; h < nh; ++h) {
        const float* head = w.data.data() + h * (nope + vd) * rank;
        if (part == "attn_k_b") {
            for (int64_t r = 0; r < rank; ++r) {
                for (int64_t c = 0; c < nope; ++c) rows.push_back(head[c * rank + r]);
            }
        } else if (part == "attn_v_b") {
            rows.insert(rows.end(), head + nope * rank, head + (nope + vd) * rank);
        } else {
            throw std::runtime_error("unknown part " + part);
        }
    }
    return rows;
}

// llama-quantize's fallback for row lengths that are not a multiple of the block (GGUF.md §2.15).
GgmlType with_fallback(GgmlType t, int64_t row_length) {
    if (row_length % type_traits(t).block_size == 0) return t;
    if (t == GgmlType::Q4_K) return GgmlType::Q5_0;
    if (t == GgmlType::Q6_K) return GgmlType::Q8_0;
    if (t == GgmlType::Q5_K) return GgmlType::Q5_1;
    return GgmlType::F16;
}

std::string hex64(uint64_t v) {
    char buf[17];
    std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(v));
    return buf;
}

class FixtureWeights : public ::testing::TestWithParam<std::string> {};

TEST_P(FixtureWeights, BytesMatchGgmlReference) {
    const std::string model = GetParam();
    const fs::path dir = fs::path(R1_FIXTURES) / "models" / model;
    const json refs = json::parse(read_file(fs::path(R1_FIXTURES) / "quant" / "weight_refs.json"));
    const json cfg = json::parse(read_file(dir / "config.json"));
    std::map<std::string, Tensor> tensors;
    for (const auto& e : fs::directory_iterator(dir)) {
        if (e.path().extension() == ".safetensors") read_safetensors(e.path(), tensors);
    }
    const json& entries = refs.at("models").at(model);
    ASSERT_FALSE(entries.empty());
    int checked = 0;
    for (const json& e : entries) {
        const std::string name = e.at("tensor"), part = e.at("part");
        ASSERT_TRUE(tensors.count(name)) << name;
        const std::vector<float> rows = gguf_rows(tensors.at(name), part, cfg);
        const int64_t n_rows = e.at("rows"), row_length = e.at("row_length");
        ASSERT_EQ(static_cast<int64_t>(rows.size()), n_rows * row_length) << name << " " << part;
        for (const auto& [type_name, want] : e.at("types").items()) {
            const auto requested = type_from_name(type_name);
            const auto actual = type_from_name(want.at("as").get<std::string>());
            ASSERT_TRUE(requested && actual) << type_name;
            EXPECT_EQ(with_fallback(*requested, row_length), *actual) << name << " " << type_name;
            std::vector<uint8_t> out(static_cast<size_t>(n_rows) * row_bytes(*actual, row_length));
            ASSERT_EQ(quantize_rows(*actual, rows.data(), out.data(), n_rows, row_length), out.size());
            EXPECT_EQ(hex64(test::fnv1a64(out)), want.at("fnv1a64").get<std::string>())
                << model << " " << name << (part.empty() ? "" : " (" + part + ")") << " as " << want.at("as");
            ++checked;
        }
    }
    EXPECT_EQ(checked, static_cast<int>(entries.size()) * 10);  // Q8_0 ... Q5_K, F16, BF16
}

INSTANTIATE_TEST_SUITE_P(Quant, FixtureWeights,
                         ::testing::Values("tiny-r1-qwen2", "tiny-r1-llama", "tiny-r1-moe"),
                         [](const auto& info) {
                             std::string s = info.param;
                             for (char& c : s) c = c == '-' ? '_' : c;
                             return s;
                         });

}  // namespace
}  // namespace r1
