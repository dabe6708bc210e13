// libFuzzer target for the SentencePiece model reader: any bytes must parse or raise
// TokenizerError; a parsed model must build a tokenizer or raise TokenizerError.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "runtime/tokenizer/spm_model.h"
#include "runtime/tokenizer/tokenizer.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    using namespace r1::tokenizer;
    try {
        SpmModel m = parse_spm_model(std::string_view(reinterpret_cast<const char*>(data), size), "fuzz");
        Vocab v;
        v.model = "llama";
        v.tokens = std::move(m.pieces);
        v.scores = std::move(m.scores);
        v.token_types = std::move(m.types);
        v.unk_id = m.unk_id >= 0 && m.unk_id < static_cast<int32_t>(v.tokens.size()) ? m.unk_id : -1;
        v.add_space_prefix = m.add_dummy_prefix;
        auto tok = Tokenizer::create(std::move(v));
        auto ids = tok->encode("Hello world \xE4\xBD\xA0\xE5\xA5\xBD\n", true, true);
        (void)tok->decode(ids, true);
    } catch (const TokenizerError&) {
    }
    return 0;
}
