// Type mixes: the llama-quantize selection rules of GGUF.md §2.15 for the mixes r1 offers.
#include "convert/type_mix.h"

#include <algorithm>
#include <cctype>

namespace r1::convert {

namespace {

struct MixInfo {
    Mix mix;
    std::string_view name;
    uint32_t file_type;
    GgmlType type;
};

constexpr MixInfo kMixes[] = {
    {Mix::F32, "f32", 0, GgmlType::F32},        {Mix::F16, "f16", 1, GgmlType::F16},
    {Mix::BF16, "bf16", 32, GgmlType::BF16},    {Mix::Q8_0, "q8_0", 7, GgmlType::Q8_0},
    {Mix::Q4_0, "q4_0", 2, GgmlType::Q4_0},     {Mix::Q4_1, "q4_1", 3, GgmlType::Q4_1},
    {Mix::Q5_0, "q5_0", 8, GgmlType::Q5_0},     {Mix::Q5_1, "q5_1", 9, GgmlType::Q5_1},
    {Mix::Q4_K_M, "q4_k_m", 15, GgmlType::Q4_K}, {Mix::Q5_K_M, "q5_k_m", 17, GgmlType::Q5_K},
    {Mix::Q6_K, "q6_k", 18, GgmlType::Q6_K},
};

const MixInfo& info(Mix m) { return kMixes[static_cast<int>(m)]; }

bool contains(std::string_view s, std::string_view part) { return s.find(part) != std::string_view::npos; }

}  // namespace

std::optional<Mix> mix_from_name(std::string_view name) {
    std::string lower(name);
    std::transform(lower.begin(), lower.end(), lower.begin(), [](unsigned char ch) { return std::tolower(ch); });
    for (const auto& m : kMixes)
        if (m.name == lower) return m.mix;
    return std::nullopt;
}

std::string_view mix_name(Mix m) { return info(m).name; }

std::string mix_names() {
    std::string s;
    for (const auto& m : kMixes) s += (s.empty() ? "" : " ") + std::string(m.name);
    return s;
}

uint32_t mix_file_type(Mix m) { return info(m).file_type; }
GgmlType mix_default_type(Mix m) { return info(m).type; }

bool is_quantizable(std::string_view name, int n_dims) {
    if (n_dims < 2) return false;
    if (!name.ends_with("weight")) return false;
    if (contains(name, "_norm.weight")) return false;
    if (contains(name, "ffn_gate_inp.weight")) return false;  // MoE router
    if (contains(name, "rope_freqs")) return false;
    return true;
}

bool use_more_bits(int64_t i, int64_t n) {
    return i < n / 8 || i >= 7 * n / 8 || (i - n / 8) % 3 == 2;
}

GgmlType fallback_type(GgmlType t, int64_t row_length) {
    if (row_length % type_traits(t).block_size == 0) return t;
    switch (t) {
        case GgmlType::Q4_K: t = GgmlType::Q5_0; break;
        case GgmlType::Q5_K: t = GgmlType::Q5_1; break;
        case GgmlType::Q6_K: t = GgmlType::Q8_0; break;
        case GgmlType::Q2_K: case GgmlType::Q3_K: t = GgmlType::Q4_0; break;
        default: break;
    }
    if (row_length % type_traits(t).block_size != 0) t = GgmlType::F16;
    return t;
}

std::vector<GgmlType> choose_types(const std::vector<TypeQuery>& tensors, Mix mix, bool pure,
                                   int64_t n_layer, int64_t n_expert) {
    const GgmlType base = mix_default_type(mix);
    const bool has_output = std::any_of(tensors.begin(), tensors.end(),
                                        [](const TypeQuery& t) { return t.name == "output.weight"; });
    auto attn_v_like = [](std::string_view n) {
        return contains(n, "attn_v.weight") || contains(n, "attn_qkv.weight") || contains(n, "attn_kv_b.weight");
    };
    int64_t n_attn_v = 0, i_attn_v = 0, i_ffn_down = 0;
    for (const auto& t : tensors) n_attn_v += attn_v_like(t.name) ? 1 : 0;

    std::vector<GgmlType> out;
    out.reserve(tensors.size());
    for (const auto& t : tensors) {
        int n_dims = static_cast<int>(t.ne.size());
        while (n_dims > 1 && t.ne[static_cast<size_t>(n_dims) - 1] == 1) --n_dims;
        if (!is_quantizable(t.name, n_dims)) {
            out.push_back(GgmlType::F32);
            continue;
        }
        GgmlType type = base;
        const bool float_mix = mix == Mix::F32 || mix == Mix::F16 || mix == Mix::BF16;
        const bool k_m = mix == Mix::Q4_K_M || mix == Mix::Q5_K_M;
        if (!pure && !float_mix) {
            const bool is_output = t.name == "output.weight" || (!has_output && t.name == "token_embd.weight");
            if (is_output) {
                if (t.ne[0] % 256 != 0) type = GgmlType::Q8_0;
                else if (type != GgmlType::Q8_0) type = GgmlType::Q6_K;
            } else if (attn_v_like(t.name)) {
                if (k_m && use_more_bits(i_attn_v, n_attn_v)) type = GgmlType::Q6_K;
                if (n_expert == 8 && type != GgmlType::Q8_0 && k_m) type = GgmlType::Q8_0;
                ++i_attn_v;
            } else if (contains(t.name, "ffn_down")) {
                // MoE models: the layer comes from the name; dense: the running index.
                int64_t layer = n_expert > 1 && t.layer >= 0 ? t.layer : i_ffn_down;
                if (k_m && use_more_bits(layer, n_layer)) type = GgmlType::Q6_K;
                ++i_ffn_down;
            } else if (contains(t.name, "attn_qkv.weight") && k_m) {
                type = GgmlType::Q5_K;
            }
        }
        out.push_back(fallback_type(type, t.ne[0]));
    }
    return out;
}

}  // namespace r1::convert
