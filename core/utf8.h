// Strict UTF-8 validation for names and headers read from files (GGUF tensor names,
// safetensors headers): shortest form only, no surrogates, nothing above U+10FFFF.
#pragma once

#include <string_view>

namespace r1 {

bool valid_utf8(std::string_view s);

}  // namespace r1
