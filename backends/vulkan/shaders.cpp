// The SPIR-V of every shader variant, as glslc's C initializer lists (<name>.spv.inc,
// generated into the build tree), and the table over them.
#include "backends/vulkan/shaders.h"

namespace r1::vulkan {
namespace {

// Each include is `{0x07230203, ...}`.
const uint32_t k_rms_norm[] =
#include "rms_norm.spv.inc"
    ;
const uint32_t k_rope[] =
#include "rope.spv.inc"
    ;
const uint32_t k_glu[] =
#include "glu.spv.inc"
    ;
const uint32_t k_add[] =
#include "add.spv.inc"
    ;
const uint32_t k_scale[] =
#include "scale.spv.inc"
    ;
const uint32_t k_softmax[] =
#include "softmax.spv.inc"
    ;
const uint32_t k_argmax[] =
#include "argmax.spv.inc"
    ;
const uint32_t k_copy_f32[] =
#include "copy_f32.spv.inc"
    ;
const uint32_t k_copy_f16[] =
#include "copy_f16.spv.inc"
    ;
const uint32_t k_attention_f32[] =
#include "attention_f32.spv.inc"
    ;
const uint32_t k_attention_f16[] =
#include "attention_f16.spv.inc"
    ;
const uint32_t k_matvec_f32[] =
#include "matvec_f32.spv.inc"
    ;
const uint32_t k_matvec_f16[] =
#include "matvec_f16.spv.inc"
    ;
const uint32_t k_matvec_q8_0[] =
#include "matvec_q8_0.spv.inc"
    ;
const uint32_t k_matvec_q4_0[] =
#include "matvec_q4_0.spv.inc"
    ;
const uint32_t k_matvec_q4_k[] =
#include "matvec_q4_k.spv.inc"
    ;
const uint32_t k_matvec_q6_k[] =
#include "matvec_q6_k.spv.inc"
    ;
const uint32_t k_embed_f32[] =
#include "embed_f32.spv.inc"
    ;
const uint32_t k_embed_f16[] =
#include "embed_f16.spv.inc"
    ;
const uint32_t k_embed_q8_0[] =
#include "embed_q8_0.spv.inc"
    ;
const uint32_t k_embed_q4_0[] =
#include "embed_q4_0.spv.inc"
    ;
const uint32_t k_embed_q4_k[] =
#include "embed_q4_k.spv.inc"
    ;
const uint32_t k_embed_q6_k[] =
#include "embed_q6_k.spv.inc"
    ;

const ShaderInfo kTable[] = {
#define R1_VK_ROW(name, n) {#name, k_##name, sizeof(k_##name) / sizeof(uint32_t), n},
    R1_VK_SHADERS(R1_VK_ROW)
#undef R1_VK_ROW
};
static_assert(sizeof(kTable) / sizeof(kTable[0]) == size_t(ShaderId::count));

}  // namespace

const ShaderInfo& shader_info(ShaderId id) { return kTable[int(id)]; }

}  // namespace r1::vulkan
