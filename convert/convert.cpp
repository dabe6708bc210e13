// The two conversion commands: plan (validate everything), declare the GGUF, stream tensors.
#include "convert/convert.h"

#include <fmt/format.h>

#include "convert/checkpoint.h"
#include "convert/plan.h"
#include "convert/stream.h"
#include "convert/tokenizer_step.h"

namespace r1::convert {

namespace fs = std::filesystem;

void check_output_path(const ConvertOptions& o) {
    if (o.output.empty()) fail("no output file given (-o OUT.gguf)");
    std::error_code ec;
    auto st = fs::status(o.output, ec);
    if (fs::is_directory(st)) fail("{}: output path is a directory", o.output.string());
    // Only a regular file is overwritten (a device, FIFO or /dev/stdout is written through).
    if (fs::is_regular_file(st) && !o.force) fail("{}: already exists (--force overwrites it)", o.output.string());
    fs::path parent = o.output.parent_path();
    if (parent.empty()) parent = ".";
    if (!fs::is_directory(parent, ec)) fail("{}: directory {} does not exist", o.output.string(), parent.string());
    if (fs::exists(o.input, ec) && fs::exists(st) && fs::equivalent(o.input, o.output, ec))
        fail("{}: output would overwrite the input", o.output.string());
}

namespace {

std::string model_name(const Checkpoint& ck) {
    const auto& c = ck.config();
    auto it = c.find("_name_or_path");
    std::string n;
    if (it != c.end() && it->is_string()) n = fs::path(it->get<std::string>()).filename().string();
    if (n.empty()) n = ck.dir().lexically_normal().filename().string();
    if (n.empty()) n = ck.dir().lexically_normal().parent_path().filename().string();
    return n;
}

// Recommended sampling from generation_config.json (general.sampling.*), when given.
void add_sampling(const Checkpoint& ck, gguf::Writer& w) {
    nlohmann::json g = ck.read_json_if_exists("generation_config.json");
    if (!g.is_object()) return;
    if (g.contains("temperature") && g["temperature"].is_number())
        w.set("general.sampling.temp", static_cast<float>(g["temperature"].get<double>()));
    if (g.contains("top_p") && g["top_p"].is_number())
        w.set("general.sampling.top_p", static_cast<float>(g["top_p"].get<double>()));
    if (g.contains("top_k") && g["top_k"].is_number_integer())
        w.set("general.sampling.top_k", static_cast<int32_t>(g["top_k"].get<int64_t>()));
}

}  // namespace

void convert_checkpoint(const ConvertOptions& o) {
    check_output_path(o);
    Checkpoint ck(o.input);
    Plan plan;
    try {
        plan = build_plan(ck);
    } catch (const nlohmann::json::exception& e) {
        fail("{}: config.json: {}", ck.dir().string(), e.what());
    }
    check_hparams(plan, (ck.dir() / "config.json").string());
    std::vector<TypeQuery> queries;
    for (const auto& t : plan.tensors) queries.push_back({t.name, t.ne, t.layer});
    std::vector<GgmlType> types = choose_types(queries, o.mix, o.pure, plan.n_layer, plan.n_expert);

    gguf::Writer w(o.output);
    w.set("general.architecture", plan.arch);
    w.set("general.type", std::string("model"));
    w.set("general.name", model_name(ck));
    for (auto& [k, v] : plan.metadata) w.set(k, v);
    w.set("general.file_type", mix_file_type(o.mix));
    w.set("general.quantization_version", uint32_t{2});
    add_sampling(ck, w);
    add_tokenizer(ck, w, plan.n_vocab);  // validates the vocabulary against vocab_size

    std::vector<StreamTensor> stream;
    uint64_t total = 0;
    for (size_t i = 0; i < plan.tensors.size(); ++i) {
        OutTensor& t = plan.tensors[i];
        w.add_tensor(t.name, types[i], t.ne);
        stream.push_back({.name = t.name, .type = types[i], .row_length = t.ne[0], .n_rows = t.n_rows(),
                          .row_align = t.row_align, .source_bytes = t.source_bytes, .produce = std::move(t.produce)});
        total += t.source_bytes;
    }
    Progress progress(stream.size(), total, o.quiet);
    stream_tensors(w, stream, o.threads > 0 ? o.threads : default_threads(), progress);
    w.finish();
    std::error_code ec;
    auto size = fs::file_size(o.output, ec);
    progress.finish(fmt::format("convert: wrote {} ({} tensors, {:.1f} MB, {})", o.output.string(), stream.size(),
                                size / 1e6, mix_name(o.mix)));
}

}  // namespace r1::convert
