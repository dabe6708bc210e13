// ChatTemplate (parse once, render many), the built-in R1/ChatML templates, finding a model's
// template in a Hugging Face folder or a GGUF file, and the reasoning-start signal.
#include "runtime/chat/chat.h"

#include <fmt/format.h>

#include "core/files.h"
#include "core/json.h"
#include "runtime/chat/ast.h"
#include "runtime/chat/interp.h"
#include "runtime/gguf/gguf.h"

namespace r1::chat {

nlohmann::ordered_json to_json(const std::vector<ChatMessage>& messages) {
    auto out = nlohmann::ordered_json::array();
    for (const auto& m : messages) {
        nlohmann::ordered_json j;
        j["role"] = m.role;
        j["content"] = m.content;
        if (m.reasoning_content) j["reasoning_content"] = *m.reasoning_content;
        if (!m.tool_calls.is_null()) j["tool_calls"] = m.tool_calls;
        out.push_back(std::move(j));
    }
    return out;
}

ChatTemplate ChatTemplate::from_source(std::string source, std::string bos_token, std::string eos_token,
                                       const Limits& limits) {
    ChatTemplate t;
    t.tpl_ = std::make_shared<const Template>(parse(source, limits));
    t.source_ = std::move(source);
    t.bos_ = std::move(bos_token);
    t.eos_ = std::move(eos_token);
    t.limits_ = limits;
    return t;
}

std::string ChatTemplate::apply(const nlohmann::ordered_json& messages, bool add_generation_prompt,
                                const nlohmann::ordered_json& extra_kwargs,
                                const nlohmann::ordered_json& tools) const {
    if (!tpl_) throw Error("chat template: apply() on an empty ChatTemplate");
    if (!messages.is_array()) throw Error("chat template: messages must be a JSON array");
    if (!extra_kwargs.is_null() && !extra_kwargs.is_object()) throw Error("chat template: extra kwargs must be a JSON object");
    Dict ctx;
    ctx.set("messages", from_json(messages));
    ctx.set("tools", from_json(tools));
    ctx.set("documents", Value::none());
    ctx.set("add_generation_prompt", Value::boolean(add_generation_prompt));
    ctx.set("bos_token", Value::string(bos_));
    ctx.set("eos_token", Value::string(eos_));
    if (extra_kwargs.is_object())
        for (const auto& [k, v] : extra_kwargs.items()) ctx.set(k, from_json(v));
    Interp in(limits_);
    return in.render(*tpl_, ctx);
}

std::string ChatTemplate::apply(const nlohmann::json& messages, bool add_generation_prompt,
                                const nlohmann::json& extra_kwargs, const nlohmann::json& tools) const {
    auto conv = [](const nlohmann::json& j) { return nlohmann::ordered_json::parse(j.dump()); };
    return apply(conv(messages), add_generation_prompt, conv(extra_kwargs), conv(tools));
}

std::string ChatTemplate::apply(const std::vector<ChatMessage>& messages, bool add_generation_prompt,
                                const nlohmann::ordered_json& extra_kwargs) const {
    return apply(to_json(messages), add_generation_prompt, extra_kwargs, nullptr);
}

// The R1 format of GGUF.md §4.4: BOS, the last system prompt, <｜User｜>/<｜Assistant｜> turns
// with earlier reasoning dropped, DeepSeek tool-call/tool-output markers, and the generation
// prompt `<｜Assistant｜><think>\n`.
std::string_view r1_fallback_template() {
    static const std::string kR1 = R"TPL({%- set ns = namespace(system='', in_tools=false) -%}
{%- for m in messages if m.role == 'system' -%}{%- set ns.system = m.content -%}{%- endfor -%}
{{- bos_token ~ ns.system -}}
{%- for m in messages -%}
  {%- if m.role == 'user' -%}
    {%- set ns.in_tools = false -%}
    {{- '<｜User｜>' ~ m.content -}}
  {%- elif m.role == 'assistant' -%}
    {%- set content = m.content if m.content is string else '' -%}
    {%- if '</think>' in content -%}{%- set content = content.split('</think>')[-1] -%}{%- endif -%}
    {%- if ns.in_tools -%}
      {{- '<｜tool▁outputs▁end｜>' -}}
      {%- set ns.in_tools = false -%}
    {%- else -%}
      {{- '<｜Assistant｜>' -}}
    {%- endif -%}
    {{- content -}}
    {%- if m.tool_calls -%}
      {{- '<｜tool▁calls▁begin｜>' -}}
      {%- for tc in m.tool_calls -%}
        {%- set f = tc.function if tc.function is defined else tc -%}
        {%- set args = f.arguments if f.arguments is string else f.arguments | tojson -%}
        {{- ('\n' if not loop.first else '') ~ '<｜tool▁call▁begin｜>' ~ (tc.type if tc.type is defined else 'function') ~ '<｜tool▁sep｜>' ~ f.name ~ '\n```json\n' ~ args ~ '\n```<｜tool▁call▁end｜>' -}}
      {%- endfor -%}
      {{- '<｜tool▁calls▁end｜>' -}}
    {%- endif -%}
    {{- '<｜end▁of▁sentence｜>' -}}
  {%- elif m.role == 'tool' -%}
    {%- if ns.in_tools -%}{{- '\n' -}}{%- else -%}{{- '<｜tool▁outputs▁begin｜>' -}}{%- set ns.in_tools = true -%}{%- endif -%}
    {{- '<｜tool▁output▁begin｜>' ~ m.content ~ '<｜tool▁output▁end｜>' -}}
  {%- endif -%}
{%- endfor -%}
{%- if ns.in_tools -%}{{- '<｜tool▁outputs▁end｜>' -}}{%- endif -%}
{%- if add_generation_prompt and not ns.in_tools -%}{{- '<｜Assistant｜><think>\n' -}}{%- endif -%}
)TPL";
    return kR1;
}

