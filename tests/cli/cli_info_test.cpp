// `r1 info` as a user meets it: the documented JSON keys on files we write, and one clear
// error line with exit status 1 for every malformed file of RELIABILITY.md §4.1.
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "runtime/gguf/gguf.h"
#include "tests/cli/run_r1.h"
#include "tests/gguf/malformed_cases.h"

namespace r1::test {
namespace {

namespace fs = std::filesystem;

fs::path temp_path(const std::string& name) {
    return fs::temp_directory_path() / fmt::format("r1_cli_info_{}_{}", getpid(), name);
}

fs::path write_model(const std::string& name) {
    auto path = temp_path(name);
    gguf::Writer w(path);
    w.set("general.architecture", "qwen2");
    w.set("general.name", "tiny");
    w.set("general.file_type", uint32_t{7});
    w.set("general.quantization_version", uint32_t{2});
    w.set("qwen2.block_count", uint32_t{1});
    w.set("qwen2.embedding_length", uint32_t{64});
    w.set("qwen2.attention.layer_norm_rms_epsilon", 1e-6f);
    std::vector<std::string> tokens;
    for (int i = 0; i < 100; ++i) tokens.push_back(fmt::format("t{}", i));
    w.set("tokenizer.ggml.model", "gpt2");
    w.set("tokenizer.ggml.tokens", gguf::Value::array(tokens));
    w.set("tokenizer.ggml.bos_token_id", uint32_t{1});
    std::vector<int64_t> emb = {64, 100}, norm = {64}, q = {64, 64};
    w.add_tensor("token_embd.weight", GgmlType::Q8_0, emb);
    w.add_tensor("blk.0.attn_norm.weight", GgmlType::F32, norm);
    w.add_tensor("blk.0.attn_q.weight", GgmlType::Q8_0, q);
    for (const auto& t : w.tensors()) {
        std::vector<uint8_t> zeros(t.n_bytes);
        w.write(zeros);
    }
    w.finish();
    return path;
}

TEST(CliInfo, JsonHasTheDocumentedKeys) {
    auto path = write_model("ok.gguf");
    auto r = run_r1({"info", path.string(), "--json"});
    ASSERT_EQ(r.status, 0) << r.err;
    auto j = nlohmann::json::parse(r.out);
    for (const char* k : {"architecture", "metadata", "tensors", "file_type", "n_params", "n_bytes"})
        EXPECT_TRUE(j.contains(k)) << k;
    EXPECT_EQ(j["architecture"], "qwen2");
    EXPECT_EQ(j["file_type"], "Q8_0");
    EXPECT_EQ(j["metadata"]["qwen2.block_count"], 1);
    EXPECT_EQ(j["metadata"]["general.name"], "tiny");
    EXPECT_FLOAT_EQ(j["metadata"]["qwen2.attention.layer_norm_rms_epsilon"].get<float>(), 1e-6f);
    // 100 tokens > 16: summarised by length
    EXPECT_EQ(j["metadata"]["tokenizer.ggml.tokens"]["length"], 100);
    ASSERT_EQ(j["tensors"].size(), 3u);
    EXPECT_EQ(j["tensors"][0]["name"], "token_embd.weight");
    EXPECT_EQ(j["tensors"][0]["type"], "q8_0");
    EXPECT_EQ(j["tensors"][0]["shape"], nlohmann::json::array({64, 100}));
    EXPECT_EQ(j["tensors"][0]["offset"], 0);
    EXPECT_EQ(j["tensors"][1]["offset"], 6816);  // 100 rows x 2 blocks x 34 bytes = 6800 -> pad 32
    EXPECT_EQ(j["n_params"], 64 * 100 + 64 + 64 * 64);
    EXPECT_EQ(j["n_bytes"], 6800 + 256 + 64 * 2 * 34);
    fs::remove(path);
}

TEST(CliInfo, TextNamesArchitectureTypeAndTensors) {
    auto path = write_model("text.gguf");
    auto r = run_r1({"info", path.string()});
    ASSERT_EQ(r.status, 0) << r.err;
    EXPECT_NE(r.out.find("architecture:  qwen2"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("Q8_0"), std::string::npos);
    EXPECT_NE(r.out.find("blk.0.attn_q.weight"), std::string::npos);
    EXPECT_NE(r.out.find("block_count"), std::string::npos);
    fs::remove(path);
}

TEST(CliInfo, EveryMalformedFileIsOneLineAndExitOne) {
    auto dir = temp_path("bad");
    fs::create_directories(dir);
    for (const auto& c : malformed_cases()) {
        auto p = dir / (c.id + ".gguf");
        std::ofstream(p, std::ios::binary).write(reinterpret_cast<const char*>(c.bytes.data()), c.bytes.size());
        auto r = run_r1({"info", p.string()});
        EXPECT_EQ(r.status, 1) << c.id << ": " << r.err;
        EXPECT_TRUE(r.out.empty()) << c.id;
        ASSERT_FALSE(r.err.empty()) << c.id;
        EXPECT_EQ(r.err.find('\n'), r.err.size() - 1) << c.id << ": not one line: " << r.err;
        EXPECT_NE(r.err.find(p.string()), std::string::npos) << c.id << " must name the file: " << r.err;
    }
    fs::remove_all(dir);
}

TEST(CliInfo, MissingFileDirectoryAndBadFlag) {
    auto r = run_r1({"info", "/nonexistent/x.gguf"});
    EXPECT_EQ(r.status, 1);
    EXPECT_NE(r.err.find("/nonexistent/x.gguf"), std::string::npos);
    r = run_r1({"info", "/tmp"});
    EXPECT_EQ(r.status, 1);
    EXPECT_NE(r.err.find("not a regular file"), std::string::npos) << r.err;
    r = run_r1({"info", "--no-such-flag", "x"});
    EXPECT_EQ(r.status, 1);
    r = run_r1({"no-such-command"});
    EXPECT_EQ(r.status, 1);
    r = run_r1({"info", "--help"});
    EXPECT_EQ(r.status, 0);
}

}  // namespace
}  // namespace r1::test
