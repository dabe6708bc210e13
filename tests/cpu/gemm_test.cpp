// The int8 products of the kernel table (per-call and load-time panels, AVX-512 VNNI and AVX2)
// against their reference,
// the double-precision product of the dequantized weights and the activations rounded through
// Q8_0 by quant/'s codec (the products' stated arithmetic), over ragged row counts (masked
// panels) and token counts (every micro-kernel width), with 1/2/3 threads giving identical bits.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <random>
#include <vector>

#include "backends/cpu/kernels.h"
#include "quant/blocks.h"
#include "quant/codecs.h"
#include "quant/fp16.h"
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

// Runs kernel k (1, 2 and 3 threads must agree bit for bit) on random weights of its type and
// checks it against its reference within the table's bound; the magnitudes of the bound are
// computed here from the dequantized weights and the Q8_0-rounded activations.
void check_kernel(const GemmKernel& k) {
    const GgmlType t = k.weight;
    const int64_t block = type_traits(t).block_size;
    for (int64_t n_in : {block, 3 * block}) {
        for (int64_t n_out : {5, 16, 37}) {
            for (int64_t n_tok : {1, 2, 7, 8, 13}) {  // every micro-kernel width, ragged panels
                SCOPED_TRACE(testing::Message() << k.name << " n_in " << n_in << " n_out " << n_out << " n_tok " << n_tok);
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
                for (int64_t i = 0; i < n_tok; ++i) {
                    codec(GgmlType::Q8_0)->quantize_row(x.data() + i * n_in, blocks.data(), n_in);
                    codec(GgmlType::Q8_0)->dequantize_row(blocks.data(), xq.data() + i * n_in, n_in);
                }

                // The packed copy, with poison around it so that reads past it show.
                std::vector<uint8_t> mem;
                const void* packed = nullptr;
                if (k.packed) {
                    mem.assign(packed_bytes(t, n_out, n_in) + 64, 0xAB);
                    uint8_t* p = mem.data() + (64 - reinterpret_cast<uintptr_t>(mem.data()) % 64) % 64;
                    pack_matrix(t, wq.data(), n_out, n_in, p, 2);
                    packed = p;
                }
                std::vector<float> y1(size_t(n_tok * n_out), NAN), y2(y1), y3(y1), ref(y1);
                GemmArgs a{.type = t, .w = k.packed ? nullptr : wq.data(), .x = x.data(), .y = y1.data(),
                           .n_out = n_out, .n_in = n_in, .n_tokens = n_tok, .packed = packed};
                k.kernel(a, 1);
                a.y = y2.data();
                k.kernel(a, 2);
                a.y = y3.data();
                k.kernel(a, 3);
                EXPECT_EQ(y1, y2);
                EXPECT_EQ(y1, y3);
                k.reference({.type = t, .w = wq.data(), .x = x.data(), .y = ref.data(), .n_out = n_out, .n_in = n_in,
                             .n_tokens = n_tok});

                for (int64_t i = 0; i < n_tok; ++i)
                    for (int64_t r = 0; r < n_out; ++r) {
                        double mag = 0, wmax = 0;
                        for (int64_t j = 0; j < n_in; ++j) wmax = std::max(wmax, std::fabs(double(wd[size_t(r * n_in + j)])));
                        for (int64_t j = 0; j < n_in; ++j)
                            mag += (std::fabs(double(wd[size_t(r * n_in + j)])) + 2 * wmax) * std::fabs(double(xq[size_t(i * n_in + j)]));
                        ASSERT_NEAR(y1[size_t(i * n_out + r)], ref[size_t(i * n_out + r)], k.rel_tol * mag + 1e-6)
                            << "token " << i << " row " << r;
                    }
            }
        }
    }
}

// Restores the native kernels when a test that capped them ends.
struct IsaCap {
    explicit IsaCap(Isa cap) { set_isa_cap(cap); }
    ~IsaCap() { set_isa_cap(Isa::Avx512); }
};

// Every int8 product of the table against its reference, at each instruction-set class this CPU
// has (the cap makes an AVX-512 machine run the AVX2 kernels too); skipped on CPUs without AVX2.
TEST(GemmKernels, MatchTheirReferences) {
    int ran = 0;
    for (Isa isa : {Isa::Avx2, Isa::Avx512}) {
        if (cpu_isa() < isa) continue;
        IsaCap cap(isa);
        for (const GemmKernel& k : gemm_kernels()) {
            if (!k.supported(k.weight, type_traits(k.weight).block_size)) continue;
            SCOPED_TRACE(isa_name(isa));
            check_kernel(k);
            ++ran;
        }
    }
    if (ran == 0) GTEST_SKIP() << "no AVX2 on this CPU: the int8 products are not used here";
}

// Which products each class runs: AVX2 has the load-time panels only.
TEST(GemmKernels, IsaCapSelectsTheProducts) {
    if (cpu_isa() < Isa::Avx2) GTEST_SKIP() << "no AVX2 on this CPU";
    {
        IsaCap cap(Isa::Avx2);
        EXPECT_TRUE(pack_supported(GgmlType::Q4_0, 32));
        EXPECT_FALSE(gemm_supported(GgmlType::Q5_0, 32));
    }
    {
        IsaCap cap(Isa::Scalar);
        EXPECT_FALSE(pack_supported(GgmlType::Q4_0, 32));
        EXPECT_FALSE(gemm_supported(GgmlType::Q4_0, 32));
    }
    Isa parsed = Isa::Scalar;
    EXPECT_TRUE(parse_isa("avx2", parsed));
    EXPECT_EQ(parsed, Isa::Avx2);
    EXPECT_FALSE(parse_isa("avx3", parsed));
}

