// The streaming engine shared by `r1 convert` and `r1 quantize`: tensors are cut into row
// slices, produced and encoded by a small thread pool, and written strictly in order, with at
// most 2 x threads slices in memory. Output bytes never depend on the thread count.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "convert/progress.h"
#include "quant/types.h"
#include "runtime/gguf/gguf.h"

namespace r1::convert {

struct StreamTensor {
    std::string name;
    GgmlType type = GgmlType::F32;
    int64_t row_length = 0, n_rows = 0;
    int64_t row_align = 1;      // slices start at multiples of this many rows
    uint64_t source_bytes = 0;  // for progress (MB/s of input)
    std::function<void(int64_t r0, int64_t n, float* dst)> produce = {};
    // Instead of produce: the encoded bytes of rows [r0, r0 + n) directly (copies in `quantize`).
    std::function<void(int64_t r0, int64_t n, uint8_t* dst)> produce_bytes = {};
};

// Elements per slice (float32): 4 Mi = 16 MiB, a few per thread in flight.
constexpr int64_t kSliceElements = int64_t{1} << 22;

// Writes every tensor's bytes to w (whose tensor infos must match, in order). Throws on the
// first error, and on SIGINT/SIGTERM received meanwhile ("interrupted").
void stream_tensors(gguf::Writer& w, const std::vector<StreamTensor>& tensors, int threads, Progress& progress);

// Threads to use for `--threads 0` (all cores).
int default_threads();

}  // namespace r1::convert
