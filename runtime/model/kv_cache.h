// The KV cache of one sequence: per layer, K and V rows (n_ctx, n_head_kv, head_dim) in F16
// (default) or F32, allocated on the model's backend.
#pragma once

#include <cstdint>
#include <vector>

#include "backends/backend.h"

namespace r1 {

class KvCache {
public:
    struct Shape {
        int32_t n_layer = 0;
        int32_t n_ctx = 0;
        int32_t n_head_kv = 0;
        int32_t head_dim = 0;
        GgmlType type = GgmlType::F16;
    };
    // Throws r1::Error for a type other than F16/F32 or when the size overflows / memory runs out.
    KvCache(Backend& backend, const Shape& shape);
    ~KvCache();
    KvCache(KvCache&& o) noexcept;
    KvCache(const KvCache&) = delete;
    KvCache& operator=(const KvCache&) = delete;
    KvCache& operator=(KvCache&&) = delete;

    int32_t n_ctx() const { return shape_.n_ctx; }
    GgmlType type() const { return shape_.type; }
    uint64_t n_bytes() const;  // K and V of every layer
    KvLayerView layer(int32_t il) const;

private:
    Backend* backend_;
    Shape shape_;
    std::vector<Buffer> k_, v_;  // (n_layer)
};

}  // namespace r1
