// The CPU backend: host buffers, synchronous ops from ops.h on OpenMP threads.
#pragma once

#include <memory>

#include "backends/backend.h"

namespace r1::cpu {

std::unique_ptr<Backend> make_cpu_backend(int n_threads);

}  // namespace r1::cpu
