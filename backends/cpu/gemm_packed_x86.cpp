// Products from the panels packed at load (gemm_pack_x86.cpp): y (n_tokens, n_out) =
// x (n_tokens, n_in) · Wᵀ for Q4_0, Q8_0, Q4_K and Q6_K, every batch size (decode included).
// One micro-kernel per panel layout, eight tokens per call (gemm_x86.h holds the arithmetic).
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>

#include "backends/cpu/gemm_x86.h"
#include "quant/blocks.h"

#if R1_GEMM_X86
#include <omp.h>
#endif

namespace r1::cpu {

#if R1_GEMM_X86
namespace vnni {
namespace {

// y rows r0.. (mask) of tokens t0 .. t0+T-1 from one P4_0 (kNibble) or P8_0 panel.
template <int T, bool kNibble>
R1_VNNI void micro_p_legacy(const uint8_t* panel, const Acts& a, int64_t t0, float* y, int64_t n_out, int64_t r0,
                            __mmask16 mask) {
    constexpr int32_t kOff = kNibble ? 8 : 128;
    constexpr size_t kWBytes = kNibble ? 256 : 512;
    constexpr size_t kBlockBytes = kWBytes + 32;
    const uint8_t* xr[T];
    for (int t = 0; t < T; ++t) xr[t] = a.rows + size_t(t0 + t) * a.act_row + offsetof(BlockQ8_0, qs);
    const __m512i low4 = _mm512_set1_epi8(0x0F);
    __m512 acc[T];
    for (int t = 0; t < T; ++t) acc[t] = _mm512_setzero_ps();
    const uint8_t* p = panel;
    for (int64_t b = 0; b < a.nb; ++b, p += kBlockBytes) {
        const size_t xo = size_t(b) * sizeof(BlockQ8_0);
        __m512i dot[T];
        for (int t = 0; t < T; ++t) dot[t] = _mm512_set1_epi32(-kOff * a.isum[(t0 + t) * a.nb + b]);
        if constexpr (kNibble) {
            for (int i = 0; i < 4; ++i) {
                const __m512i pv = _mm512_loadu_si512(p + 64 * i);
                const __m512i lo = _mm512_and_si512(pv, low4);
                const __m512i hi = _mm512_and_si512(_mm512_srli_epi16(pv, 4), low4);
                for (int t = 0; t < T; ++t) {
                    dot[t] = _mm512_dpbusd_epi32(dot[t], lo, bcast4(xr[t] + xo + 4 * i));
                    dot[t] = _mm512_dpbusd_epi32(dot[t], hi, bcast4(xr[t] + xo + 16 + 4 * i));
                }
            }
        } else {
            for (int i = 0; i < 8; ++i) {
                const __m512i wv = _mm512_loadu_si512(p + 64 * i);
                for (int t = 0; t < T; ++t) dot[t] = _mm512_dpbusd_epi32(dot[t], wv, bcast4(xr[t] + xo + 4 * i));
            }
        }
        const __m512 dw = _mm512_cvtph_ps(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(p + kWBytes)));
        for (int t = 0; t < T; ++t)
            acc[t] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(dot[t]), _mm512_mul_ps(dw, _mm512_set1_ps(a.da[(t0 + t) * a.nb + b])),
                                     acc[t]);
    }
    for (int t = 0; t < T; ++t) _mm512_mask_storeu_ps(y + (t0 + t) * n_out + r0, mask, acc[t]);
}

template <int T>
R1_VNNI void micro_p4_k(const uint8_t* panel, const Acts& a, int64_t t0, float* y, int64_t n_out, int64_t r0,
                        __mmask16 mask) {
    const uint8_t* xr[T];
    for (int t = 0; t < T; ++t) xr[t] = a.rows + size_t(t0 + t) * a.act_row + offsetof(BlockQ8_0, qs);
    const __m512i low4 = _mm512_set1_epi8(0x0F);
    __m512 acc[T];
    for (int t = 0; t < T; ++t) acc[t] = _mm512_setzero_ps();
    const uint8_t* p = panel;
    for (int64_t i = 0; i < a.nb / 8; ++i, p += 2368) {
        const __m512 vd = _mm512_cvtph_ps(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(p)));
        const __m512 vdmin = _mm512_cvtph_ps(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(p + 32)));
        for (int j = 0; j < 8; ++j) {
            const int64_t b = 8 * i + j;
            const size_t xo = size_t(b) * sizeof(BlockQ8_0);
            __m512i dot[T];
            for (int t = 0; t < T; ++t) dot[t] = _mm512_setzero_si512();
            for (int k = 0; k < 4; ++k) {
                const __m512i pv = _mm512_loadu_si512(p + kQ4KHead + kQ4KSub * j + 64 * k);
                const __m512i lo = _mm512_and_si512(pv, low4);
                const __m512i hi = _mm512_and_si512(_mm512_srli_epi16(pv, 4), low4);
                for (int t = 0; t < T; ++t) {
                    int32_t x0, x1;
                    std::memcpy(&x0, xr[t] + xo + 4 * k, 4);
                    std::memcpy(&x1, xr[t] + xo + 16 + 4 * k, 4);
                    dot[t] = _mm512_dpbusd_epi32(dot[t], lo, _mm512_set1_epi32(x0));
                    dot[t] = _mm512_dpbusd_epi32(dot[t], hi, _mm512_set1_epi32(x1));
                }
            }
            const __m512 dw = _mm512_mul_ps(
                vd, _mm512_cvtepi32_ps(_mm512_cvtepu8_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p + kQ4KHead + kQ4KSub * j + 256)))));
            const __m512 mw = _mm512_mul_ps(
                vdmin, _mm512_cvtepi32_ps(_mm512_cvtepu8_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p + kQ4KHead + kQ4KSub * j + 272)))));
            for (int t = 0; t < T; ++t) {
                acc[t] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(dot[t]), _mm512_mul_ps(dw, _mm512_set1_ps(a.da[(t0 + t) * a.nb + b])),
                                         acc[t]);
                acc[t] = _mm512_fnmadd_ps(mw, _mm512_set1_ps(a.sa[(t0 + t) * a.n_sub + b]), acc[t]);
            }
        }
    }
    for (int t = 0; t < T; ++t) _mm512_mask_storeu_ps(y + (t0 + t) * n_out + r0, mask, acc[t]);
}

