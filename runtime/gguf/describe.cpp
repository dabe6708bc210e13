// Views of GGUF metadata for `r1 info`; knows nothing about any architecture.
#include "runtime/gguf/describe.h"

#include <map>

namespace r1::gguf {

nlohmann::json to_json(const Value& v, size_t max_array) {
    return std::visit(
        [&](const auto& x) -> nlohmann::json {
            using T = std::decay_t<decltype(x)>;
            if constexpr (std::is_same_v<T, Array>) {
                if (x.items.size() > max_array)
                    return {{"type", fmt::format("array[{}]", value_type_name(x.elem_type))},
                            {"length", x.items.size()}};
                nlohmann::json a = nlohmann::json::array();
                for (const Value& e : x.items) a.push_back(to_json(e, max_array));
                return a;
            } else if constexpr (std::is_same_v<T, uint8_t> || std::is_same_v<T, uint16_t> ||
                                 std::is_same_v<T, uint32_t> || std::is_same_v<T, uint64_t>) {
                return static_cast<uint64_t>(x);
            } else if constexpr (std::is_same_v<T, int8_t> || std::is_same_v<T, int16_t> ||
                                 std::is_same_v<T, int32_t> || std::is_same_v<T, int64_t>) {
                return static_cast<int64_t>(x);
            } else {
                return x;
            }
        },
        v.v);
}

namespace {

std::string shorten(const std::string& s, size_t max_chars) {
    std::string out;
    for (char c : s) {
        if (c == '\n') out += "\\n";
        else if (c == '\t') out += "\\t";
        else if (static_cast<unsigned char>(c) < 0x20) out += fmt::format("\\x{:02x}", c);
        else out += c;
    }
    if (out.size() > max_chars) {
        size_t cut = max_chars;
        while (cut > 0 && (static_cast<unsigned char>(out[cut]) & 0xC0) == 0x80) --cut;  // UTF-8 boundary
        out.resize(cut);
        out += fmt::format("... ({} bytes)", s.size());
    }
    return out;
}

}  // namespace

std::string to_display(const Value& v, size_t max_chars) {
    return std::visit(
        [&](const auto& x) -> std::string {
            using T = std::decay_t<decltype(x)>;
            if constexpr (std::is_same_v<T, Array>) {
                if (x.items.size() > 8)
                    return fmt::format("[{} x {}]", value_type_name(x.elem_type), x.items.size());
                std::string s = "[";
                for (size_t i = 0; i < x.items.size(); ++i) {
                    if (i) s += ", ";
                    s += to_display(x.items[i], 24);
                }
                return s + "]";
            } else if constexpr (std::is_same_v<T, std::string>) {
                return fmt::format("\"{}\"", shorten(x, max_chars));
            } else if constexpr (std::is_same_v<T, bool>) {
                return x ? "true" : "false";
            } else if constexpr (std::is_same_v<T, uint8_t> || std::is_same_v<T, int8_t>) {
                return std::to_string(static_cast<int>(x));
            } else {
                return fmt::format("{}", x);
            }
        },
        v.v);
}

std::string file_type_summary(const File& f) {
    if (const Value* v = f.find("general.file_type")) {
        if (v->type() == ValueType::U32 || v->type() == ValueType::I32) {
            int64_t id = f.get_int("general.file_type");
            const char* name = id >= 0 ? file_type_name(static_cast<uint32_t>(id)) : nullptr;
            return name ? std::string(name) : fmt::format("unknown ({})", id);
        }
    }
    std::map<std::string_view, uint64_t> bytes_by_type;
    for (const TensorInfo& t : f.tensors())
        if (t.n_dims >= 2) bytes_by_type[type_traits(t.type).name] += t.n_bytes;
    if (bytes_by_type.empty()) return "unknown";
    auto best = bytes_by_type.begin();
    for (auto it = bytes_by_type.begin(); it != bytes_by_type.end(); ++it)
        if (it->second > best->second) best = it;
    std::string name(best->first);
    for (char& c : name) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    return name + " (guessed)";
}

}  // namespace r1::gguf
