// Plain-loop references of the kernels: matvec (every weight row and the activations
// dequantized with quant/'s scalar codecs and dotted in double), the VNNI products (the same
// with the activations rounded through Q8_0), one attention row and the element-wise rows in
// double. They allocate (row buffers) and are for tests and benchmark validation only.
#include <algorithm>
#include <cmath>
#include <vector>

#include "backends/cpu/kernels.h"
#include "quant/codecs.h"
#include "core/error.h"

namespace r1::cpu {
namespace {

// W (n_out, n_in) · x (n_in) -> y (n_out), W and x dequantized from types wt and at.
void matvec_dequant_ref(GgmlType wt, GgmlType at, const MatvecArgs& a) {
    const Codec* wc = codec(wt);
    const Codec* ac = codec(at);
    R1_CHECK(wc != nullptr && ac != nullptr);
    const size_t n_in = static_cast<size_t>(a.n_in);
    std::vector<float> x(n_in), w(n_in);
    ac->dequantize_row(a.x, x.data(), a.n_in);
    const size_t rb = row_bytes(wt, n_in);
    for (int64_t r = 0; r < a.n_out; ++r) {
        wc->dequantize_row(static_cast<const uint8_t*>(a.w) + static_cast<size_t>(r) * rb, w.data(), a.n_in);
        double sum = 0.0;
        for (size_t j = 0; j < n_in; ++j) sum += static_cast<double>(w[j]) * static_cast<double>(x[j]);
        a.y[r] = static_cast<float>(sum);
    }
}

}  // namespace

void matvec_q4_0_q8_0_ref(const MatvecArgs& a) { matvec_dequant_ref(GgmlType::Q4_0, GgmlType::Q8_0, a); }
void matvec_q4_1_q8_1_ref(const MatvecArgs& a) { matvec_dequant_ref(GgmlType::Q4_1, GgmlType::Q8_1, a); }
void matvec_q5_0_q8_0_ref(const MatvecArgs& a) { matvec_dequant_ref(GgmlType::Q5_0, GgmlType::Q8_0, a); }
void matvec_q5_1_q8_1_ref(const MatvecArgs& a) { matvec_dequant_ref(GgmlType::Q5_1, GgmlType::Q8_1, a); }
void matvec_q8_0_q8_0_ref(const MatvecArgs& a) { matvec_dequant_ref(GgmlType::Q8_0, GgmlType::Q8_0, a); }
void matvec_q4_K_q8_K_ref(const MatvecArgs& a) { matvec_dequant_ref(GgmlType::Q4_K, GgmlType::Q8_K, a); }
void matvec_q5_K_q8_K_ref(const MatvecArgs& a) { matvec_dequant_ref(GgmlType::Q5_K, GgmlType::Q8_K, a); }
void matvec_q6_K_q8_K_ref(const MatvecArgs& a) { matvec_dequant_ref(GgmlType::Q6_K, GgmlType::Q8_K, a); }
void matvec_f32_f32_ref(const MatvecArgs& a) { matvec_dequant_ref(GgmlType::F32, GgmlType::F32, a); }
void matvec_f16_f32_ref(const MatvecArgs& a) { matvec_dequant_ref(GgmlType::F16, GgmlType::F32, a); }
void matvec_bf16_f32_ref(const MatvecArgs& a) { matvec_dequant_ref(GgmlType::BF16, GgmlType::F32, a); }

void attend_row_ref(const AttendArgs& a) {
    std::vector<double> p(static_cast<size_t>(a.n_pos));
    double mx = -INFINITY, sum = 0;
    for (int64_t j = 0; j < a.n_pos; ++j) {
        double s = 0;
        for (int64_t d = 0; d < a.k_dim; ++d) s += double(a.q[d]) * double(a.kt[d * a.ld + j]);
        p[size_t(j)] = s * double(a.scale);
        mx = std::max(mx, p[size_t(j)]);
    }
    for (auto& x : p) sum += x = std::exp(x - mx);
    for (int64_t d = 0; d < a.v_dim; ++d) {
        double o = 0;
        for (int64_t j = 0; j < a.n_pos; ++j) o += p[size_t(j)] * double(a.v[j * a.v_dim + d]);
        a.out[d] = float(o / sum);
    }
}

void gemm_q8_0_ref(const GemmArgs& a) {
    const size_t n_in = size_t(a.n_in), act_row = row_bytes(GgmlType::Q8_0, n_in);
    std::vector<uint8_t> blocks(act_row);
    std::vector<float> x(n_in * size_t(a.n_tokens));
    for (int64_t t = 0; t < a.n_tokens; ++t) {  // what the products multiply: Q8_0(x) dequantized
        quantize_row_q8_0_ref(a.x + t * a.n_in, reinterpret_cast<BlockQ8_0*>(blocks.data()), a.n_in);
        codec(GgmlType::Q8_0)->dequantize_row(blocks.data(), x.data() + size_t(t) * n_in, a.n_in);
    }
    std::vector<float> w(n_in);
    const size_t rb = row_bytes(a.type, n_in);
    for (int64_t r = 0; r < a.n_out; ++r) {
        R1_CHECK(codec(a.type) != nullptr);
        codec(a.type)->dequantize_row(static_cast<const uint8_t*>(a.w) + size_t(r) * rb, w.data(), a.n_in);
        for (int64_t t = 0; t < a.n_tokens; ++t) {
            double sum = 0.0;
            for (size_t j = 0; j < n_in; ++j) sum += double(w[j]) * double(x[size_t(t) * n_in + j]);
            a.y[t * a.n_out + r] = float(sum);
        }
    }
}

void silu_mul_f32_ref(const RowArgs& r) {
    for (int64_t i = 0; i < r.n; ++i) {
        const double a = r.a[i];
        r.y[i] = float(a / (1.0 + std::exp(-a)) * double(r.b[i]));
    }
}
void add_f32_ref(const RowArgs& r) {
    for (int64_t i = 0; i < r.n; ++i) r.y[i] = float(double(r.a[i]) + double(r.b[i]));
}
void mul_f32_ref(const RowArgs& r) {
    for (int64_t i = 0; i < r.n; ++i) r.y[i] = float(double(r.a[i]) * double(r.b[i]));
}
void scale_f32_ref(const RowArgs& r) {
    for (int64_t i = 0; i < r.n; ++i) r.y[i] = float(double(r.a[i]) * double(r.s));
}
void sigmoid_f32_ref(const RowArgs& r) {
    for (int64_t i = 0; i < r.n; ++i) r.y[i] = float(1.0 / (1.0 + std::exp(-double(r.a[i]))));
}
void softmax_f32_ref(const RowArgs& r) {
    if (r.n == 0) return;
    const double mx = *std::max_element(r.a, r.a + r.n);
    std::vector<double> e(size_t(r.n));
    double sum = 0;
    for (int64_t i = 0; i < r.n; ++i) sum += e[size_t(i)] = std::exp(double(r.a[i]) - mx);
    for (int64_t i = 0; i < r.n; ++i) r.y[i] = float(e[size_t(i)] / sum);
}

}  // namespace r1::cpu
