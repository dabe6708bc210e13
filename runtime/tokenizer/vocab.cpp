// Vocab <-> GGUF: reads and writes the tokenizer.* keys (GGUF.md §1.10). Shape checks happen
// here (array lengths, special ids); merges and byte tokens are checked by Tokenizer::create.
#include "runtime/tokenizer/vocab.h"

#include "runtime/gguf/gguf.h"

namespace r1::tokenizer {

std::string_view error_code_name(ErrorCode c) {
    static constexpr std::string_view kNames[] = {
        "ERR_VOCAB_EMPTY", "ERR_VOCAB_SHAPE",  "ERR_SPECIAL_ID",      "ERR_MERGE",
        "ERR_BYTE_TOKEN",  "ERR_VOCAB_INCOMPLETE", "ERR_UNKNOWN_MODEL", "ERR_UNKNOWN_PRE",
        "ERR_TOKENIZER_JSON", "ERR_SPM_MODEL", "ERR_TOO_LONG"};
    return kNames[static_cast<int>(c)];
}

bool looks_special(std::string_view t) {
    auto wrapped = [&](std::string_view open, std::string_view close) {
        return t.size() >= open.size() + close.size() && t.starts_with(open) && t.ends_with(close);
    };
    return wrapped("<|", "|>") || wrapped("<\xEF\xBD\x9C", "\xEF\xBD\x9C>");  // <｜ ... ｜>
}

namespace {

int32_t read_id(const gguf::File& f, std::string_view key, int64_t n_vocab) {
    if (!f.has(key)) return -1;
    int64_t id = f.get_int(key);
    if (id < 0 || id >= n_vocab)
        throw TokenizerError(ErrorCode::SpecialId,
                             fmt::format("{}: key '{}': token id {} is outside the vocabulary "
                                         "(0..{})", f.source(), key, id, n_vocab - 1));
    return static_cast<int32_t>(id);
}

}  // namespace

Vocab vocab_from_gguf(const gguf::File& f) {
    Vocab v;
    const std::string& src = f.source();
    if (!f.has("tokenizer.ggml.model"))
        throw TokenizerError(ErrorCode::VocabEmpty,
                             fmt::format("{}: no tokenizer (key 'tokenizer.ggml.model' missing)", src));
    v.model = f.get<std::string>("tokenizer.ggml.model");
    if (v.model != "gpt2" && v.model != "llama")
        throw TokenizerError(ErrorCode::UnknownModel,
                             fmt::format("{}: tokenizer.ggml.model '{}' is not supported (gpt2, llama)",
                                         src, v.model));
    if (!f.has("tokenizer.ggml.tokens"))
        throw TokenizerError(ErrorCode::VocabEmpty,
                             fmt::format("{}: key 'tokenizer.ggml.tokens' missing", src));
    v.tokens = f.get_array<std::string>("tokenizer.ggml.tokens");
    if (v.tokens.empty())
        throw TokenizerError(ErrorCode::VocabEmpty,
                             fmt::format("{}: key 'tokenizer.ggml.tokens' is empty", src));
    const size_t n = v.tokens.size();
    if (n > static_cast<size_t>(INT32_MAX))
        throw TokenizerError(ErrorCode::VocabShape, fmt::format("{}: {} tokens is too many", src, n));

    if (f.has("tokenizer.ggml.scores")) {
        v.scores = f.get_array<float>("tokenizer.ggml.scores");
        if (v.scores.size() != n)
            throw TokenizerError(ErrorCode::VocabShape,
                                 fmt::format("{}: 'tokenizer.ggml.scores' has {} entries, tokens has {}",
                                             src, v.scores.size(), n));
    }
    if (f.has("tokenizer.ggml.token_type")) {
        v.token_types = f.get_array<int32_t>("tokenizer.ggml.token_type");
        if (v.token_types.size() != n)
            throw TokenizerError(ErrorCode::VocabShape,
                                 fmt::format("{}: 'tokenizer.ggml.token_type' has {} entries, tokens has {}",
                                             src, v.token_types.size(), n));
        for (size_t i = 0; i < n; ++i)
            if (v.token_types[i] < 0 || v.token_types[i] > 6)
                throw TokenizerError(ErrorCode::VocabShape,
                                     fmt::format("{}: token {} has invalid token_type {}", src, i,
                                                 v.token_types[i]));
    } else {
        v.token_types.assign(n, static_cast<int32_t>(TokenType::Normal));
    }
    if (f.has("tokenizer.ggml.merges")) v.merges = f.get_array<std::string>("tokenizer.ggml.merges");

    if (v.model == "gpt2") {
        // llama.cpp treats a missing pre as "default"; an unknown name fails in Tokenizer::create.
        v.pre = f.get_or<std::string>("tokenizer.ggml.pre", "default");
        if (v.merges.empty())
            throw TokenizerError(ErrorCode::Merge,
                                 fmt::format("{}: gpt2 tokenizer without 'tokenizer.ggml.merges'", src));
    } else {
        if (v.scores.empty())
            throw TokenizerError(ErrorCode::VocabShape,
                                 fmt::format("{}: llama tokenizer without 'tokenizer.ggml.scores'", src));
        v.pre = f.get_or<std::string>("tokenizer.ggml.pre", "");
    }

    const auto nv = static_cast<int64_t>(n);
    v.bos_id = read_id(f, "tokenizer.ggml.bos_token_id", nv);
    v.eos_id = read_id(f, "tokenizer.ggml.eos_token_id", nv);
    v.unk_id = read_id(f, "tokenizer.ggml.unknown_token_id", nv);
    v.pad_id = read_id(f, "tokenizer.ggml.padding_token_id", nv);
    v.eot_id = read_id(f, "tokenizer.ggml.eot_token_id", nv);
    v.add_bos = f.get_or<bool>("tokenizer.ggml.add_bos_token", false);
    v.add_eos = f.get_or<bool>("tokenizer.ggml.add_eos_token", false);
    v.add_space_prefix = f.get_or<bool>("tokenizer.ggml.add_space_prefix", v.model == "llama");
    v.chat_template = f.get_or<std::string>("tokenizer.chat_template", "");
    if (v.add_bos && v.bos_id < 0)
        throw TokenizerError(ErrorCode::SpecialId,
                             fmt::format("{}: add_bos_token is set but there is no bos_token_id", src));
    if (v.add_eos && v.eos_id < 0)
        throw TokenizerError(ErrorCode::SpecialId,
                             fmt::format("{}: add_eos_token is set but there is no eos_token_id", src));
    return v;
}

void write_vocab_gguf(const Vocab& v, gguf::Writer& w, int64_t n_vocab_padded) {
    const int64_t n = v.n_vocab();
    if (n_vocab_padded < n)
        fail("write_vocab_gguf: padded vocabulary size {} is smaller than the tokenizer's {} tokens",
             n_vocab_padded, n);
    if (static_cast<int64_t>(v.token_types.size()) != n ||
        (!v.scores.empty() && static_cast<int64_t>(v.scores.size()) != n))
        fail("write_vocab_gguf: tokens, token types and scores differ in length");
    std::vector<std::string> tokens = v.tokens;
    std::vector<int32_t> types = v.token_types;
    std::vector<float> scores = v.scores;
    for (int64_t id = n; id < n_vocab_padded; ++id) {
        tokens.push_back(fmt::format("[PAD{}]", id));
        types.push_back(static_cast<int32_t>(TokenType::Unused));
        if (!scores.empty()) scores.push_back(-10000.0f);
    }
    w.set("tokenizer.ggml.model", v.model);
    if (!v.pre.empty()) w.set("tokenizer.ggml.pre", v.pre);
    w.set("tokenizer.ggml.tokens", gguf::Value::array(tokens));
    if (!scores.empty()) w.set("tokenizer.ggml.scores", gguf::Value::array(scores));
    w.set("tokenizer.ggml.token_type", gguf::Value::array(types));
    if (!v.merges.empty()) w.set("tokenizer.ggml.merges", gguf::Value::array(v.merges));
    auto set_id = [&](const char* key, int32_t id) {
        if (id >= 0) w.set(key, static_cast<uint32_t>(id));
    };
    set_id("tokenizer.ggml.bos_token_id", v.bos_id);
    set_id("tokenizer.ggml.eos_token_id", v.eos_id);
    set_id("tokenizer.ggml.unknown_token_id", v.unk_id);
    set_id("tokenizer.ggml.padding_token_id", v.pad_id);
    set_id("tokenizer.ggml.eot_token_id", v.eot_id);
    w.set("tokenizer.ggml.add_bos_token", v.add_bos);
    w.set("tokenizer.ggml.add_eos_token", v.add_eos);
    if (v.model == "llama") w.set("tokenizer.ggml.add_space_prefix", v.add_space_prefix);
    if (!v.chat_template.empty()) w.set("tokenizer.chat_template", v.chat_template);
}

}  // namespace r1::tokenizer
