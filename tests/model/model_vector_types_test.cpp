// Issue 12 item 1: 1-D tensors (norm weights, biases, rope_freqs) may be stored as F16 or BF16
// in a GGUF. A model whose vectors are F16/BF16 must give the logits of the same file with
// the same values stored as F32. Both files are made here from the converted fixture (f32):
// one with every 1-D tensor rounded to the type and stored in it, one with the rounded values
// stored back as F32. qwen2 has q/k/v biases; llama has llama3 rope_freqs.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>

#include "quant/fp16.h"
#include "runtime/gguf/gguf.h"
#include "runtime/models/models.h"
#include "tests/model/goldens.h"

namespace r1::test {
namespace {

namespace fs = std::filesystem;

// Copies `src` to `dst` with every 1-D F32 tensor rounded to `type` (F16 or BF16); stored in
// that type, or (store_as_f32) as F32 holding the rounded values.
// Returns how many tensors were rewritten.
int round_vectors(const fs::path& src, const fs::path& dst, GgmlType type, bool store_as_f32) {
    auto f = gguf::File::open(src);
    gguf::Writer w(dst, f->alignment());
    for (const auto& [k, v] : f->metadata()) w.set(k, v);
    auto is_vector = [](const gguf::TensorInfo& t) { return t.n_dims == 1 && t.type == GgmlType::F32; };
    for (const auto& t : f->tensors())
        w.add_tensor(t.name, is_vector(t) && !store_as_f32 ? type : t.type, std::span(t.ne.data(), t.n_dims));
    int n = 0;
    for (const auto& t : f->tensors()) {
        if (!is_vector(t)) {
            w.write(std::span(t.data, t.n_bytes));
            continue;
        }
        ++n;
        const int64_t count = t.ne[0];
        std::vector<float> x(static_cast<size_t>(count));
        std::memcpy(x.data(), t.data, x.size() * sizeof(float));
        std::vector<uint16_t> h(x.size());
        for (size_t i = 0; i < x.size(); ++i) {
            h[i] = type == GgmlType::F16 ? fp32_to_fp16(x[i]) : fp32_to_bf16(x[i]);
            x[i] = type == GgmlType::F16 ? fp16_to_fp32(h[i]) : bf16_to_fp32(h[i]);
        }
        if (store_as_f32) w.write(std::span(reinterpret_cast<const uint8_t*>(x.data()), x.size() * sizeof(float)));
        else w.write(std::span(reinterpret_cast<const uint8_t*>(h.data()), h.size() * sizeof(uint16_t)));
    }
    w.finish();
    return n;
}

std::vector<float> passage_logits(const std::string& model, const fs::path& file) {
    auto m = load_model(file, {.name = "cpu", .n_threads = 2});
    const auto ids = golden_prompt(model, "passage")["ids"].get<std::vector<int32_t>>();
    auto ctx = m->new_context({.n_ctx = 512, .kv_type = GgmlType::F32});
    std::vector<float> out(ids.size() * size_t(m->info().n_vocab));
    m->forward(*ctx, ids, Logits::All, out);
    return out;
}

struct VectorCase {
    std::string model;
    GgmlType type;
};

void PrintTo(const VectorCase& c, std::ostream* os) { *os << c.model << " " << type_traits(c.type).name; }

class VectorTypes : public testing::TestWithParam<VectorCase> {};

TEST_P(VectorTypes, SameLogitsAsTheSameValuesInF32) {
    const auto& c = GetParam();
    std::string why;
    const fs::path base = converted(c.model, "f32", false, &why);
    ASSERT_FALSE(base.empty()) << why;
    const std::string tag = c.model + "-" + std::string(type_traits(c.type).name);
    const fs::path narrow = base.parent_path() / ("vectors-" + tag + ".gguf");
    const fs::path wide = base.parent_path() / ("vectors-" + tag + "-as-f32.gguf");
    const int n = round_vectors(base, narrow, c.type, false);
    ASSERT_EQ(round_vectors(base, wide, c.type, true), n);
    ASSERT_GT(n, 0);
    {
        auto g = gguf::File::open(narrow);
        int typed = 0;
        for (const auto& t : g->tensors()) typed += t.n_dims == 1 && t.type == c.type;
        EXPECT_EQ(typed, n) << "the rewritten file does not hold the vectors as " << type_traits(c.type).name;
    }

    const std::vector<float> want = passage_logits(c.model, wide);
    const std::vector<float> got = passage_logits(c.model, narrow);
    ASSERT_EQ(got.size(), want.size());
    size_t bad = 0, first_bad = 0;
    for (size_t i = 0; i < got.size(); ++i)
        if (!std::isfinite(got[i]) || got[i] != want[i]) {
            if (bad++ == 0) first_bad = i;
        }
    EXPECT_EQ(bad, 0u) << bad << " of " << got.size() << " logits differ; first at " << first_bad << ": "
                       << got[first_bad] << " vs " << want[first_bad];
    fs::remove(narrow);
    fs::remove(wide);
}

INSTANTIATE_TEST_SUITE_P(Fixtures, VectorTypes,
                         testing::Values(VectorCase{"tiny-r1-qwen2", GgmlType::F16},
                                         VectorCase{"tiny-r1-qwen2", GgmlType::BF16},
                                         VectorCase{"tiny-r1-llama", GgmlType::F16},
                                         VectorCase{"tiny-r1-llama", GgmlType::BF16}),
                         [](const auto& info) {
                             std::string n = info.param.model.substr(8) + "_" + std::string(type_traits(info.param.type).name);
                             for (char& ch : n)
                                 if (ch == '-') ch = '_';
                             return n;
                         });

}  // namespace
}  // namespace r1::test
