// Products for prompt batches on the VNNI types without a load-time layout (Q4_1, Q5_0, Q5_1,
// Q5_K) or weights that were not packed: y (n_tokens, n_out) = x (n_tokens, n_in) · Wᵀ with the
// weights unpacked per call into panels of 16 rows (gemm_x86.h holds the arithmetic).
//
// A per-call panel keeps, per sub-block, S/4 vectors of quants (a 16x4-byte transpose made with
// gathers) and fp32 dw and mw vectors. A panel (<= ~200 KiB) is packed once and used for every
// token of the batch, eight tokens per micro-kernel call: 8 weight vectors x 8 tokens = 64
// vpdpbusd per sub-block against 4 float ops per token.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <vector>

#include "backends/cpu/gemm_x86.h"
#include "quant/blocks.h"

#if R1_GEMM_X86
#include <omp.h>
#endif

namespace r1::cpu {

#if R1_GEMM_X86
namespace vnni {
namespace {

// Bytes of one sub-block of a panel: S/4 weight vectors, then dw and mw (16 floats each).
constexpr size_t sub_bytes(int sub) { return size_t(sub / 4 + 2) * 64; }

// Packs rows r0 .. r0+15 (zeros past n_out) into a panel: the unpacked rows go to `q`, then
// gathers put four quants of every row into each vector.
R1_VNNI void pack_panel(const Format& f, const uint8_t* w, size_t row_bytes, int64_t r0, int64_t n_out, int64_t n_in,
                        uint8_t* q, float* dw, float* mw, uint8_t* panel) {
    const int64_t n_sub = n_in / f.sub;
    unpack_rows(f, w, row_bytes, r0, n_out, n_in, q, dw, mw);
    const __m512i row_off = _mm512_mullo_epi32(_mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15),
                                               _mm512_set1_epi32(int32_t(n_in)));
    const __m512i sub_off = _mm512_mullo_epi32(_mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15),
                                               _mm512_set1_epi32(int32_t(n_sub)));
    const int kq_n = f.sub / 4;
    for (int64_t s = 0; s < n_sub; ++s) {
        uint8_t* p = panel + size_t(s) * sub_bytes(f.sub);
        for (int kq = 0; kq < kq_n; ++kq)
            _mm512_store_si512(p + 64 * kq, _mm512_i32gather_epi32(row_off, q + s * f.sub + 4 * kq, 1));
        _mm512_store_ps(p + 64 * kq_n, _mm512_i32gather_ps(sub_off, dw + s, 4));
        _mm512_store_ps(p + 64 * (kq_n + 1), _mm512_i32gather_ps(sub_off, mw + s, 4));
    }
}

// y rows r0.. (mask) of tokens t0 .. t0+T-1 from one panel.
template <int T, int S>
R1_VNNI void micro(const uint8_t* panel, const Acts& a, int64_t t0, float* y, int64_t n_out, int64_t r0,
                   __mmask16 mask) {
    constexpr int kq_n = S / 4;
    const uint8_t* xr[T];
    const float* da[T];
    const float* sa[T];
    for (int t = 0; t < T; ++t) {
        xr[t] = a.rows + size_t(t0 + t) * a.act_row + offsetof(BlockQ8_0, qs);
        da[t] = a.da + (t0 + t) * a.nb;
        sa[t] = a.sa + (t0 + t) * a.n_sub;
    }
    __m512 acc[T];
    for (int t = 0; t < T; ++t) acc[t] = _mm512_setzero_ps();
    const uint8_t* p = panel;
    for (int64_t s = 0; s < a.n_sub; ++s, p += sub_bytes(S)) {
        // Element s·S + 4·kq lives in block (s·S)/32 at byte (s·S)%32 + 4·kq.
        const size_t x_off = size_t((s * S) / 32) * sizeof(BlockQ8_0) + size_t((s * S) % 32);
        __m512i dot[T];
        for (int t = 0; t < T; ++t) dot[t] = _mm512_setzero_si512();
        for (int kq = 0; kq < kq_n; ++kq) {
            const __m512i wv = _mm512_load_si512(p + 64 * kq);
            for (int t = 0; t < T; ++t) {
                int32_t x4;
                std::memcpy(&x4, xr[t] + x_off + 4 * kq, 4);
                dot[t] = _mm512_dpbusd_epi32(dot[t], wv, _mm512_set1_epi32(x4));
            }
        }
        const __m512 dw = _mm512_load_ps(p + 64 * kq_n);
        const __m512 mw = _mm512_load_ps(p + 64 * (kq_n + 1));
        const int64_t b = (s * S) / 32;
        for (int t = 0; t < T; ++t) {
            acc[t] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(dot[t]), _mm512_mul_ps(dw, _mm512_set1_ps(da[t][b])), acc[t]);
            acc[t] = _mm512_fnmadd_ps(mw, _mm512_set1_ps(sa[t][s]), acc[t]);
        }
    }
    for (int t = 0; t < T; ++t) _mm512_mask_storeu_ps(y + (t0 + t) * n_out + r0, mask, acc[t]);
}

