// `r1 template -m FILE_OR_DIR --messages FILE.json [--add-generation-prompt] [--kwargs JSON]`:
// renders the model's chat template (GGUF or Hugging Face folder) for a message list and prints
// the exact text, no trailing newline. `--show` prints the template source and where it came from.
#include <cstdio>
#include <iostream>
#include <memory>
#include <string>

#include "cli/commands.h"
#include "core/files.h"
#include "core/json.h"
#include "runtime/chat/chat.h"

namespace r1::cli {
namespace {

struct TemplateOptions {
    std::string model;
    std::string messages;
    std::string kwargs;
    std::string tools;
    bool add_generation_prompt = false;
    bool show = false;
};

void run_template(const TemplateOptions& o) {
    chat::ModelTemplate mt = chat::load_model_template(o.model);
    if (o.show) {
        std::fprintf(stderr, "template from %s (bos %s, eos %s)\n", mt.origin.c_str(),
                     mt.bos_token.empty() ? "(none)" : mt.bos_token.c_str(),
                     mt.eos_token.empty() ? "(none)" : mt.eos_token.c_str());
        std::cout << mt.source;
        return;
    }
    if (o.messages.empty()) fail("r1 template: --messages FILE.json is required (or --show)");
    if (o.messages == "-" && o.tools == "-") fail("--messages - and --tools -: only one of them can read standard input");
    auto messages = parse_ordered_json(read_input_file(o.messages, kMaxMessagesBytes, "--messages", true), "--messages " + o.messages);
    if (!messages.is_array()) fail("--messages {}: expected a JSON list of messages", o.messages);
    for (const auto& m : messages)
        if (!m.is_object()) fail("--messages {}: every message must be a JSON object", o.messages);
    if (o.kwargs.size() > kMaxMessagesBytes)
        fail("--kwargs: {} bytes, larger than the {} limit for this input", o.kwargs.size(), size_text(kMaxMessagesBytes));
    auto kwargs = o.kwargs.empty() ? nlohmann::ordered_json::object() : parse_ordered_json(o.kwargs, "--kwargs");
    if (!kwargs.is_object()) fail("--kwargs: expected a JSON object");
    nlohmann::ordered_json tools = nullptr;
    if (!o.tools.empty()) tools = parse_ordered_json(read_input_file(o.tools, kMaxMessagesBytes, "--tools", true), "--tools " + o.tools);
    auto tpl = chat::ChatTemplate::from_source(mt.source, mt.bos_token, mt.eos_token);
    std::string text = tpl.apply(messages, o.add_generation_prompt, kwargs, tools);
    std::cout << text << std::flush;
}

}  // namespace

void add_template(CLI::App& app) {
    auto o = std::make_shared<TemplateOptions>();
    CLI::App* sub = app.add_subcommand("template", "Render a model's chat template for a list of messages");
    sub->add_option("-m,--model", o->model, "GGUF file or Hugging Face folder")->required();
    sub->add_option("--messages", o->messages, "File holding a JSON list of {role, content, ...} (- for stdin; at most 16 MiB)");
    sub->add_flag("--add-generation-prompt", o->add_generation_prompt, "Append the assistant turn opening");
    sub->add_option("--kwargs", o->kwargs, "JSON object (text, not a file) of extra template variables, e.g. '{\"enable_thinking\": false}'");
    sub->add_option("--tools", o->tools, "File holding a JSON list of tool definitions (- for stdin; at most 16 MiB)");
    sub->add_flag("--show", o->show, "Print the template source instead of rendering");
    sub->callback([o] { run_template(*o); });
}

R1_COMMAND(40, add_template);

}  // namespace r1::cli
