// Device selection, memory, pipelines and the one-command-buffer recorder (context.h).
#include "backends/vulkan/context.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include <fmt/format.h>

#include "core/error.h"

namespace r1::vulkan {
namespace {

constexpr size_t kPushBytes = 128;             // the minimum maxPushConstantsSize
constexpr size_t kStagingBytes = 16u << 20;    // per direction; large transfers go in pieces
constexpr uint32_t kSetsPerPool = 1024;
constexpr uint32_t kMaxBindings = 8;

void check(VkResult r, const char* what) {
    if (r != VK_SUCCESS) fail("vulkan: {} failed ({})", what, result_name(r));
}

const char* type_name(VkPhysicalDeviceType t) {
    switch (t) {
        case VK_PHYSICAL_DEVICE_TYPE_DISCRETE_GPU: return "discrete";
        case VK_PHYSICAL_DEVICE_TYPE_INTEGRATED_GPU: return "integrated";
        case VK_PHYSICAL_DEVICE_TYPE_VIRTUAL_GPU: return "virtual";
        case VK_PHYSICAL_DEVICE_TYPE_CPU: return "cpu";
        default: return "other";
    }
}

std::vector<VkPhysicalDevice> physical_devices(const Instance& in) {
    uint32_t n = 0;
    check(in.fn.vkEnumeratePhysicalDevices(in.instance, &n, nullptr), "vkEnumeratePhysicalDevices");
    std::vector<VkPhysicalDevice> v(n);
    check(in.fn.vkEnumeratePhysicalDevices(in.instance, &n, v.data()), "vkEnumeratePhysicalDevices");
    v.resize(n);
    return v;
}

DeviceInfo query(const Vk& vk, VkPhysicalDevice pd, int index) {
    DeviceInfo d;
    d.index = index;
    VkPhysicalDeviceSubgroupProperties sub{.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_SUBGROUP_PROPERTIES};
    VkPhysicalDeviceProperties2 p2{.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_PROPERTIES_2, .pNext = &sub};
    vk.vkGetPhysicalDeviceProperties2(pd, &p2);
    d.name = p2.properties.deviceName;
    d.type = type_name(p2.properties.deviceType);
    d.api_version = p2.properties.apiVersion;
    d.subgroup_size = sub.subgroupSize;
    VkPhysicalDeviceMemoryProperties mp;
    vk.vkGetPhysicalDeviceMemoryProperties(pd, &mp);
    for (uint32_t i = 0; i < mp.memoryHeapCount; ++i)
        if (mp.memoryHeaps[i].flags & VK_MEMORY_HEAP_DEVICE_LOCAL_BIT)
            d.local_bytes = std::max<uint64_t>(d.local_bytes, mp.memoryHeaps[i].size);
    VkPhysicalDevice16BitStorageFeatures s16{.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_16BIT_STORAGE_FEATURES};
    VkPhysicalDeviceShaderFloat16Int8Features f16i8{
        .sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_SHADER_FLOAT16_INT8_FEATURES, .pNext = &s16};
    VkPhysicalDeviceFeatures2 f2{.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_FEATURES_2, .pNext = &f16i8};
    vk.vkGetPhysicalDeviceFeatures2(pd, &f2);
    d.storage16 = s16.storageBuffer16BitAccess;
    d.fp16 = f16i8.shaderFloat16;
    d.int8 = f16i8.shaderInt8;
    return d;
}

}  // namespace

std::vector<DeviceInfo> list_devices() {
    const Instance& in = instance();
    std::vector<DeviceInfo> out;
    int i = 0;
    for (VkPhysicalDevice pd : physical_devices(in)) out.push_back(query(in.fn, pd, i++));
    return out;
}

std::string describe(const DeviceInfo& d) {
    return fmt::format("{}: {} ({}, {} MiB, Vulkan {}.{}.{}, subgroup {}{})", d.index, d.name, d.type,
                       d.local_bytes >> 20, VK_API_VERSION_MAJOR(d.api_version),
                       VK_API_VERSION_MINOR(d.api_version), VK_API_VERSION_PATCH(d.api_version),
                       d.subgroup_size, d.storage16 ? "" : ", no 16-bit storage: unusable");
}

void Context::grid_1d(uint64_t n, uint32_t local, uint32_t& gx, uint32_t& gy) {
    const uint64_t groups = (n + local - 1) / local;
    gx = uint32_t(std::min<uint64_t>(groups, 65535));
    gy = uint32_t(gx ? (groups + gx - 1) / gx : 1);
    if (gx == 0) gx = 1;
}

Context::Context(int index) : vk_(instance().fn) {
    const Instance& in = instance();
    const std::vector<VkPhysicalDevice> pds = physical_devices(in);
    if (pds.empty()) fail("vulkan: no Vulkan device found (is a driver installed? Debian: mesa-vulkan-drivers)");
    if (index < 0 || size_t(index) >= pds.size())
        fail("vulkan: --device {} out of range: {} device{} (r1 info --devices lists them)", index,
             pds.size(), pds.size() == 1 ? "" : "s");
    phys_ = pds[size_t(index)];
    info_ = query(vk_, phys_, index);
    if (info_.api_version < VK_API_VERSION_1_1) fail("vulkan: device {} ({}) supports only Vulkan 1.0", index, info_.name);
    if (!info_.storage16) fail("vulkan: device {} ({}) lacks 16-bit storage buffers, which the shaders need", index, info_.name);

    VkPhysicalDeviceProperties props;
    vk_.vkGetPhysicalDeviceProperties(phys_, &props);
    align_ = std::max<size_t>(size_t(props.limits.minStorageBufferOffsetAlignment), 16);
    max_range_ = props.limits.maxStorageBufferRange;
    vk_.vkGetPhysicalDeviceMemoryProperties(phys_, &mem_);

    uint32_t nq = 0;
    vk_.vkGetPhysicalDeviceQueueFamilyProperties(phys_, &nq, nullptr);
    std::vector<VkQueueFamilyProperties> qf(nq);
    vk_.vkGetPhysicalDeviceQueueFamilyProperties(phys_, &nq, qf.data());
    bool found = false;
    for (uint32_t i = 0; i < nq && !found; ++i)  // prefer a compute queue without graphics
        if ((qf[i].queueFlags & VK_QUEUE_COMPUTE_BIT) && !(qf[i].queueFlags & VK_QUEUE_GRAPHICS_BIT))
            queue_family_ = i, found = true;
    for (uint32_t i = 0; i < nq && !found; ++i)
        if (qf[i].queueFlags & VK_QUEUE_COMPUTE_BIT) queue_family_ = i, found = true;
    if (!found) fail("vulkan: device {} ({}) has no compute queue", index, info_.name);

    const float prio = 1.0f;
    VkDeviceQueueCreateInfo qci{.sType = VK_STRUCTURE_TYPE_DEVICE_QUEUE_CREATE_INFO,
                                .queueFamilyIndex = queue_family_, .queueCount = 1, .pQueuePriorities = &prio};
    VkPhysicalDevice16BitStorageFeatures s16{.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_16BIT_STORAGE_FEATURES,
                                             .storageBuffer16BitAccess = VK_TRUE};
    VkPhysicalDeviceFeatures2 f2{.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_FEATURES_2, .pNext = &s16};
    VkDeviceCreateInfo dci{.sType = VK_STRUCTURE_TYPE_DEVICE_CREATE_INFO, .pNext = &f2,
                           .queueCreateInfoCount = 1, .pQueueCreateInfos = &qci};
    check(vk_.vkCreateDevice(phys_, &dci, nullptr, &dev_), "vkCreateDevice");
    vk_.vkGetDeviceQueue(dev_, queue_family_, 0, &queue_);

    VkCommandPoolCreateInfo pci{.sType = VK_STRUCTURE_TYPE_COMMAND_POOL_CREATE_INFO,
                                .flags = VK_COMMAND_POOL_CREATE_RESET_COMMAND_BUFFER_BIT,
                                .queueFamilyIndex = queue_family_};
    check(vk_.vkCreateCommandPool(dev_, &pci, nullptr, &pool_), "vkCreateCommandPool");
    VkCommandBufferAllocateInfo cai{.sType = VK_STRUCTURE_TYPE_COMMAND_BUFFER_ALLOCATE_INFO, .commandPool = pool_,
                                    .level = VK_COMMAND_BUFFER_LEVEL_PRIMARY, .commandBufferCount = 1};
    check(vk_.vkAllocateCommandBuffers(dev_, &cai, &cmd_), "vkAllocateCommandBuffers");
    VkFenceCreateInfo fci{.sType = VK_STRUCTURE_TYPE_FENCE_CREATE_INFO};
    check(vk_.vkCreateFence(dev_, &fci, nullptr, &fence_), "vkCreateFence");
    create_staging(up_, kStagingBytes, false);
    create_staging(down_, kStagingBytes, true);
    const char* prof = std::getenv("R1_VK_PROFILE");
    profile_ = prof && std::string(prof) == "1";
}

Context::~Context() {
    if (!dev_) return;
    vk_.vkDeviceWaitIdle(dev_);
    if (profile_) {
        double total = 0;
        for (const auto& [name, v] : profile_ms_) total += v.first;
        for (const auto& [name, v] : profile_ms_)
            std::fprintf(stderr, "vulkan profile: %-16s %9.1f ms %5.1f%% %8llu dispatches\n", name.c_str(), v.first,
                         total > 0 ? 100.0 * v.first / total : 0.0, static_cast<unsigned long long>(v.second));
    }
    for (auto& [key, p] : pipelines_) {
        vk_.vkDestroyPipeline(dev_, p.pipeline, nullptr);
        vk_.vkDestroyPipelineLayout(dev_, p.layout, nullptr);
        vk_.vkDestroyDescriptorSetLayout(dev_, p.set_layout, nullptr);
    }
    for (VkDescriptorPool p : desc_pools_) vk_.vkDestroyDescriptorPool(dev_, p, nullptr);
    for (Staging* s : {&up_, &down_}) {
        if (s->host) vk_.vkUnmapMemory(dev_, s->memory);
        vk_.vkDestroyBuffer(dev_, s->buffer, nullptr);
        vk_.vkFreeMemory(dev_, s->memory, nullptr);
    }
    vk_.vkDestroyFence(dev_, fence_, nullptr);
    vk_.vkDestroyCommandPool(dev_, pool_, nullptr);
    vk_.vkDestroyDevice(dev_, nullptr);
}

uint32_t Context::memory_type(uint32_t bits, VkMemoryPropertyFlags want, VkMemoryPropertyFlags avoid) const {
    for (int pass = 0; pass < 2; ++pass)
        for (uint32_t i = 0; i < mem_.memoryTypeCount; ++i) {
            const VkMemoryPropertyFlags f = mem_.memoryTypes[i].propertyFlags;
            if ((bits & (1u << i)) && (f & want) == want && (pass == 1 || !(f & avoid))) return i;
        }
    return UINT32_MAX;
}

VkDeviceMemory Context::allocate(VkMemoryRequirements req, VkMemoryPropertyFlags want, size_t asked) {
    uint32_t type = memory_type(req.memoryTypeBits, want, 0);
    if (type == UINT32_MAX && (want & VK_MEMORY_PROPERTY_DEVICE_LOCAL_BIT))
        type = memory_type(req.memoryTypeBits, 0, 0);
    if (type == UINT32_MAX) fail("vulkan: {} has no suitable memory type", info_.name);
    VkMemoryAllocateInfo ai{.sType = VK_STRUCTURE_TYPE_MEMORY_ALLOCATE_INFO, .allocationSize = req.size,
                            .memoryTypeIndex = type};
    VkDeviceMemory m = VK_NULL_HANDLE;
    const VkResult r = vk_.vkAllocateMemory(dev_, &ai, nullptr, &m);
    if (r == VK_ERROR_OUT_OF_DEVICE_MEMORY || r == VK_ERROR_OUT_OF_HOST_MEMORY)
        fail("vulkan: out of memory on {}: {:.1f} MiB needed with {:.1f} MiB already allocated ({} MiB device-local)",
             info_.name, double(asked) / 1048576.0, double(allocated_) / 1048576.0, info_.local_bytes >> 20);
    check(r, "vkAllocateMemory");
    return m;
}

void Context::create_staging(Staging& s, size_t size, bool readback) {
    VkBufferCreateInfo bci{.sType = VK_STRUCTURE_TYPE_BUFFER_CREATE_INFO, .size = size,
                           .usage = VK_BUFFER_USAGE_TRANSFER_SRC_BIT | VK_BUFFER_USAGE_TRANSFER_DST_BIT,
                           .sharingMode = VK_SHARING_MODE_EXCLUSIVE};
    check(vk_.vkCreateBuffer(dev_, &bci, nullptr, &s.buffer), "vkCreateBuffer");
    VkMemoryRequirements req;
    vk_.vkGetBufferMemoryRequirements(dev_, s.buffer, &req);
    const VkMemoryPropertyFlags host = VK_MEMORY_PROPERTY_HOST_VISIBLE_BIT | VK_MEMORY_PROPERTY_HOST_COHERENT_BIT;
    uint32_t type = readback ? memory_type(req.memoryTypeBits, host | VK_MEMORY_PROPERTY_HOST_CACHED_BIT, 0) : UINT32_MAX;
    if (type == UINT32_MAX) type = memory_type(req.memoryTypeBits, host, 0);
    if (type == UINT32_MAX) fail("vulkan: {} has no host-visible coherent memory", info_.name);
    VkMemoryAllocateInfo ai{.sType = VK_STRUCTURE_TYPE_MEMORY_ALLOCATE_INFO, .allocationSize = req.size,
                            .memoryTypeIndex = type};
    check(vk_.vkAllocateMemory(dev_, &ai, nullptr, &s.memory), "vkAllocateMemory (staging)");
    check(vk_.vkBindBufferMemory(dev_, s.buffer, s.memory, 0), "vkBindBufferMemory");
    void* p = nullptr;
    check(vk_.vkMapMemory(dev_, s.memory, 0, VK_WHOLE_SIZE, 0, &p), "vkMapMemory");
    s.host = static_cast<uint8_t*>(p);
    s.size = size;
}

DeviceBuffer* Context::alloc(size_t n_bytes) {
    const size_t padded = std::max<size_t>((n_bytes + 15) / 16 * 16, 16);
    if (uint64_t(padded) > info_.local_bytes)
        fail("vulkan: out of memory on {}: {:.1f} MiB needed, the device has {} MiB", info_.name,
             double(n_bytes) / 1048576.0, info_.local_bytes >> 20);
    auto b = std::make_unique<DeviceBuffer>();
    VkBufferCreateInfo bci{.sType = VK_STRUCTURE_TYPE_BUFFER_CREATE_INFO, .size = padded,
                           .usage = VK_BUFFER_USAGE_STORAGE_BUFFER_BIT | VK_BUFFER_USAGE_TRANSFER_SRC_BIT |
                                    VK_BUFFER_USAGE_TRANSFER_DST_BIT,
                           .sharingMode = VK_SHARING_MODE_EXCLUSIVE};
    VkResult r = vk_.vkCreateBuffer(dev_, &bci, nullptr, &b->buffer);
    if (r != VK_SUCCESS)
        fail("vulkan: out of memory on {}: cannot create a buffer of {:.1f} MiB ({})", info_.name,
             double(n_bytes) / 1048576.0, result_name(r));
    VkMemoryRequirements req;
    vk_.vkGetBufferMemoryRequirements(dev_, b->buffer, &req);
    try {
        b->memory = allocate(req, VK_MEMORY_PROPERTY_DEVICE_LOCAL_BIT, n_bytes);
    } catch (...) {
        vk_.vkDestroyBuffer(dev_, b->buffer, nullptr);
        throw;
    }
    check(vk_.vkBindBufferMemory(dev_, b->buffer, b->memory, 0), "vkBindBufferMemory");
    b->size = n_bytes;
    allocated_ += size_t(req.size);
    begin();
    const Access a{b->buffer, 0, padded, true};
    hazard({&a, 1});
    vk_.vkCmdFillBuffer(cmd_, b->buffer, 0, VK_WHOLE_SIZE, 0);
    return b.release();
}

void Context::free(DeviceBuffer* b) {
    if (!b) return;
    sync();
    VkMemoryRequirements req;
    vk_.vkGetBufferMemoryRequirements(dev_, b->buffer, &req);
    allocated_ -= std::min<size_t>(allocated_, size_t(req.size));
    vk_.vkDestroyBuffer(dev_, b->buffer, nullptr);
    vk_.vkFreeMemory(dev_, b->memory, nullptr);
    delete b;
}

void Context::begin() {
    if (recording_) return;
    check(vk_.vkResetCommandBuffer(cmd_, 0), "vkResetCommandBuffer");
    VkCommandBufferBeginInfo bi{.sType = VK_STRUCTURE_TYPE_COMMAND_BUFFER_BEGIN_INFO,
                                .flags = VK_COMMAND_BUFFER_USAGE_ONE_TIME_SUBMIT_BIT};
    check(vk_.vkBeginCommandBuffer(cmd_, &bi), "vkBeginCommandBuffer");
    recording_ = true;
}

void Context::hazard(std::span<const Access> accesses) {
    bool conflict = false;
    for (const Access& a : accesses)
        for (const Access& b : since_barrier_)
            if (a.buffer == b.buffer && a.begin < b.end && b.begin < a.end && (a.write || b.write)) conflict = true;
    if (conflict) {
        VkMemoryBarrier mb{.sType = VK_STRUCTURE_TYPE_MEMORY_BARRIER,
                           .srcAccessMask = VK_ACCESS_SHADER_WRITE_BIT | VK_ACCESS_TRANSFER_WRITE_BIT,
                           .dstAccessMask = VK_ACCESS_SHADER_READ_BIT | VK_ACCESS_SHADER_WRITE_BIT |
                                            VK_ACCESS_TRANSFER_READ_BIT | VK_ACCESS_TRANSFER_WRITE_BIT};
        const VkPipelineStageFlags stages = VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT | VK_PIPELINE_STAGE_TRANSFER_BIT;
        vk_.vkCmdPipelineBarrier(cmd_, stages, stages, 0, 1, &mb, 0, nullptr, 0, nullptr);
        since_barrier_.clear();
        ++stats_.barriers;
    }
    since_barrier_.insert(since_barrier_.end(), accesses.begin(), accesses.end());
}

void Context::upload(const DeviceBuffer* dst, size_t offset, const void* src, size_t n_bytes) {
    R1_CHECK(dst && offset + n_bytes <= dst->size);
    const auto* s = static_cast<const uint8_t*>(src);
    while (n_bytes > 0) {
        if (up_.used + 16 > up_.size) sync();  // staging full: run what is recorded, reuse it
        const size_t n = std::min(n_bytes, up_.size - up_.used);
        std::memcpy(up_.host + up_.used, s, n);
        begin();
        const Access a{dst->buffer, offset, offset + n, true};
        hazard({&a, 1});
        const VkBufferCopy region{.srcOffset = up_.used, .dstOffset = offset, .size = n};
        vk_.vkCmdCopyBuffer(cmd_, up_.buffer, dst->buffer, 1, &region);
        up_.used += (n + 15) / 16 * 16;
        stats_.uploaded += n;
        s += n, offset += n, n_bytes -= n;
    }
}

void Context::download(const DeviceBuffer* src, size_t offset, void* dst, size_t n_bytes) {
    R1_CHECK(src && offset + n_bytes <= src->size);
    auto* d = static_cast<uint8_t*>(dst);
    while (n_bytes > 0) {
        if (down_.used + 16 > down_.size) sync();
        const size_t n = std::min(n_bytes, down_.size - down_.used);
        begin();
        const Access a{src->buffer, offset, offset + n, false};
        hazard({&a, 1});
        const VkBufferCopy region{.srcOffset = offset, .dstOffset = down_.used, .size = n};
        vk_.vkCmdCopyBuffer(cmd_, src->buffer, down_.buffer, 1, &region);
        downloads_.push_back({down_.used, d, n});
        down_.used += (n + 15) / 16 * 16;
        stats_.downloaded += n;
        d += n, offset += n, n_bytes -= n;
    }
}

const Context::Pipeline& Context::pipeline(ShaderId shader, std::span<const uint32_t> spec) {
    auto key = std::make_pair(int(shader), std::vector<uint32_t>(spec.begin(), spec.end()));
    auto it = pipelines_.find(key);
    if (it != pipelines_.end()) return it->second;
    const ShaderInfo& si = shader_info(shader);
    R1_CHECK(si.n_bindings <= kMaxBindings);
    Pipeline p;
    VkDescriptorSetLayoutBinding binds[kMaxBindings];
    for (uint32_t i = 0; i < si.n_bindings; ++i)
        binds[i] = {.binding = i, .descriptorType = VK_DESCRIPTOR_TYPE_STORAGE_BUFFER, .descriptorCount = 1,
                    .stageFlags = VK_SHADER_STAGE_COMPUTE_BIT};
    VkDescriptorSetLayoutCreateInfo dl{.sType = VK_STRUCTURE_TYPE_DESCRIPTOR_SET_LAYOUT_CREATE_INFO,
                                       .bindingCount = si.n_bindings, .pBindings = binds};
    check(vk_.vkCreateDescriptorSetLayout(dev_, &dl, nullptr, &p.set_layout), "vkCreateDescriptorSetLayout");
    const VkPushConstantRange pr{.stageFlags = VK_SHADER_STAGE_COMPUTE_BIT, .offset = 0, .size = kPushBytes};
    VkPipelineLayoutCreateInfo pl{.sType = VK_STRUCTURE_TYPE_PIPELINE_LAYOUT_CREATE_INFO, .setLayoutCount = 1,
                                  .pSetLayouts = &p.set_layout, .pushConstantRangeCount = 1,
                                  .pPushConstantRanges = &pr};
    check(vk_.vkCreatePipelineLayout(dev_, &pl, nullptr, &p.layout), "vkCreatePipelineLayout");
    VkShaderModuleCreateInfo mi{.sType = VK_STRUCTURE_TYPE_SHADER_MODULE_CREATE_INFO,
                                .codeSize = si.n_words * sizeof(uint32_t), .pCode = si.code};
    VkShaderModule mod = VK_NULL_HANDLE;
    check(vk_.vkCreateShaderModule(dev_, &mi, nullptr, &mod), "vkCreateShaderModule");
    std::vector<VkSpecializationMapEntry> entries;
    for (uint32_t i = 0; i < spec.size(); ++i)
        entries.push_back({.constantID = i, .offset = i * 4, .size = 4});
    VkSpecializationInfo sp{.mapEntryCount = uint32_t(entries.size()), .pMapEntries = entries.data(),
                            .dataSize = spec.size() * 4, .pData = spec.data()};
    VkComputePipelineCreateInfo ci{
        .sType = VK_STRUCTURE_TYPE_COMPUTE_PIPELINE_CREATE_INFO,
        .stage = {.sType = VK_STRUCTURE_TYPE_PIPELINE_SHADER_STAGE_CREATE_INFO, .stage = VK_SHADER_STAGE_COMPUTE_BIT,
                  .module = mod, .pName = "main", .pSpecializationInfo = spec.empty() ? nullptr : &sp},
        .layout = p.layout};
    const VkResult r = vk_.vkCreateComputePipelines(dev_, VK_NULL_HANDLE, 1, &ci, nullptr, &p.pipeline);
    vk_.vkDestroyShaderModule(dev_, mod, nullptr);
    if (r != VK_SUCCESS) fail("vulkan: cannot build shader {} on {} ({})", si.name, info_.name, result_name(r));
    return pipelines_.emplace(std::move(key), p).first->second;
}

VkDescriptorSet Context::descriptor_set(VkDescriptorSetLayout layout) {
    for (;;) {
        if (desc_pool_ == desc_pools_.size()) {
            const VkDescriptorPoolSize ps{.type = VK_DESCRIPTOR_TYPE_STORAGE_BUFFER,
                                          .descriptorCount = kSetsPerPool * kMaxBindings};
            VkDescriptorPoolCreateInfo ci{.sType = VK_STRUCTURE_TYPE_DESCRIPTOR_POOL_CREATE_INFO,
                                          .maxSets = kSetsPerPool, .poolSizeCount = 1, .pPoolSizes = &ps};
            VkDescriptorPool pool = VK_NULL_HANDLE;
            check(vk_.vkCreateDescriptorPool(dev_, &ci, nullptr, &pool), "vkCreateDescriptorPool");
            desc_pools_.push_back(pool);
        }
        VkDescriptorSetAllocateInfo ai{.sType = VK_STRUCTURE_TYPE_DESCRIPTOR_SET_ALLOCATE_INFO,
                                       .descriptorPool = desc_pools_[desc_pool_], .descriptorSetCount = 1,
                                       .pSetLayouts = &layout};
        VkDescriptorSet set = VK_NULL_HANDLE;
        const VkResult r = vk_.vkAllocateDescriptorSets(dev_, &ai, &set);
        if (r == VK_SUCCESS) return set;
        if (r != VK_ERROR_OUT_OF_POOL_MEMORY && r != VK_ERROR_FRAGMENTED_POOL) check(r, "vkAllocateDescriptorSets");
        ++desc_pool_;  // this pool is full until the next sync
    }
}

void Context::dispatch(ShaderId shader, std::span<const uint32_t> spec, std::span<const Binding> bindings,
                       const void* push, size_t push_bytes, uint32_t gx, uint32_t gy, uint32_t gz) {
    const ShaderInfo& si = shader_info(shader);
    R1_CHECK(bindings.size() == si.n_bindings && push_bytes <= kPushBytes);
    const Pipeline& p = pipeline(shader, spec);
    if (profile_) sync();
    begin();
    VkDescriptorBufferInfo infos[kMaxBindings];
    VkWriteDescriptorSet writes[kMaxBindings];
    Access acc[kMaxBindings];
    const VkDescriptorSet set = descriptor_set(p.set_layout);
    for (size_t i = 0; i < bindings.size(); ++i) {
        const Binding& b = bindings[i];
        R1_CHECK(b.buf && b.offset + b.size <= (b.buf->size + 15) / 16 * 16);
        const size_t base = b.offset - bind_delta(b.offset);
        const size_t padded = std::max<size_t>((b.buf->size + 15) / 16 * 16, 16);
        const size_t range = std::min<size_t>(padded - base, size_t(max_range_));
        R1_CHECK(b.offset + b.size <= base + range);
        infos[i] = {.buffer = b.buf->buffer, .offset = base, .range = range};
        writes[i] = {.sType = VK_STRUCTURE_TYPE_WRITE_DESCRIPTOR_SET, .dstSet = set, .dstBinding = uint32_t(i),
                     .descriptorCount = 1, .descriptorType = VK_DESCRIPTOR_TYPE_STORAGE_BUFFER,
                     .pBufferInfo = &infos[i]};
        acc[i] = {b.buf->buffer, b.offset, b.offset + b.size, b.write};
    }
    vk_.vkUpdateDescriptorSets(dev_, uint32_t(bindings.size()), writes, 0, nullptr);
    hazard({acc, bindings.size()});
    vk_.vkCmdBindPipeline(cmd_, VK_PIPELINE_BIND_POINT_COMPUTE, p.pipeline);
    vk_.vkCmdBindDescriptorSets(cmd_, VK_PIPELINE_BIND_POINT_COMPUTE, p.layout, 0, 1, &set, 0, nullptr);
    uint8_t pc[kPushBytes] = {};
    if (push_bytes) std::memcpy(pc, push, push_bytes);
    vk_.vkCmdPushConstants(cmd_, p.layout, VK_SHADER_STAGE_COMPUTE_BIT, 0, kPushBytes, pc);
    vk_.vkCmdDispatch(cmd_, gx, gy, gz);
    ++stats_.dispatches;
    if (profile_) {  // this dispatch alone (what was recorded before ran at the top)
        const auto t0 = std::chrono::steady_clock::now();
        sync();
        auto& [ms, n] = profile_ms_[si.name];
        ms += std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
        ++n;
    }
}

void Context::sync() {
    if (!recording_) return;
    // Make every write visible to the host reads of the readback staging memory.
    VkMemoryBarrier mb{.sType = VK_STRUCTURE_TYPE_MEMORY_BARRIER,
                       .srcAccessMask = VK_ACCESS_SHADER_WRITE_BIT | VK_ACCESS_TRANSFER_WRITE_BIT,
                       .dstAccessMask = VK_ACCESS_HOST_READ_BIT};
    vk_.vkCmdPipelineBarrier(cmd_, VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT | VK_PIPELINE_STAGE_TRANSFER_BIT,
                             VK_PIPELINE_STAGE_HOST_BIT, 0, 1, &mb, 0, nullptr, 0, nullptr);
    check(vk_.vkEndCommandBuffer(cmd_), "vkEndCommandBuffer");
    recording_ = false;
    VkSubmitInfo si{.sType = VK_STRUCTURE_TYPE_SUBMIT_INFO, .commandBufferCount = 1, .pCommandBuffers = &cmd_};
    check(vk_.vkResetFences(dev_, 1, &fence_), "vkResetFences");
    check(vk_.vkQueueSubmit(queue_, 1, &si, fence_), "vkQueueSubmit");
    ++stats_.submits;
    check(vk_.vkWaitForFences(dev_, 1, &fence_, VK_TRUE, UINT64_MAX), "vkWaitForFences");
    for (const PendingDownload& d : downloads_) std::memcpy(d.dst, down_.host + d.staging_offset, d.n);
    downloads_.clear();
    up_.used = down_.used = 0;
    since_barrier_.clear();
    for (size_t i = 0; i < desc_pools_.size(); ++i) vk_.vkResetDescriptorPool(dev_, desc_pools_[i], 0);
    desc_pool_ = 0;
}

}  // namespace r1::vulkan
