// Quantize -> dequantize error of every codec on random and heavy-tailed (outlier) data, with
// per-format bounds. Legacy formats get per-block worst-case bounds derived from their scale;
// K-quants (searched scales) get a per-sub-block max bound and a relative RMS bound.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <random>
#include <string>
#include <vector>

#include "quant/codecs.h"

namespace r1 {
namespace {

enum class Data { kUniform, kGaussian, kHeavyTailed };

std::vector<float> make_data(Data kind, size_t n, uint32_t seed) {
    std::mt19937 rng(seed);
    std::uniform_real_distribution<float> u(-1.0f, 1.0f);
    std::normal_distribution<float> g(0.0f, 1.0f);
    std::student_t_distribution<float> t(2.0f);  // infinite variance: many large outliers
    std::vector<float> x(n);
    for (size_t i = 0; i < n; ++i) {
        switch (kind) {
            case Data::kUniform: x[i] = u(rng); break;
            case Data::kGaussian: x[i] = 0.02f * g(rng); break;
            case Data::kHeavyTailed:
                x[i] = t(rng);
                if (i % 97 == 13) x[i] *= 100.0f;  // plus explicit outliers
                break;
        }
    }
    return x;
}

std::vector<float> roundtrip(GgmlType t, const std::vector<float>& x) {
    const Codec* c = codec(t);
    std::vector<uint8_t> q(row_bytes(t, x.size()));
    c->quantize_row(x.data(), q.data(), static_cast<int64_t>(x.size()));
    std::vector<float> y(x.size());
    c->dequantize_row(q.data(), y.data(), static_cast<int64_t>(x.size()));
    return y;
}

struct BlockStats {
    float amax = 0, min = 0, max = 0;
};

BlockStats stats(const float* x, int n) {
    BlockStats s{0, x[0], x[0]};
    for (int i = 0; i < n; ++i) {
        s.amax = std::max(s.amax, std::fabs(x[i]));
        s.min = std::min(s.min, x[i]);
        s.max = std::max(s.max, x[i]);
    }
    return s;
}

// Worst-case |error| allowed in one block of a legacy format (fp16 of the scale costs at most
// 2^-11 relative on each of up to qmax steps; the extreme element of Q4_0/Q5_0 can clamp one
// whole step).
float legacy_bound(GgmlType t, const BlockStats& s) {
    const float fp16_rel = 0x1p-11f * 1.01f;
    switch (t) {
        case GgmlType::Q8_0:
        case GgmlType::Q8_1: return s.amax / 127 * (0.5f + 127 * fp16_rel) * 1.001f;
        case GgmlType::Q4_0: return s.amax / 8 * (1.0f + 8 * fp16_rel) * 1.001f;
        case GgmlType::Q5_0: return s.amax / 16 * (1.0f + 16 * fp16_rel) * 1.001f;
        case GgmlType::Q4_1: {
            const float d = (s.max - s.min) / 15;
            return (d * (0.5f + 15 * fp16_rel) + std::fabs(s.min) * fp16_rel) * 1.001f;
        }
        case GgmlType::Q5_1: {
            const float d = (s.max - s.min) / 31;
            return (d * (0.5f + 31 * fp16_rel) + std::fabs(s.min) * fp16_rel) * 1.001f;
        }
        default: return 0;
    }
}

class LegacyRoundTrip : public ::testing::TestWithParam<GgmlType> {};

TEST_P(LegacyRoundTrip, WithinBlockBound) {
    const GgmlType t = GetParam();
    const int bs = static_cast<int>(type_traits(t).block_size);
    for (Data kind : {Data::kUniform, Data::kGaussian, Data::kHeavyTailed}) {
        const std::vector<float> x = make_data(kind, 32 * 1024, 7 + static_cast<uint32_t>(kind));
        const std::vector<float> y = roundtrip(t, x);
        for (size_t b = 0; b < x.size(); b += bs) {
            const float bound = legacy_bound(t, stats(&x[b], bs));
            for (int j = 0; j < bs; ++j) {
                ASSERT_LE(std::fabs(y[b + j] - x[b + j]), bound)
                    << type_traits(t).name << " data " << int(kind) << " element " << b + j;
            }
        }
    }
}

INSTANTIATE_TEST_SUITE_P(Quant, LegacyRoundTrip,
                         ::testing::Values(GgmlType::Q4_0, GgmlType::Q4_1, GgmlType::Q5_0, GgmlType::Q5_1,
                                           GgmlType::Q8_0, GgmlType::Q8_1),
                         [](const auto& info) { return std::string(type_traits(info.param).name); });

// K-quants. In a sub-block (32 elements for Q4_K/Q5_K, 16 for Q6_K, 256 for Q8_K) the error
// is at most step_frac steps of the sub-block (range / levels; the searched scales can exceed
// half a step) plus super_frac steps of the widest sub-block of its super-block: rounding the
// sub-block scales to 6 bits (Q6_K: 8 bits) under d moves the top quant by up to nmax*d/2 and
// the min by dmin/2, i.e. about nmax/126 super-steps each. Over the row, the RMS error relative
// to the RMS of x stays below rel_rms (Gaussian data).
struct KBound {
    GgmlType type;
    int sub;           // sub-block size
    float levels;      // quant steps across the sub-block range
    float step_frac;   // allowed max error in steps of the sub-block
    float super_frac;  // plus this many steps of the super-block's widest sub-block
    float rel_rms;     // Gaussian data
};

class KRoundTrip : public ::testing::TestWithParam<KBound> {};

TEST_P(KRoundTrip, WithinBounds) {
    const KBound kb = GetParam();
    for (Data kind : {Data::kUniform, Data::kGaussian, Data::kHeavyTailed}) {
        const std::vector<float> x = make_data(kind, 256 * 128, 11 + static_cast<uint32_t>(kind));
        const std::vector<float> y = roundtrip(kb.type, x);
        double se = 0, sx = 0;
        // Symmetric formats span [-amax, amax]; affine ones [min(0, min), max].
        const bool symmetric = kb.type == GgmlType::Q6_K || kb.type == GgmlType::Q8_K;
        auto range_of = [&](size_t b) {
            const BlockStats s = stats(&x[b], kb.sub);
            return symmetric ? 2 * s.amax : s.max - std::min(0.0f, s.min);
        };
        for (size_t b = 0; b < x.size(); b += kb.sub) {
            const size_t super = b / kQK_K * kQK_K;
            float super_range = 0;
            for (size_t s = super; s < super + kQK_K; s += kb.sub) super_range = std::max(super_range, range_of(s));
            const float bound = (range_of(b) * kb.step_frac + super_range * kb.super_frac) / kb.levels;
            for (int j = 0; j < kb.sub; ++j) {
                const float e = std::fabs(y[b + j] - x[b + j]);
                ASSERT_LE(e, bound) << type_traits(kb.type).name << " data " << int(kind) << " element "
                                    << b + j << " x " << x[b + j] << " y " << y[b + j];
                se += double(e) * e;
                sx += double(x[b + j]) * x[b + j];
            }
        }
        if (kind == Data::kGaussian) {
            EXPECT_LT(std::sqrt(se / sx), kb.rel_rms) << type_traits(kb.type).name;
        }
    }
}

INSTANTIATE_TEST_SUITE_P(Quant, KRoundTrip,
                         ::testing::Values(KBound{GgmlType::Q4_K, 32, 15, 1.25f, 0.35f, 0.09f},
                                           KBound{GgmlType::Q5_K, 32, 31, 1.25f, 0.7f, 0.045f},
                                           KBound{GgmlType::Q6_K, 16, 64, 1.0f, 0.25f, 0.02f},
                                           KBound{GgmlType::Q8_K, 256, 254, 0.51f, 0.0f, 0.01f}),
                         [](const auto& info) { return std::string(type_traits(info.param.type).name); });

// All-zero and constant input: exact zeros back, constants within the format's resolution.
TEST(RoundTrip, ZeroAndConstantRows) {
    for (GgmlType t : {GgmlType::Q4_0, GgmlType::Q4_1, GgmlType::Q5_0, GgmlType::Q5_1, GgmlType::Q8_0,
                       GgmlType::Q8_1, GgmlType::Q4_K, GgmlType::Q5_K, GgmlType::Q6_K, GgmlType::Q8_K,
                       GgmlType::F16, GgmlType::BF16, GgmlType::F32}) {
        const std::vector<float> zeros(512, 0.0f);
        for (float v : roundtrip(t, zeros)) ASSERT_EQ(v, 0.0f) << type_traits(t).name;
        const std::vector<float> ones(512, 0.75f);
        for (float v : roundtrip(t, ones)) ASSERT_NEAR(v, 0.75f, 0.75f * 2e-3f) << type_traits(t).name;
    }
}

}  // namespace
}  // namespace r1
