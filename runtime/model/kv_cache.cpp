// KvCache: one K and one V buffer per layer on the backend.
#include "runtime/model/kv_cache.h"

#include "core/checked.h"
#include "core/error.h"

namespace r1 {

KvCache::KvCache(Backend& backend, const Shape& shape) : backend_(&backend), shape_(shape) {
    if (shape.type != GgmlType::F16 && shape.type != GgmlType::F32)
        fail("KV cache type {}: only f16 and f32 are supported", type_traits(shape.type).name);
    const uint64_t elem = shape.type == GgmlType::F16 ? 2 : 4;
    uint64_t per_layer = 0;
    if (!checked_mul<uint64_t>(uint64_t(shape.n_ctx), uint64_t(shape.n_head_kv), &per_layer) ||
        !checked_mul<uint64_t>(per_layer, uint64_t(shape.head_dim), &per_layer) ||
        !checked_mul<uint64_t>(per_layer, elem, &per_layer) || per_layer > (uint64_t(1) << 40))
        fail("KV cache of {} positions is too large", shape.n_ctx);
    try {
        for (int32_t il = 0; il < shape.n_layer; ++il) {
            k_.push_back(backend.alloc(per_layer));
            v_.push_back(backend.alloc(per_layer));
        }
    } catch (...) {
        for (auto& b : k_) backend.free(b);
        for (auto& b : v_) backend.free(b);
        throw;
    }
}

KvCache::KvCache(KvCache&& o) noexcept
    : backend_(o.backend_), shape_(o.shape_), k_(std::move(o.k_)), v_(std::move(o.v_)) {
    o.k_.clear();
    o.v_.clear();
}

KvCache::~KvCache() {
    for (auto& b : k_) backend_->free(b);
    for (auto& b : v_) backend_->free(b);
}

uint64_t KvCache::n_bytes() const {
    uint64_t n = 0;
    for (const auto& b : k_) n += b.n_bytes;
    for (const auto& b : v_) n += b.n_bytes;
    return n;
}

KvLayerView KvCache::layer(int32_t il) const {
    return {.k = k_[size_t(il)].data, .v = v_[size_t(il)].data, .type = shape_.type, .n_ctx = shape_.n_ctx};
}

}  // namespace r1
