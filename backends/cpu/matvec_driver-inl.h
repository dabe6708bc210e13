// The row loop shared by every matvec kernel. A kernel K supplies W, A, kBlock and
// float Row(const W* row, const A* x, int64_t n_blocks). One row at a time: on AVX2 this
// measured faster than four rows sharing activation loads (209 vs 359 µs CPU for Q4_0
// 1536x1536: the four-row form spilled registers), and SVE vectors cannot live in arrays.
#if defined(R1_BACKENDS_CPU_MATVEC_DRIVER_INL_H_) == defined(HWY_TARGET_TOGGLE)
#ifdef R1_BACKENDS_CPU_MATVEC_DRIVER_INL_H_
#undef R1_BACKENDS_CPU_MATVEC_DRIVER_INL_H_
#else
#define R1_BACKENDS_CPU_MATVEC_DRIVER_INL_H_
#endif

#include <hwy/highway.h>

#include "backends/cpu/kernels.h"

HWY_BEFORE_NAMESPACE();
namespace r1::cpu::HWY_NAMESPACE {

template <class K>
HWY_INLINE void MatvecDriver(const MatvecArgs& a) {
    using W = typename K::W;
    const int64_t nb = a.n_in / K::kBlock;
    const auto* base = static_cast<const uint8_t*>(a.w);
    const auto* x = static_cast<const typename K::A*>(a.x);
    const size_t row_bytes = static_cast<size_t>(nb) * sizeof(W);
    auto row = [&](int64_t r) { return reinterpret_cast<const W*>(base + static_cast<size_t>(r) * row_bytes); };
    for (int64_t r = 0; r < a.n_out; ++r) a.y[r] = K::Row(row(r), x, nb);
}

}  // namespace r1::cpu::HWY_NAMESPACE
HWY_AFTER_NAMESPACE();

#endif  // R1_BACKENDS_CPU_MATVEC_DRIVER_INL_H_
