// The backends built into this binary, by name: create_backend and list_devices (backend.h).
// A GPU backend that is not built in, or has no driver or device, is an error naming it —
// never a quiet fallback to the CPU.
#include "backends/backend.h"
#include "backends/cpu/kernels.h"
#include "backends/cpu/ops/cpu_backend.h"
#include "core/error.h"
#if R1_HAVE_VULKAN
#include "backends/vulkan/context.h"
#include "backends/vulkan/vulkan_backend.h"
#endif

namespace r1 {

std::unique_ptr<Backend> create_backend(const BackendOptions& options) {
    if (options.device < 0) fail("--device {}: must be >= 0", options.device);
    if (options.name == "cpu") {
        cpu::Isa cap = cpu::Isa::Avx512;  // the top: min(CPU, cap) is what this CPU has
        if (!options.isa.empty()) {
            if (!cpu::parse_isa(options.isa, cap)) fail("--isa {}: unknown (expected scalar, avx2 or avx512)", options.isa);
            if (cap > cpu::cpu_isa())
                fail("--isa {}: this CPU runs at most {}", options.isa, cpu::isa_name(cpu::cpu_isa()));
        }
        cpu::set_isa_cap(cap);
        return cpu::make_cpu_backend(options.n_threads);
    }
    if (!options.isa.empty()) fail("--isa {}: applies to the CPU backend only, not {}", options.isa, options.name);
#if R1_HAVE_VULKAN
    if (options.name == "vulkan") return vulkan::make_vulkan_backend(options.device);
#endif
    if (options.name == "vulkan" || options.name == "cuda")
        fail("--backend {}: this build of r1 has no {} backend", options.name, options.name);
    fail("--backend {}: unknown backend (expected cpu, vulkan or cuda)", options.name);
}

std::vector<std::string> list_devices(std::string_view backend) {
#if R1_HAVE_VULKAN
    if (backend == "vulkan") {
        std::vector<std::string> lines;
        for (const vulkan::DeviceInfo& d : vulkan::list_devices()) lines.push_back(vulkan::describe(d));
        return lines;
    }
#endif
    if (backend == "vulkan" || backend == "cuda") fail("this build of r1 has no {} backend", backend);
    fail("{}: not a GPU backend (expected vulkan or cuda)", backend);
}

}  // namespace r1
