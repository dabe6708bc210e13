// libFuzzer target for the safetensors reader: any input must parse or raise SafetensorsError,
// and every float tensor of an accepted file must read back without touching memory outside it.
#include <cstddef>
#include <cstdint>
#include <vector>

#include "runtime/safetensors/safetensors.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    using namespace r1::safetensors;
    try {
        auto f = File::parse({data, size}, "fuzz");
        std::vector<float> buf;
        for (const auto& t : f->tensors()) {
            if (t.dtype != Dtype::F32 && t.dtype != Dtype::F16 && t.dtype != Dtype::BF16 && t.dtype != Dtype::F8_E4M3 &&
                t.dtype != Dtype::F8_E5M2)
                continue;
            if (t.n_elements > (1 << 20)) continue;
            buf.resize(static_cast<size_t>(t.n_elements));
            f->read_f32(t, 0, t.n_elements, buf.data());
        }
    } catch (const SafetensorsError&) {
    }
    return 0;
}
