// What a conversion writes: the GGUF metadata and, for every output tensor, its name, shape,
// type and a producer that fills any range of its rows as float32 from the checkpoint.
// The per-architecture mappings (GGUF.md §3) build a Plan; convert.cpp streams it.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "convert/checkpoint.h"
#include "quant/types.h"
#include "runtime/gguf/gguf.h"

namespace r1::convert {

struct OutTensor {
    std::string name;             // GGUF name, e.g. "blk.3.attn_q.weight"
    std::vector<int64_t> ne;      // ggml order: ne[0] is the row length
    GgmlType type = GgmlType::F32;
    int layer = -1;               // block index, -1 outside blocks
    // Fills rows [r0, r0 + n) of the tensor seen as (n_rows(), ne[0]) float32 values.
    std::function<void(int64_t r0, int64_t n, float* dst)> produce;
    int64_t row_align = 1;        // produce() is called on row ranges starting at multiples of this
    uint64_t source_bytes = 0;    // checkpoint bytes read to produce it (progress)

    int64_t n_rows() const {
        int64_t r = 1;
        for (size_t d = 1; d < ne.size(); ++d) r *= ne[d];
        return r;
    }
    int64_t n_elements() const { return n_rows() * ne[0]; }
};

struct Plan {
    std::string arch;                                        // general.architecture
    std::vector<std::pair<std::string, gguf::Value>> metadata;  // arch keys (not general.*, tokenizer.*)
    std::vector<OutTensor> tensors;                          // in file order
    int64_t n_vocab = 0;                                     // embedding rows (vocab_size)
    int64_t n_layer = 0;
    int64_t n_expert = 0;                                    // routed experts, 0 for dense
    std::map<std::string, std::string> origin;               // metadata key -> config.json field

    void set(std::string key, gguf::Value v, std::string from = {}) {
        if (!from.empty()) origin[key] = std::move(from);
        metadata.emplace_back(std::move(key), std::move(v));
    }
};

// Applies the runtime's hyper-parameter rules (runtime/hparams) to the plan's metadata, so no
// file is written that `r1 run` refuses; errors name `source` and the config.json field.
void check_hparams(const Plan& p, const std::string& source);

// Builds the plan for the checkpoint's config.json model_type (qwen2, llama, deepseek_v3,
// deepseek_v2). Every config field is checked against the tensor shapes here, before any
// byte is written; unknown checkpoint tensors are an error.
Plan build_plan(const Checkpoint& ck);

// Per-architecture builders (arch_*.cpp).
Plan build_plan_dense(const Checkpoint& ck, const std::string& model_type);

// The hyper-parameters of a dense (qwen2, llama) config.json, checked; shared with `r1 synth`.
struct DenseHParams {
    bool llama = false;  // model_type "llama" (Q/K permutation, optional bias) vs "qwen2"
    int64_t n_embd = 0, n_layer = 0, n_head = 0, n_head_kv = 0, head_dim = 0, n_ff = 0, n_vocab = 0, n_ctx = 0;
    bool explicit_head_dim = false;  // config.json has head_dim (key/value_length keys written)
    double theta = 10000.0, eps = 1e-6;
    bool tied = false, qkv_bias = false;
};
DenseHParams dense_hparams(const nlohmann::json& config, const std::string& model_type);
// The "<arch>." metadata keys of GGUF.md §3.3/§3.4 (p.arch set) and, for llama3 rope scaling,
// the rope_freqs.weight tensor; sets p.n_vocab and p.n_layer.
void add_dense_metadata(Plan& p, const nlohmann::json& config, const DenseHParams& h);
Plan build_plan_deepseek(const Checkpoint& ck);

// The hyper-parameters of a deepseek_v3 / deepseek_v2 config.json, checked; shared with `r1 synth`.
struct DeepseekHParams {
    bool v3 = false;  // model_type deepseek_v3 (sigmoid routing with a selection bias by default)
    int64_t n_embd = 0, n_layer = 0, n_head = 0, n_ff = 0, n_vocab = 0, n_ctx = 0;
    int64_t q_lora = 0, kv_lora = 0, nope = 0, rope = 0, v_dim = 0;  // q_lora 0: attn_q directly
    int64_t n_expert = 0, n_shared = 0, n_used = 0, n_ff_exp = 0, first_dense = 0, moe_freq = 1;
    double theta = 10000.0, eps = 1e-6;
    bool tied = false;
    bool is_moe(int64_t layer) const { return n_expert > 0 && layer >= first_dense && layer % moe_freq == 0; }
};
DeepseekHParams deepseek_hparams(const nlohmann::json& config);
// The "deepseek2." metadata keys of GGUF.md §3.5 (sets p.arch, n_vocab, n_layer, n_expert).
void add_deepseek_metadata(Plan& p, const nlohmann::json& config, const DeepseekHParams& h);

// ---- helpers shared by the builders ----

// Fetches a checkpoint tensor and checks its HF shape (outermost first); `why` names the
// config fields the expected shape comes from.
Source expect_tensor(const Checkpoint& ck, const std::string& name, const std::vector<int64_t>& shape,
                     const std::string& why);
// A tensor copied row for row (shape reversed into ggml order).
OutTensor copy_tensor(std::string gguf_name, const Source& src, int layer);
// Output row r comes from row map(r) of src.
OutTensor mapped_tensor(std::string gguf_name, std::vector<int64_t> ne, const Source& src,
                        std::function<int64_t(int64_t)> map, int layer);
// Layer index parsed from a GGUF name "blk.N.*", -1 otherwise.
int layer_of(const std::string& gguf_name);

}  // namespace r1::convert
