// The row loop shared by every matvec kernel: groups of kRows rows (sharing each activation
// load), then single rows for the remainder. A kernel K supplies W, A, kBlock and
// Rows<R>(const W* const* rows, const A* x, int64_t n_blocks, float* y).
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

constexpr int64_t kRows = 4;

template <class K>
HWY_INLINE void MatvecDriver(const MatvecArgs& a) {
    using W = typename K::W;
    const int64_t nb = a.n_in / K::kBlock;
    const auto* base = static_cast<const uint8_t*>(a.w);
    const auto* x = static_cast<const typename K::A*>(a.x);
    const size_t row_bytes = static_cast<size_t>(nb) * sizeof(W);
    auto row = [&](int64_t r) { return reinterpret_cast<const W*>(base + static_cast<size_t>(r) * row_bytes); };
    int64_t r = 0;
    for (; r + kRows <= a.n_out; r += kRows) {
        const W* rows[kRows];
        for (int64_t i = 0; i < kRows; ++i) rows[i] = row(r + i);
        K::template Rows<kRows>(rows, x, nb, a.y + r);
    }
    for (; r < a.n_out; ++r) {
        const W* rows[1] = {row(r)};
        K::template Rows<1>(rows, x, nb, a.y + r);
    }
}

}  // namespace r1::cpu::HWY_NAMESPACE
HWY_AFTER_NAMESPACE();

#endif  // R1_BACKENDS_CPU_MATVEC_DRIVER_INL_H_
