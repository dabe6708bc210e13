// Bad input (RELIABILITY.md §4.4, T01-T15): malformed vocabularies fail at load time with the
// right error class; hostile prompts (invalid UTF-8, NUL, special-token text, pathological
// runs, 10 MB) tokenize without an exception and decode back.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "runtime/gguf/gguf.h"
#include "runtime/tokenizer/spm_model.h"
#include "runtime/tokenizer/unicode.h"
#include "tests/tokenizer/tokenizer_fixtures.h"

namespace r1::test {
namespace {

using namespace r1::tokenizer;
namespace fs = std::filesystem;

// 256 byte tokens, "ab" from the merge "a b", and a CONTROL token.
Vocab mini_bpe() {
    Vocab v;
    v.model = "gpt2";
    v.pre = "qwen2";
    for (const std::string& b : byte_to_unicode()) v.tokens.push_back(b);
    v.tokens.push_back("ab");
    v.tokens.push_back("<|s|>");
    v.token_types.assign(v.tokens.size(), static_cast<int32_t>(TokenType::Normal));
    v.token_types.back() = static_cast<int32_t>(TokenType::Control);
    v.merges = {"a b"};
    v.eos_id = 257;
    return v;
}

template <typename F>
ErrorCode error_of(F&& f) {
    try {
        f();
    } catch (const TokenizerError& e) {
        return e.code();
    }
    ADD_FAILURE() << "no TokenizerError";
    return ErrorCode::TooLong;
}

// A GGUF file holding a vocabulary whose keys `edit` may change.
std::unique_ptr<gguf::File> gguf_with(const std::function<void(gguf::Writer&)>& edit) {
    static int n = 0;
    fs::path p = fs::temp_directory_path() / fmt::format("r1_tok_bad_{}_{}.gguf", ::getpid(), n++);
    {
        gguf::Writer w(p);
        write_vocab_gguf(mini_bpe(), w, 258);
        edit(w);
        w.finish();
    }
    auto f = gguf::File::open(p);
    fs::remove(p);  // the mapping stays valid
    return f;
}

std::unique_ptr<Tokenizer> load(const gguf::File& f) { return Tokenizer::create(vocab_from_gguf(f)); }

TEST(TokenizerBadVocab, ValidMiniVocabLoads) {
    auto f = gguf_with([](gguf::Writer&) {});
    auto tok = load(*f);
    EXPECT_EQ(tok->encode("ab", false, false), (std::vector<int32_t>{256}));
}

TEST(TokenizerBadVocab, T01EmptyOrMissingTokens) {
    auto empty = gguf_with([](gguf::Writer& w) { w.set("tokenizer.ggml.tokens", gguf::Value::array(std::vector<std::string>{})); });
    EXPECT_EQ(error_of([&] { load(*empty); }), ErrorCode::VocabEmpty);
    fs::path p = fs::temp_directory_path() / fmt::format("r1_tok_t01_{}.gguf", ::getpid());
    {
        gguf::Writer w(p);
        w.set("tokenizer.ggml.model", "gpt2");
        w.finish();
    }
    auto f = gguf::File::open(p);
    fs::remove(p);
    EXPECT_EQ(error_of([&] { load(*f); }), ErrorCode::VocabEmpty);
}

TEST(TokenizerBadVocab, T02T03WrongArrayTypes) {
    auto ints = gguf_with([](gguf::Writer& w) { w.set("tokenizer.ggml.tokens", gguf::Value::array(std::vector<int32_t>(258, 1))); });
    EXPECT_THROW(load(*ints), gguf::GgufError);
    auto merges = gguf_with([](gguf::Writer& w) { w.set("tokenizer.ggml.merges", gguf::Value::array(std::vector<uint8_t>{1, 2})); });
    EXPECT_THROW(load(*merges), gguf::GgufError);
    auto scores = gguf_with([](gguf::Writer& w) { w.set("tokenizer.ggml.scores", gguf::Value::array(std::vector<uint8_t>(258, 0))); });
    EXPECT_THROW(load(*scores), gguf::GgufError);
    auto types = gguf_with([](gguf::Writer& w) { w.set("tokenizer.ggml.token_type", gguf::Value::array(std::vector<int8_t>(258, 1))); });
    EXPECT_THROW(load(*types), gguf::GgufError);
}

TEST(TokenizerBadVocab, T04ShortScoresOrTypes) {
    auto s = gguf_with([](gguf::Writer& w) { w.set("tokenizer.ggml.scores", gguf::Value::array(std::vector<float>(10, 0.0f))); });
    EXPECT_EQ(error_of([&] { load(*s); }), ErrorCode::VocabShape);
    auto t = gguf_with([](gguf::Writer& w) { w.set("tokenizer.ggml.token_type", gguf::Value::array(std::vector<int32_t>(257, 1))); });
    EXPECT_EQ(error_of([&] { load(*t); }), ErrorCode::VocabShape);
}

TEST(TokenizerBadVocab, T05SpecialIdsOutOfRange) {
    for (uint32_t id : {258u, 0xFFFFFFFFu}) {
        auto f = gguf_with([&](gguf::Writer& w) { w.set("tokenizer.ggml.bos_token_id", id); });
        EXPECT_EQ(error_of([&] { load(*f); }), ErrorCode::SpecialId) << id;
    }
    auto neg = gguf_with([](gguf::Writer& w) { w.set("tokenizer.ggml.eos_token_id", int32_t{-2}); });
    EXPECT_EQ(error_of([&] { load(*neg); }), ErrorCode::SpecialId);
    Vocab v = mini_bpe();
    v.pad_id = 258;
    EXPECT_EQ(error_of([&] { Tokenizer::create(v); }), ErrorCode::SpecialId);
}

TEST(TokenizerBadVocab, T06BadMerges) {
    for (std::string m : {"a zz", "zz a", "ab", "a  b", "a b c", "b a", " ", ""}) {
        Vocab v = mini_bpe();
        v.merges.push_back(m);  // "b a" merges into "ba", which is not a token
        EXPECT_EQ(error_of([&] { Tokenizer::create(v); }), ErrorCode::Merge) << "'" << m << "'";
    }
}

TEST(TokenizerBadVocab, T07BadByteTokens) {
    for (std::string t : {"<0x-1>", "<0xZZ>", "<0x100>", "<0x>", "<0x0A"}) {
        Vocab v = mini_bpe();
        v.tokens.push_back(t);
        v.token_types.push_back(static_cast<int32_t>(TokenType::Byte));
        EXPECT_EQ(error_of([&] { Tokenizer::create(v); }), ErrorCode::ByteToken) << t;
    }
}

void write_file(const fs::path& p, std::string_view s) {
    std::ofstream out(p, std::ios::binary);
    out.write(s.data(), static_cast<std::streamsize>(s.size()));
}

TEST(TokenizerBadVocab, T09BadTokenizerJson) {
    fs::path dir = fs::temp_directory_path() / fmt::format("r1_tok_t09_{}", ::getpid());
    fs::create_directories(dir);
    const std::string pre =
        R"("pre_tokenizer":{"type":"ByteLevel","add_prefix_space":false,"use_regex":true},"normalizer":null)";
    std::string bytes_vocab;
    for (int b = 0; b < 256; ++b) bytes_vocab += fmt::format("{}{}:{}", b ? "," : "",
                                                            nlohmann::json(byte_to_unicode()[b]).dump(), b);
    auto doc = [&](const std::string& model_extra, const std::string& added, const std::string& extra_vocab) {
        return fmt::format(R"({{{},"added_tokens":[{}],"model":{{"type":"BPE",{}"vocab":{{{}{}}},"merges":[]}}}})",
                           pre, added, model_extra, bytes_vocab, extra_vocab);
    };
    write_file(dir / "tokenizer.json", doc("", "", ""));
    EXPECT_NO_THROW(Tokenizer::create(vocab_from_hf_dir(dir)));  // the base document is valid
    const std::vector<std::string> bad = {
        "{not json",
        R"({"model":{"type":"Unigram","vocab":[]}})",
        doc(R"("unk_token":"<unk>",)", "", ""),
        doc("", R"({"id":300,"content":"<x>","special":true})", ""),                 // hole 256..299
        doc("", R"({"id":5,"content":"<x>","special":true})", ""),                   // collides with a byte
        doc("", "", R"(,"dup":65)"),                                                  // two strings, one id
        doc("", R"({"id":256,"content":"!","special":false})", ""),                  // one string, two ids
        doc("", "", R"(,"neg":-1)"),
        doc("", R"({"id":256,"content":"<w>","special":false,"single_word":true})", ""),  // unsupported flag
    };
    for (const std::string& d : bad) {
        write_file(dir / "tokenizer.json", d);
        EXPECT_EQ(error_of([&] { vocab_from_hf_dir(dir); }), ErrorCode::TokenizerJson) << d.substr(0, 80);
    }
    fs::remove_all(dir);
}

TEST(TokenizerBadVocab, T10BadSentencePieceModel) {
    auto piece = [](const std::string& text) {  // SentencePiece{1: text} inside ModelProto field 1
        std::string inner = "\x0A" + std::string(1, static_cast<char>(text.size())) + text;
        return "\x0A" + std::string(1, static_cast<char>(inner.size())) + inner;
    };
    const std::string bpe_spec = std::string("\x12\x02\x18\x02", 4);  // TrainerSpec{model_type: BPE}
    EXPECT_NO_THROW(parse_spm_model(piece("a") + bpe_spec, "ok"));
    std::string big = "\x0A\x85\x80\x40\x0A\x80\x80\x40" + std::string(1 << 20, 'x');  // 1 MiB piece
    const std::vector<std::string> bad = {
        "not a protobuf at all",
        std::string("\x0A\xFF\xFF", 3),              // truncated varint
        std::string("\x0A\x05\x0A\x03", 4),          // length past the end
        big + bpe_spec,
        piece(std::string("a\0b", 3)) + bpe_spec,    // NUL in a piece
        piece("") + bpe_spec,                        // empty piece
        piece("\xFF") + bpe_spec,                    // not UTF-8
        piece("a"),                                  // no TrainerSpec: Unigram
        std::string("\x0F", 1),                      // wire type 7
        "",
    };
    for (const std::string& b : bad)
        EXPECT_EQ(error_of([&] { parse_spm_model(b, "bad.model"); }), ErrorCode::SpmModel);
}

TEST(TokenizerBadVocab, T11MissingByteToken) {
    Vocab v = mini_bpe();
    v.tokens[0x41] = "A-not-a-byte";  // no token for byte 'A' any more
    EXPECT_EQ(error_of([&] { Tokenizer::create(v); }), ErrorCode::VocabIncomplete);
}

TEST(TokenizerBadVocab, UnknownPreIsNamed) {
    Vocab v = mini_bpe();
    v.pre = "made-up-pre";
    try {
        Tokenizer::create(v);
        ADD_FAILURE();
    } catch (const TokenizerError& e) {
        EXPECT_EQ(e.code(), ErrorCode::UnknownPre);
        EXPECT_NE(std::string(e.what()).find("made-up-pre"), std::string::npos);
    }
}

TEST(TokenizerBadPrompt, T12InvalidUtf8BecomesReplacement) {
    const Tokenizer& tok = hf_tokenizer("tokenizers/qwen3");
    const Tokenizer& spm = hf_tokenizer("models/tiny-r1-llama");
    for (std::string s : {std::string("\x80"), std::string("\xC0\x80"), std::string("\xED\xA0\x80"),
                          std::string("\xF0\x9F\x98"), std::string("\xFF"), std::string("ok\xFFok")}) {
        std::vector<int32_t> ids;
        EXPECT_NO_THROW(ids = tok.encode(s, false, true));
        EXPECT_EQ(ids, tok.encode(sanitize_utf8(s), false, true));
        std::string back = tok.decode(ids, true);
        EXPECT_TRUE(is_valid_utf8(back));
        EXPECT_NE(back.find(kReplacement), std::string::npos);
        EXPECT_NO_THROW(spm.encode(s, true, true));
    }
    // Maximal subparts: C0 80 is two errors, F0 9F 98 one.
    EXPECT_EQ(sanitize_utf8("\xC0\x80"), std::string(kReplacement) + std::string(kReplacement));
    EXPECT_EQ(sanitize_utf8("\xF0\x9F\x98"), kReplacement);
    EXPECT_EQ(sanitize_utf8("a\xED\xA0\x80z"), "a" + std::string(kReplacement) + std::string(kReplacement) +
                                                   std::string(kReplacement) + "z");
}

TEST(TokenizerBadPrompt, T13NulAndLiteralSpecialText) {
    const Tokenizer& tok = hf_tokenizer("tokenizers/qwen3");
    std::string nul("a\0b\0", 4);
    EXPECT_EQ(tok.decode(tok.encode(nul, false, true), true), nul);
    std::vector<int32_t> literal = tok.encode("<|im_start|>", false, /*parse_special=*/false);
    EXPECT_GT(literal.size(), 1u);
    EXPECT_EQ(std::count(literal.begin(), literal.end(), 151644), 0);
    EXPECT_EQ(tok.decode(literal, true), "<|im_start|>");
    EXPECT_EQ(tok.encode("<|im_start|>", false, true), (std::vector<int32_t>{151644}));
    // USER_DEFINED <think> stays one token even without special parsing (llama.cpp rule).
    EXPECT_EQ(tok.encode("<think>", false, false), (std::vector<int32_t>{151667}));
}

void expect_round_trip(const Tokenizer& tok, const std::string& text) {
    std::vector<int32_t> ids = tok.encode(text, false, false);
    EXPECT_FALSE(ids.empty());
    EXPECT_TRUE(tok.decode(ids, true) == text) << "round trip of " << text.size() << " bytes";
}

TEST(TokenizerBadPrompt, T14TenMegabytePrompt) {
    std::string text;
    const std::string line = "The quick brown fox jumps over the lazy dog 1234, \xE4\xBD\xA0\xE5\xA5\xBD!\n";
    while (text.size() < (10u << 20)) text += line;
    expect_round_trip(hf_tokenizer("models/tiny-r1-qwen2"), text);
}

TEST(TokenizerBadPrompt, T15PathologicalRuns) {
    // Bounded by the test timeout here; bench_tokenizer records the ms/MB.
    const size_t mb = 256u << 10;
    std::string zwj;
    while (zwj.size() < mb) zwj += "\xF0\x9F\x91\xA8\xE2\x80\x8D\xF0\x9F\x91\xA9\xE2\x80\x8D\xF0\x9F\x91\xA7";
    for (const std::string& text : {std::string(mb, 'a'), std::string(mb, '7'), std::string(mb, ' '),
                                    std::string(mb, '\n'), std::string(mb, '!'), zwj}) {
        expect_round_trip(hf_tokenizer("tokenizers/qwen3"), text);
        expect_round_trip(hf_tokenizer("tokenizers/deepseek-v3"), text);
        expect_round_trip(hf_tokenizer("models/tiny-r1-llama"), text);
    }
}

}  // namespace
}  // namespace r1::test
