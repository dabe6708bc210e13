// Tokenizer metadata for converted files, through runtime/tokenizer's Hugging Face import.
#include "convert/tokenizer_step.h"

#include "runtime/tokenizer/tokenizer.h"
#include "runtime/tokenizer/vocab.h"

namespace r1::convert {

void add_tokenizer(const std::filesystem::path& dir, gguf::Writer& w, int64_t n_vocab) {
    tokenizer::Vocab v = tokenizer::vocab_from_hf_dir(dir);
    if (v.n_vocab() > n_vocab)
        fail("{}: vocab_size = {} but the tokenizer has {} tokens", dir.string(), n_vocab, v.n_vocab());
    auto check_id = [&](const char* what, int32_t id) {
        if (id >= n_vocab) fail("{}: tokenizer {} id {} is outside vocab_size {}", dir.string(), what, id, n_vocab);
    };
    check_id("BOS", v.bos_id);
    check_id("EOS", v.eos_id);
    check_id("padding", v.pad_id);
    // Building the tokenizer validates what the import alone does not (merges naming missing
    // tokens, byte tokens, the pre-tokenizer name), so a broken tokenizer is refused here
    // instead of being written into a file that then fails to load (~1 s on real vocabularies).
    try {
        (void)tokenizer::Tokenizer::create(v);
    } catch (const Error& e) {
        fail("{}: {}", dir.string(), e.what());
    }
    tokenizer::write_vocab_gguf(v, w, n_vocab);
}

void add_tokenizer(const Checkpoint& ck, gguf::Writer& w, int64_t n_vocab) { add_tokenizer(ck.dir(), w, n_vocab); }

}  // namespace r1::convert
