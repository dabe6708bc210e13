// libFuzzer target for the chat template engine: any bytes must parse and render within the
// limits or raise TemplateError; never crash, hang or exhaust memory (RELIABILITY.md M07).
#include <cstddef>
#include <cstdint>
#include <string>

#include "runtime/chat/chat.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    static const auto messages = nlohmann::ordered_json::parse(
        R"([{"role":"system","content":"s"},{"role":"user","content":"hi"},)"
        R"({"role":"assistant","content":"<think>r</think>ok","tool_calls":[{"type":"function",)"
        R"("function":{"name":"f","arguments":{"a":1}}}]},{"role":"tool","content":"42"}])");
    r1::chat::Limits limits;
    limits.max_steps = 100000;
    limits.max_output_bytes = 1u << 20;
    limits.max_list_items = 1u << 16;
    try {
        auto t = r1::chat::ChatTemplate::from_source(std::string(reinterpret_cast<const char*>(data), size),
                                                     "<s>", "</s>", limits);
        (void)t.apply(messages, true, nlohmann::ordered_json{{"enable_thinking", false}});
    } catch (const r1::Error&) {
    }
    return 0;
}
