// HParams (typed, bounded key reads) and the dense families' hyper-parameter rules, each error
// naming the source, the key and what is wrong.
#include "runtime/hparams/hparams.h"

#include <climits>
#include <cmath>

#include "core/error.h"

namespace r1 {
namespace {

constexpr int64_t kMaxLayers = 1024;
constexpr int64_t kMaxDim = int64_t(1) << 20;  // n_embd, n_ff, head dims
constexpr int64_t kMaxHeads = 4096;
constexpr int64_t kMaxVocab = int64_t(1) << 24;
constexpr int64_t kMaxCtx = int64_t(1) << 24;
constexpr int64_t kMaxExperts = 1 << 16;

bool is_integer(gguf::ValueType t) {
    using VT = gguf::ValueType;
    return t == VT::U8 || t == VT::I8 || t == VT::U16 || t == VT::I16 || t == VT::U32 || t == VT::I32 ||
           t == VT::U64 || t == VT::I64;
}

}  // namespace

HParams::HParams(const gguf::File& file, std::string arch)
    : source_(file.source()), find_([&file](std::string_view k) { return file.find(k); }), arch_(std::move(arch)) {}

HParams::HParams(std::string source, Find find, std::string arch, Origin origin)
    : source_(std::move(source)), find_(std::move(find)), arch_(std::move(arch)), origin_(std::move(origin)) {}

std::string HParams::label(std::string_view key) const {
    const std::string k = full(key);
    const std::string from = origin_ ? origin_(k) : std::string();
    return from.empty() ? fmt::format("'{}'", k) : fmt::format("'{}' (from config.json '{}')", k, from);
}

int64_t HParams::as_count(const std::string& key, const gguf::Value& v) const {
    if (v.type() == gguf::ValueType::ARRAY) {
        const auto& a = std::get<gguf::Array>(v.v);
        if (!is_integer(a.elem_type))
            fail("{}: key '{}': expected an integer, got an array of {}", source_, key,
                 gguf::value_type_name(a.elem_type));
        if (int64_t(a.items.size()) != n_layer_)
            fail("{}: key '{}': per-layer array has {} values, block_count is {}", source_, key, a.items.size(),
                 n_layer_);
        int64_t first = 0;
        for (size_t i = 0; i < a.items.size(); ++i) {
            const int64_t x = as_count(key, a.items[i]);
            if (i == 0) first = x;
            else if (x != first) fail("{}: key '{}': different values per layer are not supported", source_, key);
        }
        return first;
    }
    return std::visit(
        [&](const auto& x) -> int64_t {
            using T = std::decay_t<decltype(x)>;
            if constexpr (std::is_integral_v<T> && !std::is_same_v<T, bool>) {
                if constexpr (std::is_same_v<T, uint64_t>)
                    if (x > uint64_t(INT64_MAX)) fail("{}: key '{}': value {} is too large", source_, key, x);
                return int64_t(x);
            } else {
                fail("{}: key '{}': expected an integer, got {}", source_, key, gguf::value_type_name(v.type()));
            }
        },
        v.v);
}

std::optional<int64_t> HParams::count_opt(std::string_view key, int64_t min, int64_t max) const {
    const std::string k = full(key);
    const gguf::Value* v = find_(k);
    if (!v) return std::nullopt;
    const int64_t x = as_count(k, *v);
    if (x < min || x > max) fail("{}: key {} = {} is out of range [{}, {}]", source_, label(key), x, min, max);
    return x;
}

int64_t HParams::count(std::string_view key, int64_t min, int64_t max) const {
    auto x = count_opt(key, min, max);
    if (!x) fail("{}: missing key '{}'", source_, full(key));
    return *x;
}

std::optional<float> HParams::real_opt(std::string_view key, float min, float max) const {
    const std::string k = full(key);
    const gguf::Value* v = find_(k);
    if (!v) return std::nullopt;
    double x;
    if (v->type() == gguf::ValueType::F32) x = std::get<float>(v->v);
    else if (v->type() == gguf::ValueType::F64) x = std::get<double>(v->v);
    else fail("{}: key '{}': expected a float, got {}", source_, k, gguf::value_type_name(v->type()));
    if (!std::isfinite(x) || x < min || x > max)
        fail("{}: key {} = {} is out of range [{}, {}]", source_, label(key), x, min, max);
    return float(x);
}

float HParams::real(std::string_view key, float min, float max) const {
    auto x = real_opt(key, min, max);
    if (!x) fail("{}: missing key '{}'", source_, full(key));
    return *x;
}

std::optional<std::string> HParams::string_opt(std::string_view key) const {
    const std::string k = full(key);
    const gguf::Value* v = find_(k);
    if (!v) return std::nullopt;
    if (v->type() != gguf::ValueType::STRING)
        fail("{}: key '{}': expected a string, got {}", source_, k, gguf::value_type_name(v->type()));
    return std::get<std::string>(v->v);
}

std::optional<bool> HParams::flag_opt(std::string_view key) const {
    const std::string k = full(key);
    const gguf::Value* v = find_(k);
    if (!v) return std::nullopt;
    if (v->type() != gguf::ValueType::BOOL)
        fail("{}: key '{}': expected a bool, got {}", source_, k, gguf::value_type_name(v->type()));
    return std::get<bool>(v->v);
}

DenseParams read_dense_params(HParams hp) {
    DenseParams c;
    const std::string& src = hp.source();
    c.n_layer = int32_t(hp.count("block_count", 1, kMaxLayers));
    hp.set_n_layer(c.n_layer);
    c.n_embd = int32_t(hp.count("embedding_length", 1, kMaxDim));
    c.n_ff = int32_t(hp.count("feed_forward_length", 1, kMaxDim));
    c.n_head = int32_t(hp.count("attention.head_count", 1, kMaxHeads));
    c.n_head_kv = int32_t(hp.count_opt("attention.head_count_kv", 1, kMaxHeads).value_or(c.n_head));
    c.n_ctx_train = int32_t(hp.count("context_length", 1, kMaxCtx));
    if (c.n_head % c.n_head_kv != 0)
        fail("{}: {} = {} is not a multiple of {} = {}", src, hp.label("attention.head_count"), c.n_head,
             hp.label("attention.head_count_kv"), c.n_head_kv);
    if (auto kl = hp.count_opt("attention.key_length", 1, kMaxDim)) {
        c.head_dim = int32_t(*kl);
    } else {
        if (c.n_embd % c.n_head != 0)
            fail("{}: {} = {} is not a multiple of {} = {}", src, hp.label("embedding_length"), c.n_embd,
                 hp.label("attention.head_count"), c.n_head);
        c.head_dim = c.n_embd / c.n_head;
    }
    if (auto vl = hp.count_opt("attention.value_length", 1, kMaxDim); vl && *vl != c.head_dim)
        fail("{}: {} = {} differs from the key length {}", src, hp.label("attention.value_length"), *vl, c.head_dim);
    c.n_rot = int32_t(hp.count_opt("rope.dimension_count", 2, c.head_dim).value_or(c.head_dim));
    if (c.n_rot % 2 != 0) fail("{}: {} = {} must be even", src, hp.label("rope.dimension_count"), c.n_rot);
    c.rope_base = hp.real_opt("rope.freq_base", 1.0f, 1e12f).value_or(10000.0f);
    c.rms_eps = hp.real("attention.layer_norm_rms_epsilon", 0.0f, 1.0f);
    if (auto st = hp.string_opt("rope.scaling.type"); st && *st != "none")
        fail("{}: {} = '{}' is not supported for {}", src, hp.label("rope.scaling.type"), *st, hp.arch());
    c.n_vocab = hp.count_opt("vocab_size", 1, kMaxVocab);
    return c;
}

Deepseek2Params read_deepseek2_params(HParams hp) {
    const std::string& src = hp.source();
    Deepseek2Params c;
    c.n_layer = int32_t(hp.count("block_count", 1, kMaxLayers));
    hp.set_n_layer(c.n_layer);
    c.n_embd = int32_t(hp.count("embedding_length", 1, kMaxDim));
    c.n_head = int32_t(hp.count("attention.head_count", 1, kMaxHeads));
    c.n_ctx_train = int32_t(hp.count("context_length", 1, kMaxCtx));
    c.rms_eps = hp.real("attention.layer_norm_rms_epsilon", 0.0f, 1.0f);
    c.q_lora = int32_t(hp.count_opt("attention.q_lora_rank", 0, kMaxDim).value_or(0));
    c.kv_lora = int32_t(hp.count("attention.kv_lora_rank", 1, kMaxDim));
    c.n_rot = int32_t(hp.count("rope.dimension_count", 2, kMaxDim));
    if (c.n_rot % 2 != 0) fail("{}: {} = {} must be even", src, hp.label("rope.dimension_count"), c.n_rot);

    // Key/value widths per head: the *_mla keys when the file is in MLA form (key_length is then
    // the cache row kv_lora + n_rot), else the legacy key_length / value_length.
    const int64_t n_head_kv = hp.count_opt("attention.head_count_kv", 1, kMaxHeads).value_or(c.n_head);
    const int64_t key_len = hp.count("attention.key_length", 1, kMaxDim);
    const int64_t value_len = hp.count("attention.value_length", 1, kMaxDim);
    const auto key_mla = hp.count_opt("attention.key_length_mla", 1, kMaxDim);
    const auto value_mla = hp.count_opt("attention.value_length_mla", 1, kMaxDim);
    if (key_mla.has_value() != value_mla.has_value())
        fail("{}: {} and {} must be given together", src, hp.label("attention.key_length_mla"),
             hp.label("attention.value_length_mla"));
    c.qk_dim = int32_t(key_mla ? *key_mla : key_len);
    c.v_dim = int32_t(value_mla ? *value_mla : value_len);
    if (c.n_rot >= c.qk_dim)
        fail("{}: {} = {} leaves no non-rotated part of the key length {}", src, hp.label("rope.dimension_count"),
             c.n_rot, c.qk_dim);
    if (key_mla && (key_len != int64_t(c.kv_lora) + c.n_rot || value_len != c.kv_lora || n_head_kv != 1))
        fail("{}: MLA form needs {} = kv_lora_rank + rope dims = {}, {} = kv_lora_rank = {} and {} = 1; got {}, {}, {}",
             src, hp.label("attention.key_length"), int64_t(c.kv_lora) + c.n_rot, hp.label("attention.value_length"),
             c.kv_lora, hp.label("attention.head_count_kv"), key_len, value_len, n_head_kv);

    c.rope_base = hp.real_opt("rope.freq_base", 1.0f, 1e12f).value_or(10000.0f);
    const auto scaling = hp.string_opt("rope.scaling.type");
    if (scaling && *scaling == "yarn") {
        c.yarn = true;
        c.yarn_factor = hp.real("rope.scaling.factor", 1.0f, 1e6f);
        c.yarn_orig_ctx = int32_t(hp.count("rope.scaling.original_context_length", 1, kMaxCtx));
        c.yarn_beta_fast = hp.real_opt("rope.scaling.yarn_beta_fast", 0.0f, 1e6f).value_or(32.0f);
        c.yarn_beta_slow = hp.real_opt("rope.scaling.yarn_beta_slow", 0.0f, 1e6f).value_or(1.0f);
        c.yarn_log_mul = hp.real_opt("rope.scaling.yarn_log_multiplier", 0.0f, 100.0f).value_or(0.0f);
    } else if (scaling && *scaling != "none") {
        fail("{}: {} = '{}' is not supported for deepseek2 (yarn, none)", src, hp.label("rope.scaling.type"),
             *scaling);
    }

    // FFN: the first leading_dense_block_count layers dense, the others MoE.
    c.n_expert = int32_t(hp.count_opt("expert_count", 0, kMaxExperts).value_or(0));
    c.n_dense_lead = int32_t(hp.count_opt("leading_dense_block_count", 0, c.n_layer).value_or(0));
    if (c.n_expert == 0 || c.n_dense_lead > 0) c.n_ff = int32_t(hp.count("feed_forward_length", 1, kMaxDim));
    if (c.n_expert > 0) {
        c.n_used = int32_t(hp.count("expert_used_count", 1, kMaxExperts));
        if (c.n_used > c.n_expert)
            fail("{}: {} = {} exceeds {} = {}", src, hp.label("expert_used_count"), c.n_used,
                 hp.label("expert_count"), c.n_expert);
        c.n_ff_exp = int32_t(hp.count("expert_feed_forward_length", 1, kMaxDim));
        c.n_shared = int32_t(hp.count_opt("expert_shared_count", 0, kMaxExperts).value_or(0));
        c.expert_weights_scale = hp.real_opt("expert_weights_scale", 0.0f, 1e6f).value_or(1.0f);
        c.expert_weights_norm = hp.flag_opt("expert_weights_norm").value_or(false);
        if (const auto g = hp.count_opt("expert_gating_func", 0, 1 << 16)) {
            if (*g != 1 && *g != 2)
                fail("{}: {} = {} is not supported (1 softmax, 2 sigmoid)", src, hp.label("expert_gating_func"), *g);
            c.gating = int32_t(*g);
        }
        c.n_group = int32_t(hp.count_opt("expert_group_count", 1, kMaxExperts).value_or(1));
        c.n_group_used = int32_t(hp.count_opt("expert_group_used_count", 1, kMaxExperts).value_or(c.n_group));
        if (c.n_expert % c.n_group != 0)
            fail("{}: {} = {} does not divide {} = {}", src, hp.label("expert_group_count"), c.n_group,
                 hp.label("expert_count"), c.n_expert);
        if (c.n_group_used > c.n_group)
            fail("{}: {} = {} exceeds {} = {}", src, hp.label("expert_group_used_count"), c.n_group_used,
                 hp.label("expert_group_count"), c.n_group);
        if (int64_t(c.n_used) > int64_t(c.n_group_used) * (c.n_expert / c.n_group))
            fail("{}: {} = {} exceeds the {} experts of the {} groups used", src, hp.label("expert_used_count"),
                 c.n_used, c.n_group_used * (c.n_expert / c.n_group), c.n_group_used);
    }
    c.n_vocab = hp.count_opt("vocab_size", 1, kMaxVocab);
    return c;
}

void check_hparams(const HParams& hp) {
    if (hp.arch() == "llama" || hp.arch() == "qwen2") read_dense_params(hp);
    else if (hp.arch() == "deepseek2") read_deepseek2_params(hp);
}

}  // namespace r1
