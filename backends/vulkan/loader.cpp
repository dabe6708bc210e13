// Loads libvulkan.so.1 with dlopen and creates the one VkInstance (Vulkan 1.1, no layers).
#include "backends/vulkan/loader.h"

#include <dlfcn.h>

#include <mutex>

#include "core/error.h"

namespace r1::vulkan {

const char* result_name(VkResult r) {
    switch (r) {
        case VK_SUCCESS: return "VK_SUCCESS";
        case VK_ERROR_OUT_OF_HOST_MEMORY: return "VK_ERROR_OUT_OF_HOST_MEMORY";
        case VK_ERROR_OUT_OF_DEVICE_MEMORY: return "VK_ERROR_OUT_OF_DEVICE_MEMORY";
        case VK_ERROR_INITIALIZATION_FAILED: return "VK_ERROR_INITIALIZATION_FAILED";
        case VK_ERROR_DEVICE_LOST: return "VK_ERROR_DEVICE_LOST";
        case VK_ERROR_LAYER_NOT_PRESENT: return "VK_ERROR_LAYER_NOT_PRESENT";
        case VK_ERROR_EXTENSION_NOT_PRESENT: return "VK_ERROR_EXTENSION_NOT_PRESENT";
        case VK_ERROR_FEATURE_NOT_PRESENT: return "VK_ERROR_FEATURE_NOT_PRESENT";
        case VK_ERROR_INCOMPATIBLE_DRIVER: return "VK_ERROR_INCOMPATIBLE_DRIVER";
        case VK_ERROR_TOO_MANY_OBJECTS: return "VK_ERROR_TOO_MANY_OBJECTS";
        case VK_ERROR_OUT_OF_POOL_MEMORY: return "VK_ERROR_OUT_OF_POOL_MEMORY";
        case VK_TIMEOUT: return "VK_TIMEOUT";
        default: return "VkResult error";
    }
}

namespace {

Instance* create() {
    // The loader stays loaded for the life of the process (drivers keep threads).
    void* lib = dlopen("libvulkan.so.1", RTLD_NOW | RTLD_LOCAL);
    if (!lib) lib = dlopen("libvulkan.so", RTLD_NOW | RTLD_LOCAL);
    if (!lib) fail("vulkan: no Vulkan loader (libvulkan.so.1 not found; Debian package libvulkan1)");
    auto* inst = new Instance;
    Vk& f = inst->fn;
    f.vkGetInstanceProcAddr = reinterpret_cast<PFN_vkGetInstanceProcAddr>(dlsym(lib, "vkGetInstanceProcAddr"));
    if (!f.vkGetInstanceProcAddr) fail("vulkan: libvulkan.so.1 has no vkGetInstanceProcAddr");
#define R1_VK_LOAD(name) f.name = reinterpret_cast<PFN_##name>(f.vkGetInstanceProcAddr(VK_NULL_HANDLE, #name));
    R1_VK_GLOBAL_FNS(R1_VK_LOAD)
#undef R1_VK_LOAD
    inst->api_version = VK_API_VERSION_1_0;
    if (f.vkEnumerateInstanceVersion) f.vkEnumerateInstanceVersion(&inst->api_version);
    if (inst->api_version < VK_API_VERSION_1_1)
        fail("vulkan: the Vulkan loader supports only Vulkan 1.0; r1 needs 1.1");
    VkApplicationInfo app{.sType = VK_STRUCTURE_TYPE_APPLICATION_INFO, .pApplicationName = "r1",
                          .apiVersion = VK_API_VERSION_1_1};
    VkInstanceCreateInfo ci{.sType = VK_STRUCTURE_TYPE_INSTANCE_CREATE_INFO, .pApplicationInfo = &app};
    const VkResult r = f.vkCreateInstance(&ci, nullptr, &inst->instance);
    if (r == VK_ERROR_INCOMPATIBLE_DRIVER)
        fail("vulkan: no Vulkan driver found (VK_ERROR_INCOMPATIBLE_DRIVER; Debian: mesa-vulkan-drivers, or the "
             "GPU vendor's driver)");
    if (r != VK_SUCCESS) fail("vulkan: cannot create a Vulkan instance ({})", result_name(r));
#define R1_VK_LOAD(name)                                                                           \
    f.name = reinterpret_cast<PFN_##name>(f.vkGetInstanceProcAddr(inst->instance, #name));        \
    if (!f.name) fail("vulkan: the Vulkan loader lacks {}", #name);
    R1_VK_INSTANCE_FNS(R1_VK_LOAD)
#undef R1_VK_LOAD
    return inst;
}

}  // namespace

const Instance& instance() {
    // Created once and kept: destroying an instance at exit races the drivers' own teardown.
    static std::mutex mu;
    static Instance* inst = nullptr;
    std::lock_guard<std::mutex> lock(mu);
    if (!inst) inst = create();
    return *inst;
}

}  // namespace r1::vulkan
