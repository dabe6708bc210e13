// The codec table (coverage, type-erased entries equal the typed functions, quantize_rows)
// and layout checks of the K-quant codecs: an independent decode of the Q4_K/Q5_K/Q6_K bit
// layouts written from GGUF.md §2.9-2.11, and the requantization property of the quantizers.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <random>
#include <vector>

#include "quant/codecs.h"
#include "quant/fp16.h"
#include "tests/quant/quant_test_util.h"

namespace r1 {
namespace {

constexpr GgmlType kWithCodec[] = {GgmlType::F32,  GgmlType::F16,  GgmlType::BF16, GgmlType::Q4_0,
                                   GgmlType::Q4_1, GgmlType::Q5_0, GgmlType::Q5_1, GgmlType::Q8_0,
                                   GgmlType::Q8_1, GgmlType::Q4_K, GgmlType::Q5_K, GgmlType::Q6_K,
                                   GgmlType::Q8_K};

std::vector<float> gaussian(size_t n, uint32_t seed, float sigma = 1.0f) {
    std::mt19937 rng(seed);
    std::normal_distribution<float> g(0.0f, sigma);
    std::vector<float> x(n);
    for (float& v : x) v = g(rng);
    return x;
}

TEST(CodecTable, CoversExactlyTheImplementedTypes) {
    for (GgmlType t : kWithCodec) {
        const Codec* c = codec(t);
        ASSERT_NE(c, nullptr) << type_traits(t).name;
        EXPECT_EQ(c->type, t);
        EXPECT_NE(c->quantize_row, nullptr);
        EXPECT_NE(c->dequantize_row, nullptr);
    }
    for (GgmlType t : {GgmlType::Q2_K, GgmlType::Q3_K, GgmlType::IQ4_NL, GgmlType::IQ4_XS, GgmlType::I8,
                       GgmlType::F64, GgmlType::MXFP4, GgmlType::TQ1_0}) {
        EXPECT_EQ(codec(t), nullptr) << type_traits(t).name;
    }
}

template <class Block>
void expect_same_as_typed(GgmlType t, void (*q)(const float*, Block*, int64_t),
                          void (*d)(const Block*, float*, int64_t)) {
    const int64_t n = 512;
    const std::vector<float> x = gaussian(n, 3);
    std::vector<Block> typed(n / type_traits(t).block_size);
    q(x.data(), typed.data(), n);
    std::vector<uint8_t> erased(row_bytes(t, n));
    ASSERT_EQ(erased.size(), typed.size() * sizeof(Block));
    codec(t)->quantize_row(x.data(), erased.data(), n);
    EXPECT_EQ(std::memcmp(erased.data(), typed.data(), erased.size()), 0) << type_traits(t).name;
    std::vector<float> a(n), b(n);
    d(typed.data(), a.data(), n);
    codec(t)->dequantize_row(erased.data(), b.data(), n);
    EXPECT_EQ(a, b) << type_traits(t).name;
}

TEST(CodecTable, ErasedEntriesCallTheTypedFunctions) {
    expect_same_as_typed(GgmlType::Q4_0, quantize_row_q4_0_ref, dequantize_row_q4_0);
    expect_same_as_typed(GgmlType::Q4_1, quantize_row_q4_1_ref, dequantize_row_q4_1);
    expect_same_as_typed(GgmlType::Q5_0, quantize_row_q5_0_ref, dequantize_row_q5_0);
    expect_same_as_typed(GgmlType::Q5_1, quantize_row_q5_1_ref, dequantize_row_q5_1);
    expect_same_as_typed(GgmlType::Q8_0, quantize_row_q8_0_ref, dequantize_row_q8_0);
    expect_same_as_typed(GgmlType::Q8_1, quantize_row_q8_1_ref, dequantize_row_q8_1);
    expect_same_as_typed(GgmlType::Q4_K, quantize_row_q4_K_ref, dequantize_row_q4_K);
    expect_same_as_typed(GgmlType::Q5_K, quantize_row_q5_K_ref, dequantize_row_q5_K);
    expect_same_as_typed(GgmlType::Q6_K, quantize_row_q6_K_ref, dequantize_row_q6_K);
    expect_same_as_typed(GgmlType::Q8_K, quantize_row_q8_K_ref, dequantize_row_q8_K);
    expect_same_as_typed<uint16_t>(GgmlType::F16, fp32_to_fp16_row, fp16_to_fp32_row);
    expect_same_as_typed<uint16_t>(GgmlType::BF16, fp32_to_bf16_row, bf16_to_fp32_row);
}

TEST(CodecTable, F32IsACopy) {
    const std::vector<float> x = gaussian(64, 4);
    std::vector<float> y(64), z(64);
    EXPECT_EQ(quantize_rows(GgmlType::F32, x.data(), y.data(), 2, 32), 256u);
    EXPECT_EQ(x, y);
    codec(GgmlType::F32)->dequantize_row(y.data(), z.data(), 64);
    EXPECT_EQ(x, z);
}

TEST(CodecTable, QuantizeRowsIsRowByRow) {
    const int64_t rows = 3, cols = 512;
    const std::vector<float> x = gaussian(rows * cols, 8);
    for (GgmlType t : kWithCodec) {
        const size_t rb = row_bytes(t, cols);
        std::vector<uint8_t> all(rows * rb + 7, 0xAB);
        ASSERT_EQ(quantize_rows(t, x.data(), all.data(), rows, cols), rows * rb) << type_traits(t).name;
        for (size_t i = rows * rb; i < all.size(); ++i) EXPECT_EQ(all[i], 0xAB) << "wrote past the end";
        for (int64_t r = 0; r < rows; ++r) {
            std::vector<uint8_t> one(rb);
            codec(t)->quantize_row(x.data() + r * cols, one.data(), cols);
            EXPECT_EQ(std::memcmp(one.data(), all.data() + r * rb, rb), 0) << type_traits(t).name << " row " << r;
        }
    }
}

// Sub-block scale and min of Q4_K/Q5_K, decoded straight from the §2.9 bit description.
void k_scale_min(const uint8_t* s, int j, int& sc, int& m) {
    if (j < 4) {
        sc = s[j] & 63;
        m = s[j + 4] & 63;
    } else {
        sc = (s[j + 4] & 0x0F) | ((s[j - 4] >> 6) << 4);
        m = (s[j + 4] >> 4) | ((s[j] >> 6) << 4);
    }
}

// Element e's quant in a Q4_K / Q5_K block (§2.9/§2.10 tables).
int q4k_quant(const BlockQ4_K& b, int e) {
    const int c = e / 64, l = e % 32;
    return (e % 64) < 32 ? b.qs[32 * c + l] & 0xF : b.qs[32 * c + l] >> 4;
}
int q5k_quant(const BlockQ5_K& b, int e) {
    const int c = e / 64, l = e % 32, hi = (e % 64) >= 32;
    const int lo = hi ? b.qs[32 * c + l] >> 4 : b.qs[32 * c + l] & 0xF;
    return lo + 16 * ((b.qh[l] >> (2 * c + hi)) & 1);
}
// §2.11 table: half h, l = 0..31, rows base+l, +32, +64, +96.
int q6k_quant(const BlockQ6_K& b, int e) {
    const int h = e / 128, r = e % 128, l = r % 32, part = r / 32;
    const uint8_t ql = b.ql[64 * h + l + (part & 1 ? 32 : 0)];
    const int low = part < 2 ? ql & 0xF : ql >> 4;
    const int high = (b.qh[32 * h + l] >> (2 * part)) & 3;
    return low | (high << 4);
}

// Each stored quant is the nearest one for the stored (rounded) scales, as the reference's
// final requantization pass makes it, and the dequantizer evaluates d*sc*q - dmin*m.
template <class Block>
void check_affine_k(const std::vector<float>& x, void (*quant)(const float*, Block*, int64_t),
                    void (*dequant)(const Block*, float*, int64_t), int (*q_of)(const Block&, int), int nmax) {
    const int64_t n = static_cast<int64_t>(x.size());
    std::vector<Block> blocks(n / kQK_K);
    quant(x.data(), blocks.data(), n);
    std::vector<float> y(n);
    dequant(blocks.data(), y.data(), n);
    for (size_t i = 0; i < blocks.size(); ++i) {
        const Block& b = blocks[i];
        for (int j = 0; j < 8; ++j) {
            int sc, m;
            k_scale_min(b.scales, j, sc, m);
            const float D = fp16_to_fp32(b.d) * static_cast<float>(sc);
            const float M = fp16_to_fp32(b.dmin) * static_cast<float>(m);
            for (int l = 0; l < 32; ++l) {
                const int e = 32 * j + l;
                const float xe = x[kQK_K * i + e];
                const int q = q_of(b, e);
                if (D != 0.0f) {
                    const int want = std::clamp(nearest_int((xe + M) / D), 0, nmax);
                    ASSERT_EQ(q, want) << "block " << i << " element " << e;
                }
                ASSERT_EQ(y[kQK_K * i + e], D * static_cast<float>(q) - M) << "block " << i << " element " << e;
            }
        }
    }
}

TEST(KQuantLayout, Q4KQuantsAreNearestForStoredScales) {
    check_affine_k<BlockQ4_K>(gaussian(256 * 64, 21), quantize_row_q4_K_ref, dequantize_row_q4_K, q4k_quant, 15);
    check_affine_k<BlockQ4_K>(test::gguf_test_row(), quantize_row_q4_K_ref, dequantize_row_q4_K, q4k_quant, 15);
}

TEST(KQuantLayout, Q5KQuantsAreNearestForStoredScales) {
    check_affine_k<BlockQ5_K>(gaussian(256 * 64, 22), quantize_row_q5_K_ref, dequantize_row_q5_K, q5k_quant, 31);
    check_affine_k<BlockQ5_K>(test::gguf_test_row(), quantize_row_q5_K_ref, dequantize_row_q5_K, q5k_quant, 31);
}

TEST(KQuantLayout, Q6KQuantsAreNearestForStoredScales) {
    const std::vector<float> x = gaussian(256 * 64, 23);
    const int64_t n = static_cast<int64_t>(x.size());
    std::vector<BlockQ6_K> blocks(n / kQK_K);
    quantize_row_q6_K_ref(x.data(), blocks.data(), n);
    std::vector<float> y(n);
    dequantize_row_q6_K(blocks.data(), y.data(), n);
    for (size_t i = 0; i < blocks.size(); ++i) {
        for (int e = 0; e < kQK_K; ++e) {
            const float D = fp16_to_fp32(blocks[i].d) * static_cast<float>(blocks[i].scales[e / 16]);
            const int q = q6k_quant(blocks[i], e);
            const float xe = x[kQK_K * i + e];
            if (D != 0.0f) {
                ASSERT_EQ(q, std::clamp(nearest_int(xe / D), -32, 31) + 32) << i << " " << e;
            }
            ASSERT_EQ(y[kQK_K * i + e], D * static_cast<float>(q - 32)) << i << " " << e;
        }
    }
}

TEST(KQuantLayout, Q8KBsumsAndScale) {
    const std::vector<float> x = gaussian(512, 24);
    std::vector<BlockQ8_K> b(2);
    quantize_row_q8_K_ref(x.data(), b.data(), 512);
    for (int i = 0; i < 2; ++i) {
        float amax = 0;
        for (int j = 0; j < kQK_K; ++j) amax = std::max(amax, std::fabs(x[kQK_K * i + j]));
        EXPECT_NEAR(std::fabs(b[i].d), amax / 127, amax * 1e-6f);
        for (int g = 0; g < 16; ++g) {
            int s = 0;
            for (int l = 0; l < 16; ++l) s += b[i].qs[16 * g + l];
            EXPECT_EQ(b[i].bsums[g], s);
        }
    }
}

TEST(KQuantLayout, Q8_1SumField) {
    const std::vector<float> x = gaussian(64, 25);
    std::vector<BlockQ8_1> b(2);
    quantize_row_q8_1_ref(x.data(), b.data(), 64);
    std::vector<BlockQ8_0> c(2);
    quantize_row_q8_0_ref(x.data(), c.data(), 64);
    for (int i = 0; i < 2; ++i) {
        EXPECT_EQ(b[i].d, c[i].d);
        EXPECT_EQ(std::memcmp(b[i].qs, c[i].qs, 32), 0);
        int s = 0;
        for (int8_t q : b[i].qs) s += q;
        // s = fp16(d_unrounded * sum): within one fp16 rounding of fp32(d) * sum.
        const float want = fp16_to_fp32(c[i].d) * static_cast<float>(s);
        EXPECT_NEAR(fp16_to_fp32(b[i].s), want, std::fabs(want) * 2e-3f + 1e-6f);
    }
}

}  // namespace
}  // namespace r1
