// Products from the panels packed at load, for CPUs with AVX2 but not AVX-512 VNNI (Intel before
// Ice Lake and most laptops, AMD Zen 1-3): the same panels and arithmetic as gemm_packed_x86.cpp
// (gemm_x86.h), with each 512-bit panel vector read as two 256-bit halves of 8 rows and
// vpdpbusd written as vpmaddubsw + vpmaddwd:
//   maddubs(u8 q, s8 qa) sums two products into 16 bits, exact while |2·q·qa| < 2^15, so the
//   unsigned quants must stay below 128: P4_0 and P4_K (<= 15) and P6_K (<= 63) hold. P8_0 stores
//   q + 128 (<= 255); its kernel undoes the offset and multiplies |q| by qa carrying q's sign
//   (vpsignb), the classic AVX2 form, exact since |q| <= 128 and |qa| <= 127.
// The 16-bit pair sums of 4-bit quants are added in 16 bits over a whole 32-element block
// before one vpmaddwd (see pairs()). A call computes 8 rows (one half panel) for up to 4 tokens: 4 int32 and 4 float accumulators
// fit the 16 vector registers with the weights. Each output is computed by one call in a fixed
// order, so results do not depend on the thread count.
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

constexpr int kTile2 = 4;  // tokens per AVX2 micro-kernel call

R1_AVX2 inline __m256i bcast4_256(const uint8_t* p) {
    int32_t x4;
    std::memcpy(&x4, p, 4);
    return _mm256_set1_epi32(x4);
}

// acc + Σ of four u·s products per int32 lane (u unsigned < 128, s signed).
R1_AVX2 inline __m256i dot4(__m256i acc, __m256i u, __m256i s) {
    return _mm256_add_epi32(acc, _mm256_madd_epi16(_mm256_maddubs_epi16(u, s), _mm256_set1_epi16(1)));
}
// Pairs of products summed in 16 bits (vpmaddubsw); several such sums may be added in 16 bits
// while their bound stays below 2^15: eight for quants <= 15 (8·2·15·127 = 30480), two for
// quants <= 63 (2·2·63·127 = 32004). widen() then sums pairs of lanes into int32.
R1_AVX2 inline __m256i pairs(__m256i u, __m256i s) { return _mm256_maddubs_epi16(u, s); }
R1_AVX2 inline __m256i widen(__m256i acc, __m256i p16) {
    return _mm256_add_epi32(acc, _mm256_madd_epi16(p16, _mm256_set1_epi16(1)));
}

R1_AVX2 inline __m256 half_f16(const uint8_t* p) {
    return _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p)));
}

// Eight fp32 results of token t to y, the first `valid` of them.
R1_AVX2 inline void store8(float* y, __m256 v, int valid) {
    if (valid >= 8) {
        _mm256_storeu_ps(y, v);
        return;
    }
    alignas(32) float tmp[8];
    _mm256_store_ps(tmp, v);
    std::memcpy(y, tmp, size_t(valid) * sizeof(float));
}

struct Half {
    int h;      // 0: rows 0-7 of the panel, 1: rows 8-15
    int valid;  // rows of this half inside the matrix (1..8)
};

