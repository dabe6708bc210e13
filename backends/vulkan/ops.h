// The ops of the Vulkan backend over tensor handles (backend.h): each records its shader's
// dispatch (shaders/*.comp) into the Context's command buffer and returns at once; results
// are there after Context::sync(). A tensor's Buffer::data is the DeviceBuffer it lives in;
// offsets and strides go to the shaders as element counts in push constants, so views cost
// nothing. Semantics are the CPU references' (backends/cpu/ops/ops.h), which the conformance
// suite (tests/backends) holds every op to.
#pragma once

#include "backends/backend.h"
#include "backends/vulkan/context.h"

namespace r1::vulkan {

// Weight types matmul, matmul_id and get_rows read as stored (the CPU backend's set): F32,
// F16, BF16, Q8_0, Q4_0, Q4_1, Q5_0, Q5_1, Q4_K, Q5_K, Q6_K.
bool has_weight_shader(GgmlType type);

void get_rows(Context& c, const Tensor& table, const Tensor& ids, const Tensor& y);
void matmul(Context& c, const Tensor& w, const Tensor& x, const Tensor& y);
void matmul_id(Context& c, const Tensor& w, const Tensor& x, const Tensor& ids, const Tensor& y);
void rms_norm(Context& c, const Tensor& x, const Tensor& w, const Tensor& y, float eps);
void rope(Context& c, const RopeArgs& a);
void attention(Context& c, const AttentionArgs& a);
void swiglu(Context& c, const Tensor& gate, const Tensor& up, const Tensor& y);
void add(Context& c, const Tensor& a, const Tensor& b, const Tensor& y);
void mul(Context& c, const Tensor& a, const Tensor& b, const Tensor& y);
void scale(Context& c, const Tensor& x, float s, const Tensor& y);
void sigmoid(Context& c, const Tensor& x, const Tensor& y);
void softmax(Context& c, const Tensor& x, const Tensor& y);
void copy(Context& c, const Tensor& src, const Tensor& dst);
void moe_route(Context& c, const MoeRouteArgs& a);
void argmax(Context& c, const Tensor& x, const Tensor& ids);

}  // namespace r1::vulkan
