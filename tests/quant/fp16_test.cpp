// fp16 / bf16 conversions (GGUF.md §2.2) against the compiler's own _Float16 conversion (an
// independent RNE implementation) where it exists, and against hand-checked edge cases:
// NaN, inf, overflow, subnormals, ties.
#include <gtest/gtest.h>

#include <bit>
#include <cmath>
#include <cstdint>
#include <limits>
#include <random>
#include <vector>

#include "quant/codecs.h"
#include "quant/fp16.h"

namespace r1 {
namespace {

float from_bits(uint32_t b) { return std::bit_cast<float>(b); }
uint32_t bits_of(float f) { return std::bit_cast<uint32_t>(f); }

// The compiler's half type: __fp16 on aarch64 (IEEE format there; gcc 12 has no C++ _Float16
// on that target), _Float16 elsewhere when available.
#if defined(__aarch64__)
#define R1_NATIVE_HALF __fp16
#elif defined(__FLT16_MANT_DIG__)
#define R1_NATIVE_HALF _Float16
#endif

#ifdef R1_NATIVE_HALF
uint16_t native_fp16(float f) { return std::bit_cast<uint16_t>(static_cast<R1_NATIVE_HALF>(f)); }
float native_fp32(uint16_t h) { return static_cast<float>(std::bit_cast<R1_NATIVE_HALF>(h)); }
constexpr bool kHaveNative = true;
#else
uint16_t native_fp16(float) { return 0; }
float native_fp32(uint16_t) { return 0; }
constexpr bool kHaveNative = false;
#endif

bool is_nan16(uint16_t h) { return (h & 0x7C00) == 0x7C00 && (h & 0x3FF) != 0; }

TEST(Fp16, EdgeCases) {
    EXPECT_EQ(fp32_to_fp16(0.0f), 0x0000);
    EXPECT_EQ(fp32_to_fp16(-0.0f), 0x8000);
    EXPECT_EQ(fp32_to_fp16(1.0f), 0x3C00);
    EXPECT_EQ(fp32_to_fp16(-2.0f), 0xC000);
    EXPECT_EQ(fp32_to_fp16(65504.0f), 0x7BFF);                  // largest finite
    EXPECT_EQ(fp32_to_fp16(from_bits(0x477FEFFF)), 0x7BFF);     // just below the tie
    EXPECT_EQ(fp32_to_fp16(65520.0f), 0x7C00);                  // tie to even = inf
    EXPECT_EQ(fp32_to_fp16(1e10f), 0x7C00);                     // overflow -> inf
    EXPECT_EQ(fp32_to_fp16(-1e10f), 0xFC00);
    EXPECT_EQ(fp32_to_fp16(std::numeric_limits<float>::infinity()), 0x7C00);
    EXPECT_EQ(fp32_to_fp16(-std::numeric_limits<float>::infinity()), 0xFC00);
    EXPECT_EQ(fp32_to_fp16(std::numeric_limits<float>::quiet_NaN()), 0x7E00);
    EXPECT_EQ(fp32_to_fp16(from_bits(0x7F800001)), 0x7E00);     // signalling NaN
    EXPECT_EQ(fp32_to_fp16(from_bits(0xFFC12345)), 0xFE00);     // sign kept
    // 1 + 2^-11 is halfway between 1 and 1 + 2^-10: ties to even (1.0); 1 + 3*2^-11 -> up.
    EXPECT_EQ(fp32_to_fp16(1.0f + 0x1p-11f), 0x3C00);
    EXPECT_EQ(fp32_to_fp16(1.0f + 3 * 0x1p-11f), 0x3C02);
    EXPECT_EQ(fp32_to_fp16(from_bits(bits_of(1.0f + 0x1p-11f) + 1)), 0x3C01);
    // Subnormals: the unit is 2^-24.
    EXPECT_EQ(fp32_to_fp16(0x1p-24f), 0x0001);
    EXPECT_EQ(fp32_to_fp16(0x1p-25f), 0x0000);                  // tie -> even (0)
    EXPECT_EQ(fp32_to_fp16(from_bits(bits_of(0x1p-25f) + 1)), 0x0001);
    EXPECT_EQ(fp32_to_fp16(-0x1p-26f), 0x8000);
    EXPECT_EQ(fp32_to_fp16(1.5f * 0x1p-24f), 0x0002);           // tie -> even
    EXPECT_EQ(fp32_to_fp16(2.5f * 0x1p-24f), 0x0002);           // tie -> even
    EXPECT_EQ(fp32_to_fp16(1023 * 0x1p-24f), 0x03FF);           // largest subnormal
    EXPECT_EQ(fp32_to_fp16(1023.5f * 0x1p-24f), 0x0400);        // tie rounds up into normals
    EXPECT_EQ(fp32_to_fp16(0x1p-14f), 0x0400);                  // least normal
    EXPECT_EQ(fp32_to_fp16(std::numeric_limits<float>::denorm_min()), 0x0000);

    EXPECT_EQ(fp16_to_fp32(0x0001), 0x1p-24f);
    EXPECT_EQ(fp16_to_fp32(0x03FF), 1023 * 0x1p-24f);
    EXPECT_EQ(fp16_to_fp32(0x8400), -0x1p-14f);
    EXPECT_EQ(fp16_to_fp32(0x7BFF), 65504.0f);
    EXPECT_EQ(fp16_to_fp32(0xFC00), -std::numeric_limits<float>::infinity());
    EXPECT_TRUE(std::isnan(fp16_to_fp32(0x7E00)));
    EXPECT_TRUE(std::signbit(fp16_to_fp32(0x8000)));
}

// Every fp16 value converts to fp32 exactly and back to itself.
TEST(Fp16, AllHalvesRoundTrip) {
    for (uint32_t h = 0; h < 0x10000; ++h) {
        const auto h16 = static_cast<uint16_t>(h);
        const float f = fp16_to_fp32(h16);
        if (is_nan16(h16)) {
            EXPECT_TRUE(std::isnan(f)) << h;
            EXPECT_EQ(fp32_to_fp16(f), (h & 0x8000) | 0x7E00) << h;
            continue;
        }
        EXPECT_EQ(fp32_to_fp16(f), h16) << h;
        if (kHaveNative) {
            EXPECT_EQ(bits_of(f), bits_of(native_fp32(h16))) << h;
        }
    }
}

// Midpoints between neighbouring halves and their fp32 neighbours: the ties and the values
// that must round away from them, checked against the compiler's conversion.
TEST(Fp16, MidpointsMatchNative) {
    if (!kHaveNative) GTEST_SKIP() << "no _Float16 on this compiler";
    for (uint32_t h = 0; h < 0x7C00; ++h) {
        const double lo = fp16_to_fp32(static_cast<uint16_t>(h));
        const double hi = h + 1 == 0x7C00 ? 65536.0 : double(fp16_to_fp32(static_cast<uint16_t>(h + 1)));
        const float mid = static_cast<float>((lo + hi) / 2);  // exact in fp32
        for (float f : {mid, std::nextafter(mid, 0.0f), std::nextafter(mid, 1e30f)}) {
            EXPECT_EQ(fp32_to_fp16(f), native_fp16(f)) << f;
            EXPECT_EQ(fp32_to_fp16(-f), native_fp16(-f)) << -f;
        }
    }
}

TEST(Fp16, RandomBitsMatchNative) {
    if (!kHaveNative) GTEST_SKIP() << "no _Float16 on this compiler";
    std::mt19937 rng(1234);
    for (int i = 0; i < 2'000'000; ++i) {
        const float f = from_bits(static_cast<uint32_t>(rng()));
        if (std::isnan(f)) continue;
        ASSERT_EQ(fp32_to_fp16(f), native_fp16(f)) << bits_of(f);
    }
}

// BF16 rounding recomputed in double: nearest of the two candidates, ties to the even one.
uint16_t bf16_by_value(float f) {
    const uint32_t b = bits_of(f);
    const auto lo = static_cast<uint16_t>(b >> 16);
    const auto hi = static_cast<uint16_t>(lo + 1);
    const double dlo = std::fabs(double(bf16_to_fp32(lo)) - f);
    const double dhi = std::fabs(double(bf16_to_fp32(hi)) - f);
    if ((hi & 0x7FFF) == 0x7F80) {  // rounding up overflows to inf: compare with 2^128 instead
        const double top = std::ldexp(1.0, 128);
        const double dtop = std::fabs(top) - std::fabs(double(f));
        return dlo < dtop || (dlo == dtop && !(lo & 1)) ? lo : hi;
    }
    return dlo < dhi || (dlo == dhi && !(lo & 1)) ? lo : hi;
}

TEST(Bf16, EdgeCases) {
    EXPECT_EQ(fp32_to_bf16(1.0f), 0x3F80);
    EXPECT_EQ(fp32_to_bf16(-0.0f), 0x8000);
    EXPECT_EQ(fp32_to_bf16(from_bits(0x3F808000)), 0x3F80);  // tie -> even
    EXPECT_EQ(fp32_to_bf16(from_bits(0x3F818000)), 0x3F82);  // tie -> even (up)
    EXPECT_EQ(fp32_to_bf16(from_bits(0x3F808001)), 0x3F81);
    EXPECT_EQ(fp32_to_bf16(from_bits(0x7F7FFFFF)), 0x7F80);  // FLT_MAX overflows to inf
    EXPECT_EQ(fp32_to_bf16(std::numeric_limits<float>::infinity()), 0x7F80);
    EXPECT_EQ(fp32_to_bf16(-std::numeric_limits<float>::infinity()), 0xFF80);
    EXPECT_EQ(fp32_to_bf16(from_bits(0x00008000)), 0x0000);  // subnormal tie -> even
    EXPECT_EQ(fp32_to_bf16(from_bits(0x00018000)), 0x0002);  // subnormals kept
    EXPECT_EQ(fp32_to_bf16(from_bits(0x7F800001)), 0x7FC0);  // signalling NaN made quiet
    EXPECT_EQ(fp32_to_bf16(from_bits(0xFFC12345)), 0xFFC1);  // sign and payload kept
    EXPECT_EQ(fp32_to_bf16(from_bits(0x7FFFFFFF)), 0x7FFF);
    EXPECT_EQ(bits_of(bf16_to_fp32(0x3F80)), 0x3F800000u);
    EXPECT_EQ(bits_of(bf16_to_fp32(0x8001)), 0x80010000u);
}

TEST(Bf16, RandomBitsMatchValueRounding) {
    std::mt19937 rng(99);
    for (int i = 0; i < 1'000'000; ++i) {
        const float f = from_bits(static_cast<uint32_t>(rng()));
        if (std::isnan(f) || std::isinf(f)) continue;
        ASSERT_EQ(fp32_to_bf16(f), bf16_by_value(f)) << bits_of(f);
    }
}

TEST(FloatRows, RowConvertersMatchScalar) {
    std::mt19937 rng(5);
    std::normal_distribution<float> g(0.0f, 3.0f);
    std::vector<float> x(1000);
    for (float& v : x) v = g(rng);
    std::vector<uint16_t> h(x.size()), b(x.size());
    std::vector<float> back(x.size());
    fp32_to_fp16_row(x.data(), h.data(), static_cast<int64_t>(x.size()));
    fp32_to_bf16_row(x.data(), b.data(), static_cast<int64_t>(x.size()));
    for (size_t i = 0; i < x.size(); ++i) {
        EXPECT_EQ(h[i], fp32_to_fp16(x[i]));
        EXPECT_EQ(b[i], fp32_to_bf16(x[i]));
    }
    fp16_to_fp32_row(h.data(), back.data(), static_cast<int64_t>(x.size()));
    for (size_t i = 0; i < x.size(); ++i) EXPECT_EQ(back[i], fp16_to_fp32(h[i]));
    fp16_to_fp32_row(b.data(), back.data(), 0);  // n = 0 writes nothing
    bf16_to_fp32_row(b.data(), back.data(), static_cast<int64_t>(x.size()));
    for (size_t i = 0; i < x.size(); ++i) EXPECT_EQ(back[i], bf16_to_fp32(b[i]));
}

TEST(NearestInt, TiesToEven) {
    EXPECT_EQ(nearest_int(0.5f), 0);
    EXPECT_EQ(nearest_int(1.5f), 2);
    EXPECT_EQ(nearest_int(2.5f), 2);
    EXPECT_EQ(nearest_int(-0.5f), 0);
    EXPECT_EQ(nearest_int(-1.5f), -2);
    EXPECT_EQ(nearest_int(-2.5f), -2);
    EXPECT_EQ(nearest_int(2.4999998f), 2);
    EXPECT_EQ(nearest_int(-7.6f), -8);
    EXPECT_EQ(nearest_int(4194303.0f), 4194303);
    EXPECT_EQ(nearest_int(-4194303.0f), -4194303);
}

}  // namespace
}  // namespace r1