// Hugging Face's default ChatML template.
std::string_view chatml_fallback_template() {
    static const std::string kChatML = R"TPL({%- for message in messages -%}
{{- '<|im_start|>' + message['role'] + '\n' + message['content'] + '<|im_end|>' + '\n' -}}
{%- endfor -%}
{%- if add_generation_prompt -%}{{- '<|im_start|>assistant\n' -}}{%- endif -%}
)TPL";
    return kChatML;
}

std::string fallback_template_for(const std::vector<std::string>& special_tokens) {
    bool user = false, assistant = false, im_start = false;
    for (const auto& t : special_tokens) {
        user |= t == "<｜User｜>";
        assistant |= t == "<｜Assistant｜>";
        im_start |= t == "<|im_start|>";
    }
    if (user && assistant) return std::string(r1_fallback_template());
    if (im_start) return std::string(chatml_fallback_template());
    throw Error("no chat template, and the vocabulary has neither the R1 (<｜User｜>, <｜Assistant｜>) nor the ChatML (<|im_start|>) tokens");
}

bool prompt_ends_in_reasoning(std::string_view rendered) {
    size_t end = rendered.size();
    while (end > 0 && (rendered[end - 1] == ' ' || rendered[end - 1] == '\n' || rendered[end - 1] == '\t' || rendered[end - 1] == '\r'))
        --end;
    return rendered.substr(0, end).ends_with("<think>");
}