// P4_0 (kNibble) or P8_0: rows r0 + 8h .. of tokens t0 .. t0+T-1.
template <int T, bool kNibble>
R1_AVX2 void micro_legacy(const uint8_t* panel, const Acts& a, int64_t t0, float* y, int64_t n_out, int64_t r0,
                          Half hf) {
    constexpr size_t kWBytes = kNibble ? 256 : 512;
    constexpr size_t kBlockBytes = kWBytes + 32;
    const size_t ho = size_t(32 * hf.h);
    const uint8_t* xr[T];
    for (int t = 0; t < T; ++t) xr[t] = a.rows + size_t(t0 + t) * a.act_row + offsetof(BlockQ8_0, qs);
    const __m256i low4 = _mm256_set1_epi8(0x0F), flip = _mm256_set1_epi8(char(0x80));
    __m256 acc[T];
    for (int t = 0; t < T; ++t) acc[t] = _mm256_setzero_ps();
    const uint8_t* p = panel;
    for (int64_t b = 0; b < a.nb; ++b, p += kBlockBytes) {
        const size_t xo = size_t(b) * sizeof(BlockQ8_0);
        __m256i dot[T];
        if constexpr (kNibble) {
            // Σ (q − 8)·qa = Σ q·qa − 8·Σqa.
            __m256i s16[T];
            for (int t = 0; t < T; ++t) s16[t] = _mm256_setzero_si256();
            for (int i = 0; i < 4; ++i) {
                const __m256i pv = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p + 64 * i + ho));
                const __m256i lo = _mm256_and_si256(pv, low4);
                const __m256i hi = _mm256_and_si256(_mm256_srli_epi16(pv, 4), low4);
                for (int t = 0; t < T; ++t) {
                    s16[t] = _mm256_add_epi16(s16[t], pairs(lo, bcast4_256(xr[t] + xo + 4 * i)));
                    s16[t] = _mm256_add_epi16(s16[t], pairs(hi, bcast4_256(xr[t] + xo + 16 + 4 * i)));
                }
            }
            for (int t = 0; t < T; ++t) dot[t] = widen(_mm256_set1_epi32(-8 * a.isum[(t0 + t) * a.nb + b]), s16[t]);
        } else {
            for (int t = 0; t < T; ++t) dot[t] = _mm256_setzero_si256();
            for (int i = 0; i < 8; ++i) {
                // The stored q + 128 back to the signed q; |q| times qa with q's sign.
                const __m256i q = _mm256_xor_si256(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(p + 64 * i + ho)), flip);
                const __m256i aq = _mm256_sign_epi8(q, q);
                for (int t = 0; t < T; ++t) dot[t] = dot4(dot[t], aq, _mm256_sign_epi8(bcast4_256(xr[t] + xo + 4 * i), q));
            }
        }
        const __m256 dw = half_f16(p + kWBytes + 16 * size_t(hf.h));
        for (int t = 0; t < T; ++t)
            acc[t] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(dot[t]), _mm256_mul_ps(dw, _mm256_set1_ps(a.da[(t0 + t) * a.nb + b])),
                                     acc[t]);
    }
    for (int t = 0; t < T; ++t) store8(y + (t0 + t) * n_out + r0 + 8 * hf.h, acc[t], hf.valid);
}

template <int T>
R1_AVX2 void micro_4k(const uint8_t* panel, const Acts& a, int64_t t0, float* y, int64_t n_out, int64_t r0, Half hf) {
    const size_t ho = size_t(32 * hf.h);
    const uint8_t* xr[T];
    for (int t = 0; t < T; ++t) xr[t] = a.rows + size_t(t0 + t) * a.act_row + offsetof(BlockQ8_0, qs);
    const __m256i low4 = _mm256_set1_epi8(0x0F);
    __m256 acc[T];
    for (int t = 0; t < T; ++t) acc[t] = _mm256_setzero_ps();
    const uint8_t* p = panel;
    for (int64_t i = 0; i < a.nb / 8; ++i, p += 2368) {
        const __m256 vd = half_f16(p + 16 * size_t(hf.h));
        const __m256 vdmin = half_f16(p + 32 + 16 * size_t(hf.h));
        for (int j = 0; j < 8; ++j) {
            const int64_t b = 8 * i + j;
            const size_t xo = size_t(b) * sizeof(BlockQ8_0);
            const uint8_t* ps = p + kQ4KHead + kQ4KSub * size_t(j);
            __m256i s16[T], dot[T];
            for (int t = 0; t < T; ++t) s16[t] = _mm256_setzero_si256();
            for (int k = 0; k < 4; ++k) {
                const __m256i pv = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(ps + 64 * k + ho));
                const __m256i lo = _mm256_and_si256(pv, low4);
                const __m256i hi = _mm256_and_si256(_mm256_srli_epi16(pv, 4), low4);
                for (int t = 0; t < T; ++t) {
                    s16[t] = _mm256_add_epi16(s16[t], pairs(lo, bcast4_256(xr[t] + xo + 4 * k)));
                    s16[t] = _mm256_add_epi16(s16[t], pairs(hi, bcast4_256(xr[t] + xo + 16 + 4 * k)));
                }
            }
            for (int t = 0; t < T; ++t) dot[t] = widen(_mm256_setzero_si256(), s16[t]);
            const __m256 dw = _mm256_mul_ps(vd, _mm256_cvtepi32_ps(_mm256_cvtepu8_epi32(
                                                    _mm_loadl_epi64(reinterpret_cast<const __m128i*>(ps + 256 + 8 * hf.h)))));
            const __m256 mw = _mm256_mul_ps(vdmin, _mm256_cvtepi32_ps(_mm256_cvtepu8_epi32(
                                                       _mm_loadl_epi64(reinterpret_cast<const __m128i*>(ps + 272 + 8 * hf.h)))));
            for (int t = 0; t < T; ++t) {
                acc[t] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(dot[t]), _mm256_mul_ps(dw, _mm256_set1_ps(a.da[(t0 + t) * a.nb + b])),
                                         acc[t]);
                acc[t] = _mm256_fnmadd_ps(mw, _mm256_set1_ps(a.sa[(t0 + t) * a.n_sub + b]), acc[t]);
            }
        }
    }
    for (int t = 0; t < T; ++t) store8(y + (t0 + t) * n_out + r0 + 8 * hf.h, acc[t], hf.valid);
}

