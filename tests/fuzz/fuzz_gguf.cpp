// libFuzzer target for the GGUF reader: any input must parse or raise GgufError.
#include <cstddef>
#include <cstdint>

#include "runtime/gguf/gguf.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    try {
        auto f = r1::gguf::File::parse({data, size}, "fuzz");
        (void)f->tensors().size();
    } catch (const r1::gguf::GgufError&) {
    }
    return 0;
}