namespace {

// bos_token / eos_token in tokenizer_config.json: a string, an AddedToken object or null.
std::string token_text(const nlohmann::json& cfg, const char* key, const std::filesystem::path& where) {
    auto it = cfg.find(key);
    if (it == cfg.end() || it->is_null()) return {};
    if (it->is_string()) return it->get<std::string>();
    if (it->is_object() && it->contains("content") && (*it)["content"].is_string()) return (*it)["content"].get<std::string>();
    fail("{}: {} must be a string or an object with a string 'content'", where.string(), key);
}

ModelTemplate load_hf_folder(const std::filesystem::path& dir) {
    ModelTemplate t;
    auto cfg_path = dir / "tokenizer_config.json";
    nlohmann::json cfg = nlohmann::json::object();
    if (std::filesystem::exists(cfg_path)) {
        cfg = read_json_file(cfg_path.string(), kMaxConfigFileBytes);
        if (!cfg.is_object()) fail("{}: expected a JSON object", cfg_path.string());
        t.bos_token = token_text(cfg, "bos_token", cfg_path);
        t.eos_token = token_text(cfg, "eos_token", cfg_path);
    }
    if (std::filesystem::exists(dir / "chat_template.jinja")) {  // newer transformers save it apart
        t.source = read_input_file((dir / "chat_template.jinja").string(), kMaxTemplateFileBytes);
        t.origin = "chat_template.jinja";
        return t;
    }
    auto ct = cfg.find("chat_template");
    if (ct != cfg.end() && ct->is_string()) {
        t.source = ct->get<std::string>();
        t.origin = "tokenizer_config.json";
        return t;
    }
    if (ct != cfg.end() && ct->is_array()) {  // [{name, template}, ...]: "default" or the first
        const nlohmann::json* pick = nullptr;
        for (const auto& e : *ct) {
            if (!e.is_object() || !e.contains("template") || !e["template"].is_string())
                fail("{}: chat_template list entries need a string 'template'", cfg_path.string());
            if (!pick || (e.contains("name") && e["name"] == "default")) pick = &e;
        }
        if (pick) {
            t.source = (*pick)["template"].get<std::string>();
            t.origin = "tokenizer_config.json";
            return t;
        }
    }
    if (ct != cfg.end() && !ct->is_null() && !ct->is_array())
        fail("{}: chat_template must be a string or a list of named templates", cfg_path.string());
    std::vector<std::string> specials;
    if (auto at = cfg.find("added_tokens_decoder"); at != cfg.end() && at->is_object())
        for (const auto& [id, tok] : at->items())
            if (tok.is_object() && tok.contains("content") && tok["content"].is_string()) specials.push_back(tok["content"]);
    t.source = fallback_template_for(specials);
    t.origin = t.source == r1_fallback_template() ? "fallback (R1)" : "fallback (ChatML)";
    return t;
}

ModelTemplate load_gguf(const std::filesystem::path& path) {
    auto f = gguf::File::open(path);
    ModelTemplate t;
    const gguf::Array* tokens = nullptr;
    if (const gguf::Value* v = f->find("tokenizer.ggml.tokens")) {
        if (v->type() != gguf::ValueType::ARRAY) fail("{}: tokenizer.ggml.tokens is not an array", path.string());
        tokens = &std::get<gguf::Array>(v->v);
        if (tokens->elem_type != gguf::ValueType::STRING) fail("{}: tokenizer.ggml.tokens is not an array of strings", path.string());
    }
    auto token = [&](const char* key) -> std::string {
        if (!f->has(key)) return {};
        int64_t id = f->get_int(key);
        if (!tokens) fail("{}: {} is set but tokenizer.ggml.tokens is missing", path.string(), key);
        if (id < 0 || uint64_t(id) >= tokens->items.size())
            fail("{}: {} = {} is outside the vocabulary of {} tokens", path.string(), key, id, tokens->items.size());
        return std::get<std::string>(tokens->items[size_t(id)].v);
    };
    t.bos_token = token("tokenizer.ggml.bos_token_id");
    t.eos_token = token("tokenizer.ggml.eos_token_id");
    if (const gguf::Value* v = f->find("tokenizer.chat_template")) {
        if (v->type() != gguf::ValueType::STRING) fail("{}: tokenizer.chat_template is not a string", path.string());
        t.source = std::get<std::string>(v->v);
        t.origin = "GGUF tokenizer.chat_template";
        return t;
    }
    std::vector<std::string> specials;
    if (tokens)
        for (const auto& x : tokens->items) {
            const auto& s = std::get<std::string>(x.v);
            if (s.size() > 2 && s.front() == '<' && s.back() == '>') specials.push_back(s);
        }
    t.source = fallback_template_for(specials);
    t.origin = t.source == r1_fallback_template() ? "fallback (R1)" : "fallback (ChatML)";
    return t;
}

}  // namespace

ModelTemplate load_model_template(const std::filesystem::path& file_or_dir) {
    std::error_code ec;
    if (std::filesystem::is_directory(file_or_dir, ec)) return load_hf_folder(file_or_dir);
    if (!std::filesystem::exists(file_or_dir, ec)) fail("{}: no such file or directory", file_or_dir.string());
    if (file_or_dir.filename() == "tokenizer_config.json") return load_hf_folder(file_or_dir.parent_path());
    return load_gguf(file_or_dir);
}

}  // namespace r1::chat
