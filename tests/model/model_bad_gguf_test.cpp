// RELIABILITY.md §4.2 M01-M06: GGUF files with one broken hparam key or tensor (made from the
// converted tiny-r1-qwen2 file, or tiny-r1-moe for deepseek2's own keys) are rejected by `r1 run` with exit 1 and one stderr line
// naming the key or tensor, never a crash.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>
#include <functional>
#include <unistd.h>

#include "runtime/gguf/gguf.h"
#include "tests/cli/run_r1.h"
#include "tests/model/goldens.h"

namespace r1::test {
namespace {

using Kv = std::vector<std::pair<std::string, gguf::Value>>;
using Tensors = std::vector<gguf::TensorInfo>;

// Copies `src` to `dst` after `edit` changed its metadata and/or tensor list. Tensors whose
// byte size is unchanged keep their bytes; others get zeros.
void rewrite(const std::filesystem::path& src, const std::filesystem::path& dst,
             const std::function<void(Kv&, Tensors&)>& edit) {
    auto f = gguf::File::open(src);
    Kv kv = f->metadata();
    Tensors ts = f->tensors();
    edit(kv, ts);
    gguf::Writer w(dst, f->alignment());
    for (auto& [k, v] : kv) w.set(k, v);
    for (const auto& t : ts) w.add_tensor(t.name, t.type, std::span(t.ne.data(), t.n_dims));
    for (size_t i = 0; i < ts.size(); ++i) {
        const uint64_t n = w.tensors()[i].n_bytes;
        if (n == 0) continue;
        if (ts[i].data && ts[i].n_bytes == n) {
            w.write(std::span(ts[i].data, n));
        } else {
            std::vector<uint8_t> zeros(n);
            w.write(zeros);
        }
    }
    w.finish();
}

void set_key(Kv& kv, const std::string& key, gguf::Value v) {
    for (auto& [k, x] : kv)
        if (k == key) {
            x = std::move(v);
            return;
        }
    kv.emplace_back(key, std::move(v));
}
void drop_key(Kv& kv, const std::string& key) {
    std::erase_if(kv, [&](const auto& p) { return p.first == key; });
}
gguf::TensorInfo& tensor(Tensors& ts, const std::string& name) {
    auto it = std::find_if(ts.begin(), ts.end(), [&](const auto& t) { return t.name == name; });
    if (it == ts.end()) throw std::runtime_error("no tensor " + name);
    return *it;
}

struct BadCase {
    std::string name;    // test label
    std::string needle;  // what the error line must name
    std::function<void(Kv&, Tensors&)> edit;
    std::string base = "tiny-r1-qwen2";  // the fixture whose f32 conversion is edited
};

class BadGguf : public testing::TestWithParam<BadCase> {};

TEST_P(BadGguf, RunRejectsWithOneLineNamingTheProblem) {
    const auto& c = GetParam();
    std::string why;
    const auto base = converted(c.base, "f32", false, &why);
    ASSERT_FALSE(base.empty()) << why;
    const auto bad = base.parent_path() / ("bad-" + c.name + ".gguf");
    rewrite(base, bad, c.edit);
    const RunResult r = run_r1({"run", "-m", bad.string(), "-p", "hi", "-n", "1"});
    std::printf("%s: %s", c.name.c_str(), r.err.c_str());
    EXPECT_EQ(r.status, 1) << r.err;
    EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
    EXPECT_NE(r.err.find(c.needle), std::string::npos) << "want '" << c.needle << "' in: " << r.err;
    std::filesystem::remove(bad);
}

// The unmodified copies still run, so the failures above come from the one edit.
TEST(BadGgufBase, UnmodifiedRewriteRuns) {
    for (const std::string model : {"tiny-r1-qwen2", "tiny-r1-moe"}) {
        std::string why;
        const auto base = converted(model, "f32", false, &why);
        ASSERT_FALSE(base.empty()) << why;
        const auto copy = base.parent_path() / ("rewritten-ok-" + model + ".gguf");
        rewrite(base, copy, [](Kv&, Tensors&) {});
        const RunResult r = run_r1({"run", "-m", copy.string(), "-p", "hi", "-n", "1"});
        EXPECT_EQ(r.status, 0) << model << ": " << r.err;
        std::filesystem::remove(copy);
    }
}

// M05's other half: an unknown extra tensor is warned about (named on stderr), not fatal.
TEST(BadGgufBase, ExtraTensorIsWarnedAbout) {
    std::string why;
    const auto base = converted("tiny-r1-qwen2", "f32", false, &why);
    ASSERT_FALSE(base.empty()) << why;
    const auto extra = base.parent_path() / "extra-tensor.gguf";
    rewrite(base, extra, [](Kv&, Tensors& ts) {
        auto t = ts.back();
        t.name = "blk.9.attn_q.weight";
        t.data = nullptr;
        ts.push_back(t);
    });
    const RunResult r = run_r1({"run", "-m", extra.string(), "-p", "hi", "-n", "1"});
    EXPECT_EQ(r.status, 0) << r.err;
    EXPECT_NE(r.err.find("blk.9.attn_q.weight"), std::string::npos) << r.err;
    std::filesystem::remove(extra);
}

const std::string kArch = "qwen2";
std::string key(const std::string& k) { return kArch + "." + k; }

INSTANTIATE_TEST_SUITE_P(
    Reliability, BadGguf,
    testing::Values(
        BadCase{"M01_no_arch", "general.architecture", [](Kv& kv, Tensors&) { drop_key(kv, "general.architecture"); }},
        BadCase{"M01_unknown_arch", "nosucharch",
                [](Kv& kv, Tensors&) { set_key(kv, "general.architecture", "nosucharch"); }},
        BadCase{"M02_block_count_string", "block_count",
                [](Kv& kv, Tensors&) { set_key(kv, key("block_count"), "4"); }},
        BadCase{"M02_block_count_float", "block_count",
                [](Kv& kv, Tensors&) { set_key(kv, key("block_count"), 4.0f); }},
        BadCase{"M03_block_count_0", "block_count",
                [](Kv& kv, Tensors&) { set_key(kv, key("block_count"), uint32_t{0}); }},
        BadCase{"M03_block_count_2p31", "block_count",
                [](Kv& kv, Tensors&) { set_key(kv, key("block_count"), uint32_t{1} << 31); }},
        BadCase{"M03_head_count_0", "head_count",
                [](Kv& kv, Tensors&) { set_key(kv, key("attention.head_count"), uint32_t{0}); }},
        BadCase{"M03_embd_not_multiple_of_heads", "embedding_length",
                [](Kv& kv, Tensors&) {
                    drop_key(kv, key("attention.key_length"));
                    drop_key(kv, key("attention.value_length"));
                    set_key(kv, key("attention.head_count"), uint32_t{6});  // 256 % 6 != 0, 6 % 2 == 0
                }},
        BadCase{"M03_heads_not_multiple_of_kv_heads", "head_count_kv",
                [](Kv& kv, Tensors&) { set_key(kv, key("attention.head_count"), uint32_t{3}); }},
        BadCase{"M03_rope_dims_over_head_dim", "rope.dimension_count",
                [](Kv& kv, Tensors&) { set_key(kv, key("rope.dimension_count"), uint32_t{128}); }},
        BadCase{"M03_context_length_0", "context_length",
                [](Kv& kv, Tensors&) { set_key(kv, key("context_length"), uint32_t{0}); }},
        BadCase{"M04_head_count_kv_wrong_length", "head_count_kv",
                [](Kv& kv, Tensors&) {
                    set_key(kv, key("attention.head_count_kv"), gguf::Value::array(std::vector<uint32_t>{2, 2, 2}));
                }},
        BadCase{"M05_missing_attn_q", "blk.0.attn_q.weight",
                [](Kv&, Tensors& ts) {
                    std::erase_if(ts, [](const auto& t) { return t.name == "blk.0.attn_q.weight"; });
                }},
        BadCase{"M06_token_embd_wide", "token_embd.weight",
                [](Kv&, Tensors& ts) { tensor(ts, "token_embd.weight").ne[0] += 1; }},
        BadCase{"M06_attn_k_shape", "blk.1.attn_k.weight",
                [](Kv&, Tensors& ts) { tensor(ts, "blk.1.attn_k.weight").ne[1] -= 32; }},
        BadCase{"M06_zero_element_norm", "blk.0.attn_norm.weight",
                [](Kv&, Tensors& ts) { tensor(ts, "blk.0.attn_norm.weight").ne[0] = 0; }},
        BadCase{"M06_unsupported_norm_type", "blk.2.ffn_norm.weight",
                [](Kv&, Tensors& ts) { tensor(ts, "blk.2.ffn_norm.weight").type = GgmlType::Q8_0; }}),
    [](const auto& info) { return info.param.name; });

// deepseek2 (issue 14): MoE and MLA hyper-parameters that cannot describe a model.
std::string ds(const std::string& k) { return "deepseek2." + k; }

INSTANTIATE_TEST_SUITE_P(
    Deepseek2, BadGguf,
    testing::Values(
        BadCase{"experts_used_over_count", "expert_used_count",
                [](Kv& kv, Tensors&) { set_key(kv, ds("expert_used_count"), uint32_t{17}); }, "tiny-r1-moe"},
        BadCase{"groups_not_dividing_experts", "expert_group_count",
                [](Kv& kv, Tensors&) { set_key(kv, ds("expert_group_count"), uint32_t{3}); }, "tiny-r1-moe"},
        BadCase{"groups_used_over_groups", "expert_group_used_count",
                [](Kv& kv, Tensors&) { set_key(kv, ds("expert_group_used_count"), uint32_t{5}); }, "tiny-r1-moe"},
        BadCase{"kv_lora_rank_0", "kv_lora_rank",
                [](Kv& kv, Tensors&) { set_key(kv, ds("attention.kv_lora_rank"), uint32_t{0}); }, "tiny-r1-moe"},
        BadCase{"no_kv_lora_rank", "kv_lora_rank",
                [](Kv& kv, Tensors&) { drop_key(kv, ds("attention.kv_lora_rank")); }, "tiny-r1-moe"},
        BadCase{"rope_dims_over_key_length", "rope.dimension_count",
                [](Kv& kv, Tensors&) { set_key(kv, ds("rope.dimension_count"), uint32_t{64}); }, "tiny-r1-moe"},
        BadCase{"key_length_not_latent_row", "key_length",
                [](Kv& kv, Tensors&) { set_key(kv, ds("attention.key_length"), uint32_t{48}); }, "tiny-r1-moe"},
        BadCase{"no_gating_func_with_bias", "expert_gating_func",
                [](Kv& kv, Tensors&) { drop_key(kv, ds("expert_gating_func")); }, "tiny-r1-moe"},
        BadCase{"gating_func_unknown", "expert_gating_func",
                [](Kv& kv, Tensors&) { set_key(kv, ds("expert_gating_func"), uint32_t{7}); }, "tiny-r1-moe"},
        BadCase{"rope_scaling_unknown", "rope.scaling.type",
                [](Kv& kv, Tensors&) { set_key(kv, ds("rope.scaling.type"), std::string("longrope")); }, "tiny-r1-moe"},
        BadCase{"missing_up_exps", "blk.2.ffn_up_exps.weight",
                [](Kv&, Tensors& ts) {
                    std::erase_if(ts, [](const auto& t) { return t.name == "blk.2.ffn_up_exps.weight"; });
                },
                "tiny-r1-moe"},
        BadCase{"down_exps_fewer_experts", "blk.1.ffn_down_exps.weight",
                [](Kv&, Tensors& ts) { tensor(ts, "blk.1.ffn_down_exps.weight").ne[2] = 15; }, "tiny-r1-moe"},
        BadCase{"missing_k_b", "blk.0.attn_k_b.weight",
                [](Kv&, Tensors& ts) {
                    std::erase_if(ts, [](const auto& t) { return t.name == "blk.0.attn_k_b.weight"; });
                },
                "tiny-r1-moe"}),
    [](const auto& info) { return info.param.name; });

}  // namespace
}  // namespace r1::test