template <int T>
R1_AVX2 void micro_6k(const uint8_t* panel, const Acts& a, int64_t t0, float* y, int64_t n_out, int64_t r0, Half hf) {
    const size_t ho = size_t(32 * hf.h);
    const uint8_t* xr[T];
    for (int t = 0; t < T; ++t) xr[t] = a.rows + size_t(t0 + t) * a.act_row + offsetof(BlockQ8_0, qs);
    const __m256i low4 = _mm256_set1_epi8(0x0F), high2 = _mm256_set1_epi8(0x30);
    __m256 acc[T];
    for (int t = 0; t < T; ++t) acc[t] = _mm256_setzero_ps();
    const uint8_t* p = panel;
    for (int64_t i = 0; i < a.nb / 8; ++i, p += 3360) {
        const __m256 vd = half_f16(p + 16 * size_t(hf.h));
        for (int m = 0; m < 8; ++m) {
            const int64_t b = 8 * i + m;  // the pair is one Q8_0 block of the activations
            const size_t xo = size_t(b) * sizeof(BlockQ8_0);
            const uint8_t* pm = p + kQ6KHead + kQ6KPair * size_t(m);
            const __m256i h0 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(pm + 256 + ho));
            const __m256i h1 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(pm + 320 + ho));
            __m256i dlo[T], dhi[T];  // sub-blocks 2m and 2m+1
            for (int t = 0; t < T; ++t) dlo[t] = dhi[t] = _mm256_setzero_si256();
            for (int k = 0; k < 4; ++k) {
                const __m256i nv = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(pm + 64 * k + ho));
                // bits 4-5 of vector k come from h0 at bits 2k, of vector k+4 from h1.
                const __m256i hk0 = k == 0 ? _mm256_slli_epi16(h0, 4) : k == 1 ? _mm256_slli_epi16(h0, 2)
                                  : k == 2 ? h0 : _mm256_srli_epi16(h0, 2);
                const __m256i hk1 = k == 0 ? _mm256_slli_epi16(h1, 4) : k == 1 ? _mm256_slli_epi16(h1, 2)
                                  : k == 2 ? h1 : _mm256_srli_epi16(h1, 2);
                const __m256i w0 = _mm256_or_si256(_mm256_and_si256(nv, low4), _mm256_and_si256(hk0, high2));
                const __m256i w1 = _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(nv, 4), low4),
                                                   _mm256_and_si256(hk1, high2));
                for (int t = 0; t < T; ++t) {
                    dlo[t] = dot4(dlo[t], w0, bcast4_256(xr[t] + xo + 4 * k));
                    dhi[t] = dot4(dhi[t], w1, bcast4_256(xr[t] + xo + 16 + 4 * k));
                }
            }
            const __m256 dw0 = _mm256_mul_ps(vd, _mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(
                                                     _mm_loadl_epi64(reinterpret_cast<const __m128i*>(pm + 384 + 8 * hf.h)))));
            const __m256 dw1 = _mm256_mul_ps(vd, _mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(
                                                     _mm_loadl_epi64(reinterpret_cast<const __m128i*>(pm + 400 + 8 * hf.h)))));
            for (int t = 0; t < T; ++t) {
                // Σ dw·(q − 32)·qa = dw·(Σ q·qa − 32·Σqa) per 16-element half.
                const int32_t* isum16 = a.isum16 + ((t0 + t) * a.nb + b) * 2;
                const __m256i c0 = _mm256_sub_epi32(dlo[t], _mm256_set1_epi32(32 * isum16[0]));
                const __m256i c1 = _mm256_sub_epi32(dhi[t], _mm256_set1_epi32(32 * isum16[1]));
                const __m256 part = _mm256_fmadd_ps(_mm256_cvtepi32_ps(c0), dw0, _mm256_mul_ps(_mm256_cvtepi32_ps(c1), dw1));
                acc[t] = _mm256_fmadd_ps(part, _mm256_set1_ps(a.da[(t0 + t) * a.nb + b]), acc[t]);
            }
        }
    }
    for (int t = 0; t < T; ++t) store8(y + (t0 + t) * n_out + r0 + 8 * hf.h, acc[t], hf.valid);
}

