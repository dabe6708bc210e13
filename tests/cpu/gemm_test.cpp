// The batched int8 GEMM against a double-precision product of the dequantized weights and the
// activations quantized to Q8_0 by quant/'s reference codec (the GEMM's stated arithmetic),
// over every supported weight type, ragged row counts (masked panels) and token counts (every
// micro-kernel width), and 1/2/3 threads giving identical bits.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <random>
#include <vector>

#include "backends/cpu/kernels.h"
#include "quant/codecs.h"
#include "quant/types.h"

namespace r1::cpu {
namespace {

std::vector<float> randn(size_t n, uint32_t seed, float scale) {
    std::mt19937 g(seed);
    std::normal_distribution<float> d(0.0f, scale);
    std::vector<float> v(n);
    for (auto& x : v) x = d(g);
    return v;
}

// Runs `product` (1, 2 and 3 threads must agree bit for bit) on random weights of type t and
// checks it against Σ dequant(w)·dequant(Q8_0(x)) in double.
template <class Product>
void check_products(GgmlType t, Product product) {
    const int64_t block = type_traits(t).block_size;
    for (int64_t n_in : {block, 3 * block}) {
        for (int64_t n_out : {5, 16, 37}) {
            for (int64_t n_tok : {1, 2, 7, 8, 13}) {
                const uint32_t seed = uint32_t(n_in * 131 + n_out * 7 + n_tok);
                // Weights with an offset so that minimum-carrying formats get non-trivial mins.
                auto wf = randn(size_t(n_out * n_in), seed, 0.5f);
                for (size_t i = 0; i < wf.size(); i += 3) wf[i] += 0.3f;
                const size_t wrow = row_bytes(t, uint64_t(n_in));
                std::vector<uint8_t> wq(size_t(n_out) * wrow);
                quantize_rows(t, wf.data(), wq.data(), n_out, n_in);
                std::vector<float> wd(wf.size());
                for (int64_t r = 0; r < n_out; ++r)
                    codec(t)->dequantize_row(wq.data() + size_t(r) * wrow, wd.data() + r * n_in, n_in);

                auto x = randn(size_t(n_tok * n_in), seed + 1, 1.0f);
                std::vector<float> xq(x.size());
                std::vector<uint8_t> blocks(row_bytes(GgmlType::Q8_0, uint64_t(n_in)));
                for (int64_t k = 0; k < n_tok; ++k) {
                    codec(GgmlType::Q8_0)->quantize_row(x.data() + k * n_in, blocks.data(), n_in);
                    codec(GgmlType::Q8_0)->dequantize_row(blocks.data(), xq.data() + k * n_in, n_in);
                }

                std::vector<float> y1(size_t(n_tok * n_out), NAN), y2(y1), y3(y1);
                const GemmArgs a{.type = t, .w = wq.data(), .x = x.data(), .y = y1.data(), .n_out = n_out,
                                 .n_in = n_in, .n_tokens = n_tok};
                product(a, 1);
                GemmArgs a2 = a;
                a2.y = y2.data();
                product(a2, 2);
                a2.y = y3.data();
                product(a2, 3);
                EXPECT_EQ(y1, y2);
                EXPECT_EQ(y1, y3);

                for (int64_t k = 0; k < n_tok; ++k)
                    for (int64_t r = 0; r < n_out; ++r) {
                        double s = 0, mag = 0, wmax = 0;
                        for (int64_t i = 0; i < n_in; ++i) wmax = std::max(wmax, std::fabs(double(wd[size_t(r * n_in + i)])));
                        for (int64_t i = 0; i < n_in; ++i) {
                            const double wi = wd[size_t(r * n_in + i)], xi = xq[size_t(k * n_in + i)];
                            s += wi * xi;
                            // Float rounding of dw·da·Σq·qa − mw·da·Σqa: the two terms can each be
                            // about (|w| + |offset|)·|x| with the offset up to ~max|w| (Q8_0: 128·d).
                            mag += (std::fabs(wi) + 2 * wmax) * std::fabs(xi);
                        }
                        ASSERT_NEAR(y1[size_t(k * n_out + r)], s, 4e-6 * mag + 1e-6)
                            << type_traits(t).name << " n_in " << n_in << " n_out " << n_out << " token " << k
                            << " row " << r;
                    }
            }
        }
    }
}

class GemmTypes : public testing::TestWithParam<GgmlType> {};

TEST_P(GemmTypes, MatchesDequantizedProductOfQ8_0Activations) {
    const GgmlType t = GetParam();
    if (!gemm_supported(t, type_traits(t).block_size)) GTEST_SKIP() << "no AVX-512 VNNI on this CPU: gemm() is not used here";
    check_products(t, [](const GemmArgs& a, int n_threads) { gemm(a, n_threads); });
}

INSTANTIATE_TEST_SUITE_P(QuantizedWeights, GemmTypes,
                         testing::Values(GgmlType::Q4_0, GgmlType::Q4_1, GgmlType::Q5_0, GgmlType::Q5_1,
                                         GgmlType::Q8_0, GgmlType::Q4_K, GgmlType::Q5_K, GgmlType::Q6_K),
                         [](const auto& info) { return std::string(type_traits(info.param).name); });

class PackedTypes : public testing::TestWithParam<GgmlType> {};

// The same product from weights repacked into panels (what the CPU backend does at load).
TEST_P(PackedTypes, MatchesDequantizedProductOfQ8_0Activations) {
    const GgmlType t = GetParam();
    if (!pack_supported(t, type_traits(t).block_size)) GTEST_SKIP() << "no AVX-512 VNNI on this CPU: no packing here";
    check_products(t, [](const GemmArgs& a, int n_threads) {
        std::vector<uint8_t> mem(packed_bytes(a.type, a.n_out, a.n_in) + 64, 0xAB);
        uint8_t* packed = mem.data() + (64 - reinterpret_cast<uintptr_t>(mem.data()) % 64) % 64;
        pack_matrix(a.type, a.w, a.n_out, a.n_in, packed, n_threads);
        packed_matmul(a, packed, n_threads);
    });
}

INSTANTIATE_TEST_SUITE_P(QuantizedWeights, PackedTypes, testing::Values(GgmlType::Q4_0, GgmlType::Q8_0, GgmlType::Q4_K, GgmlType::Q6_K),
                         [](const auto& info) { return std::string(type_traits(info.param).name); });

TEST(Gemm, UnsupportedTypesAreDeclined) {
    EXPECT_FALSE(pack_supported(GgmlType::Q5_K, 256));  // no packed format (gemm() only)
    EXPECT_FALSE(gemm_supported(GgmlType::F32, 64));
    EXPECT_FALSE(gemm_supported(GgmlType::Q4_0, 48));   // not a whole number of blocks
    EXPECT_FALSE(gemm_supported(GgmlType::Q4_K, 128));  // K-quants need 256
}

}  // namespace
}  // namespace r1::cpu
