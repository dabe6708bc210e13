// The Vulkan Backend (backend.h) on one device: tensors in device-local buffers, weights
// uploaded once at load into a few large buffers, every op recorded into one command buffer
// that sync() submits (context.h), shaders for every op and weight type the CPU backend has.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "backends/backend.h"
#include "backends/vulkan/context.h"

namespace r1::vulkan {

// Opens device `index` (list_devices() order); throws r1::Error with one line when there is
// no loader, no such device, or the device lacks what the shaders need.
std::unique_ptr<Backend> make_vulkan_backend(int index);
// The counters of a Vulkan backend's device (dispatches, barriers, submits): what tests read
// to prove the work ran on the device. nullptr for another backend.
const Stats* stats_of(const Backend& backend);

}  // namespace r1::vulkan
