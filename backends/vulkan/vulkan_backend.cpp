// The Vulkan Backend: a Context (device, buffers, recorder) and the ops of ops.h. Buffers are
// DeviceBuffers (Buffer::data points at one); weights are suballocated from 256 MiB device
// buffers (16 MiB growing to 256 MiB) at 256-byte alignment, vectors stored as F16/BF16 converted to F32 on the way.
// Nothing here runs an op on the host: an op or type without a shader is refused by
// supports() at load, never computed elsewhere.
#include "backends/vulkan/vulkan_backend.h"

#include <algorithm>
#include <vector>

#include "backends/vulkan/ops.h"
#include "core/error.h"
#include "quant/codecs.h"

namespace r1::vulkan {
namespace {

// Weight buffers grow from 16 MiB to 256 MiB (a small model takes little more than it needs,
// a large one a few dozen allocations); a weight larger than that gets a buffer of its own.
constexpr size_t kFirstArenaBytes = size_t(16) << 20, kMaxArenaBytes = size_t(256) << 20;
constexpr size_t kWeightAlign = 256;

DeviceBuffer* device_buffer(const Tensor& t) {
    R1_CHECK(t.buffer.data != nullptr);
    return static_cast<DeviceBuffer*>(t.buffer.data);
}

class VulkanBackend final : public Backend {
public:
    explicit VulkanBackend(int index) : ctx_(index) {}
    ~VulkanBackend() override {
        for (DeviceBuffer* b : arenas_) ctx_.free(b);
    }

    std::string_view name() const override { return "vulkan"; }
    std::string device_name() const override { return ctx_.info().name; }
    // Allocated bytes less the unused tail of the last weight buffer.
    uint64_t device_bytes() const override {
        return ctx_.allocated_bytes() - (arenas_.empty() ? 0 : arenas_.back()->size - arena_used_);
    }
    bool supports(Op op, GgmlType type) const override {
        switch (op) {
            case Op::GetRows:
            case Op::Matmul:
            case Op::MatmulId: return has_weight_shader(type);
            case Op::Attention: return type == GgmlType::F16 || type == GgmlType::F32;
            case Op::Copy: return type == GgmlType::F16 || type == GgmlType::F32 || type == GgmlType::I32;
            default: return type == GgmlType::F32;
        }
    }
    uint64_t weight_capacity() const override { return ctx_.info().local_bytes; }

    Buffer alloc(size_t n_bytes) override { return {ctx_.alloc(n_bytes), n_bytes}; }
    void free(Buffer& b) override {
        ctx_.free(static_cast<DeviceBuffer*>(b.data));
        b = {};
    }
    void upload(const Tensor& dst, const void* src) override {
        R1_CHECK(dst.contiguous());
        ctx_.upload(device_buffer(dst), dst.offset, src, dst.n_bytes());
    }
    void download(const Tensor& src, void* dst) override {
        R1_CHECK(src.contiguous());
        ctx_.download(device_buffer(src), src.offset, dst, src.n_bytes());
        ctx_.sync();
    }
    void sync() override { ctx_.sync(); }

    LoadedWeight load_weight(const WeightSource& w) override {
        const std::initializer_list<int64_t> ne = {w.ne[0], w.ne[1], w.ne[2], w.ne[3]};
        if (w.use == WeightUse::Vector) {
            R1_CHECK(w.type == GgmlType::F32 || w.type == GgmlType::F16 || w.type == GgmlType::BF16);
            const size_t n = size_t(w.ne[0] * w.ne[1] * w.ne[2] * w.ne[3]);
            std::vector<float> f(n);
            const auto* h = static_cast<const uint16_t*>(w.data);
            if (w.type == GgmlType::F32) std::copy_n(static_cast<const float*>(w.data), n, f.data());
            else if (w.type == GgmlType::F16) fp16_to_fp32_row(h, f.data(), int64_t(n));
            else bf16_to_fp32_row(h, f.data(), int64_t(n));
            const Tensor t = place(w.name, GgmlType::F32, ne);
            upload(t, f.data());
            return {t, false};
        }
        R1_CHECK(has_weight_shader(w.type));
        const Tensor t = place(w.name, w.type, ne);
        upload(t, w.data);
        return {t, false};
    }

