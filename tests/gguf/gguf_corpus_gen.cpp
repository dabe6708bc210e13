// Writes the malformed cases and a few valid files into a folder: the seed corpus for
// fuzz_gguf (scripts/fuzz) and for the corpus replay test.
#include <cstdio>
#include <filesystem>
#include <fstream>

#include "tests/gguf/malformed_cases.h"

int main(int argc, char** argv) {
    if (argc != 2) {
        std::fprintf(stderr, "usage: gguf_corpus_gen DIR\n");
        return 1;
    }
    std::filesystem::path dir = argv[1];
    std::filesystem::create_directories(dir);
    auto put = [&](const std::string& name, const std::vector<uint8_t>& b) {
        std::ofstream(dir / name, std::ios::binary).write(reinterpret_cast<const char*>(b.data()), b.size());
    };
    for (const auto& c : r1::test::malformed_cases()) put(c.id + ".gguf", c.bytes);
    r1::test::Bytes ok;
    ok.header(2, 3).kv_str("general.architecture", "llama").kv_u32("llama.block_count", 1)
        .str("tokenizer.ggml.tokens").u32(9).u32(8).u64(2).str("a").str("b")
        .tensor("token_embd.weight", {32, 2}, 2, 0).tensor("output_norm.weight", {32}, 0, 64)
        .pad(32).zeros(64 + 128);
    put("valid_small.gguf", ok.b);
    return 0;
}
