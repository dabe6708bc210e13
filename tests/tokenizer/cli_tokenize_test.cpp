// `r1 tokenize` as CLI.md specifies it, run as a user would: ids on one line, --pieces,
// --no-bos, --no-special, -f byte for byte, --detokenize, and one-line errors with status 1.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "runtime/gguf/gguf.h"
#include "tests/cli/run_r1.h"
#include "tests/tokenizer/tokenizer_fixtures.h"

namespace r1::test {
namespace {

std::string ids_line(const std::vector<int32_t>& ids) {
    std::string s;
    for (size_t i = 0; i < ids.size(); ++i) s += (i ? " " : "") + std::to_string(ids[i]);
    return s + "\n";
}

TEST(CliTokenize, GoldenPromptsFromHfFolders) {
    for (std::string model : {"tiny-r1-qwen2", "tiny-r1-llama"}) {
        nlohmann::json doc = load_json(fixture("models/" + model + "/goldens/prompts.json"));
        for (const auto& p : doc["prompts"]) {
            std::vector<std::string> args = {"tokenize", "-m", fixture("models/" + model).string(), "-p",
                                             p["text"].get<std::string>()};
            if (!p["add_bos"].get<bool>()) args.push_back("--no-bos");
            RunResult r = run_r1(args);
            EXPECT_EQ(r.status, 0) << r.err;
            EXPECT_EQ(r.out, ids_line(p["ids"].get<std::vector<int32_t>>())) << model << " " << p["name"];
        }
    }
}

TEST(CliTokenize, FileBytesPiecesAndFlags) {
    std::string dir = fixture("models/tiny-r1-qwen2").string();
    std::filesystem::path f = std::filesystem::temp_directory_path() / fmt::format("r1_tok_cli_{}.txt", ::getpid());
    {
        std::ofstream out(f, std::ios::binary);
        out.write("ROMEO:\n", 7);  // the trailing newline belongs to the text
    }
    RunResult r = run_r1({"tokenize", "-m", dir, "-f", f.string(), "--no-bos"});
    EXPECT_EQ(r.status, 0);
    EXPECT_EQ(r.out, ids_line(hf_tokenizer("models/tiny-r1-qwen2").encode("ROMEO:\n", false, true)));
    r = run_r1({"tokenize", "-m", dir, "-p", "ROMEO:", "--pieces"});  // ids from prompts.json
    EXPECT_EQ(r.out, "1025\t<\xEF\xBD\x9C" "begin\xE2\x96\x81of\xE2\x96\x81sentence\xEF\xBD\x9C>\n824\tROMEO\n25\t:\n");
    r = run_r1({"tokenize", "-m", dir, "-p", "<\xEF\xBD\x9C" "begin\xE2\x96\x81of\xE2\x96\x81sentence\xEF\xBD\x9C>", "--no-bos",
                "--no-special"});
    EXPECT_EQ(r.status, 0);
    EXPECT_NE(r.out, "1025\n");
    r = run_r1({"tokenize", "-m", dir, "--detokenize", "1025 824 25"});
    EXPECT_EQ(r.out, "<\xEF\xBD\x9C" "begin\xE2\x96\x81of\xE2\x96\x81sentence\xEF\xBD\x9C>ROMEO:");
    std::filesystem::remove(f);
}

TEST(CliTokenize, GgufFile) {
    // The same golden ids from a GGUF file holding the vocabulary (padded as the converter does).
    namespace fs = std::filesystem;
    fs::path p = fs::temp_directory_path() / fmt::format("r1_tok_cli_{}.gguf", ::getpid());
    {
        gguf::Writer w(p);
        w.set("general.architecture", "qwen2");
        tokenizer::write_vocab_gguf(hf_tokenizer("models/tiny-r1-qwen2").vocab(), w, 1088);
        w.finish();
    }
    nlohmann::json doc = load_json(fixture("models/tiny-r1-qwen2/goldens/prompts.json"));
    for (const auto& pr : doc["prompts"]) {
        std::vector<std::string> args = {"tokenize", "-m", p.string(), "-p", pr["text"].get<std::string>()};
        if (!pr["add_bos"].get<bool>()) args.push_back("--no-bos");
        RunResult r = run_r1(args);
        EXPECT_EQ(r.status, 0) << r.err;
        EXPECT_EQ(r.out, ids_line(pr["ids"].get<std::vector<int32_t>>())) << pr["name"];
    }
    fs::remove(p);
}

TEST(CliTokenize, ErrorsAreOneLine) {
    std::string dir = fixture("models/tiny-r1-qwen2").string();
    for (const auto& args : std::vector<std::vector<std::string>>{
             {"tokenize", "-m", "/nonexistent/file.gguf", "-p", "x"},
             {"tokenize", "-m", dir},
             {"tokenize", "-m", dir, "--detokenize", "1 99999"},
             {"tokenize", "-m", dir, "--detokenize", "1 x"},
             {"tokenize", "-m", fixture("tokenizers/qwen3/cases.json").string(), "-p", "x"}}) {
        RunResult r = run_r1(args);
        EXPECT_EQ(r.status, 1) << args[2];
        EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
        EXPECT_TRUE(r.out.empty());
    }
}

}  // namespace
}  // namespace r1::test
