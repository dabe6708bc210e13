// The compute shaders embedded in the binary: SPIR-V compiled by glslc from shaders/*.comp at
// build time (backends/vulkan/CMakeLists.txt), one entry per variant (-D defines).
#pragma once

#include <cstddef>
#include <cstdint>

namespace r1::vulkan {

// One per compiled variant; the names follow the shader file and its define.
#define R1_VK_SHADERS(X)                                                                       \
    X(rms_norm, 3) X(rope, 3) X(attention_f32, 7) X(attention_f16, 7) X(add, 3) X(mul, 3)      \
    X(swiglu, 3) X(scale, 2) X(sigmoid, 2) X(softmax, 2) X(argmax, 2) X(moe_route, 4)          \
    X(copy_32_32, 2) X(copy_32_16, 2) X(copy_16_32, 2) X(copy_16_16, 2)                        \
    X(matvec_f32, 4) X(matvec_f16, 4) X(matvec_bf16, 4) X(matvec_q8_0, 4)                      \
    X(matvec_q4_0, 4) X(matvec_q4_1, 4) X(matvec_q5_0, 4) X(matvec_q5_1, 4)                    \
    X(matvec_q4_k, 4) X(matvec_q5_k, 4) X(matvec_q6_k, 4)                                      \
    X(embed_f32, 3) X(embed_f16, 3) X(embed_bf16, 3) X(embed_q8_0, 3)                          \
    X(embed_q4_0, 3) X(embed_q4_1, 3) X(embed_q5_0, 3) X(embed_q5_1, 3)                        \
    X(embed_q4_k, 3) X(embed_q5_k, 3) X(embed_q6_k, 3)

enum class ShaderId : int {
#define R1_VK_ENUM(name, n) name,
    R1_VK_SHADERS(R1_VK_ENUM)
#undef R1_VK_ENUM
    count
};

struct ShaderInfo {
    const char* name;
    const uint32_t* code;  // SPIR-V words
    size_t n_words;
    uint32_t n_bindings;   // storage buffers 0 .. n-1, all in set 0
};
const ShaderInfo& shader_info(ShaderId id);

}  // namespace r1::vulkan
