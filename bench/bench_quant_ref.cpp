// Throughput of the scalar reference codecs of quant/ (what the converter runs when it writes
// a quantized GGUF): quantize and dequantize 1M Gaussian floats per type. GB/s are of float32
// input (quantize) / output (dequantize). Each pair is checked to round-trip before timing.
#include <benchmark/benchmark.h>

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <string>
#include <vector>

#include "quant/codecs.h"

namespace {

constexpr int64_t kN = 1 << 20;

const std::vector<float>& input() {
    static const std::vector<float> x = [] {
        std::mt19937 rng(42);
        std::normal_distribution<float> g(0.0f, 1.0f);
        std::vector<float> v(kN);
        for (float& f : v) f = g(rng);
        return v;
    }();
    return x;
}

void check_round_trip(const r1::Codec& c, const std::vector<uint8_t>& q) {
    std::vector<float> y(kN);
    c.dequantize_row(q.data(), y.data(), kN);
    double se = 0, sx = 0;
    for (int64_t i = 0; i < kN; ++i) {
        se += double(y[i] - input()[i]) * (y[i] - input()[i]);
        sx += double(input()[i]) * input()[i];
    }
    if (!(std::sqrt(se / sx) < 0.2)) {
        std::fprintf(stderr, "%s: round trip broken\n", r1::type_traits(c.type).name.data());
        std::exit(1);
    }
}

void bm_quantize(benchmark::State& state, r1::GgmlType t) {
    const r1::Codec& c = *r1::codec(t);
    std::vector<uint8_t> q(r1::row_bytes(t, kN));
    c.quantize_row(input().data(), q.data(), kN);
    check_round_trip(c, q);
    for (auto _ : state) {
        c.quantize_row(input().data(), q.data(), kN);
        benchmark::DoNotOptimize(q.data());
    }
    state.SetBytesProcessed(state.iterations() * kN * int64_t(sizeof(float)));
}

void bm_dequantize(benchmark::State& state, r1::GgmlType t) {
    const r1::Codec& c = *r1::codec(t);
    std::vector<uint8_t> q(r1::row_bytes(t, kN));
    c.quantize_row(input().data(), q.data(), kN);
    check_round_trip(c, q);
    std::vector<float> y(kN);
    for (auto _ : state) {
        c.dequantize_row(q.data(), y.data(), kN);
        benchmark::DoNotOptimize(y.data());
    }
    state.SetBytesProcessed(state.iterations() * kN * int64_t(sizeof(float)));
}

const int kRegistered = [] {
    for (r1::GgmlType t : {r1::GgmlType::F16, r1::GgmlType::BF16, r1::GgmlType::Q4_0, r1::GgmlType::Q4_1,
                           r1::GgmlType::Q5_0, r1::GgmlType::Q5_1, r1::GgmlType::Q8_0, r1::GgmlType::Q8_1,
                           r1::GgmlType::Q4_K, r1::GgmlType::Q5_K, r1::GgmlType::Q6_K, r1::GgmlType::Q8_K}) {
        const std::string name(r1::type_traits(t).name);
        benchmark::RegisterBenchmark(("quantize_ref/" + name).c_str(), bm_quantize, t)->Unit(benchmark::kMillisecond);
        benchmark::RegisterBenchmark(("dequantize/" + name).c_str(), bm_dequantize, t)->Unit(benchmark::kMillisecond);
    }
    return 0;
}();

}  // namespace

BENCHMARK_MAIN();
