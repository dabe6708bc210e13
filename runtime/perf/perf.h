// What a benchmark needs to know about the machine: physical cores, the CPU's name, and the
// memory read bandwidth measured on the spot (the ceiling of memory-bound decoding).
#pragma once

#include <cstddef>
#include <string>

namespace r1::perf {

// Physical cores this process may run on: distinct (package, core) pairs of the CPUs in its
// affinity mask (sysfs topology); the hardware thread count when the topology is unreadable.
int physical_cores();

// "model name" from /proc/cpuinfo (the lscpu model name), or "unknown".
std::string cpu_model_name();

struct Bandwidth {
    double gbs = 0;         // best pass, 1e9 bytes per second
    size_t bytes = 0;       // buffer size read per pass
    int threads = 0;
    int passes = 0;
};

constexpr size_t kDefaultBandwidthBytes = size_t(512) << 20;  // well above any LLC we target

// Streaming read bandwidth: the buffer is filled first (so every page is backed), then each of
// n_threads threads reads its contiguous share with wide SIMD loads and several independent
// accumulators; the fastest of `passes` passes counts. Throws r1::Error if memory runs out.
Bandwidth read_bandwidth(int n_threads, size_t bytes = kDefaultBandwidthBytes, int passes = 5);

}  // namespace r1::perf
