// A model's "<arch>." hyper-parameters read from GGUF metadata, typed and bounded (RELIABILITY.md
// §4.2 M02-M04), and each runnable family's rules over them. One place for both the model
// loader and the converter, so a file `r1 convert` writes is one `r1 run` accepts (issue 12).
// Knows metadata only: tensor shapes are checked by the loader and by the converter's plan.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "runtime/gguf/gguf.h"

namespace r1 {

// Hyper-parameters under "<arch>." with their bounds.
class HParams {
public:
    using Find = std::function<const gguf::Value*(std::string_view key)>;
    // For a GGUF key, where its value came from (a config.json field), or "".
    using Origin = std::function<std::string(std::string_view key)>;

    // Reads a GGUF file's metadata; errors name the file.
    HParams(const gguf::File& file, std::string arch);
    // Reads metadata held elsewhere (a conversion plan); errors name `source` and, where
    // `origin` knows it, what the value was made from.
    HParams(std::string source, Find find, std::string arch, Origin origin = {});

    // Required integer key in [min, max]; an array value must have n_layer equal elements (M04).
    int64_t count(std::string_view key, int64_t min, int64_t max) const;
    std::optional<int64_t> count_opt(std::string_view key, int64_t min, int64_t max) const;
    float real(std::string_view key, float min, float max) const;
    std::optional<float> real_opt(std::string_view key, float min, float max) const;
    std::optional<std::string> string_opt(std::string_view key) const;
    std::optional<bool> flag_opt(std::string_view key) const;
    // Per-layer arrays are checked against this (set once block_count is known).
    void set_n_layer(int64_t n) { n_layer_ = n; }

    const std::string& arch() const { return arch_; }
    const std::string& source() const { return source_; }
    std::string full(std::string_view key) const { return arch_ + "." + std::string(key); }
    // The key as errors name it: 'qwen2.rope.freq_base', plus " (from config.json 'rope_theta')"
    // when the origin is known.
    std::string label(std::string_view key) const;

private:
    int64_t as_count(const std::string& key, const gguf::Value& v) const;
    std::string source_;
    Find find_;
    std::string arch_;
    Origin origin_;
    int64_t n_layer_ = 0;
};

// The hyper-parameters of the dense families (llama, qwen2): DESIGN's vocabulary, every key's
// bounds and the rules between keys.
struct DenseParams {
    int32_t n_embd = 0, n_layer = 0, n_ff = 0;
    int32_t n_head = 0, n_head_kv = 0, head_dim = 0, n_rot = 0, n_ctx_train = 0;
    float rope_base = 10000.0f, rms_eps = 1e-6f;
    std::optional<int64_t> n_vocab;  // <arch>.vocab_size when present (else token_embd's rows)
};
DenseParams read_dense_params(HParams hp);

// The hyper-parameters of deepseek2 (GGUF.md §3.5): MLA widths (the *_mla keys of the MLA form,
// else the legacy key/value lengths), RoPE with optional YaRN, and the MoE routing keys.
struct Deepseek2Params {
    int32_t n_embd = 0, n_layer = 0, n_head = 0, n_ctx_train = 0;
    int32_t q_lora = 0;   // 0: no q LoRA (attn_q)
    int32_t kv_lora = 0;  // c_kv width
    int32_t n_rot = 0;    // qk_rope_head_dim
    int32_t qk_dim = 0;   // key width per head: n_nope + n_rot
    int32_t v_dim = 0;    // v_head_dim
    float rms_eps = 1e-6f, rope_base = 10000.0f;
    bool yarn = false;  // rope.scaling.type yarn (else none)
    float yarn_factor = 1.0f, yarn_beta_fast = 32.0f, yarn_beta_slow = 1.0f, yarn_log_mul = 0.0f;
    int32_t yarn_orig_ctx = 0;
    int32_t n_ff = 0;  // dense layers (0 when every layer is MoE)
    // MoE (n_expert == 0: every layer dense)
    int32_t n_expert = 0, n_dense_lead = 0, n_used = 0, n_ff_exp = 0, n_shared = 0;
    int32_t n_group = 1, n_group_used = 1;
    float expert_weights_scale = 1.0f;
    bool expert_weights_norm = false;
    std::optional<int32_t> gating;  // expert_gating_func: 1 softmax, 2 sigmoid
    std::optional<int64_t> n_vocab;
};
Deepseek2Params read_deepseek2_params(HParams hp);

// Applies the rules of the family that runs hp.arch() (llama, qwen2, deepseek2); no-op for an
// architecture the runtime does not load. Throws r1::Error naming the first key that breaks one.
void check_hparams(const HParams& hp);

}  // namespace r1