template <int T>
R1_VNNI void micro_p6_k(const uint8_t* panel, const Acts& a, int64_t t0, float* y, int64_t n_out, int64_t r0,
                        __mmask16 mask) {
    const uint8_t* xr[T];
    for (int t = 0; t < T; ++t) xr[t] = a.rows + size_t(t0 + t) * a.act_row + offsetof(BlockQ8_0, qs);
    const __m512i low4 = _mm512_set1_epi8(0x0F), high2 = _mm512_set1_epi8(0x30);
    __m512 acc[T];
    for (int t = 0; t < T; ++t) acc[t] = _mm512_setzero_ps();
    const uint8_t* p = panel;
    for (int64_t i = 0; i < a.nb / 8; ++i, p += 3360) {
        const __m512 vd = _mm512_cvtph_ps(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(p)));
        for (int m = 0; m < 8; ++m) {
            const int64_t b = 8 * i + m;  // the pair is one Q8_0 block of the activations
            const size_t xo = size_t(b) * sizeof(BlockQ8_0);
            const uint8_t* pm = p + kQ6KHead + kQ6KPair * m;
            const __m512i h0 = _mm512_loadu_si512(pm + 256), h1 = _mm512_loadu_si512(pm + 320);
            __m512i dlo[T], dhi[T];  // sub-blocks 2m and 2m+1
            for (int t = 0; t < T; ++t) dlo[t] = dhi[t] = _mm512_setzero_si512();
            for (int k = 0; k < 4; ++k) {
                const __m512i nv = _mm512_loadu_si512(pm + 64 * k);
                // bits 4-5 of vector k come from h0 at bits 2k, of vector k+4 from h1.
                const __m512i hk0 = k == 0 ? _mm512_slli_epi16(h0, 4) : k == 1 ? _mm512_slli_epi16(h0, 2)
                                  : k == 2 ? h0 : _mm512_srli_epi16(h0, 2);
                const __m512i hk1 = k == 0 ? _mm512_slli_epi16(h1, 4) : k == 1 ? _mm512_slli_epi16(h1, 2)
                                  : k == 2 ? h1 : _mm512_srli_epi16(h1, 2);
                const __m512i w0 = _mm512_or_si512(_mm512_and_si512(nv, low4), _mm512_and_si512(hk0, high2));
                const __m512i w1 = _mm512_or_si512(_mm512_and_si512(_mm512_srli_epi16(nv, 4), low4),
                                                   _mm512_and_si512(hk1, high2));
                for (int t = 0; t < T; ++t) {
                    dlo[t] = _mm512_dpbusd_epi32(dlo[t], w0, bcast4(xr[t] + xo + 4 * k));
                    dhi[t] = _mm512_dpbusd_epi32(dhi[t], w1, bcast4(xr[t] + xo + 16 + 4 * k));
                }
            }
            const __m512 dw0 = _mm512_mul_ps(
                vd, _mm512_cvtepi32_ps(_mm512_cvtepi8_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(pm + 384)))));
            const __m512 dw1 = _mm512_mul_ps(
                vd, _mm512_cvtepi32_ps(_mm512_cvtepi8_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(pm + 400)))));
            for (int t = 0; t < T; ++t) {
                // Σ dw·(q − 32)·qa = dw·(Σ q·qa − 32·Σqa) per 16-element half.
                const int32_t* isum16 = a.isum16 + ((t0 + t) * a.nb + b) * 2;
                const __m512i c0 = _mm512_sub_epi32(dlo[t], _mm512_set1_epi32(32 * isum16[0]));
                const __m512i c1 = _mm512_sub_epi32(dhi[t], _mm512_set1_epi32(32 * isum16[1]));
                const __m512 part = _mm512_fmadd_ps(_mm512_cvtepi32_ps(c0), dw0, _mm512_mul_ps(_mm512_cvtepi32_ps(c1), dw1));
                acc[t] = _mm512_fmadd_ps(part, _mm512_set1_ps(a.da[(t0 + t) * a.nb + b]), acc[t]);
            }
        }
    }
    for (int t = 0; t < T; ++t) _mm512_mask_storeu_ps(y + (t0 + t) * n_out + r0, mask, acc[t]);
}

