// Memory read bandwidth: a streaming read with the widest vectors the CPU has (Highway,
// dispatched at run time), several accumulators so loads never wait on each other, one
// contiguous share per thread, passes separated by a barrier and timed by thread 0.
#undef HWY_TARGET_INCLUDE
#define HWY_TARGET_INCLUDE "runtime/perf/bandwidth.cpp"
#include <hwy/foreach_target.h>  // IWYU pragma: keep

#include <hwy/highway.h>

HWY_BEFORE_NAMESPACE();
namespace r1::perf::HWY_NAMESPACE {
namespace hn = hwy::HWY_NAMESPACE;

// XOR of every 64-bit word of p[0, n); n is a multiple of 8 vectors.
uint64_t ReadAll(const uint64_t* HWY_RESTRICT p, size_t n) {
    const hn::ScalableTag<uint64_t> d;
    const size_t N = hn::Lanes(d);
    auto a0 = hn::Zero(d), a1 = hn::Zero(d), a2 = hn::Zero(d), a3 = hn::Zero(d);
    auto a4 = hn::Zero(d), a5 = hn::Zero(d), a6 = hn::Zero(d), a7 = hn::Zero(d);
    for (size_t i = 0; i + 8 * N <= n; i += 8 * N) {
        a0 = hn::Xor(a0, hn::Load(d, p + i));
        a1 = hn::Xor(a1, hn::Load(d, p + i + N));
        a2 = hn::Xor(a2, hn::Load(d, p + i + 2 * N));
        a3 = hn::Xor(a3, hn::Load(d, p + i + 3 * N));
        a4 = hn::Xor(a4, hn::Load(d, p + i + 4 * N));
        a5 = hn::Xor(a5, hn::Load(d, p + i + 5 * N));
        a6 = hn::Xor(a6, hn::Load(d, p + i + 6 * N));
        a7 = hn::Xor(a7, hn::Load(d, p + i + 7 * N));
    }
    auto x = hn::Xor(hn::Xor(hn::Xor(a0, a1), hn::Xor(a2, a3)), hn::Xor(hn::Xor(a4, a5), hn::Xor(a6, a7)));
    HWY_ALIGN uint64_t lanes[HWY_MAX_BYTES / sizeof(uint64_t)];
    hn::StoreU(x, d, lanes);
    uint64_t r = 0;
    for (size_t i = 0; i < N; ++i) r ^= lanes[i];
    return r;
}

}  // namespace r1::perf::HWY_NAMESPACE
HWY_AFTER_NAMESPACE();

#if HWY_ONCE
#include <algorithm>
#include <atomic>
#include <barrier>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <thread>
#include <vector>

#include "core/error.h"
#include "runtime/perf/perf.h"

namespace r1::perf {

HWY_EXPORT(ReadAll);

namespace {

constexpr size_t kAlign = 4096;

struct FreeDeleter {
    void operator()(void* p) const { std::free(p); }
};

}  // namespace

Bandwidth read_bandwidth(int n_threads, size_t bytes, int passes) {
    n_threads = std::clamp(n_threads, 1, 1024);
    passes = std::max(passes, 1);
    // Each thread's share: a multiple of 4 KiB (a multiple of 8 vectors of any width).
    const size_t share = std::max<size_t>(kAlign, bytes / size_t(n_threads) / kAlign * kAlign);
    const size_t total = share * size_t(n_threads);
    std::unique_ptr<void, FreeDeleter> mem(std::aligned_alloc(kAlign, total));
    if (!mem) fail("bandwidth test: cannot allocate {} MiB", total >> 20);
    auto* words = static_cast<uint64_t*>(mem.get());
    const size_t words_per_thread = share / sizeof(uint64_t);

    std::vector<double> seconds(size_t(passes), 0.0);
    std::atomic<uint64_t> sink{0};
    std::barrier sync(n_threads);
    auto worker = [&](int t) {
        uint64_t* mine = words + size_t(t) * words_per_thread;
        // First touch by the reading thread: pages are backed (not the shared zero page).
        for (size_t i = 0; i < words_per_thread; ++i) mine[i] = i * 0x9E3779B97F4A7C15ull + uint64_t(t);
        uint64_t acc = 0;
        for (int p = 0; p < passes; ++p) {
            sync.arrive_and_wait();
            const auto t0 = std::chrono::steady_clock::now();
            acc ^= HWY_DYNAMIC_DISPATCH(ReadAll)(mine, words_per_thread);
            sync.arrive_and_wait();
            if (t == 0)
                seconds[size_t(p)] = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
        }
        sink.fetch_xor(acc);
    };
    std::vector<std::thread> threads;
    for (int t = 1; t < n_threads; ++t) threads.emplace_back(worker, t);
    worker(0);
    for (auto& th : threads) th.join();

    const double best = *std::min_element(seconds.begin(), seconds.end());
    Bandwidth b;
    b.bytes = total;
    b.threads = n_threads;
    b.passes = passes;
    b.gbs = best > 0 ? double(total) / best / 1e9 : 0.0;
    return b;
}

}  // namespace r1::perf
#endif  // HWY_ONCE
