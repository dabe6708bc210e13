// The SPIR-V of every shader variant, as glslc's C initializer lists (<name>.spv.inc, generated
// into the build tree with spv_arrays.inc declaring one k_<name> array each), and the table.
#include "backends/vulkan/shaders.h"

namespace r1::vulkan {
namespace {

#include "spv_arrays.inc"

const ShaderInfo kTable[] = {
#define R1_VK_ROW(name, n) {#name, k_##name, sizeof(k_##name) / sizeof(uint32_t), n},
    R1_VK_SHADERS(R1_VK_ROW)
#undef R1_VK_ROW
};
static_assert(sizeof(kTable) / sizeof(kTable[0]) == size_t(ShaderId::count));

}  // namespace

const ShaderInfo& shader_info(ShaderId id) { return kTable[int(id)]; }

}  // namespace r1::vulkan
