// CPU kernels, each with a plain-loop reference (*_ref) beside it: matrix-vector products of each
// weight format against its activation format, SIMD activation quantization, the VNNI batched
// products, one attention row and the element-wise rows.
// Kernels are Highway code dispatched at run time; tables (not switches) list them so tests
// and benchmarks iterate every pair. Kernels never throw and never allocate.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>

#include "quant/types.h"

namespace r1::cpu {

// W (n_out, n_in) · x (n_in) -> y (n_out).
// w: n_out rows back to back, each row_bytes(weight type, n_in) bytes;
// x: n_in elements in the activation type (blocks); n_in a multiple of both block sizes.
struct MatvecArgs {
    const void* w;  // (n_out, n_in) weights
    const void* x;  // (n_in) activations
    float* y;       // (n_out) output
    int64_t n_out;
    int64_t n_in;
};
using MatvecFn = void (*)(const MatvecArgs&);

// Quantized weights x quantized activations (activations made by quantize_<act> below).
void matvec_q4_0_q8_0(const MatvecArgs& a);
void matvec_q4_1_q8_1(const MatvecArgs& a);
void matvec_q5_0_q8_0(const MatvecArgs& a);
void matvec_q5_1_q8_1(const MatvecArgs& a);
void matvec_q8_0_q8_0(const MatvecArgs& a);
void matvec_q4_K_q8_K(const MatvecArgs& a);
void matvec_q5_K_q8_K(const MatvecArgs& a);
void matvec_q6_K_q8_K(const MatvecArgs& a);
// Float weights x fp32 activations.
void matvec_f32_f32(const MatvecArgs& a);
void matvec_f16_f32(const MatvecArgs& a);
void matvec_bf16_f32(const MatvecArgs& a);

// References of the same signature: each row and x dequantized to double, dot in double.
// This is the specification: y[i] = Σ_j dequant(W)[i][j] · dequant(x)[j].
void matvec_q4_0_q8_0_ref(const MatvecArgs& a);
void matvec_q4_1_q8_1_ref(const MatvecArgs& a);
void matvec_q5_0_q8_0_ref(const MatvecArgs& a);
void matvec_q5_1_q8_1_ref(const MatvecArgs& a);
void matvec_q8_0_q8_0_ref(const MatvecArgs& a);
void matvec_q4_K_q8_K_ref(const MatvecArgs& a);
void matvec_q5_K_q8_K_ref(const MatvecArgs& a);
void matvec_q6_K_q8_K_ref(const MatvecArgs& a);
void matvec_f32_f32_ref(const MatvecArgs& a);
void matvec_f16_f32_ref(const MatvecArgs& a);
void matvec_bf16_f32_ref(const MatvecArgs& a);

// Activation quantization x (n) float -> y (n / block) blocks, bit-identical to the scalar
// quantize_row_*_ref of quant/codecs.h for finite inputs (NaN handling may differ).
using QuantizeFn = void (*)(const float* x, void* y, int64_t n);
void quantize_q8_0(const float* x, void* y, int64_t n);
void quantize_q8_1(const float* x, void* y, int64_t n);
void quantize_q8_K(const float* x, void* y, int64_t n);

// One (weight type, activation type) pair. block_size: n_in must be a multiple of it.
// rel_tol: the tests enforce |y − y_ref| <= rel_tol · Σ_j |w_j · x_j| (for Q8_1 pairs
// Σ_j (|w_j| + |m_j|) · |x_j|, m the block minimum; see table.cpp for why).
struct MatvecKernel {
    const char* name;  // "matvec_q4_K_q8_K"
    GgmlType weight;
    GgmlType act;
    MatvecFn kernel;
    MatvecFn reference;
    int64_t block_size;
    double rel_tol;
};

struct QuantizeKernel {
    const char* name;  // "quantize_q8_K"
    GgmlType type;
    QuantizeFn kernel;
    QuantizeFn reference;  // quant/codecs.h quantize_row_*_ref
    int64_t block_size;
};

std::span<const MatvecKernel> matvec_kernels();
std::span<const QuantizeKernel> quantize_kernels();
// nullptr when the pair has no kernel.
const MatvecKernel* find_matvec(GgmlType weight, GgmlType act);
const QuantizeKernel* find_quantize(GgmlType act);

// Batched products on the int8 panels (gemm_x86.h): y (n_tokens, n_out) = x (n_tokens, n_in) · Wᵀ
// with W quantized (Q4_0, Q4_1, Q5_0, Q5_1, Q8_0, Q4_K, Q5_K, Q6_K) and x float32, quantized
// inside to Q8_0 per token; int8 dot products over 16-row interleaved weight panels.
struct GemmArgs {
    GgmlType type;
    const void* w;   // (n_out, n_in) rows of `type`; read by gemm()
    const float* x;  // (n_tokens, n_in)
    float* y;        // (n_tokens, n_out)
    int64_t n_out;
    int64_t n_in;
    int64_t n_tokens;
    const void* packed = nullptr;  // pack_matrix's copy of w; read by packed_matmul()
};
// Panels packed per call (gemm_percall_x86.cpp): prompts on any VNNI type. Whether it runs here
// for this weight type and row length (it needs AVX-512 VNNI; R1_CPU_GEMM=0 in the environment
// turns it off, for comparisons).
bool gemm_supported(GgmlType weight, int64_t n_in);
// Threaded over panels of rows; the result does not depend on n_threads.
void gemm(const GemmArgs& a, int n_threads);

// Instruction-set classes of the CPU kernels, lowest first. The cap (r1 bench --isa, the tests)
// makes one machine run the paths a smaller CPU takes: the int8 products and Highway's dispatch.
enum class Isa { Scalar, Avx2, Avx512 };
// The best class this CPU runs (x86: AVX-512 = F/BW/VL/DQ + VNNI; elsewhere Scalar, meaning
// "Highway's own dispatch only").
Isa cpu_isa();
Isa isa_cap();
// Caps every later kernel choice at `cap` (process-wide; set it before loading a model, since
// weights are repacked for the ISA of the moment).
void set_isa_cap(Isa cap);
const char* isa_name(Isa isa);  // "scalar", "avx2", "avx512"
// One of those names to the class; false for anything else.
bool parse_isa(std::string_view name, Isa& out);

// Weight matrices repacked once (at model load, gemm_pack_x86.cpp) into 16-row interleaved
// panels: Q4_0, Q8_0, Q6_K (same bytes as the file) and Q4_K (+2.8%), used for every batch size,
// decode included, by AVX-512 VNNI (gemm_packed_x86.cpp) or AVX2 (gemm_packed_avx2.cpp) kernels.
// pack_supported() is false where neither runs.
bool pack_supported(GgmlType weight, int64_t n_in);
size_t packed_bytes(GgmlType weight, int64_t n_out, int64_t n_in);
// out: packed_bytes() bytes.
void pack_matrix(GgmlType weight, const void* w, int64_t n_out, int64_t n_in, void* out, int n_threads);
// As gemm(), from a.packed (a.w is not read).
void packed_matmul(const GemmArgs& a, int n_threads);

// The reference of both (reference.cpp): every row of W dequantized, every token quantized to
// Q8_0 by quant/'s scalar codec and dequantized, dot products in double. One thread; a.w only.
void gemm_q8_0_ref(const GemmArgs& a);

// One VNNI product with its reference. rel_tol: the tests enforce, per output,
//   |y − y_ref| <= rel_tol · Σ_i (|w_i| + 2·max_j |w_j|) · |x_i|  (+1e-6)
// with x the Q8_0-rounded activations: both terms of dw·da·Σq·qa − mw·da·Σqa are rounded in
// fp32 and each can be as large as (|w| + |offset|)·|x|, the offset up to ~max|w| (Q8_0: 128·d).
struct GemmKernel {
    const char* name;  // "gemm_q4_0_q8_0" (panels per call) or "packed_q4_0_q8_0" (from load)
    GgmlType weight;
    bool packed;  // reads GemmArgs::packed, made by pack_matrix
    bool (*supported)(GgmlType weight, int64_t n_in);
    void (*kernel)(const GemmArgs& a, int n_threads);
    void (*reference)(const GemmArgs& a);
    double rel_tol;
};
std::span<const GemmKernel> gemm_kernels();

// Attention pieces (attention_simd.cpp). One query row against n_pos cached positions:
// out (v_dim) = Σ_j softmax_j(scale · q·k_j) · v_j, with K given transposed.
struct AttendArgs {
    const float* q;   // (k_dim)
    const float* kt;  // (k_dim, ld): column j is k_j; ld >= n_pos rounded up to attn_lanes()
    const float* v;   // (n_pos, v_dim)
    float* scores;    // scratch of ld floats
    float* out;       // (v_dim)
    int64_t n_pos;    // >= 1
    int64_t ld;
    int64_t k_dim;
    int64_t v_dim;  // a multiple of attn_lanes()
    float scale;
};
int64_t attn_lanes();  // float lanes of the dispatched target
void attend_row(const AttendArgs& a);
// The definition in double (reference.cpp).
void attend_row_ref(const AttendArgs& a);
// abs_tol: the tests enforce |out − out_ref| <= abs_tol for inputs of unit scale.
struct AttendKernel {
    const char* name;  // "attend_row_f32"
    void (*kernel)(const AttendArgs& a);
    void (*reference)(const AttendArgs& a);
    double abs_tol;
};
std::span<const AttendKernel> attend_kernels();

// Element-wise rows (elementwise_simd.cpp, Highway): y (n) from a (n), b (n) and s; y may alias
// a or b. The references (reference.cpp) compute each element in double.
struct RowArgs {
    const float* a;
    const float* b;  // the binary kernels' second operand, else unused
    float* y;
    int64_t n;
    float s = 0.0f;  // scale's factor, else unused
};
using RowFn = void (*)(const RowArgs&);
void silu_mul_f32(const RowArgs& r);  // y = silu(a) ⊙ b = a / (1 + e^−a) · b (SwiGLU)
void add_f32(const RowArgs& r);       // y = a + b
void mul_f32(const RowArgs& r);       // y = a ⊙ b
void scale_f32(const RowArgs& r);     // y = s · a
void sigmoid_f32(const RowArgs& r);   // y = 1 / (1 + e^−a)
void softmax_f32(const RowArgs& r);   // y = e^(a − max a) / Σ e^(a − max a)
void silu_mul_f32_ref(const RowArgs& r);
void add_f32_ref(const RowArgs& r);
void mul_f32_ref(const RowArgs& r);
void scale_f32_ref(const RowArgs& r);
void sigmoid_f32_ref(const RowArgs& r);
void softmax_f32_ref(const RowArgs& r);
// The tests enforce |y − y_ref| <= rel_tol · |y_ref| + abs_tol per element.
struct RowKernel {
    const char* name;  // "add_f32"
    RowFn kernel;
    RowFn reference;
    bool binary;  // reads b
    double rel_tol;
    double abs_tol;
};
std::span<const RowKernel> row_kernels();

// n fp16 values to fp32 (F16C where the CPU has it); exact, as fp16_to_fp32 per element.
void f16_row_to_f32(const uint16_t* src, float* dst, int64_t n);

// The kernel's rows split across the OpenMP threads in chunks of whole row groups.
void matvec_parallel(const MatvecKernel& k, const MatvecArgs& a, int n_threads);

}  // namespace r1::cpu
