// UTF-8 helpers for the tokenizers: strict decoding with U+FFFD replacement of maximal
// invalid subparts (the WHATWG / Rust from_utf8_lossy policy), NFC via utf8proc, and the
// GPT-2 byte <-> unicode map (GGUF.md §6.3). No regexes here (see pretokenize.h).
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace r1::tokenizer {

inline constexpr std::string_view kReplacement = "\xEF\xBF\xBD";  // U+FFFD

enum class Utf8Status { Valid, Invalid, Truncated };

// Looks at the sequence starting at s[0] (n >= 1 bytes available). Valid: *len is the
// character's length and *cp its code point. Invalid: *len is the maximal subpart to replace
// by one U+FFFD (>= 1). Truncated: a valid prefix that runs into the end of the buffer.
Utf8Status utf8_next(const unsigned char* s, size_t n, size_t* len, uint32_t* cp);

bool is_valid_utf8(std::string_view s);
// Invalid sequences replaced by U+FFFD (a truncated tail counts as invalid).
std::string sanitize_utf8(std::string_view s);
// Length of the prefix of s that holds only complete characters (invalid ones included, to be
// replaced); the rest is an incomplete sequence that more bytes may complete.
size_t utf8_complete_prefix(std::string_view s);

void append_utf8(std::string& out, uint32_t cp);

// Unicode NFC of valid UTF-8 (ASCII-only input is returned unchanged without a copy).
std::string nfc(std::string_view s);

// GPT-2 bytes_to_unicode: byte -> UTF-8 of its printable stand-in, and the inverse
// (code point -> byte, or -1 when the code point is not a stand-in).
const std::array<std::string, 256>& byte_to_unicode();
int unicode_to_byte(uint32_t cp);

}  // namespace r1::tokenizer