    void get_rows(const Tensor& table, const Tensor& ids, const Tensor& y) override {
        vulkan::get_rows(ctx_, table, ids, y);
    }
    void matmul(const Tensor& w, const Tensor& x, const Tensor& y) override { vulkan::matmul(ctx_, w, x, y); }
    void matmul_id(const Tensor& w, const Tensor& x, const Tensor& ids, const Tensor& y) override {
        vulkan::matmul_id(ctx_, w, x, ids, y);
    }
    void rms_norm(const Tensor& x, const Tensor& w, const Tensor& y, float eps) override {
        vulkan::rms_norm(ctx_, x, w, y, eps);
    }
    void rope(const RopeArgs& a) override { vulkan::rope(ctx_, a); }
    void attention(const AttentionArgs& a) override { vulkan::attention(ctx_, a); }
    void swiglu(const Tensor& gate, const Tensor& up, const Tensor& y) override { vulkan::swiglu(ctx_, gate, up, y); }
    void add(const Tensor& a, const Tensor& b, const Tensor& y) override { vulkan::add(ctx_, a, b, y); }
    void mul(const Tensor& a, const Tensor& b, const Tensor& y) override { vulkan::mul(ctx_, a, b, y); }
    void scale(const Tensor& x, float s, const Tensor& y) override { vulkan::scale(ctx_, x, s, y); }
    void sigmoid(const Tensor& x, const Tensor& y) override { vulkan::sigmoid(ctx_, x, y); }
    void softmax(const Tensor& x, const Tensor& y) override { vulkan::softmax(ctx_, x, y); }
    void copy(const Tensor& src, const Tensor& dst) override { vulkan::copy(ctx_, src, dst); }
    void moe_route(const MoeRouteArgs& a) override { vulkan::moe_route(ctx_, a); }
    void argmax(const Tensor& x, const Tensor& ids) override { vulkan::argmax(ctx_, x, ids); }

    const Stats& stats() const { return ctx_.stats(); }

private:
    // Room for a weight in the current arena, or a new one. One binding must reach all of it.
    Tensor place(std::string_view name, GgmlType type, std::initializer_list<int64_t> ne) {
        const size_t n_bytes = tensor_bytes(type, ne);
        if (uint64_t(n_bytes) + kWeightAlign > ctx_.max_binding_bytes())
            fail("tensor '{}': {:.1f} MiB is more than {} can bind at once ({:.1f} MiB, maxStorageBufferRange)",
                 name, double(n_bytes) / 1048576.0, ctx_.info().name,
                 double(ctx_.max_binding_bytes()) / 1048576.0);
        size_t offset = (arena_used_ + kWeightAlign - 1) / kWeightAlign * kWeightAlign;
        if (arenas_.empty() || offset + n_bytes > arenas_.back()->size) {
            const size_t grow = arenas_.empty() ? kFirstArenaBytes : std::min(2 * arenas_.back()->size, kMaxArenaBytes);
            arenas_.push_back(ctx_.alloc(std::max(grow, n_bytes)));
            offset = 0;
        }
        arena_used_ = offset + n_bytes;
        const DeviceBuffer* b = arenas_.back();
        return make_tensor({const_cast<DeviceBuffer*>(b), b->size}, offset, type, ne);
    }

    Context ctx_;
    std::vector<DeviceBuffer*> arenas_;
    size_t arena_used_ = 0;  // bytes used in arenas_.back()
};

}  // namespace

std::unique_ptr<Backend> make_vulkan_backend(int index) { return std::make_unique<VulkanBackend>(index); }

const Stats* stats_of(const Backend& backend) {
    const auto* v = dynamic_cast<const VulkanBackend*>(&backend);
    return v ? &v->stats() : nullptr;
}

}  // namespace r1::vulkan
