// What the three AVX-512 VNNI product files share (internal to backends/cpu): the row unpackers'
// table, the panel geometry, the load-time packed layouts and the activations quantized to Q8_0.
//   gemm_pack_x86.cpp    weight rows -> unsigned quants; panels packed once at load; activations
//   gemm_packed_x86.cpp  products from the load-time panels (decode and prompts)
//   gemm_percall_x86.cpp products from panels packed per call (prompts, the other block types)
//
// Every supported weight format is, per sub-block of S = 32 (16 for Q6_K) elements, w = dw·q − mw
// with q an unsigned integer (<= 255): Q4_0 (q, 8d), Q8_0 (q + 128, 128d), Q4_K (q, dmin·m), ...
// The activations are quantized once per call to Q8_0 (the matvec kernels' form), so
//   y[r][t] = Σ_sub dw·da·(Σ q·qa) − mw·(da·Σ qa),
// where Σ q·qa is exactly what vpdpbusd computes (u8 × s8, four products per int32 lane). Panels
// hold 16 rows interleaved so that int32 lane j of a vector holds four consecutive quants of row
// j; each output is computed by one micro-kernel call in a fixed order, so results do not depend
// on the thread count. The reference of both products is gemm_q8_0_ref (kernels.h).
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <vector>

#include "backends/cpu/kernels.h"

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#define R1_GEMM_X86 1
// gcc 12's AVX-512 headers start gathers and conversions from _mm512_undefined_*(), which
// -Wmaybe-uninitialized reports once inlined here.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif
#include <immintrin.h>
#endif

#if R1_GEMM_X86
#define R1_VNNI __attribute__((target("avx512f,avx512bw,avx512vl,avx512dq,avx512vnni,fma")))
// Code both product paths run (unpackers, activation quantization): every AVX-512 CPU has AVX2.
#define R1_AVX2 __attribute__((target("avx2,fma,f16c")))

namespace r1::cpu::vnni {

constexpr int kRows = 16;                    // rows per panel: one int32 lane per row
constexpr int kTile = 8;                     // tokens per micro-kernel call
constexpr size_t kPanelBudget = 512 * 1024;  // bytes of panels used per task (L2-resident)
constexpr int64_t kMaxIn = int64_t(1) << 24; // longest row (int32 gather offsets)

// AVX-512 F/BW/VL/DQ/VNNI on this CPU, not turned off with R1_CPU_GEMM=0 nor capped below
// by set_cpu_isa_cap().
bool cpu_has_vnni();
// AVX2 + FMA + F16C, likewise (the products over load-time panels, gemm_packed_avx2.cpp).
bool cpu_has_avx2();

// One row of a block format to unsigned quants q (n_in bytes) and per-sub-block dw, mw.
using UnpackFn = void (*)(const void* row, int64_t n_in, uint8_t* q, float* dw, float* mw);
struct Format {
    GgmlType type;
    UnpackFn unpack;
    int sub;    // elements per (dw, mw) pair: 32 or 16
    int block;  // n_in must be a multiple of this
};
const Format* find_format(GgmlType t);  // nullptr: not a VNNI type

// Rows r0 .. r0+15 unpacked into q (16 x n_in bytes), dw and mw (16 x n_sub); zeros past n_out.
R1_AVX2 void unpack_rows(const Format& f, const uint8_t* w, size_t row_bytes, int64_t r0, int64_t n_out,
                         int64_t n_in, uint8_t* q, float* dw, float* mw);

// Load-time panel layouts (gemm_pack_x86.cpp describes their bytes).
struct PackedFormat {
    GgmlType type;
    int block;           // elements per packed block
    size_t block_bytes;  // bytes of one block of a 16-row panel
};
const PackedFormat* find_packed(GgmlType t);  // nullptr: no load-time layout
constexpr size_t kQ4KHead = 64, kQ4KSub = 288;   // P4_K: d + dmin, then per sub-block
constexpr size_t kQ6KHead = 32, kQ6KPair = 416;  // P6_K: d, then per pair of sub-blocks
static_assert(kQ4KHead + 8 * kQ4KSub == 2368 && kQ6KHead + 8 * kQ6KPair == 3360);

// The activations of the batch: Q8_0 rows, with fp32 block scales and per-sub-block da·Σqa.
struct Acts {
    const uint8_t* rows;    // (n_tokens) rows of BlockQ8_0, act_row bytes apart
    size_t act_row;
    const float* da;        // (n_tokens, n_in / 32)
    const float* sa;        // (n_tokens, n_in / sub)
    const int32_t* isum;    // (n_tokens, n_in / 32): Σ qa of each block
    const int32_t* isum16;  // (n_tokens, n_in / 16): Σ qa of each half block
    int64_t nb;             // blocks of 32 per token
    int64_t n_sub;          // sub-blocks per token
};
// The memory behind Acts, filled by quantize_acts.
struct ActBuffers {
    std::vector<uint8_t> rows;
    std::vector<float> da, sa;
    std::vector<int32_t> isum, isum16;
    Acts acts(int64_t n_in, int sub) const;
};
// x (n_tokens, n_in) to Q8_0 rows with the SIMD quantizer of the matvec kernels, then da, Σqa
// and da·Σqa per sub-block of `sub` elements.
R1_AVX2 void quantize_acts(const float* x, int64_t n_tokens, int64_t n_in, int sub, ActBuffers& buf, int n_threads);

// The products over load-time panels on AVX2 CPUs (gemm_packed_avx2.cpp).
void packed_matmul_avx2(const GemmArgs& g, const PackedFormat& pf, const void* packed, int n_threads);

// Four activation bytes broadcast to every int32 lane.
R1_VNNI inline __m512i bcast4(const uint8_t* p) {
    int32_t x4;
    std::memcpy(&x4, p, 4);
    return _mm512_set1_epi32(x4);
}

}  // namespace r1::cpu::vnni
#endif  // R1_GEMM_X86
