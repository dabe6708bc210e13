// KvCache: one K and (unless V lives in K) one V buffer per layer on the layer's backend.
#include "runtime/model/kv_cache.h"

#include "core/checked.h"
#include "core/error.h"

namespace r1 {
namespace {

uint64_t rows_bytes(const KvCache::Shape& s, int32_t dim) {
    const uint64_t elem = s.type == GgmlType::F16 ? 2 : 4;
    uint64_t n = 0;
    if (!checked_mul<uint64_t>(uint64_t(s.n_ctx), uint64_t(s.n_head_kv), &n) ||
        !checked_mul<uint64_t>(n, uint64_t(dim), &n) || !checked_mul<uint64_t>(n, elem, &n) || n > (uint64_t(1) << 40))
        fail("KV cache of {} positions is too large", s.n_ctx);
    return n;
}

}  // namespace

KvCache::KvCache(const std::vector<Backend*>& layer_backends, const Shape& shape) : shape_(shape) {
    if (shape.type != GgmlType::F16 && shape.type != GgmlType::F32)
        fail("KV cache type {}: only f16 and f32 are supported", type_traits(shape.type).name);
    R1_CHECK(int32_t(layer_backends.size()) == shape.n_layer && (!shape.v_in_k || shape.v_dim <= shape.k_dim));
    const uint64_t k_bytes = rows_bytes(shape, shape.k_dim), v_bytes = rows_bytes(shape, shape.v_dim);
    try {
        for (int32_t il = 0; il < shape.n_layer; ++il) {
            Backend& be = *layer_backends[size_t(il)];
            KvLayer l;
            l.backend = &be;
            owned_.push_back(be.alloc(k_bytes));
            owners_.push_back(&be);
            l.k = make_tensor(owned_.back(), 0, shape.type, {shape.k_dim, shape.n_head_kv, shape.n_ctx});
            if (shape.v_in_k) {
                l.v = l.k.view({shape.v_dim, shape.n_head_kv, shape.n_ctx}, {l.k.nb[1], l.k.nb[2]});
            } else {
                owned_.push_back(be.alloc(v_bytes));
                owners_.push_back(&be);
                l.v = make_tensor(owned_.back(), 0, shape.type, {shape.v_dim, shape.n_head_kv, shape.n_ctx});
            }
            layers_.push_back(l);
        }
    } catch (...) {
        release();
        throw;
    }
}

KvCache::KvCache(KvCache&& o) noexcept
    : shape_(o.shape_), layers_(std::move(o.layers_)), owned_(std::move(o.owned_)), owners_(std::move(o.owners_)) {
    o.owned_.clear();
    o.owners_.clear();
    o.layers_.clear();
}

void KvCache::release() {
    for (size_t i = 0; i < owned_.size(); ++i) owners_[i]->free(owned_[i]);
    owned_.clear();
    owners_.clear();
}

KvCache::~KvCache() { release(); }

uint64_t KvCache::n_bytes() const {
    uint64_t n = 0;
    for (const auto& b : owned_) n += b.n_bytes;
    return n;
}

}  // namespace r1
