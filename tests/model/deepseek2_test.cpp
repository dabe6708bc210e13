// deepseek2 beyond the shared golden tests (issue 14). Files in the older layout: attn_kv_b
// instead of attn_k_b / attn_v_b and the legacy key/value lengths (no *_mla keys), as
// converters before the MLA split wrote them, made here from `r1 convert`'s tiny-r1-moe file
// by undoing the split (GGUF.md §3.5); the runtime splits it again at load and must still
// match the goldens. And the quantized files' weights run with float activations.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <unistd.h>

#include "quant/codecs.h"
#include "runtime/gguf/gguf.h"
#include "runtime/models/models.h"
#include "tests/cli/run_r1.h"
#include "tests/model/goldens.h"

namespace r1::test {
namespace {

// attn_kv_b {kv_lora, n_head·(nope + v_dim)} per layer: head h's rows are k_b[h] transposed
// (nope rows) then v_b[h] (v_dim rows). F32 and F16 files only (elements moved, not recoded).
std::filesystem::path legacy_copy(const std::filesystem::path& src, const std::string& tag) {
    auto f = gguf::File::open(src);
    const auto dst = src.parent_path() / ("legacy-kv_b-" + tag + ".gguf");
    const int64_t n_head = f->get_int("deepseek2.attention.head_count");
    const int64_t qk = f->get_int("deepseek2.attention.key_length_mla");
    const int64_t v_dim = f->get_int("deepseek2.attention.value_length_mla");
    gguf::Writer w(dst, f->alignment());
    for (const auto& [k, v] : f->metadata()) {
        if (k == "deepseek2.attention.key_length_mla" ||
            k == "deepseek2.attention.value_length_mla")
            continue;
        if (k == "deepseek2.attention.key_length")
            w.set(k, uint32_t(qk));
        else if (k == "deepseek2.attention.value_length")
            w.set(k, uint32_t(v_dim));
        else if (k == "deepseek2.attention.head_count_kv")
            w.set(k, uint32_t(n_head));
        else
            w.set(k, v);
    }
    struct Out {
        std::string name;
        GgmlType type;
        std::vector<int64_t> ne;
        std::vector<uint8_t> bytes;
    };
    std::vector<Out> outs;
    for (const auto& t : f->tensors()) {
        if (t.name.ends_with("attn_v_b.weight")) continue;
        if (!t.name.ends_with("attn_k_b.weight")) {
            outs.push_back({t.name, t.type,
                            std::vector<int64_t>(t.ne.begin(), t.ne.begin() + t.n_dims),
                            std::vector<uint8_t>(t.data, t.data + t.n_bytes)});
            continue;
        }
        const std::string layer =
            t.name.substr(0, t.name.size() - std::string("attn_k_b.weight").size());
        const gguf::TensorInfo* vb = f->find_tensor(layer + "attn_v_b.weight");
        EXPECT_TRUE(vb && vb->type == t.type &&
                    (t.type == GgmlType::F32 || t.type == GgmlType::F16));
        const int64_t nope = t.ne[0], kv_lora = t.ne[1];
        const size_t es = t.type == GgmlType::F32 ? 4 : 2;
        const int64_t rows = n_head * (nope + v_dim);
        std::vector<uint8_t> kv_b(size_t(rows * kv_lora) * es);
        for (int64_t h = 0; h < n_head; ++h) {
            for (int64_t j = 0; j < nope; ++j)
                for (int64_t i = 0; i < kv_lora; ++i)
                    std::memcpy(&kv_b[size_t((h * (nope + v_dim) + j) * kv_lora + i) * es],
                                t.data + size_t((h * kv_lora + i) * nope + j) * es, es);
            std::memcpy(&kv_b[size_t((h * (nope + v_dim) + nope) * kv_lora) * es],
                        vb->data + size_t(h * v_dim * kv_lora) * es, size_t(v_dim * kv_lora) * es);
        }
        outs.push_back({layer + "attn_kv_b.weight", t.type, {kv_lora, rows}, std::move(kv_b)});
    }
    for (const auto& o : outs) w.add_tensor(o.name, o.type, o.ne);
    for (const auto& o : outs) w.write(o.bytes);
    w.finish();
    return dst;
}

std::vector<float> passage_logits(Model& m) {
    const auto ids = golden_prompt("tiny-r1-moe", "passage")["ids"].get<std::vector<int32_t>>();
    auto ctx = m.new_context({.n_ctx = 512, .kv_type = GgmlType::F32});
    std::vector<float> out(ids.size() * size_t(m.info().n_vocab));
    m.forward(*ctx, ids, Logits::All, out);
    return out;
}

TEST(Deepseek2Legacy, KvBOnlyF32FileMatchesGoldens) {
    std::string why;
    const auto base = converted("tiny-r1-moe", "f32", false, &why);
    ASSERT_FALSE(base.empty()) << why;
    const auto path = legacy_copy(base, "f32");
    ASSERT_FALSE(gguf::File::open(path)->find_tensor("blk.0.attn_k_b.weight"));
    auto m = load_model(path, {.name = "cpu", .n_threads = 2});
    const auto ref = read_floats(fixture_dir("tiny-r1-moe") / "goldens" / "passage.all.f32");
    const auto got = passage_logits(*m);
    ASSERT_EQ(got.size(), ref.size());
    double diff = 0, mx = 0;
    for (size_t i = 0; i < ref.size(); ++i) {
        diff = std::max(diff, double(std::fabs(got[i] - ref[i])));
        mx = std::max(mx, double(std::fabs(ref[i])));
    }
    std::printf("attn_kv_b-only f32: max |logit - golden| = %.3g (max |logit| %.3g)\n", diff, mx);
    EXPECT_LE(diff, 1e-4 * mx);
    std::filesystem::remove(path);
}

// F16: k_b is rebuilt in F16 from the same F16 values, so the file sits as close to the
// fixture's F16 reference model as the split file does.
TEST(Deepseek2Legacy, KvBOnlyF16FileNextToF16Reference) {
    std::string why;
    const auto base = converted("tiny-r1-moe", "f16", false, &why);
    ASSERT_FALSE(base.empty()) << why;
    const auto path = legacy_copy(base, "f16");
    auto m = load_model(path, {.name = "cpu", .n_threads = 2});
    const auto ref = read_floats(fixture_dir("tiny-r1-moe") / "goldens" / "passage.all.f16.f32");
    const auto got = passage_logits(*m);
    ASSERT_EQ(got.size(), ref.size());
    const double kl = mean_kl(ref, got, m->info().n_vocab);
    std::printf("attn_kv_b-only f16: mean KL(f16 reference || ours) = %.3g\n", kl);
    EXPECT_LE(kl, 5e-5);
    std::filesystem::remove(path);
}

// The shapes without a golden fixture (no q LoRA with softmax routing and plain RoPE; q LoRA
// with grouped routing and YaRN), from `r1 synth`: one batch, odd batch splits and one token
// at a time through the latent cache give the same logits. Agreement with llama.cpp on these
// files is bench/peers/llama_cpp_logits_check.mjs's (it needs npm).
TEST(Deepseek2Synth, LiteAndFullShapesDecodeIncrementallyAsInBatch) {
    const auto dir = std::filesystem::temp_directory_path() / ("r1-ds2-synth-" + std::to_string(getpid()));
    std::filesystem::create_directories(dir);
    for (const std::string preset : {"tiny-deepseek-lite", "tiny-deepseek"}) {
        SCOPED_TRACE(preset);
        const auto path = dir / (preset + ".gguf");
        const RunResult r = run_r1({"synth", "--preset", preset, "--type", "f32", "-o", path.string(), "-q", "-f"});
        ASSERT_EQ(r.status, 0) << r.err;
        auto m = load_model(path, {.name = "cpu", .n_threads = 2});
        EXPECT_EQ(gguf::File::open(path)->get<uint32_t>("deepseek2.attention.q_lora_rank"),
                  preset == "tiny-deepseek-lite" ? 0u : 128u);
        std::vector<int32_t> ids(40);
        for (size_t i = 0; i < ids.size(); ++i) ids[i] = int32_t((i * 7919 + 13) % 1088);
        const int64_t V = m->info().n_vocab;
        auto run = [&](int32_t n_batch, bool one_by_one) {
            auto ctx = m->new_context({.n_ctx = 64, .kv_type = GgmlType::F32, .n_batch = n_batch});
            std::vector<float> out(ids.size() * size_t(V));
            if (!one_by_one) {
                m->forward(*ctx, ids, Logits::All, out);
                return out;
            }
            for (size_t i = 0; i < ids.size(); ++i)
                m->forward(*ctx, std::span(ids).subspan(i, 1), Logits::Last,
                           std::span(out).subspan(i * size_t(V), size_t(V)));
            return out;
        };
        const auto batch = run(64, false), split = run(7, false), inc = run(64, true);
        double d_split = 0, d_inc = 0, mx = 0;
        for (size_t i = 0; i < batch.size(); ++i) {
            d_split = std::max(d_split, double(std::fabs(split[i] - batch[i])));
            d_inc = std::max(d_inc, double(std::fabs(inc[i] - batch[i])));
            mx = std::max(mx, double(std::fabs(batch[i])));
        }
        EXPECT_GT(mx, 0.0);
        EXPECT_LE(d_split, 1e-4 * mx);
        EXPECT_LE(d_inc, 1e-4 * mx);
    }
    std::filesystem::remove_all(dir);
}

// The --pure quantized files with every weight dequantized to F32 are the fixture's reference
// models of those types (float activations) exactly: converter and model add nothing. The
// quantized files themselves (activations quantized in the matmuls) are model_quant_test's.
TEST(Deepseek2Quant, DequantizedWeightsReproduceReferenceOfType) {
    for (const auto& [type, ref_name] : {std::pair{"q6_k", "q6_k"}, std::pair{"q4_k_m", "q4_k"}}) {
        std::string why;
        const auto path = converted("tiny-r1-moe", type, true, &why);
        ASSERT_FALSE(path.empty()) << why;
        auto f = gguf::File::open(path);
        const auto dq = path.parent_path() / (std::string("dequantized-") + type + ".gguf");
        {
            gguf::Writer w(dq, f->alignment());
            for (const auto& [k, v] : f->metadata()) w.set(k, v);
            for (const auto& t : f->tensors())
                w.add_tensor(t.name, GgmlType::F32, std::span(t.ne.data(), t.n_dims));
            for (const auto& t : f->tensors()) {
                std::vector<float> x(size_t(t.n_elements()));
                const int64_t n = t.ne[0], rows = t.n_elements() / n;
                const size_t rb = size_t(row_bytes(t.type, uint64_t(n)));
                for (int64_t r = 0; r < rows; ++r)
                    codec(t.type)->dequantize_row(t.data + size_t(r) * rb, x.data() + r * n, n);
                w.write(std::span(reinterpret_cast<const uint8_t*>(x.data()),
                                  x.size() * sizeof(float)));
            }
            w.finish();
        }
        auto m = load_model(dq, {.name = "cpu", .n_threads = 2});
        const auto ref = read_floats(fixture_dir("tiny-r1-moe") / "goldens" /
                                     (std::string("passage.all.") + ref_name + ".f32"));
        const auto got = passage_logits(*m);
        ASSERT_EQ(got.size(), ref.size());
        const double kl = mean_kl(ref, got, m->info().n_vocab);
        std::printf("%s weights, f32 activations: mean KL(reference || ours) = %.3g\n", type, kl);
        EXPECT_LE(kl, 1e-9) << type;
        std::filesystem::remove(dq);
    }
}

}  // namespace
}  // namespace r1::test
