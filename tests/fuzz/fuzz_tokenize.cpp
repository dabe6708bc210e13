// libFuzzer target for encode/decode: arbitrary bytes through the fixture tokenizers (byte-level
// BPE with NFC and SentencePiece) must never throw or crash; valid NFC text must round-trip.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <string_view>

#include "runtime/tokenizer/tokenizer.h"
#include "runtime/tokenizer/unicode.h"

namespace {

using r1::tokenizer::Tokenizer;

const Tokenizer& load(const char* rel) {
    static const std::filesystem::path fixtures =
        std::filesystem::path(__FILE__).parent_path().parent_path() / "fixtures/models";
    return *Tokenizer::create(r1::tokenizer::vocab_from_hf_dir(fixtures / rel)).release();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    static const Tokenizer& bpe = load("tiny-r1-qwen2");
    static const Tokenizer& spm = load("tiny-r1-llama");
    std::string_view text(reinterpret_cast<const char*>(data), size);
    for (const Tokenizer* tok : {&bpe, &spm}) {
        for (bool special : {false, true}) {
            auto ids = tok->encode(text, true, special);
            std::string back = tok->decode(ids, true);
            if (!r1::tokenizer::is_valid_utf8(back)) std::abort();
        }
    }
    // Byte-level BPE is lossless on valid NFC text when special tokens are not parsed.
    if (r1::tokenizer::is_valid_utf8(text) && r1::tokenizer::nfc(text) == text &&
        bpe.decode(bpe.encode(text, false, false), true) != text)
        std::abort();
    return 0;
}