// Extreme quants: the AVX2 kernels' 16-bit pair sums must not saturate (Q8_0 at ±127 against
// activations at ±127 of the same sign, Q6_K's q up to 63), and the result must match the reference.
TEST(GemmKernels, SaturatingValuesStayExact) {
    int ran = 0;
    for (Isa isa : {Isa::Avx2, Isa::Avx512}) {
        if (cpu_isa() < isa) continue;
        IsaCap cap(isa);
        for (GgmlType t : {GgmlType::Q8_0, GgmlType::Q6_K, GgmlType::Q4_0, GgmlType::Q4_K}) {
            const int64_t n_in = 256, n_out = 16, n_tok = 3;
            std::vector<float> wf(size_t(n_out * n_in)), x(size_t(n_tok * n_in));
            for (size_t i = 0; i < wf.size(); ++i) wf[i] = (i % 2 ? -1.0f : 1.0f) * ((i / 2) % 3 == 0 ? 1.0f : 0.999f);
            for (size_t i = 0; i < x.size(); ++i) x[i] = (i % 2 ? -1.0f : 1.0f);
            std::vector<uint8_t> wq(size_t(n_out) * row_bytes(t, uint64_t(n_in)));
            quantize_rows(t, wf.data(), wq.data(), n_out, n_in);
            std::vector<uint8_t> mem(packed_bytes(t, n_out, n_in) + 64);
            uint8_t* packed = mem.data() + (64 - reinterpret_cast<uintptr_t>(mem.data()) % 64) % 64;
            pack_matrix(t, wq.data(), n_out, n_in, packed, 1);
            std::vector<float> y(size_t(n_tok * n_out)), ref(y.size());
            const GemmArgs a{.type = t, .w = wq.data(), .x = x.data(), .y = y.data(), .n_out = n_out, .n_in = n_in,
                             .n_tokens = n_tok, .packed = packed};
            packed_matmul(a, 1);
            GemmArgs ra = a;
            ra.y = ref.data();
            gemm_q8_0_ref(ra);
            for (size_t i = 0; i < y.size(); ++i)
                ASSERT_NEAR(y[i], ref[i], 1e-5 * std::fabs(ref[i]) + 1e-3) << type_traits(t).name << " " << isa_name(isa) << " " << i;
            ++ran;
        }
    }
    if (ran == 0) GTEST_SKIP() << "no AVX2 on this CPU";
}

// The reference is the product it says: dequantized rows times Q8_0-rounded activations, here
// summed independently in a different order (by rows of x) on a hand-made Q8_0 matrix.
TEST(GemmKernels, ReferenceIsTheQ8_0RoundedProduct) {
    const int64_t n_in = 64, n_out = 3, n_tok = 2;
    auto wf = randn(size_t(n_out * n_in), 7, 1.0f), x = randn(size_t(n_tok * n_in), 8, 1.0f);
    std::vector<uint8_t> wq(size_t(n_out) * row_bytes(GgmlType::Q8_0, n_in)), xb(row_bytes(GgmlType::Q8_0, n_in));
    quantize_rows(GgmlType::Q8_0, wf.data(), wq.data(), n_out, n_in);
    std::vector<float> y(size_t(n_tok * n_out));
    gemm_q8_0_ref({.type = GgmlType::Q8_0, .w = wq.data(), .x = x.data(), .y = y.data(), .n_out = n_out,
                   .n_in = n_in, .n_tokens = n_tok});
    for (int64_t i = 0; i < n_tok; ++i) {
        quantize_row_q8_0_ref(x.data() + i * n_in, reinterpret_cast<BlockQ8_0*>(xb.data()), n_in);
        const auto* xbl = reinterpret_cast<const BlockQ8_0*>(xb.data());
        for (int64_t r = 0; r < n_out; ++r) {
            const auto* wbl = reinterpret_cast<const BlockQ8_0*>(wq.data() + size_t(r) * row_bytes(GgmlType::Q8_0, n_in));
            double s = 0;
            for (int64_t b = 0; b < n_in / 32; ++b) {
                int64_t dot = 0;  // integer block dot, then both scales
                for (int j = 0; j < 32; ++j) dot += int64_t(wbl[b].qs[j]) * xbl[b].qs[j];
                s += double(fp16_to_fp32(wbl[b].d)) * double(fp16_to_fp32(xbl[b].d)) * double(dot);
            }
            EXPECT_NEAR(y[size_t(i * n_out + r)], s, 1e-5 * std::fabs(s) + 1e-6);
        }
    }
}

TEST(GemmKernels, EveryVnniTypeHasAPerCallKernel) {
    for (const GemmKernel& k : gemm_kernels()) {
        if (!k.packed) continue;
        bool found = false;
        for (const GemmKernel& o : gemm_kernels()) found |= !o.packed && o.weight == k.weight;
        EXPECT_TRUE(found) << k.name;
    }
}

TEST(Gemm, UnsupportedTypesAreDeclined) {
    EXPECT_FALSE(pack_supported(GgmlType::Q5_K, 256));  // no packed format (gemm() only)
    EXPECT_FALSE(gemm_supported(GgmlType::F32, 64));
    EXPECT_FALSE(gemm_supported(GgmlType::Q4_0, 48));   // not a whole number of blocks
    EXPECT_FALSE(gemm_supported(GgmlType::Q4_K, 128));  // K-quants need 256
}

}  // namespace
}  // namespace r1::cpu
