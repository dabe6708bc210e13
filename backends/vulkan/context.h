// One Vulkan device opened for compute: device-local buffers with staged uploads and
// downloads, compute pipelines built once from the embedded SPIR-V (shaders.h), and a
// recorder that puts every transfer and dispatch between two sync()s into one command buffer,
// with a barrier only where a command touches a range an earlier unbarriered command wrote
// (or writes one it read). Not thread-safe: one Context per thread of control.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "backends/vulkan/loader.h"
#include "backends/vulkan/shaders.h"

namespace r1::vulkan {

struct DeviceInfo {
    int index = 0;
    std::string name;       // "NVIDIA GeForce RTX 4090", "llvmpipe (LLVM 15.0.6, 256 bits)"
    std::string type;       // discrete | integrated | virtual | cpu | other
    uint64_t local_bytes = 0;  // the largest device-local heap
    uint32_t api_version = 0;
    uint32_t subgroup_size = 0;
    bool storage16 = false;  // 16-bit storage buffers (required: weights are read as u16 words)
    bool fp16 = false;       // shaderFloat16
    bool int8 = false;       // shaderInt8
};

// Every physical device the loader reports, in its order (the --device index). Throws
// r1::Error when there is no loader; an empty list means no device.
std::vector<DeviceInfo> list_devices();
// "0: NVIDIA GeForce RTX 4090 (discrete, 24564 MiB, Vulkan 1.3.277)"
std::string describe(const DeviceInfo& d);

// A device-local buffer owned by a Context. size is what was asked for; bytes beyond it
// (rounded up to 16) exist so that u16/f32 words at the end are always readable.
struct DeviceBuffer {
    VkBuffer buffer = VK_NULL_HANDLE;
    VkDeviceMemory memory = VK_NULL_HANDLE;
    size_t size = 0;
};

// One descriptor of a dispatch: a range of a buffer the shader reads (or writes). The shader
// sees the buffer from offset rounded down to the device's alignment; bind_delta(offset)
// bytes is what the shader must add (pass it in the push constants, in elements).
struct Binding {
    const DeviceBuffer* buf = nullptr;
    size_t offset = 0;
    size_t size = 0;
    bool write = false;
};

struct Stats {
    uint64_t dispatches = 0;  // vkCmdDispatch recorded
    uint64_t barriers = 0;    // pipeline barriers between dependent commands
    uint64_t submits = 0;     // queue submissions (one per sync with work, plus staging flushes)
    uint64_t uploaded = 0, downloaded = 0;  // bytes
};

class Context {
public:
    // Opens device `index` of list_devices(); throws r1::Error (one line) when there is none,
    // the index is out of range, or the device lacks what the shaders need.
    explicit Context(int index);
    ~Context();
    Context(const Context&) = delete;
    Context& operator=(const Context&) = delete;

    const DeviceInfo& info() const { return info_; }
    const Stats& stats() const { return stats_; }
    size_t allocated_bytes() const { return allocated_; }

    // Zero-filled device-local memory (the fill is enqueued); throws r1::Error naming the
    // bytes needed when the device is out of memory.
    DeviceBuffer* alloc(size_t n_bytes);
    void free(DeviceBuffer* b);  // waits for enqueued work first

    // Enqueued: the host bytes are copied to staging memory now, so src may change at once.
    void upload(const DeviceBuffer* dst, size_t offset, const void* src, size_t n_bytes);
    // Enqueued: dst is written by the next sync(); it must stay valid until then.
    void download(const DeviceBuffer* src, size_t offset, void* dst, size_t n_bytes);

    size_t bind_delta(size_t offset) const { return offset % align_; }
    // The most bytes one binding can span (maxStorageBufferRange).
    uint64_t max_binding_bytes() const { return max_range_; }
    // Records one dispatch of `shader` with the given bindings (in binding order), push
    // constants (<= 128 bytes) and specialization constants (constant_id 0, 1, ...).
    void dispatch(ShaderId shader, std::span<const uint32_t> spec, std::span<const Binding> bindings,
                  const void* push, size_t push_bytes, uint32_t gx, uint32_t gy = 1, uint32_t gz = 1);
    // Submits what was recorded and waits; downloads are in their host memory afterwards.
    void sync();

    // A 1-D grid of n invocations in groups of `local` as (x, y) with x <= 65535.
    static void grid_1d(uint64_t n, uint32_t local, uint32_t& gx, uint32_t& gy);

private:
    struct Pipeline {
        VkPipeline pipeline = VK_NULL_HANDLE;
        VkPipelineLayout layout = VK_NULL_HANDLE;
        VkDescriptorSetLayout set_layout = VK_NULL_HANDLE;
    };
    struct Access {
        VkBuffer buffer;
        size_t begin, end;
        bool write;
    };
    struct Staging {
        VkBuffer buffer = VK_NULL_HANDLE;
        VkDeviceMemory memory = VK_NULL_HANDLE;
        uint8_t* host = nullptr;
        size_t size = 0, used = 0;
    };
    struct PendingDownload {
        size_t staging_offset;
        void* dst;
        size_t n;
    };

    const Pipeline& pipeline(ShaderId shader, std::span<const uint32_t> spec);
    VkDescriptorSet descriptor_set(VkDescriptorSetLayout layout);
    void begin();  // starts recording if not yet
    void hazard(std::span<const Access> accesses);  // barrier if needed, then tracks them
    void create_staging(Staging& s, size_t size, bool readback);
    uint32_t memory_type(uint32_t bits, VkMemoryPropertyFlags want, VkMemoryPropertyFlags avoid) const;
    VkDeviceMemory allocate(VkMemoryRequirements req, VkMemoryPropertyFlags want, size_t asked);

    const Vk& vk_;
    DeviceInfo info_;
    VkPhysicalDevice phys_ = VK_NULL_HANDLE;
    VkDevice dev_ = VK_NULL_HANDLE;
    VkQueue queue_ = VK_NULL_HANDLE;
    uint32_t queue_family_ = 0;
    VkPhysicalDeviceMemoryProperties mem_{};
    size_t align_ = 256;               // minStorageBufferOffsetAlignment
    uint64_t max_range_ = 1ull << 27;  // maxStorageBufferRange
    VkCommandPool pool_ = VK_NULL_HANDLE;
    VkCommandBuffer cmd_ = VK_NULL_HANDLE;
    VkFence fence_ = VK_NULL_HANDLE;
    bool recording_ = false;
    std::vector<VkDescriptorPool> desc_pools_;
    size_t desc_pool_ = 0;  // the pool sets come from now
    std::map<std::pair<int, std::vector<uint32_t>>, Pipeline> pipelines_;
    std::vector<Access> since_barrier_;
    Staging up_, down_;
    std::vector<PendingDownload> downloads_;
    Stats stats_;
    // R1_VK_PROFILE=1: each dispatch is submitted and waited for alone, its wall time summed per
    // shader and printed to stderr when the Context closes (a debugging aid; it serializes).
    bool profile_ = false;
    std::map<std::string, std::pair<double, uint64_t>> profile_ms_;  // shader -> (ms, dispatches)
    size_t allocated_ = 0;
};

}  // namespace r1::vulkan
