// `r1 info FILE.gguf [--json]`: architecture, hyper-parameters, tokenizer, tensors, file type.
#include <cstdio>
#include <iostream>
#include <memory>
#include <string>

#include "backends/backend.h"
#include "cli/commands.h"
#include "core/error.h"
#include "runtime/gguf/describe.h"
#include "runtime/gguf/gguf.h"

namespace r1::cli {
namespace {

struct InfoOptions {
    std::string path;
    bool json = false;
    bool all_tensors = false;
    bool devices = false;
};

// `r1 info --devices`: the CPU, then each GPU backend's devices in --device order, or why it
// has none (not built in, no driver). Listing never fails: a missing GPU is an answer.
void run_devices() {
    std::cout << fmt::format("cpu: {} hardware threads\n", resolve_threads(0));
    for (const char* name : {"vulkan", "cuda"}) {
        try {
            const std::vector<std::string> lines = list_devices(name);
            if (lines.empty()) std::cout << fmt::format("{}: no devices\n", name);
            for (const std::string& l : lines) std::cout << fmt::format("{} {}\n", name, l);
        } catch (const Error& e) {
            std::cout << fmt::format("{}: none ({})\n", name, e.what());
        }
    }
}

std::string shape_string(const gguf::TensorInfo& t) {
    std::string s = "[";
    for (uint32_t d = 0; d < t.n_dims; ++d) s += fmt::format("{}{}", d ? ", " : "", t.ne[d]);
    return s + "]";
}

std::string human_bytes(uint64_t b) {
    if (b >= (1ull << 30)) return fmt::format("{:.2f} GiB", b / double(1ull << 30));
    if (b >= (1ull << 20)) return fmt::format("{:.2f} MiB", b / double(1ull << 20));
    if (b >= (1ull << 10)) return fmt::format("{:.2f} KiB", b / double(1ull << 10));
    return fmt::format("{} B", b);
}

std::string human_count(uint64_t n) {
    if (n >= 1'000'000'000) return fmt::format("{:.2f} B", n / 1e9);
    if (n >= 1'000'000) return fmt::format("{:.2f} M", n / 1e6);
    if (n >= 1'000) return fmt::format("{:.2f} K", n / 1e3);
    return std::to_string(n);
}

void run_info(const InfoOptions& o) {
    auto f = gguf::File::open(o.path);
    std::string arch;
    if (const gguf::Value* a = f->find("general.architecture"); a && a->type() == gguf::ValueType::STRING)
        arch = std::get<std::string>(a->v);
    uint64_t n_params = 0, n_bytes = 0;
    for (const auto& t : f->tensors()) {
        n_params += static_cast<uint64_t>(t.n_elements());
        n_bytes += t.n_bytes;
    }
    std::string ftype = gguf::file_type_summary(*f);
    if (f->trailing_bytes() > 0)
        std::fprintf(stderr, "r1: warning: %s: %llu bytes of trailing data after the last tensor\n",
                     o.path.c_str(), static_cast<unsigned long long>(f->trailing_bytes()));

    if (o.json) {
        nlohmann::json j;
        j["file"] = o.path;
        j["version"] = f->version();
        j["architecture"] = arch.empty() ? nlohmann::json(nullptr) : nlohmann::json(arch);
        nlohmann::json meta = nlohmann::json::object();
        for (const auto& [k, v] : f->metadata()) meta[k] = gguf::to_json(v);
        j["metadata"] = std::move(meta);
        nlohmann::json tensors = nlohmann::json::array();
        for (const auto& t : f->tensors()) {
            nlohmann::json shape = nlohmann::json::array();
            for (uint32_t d = 0; d < t.n_dims; ++d) shape.push_back(t.ne[d]);
            tensors.push_back({{"name", t.name},
                               {"type", type_traits(t.type).name},
                               {"shape", shape},
                               {"offset", t.offset},
                               {"bytes", t.n_bytes}});
        }
        j["tensors"] = std::move(tensors);
        j["file_type"] = ftype;
        j["n_params"] = n_params;
        j["n_bytes"] = n_bytes;
        j["file_size"] = f->file_size();
        std::cout << j.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) << "\n";
        return;
    }

    std::cout << fmt::format("file:          {} ({}, GGUF v{}, alignment {})\n", o.path,
                             human_bytes(f->file_size()), f->version(), f->alignment());
    std::cout << fmt::format("architecture:  {}\n", arch.empty() ? "(missing)" : arch);
    if (const gguf::Value* n = f->find("general.name")) std::cout << fmt::format("name:          {}\n", gguf::to_display(*n));
    std::cout << fmt::format("file type:     {}\n", ftype);
    std::cout << fmt::format("parameters:    {} ({})\n", human_count(n_params), n_params);
    std::cout << fmt::format("tensor data:   {} ({} bytes, {:.2f} bits/weight)\n", human_bytes(n_bytes), n_bytes,
                             n_params ? 8.0 * n_bytes / n_params : 0.0);

    std::string prefix = arch + ".";
    if (!arch.empty()) {
        std::cout << "hyper-parameters:\n";
        for (const auto& [k, v] : f->metadata())
            if (k.starts_with(prefix)) std::cout << fmt::format("  {:<40} {}\n", k.substr(prefix.size()), gguf::to_display(v));
    }
    bool has_tok = false;
    for (const auto& [k, v] : f->metadata()) has_tok |= k.starts_with("tokenizer.");
    if (has_tok) {
        std::cout << "tokenizer:\n";
        for (const auto& [k, v] : f->metadata()) {
            if (!k.starts_with("tokenizer.")) continue;
            std::string shown = gguf::to_display(v, 60);
            if (v.type() == gguf::ValueType::STRING && std::get<std::string>(v.v).size() > 60)
                shown = fmt::format("({} bytes)", std::get<std::string>(v.v).size());
            std::cout << fmt::format("  {:<40} {}\n", k.substr(10), shown);
        }
    }
    std::cout << "other metadata:\n";
    for (const auto& [k, v] : f->metadata())
        if (!(!arch.empty() && k.starts_with(prefix)) && !k.starts_with("tokenizer."))
            std::cout << fmt::format("  {:<40} {}\n", k, gguf::to_display(v));

    const auto& ts = f->tensors();
    std::cout << fmt::format("tensors ({}):\n", ts.size());
    std::cout << fmt::format("  {:<40} {:<8} {:<24} {:>12}\n", "name", "type", "shape (ne)", "bytes");
    size_t shown = 0;
    for (const auto& t : ts) {
        // Without --all, repeated blocks beyond the first two are summarised.
        if (!o.all_tensors && t.name.starts_with("blk.") && !t.name.starts_with("blk.0.") &&
            !t.name.starts_with("blk.1.") && t.name.find("blk.", 0) == 0) {
            continue;
        }
        std::cout << fmt::format("  {:<40} {:<8} {:<24} {:>12}\n", t.name, type_traits(t.type).name,
                                 shape_string(t), t.n_bytes);
        ++shown;
    }
    if (shown < ts.size()) std::cout << fmt::format("  ... {} more in later blocks (--all shows them)\n", ts.size() - shown);
}

}  // namespace

void add_info(CLI::App& app) {
    auto o = std::make_shared<InfoOptions>();
    CLI::App* sub = app.add_subcommand("info", "Show a GGUF file's architecture, hyper-parameters, tokenizer and tensors");
    sub->add_option("file", o->path, "GGUF file");
    sub->add_flag("--devices", o->devices, "List the backends' devices (the --device indices) instead");
    sub->add_flag("--json", o->json, "Print one JSON object");
    sub->add_flag("--all", o->all_tensors, "List every tensor (the default summarises repeated blocks)");
    sub->callback([o] {
        if (o->devices) return run_devices();
        if (o->path.empty()) fail("info: a GGUF file is required (or --devices)");
        run_info(*o);
    });
}

R1_COMMAND(80, add_info);

}  // namespace r1::cli
