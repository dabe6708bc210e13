// The CPU Backend: tensors are host memory; each op runs at once (threaded, ops.h), so sync
// is a no-op. Weights are read in place from the mapped file, except the matrices of the
// formats with a packed layout (kernels.h), which are repacked once into 16-row panels (AVX-512 VNNI / AVX2),
// and vectors stored as F16/BF16, which are converted to F32.
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
    std::string_view isa() const override { return isa_name(std::min(cpu_isa(), isa_cap())); }
    bool supports(Op op, GgmlType type) const override {
        switch (op) {
            case Op::GetRows:
            case Op::Matmul:
            case Op::MatmulId: return can_dequantize(type);
            case Op::Attention: return type == GgmlType::F16 || type == GgmlType::F32;
            case Op::Copy: return type == GgmlType::F16 || type == GgmlType::F32 || type == GgmlType::I32;
            default: return type == GgmlType::F32;
        }
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
    void upload(const Tensor& dst, const void* src) override {
        R1_CHECK(dst.contiguous());
        std::memcpy(at(dst), src, dst.n_bytes());
    }
    void download(const Tensor& src, void* dst) override {
        R1_CHECK(src.contiguous());
        std::memcpy(dst, at(src), src.n_bytes());
    }
    void sync() override {}

    LoadedWeight load_weight(const WeightSource& w) override {
        Tensor t;
        t.type = w.type;
        std::copy(std::begin(w.ne), std::end(w.ne), t.ne);
        const size_t n_bytes = tensor_bytes(w.type, {w.ne[0], w.ne[1], w.ne[2], w.ne[3]});
        if (w.use == WeightUse::Vector) {
            R1_CHECK(w.type == GgmlType::F32 || w.type == GgmlType::F16 || w.type == GgmlType::BF16);
            if (w.type == GgmlType::F32 && w.persistent) return borrow(t, w.data, n_bytes);
            Tensor f = make_tensor(own(size_t(t.n_elements()) * sizeof(float), w.name), 0, GgmlType::F32,
                                   {w.ne[0], w.ne[1], w.ne[2], w.ne[3]});
            R1_CHECK(dequantize_row(w.type, w.data, reinterpret_cast<float*>(at(f)), t.n_elements()));
            return {f, false};
        }
        R1_CHECK(can_dequantize(w.type));
        const int64_t n_in = w.ne[0], n_out = w.ne[1], n_mat = w.ne[2] * w.ne[3];
        if (w.use == WeightUse::Matmul && n_out > 0 && pack_supported(w.type, n_in)) {
            const size_t per = packed_bytes(w.type, n_out, n_in), row = row_bytes(w.type, uint64_t(n_in));
            t.buffer = own(per * size_t(n_mat), w.name);
            for (int64_t m = 0; m < n_mat; ++m)
                pack_matrix(w.type, static_cast<const char*>(w.data) + size_t(m * n_out) * row, n_out, n_in,
                            static_cast<char*>(t.buffer.data) + size_t(m) * per, n_threads_);
            t.layout = kLayoutPacked;
            t.nb[0] = type_traits(w.type).type_size;
            t.nb[1] = row;  // not addressable by row; kept for the shape's sake
            t.nb[2] = per;
            t.nb[3] = per * size_t(w.ne[2]);
            return {t, false};
        }
        if (w.persistent) return borrow(t, w.data, n_bytes);
        Tensor c = make_tensor(own(n_bytes, w.name), 0, w.type, {w.ne[0], w.ne[1], w.ne[2], w.ne[3]});
        std::memcpy(at(c), w.data, n_bytes);
        return {c, false};
    }

    void get_rows(const Tensor& table, const Tensor& ids, const Tensor& y) override {
        cpu::get_rows(table, ids, y, n_threads_);
    }
    void matmul(const Tensor& w, const Tensor& x, const Tensor& y) override { cpu::matmul(w, x, y, n_threads_); }
    void matmul_id(const Tensor& w, const Tensor& x, const Tensor& ids, const Tensor& y) override {
        cpu::matmul_id(w, x, ids, y, n_threads_);
    }
    void rms_norm(const Tensor& x, const Tensor& w, const Tensor& y, float eps) override {
        cpu::rms_norm(x, w, y, eps, n_threads_);
    }
    void rope(const RopeArgs& a) override { cpu::rope(a, n_threads_); }
    void attention(const AttentionArgs& a) override { cpu::attention(a, n_threads_); }
    void swiglu(const Tensor& gate, const Tensor& up, const Tensor& y) override {
        cpu::swiglu(gate, up, y, n_threads_);
    }
    void add(const Tensor& a, const Tensor& b, const Tensor& y) override { cpu::add(a, b, y, n_threads_); }
    void mul(const Tensor& a, const Tensor& b, const Tensor& y) override { cpu::mul(a, b, y, n_threads_); }
    void scale(const Tensor& x, float s, const Tensor& y) override { cpu::scale(x, s, y, n_threads_); }
    void sigmoid(const Tensor& x, const Tensor& y) override { cpu::sigmoid(x, y, n_threads_); }
    void softmax(const Tensor& x, const Tensor& y) override { cpu::softmax(x, y, n_threads_); }
    void copy(const Tensor& src, const Tensor& dst) override { cpu::copy(src, dst, n_threads_); }
    void moe_route(const MoeRouteArgs& a) override { cpu::moe_route(a, n_threads_); }
    void argmax(const Tensor& x, const Tensor& ids) override { cpu::argmax_ref(x, ids); }

private:
    struct FreeDeleter {
        void operator()(void* p) const { std::free(p); }
    };

    // The source bytes, read in place (a mapped file outlives the backend).
    static LoadedWeight borrow(Tensor t, const void* data, size_t n_bytes) {
        t.buffer = {const_cast<void*>(data), n_bytes};
        t.nb[0] = type_traits(t.type).type_size;
        t.nb[1] = t.row_size();
        for (int d = 2; d < Tensor::kDims; ++d) t.nb[d] = t.nb[d - 1] * size_t(t.ne[d - 1]);
        return {t, true};
    }
    // Memory the backend keeps until it is destroyed (64-byte aligned for the panels).
    Buffer own(size_t n_bytes, std::string_view name) {
        void* p = std::aligned_alloc(64, std::max<size_t>(64, (n_bytes + 63) / 64 * 64));
        if (!p) fail("out of memory loading weight '{}' ({} bytes) on the CPU", name, n_bytes);
        owned_.emplace_back(p);
        return {p, n_bytes};
    }

    int n_threads_;
    std::vector<std::unique_ptr<void, FreeDeleter>> owned_;
};

}  // namespace

std::unique_ptr<Backend> make_cpu_backend(int n_threads) { return std::make_unique<CpuBackend>(n_threads); }

}  // namespace cpu
}  // namespace r1
