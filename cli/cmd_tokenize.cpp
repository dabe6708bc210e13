// `r1 tokenize -m FILE_OR_DIR (-p TEXT | -f TEXT_FILE) [--no-bos] [--no-special] [--pieces]`
// and `--detokenize "1 2 3"` (CLI.md): token ids of a text, or the text of ids, with the
// tokenizer of a GGUF file or of a Hugging Face folder.
#include <filesystem>
#include <iostream>
#include <memory>
#include <sstream>
#include <string>

#include "cli/commands.h"
#include "core/files.h"
#include "runtime/gguf/gguf.h"
#include "runtime/tokenizer/tokenizer.h"

namespace r1::cli {
namespace {

struct TokenizeOptions {
    std::string model;
    std::string prompt;
    std::string file;
    std::string detokenize;
    bool no_bos = false;
    bool no_special = false;
    bool pieces = false;
};

std::unique_ptr<tokenizer::Tokenizer> load_tokenizer(const std::string& path) {
    if (std::filesystem::is_directory(path))
        return tokenizer::Tokenizer::create(tokenizer::vocab_from_hf_dir(path));
    auto f = gguf::File::open(path);
    return tokenizer::Tokenizer::create(tokenizer::vocab_from_gguf(*f));
}

std::vector<int32_t> parse_ids(const std::string& s, int32_t n_vocab) {
    std::vector<int32_t> ids;
    std::string word;
    std::istringstream in(s);
    while (in >> word) {
        for (char& c : word)
            if (c == ',' || c == '[' || c == ']') c = ' ';
        std::istringstream w(word);
        std::string part;
        while (w >> part) {
            size_t used = 0;
            long long v = 0;
            try {
                v = std::stoll(part, &used);
            } catch (const std::exception&) {
                used = 0;
            }
            if (used != part.size()) fail("--detokenize: '{}' is not a token id", part);
            if (v < 0 || v >= n_vocab) fail("--detokenize: token id {} is outside the vocabulary (0..{})", v, n_vocab - 1);
            ids.push_back(static_cast<int32_t>(v));
        }
    }
    return ids;
}

void run_tokenize(const TokenizeOptions& o) {
    auto tok = load_tokenizer(o.model);
    if (!o.detokenize.empty()) {
        std::string text = tok->decode(parse_ids(o.detokenize, tok->n_vocab()), /*show_special=*/true);
        std::cout.write(text.data(), static_cast<std::streamsize>(text.size()));
        std::cout.flush();
        return;
    }
    std::string text = o.file.empty() ? o.prompt : read_input_file(o.file, kMaxPromptFileBytes, "-f");
    std::vector<int32_t> ids = tok->encode(text, /*add_special=*/!o.no_bos, /*parse_special=*/!o.no_special);
    std::string out;
    if (o.pieces) {
        for (int32_t id : ids) out += fmt::format("{}\t{}\n", id, tok->vocab().tokens[static_cast<size_t>(id)]);
    } else {
        for (size_t i = 0; i < ids.size(); ++i) out += fmt::format("{}{}", i ? " " : "", ids[i]);
        out += '\n';
    }
    std::cout.write(out.data(), static_cast<std::streamsize>(out.size()));
    std::cout.flush();
}

}  // namespace

void add_tokenize(CLI::App& app) {
    auto o = std::make_shared<TokenizeOptions>();
    CLI::App* sub = app.add_subcommand("tokenize", "Print the token ids of a text (or the text of ids)");
    sub->add_option("-m,--model", o->model, "GGUF file or Hugging Face tokenizer folder")->required();
    auto* p = sub->add_option("-p,--prompt", o->prompt, "Text to tokenize");
    auto* f = sub->add_option("-f,--file", o->file, "File whose bytes are the text (at most 64 MiB)");
    p->excludes(f);
    sub->add_flag("--no-bos", o->no_bos, "Do not add BOS even if the tokenizer asks for it");
    sub->add_flag("--no-special", o->no_special, "Treat special-token text in the prompt as plain text");
    sub->add_flag("--pieces", o->pieces, "Print one 'id<TAB>token' line per token");
    sub->add_option("--detokenize", o->detokenize, "Print the text of these ids (\"1 2 3\")");
    sub->callback([o, p, f] {
        if (o->detokenize.empty() && p->count() + f->count() != 1)
            fail("tokenize: give the text with -p TEXT or -f FILE");
        run_tokenize(*o);
    });
}

R1_COMMAND(60, add_tokenize);

}  // namespace r1::cli
