// Where a model runs: one backend per layer range and a rule for routed-expert weights
// (CLI.md -ngl / --cpu-moe, llama.cpp's semantics). The host backend (the CPU) runs the first
// layers, a device backend the last n_device; with cpu_moe the routed experts' weights
// (blk.N.ffn_*_exps) stay on the host. Families ask the placement for the backend of every
// weight and layer and never decide; they copy activations explicitly (copy_across) where
// consecutive steps run on different backends. Nothing here knows a backend's internals.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "backends/backend.h"
#include "runtime/gguf/gguf.h"

namespace r1 {

struct PlacementOptions {
    BackendOptions backend;      // the named backend (cpu | vulkan | cuda) and CPU threads
    int32_t n_gpu_layers = -1;   // -ngl: layers on the named backend counted from the last; < 0: all
    bool cpu_moe = false;        // --cpu-moe: routed-expert weights stay on the CPU
};

class Placement {
public:
    // Creates the host (CPU) backend and, unless the named one is the CPU, the device backend;
    // throws r1::Error naming a backend that is unknown, not built in or without a device.
    static Placement create(const PlacementOptions& options);
    // Over given backends (tests use a second CPU instance as the "device"). device may be null:
    // every layer on the host. n_device_layers < 0: every layer and the output on the device.
    Placement(std::unique_ptr<Backend> host, std::unique_ptr<Backend> device, int32_t n_device_layers, bool cpu_moe);
    Placement(Placement&&) = default;
    Placement& operator=(Placement&&) = default;

    // Fixes the layer count (the family reads it): layers [n_layer − n_device, n_layer) on the
    // device, and the output too when n_device > n_layer or < 0 (llama.cpp counts the output as
    // one more layer: -ngl 999 offloads everything, -ngl n_layer all but the head).
    void resolve(int32_t n_layer);
    int32_t n_layer() const { return n_layer_; }

    Backend& host() const { return *host_; }
    // The named backend: the device, or the host when it is the CPU (bench's "backend").
    Backend& primary() const { return device_ ? *device_ : *host_; }
    Backend& layer(int32_t il) const;
    // Token embeddings (get_rows) and the final norm and head.
    Backend& input() const { return layer(0); }
    Backend& output() const;
    // Routed-expert weights of layer il and their matmul_id: the host with cpu_moe.
    Backend& experts(int32_t il) const;
    // The backend that takes the tensor of that GGUF name used as `use`: blk.N.ffn_*_exps ->
    // experts(N), other blk.N.* -> layer(N), token_embd.weight as rows -> input(), every other
    // tensor (output norm and head, a tied head too) -> output().
    Backend& for_tensor(std::string_view name, WeightUse use) const;
    // Every distinct backend, host first.
    std::vector<Backend*> backends() const;
    void sync() const;

    // Adds up, per backend, the file bytes of the tensors placed on it (a tied head counts on
    // the output's backend too) and fails before any weight is loaded when they exceed the
    // backend's weight_capacity(), saying how much was needed.
    void check_capacity(const gguf::File& file);
    // CLI.md's load line: "backend cpu: 28 layers, 1.1 GiB weights", or for a device
    // "backend vulkan: <device>, 20/28 layers, 812 MiB on device; cpu: layers 0-7, output,
    // 0.3 GiB weights"; what the options did not change is said in parentheses.
    std::string load_line() const;

private:
    std::unique_ptr<Backend> host_, device_;
    int32_t n_device_ = -1;  // as asked; resolve() clamps
    bool cpu_moe_ = false;
    int32_t n_layer_ = 0, first_device_ = 0;
    bool output_on_device_ = false;
    std::vector<std::pair<const Backend*, uint64_t>> bytes_;  // check_capacity's totals
    std::string ignored_;  // options that had no effect, for load_line
};

}  // namespace r1
