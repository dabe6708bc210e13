// Chat templates for the runtime: compile a model's Jinja2 chat template once, render
// conversations byte-identically to Hugging Face's apply_chat_template, find a model's
// template (HF folder or GGUF, with built-in R1/ChatML fallbacks) and tell whether a
// rendered prompt leaves the reply inside an open <think> block.
#pragma once

#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "runtime/chat/error.h"

namespace r1::chat {

struct Template;

// One message, for callers that do not hold JSON. `tool_calls` is null or the OpenAI-style
// list ({type, function: {name, arguments}}); it is left out of the JSON when null.
struct ChatMessage {
    std::string role, content;
    std::optional<std::string> reasoning_content;
    nlohmann::ordered_json tool_calls;
};
// The message list as templates see it: [{role, content[, reasoning_content][, tool_calls]}].
nlohmann::ordered_json to_json(const std::vector<ChatMessage>& messages);

class ChatTemplate {
public:
    // Parses `source` (TemplateError with line/column on syntax errors or an oversized text).
    static ChatTemplate from_source(std::string source, std::string bos_token, std::string eos_token,
                                    const Limits& limits = {});

    // Renders like transformers' apply_chat_template: variables `messages`, `tools` (null
    // unless given), `documents` (null), `add_generation_prompt`, `bos_token`, `eos_token`,
    // then every key of `extra_kwargs` (an object, e.g. {"enable_thinking": false}).
    // Messages are passed as JSON so any field a template reads (name, tool_call_id, ...) is
    // there; ordered_json keeps key order for `tojson`. Throws TemplateError.
    std::string apply(const nlohmann::ordered_json& messages, bool add_generation_prompt,
                      const nlohmann::ordered_json& extra_kwargs = nlohmann::ordered_json::object(),
                      const nlohmann::ordered_json& tools = nullptr) const;
    // Same for nlohmann::json input (object keys then reach `tojson` sorted).
    std::string apply(const nlohmann::json& messages, bool add_generation_prompt,
                      const nlohmann::json& extra_kwargs = nlohmann::json::object(),
                      const nlohmann::json& tools = nullptr) const;
    std::string apply(const std::vector<ChatMessage>& messages, bool add_generation_prompt,
                      const nlohmann::ordered_json& extra_kwargs = nlohmann::ordered_json::object()) const;

    const std::string& source() const { return source_; }
    const std::string& bos_token() const { return bos_; }
    const std::string& eos_token() const { return eos_; }

private:
    std::shared_ptr<const Template> tpl_;
    std::string source_, bos_, eos_;
    Limits limits_;
};

// Built-in templates for a model without one, chosen from its special tokens: the R1 format
// (DeepSeek-R1 and its Qwen/Llama distills: `<｜User｜>`, `<｜Assistant｜>`) or ChatML
// (`<|im_start|>`). Returns the template text; throws r1::Error when neither is present.
std::string fallback_template_for(const std::vector<std::string>& special_tokens);
std::string_view r1_fallback_template();
std::string_view chatml_fallback_template();

// Where a model's template came from and the token texts it is rendered with.
struct ModelTemplate {
    std::string source;
    std::string bos_token, eos_token;
    std::string origin;  // "tokenizer_config.json", "chat_template.jinja", "GGUF", "fallback (R1)" ...
};
// A Hugging Face folder (chat_template.jinja or tokenizer_config.json's chat_template, the
// string or the list-of-named-templates form) or a GGUF file (tokenizer.chat_template, bos/eos
// texts from tokenizer.ggml.tokens). Falls back to the built-ins when there is no template.
ModelTemplate load_model_template(const std::filesystem::path& file_or_dir);

// True when the rendered prompt ends inside an open reasoning block (its last non-whitespace
// text is `<think>`, as after R1's generation prompt `<｜Assistant｜><think>\n`): the reply
// then starts with reasoning and the parser must treat `<think>` as already open.
bool prompt_ends_in_reasoning(std::string_view rendered);

}  // namespace r1::chat
