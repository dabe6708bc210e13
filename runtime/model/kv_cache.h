// The KV cache of one sequence: per layer, K rows {k_dim, n_head_kv, n_ctx} and V rows
// {v_dim, n_head_kv, n_ctx} in F16 (default) or F32 on the layer's backend. With v_in_k
// (MLA) only K is stored and V is a view of the first v_dim values of each K row.
#pragma once

#include <cstdint>
#include <vector>

#include "backends/backend.h"

namespace r1 {

struct KvLayer {
    Backend* backend = nullptr;
    Tensor k;  // {k_dim, n_head_kv, n_ctx}
    Tensor v;  // {v_dim, n_head_kv, n_ctx}; a view of k with v_in_k
};

class KvCache {
public:
    struct Shape {
        int32_t n_layer = 0;
        int32_t n_ctx = 0;
        int32_t n_head_kv = 0;
        int32_t k_dim = 0;
        int32_t v_dim = 0;
        bool v_in_k = false;
        GgmlType type = GgmlType::F16;
    };
    // layer_backends: (n_layer) where each layer's rows live. Throws r1::Error for a type other
    // than F16/F32 or when the size overflows / memory runs out.
    KvCache(const std::vector<Backend*>& layer_backends, const Shape& shape);
    ~KvCache();
    KvCache(KvCache&& o) noexcept;
    KvCache(const KvCache&) = delete;
    KvCache& operator=(const KvCache&) = delete;
    KvCache& operator=(KvCache&&) = delete;

    int32_t n_ctx() const { return shape_.n_ctx; }
    GgmlType type() const { return shape_.type; }
    uint64_t n_bytes() const;  // K and V of every layer
    const KvLayer& layer(int32_t il) const { return layers_[size_t(il)]; }

private:
    void release();
    Shape shape_;
    std::vector<KvLayer> layers_;  // (n_layer)
    std::vector<Buffer> owned_;    // with layers_[i / 2 or i].backend
    std::vector<Backend*> owners_;
};

}  // namespace r1