template <int T>
R1_VNNI void micro_p(GgmlType type, const uint8_t* panel, const Acts& a, int64_t t0, float* y, int64_t n_out,
                     int64_t r0, __mmask16 mask) {
    if (type == GgmlType::Q4_0) return micro_p_legacy<T, true>(panel, a, t0, y, n_out, r0, mask);
    if (type == GgmlType::Q8_0) return micro_p_legacy<T, false>(panel, a, t0, y, n_out, r0, mask);
    if (type == GgmlType::Q6_K) return micro_p6_k<T>(panel, a, t0, y, n_out, r0, mask);
    return micro_p4_k<T>(panel, a, t0, y, n_out, r0, mask);
}

R1_VNNI void micro_p_any(int n, GgmlType type, const uint8_t* panel, const Acts& a, int64_t t0, float* y,
                         int64_t n_out, int64_t r0, __mmask16 mask) {
    switch (n) {
        case 8: return micro_p<8>(type, panel, a, t0, y, n_out, r0, mask);
        case 7: return micro_p<7>(type, panel, a, t0, y, n_out, r0, mask);
        case 6: return micro_p<6>(type, panel, a, t0, y, n_out, r0, mask);
        case 5: return micro_p<5>(type, panel, a, t0, y, n_out, r0, mask);
        case 4: return micro_p<4>(type, panel, a, t0, y, n_out, r0, mask);
        case 3: return micro_p<3>(type, panel, a, t0, y, n_out, r0, mask);
        case 2: return micro_p<2>(type, panel, a, t0, y, n_out, r0, mask);
        default: return micro_p<1>(type, panel, a, t0, y, n_out, r0, mask);
    }
}

}  // namespace
}  // namespace vnni

using namespace vnni;

void packed_matmul(const GemmArgs& g, int n_threads) {
    const PackedFormat& pf = *find_packed(g.type);
    if (!cpu_has_vnni()) return packed_matmul_avx2(g, pf, g.packed, n_threads);
    ActBuffers buf;
    quantize_acts(g.x, g.n_tokens, g.n_in, 32, buf, n_threads);
    const Acts a = buf.acts(g.n_in, 32);
    const size_t panel_bytes = size_t(g.n_in / pf.block) * pf.block_bytes;
    const int64_t n_panels = (g.n_out + kRows - 1) / kRows;
    const auto* base = static_cast<const uint8_t*>(g.packed);
    // One contiguous range of panels per thread: sequential streams for the prefetchers (in
    // decode this measured ~8% faster than groups handed out dynamically); within a range,
    // token tiles of 8 run over groups of panels that stay in L2.
    const int64_t group = std::clamp<int64_t>(int64_t(kPanelBudget / panel_bytes), 1, 8);
    const int nt = int(std::min<int64_t>(n_threads, n_panels));
#pragma omp parallel num_threads(nt)
    {
        const int64_t id = omp_get_thread_num(), n = omp_get_num_threads();
        const int64_t p_begin = n_panels * id / n, p_end = n_panels * (id + 1) / n;
        for (int64_t g0 = p_begin; g0 < p_end; g0 += group) {
            const int64_t g1 = std::min(p_end, g0 + group);
            for (int64_t t0 = 0; t0 < g.n_tokens; t0 += kTile) {
                const int tn = int(std::min<int64_t>(kTile, g.n_tokens - t0));
                for (int64_t p = g0; p < g1; ++p) {
                    const int64_t r0 = p * kRows;
                    const int64_t valid = std::min<int64_t>(kRows, g.n_out - r0);
                    micro_p_any(tn, g.type, base + size_t(p) * panel_bytes, a, t0, g.y, g.n_out, r0,
                                __mmask16((1u << valid) - 1));
                }
            }
        }
    }
}

#else  // not x86

void packed_matmul(const GemmArgs&, int) {}

#endif

}  // namespace r1::cpu
