// The kernel tables: (weight type, activation type) -> kernel, reference, block size and the
// error bound the tests enforce; activation type -> SIMD quantizer and scalar reference; the
// VNNI products, the attention row and the element-wise rows with their references and bounds.
// Also the OpenMP row split shared by callers and benchmarks.
#include <algorithm>

#include <atomic>

#include <hwy/targets.h>
#include <omp.h>

#include "backends/cpu/kernels.h"
#include "quant/codecs.h"

namespace r1::cpu {
namespace {

using T = GgmlType;

// rel_tol bounds |y − y_ref| / Σ_j |w_j · x_j|. Integer block sums are exact; what remains is
// fp32 rounding of the per-block scale products and of the accumulation (1e-5 covers rows of
// ~10^4 elements). Q8_1 pairs use s = fp16(d·Σq) with the unrounded d for the minimum's term
// while the reference dequantizes with fp16(d): up to 2^-10 of |m·Σx| apart, so for them the
// bound is 2e-3 · Σ_j (|w_j| + |m_j|) · |x_j| (ggml's kernels have the same property).
constexpr double kFp32Tol = 1e-5;
constexpr double kQ8_1Tol = 2e-3;

constexpr MatvecKernel kMatvec[] = {
    {"matvec_q4_0_q8_0", T::Q4_0, T::Q8_0, matvec_q4_0_q8_0, matvec_q4_0_q8_0_ref, 32, kFp32Tol},
    {"matvec_q4_1_q8_1", T::Q4_1, T::Q8_1, matvec_q4_1_q8_1, matvec_q4_1_q8_1_ref, 32, kQ8_1Tol},
    {"matvec_q5_0_q8_0", T::Q5_0, T::Q8_0, matvec_q5_0_q8_0, matvec_q5_0_q8_0_ref, 32, kFp32Tol},
    {"matvec_q5_1_q8_1", T::Q5_1, T::Q8_1, matvec_q5_1_q8_1, matvec_q5_1_q8_1_ref, 32, kQ8_1Tol},
    {"matvec_q8_0_q8_0", T::Q8_0, T::Q8_0, matvec_q8_0_q8_0, matvec_q8_0_q8_0_ref, 32, kFp32Tol},
    {"matvec_q4_K_q8_K", T::Q4_K, T::Q8_K, matvec_q4_K_q8_K, matvec_q4_K_q8_K_ref, 256, kFp32Tol},
    {"matvec_q5_K_q8_K", T::Q5_K, T::Q8_K, matvec_q5_K_q8_K, matvec_q5_K_q8_K_ref, 256, kFp32Tol},
    {"matvec_q6_K_q8_K", T::Q6_K, T::Q8_K, matvec_q6_K_q8_K, matvec_q6_K_q8_K_ref, 256, kFp32Tol},
    {"matvec_f32_f32", T::F32, T::F32, matvec_f32_f32, matvec_f32_f32_ref, 1, kFp32Tol},
    {"matvec_f16_f32", T::F16, T::F32, matvec_f16_f32, matvec_f16_f32_ref, 1, kFp32Tol},
    {"matvec_bf16_f32", T::BF16, T::F32, matvec_bf16_f32, matvec_bf16_f32_ref, 1, kFp32Tol},
};

void q8_0_ref(const float* x, void* y, int64_t n) { quantize_row_q8_0_ref(x, static_cast<BlockQ8_0*>(y), n); }
void q8_1_ref(const float* x, void* y, int64_t n) { quantize_row_q8_1_ref(x, static_cast<BlockQ8_1*>(y), n); }
void q8_K_ref(const float* x, void* y, int64_t n) { quantize_row_q8_K_ref(x, static_cast<BlockQ8_K*>(y), n); }

constexpr QuantizeKernel kQuantize[] = {
    {"quantize_q8_0", T::Q8_0, quantize_q8_0, q8_0_ref, 32},
    {"quantize_q8_1", T::Q8_1, quantize_q8_1, q8_1_ref, 32},
    {"quantize_q8_K", T::Q8_K, quantize_q8_K, q8_K_ref, 256},
};

// Rounding of dw·da·Σq·qa − mw·da·Σqa in fp32 (kernels.h GemmKernel states the bound's form).
constexpr double kGemmTol = 4e-6;

constexpr GemmKernel kGemm[] = {
    {"gemm_q4_0_q8_0", T::Q4_0, false, gemm_supported, gemm, gemm_q8_0_ref, kGemmTol},
    {"gemm_q4_1_q8_0", T::Q4_1, false, gemm_supported, gemm, gemm_q8_0_ref, kGemmTol},
    {"gemm_q5_0_q8_0", T::Q5_0, false, gemm_supported, gemm, gemm_q8_0_ref, kGemmTol},
    {"gemm_q5_1_q8_0", T::Q5_1, false, gemm_supported, gemm, gemm_q8_0_ref, kGemmTol},
    {"gemm_q8_0_q8_0", T::Q8_0, false, gemm_supported, gemm, gemm_q8_0_ref, kGemmTol},
    {"gemm_q4_K_q8_0", T::Q4_K, false, gemm_supported, gemm, gemm_q8_0_ref, kGemmTol},
    {"gemm_q5_K_q8_0", T::Q5_K, false, gemm_supported, gemm, gemm_q8_0_ref, kGemmTol},
    {"gemm_q6_K_q8_0", T::Q6_K, false, gemm_supported, gemm, gemm_q8_0_ref, kGemmTol},
    {"packed_q4_0_q8_0", T::Q4_0, true, pack_supported, packed_matmul, gemm_q8_0_ref, kGemmTol},
    {"packed_q8_0_q8_0", T::Q8_0, true, pack_supported, packed_matmul, gemm_q8_0_ref, kGemmTol},
    {"packed_q4_K_q8_0", T::Q4_K, true, pack_supported, packed_matmul, gemm_q8_0_ref, kGemmTol},
    {"packed_q6_K_q8_0", T::Q6_K, true, pack_supported, packed_matmul, gemm_q8_0_ref, kGemmTol},
};

// attend_row: fp32 FMAs and a vector exp against double; 2e-6 for unit-scale inputs.
constexpr AttendKernel kAttend[] = {
    {"attend_row_f32", attend_row, attend_row_ref, 2e-6},
};

// add, mul and scale are exact (one fp32 rounding of a product or sum that double holds
// exactly); the exp-based rows are within a few ulp of the double definition (Highway's exp
// is within 1 ulp, then a division or a sum of positive terms).
constexpr RowKernel kRowKernels[] = {
    {"silu_mul_f32", silu_mul_f32, silu_mul_f32_ref, true, 1e-6, 0},
    {"add_f32", add_f32, add_f32_ref, true, 0, 0},
    {"mul_f32", mul_f32, mul_f32_ref, true, 0, 0},
    {"scale_f32", scale_f32, scale_f32_ref, false, 0, 0},
    {"sigmoid_f32", sigmoid_f32, sigmoid_f32_ref, false, 3e-7, 0},
    {"softmax_f32", softmax_f32, softmax_f32_ref, false, 2e-6, 0},
};

}  // namespace

std::span<const GemmKernel> gemm_kernels() { return kGemm; }
std::span<const AttendKernel> attend_kernels() { return kAttend; }
std::span<const RowKernel> row_kernels() { return kRowKernels; }
std::span<const MatvecKernel> matvec_kernels() { return kMatvec; }
std::span<const QuantizeKernel> quantize_kernels() { return kQuantize; }

const MatvecKernel* find_matvec(GgmlType weight, GgmlType act) {
    for (const MatvecKernel& k : kMatvec) {
        if (k.weight == weight && k.act == act) return &k;
    }
    return nullptr;
}

const QuantizeKernel* find_quantize(GgmlType act) {
    for (const QuantizeKernel& k : kQuantize) {
        if (k.type == act) return &k;
    }
    return nullptr;
}

void matvec_parallel(const MatvecKernel& k, const MatvecArgs& a, int n_threads) {
    const size_t rb = row_bytes(k.weight, static_cast<uint64_t>(a.n_in));
    // Row ranges in multiples of 4 (the kernels' row group), one contiguous range per thread.
    const int64_t groups = (a.n_out + 3) / 4;
#pragma omp parallel num_threads(n_threads)
    {
        const int64_t t = omp_get_thread_num(), nt = omp_get_num_threads();
        const int64_t r0 = std::min(a.n_out, groups * t / nt * 4);
        const int64_t r1 = std::min(a.n_out, groups * (t + 1) / nt * 4);
        if (r1 > r0) {
            k.kernel({.w = static_cast<const uint8_t*>(a.w) + static_cast<size_t>(r0) * rb,
                      .x = a.x,
                      .y = a.y + r0,
                      .n_out = r1 - r0,
                      .n_in = a.n_in});
        }
    }
}

namespace {
std::atomic<int> g_isa_cap{int(Isa::Avx512)};
}  // namespace

Isa cpu_isa() {
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
    static const Isa isa = [] {
        __builtin_cpu_init();
        if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
            __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512dq") &&
            __builtin_cpu_supports("avx512vnni"))
            return Isa::Avx512;
        if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") && __builtin_cpu_supports("f16c"))
            return Isa::Avx2;
        return Isa::Scalar;
    }();
    return isa;
#else
    return Isa::Scalar;
#endif
}

Isa isa_cap() { return Isa(g_isa_cap.load(std::memory_order_relaxed)); }

void set_isa_cap(Isa cap) {
    g_isa_cap.store(int(cap), std::memory_order_relaxed);
    // Highway: no AVX-512 targets below Avx512, no x86 SIMD target at all for Scalar.
    int64_t off = 0;
#if defined(__x86_64__)
    if (cap < Isa::Avx512) off |= HWY_AVX3 | HWY_AVX3_DL;
    if (cap < Isa::Avx2) off |= HWY_AVX2 | HWY_SSE4 | HWY_SSSE3;
#endif
    hwy::DisableTargets(off);
}

const char* isa_name(Isa isa) {
    switch (isa) {
        case Isa::Scalar: return "scalar";
        case Isa::Avx2: return "avx2";
        case Isa::Avx512: return "avx512";
    }
    return "?";
}

bool parse_isa(std::string_view name, Isa& out) {
    for (Isa i : {Isa::Scalar, Isa::Avx2, Isa::Avx512})
        if (name == isa_name(i)) {
            out = i;
            return true;
        }
    return false;
}

}  // namespace r1::cpu