template <int S>
R1_VNNI void micro_any(int n, const uint8_t* panel, const Acts& a, int64_t t0, float* y, int64_t n_out, int64_t r0,
                       __mmask16 mask) {
    switch (n) {
        case 8: return micro<8, S>(panel, a, t0, y, n_out, r0, mask);
        case 7: return micro<7, S>(panel, a, t0, y, n_out, r0, mask);
        case 6: return micro<6, S>(panel, a, t0, y, n_out, r0, mask);
        case 5: return micro<5, S>(panel, a, t0, y, n_out, r0, mask);
        case 4: return micro<4, S>(panel, a, t0, y, n_out, r0, mask);
        case 3: return micro<3, S>(panel, a, t0, y, n_out, r0, mask);
        case 2: return micro<2, S>(panel, a, t0, y, n_out, r0, mask);
        default: return micro<1, S>(panel, a, t0, y, n_out, r0, mask);
    }
}
static_assert(kTile == 8);

}  // namespace
}  // namespace vnni

using namespace vnni;

bool gemm_supported(GgmlType weight, int64_t n_in) {
    const Format* f = find_format(weight);
    return f && n_in > 0 && n_in % f->block == 0 && n_in <= kMaxIn && cpu_has_vnni();
}

void gemm(const GemmArgs& g, int n_threads) {
    const Format& f = *find_format(g.type);
    ActBuffers buf;
    quantize_acts(g.x, g.n_tokens, g.n_in, f.sub, buf, n_threads);
    const Acts a = buf.acts(g.n_in, f.sub);

    const size_t w_row = row_bytes(g.type, uint64_t(g.n_in));
    const size_t panel_bytes = size_t(a.n_sub) * sub_bytes(f.sub);
    const int64_t n_panels = (g.n_out + kRows - 1) / kRows;
    const int64_t per_task = std::clamp<int64_t>(int64_t(kPanelBudget / panel_bytes), 1, 8);
    const int64_t n_tasks = (n_panels + per_task - 1) / per_task;
    const auto* w = static_cast<const uint8_t*>(g.w);
#pragma omp parallel num_threads(int(std::min<int64_t>(n_threads, n_tasks)))
    {
        std::vector<uint8_t> q(size_t(kRows) * size_t(g.n_in));
        std::vector<float> dw(size_t(kRows * a.n_sub)), mw(dw.size());
        std::vector<uint8_t> panel_mem(panel_bytes * size_t(per_task) + 64);
        auto* panels = panel_mem.data() + (64 - reinterpret_cast<uintptr_t>(panel_mem.data()) % 64) % 64;
#pragma omp for schedule(dynamic, 1)
        for (int64_t task = 0; task < n_tasks; ++task) {
            const int64_t p0 = task * per_task, np = std::min(per_task, n_panels - p0);
            for (int64_t p = 0; p < np; ++p)
                pack_panel(f, w, w_row, (p0 + p) * kRows, g.n_out, g.n_in, q.data(), dw.data(), mw.data(),
                           panels + size_t(p) * panel_bytes);
            for (int64_t t0 = 0; t0 < g.n_tokens; t0 += kTile) {
                const int nt = int(std::min<int64_t>(kTile, g.n_tokens - t0));
                for (int64_t p = 0; p < np; ++p) {
                    const int64_t r0 = (p0 + p) * kRows;
                    const int64_t valid = std::min<int64_t>(kRows, g.n_out - r0);
                    const auto mask = __mmask16((1u << valid) - 1);
                    if (f.sub == 16)
                        micro_any<16>(nt, panels + size_t(p) * panel_bytes, a, t0, g.y, g.n_out, r0, mask);
                    else
                        micro_any<32>(nt, panels + size_t(p) * panel_bytes, a, t0, g.y, g.n_out, r0, mask);
                }
            }
        }
    }
}

#else  // not x86

bool gemm_supported(GgmlType, int64_t) { return false; }
void gemm(const GemmArgs&, int) {}

#endif

}  // namespace r1::cpu
