// Every entry of the CPU kernel tables against its reference, on every Highway target that is
// compiled and supported here (hwy::TestWithParamTarget): matvec on sizes {1 block, n−1, n,
// n+1, odd multiples} with the per-pair bound of the table; activation quantizers byte for
// byte against quant/'s scalar quantize_row_*_ref, including ties and sign-of-max corner cases.
#include <gtest/gtest.h>
#include <hwy/highway.h>
#include <hwy/tests/hwy_gtest.h>

#include <cmath>
#include <cstring>
#include <random>
#include <vector>

#include "backends/cpu/kernels.h"
#include "quant/codecs.h"
#include "quant/fp16.h"

namespace r1::cpu {
namespace {

// Gaussian values with a few outliers (heavy tail), like real weights and activations.
std::vector<float> random_floats(size_t n, uint32_t seed) {
    std::mt19937 rng(seed);
    std::normal_distribution<float> normal(0.0f, 1.0f);
    std::uniform_real_distribution<float> uniform(0.0f, 1.0f);
    std::vector<float> v(n);
    for (float& x : v) x = normal(rng) * (uniform(rng) < 0.01f ? 20.0f : 1.0f);
    return v;
}

std::vector<uint8_t> quantize(GgmlType t, const std::vector<float>& x, int64_t rows, int64_t cols) {
    std::vector<uint8_t> out(row_bytes(t, static_cast<uint64_t>(cols)) * static_cast<size_t>(rows));
    quantize_rows(t, x.data(), out.data(), rows, cols);
    return out;
}

std::vector<float> dequantize(GgmlType t, const std::vector<uint8_t>& q, int64_t n) {
    std::vector<float> out(static_cast<size_t>(n));
    codec(t)->dequantize_row(q.data(), out.data(), n);
    return out;
}

// The fp16 minimum m of the Q4_1/Q5_1 block holding element j (both store d, m first).
double block_min(const uint8_t* row, GgmlType t, int64_t j) {
    uint16_t m;
    std::memcpy(&m, row + static_cast<size_t>(j / 32) * type_traits(t).type_size + 2, 2);
    return fp16_to_fp32(m);
}

class CpuKernels : public hwy::TestWithParamTarget {};
HWY_TARGET_INSTANTIATE_TEST_SUITE_P(CpuKernels);

TEST_P(CpuKernels, MatvecMatchesReference) {
    for (const MatvecKernel& k : matvec_kernels()) {
        // Block counts around n = 8 plus odd multiples; 1025 blocks of 32 span three column
        // chunks of the legacy kernels; float formats (block 1) around 16 lanes.
        std::vector<int64_t> blocks = {1, 7, 8, 9, 3, 13};
        if (k.block_size == 32) blocks.push_back(1025);
        if (k.block_size == 1) blocks = {1, 15, 16, 17, 33, 257, 1001};
        for (int64_t nb : blocks) {
            for (int64_t n_out : {1, 4, 7, 9}) {
                const int64_t n_in = nb * k.block_size;
                SCOPED_TRACE(testing::Message() << k.name << " n_out=" << n_out << " n_in=" << n_in);
                const uint32_t seed = static_cast<uint32_t>(n_in * 31 + n_out);
                const auto w = quantize(k.weight, random_floats(static_cast<size_t>(n_out * n_in), seed), n_out, n_in);
                const auto x = quantize(k.act, random_floats(static_cast<size_t>(n_in), seed + 1), 1, n_in);
                std::vector<float> y(static_cast<size_t>(n_out), NAN), y_ref(static_cast<size_t>(n_out), NAN);
                k.kernel({.w = w.data(), .x = x.data(), .y = y.data(), .n_out = n_out, .n_in = n_in});
                k.reference({.w = w.data(), .x = x.data(), .y = y_ref.data(), .n_out = n_out, .n_in = n_in});
                const auto xf = dequantize(k.act, x, n_in);
                const size_t rb = row_bytes(k.weight, static_cast<uint64_t>(n_in));
                std::vector<float> wf(static_cast<size_t>(n_in));
                for (int64_t r = 0; r < n_out; ++r) {
                    codec(k.weight)->dequantize_row(w.data() + static_cast<size_t>(r) * rb, wf.data(), n_in);
                    double scale = 0.0;  // Σ |w_j · x_j|, for Q8_1 pairs Σ (|w_j| + |m_j|) · |x_j|
                    for (int64_t j = 0; j < n_in; ++j) {
                        scale += std::fabs(static_cast<double>(wf[j]) * xf[j]);
                        if (k.act == GgmlType::Q8_1) scale += std::fabs(block_min(w.data() + static_cast<size_t>(r) * rb, k.weight, j) * xf[j]);
                    }
                    const double err = std::fabs(static_cast<double>(y[r]) - y_ref[r]);
                    EXPECT_LE(err, k.rel_tol * scale + 1e-30) << "row " << r << " y=" << y[r] << " ref=" << y_ref[r];
                }
            }
        }
    }
}

// Rows that exercise roundf's half-away ties (Q8_0/Q8_1: amax 127 makes 1/d exactly 1),
// nearest_int's half-even ties and the first signed max with |max| repeated (Q8_K), zero
// blocks, and random heavy-tailed data.
std::vector<float> quantizer_input(int64_t n, uint32_t seed) {
    std::vector<float> x = random_floats(static_cast<size_t>(n), seed);
    const int64_t b = n / 256 > 0 ? 256 : 32;
    if (n >= 2 * b) {
        for (int64_t j = 0; j < b; ++j) x[static_cast<size_t>(j)] = static_cast<float>(j % 17) - 8.5f;
        x[0] = 127.0f;
        x[static_cast<size_t>(b - 1)] = -127.0f;  // same |max|, other sign: the first one wins
        for (int64_t j = b; j < 2 * b; ++j) x[static_cast<size_t>(j)] = 0.0f;
    }
    return x;
}

TEST_P(CpuKernels, QuantizeBitIdenticalToReference) {
    for (const QuantizeKernel& k : quantize_kernels()) {
        const size_t bytes_per_block = type_traits(k.type).type_size;
        for (int64_t nb : {1, 2, 3, 7, 8, 9}) {
            const int64_t n = nb * k.block_size;
            SCOPED_TRACE(testing::Message() << k.name << " n=" << n);
            const auto x = quantizer_input(n, static_cast<uint32_t>(n));
            std::vector<uint8_t> y(static_cast<size_t>(nb) * bytes_per_block, 0xAB), y_ref(y.size(), 0xCD);
            k.kernel(x.data(), y.data(), n);
            k.reference(x.data(), y_ref.data(), n);
            for (int64_t b = 0; b < nb; ++b) {
                const size_t off = static_cast<size_t>(b) * bytes_per_block;
                EXPECT_EQ(0, std::memcmp(y.data() + off, y_ref.data() + off, bytes_per_block)) << "block " << b;
            }
        }
    }
}

TEST(CpuKernelTable, EveryPairIsListedOnce) {
    for (const MatvecKernel& k : matvec_kernels()) {
        EXPECT_EQ(find_matvec(k.weight, k.act), &k) << k.name;
        EXPECT_EQ(k.block_size, static_cast<int64_t>(type_traits(k.weight).block_size)) << k.name;
        if (k.act != GgmlType::F32) {
            EXPECT_NE(find_quantize(k.act), nullptr) << k.name;
        }
    }
    EXPECT_EQ(find_matvec(GgmlType::Q4_0, GgmlType::Q8_K), nullptr);
}

TEST(CpuKernelTable, ParallelSplitMatchesSerial) {
    const MatvecKernel& k = *find_matvec(GgmlType::Q4_K, GgmlType::Q8_K);
    const int64_t n_out = 37, n_in = 512;
    const auto w = quantize(k.weight, random_floats(n_out * n_in, 5), n_out, n_in);
    const auto x = quantize(k.act, random_floats(n_in, 6), 1, n_in);
    std::vector<float> y(n_out), y2(n_out);
    k.kernel({.w = w.data(), .x = x.data(), .y = y.data(), .n_out = n_out, .n_in = n_in});
    matvec_parallel(k, {.w = w.data(), .x = x.data(), .y = y2.data(), .n_out = n_out, .n_in = n_in}, 2);
    EXPECT_EQ(y, y2);
}

}  // namespace
}  // namespace r1::cpu
