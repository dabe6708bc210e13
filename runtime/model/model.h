// A loaded model as the rest of the runtime sees it: hyper-parameters, the GGUF file it maps,
// the placement of its layers on backends, and forward() over a batch of tokens into a
// per-sequence Context (KV cache + scratch). Families (runtime/models/) implement it; nothing
// here knows one.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "backends/backend.h"
#include "runtime/gguf/gguf.h"
#include "runtime/model/kv_cache.h"
#include "runtime/model/placement.h"

namespace r1 {

struct ModelInfo {
    std::string arch;         // general.architecture
    std::string name;         // general.name, or the file name
    int32_t n_vocab = 0;      // rows of the output projection (may exceed the tokenizer's size)
    int32_t n_ctx_train = 0;  // <arch>.context_length
    int32_t n_embd = 0;
    int32_t n_layer = 0;
    int32_t n_head = 0;
    int32_t n_head_kv = 0;
    int32_t head_dim = 0;
    uint64_t n_params = 0;
    uint64_t n_bytes = 0;  // tensor bytes in the file
};

struct ContextOptions {
    int32_t n_ctx = 0;                 // positions in the KV cache; <= 0: min(n_ctx_train, 4096)
    GgmlType kv_type = GgmlType::F16;  // F16 or F32
    int32_t n_batch = 256;             // most tokens evaluated in one pass (longer inputs are split)
};

// Memory carved into tensors on one backend (activations, tables); freed with the owner.
class Scratch {
public:
    Scratch(Backend& backend, size_t n_bytes) : backend_(backend), buffer_(backend.alloc(n_bytes)) {}
    ~Scratch() { backend_.free(buffer_); }
    Scratch(const Scratch&) = delete;
    Scratch& operator=(const Scratch&) = delete;
    // The next contiguous tensor (64-byte aligned); R1_CHECK-fails past the end.
    Tensor take(GgmlType type, std::initializer_list<int64_t> ne);
    // Bytes take() needs for such a tensor, alignment included.
    static size_t bytes_for(GgmlType type, std::initializer_list<int64_t> ne);

private:
    Backend& backend_;
    Buffer buffer_;
    size_t used_ = 0;
};

// What a family keeps per context besides the KV cache (activations, RoPE tables).
struct ContextState {
    virtual ~ContextState() = default;
};

// Per-sequence state: the KV cache and the token ids it holds (position i holds tokens[i]).
class Context {
public:
    Context(KvCache kv, int32_t n_batch, std::unique_ptr<ContextState> state)
        : kv_(std::move(kv)), n_batch_(n_batch), state_(std::move(state)) {}
    Context(const Context&) = delete;
    Context& operator=(const Context&) = delete;

    int32_t n_ctx() const { return kv_.n_ctx(); }
    int32_t n_past() const { return int32_t(tokens_.size()); }
    int32_t n_batch() const { return n_batch_; }
    const std::vector<int32_t>& tokens() const { return tokens_; }
    // Forgets positions >= n (keeps the first n cached tokens); n <= n_past.
    void truncate(int32_t n);
    void clear() { truncate(0); }

    KvCache& kv() { return kv_; }
    ContextState& state() { return *state_; }
    std::vector<int32_t>& mutable_tokens() { return tokens_; }

private:
    KvCache kv_;
    int32_t n_batch_;
    std::unique_ptr<ContextState> state_;
    std::vector<int32_t> tokens_;
};

enum class Logits { Last, All, None };  // None: the pass only fills the KV cache

class Model {
public:
    virtual ~Model() = default;

    const ModelInfo& info() const { return info_; }
    const gguf::File& file() const { return *file_; }
    // The named backend (the device, or the CPU), and where each layer runs.
    Backend& backend() { return placement_.primary(); }
    const Placement& placement() const { return placement_; }
    // Waits for every backend the model runs on.
    void sync() { placement_.sync(); }

    // A fresh context; throws r1::Error if n_ctx is out of range or memory runs out.
    virtual std::unique_ptr<Context> new_context(const ContextOptions& options) = 0;

    // Evaluates `tokens` at positions ctx.n_past() ... and appends them to the context.
    // logits: (1, n_vocab) for Logits::Last, (tokens.size(), n_vocab) for Logits::All, unused
    // (may be empty) for Logits::None.
    // Token ids and the context's room are checked here (r1::Error), not in the kernels.
    // The first call that passes the checks prints the placement's load line on stderr (not
    // load time: a request refused for bad input prints only its one error line).
    void forward(Context& ctx, std::span<const int32_t> tokens, Logits mode, std::span<float> logits);

protected:
    Model(std::unique_ptr<gguf::File> file, Placement placement)
        : file_(std::move(file)), placement_(std::move(placement)) {}
    // One pass over at most ctx.n_batch() tokens at positions pos0 ...; logits as forward().
    virtual void forward_batch(Context& ctx, std::span<const int32_t> tokens, int32_t pos0, Logits mode,
                               float* logits) = 0;

    ModelInfo info_;
    std::unique_ptr<gguf::File> file_;
    Placement placement_;
    bool announced_ = false;  // the load line is printed
};

}  // namespace r1
