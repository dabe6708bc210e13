// UTF-8 decoding with maximal-subpart replacement, NFC through utf8proc, GPT-2 byte map.
#include "runtime/tokenizer/unicode.h"

#include <cstdlib>
#include <memory>

#include <utf8proc.h>

#include "core/error.h"

namespace r1::tokenizer {

Utf8Status utf8_next(const unsigned char* s, size_t n, size_t* len, uint32_t* cp) {
    const unsigned c = s[0];
    if (c < 0x80) { *len = 1; *cp = c; return Utf8Status::Valid; }
    size_t need;
    unsigned lo = 0x80, hi = 0xBF;  // allowed range of the second byte (Unicode Table 3-7)
    uint32_t v;
    if (c >= 0xC2 && c <= 0xDF) { need = 1; v = c & 0x1F; }
    else if (c >= 0xE0 && c <= 0xEF) {
        need = 2; v = c & 0x0F;
        if (c == 0xE0) lo = 0xA0;
        if (c == 0xED) hi = 0x9F;  // no surrogates
    } else if (c >= 0xF0 && c <= 0xF4) {
        need = 3; v = c & 0x07;
        if (c == 0xF0) lo = 0x90;
        if (c == 0xF4) hi = 0x8F;
    } else { *len = 1; return Utf8Status::Invalid; }
    for (size_t k = 1; k <= need; ++k) {
        if (k >= n) { *len = k; return Utf8Status::Truncated; }
        const unsigned cc = s[k];
        const unsigned klo = k == 1 ? lo : 0x80, khi = k == 1 ? hi : 0xBF;
        if (cc < klo || cc > khi) { *len = k; return Utf8Status::Invalid; }
        v = (v << 6) | (cc & 0x3F);
    }
    *len = need + 1;
    *cp = v;
    return Utf8Status::Valid;
}

bool is_valid_utf8(std::string_view s) {
    const auto* p = reinterpret_cast<const unsigned char*>(s.data());
    size_t i = 0, len;
    uint32_t cp;
    while (i < s.size()) {
        if (p[i] < 0x80) { ++i; continue; }
        if (utf8_next(p + i, s.size() - i, &len, &cp) != Utf8Status::Valid) return false;
        i += len;
    }
    return true;
}

std::string sanitize_utf8(std::string_view s) {
    std::string out;
    out.reserve(s.size());
    const auto* p = reinterpret_cast<const unsigned char*>(s.data());
    size_t i = 0, len;
    uint32_t cp;
    while (i < s.size()) {
        if (p[i] < 0x80) { out += s[i++]; continue; }
        if (utf8_next(p + i, s.size() - i, &len, &cp) == Utf8Status::Valid) out.append(s.substr(i, len));
        else out += kReplacement;
        i += len;
    }
    return out;
}

size_t utf8_complete_prefix(std::string_view s) {
    // Only the last 3 bytes can start an incomplete sequence.
    size_t start = s.size() > 3 ? s.size() - 3 : 0;
    const auto* p = reinterpret_cast<const unsigned char*>(s.data());
    for (size_t i = start; i < s.size(); ++i) {
        if ((p[i] & 0xC0) == 0x80) continue;  // continuation byte: not a sequence start
        size_t len;
        uint32_t cp;
        if (utf8_next(p + i, s.size() - i, &len, &cp) == Utf8Status::Truncated) return i;
    }
    return s.size();
}

void append_utf8(std::string& out, uint32_t cp) {
    if (cp < 0x80) {
        out += static_cast<char>(cp);
    } else if (cp < 0x800) {
        out += static_cast<char>(0xC0 | (cp >> 6));
        out += static_cast<char>(0x80 | (cp & 0x3F));
    } else if (cp < 0x10000) {
        out += static_cast<char>(0xE0 | (cp >> 12));
        out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
        out += static_cast<char>(0x80 | (cp & 0x3F));
    } else {
        out += static_cast<char>(0xF0 | (cp >> 18));
        out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
        out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
        out += static_cast<char>(0x80 | (cp & 0x3F));
    }
}

namespace {

std::string nfc_utf8proc(std::string_view s) {
    utf8proc_uint8_t* out = nullptr;
    utf8proc_ssize_t n = utf8proc_map(reinterpret_cast<const utf8proc_uint8_t*>(s.data()),
                                      static_cast<utf8proc_ssize_t>(s.size()), &out,
                                      static_cast<utf8proc_option_t>(UTF8PROC_STABLE | UTF8PROC_COMPOSE));
    if (n < 0) fail("NFC normalization failed: {}", utf8proc_errmsg(n));
    std::unique_ptr<utf8proc_uint8_t, decltype(&std::free)> guard(out, &std::free);
    return std::string(reinterpret_cast<const char*>(out), static_cast<size_t>(n));
}

}  // namespace

// An ASCII character is a starter that composes with nothing before it, so text splits into
// independent runs there: only [ASCII char before a non-ASCII run .. the run's end] go
// through utf8proc (which costs ~10% of encoding time on mixed text when run on everything).
std::string nfc(std::string_view s) {
    auto ascii = [&](size_t i) { return static_cast<unsigned char>(s[i]) < 0x80; };
    std::string out;
    out.reserve(s.size());
    size_t i = 0;
    while (i < s.size()) {
        size_t j = i;
        while (j < s.size() && ascii(j)) ++j;  // ASCII stretch [i, j)
        if (j == s.size()) {
            out.append(s.substr(i));
            break;
        }
        size_t start = j > i ? j - 1 : j;  // the ASCII char before the run may compose with it
        out.append(s.substr(i, start - i));
        size_t end = j;
        while (end < s.size() && !ascii(end)) ++end;
        out += nfc_utf8proc(s.substr(start, end - start));
        i = end;
    }
    return out;
}

namespace {

struct ByteMap {
    std::array<std::string, 256> to_unicode;
    std::array<int16_t, 324> from_unicode;  // stand-ins are all below U+0144

    ByteMap() {
        from_unicode.fill(-1);
        int n = 0;
        for (int b = 0; b < 256; ++b) {
            bool printable = (b >= 0x21 && b <= 0x7E) || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE);
            uint32_t cp = printable ? static_cast<uint32_t>(b) : static_cast<uint32_t>(256 + n++);
            append_utf8(to_unicode[static_cast<size_t>(b)], cp);
            from_unicode[cp] = static_cast<int16_t>(b);
        }
    }
};

const ByteMap& byte_map() {
    static const ByteMap m;
    return m;
}

}  // namespace

const std::array<std::string, 256>& byte_to_unicode() { return byte_map().to_unicode; }

int unicode_to_byte(uint32_t cp) {
    const auto& m = byte_map().from_unicode;
    return cp < m.size() ? m[cp] : -1;
}

}  // namespace r1::tokenizer
