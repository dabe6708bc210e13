// Row dequantization for the CPU ops through quant/'s scalar codec table (every GGUF type
// with a codec: float formats and the quantized blocks).
#include <cstring>

#include "backends/cpu/ops/ops.h"
#include "quant/codecs.h"

namespace r1::cpu {

bool can_dequantize(GgmlType type) {
    const Codec* c = codec(type);
    return c && c->dequantize_row && type != GgmlType::Q8_K && type != GgmlType::Q8_1;
}

bool dequantize_row(GgmlType type, const void* row, float* out, int64_t n) {
    if (type == GgmlType::F32) {
        std::memcpy(out, row, size_t(n) * sizeof(float));
        return true;
    }
    const Codec* c = codec(type);
    if (!c || !c->dequantize_row) return false;
    c->dequantize_row(row, out, n);
    return true;
}

}  // namespace r1::cpu
