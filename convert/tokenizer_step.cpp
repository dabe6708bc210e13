// Tokenizer metadata for converted files. Until runtime/tokenizer provides vocab_from_hf_dir
// and write_vocab_gguf, converted files carry no tokenizer.* keys.
#include "convert/tokenizer_step.h"

namespace r1::convert {

void add_tokenizer(const Checkpoint& /*ck*/, gguf::Writer& /*w*/, int64_t /*n_vocab*/) {}

}  // namespace r1::convert
