// Test helpers for the fixture models: converting a fixture with `r1 convert` (once per
// process), reading the goldens (prompts.json, logits files, valid_ppl.json, quant_ref.json).
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace r1::test {

std::filesystem::path fixture_dir(const std::string& model);  // tests/fixtures/models/<model>
// Converts the fixture to `type` (an r1 convert --type), cached under the build's temp dir.
// Returns an empty path (and the reason in *why) when the conversion failed.
std::filesystem::path converted(const std::string& model, const std::string& type, bool pure, std::string* why);
nlohmann::json read_json(const std::filesystem::path& p);
std::vector<float> read_floats(const std::filesystem::path& p);
std::string read_text(const std::filesystem::path& p);
// The golden prompt of that name from prompts.json.
nlohmann::json golden_prompt(const std::string& model, const std::string& name);

// The first 4096 tokens of valid.txt by the fixture's own tokenizer (HF folder), as
// valid_ppl.json and quant_ref.json made them.
std::vector<int32_t> valid_tokens(const std::string& model);

// Mean over rows of KL(P || Q) with P = softmax(p_rows), Q = softmax(q_rows), in double.
double mean_kl(const std::vector<float>& p_rows, const std::vector<float>& q_rows, int64_t n_vocab);
int64_t argmax_row(const float* row, int64_t n);

}  // namespace r1::test
