// The CPU Backend: forwards each op to its threaded implementation in ops.h. Buffers are
// zeroed host memory; sync is a no-op because every op completes before it returns.
#include "backends/cpu/ops/cpu_backend.h"

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <new>
#include <thread>
#include <vector>

#include "backends/cpu/kernels.h"

#include "backends/cpu/ops/ops.h"
#include "core/error.h"

namespace r1 {

int resolve_threads(int n) {
    if (n <= 0) n = int(std::thread::hardware_concurrency());
    return std::clamp(n, 1, 1024);
}

namespace cpu {
namespace {

class CpuBackend final : public Backend {
public:
    explicit CpuBackend(int n_threads) : n_threads_(resolve_threads(n_threads)) {}

    std::string_view name() const override { return "cpu"; }
    bool supports(Op op, GgmlType type) const override {
        if (op == Op::Matmul || op == Op::Embed) return can_dequantize(type);
        return true;
    }

    Buffer alloc(size_t n_bytes) override {
        void* p = n_bytes ? std::calloc(1, n_bytes) : nullptr;
        if (n_bytes && !p) fail("out of memory allocating {} bytes on the CPU", n_bytes);
        return {p, n_bytes};
    }
    void free(Buffer& b) override {
        std::free(b.data);
        b = {};
    }
    void upload(Buffer& dst, size_t offset, const void* src, size_t n_bytes) override {
        R1_CHECK(offset + n_bytes <= dst.n_bytes);
        std::memcpy(static_cast<char*>(dst.data) + offset, src, n_bytes);
    }
    void download(const Buffer& src, size_t offset, void* dst, size_t n_bytes) override {
        R1_CHECK(offset + n_bytes <= src.n_bytes);
        std::memcpy(dst, static_cast<const char*>(src.data) + offset, n_bytes);
    }
    void sync() override {}

    // Weights of the formats with a packed layout (backends/cpu/kernels.h) are repacked once
    // into 16-row panels; the file's copy is then only read by embed.
    void prepare_matrix(WeightView& w) override {
        if (!cpu::pack_supported(w.type, w.n_in) || w.n_out <= 0) return;
        const size_t n = cpu::packed_bytes(w.type, w.n_out, w.n_in);
        void* p = std::aligned_alloc(64, (n + 63) / 64 * 64);
        if (!p) fail("out of memory repacking a {} x {} weight matrix ({} bytes)", w.n_out, w.n_in, n);
        packed_.emplace_back(p);
        cpu::pack_matrix(w.type, w.data, w.n_out, w.n_in, p, n_threads_);
        w.packed = p;
    }

    void embed(const WeightView& table, std::span<const int32_t> ids, float* y) override {
        cpu::embed(table, ids, y, n_threads_);
    }
    void matmul(const WeightView& w, const float* x, int64_t n_tokens, float* y) override {
        cpu::matmul(w, x, n_tokens, y, n_threads_);
    }
    void rms_norm(const RmsNormArgs& a) override { cpu::rms_norm(a, n_threads_); }
    void rope(const RopeArgs& a) override { cpu::rope(a, n_threads_); }
    void attention(const AttentionArgs& a) override { cpu::attention(a, n_threads_); }
    void glu(const float* gate, const float* up, float* y, int64_t n) override {
        cpu::glu(gate, up, y, n, n_threads_);
    }
    void add(float* y, const float* x, int64_t n) override { cpu::add(y, x, n, n_threads_); }
    void add_bias(float* y, const float* bias, int64_t n_rows, int64_t n) override {
        cpu::add_bias(y, bias, n_rows, n, n_threads_);
    }
    void softmax(float* x, int64_t n_rows, int64_t n) override { cpu::softmax(x, n_rows, n, n_threads_); }
    int32_t argmax(const float* x, int64_t n) override { return cpu::argmax(x, n); }

private:
    struct FreeDeleter {
        void operator()(void* p) const { std::free(p); }
    };
    int n_threads_;
    std::vector<std::unique_ptr<void, FreeDeleter>> packed_;
};

}  // namespace

std::unique_ptr<Backend> make_cpu_backend(int n_threads) { return std::make_unique<CpuBackend>(n_threads); }

}  // namespace cpu

std::unique_ptr<Backend> create_backend(const BackendOptions& options) {
    if (options.name == "cpu") return cpu::make_cpu_backend(options.n_threads);
    if (options.name == "vulkan" || options.name == "cuda")
        fail("--backend {}: this build of r1 has no {} backend", options.name, options.name);
    fail("--backend {}: unknown backend (expected cpu, vulkan or cuda)", options.name);
}

}  // namespace r1
