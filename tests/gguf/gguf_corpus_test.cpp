// Replays the fuzzers' corpus (tests/fuzz/corpus/gguf): each file either parses or gives a
// GgufError; anything else (a crash, another exception, a sanitizer report) fails.
#include <filesystem>
#include <fstream>

#include <gtest/gtest.h>

#include "runtime/gguf/gguf.h"

namespace r1::test {
namespace {

TEST(GgufCorpus, EveryFileParsesOrIsRejectedCleanly) {
    size_t n = 0;
    for (const auto& e : std::filesystem::directory_iterator(R1_CORPUS)) {
        std::ifstream in(e.path(), std::ios::binary);
        std::vector<uint8_t> bytes((std::istreambuf_iterator<char>(in)), {});
        try {
            auto f = gguf::File::parse(bytes, e.path().filename().string());
            for (const auto& t : f->tensors()) ASSERT_LE(t.data + t.n_bytes, bytes.data() + bytes.size());
        } catch (const gguf::GgufError&) {
        }
        ++n;
    }
    EXPECT_GE(n, 60u) << "the seed corpus is missing";
}

}  // namespace
}  // namespace r1::test