template <int T>
R1_AVX2 void micro(GgmlType type, const uint8_t* panel, const Acts& a, int64_t t0, float* y, int64_t n_out, int64_t r0,
                   Half hf) {
    if (type == GgmlType::Q4_0) return micro_legacy<T, true>(panel, a, t0, y, n_out, r0, hf);
    if (type == GgmlType::Q8_0) return micro_legacy<T, false>(panel, a, t0, y, n_out, r0, hf);
    if (type == GgmlType::Q6_K) return micro_6k<T>(panel, a, t0, y, n_out, r0, hf);
    return micro_4k<T>(panel, a, t0, y, n_out, r0, hf);
}

R1_AVX2 void micro_any(int n, GgmlType type, const uint8_t* panel, const Acts& a, int64_t t0, float* y, int64_t n_out,
                       int64_t r0, Half hf) {
    switch (n) {
        case 4: return micro<4>(type, panel, a, t0, y, n_out, r0, hf);
        case 3: return micro<3>(type, panel, a, t0, y, n_out, r0, hf);
        case 2: return micro<2>(type, panel, a, t0, y, n_out, r0, hf);
        default: return micro<1>(type, panel, a, t0, y, n_out, r0, hf);
    }
}
static_assert(kTile2 == 4);

}  // namespace

void packed_matmul_avx2(const GemmArgs& g, const PackedFormat& pf, const void* packed, int n_threads) {
    ActBuffers buf;
    quantize_acts(g.x, g.n_tokens, g.n_in, 32, buf, n_threads);
    const Acts a = buf.acts(g.n_in, 32);
    const size_t panel_bytes = size_t(g.n_in / pf.block) * pf.block_bytes;
    const int64_t n_panels = (g.n_out + kRows - 1) / kRows;
    const auto* base = static_cast<const uint8_t*>(packed);
    // As the AVX-512 kernels: one contiguous range of panels per thread, token tiles over
    // groups of panels that stay in L2.
    const int64_t group = std::clamp<int64_t>(int64_t(kPanelBudget / panel_bytes), 1, 8);
    const int nt = int(std::min<int64_t>(n_threads, n_panels));
#pragma omp parallel num_threads(nt)
    {
        const int64_t id = omp_get_thread_num(), n = omp_get_num_threads();
        const int64_t p_begin = n_panels * id / n, p_end = n_panels * (id + 1) / n;
        for (int64_t g0 = p_begin; g0 < p_end; g0 += group) {
            const int64_t g1 = std::min(p_end, g0 + group);
            for (int64_t t0 = 0; t0 < g.n_tokens; t0 += kTile2) {
                const int tn = int(std::min<int64_t>(kTile2, g.n_tokens - t0));
                for (int64_t p = g0; p < g1; ++p) {
                    const int64_t r0 = p * kRows;
                    const int64_t valid = std::min<int64_t>(kRows, g.n_out - r0);
                    for (int h = 0; h < 2 && valid > 8 * h; ++h)
                        micro_any(tn, g.type, base + size_t(p) * panel_bytes, a, t0, g.y, g.n_out, r0,
                                  Half{h, int(std::min<int64_t>(8, valid - 8 * h))});
                }
            }
        }
    }
}

}  // namespace vnni
#endif  // R1_GEMM_X86

}  // namespace r1::cpu
