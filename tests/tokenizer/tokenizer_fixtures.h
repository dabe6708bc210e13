// Shared helpers for the tokenizer tests: fixture paths and a per-process cache of loaded
// tokenizers (the real ones take a second to load from tokenizer.json).
#pragma once

#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <sstream>
#include <string>

#include <nlohmann/json.hpp>

#include "runtime/tokenizer/tokenizer.h"

namespace r1::test {

inline std::filesystem::path fixture(const std::string& rel) { return std::filesystem::path(R1_FIXTURES) / rel; }

inline nlohmann::json load_json(const std::filesystem::path& p) {
    std::ifstream in(p, std::ios::binary);
    std::stringstream ss;
    ss << in.rdbuf();
    return nlohmann::json::parse(ss.str());
}

// Loads the tokenizer of a fixture folder once per process.
inline const tokenizer::Tokenizer& hf_tokenizer(const std::string& rel_dir) {
    static std::map<std::string, std::unique_ptr<tokenizer::Tokenizer>> cache;
    auto& t = cache[rel_dir];
    if (!t) t = tokenizer::Tokenizer::create(tokenizer::vocab_from_hf_dir(fixture(rel_dir)));
    return *t;
}

}  // namespace r1::test
