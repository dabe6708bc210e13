// CPU kernel microbenchmarks: every (weight, activation) pair of the kernel table on matrices
// shaped like R1-Distill-Qwen-1.5B layers, 1 and 2 threads, reporting GB/s of weight bytes;
// plus the activation quantizers and a plain streaming read for the machine's bandwidth.
// Each pair is validated against its reference before it is timed. Enough copies of the
// matrix are cycled through that the weights come from DRAM, as in decode; the _L2 shape
// keeps one small matrix in cache to time the kernel's own work.
#include <benchmark/benchmark.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include <omp.h>

#include "backends/cpu/kernels.h"
#include "quant/codecs.h"
#include "quant/fp16.h"

namespace {

using r1::GgmlType;
using namespace r1::cpu;

constexpr size_t kWorkingSet = size_t{192} << 20;  // bytes cycled through: 6x the 32 MiB L3
constexpr int64_t kDistinctRows = 64;               // random rows, tiled over the matrix

std::vector<float> random_floats(size_t n, uint32_t seed) {
    std::mt19937 rng(seed);
    std::normal_distribution<float> normal(0.0f, 1.0f);
    std::vector<float> v(n);
    for (float& x : v) x = normal(rng);
    return v;
}

struct Shape {
    int64_t n_out, n_in;
    bool cached;  // one copy that stays in L2: the kernel's compute speed, not DRAM's
};
constexpr Shape kShapes[] = {{1536, 1536, false}, {8960, 1536, false}, {1536, 8960, false}, {128, 1536, true}};

// Validates k on the first rows of (w, x) against its reference; "" when it matches.
std::string validate(const MatvecKernel& k, const uint8_t* w, const uint8_t* x, int64_t n_in) {
    const int64_t rows = kDistinctRows;
    std::vector<float> y(rows), y_ref(rows), wf(n_in), xf(n_in);
    k.kernel({.w = w, .x = x, .y = y.data(), .n_out = rows, .n_in = n_in});
    k.reference({.w = w, .x = x, .y = y_ref.data(), .n_out = rows, .n_in = n_in});
    r1::codec(k.act)->dequantize_row(x, xf.data(), n_in);
    const size_t rb = r1::row_bytes(k.weight, n_in);
    for (int64_t r = 0; r < rows; ++r) {
        r1::codec(k.weight)->dequantize_row(w + r * rb, wf.data(), n_in);
        double scale = 0.0;  // the tests' bound: Σ |w_j x_j|, plus Σ |m_j x_j| for Q8_1 pairs
        for (int64_t j = 0; j < n_in; ++j) {
            scale += std::fabs(double(wf[j]) * xf[j]);
            if (k.act == GgmlType::Q8_1) {
                uint16_t m;  // Q4_1/Q5_1 blocks start with fp16 d, m
                std::memcpy(&m, w + r * rb + (j / 32) * r1::type_traits(k.weight).type_size + 2, 2);
                scale += std::fabs(double(r1::fp16_to_fp32(m)) * xf[j]);
            }
        }
        if (std::fabs(double(y[r]) - y_ref[r]) > k.rel_tol * scale) {
            return std::string(k.name) + ": row " + std::to_string(r) + " differs from the reference";
        }
    }
    return "";
}

void BM_matvec(benchmark::State& state, const MatvecKernel* k, Shape s) {
    const int threads = static_cast<int>(state.range(0));
    const size_t rb = r1::row_bytes(k->weight, s.n_in);
    const size_t matrix_bytes = rb * s.n_out;
    // Distinct random rows, quantized once, tiled over every copy of the matrix.
    std::vector<uint8_t> rows(rb * kDistinctRows);
    r1::quantize_rows(k->weight, random_floats(kDistinctRows * s.n_in, 1).data(), rows.data(), kDistinctRows, s.n_in);
    const size_t copies = s.cached ? 1 : std::max<size_t>(1, kWorkingSet / matrix_bytes);
    std::vector<uint8_t> w(matrix_bytes * copies);
    for (size_t off = 0; off < w.size(); off += rows.size()) std::memcpy(w.data() + off, rows.data(), std::min(rows.size(), w.size() - off));
    std::vector<uint8_t> x(r1::row_bytes(k->act, s.n_in));
    r1::quantize_rows(k->act, random_floats(s.n_in, 2).data(), x.data(), 1, s.n_in);
    if (const std::string err = validate(*k, w.data(), x.data(), s.n_in); !err.empty()) {
        state.SkipWithError(err.c_str());
        return;
    }
    std::vector<float> y(s.n_out);
    if (s.cached) {
        // The kernel's own work: each iteration reports the fastest of 200 calls, the one least
        // disturbed by the other jobs sharing the machine.
        for (auto _ : state) {
            double best = 1e30;
            for (int i = 0; i < 200; ++i) {
                const auto t0 = std::chrono::steady_clock::now();
                matvec_parallel(*k, {.w = w.data(), .x = x.data(), .y = y.data(), .n_out = s.n_out, .n_in = s.n_in}, threads);
                benchmark::DoNotOptimize(y.data());
                best = std::min(best, std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
            }
            state.SetIterationTime(best);
        }
        state.counters["GB/s"] = benchmark::Counter(double(matrix_bytes) / 1e9, benchmark::Counter::kIsIterationInvariantRate);
        return;
    }
    size_t c = 0;
    for (auto _ : state) {
        matvec_parallel(*k, {.w = w.data() + c * matrix_bytes, .x = x.data(), .y = y.data(), .n_out = s.n_out, .n_in = s.n_in}, threads);
        benchmark::DoNotOptimize(y.data());
        c = (c + 1) % copies;
    }
    state.counters["GB/s"] = benchmark::Counter(double(matrix_bytes) / 1e9, benchmark::Counter::kIsIterationInvariantRate);
}

void BM_quantize(benchmark::State& state, const QuantizeKernel* k, int64_t n) {
    const auto x = random_floats(n, 3);
    std::vector<uint8_t> y(r1::row_bytes(k->type, n)), y_ref(y.size());
    k->kernel(x.data(), y.data(), n);
    k->reference(x.data(), y_ref.data(), n);
    if (y != y_ref) {
        state.SkipWithError("differs from the reference");
        return;
    }
    for (auto _ : state) {
        k->kernel(x.data(), y.data(), n);
        benchmark::DoNotOptimize(y.data());
    }
    state.counters["GB/s"] = benchmark::Counter(double(n * sizeof(float)) / 1e9, benchmark::Counter::kIsIterationInvariantRate);
}

// The roofline reference: a plain streaming read (sum of 64-bit words) over the working set.
void BM_read_bandwidth(benchmark::State& state) {
    const int threads = static_cast<int>(state.range(0));
    std::vector<uint64_t> buf(kWorkingSet / sizeof(uint64_t), 1);
    const int64_t n = static_cast<int64_t>(buf.size());
    for (auto _ : state) {
        uint64_t total = 0;
#pragma omp parallel for num_threads(threads) reduction(+ : total) schedule(static)
        for (int64_t i = 0; i < n; ++i) total += buf[static_cast<size_t>(i)];
        benchmark::DoNotOptimize(total);
    }
    state.counters["GB/s"] = benchmark::Counter(double(kWorkingSet) / 1e9, benchmark::Counter::kIsIterationInvariantRate);
}

int register_all() {
    benchmark::RegisterBenchmark("read_bandwidth", BM_read_bandwidth)->Arg(1)->Arg(2)->UseRealTime();
    for (const MatvecKernel& k : matvec_kernels()) {
        for (const Shape& s : kShapes) {
            const std::string name = std::string(k.name) + "/" + std::to_string(s.n_out) + "x" + std::to_string(s.n_in) + (s.cached ? "_L2" : "");
            auto* b = benchmark::RegisterBenchmark(name.c_str(), BM_matvec, &k, s)->ArgName("threads")->Arg(1)->Arg(2);
            if (s.cached) {
                b->UseManualTime()->Iterations(20);  // min_time would count only the fastest calls
            } else {
                b->UseRealTime();
            }
        }
    }
    for (const QuantizeKernel& k : quantize_kernels()) {
        for (int64_t n : {1536, 8960}) {
            benchmark::RegisterBenchmark((std::string(k.name) + "/" + std::to_string(n)).c_str(), BM_quantize, &k, n);
        }
    }
    return 0;
}
const int kRegistered = register_all();

}  // namespace

BENCHMARK_MAIN();
