// The float kernels of the CPU tables against their references on every Highway target compiled
// and supported here: the element-wise rows (SwiGLU's silu·mul, add, mul, scale, sigmoid,
// softmax) on lengths around the vector widths, in place too; the attention row on ragged
// position counts and both K widths' remainders; fp16 -> fp32 rows exactly.
#include <gtest/gtest.h>
#include <hwy/highway.h>
#include <hwy/tests/hwy_gtest.h>

#include <bit>
#include <cmath>
#include <random>
#include <vector>

#include "backends/cpu/kernels.h"
#include "quant/fp16.h"

namespace r1::cpu {
namespace {

std::vector<float> randn(size_t n, uint32_t seed, float scale) {
    std::mt19937 g(seed);
    std::normal_distribution<float> d(0.0f, scale);
    std::vector<float> v(n);
    for (auto& x : v) x = d(g);
    return v;
}

class FloatKernels : public hwy::TestWithParamTarget {};
HWY_TARGET_INSTANTIATE_TEST_SUITE_P(FloatKernels);

// Lengths {1, n−1, n, n+1, odd} around every vector width up to 16 lanes, and a long row.
const int64_t kLengths[] = {1, 3, 4, 5, 7, 8, 9, 15, 16, 17, 31, 33, 1000};

TEST_P(FloatKernels, RowsMatchTheirReferences) {
    for (const RowKernel& k : row_kernels()) {
        for (int64_t n : kLengths) {
            SCOPED_TRACE(testing::Message() << k.name << " n=" << n);
            // Scale 6: exp's argument spans ±20 (sigmoid and SwiGLU near 0 and 1, softmax spread).
            auto a = randn(size_t(n), uint32_t(n), 6.0f), b = randn(size_t(n), uint32_t(n) + 1, 1.0f);
            std::vector<float> y(size_t(n), NAN), ref(size_t(n), NAN);
            const RowArgs args{.a = a.data(), .b = k.binary ? b.data() : nullptr, .y = y.data(), .n = n, .s = -0.37f};
            k.kernel(args);
            RowArgs r = args;
            r.y = ref.data();
            k.reference(r);
            for (int64_t i = 0; i < n; ++i)
                ASSERT_LE(std::fabs(double(y[size_t(i)]) - ref[size_t(i)]), k.rel_tol * std::fabs(ref[size_t(i)]) + k.abs_tol)
                    << "element " << i << " y=" << y[size_t(i)] << " ref=" << ref[size_t(i)];
            // In place (y = a), as the ops call them.
            std::vector<float> in_place = a;
            RowArgs p = args;
            p.a = in_place.data();
            p.y = in_place.data();
            k.kernel(p);
            EXPECT_EQ(in_place, y);
        }
    }
}

// The references are what their names say, checked on values whose results are known.
TEST(FloatKernelReferences, KnownValues) {
    const float a[4] = {0.0f, 1.0f, -2.0f, 3.0f}, b[4] = {2.0f, -1.0f, 0.5f, 4.0f};
    float y[4];
    silu_mul_f32_ref({.a = a, .b = b, .y = y, .n = 4});
    EXPECT_EQ(y[0], 0.0f);
    EXPECT_FLOAT_EQ(y[1], -1.0f / (1.0f + std::exp(-1.0f)));
    sigmoid_f32_ref({.a = a, .b = nullptr, .y = y, .n = 4});
    EXPECT_EQ(y[0], 0.5f);
    softmax_f32_ref({.a = a, .b = nullptr, .y = y, .n = 4});
    const double z = 1 + std::exp(1.0) + std::exp(-2.0) + std::exp(3.0);
    EXPECT_FLOAT_EQ(y[3], float(std::exp(3.0) / z));
    add_f32_ref({.a = a, .b = b, .y = y, .n = 4});
    EXPECT_EQ(y[2], -1.5f);
    mul_f32_ref({.a = a, .b = b, .y = y, .n = 4});
    EXPECT_EQ(y[3], 12.0f);
    scale_f32_ref({.a = a, .b = nullptr, .y = y, .n = 4, .s = -0.5f});
    EXPECT_EQ(y[2], 1.0f);
}

TEST_P(FloatKernels, AttentionRowMatchesItsReference) {
    const int64_t lanes = attn_lanes();
    for (const AttendKernel& k : attend_kernels())
        for (int64_t n_pos : {int64_t(1), lanes - 1, lanes, lanes + 1, 4 * lanes + 3, 9 * lanes + 1})
            for (int64_t dk : {1, 8, 72, 576})
                for (int64_t dv : {lanes, 4 * lanes, 5 * lanes}) {
                    if (n_pos < 1) continue;
                    SCOPED_TRACE(testing::Message() << k.name << " n_pos=" << n_pos << " dk=" << dk << " dv=" << dv);
                    const int64_t ld = (n_pos + lanes - 1) / lanes * lanes;
                    const float scale = 1.0f / std::sqrt(float(dk));
                    auto q = randn(size_t(dk), 1, 1.0f), kt = randn(size_t(dk * ld), 2, 1.0f);
                    auto v = randn(size_t(n_pos * dv), 3, 1.0f);
                    std::vector<float> s(static_cast<size_t>(ld)), out(size_t(dv), NAN), ref(size_t(dv), NAN);
                    AttendArgs a{.q = q.data(), .kt = kt.data(), .v = v.data(), .scores = s.data(), .out = out.data(),
                                 .n_pos = n_pos, .ld = ld, .k_dim = dk, .v_dim = dv, .scale = scale};
                    k.kernel(a);
                    a.out = ref.data();
                    k.reference(a);
                    for (int64_t d = 0; d < dv; ++d) ASSERT_NEAR(out[size_t(d)], ref[size_t(d)], k.abs_tol) << "dim " << d;
                }
}

TEST_P(FloatKernels, F16RowsConvertExactly) {
    // Every fp16 bit pattern but NaNs (zeros, subnormals, normals, infinities), unaligned starts.
    std::vector<uint16_t> h;
    for (uint32_t b = 0; b < 0x10000; ++b)
        if ((b & 0x7C00) != 0x7C00 || (b & 0x3FF) == 0) h.push_back(uint16_t(b));
    for (size_t start : {size_t(0), size_t(1), size_t(7)}) {
        const int64_t n = int64_t(h.size() - start);
        std::vector<float> f(static_cast<size_t>(n));
        f16_row_to_f32(h.data() + start, f.data(), n);
        for (int64_t i = 0; i < n; ++i)
            ASSERT_EQ(std::bit_cast<uint32_t>(f[size_t(i)]), std::bit_cast<uint32_t>(fp16_to_fp32(h[start + size_t(i)]))) << i;
    }
}

}  // namespace
}  // namespace r1::cpu
