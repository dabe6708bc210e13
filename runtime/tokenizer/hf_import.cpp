// Hugging Face tokenizer folder -> Vocab: tokenizer.json (byte-level BPE) or tokenizer.model
// (SentencePiece BPE, read by spm_model.cpp), with tokenizer_config.json for special tokens,
// add_bos_token and the chat template. Token types follow llama.cpp's converter (GGUF.md §1.10).
#include <map>
#include <optional>

#include <nlohmann/json.hpp>

#include "core/files.h"
#include "core/json.h"
#include "runtime/tokenizer/pretokenize.h"
#include "runtime/tokenizer/spm_model.h"
#include "runtime/tokenizer/unicode.h"
#include "runtime/tokenizer/vocab.h"

namespace r1::tokenizer {

namespace {

using nlohmann::json;
namespace fs = std::filesystem;

constexpr int64_t kMaxVocab = 16 << 20;  // ids above this are rejected, not allocated
constexpr std::string_view kDeepseekBos = "<\xEF\xBD\x9C" "begin\xE2\x96\x81of\xE2\x96\x81sentence\xEF\xBD\x9C>";

std::string read_file(const fs::path& p) { return read_input_file(p.string(), kMaxConfigFileBytes); }

[[noreturn]] void json_error(const fs::path& p, const std::string& what) {
    throw TokenizerError(ErrorCode::TokenizerJson, fmt::format("{}: {}", p.string(), what));
}

json parse_json(const fs::path& p) {
    const std::string text = read_file(p);
    try {
        return r1::parse_json(text, p.string());
    } catch (const Error& e) {
        throw TokenizerError(ErrorCode::TokenizerJson, e.what());
    }
}

// A token field of tokenizer_config.json: a string, {"content": ...} or null.
std::optional<std::string> token_text(const json& cfg, const char* key) {
    auto it = cfg.find(key);
    if (it == cfg.end() || it->is_null()) return std::nullopt;
    if (it->is_string()) return it->get<std::string>();
    if (it->is_object() && it->contains("content") && (*it)["content"].is_string())
        return (*it)["content"].get<std::string>();
    return std::nullopt;
}

// Applies tokenizer_config.json: special token ids, add_bos/add_eos, chat template.
void apply_config(Vocab& v, const json& cfg, const fs::path& path,
                  const std::map<std::string, int32_t>& by_text) {
    auto id_of = [&](const char* key, int32_t fallback) {
        std::optional<std::string> t = token_text(cfg, key);
        if (!t) return fallback;
        auto it = by_text.find(*t);
        if (it == by_text.end())
            json_error(path, fmt::format("{} '{}' is not a token of the vocabulary", key, *t));
        return it->second;
    };
    v.bos_id = id_of("bos_token", v.bos_id);
    v.eos_id = id_of("eos_token", v.eos_id);
    v.pad_id = id_of("pad_token", v.pad_id);
    v.unk_id = id_of("unk_token", v.unk_id);
    if (auto it = cfg.find("add_bos_token"); it != cfg.end() && it->is_boolean()) v.add_bos = it->get<bool>();
    if (auto it = cfg.find("add_eos_token"); it != cfg.end() && it->is_boolean()) v.add_eos = it->get<bool>();
    if (v.add_bos && v.bos_id < 0) v.add_bos = false;  // e.g. add_bos_token true with bos_token null
    if (v.add_eos && v.eos_id < 0) v.add_eos = false;
    if (auto it = cfg.find("chat_template"); it != cfg.end()) {
        if (it->is_string()) {
            v.chat_template = it->get<std::string>();
        } else if (it->is_array()) {  // [{name, template}, ...]: the "default" one
            for (const json& t : *it)
                if (t.is_object() && t.value("name", "") == "default" && t.contains("template") &&
                    t["template"].is_string())
                    v.chat_template = t["template"].get<std::string>();
        }
    }
}

std::string canonical_regex(std::string r) {
    std::string out;
    for (char c : r) {
        if (c == '\r') out += "\\r";
        else if (c == '\n') out += "\\n";
        else out += c;
    }
    return out;
}

// tokenizer.json spellings of the pre-tokenizer regex sets (GGUF.md §6.2).
const std::vector<std::pair<std::string, std::vector<std::string>>>& known_hf_splits() {
    static const std::vector<std::pair<std::string, std::vector<std::string>>> k = {
        {"qwen2", {R"((?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+)"}},
        {"llama-bpe", {R"((?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+)"}},
        {"deepseek-v3",
         {R"(\p{N}{1,3})", "[一-龥぀-ゟ゠-ヿ]+",
          R"([!"#$%&'()*+,\-./:;<=>?@\[\\\]^_`{|}~][A-Za-z]+|[^\r\n\p{L}\p{P}\p{S}]?[\p{L}\p{M}]+| ?[\p{P}\p{S}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+)"}},
    };
    return k;
}

// Identifies tokenizer.ggml.pre from the pre_tokenizer of tokenizer.json: the Split regexes
// (Isolated, before a ByteLevel step without its own regex) must equal a known set; a lone
// ByteLevel with use_regex is GPT-2. llama.cpp hashes the ids of a probe text instead; both
// name the same sets, this way an unknown tokenizer is reported with its regexes.
std::string identify_pre(const json& tj, const fs::path& path, std::string_view bos_text) {
    const json& pt = tj.contains("pre_tokenizer") ? tj["pre_tokenizer"] : json();
    std::vector<json> steps;
    if (pt.is_object() && pt.value("type", "") == "Sequence" && pt.contains("pretokenizers") &&
        pt["pretokenizers"].is_array())
        steps.assign(pt["pretokenizers"].begin(), pt["pretokenizers"].end());
    else if (pt.is_object())
        steps.push_back(pt);
    if (steps.empty()) json_error(path, "no pre_tokenizer: cannot tell which BPE pre-tokenizer this is");
    const json& last = steps.back();
    if (last.value("type", "") != "ByteLevel") json_error(path, "pre_tokenizer does not end with ByteLevel");
    if (last.value("use_regex", true)) {
        if (steps.size() == 1) return "gpt2";
        json_error(path, "pre_tokenizer: Split steps before a ByteLevel with use_regex=true are not supported");
    }
    std::vector<std::string> splits;
    for (size_t i = 0; i + 1 < steps.size(); ++i) {
        const json& s = steps[i];
        if (s.value("type", "") != "Split" || s.value("behavior", "") != "Isolated" || s.value("invert", false) ||
            !s.contains("pattern") || !s["pattern"].is_object() || !s["pattern"].contains("Regex") ||
            !s["pattern"]["Regex"].is_string())
            json_error(path, fmt::format("pre_tokenizer step {} is not a Split(Regex, Isolated): {}", i,
                                         s.dump().substr(0, 200)));
        splits.push_back(canonical_regex(s["pattern"]["Regex"].get<std::string>()));
    }
    for (const auto& [name, regexes] : known_hf_splits()) {
        if (regexes != splits) continue;
        if (name == "qwen2" && bos_text == kDeepseekBos) return "deepseek-r1-qwen";
        return name;
    }
    std::string shown;
    for (const auto& s : splits) shown += fmt::format("\n  {}", s);
    json_error(path, fmt::format("unknown pre-tokenizer (Split regexes not in GGUF.md §6.2):{}", shown));
}

// "NFC" or "" (none); anything else is an error.
std::string normalizer_kind(const json& tj, const fs::path& path) {
    if (!tj.contains("normalizer") || tj["normalizer"].is_null()) return "";
    const json& n = tj["normalizer"];
    std::string type = n.value("type", "");
    if (type == "NFC") return "NFC";
    if (type == "Sequence" && n.contains("normalizers") && n["normalizers"].is_array()) {
        if (n["normalizers"].empty()) return "";
        if (n["normalizers"].size() == 1 && n["normalizers"][0].value("type", "") == "NFC") return "NFC";
    }
    json_error(path, fmt::format("normalizer {} is not supported (NFC or none)", n.dump().substr(0, 200)));
}

Vocab import_tokenizer_json(const fs::path& dir, const json* cfg) {
    const fs::path path = dir / "tokenizer.json";
    json tj = parse_json(path);
    if (!tj.is_object() || !tj.contains("model") || !tj["model"].is_object())
        json_error(path, "no 'model' object");
    const json& model = tj["model"];
    if (model.value("type", "BPE") != "BPE")
        json_error(path, fmt::format("model type '{}' is not supported (BPE)", model.value("type", "")));
    if (!model.contains("vocab") || !model["vocab"].is_object()) json_error(path, "model.vocab is not an object");
    if (!model.contains("merges") || !model["merges"].is_array()) json_error(path, "model.merges is not an array");

    std::map<int64_t, std::string> by_id;
    std::map<std::string, int32_t> by_text;
    std::vector<TokenType> type_of;
    for (const auto& [text, idv] : model["vocab"].items()) {
        if (!idv.is_number_integer()) json_error(path, fmt::format("vocab entry '{}' has a non-integer id", text));
        int64_t id = idv.get<int64_t>();
        if (id < 0 || id >= kMaxVocab) json_error(path, fmt::format("vocab entry '{}' has id {} out of range", text, id));
        if (!by_id.emplace(id, text).second)
            json_error(path, fmt::format("id {} is used by both '{}' and '{}'", id, by_id[id], text));
        by_text.emplace(text, static_cast<int32_t>(id));
    }
    std::map<int64_t, TokenType> added_type;
    Vocab v;
    v.model = "gpt2";
    if (tj.contains("added_tokens") && !tj["added_tokens"].is_null()) {
        if (!tj["added_tokens"].is_array()) json_error(path, "added_tokens is not an array");
        for (const json& a : tj["added_tokens"]) {
            if (!a.is_object() || !a.contains("id") || !a["id"].is_number_integer() || !a.contains("content") ||
                !a["content"].is_string())
                json_error(path, "an added_tokens entry lacks an integer id or a string content");
            int64_t id = a["id"].get<int64_t>();
            std::string text = a["content"].get<std::string>();
            if (id < 0 || id >= kMaxVocab) json_error(path, fmt::format("added token '{}' has id {} out of range", text, id));
            auto [it, fresh] = by_id.emplace(id, text);
            if (!fresh && it->second != text)
                json_error(path, fmt::format("added token '{}' collides with token '{}' (id {})", text, it->second, id));
            auto [jt, tfresh] = by_text.emplace(text, static_cast<int32_t>(id));
            if (!tfresh && jt->second != id)
                json_error(path, fmt::format("token '{}' has two ids ({} and {})", text, jt->second, id));
            if (a.value("single_word", false))  // would need word-boundary matching; none of ours use it
                json_error(path, fmt::format("added token '{}' has single_word = true, which is not supported", text));
            bool special = a.value("special", false);
            added_type[id] = special || looks_special(text) ? TokenType::Control : TokenType::UserDefined;
            if (a.value("lstrip", false)) v.lstrip_ids.push_back(static_cast<int32_t>(id));
            if (a.value("rstrip", false)) v.rstrip_ids.push_back(static_cast<int32_t>(id));
        }
    }
    if (by_id.empty()) throw TokenizerError(ErrorCode::VocabEmpty, fmt::format("{}: empty vocabulary", path.string()));
    const int64_t n = by_id.rbegin()->first + 1;
    if (static_cast<int64_t>(by_id.size()) != n)
        json_error(path, fmt::format("token ids are not contiguous: {} tokens but the largest id is {}",
                                     by_id.size(), n - 1));
    v.tokens.reserve(static_cast<size_t>(n));
    v.token_types.reserve(static_cast<size_t>(n));
    for (const auto& [id, text] : by_id) {
        v.tokens.push_back(text);
        auto it = added_type.find(id);
        v.token_types.push_back(static_cast<int32_t>(it == added_type.end() ? TokenType::Normal : it->second));
    }
    if (model.contains("unk_token") && model["unk_token"].is_string()) {
        auto it = by_text.find(model["unk_token"].get<std::string>());
        if (it == by_text.end()) json_error(path, fmt::format("unk_token '{}' is not in the vocabulary",
                                                              model["unk_token"].get<std::string>()));
        v.unk_id = it->second;
    }
    if (model.value("byte_fallback", false)) json_error(path, "byte_fallback BPE is not supported");
    v.merges.reserve(model["merges"].size());
    for (const json& m : model["merges"]) {
        if (m.is_string()) v.merges.push_back(m.get<std::string>());
        else if (m.is_array() && m.size() == 2 && m[0].is_string() && m[1].is_string())
            v.merges.push_back(m[0].get<std::string>() + " " + m[1].get<std::string>());
        else json_error(path, fmt::format("merge {} is neither \"a b\" nor [a, b]", v.merges.size()));
    }
    if (cfg) apply_config(v, *cfg, dir / "tokenizer_config.json", by_text);
    std::string bos_text = v.bos_id >= 0 ? v.tokens[static_cast<size_t>(v.bos_id)] : "";
    v.pre = identify_pre(tj, path, bos_text);
    std::string norm = normalizer_kind(tj, path);
    bool want_nfc = PreTokenizer(v.pre).nfc();
    if ((norm == "NFC") != want_nfc)
        json_error(path, fmt::format("normalizer '{}' does not match pre-tokenizer '{}' (which implies {})",
                                     norm.empty() ? "none" : norm, v.pre, want_nfc ? "NFC" : "none"));
    if (model.value("ignore_merges", false) != PreTokenizer(v.pre).ignore_merges())
        json_error(path, fmt::format("model.ignore_merges does not match pre-tokenizer '{}'", v.pre));
    return v;
}

Vocab import_tokenizer_model(const fs::path& dir, const json* cfg) {
    const fs::path path = dir / "tokenizer.model";
    SpmModel m = parse_spm_model(read_file(path), path.string());
    Vocab v;
    v.model = "llama";
    v.tokens = std::move(m.pieces);
    v.scores = std::move(m.scores);
    v.token_types = std::move(m.types);
    v.add_space_prefix = m.add_dummy_prefix;
    v.add_bos = true;  // LlamaTokenizer's default
    const auto n = static_cast<int32_t>(v.tokens.size());
    auto in_range = [&](int32_t id) { return id >= 0 && id < n ? id : -1; };
    v.unk_id = in_range(m.unk_id);
    v.bos_id = in_range(m.bos_id);
    v.eos_id = in_range(m.eos_id);
    v.pad_id = in_range(m.pad_id);
    if (cfg) {
        // added_tokens_decoder overrides types as llama.cpp's converter does.
        const fs::path cpath = dir / "tokenizer_config.json";
        if (auto it = cfg->find("added_tokens_decoder"); it != cfg->end() && it->is_object()) {
            for (const auto& [key, t] : it->items()) {
                int64_t id = -1;
                try {
                    id = std::stoll(key);
                } catch (const std::exception&) {
                    json_error(cpath, fmt::format("added_tokens_decoder key '{}' is not an id", key));
                }
                if (id < 0 || id >= n) continue;  // beyond the model: llama.cpp ignores it too
                if (!t.is_object() || !t.contains("content") || !t["content"].is_string())
                    json_error(cpath, fmt::format("added_tokens_decoder[{}] has no content", key));
                std::string text = t["content"].get<std::string>();
                auto i = static_cast<size_t>(id);
                if (t.value("special", false) || looks_special(text)) {
                    v.token_types[i] = static_cast<int32_t>(TokenType::Control);
                } else {
                    std::string unescaped;  // user-defined text is stored with real spaces
                    for (size_t k = 0; k < text.size();) {
                        if (text.compare(k, 3, "\xE2\x96\x81") == 0) { unescaped += ' '; k += 3; }
                        else unescaped += text[k++];
                    }
                    text = unescaped;
                    v.token_types[i] = static_cast<int32_t>(TokenType::UserDefined);
                }
                v.scores[i] = -1000.0f;
                v.tokens[i] = text;
                if (t.value("lstrip", false)) v.lstrip_ids.push_back(static_cast<int32_t>(id));
                if (t.value("rstrip", false)) v.rstrip_ids.push_back(static_cast<int32_t>(id));
            }
        }
        std::map<std::string, int32_t> by_text;
        for (int32_t id = n - 1; id >= 0; --id) by_text[v.tokens[static_cast<size_t>(id)]] = id;
        apply_config(v, *cfg, cpath, by_text);
    }
    return v;
}

}  // namespace

Vocab vocab_from_hf_dir(const fs::path& dir) {
    if (!fs::is_directory(dir)) fail("{}: not a directory", dir.string());
    std::optional<json> cfg;
    if (fs::exists(dir / "tokenizer_config.json")) {
        cfg = parse_json(dir / "tokenizer_config.json");
        if (!cfg->is_object()) json_error(dir / "tokenizer_config.json", "not a JSON object");
    }
    if (fs::exists(dir / "tokenizer.json")) return import_tokenizer_json(dir, cfg ? &*cfg : nullptr);
    if (fs::exists(dir / "tokenizer.model")) return import_tokenizer_model(dir, cfg ? &*cfg : nullptr);
    fail("{}: no tokenizer.json or tokenizer.model", dir.string());
}

}  // namespace r1::tokenizer
