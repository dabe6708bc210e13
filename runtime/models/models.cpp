// load_model: architecture dispatch (M01) onto the placement's backends.
#include "runtime/models/models.h"

#include "core/error.h"

namespace r1 {
namespace {

std::unique_ptr<Model> load(std::unique_ptr<gguf::File> file, Placement placement) {
    const gguf::Value* a = file->find("general.architecture");
    if (!a) fail("{}: missing key 'general.architecture'", file->source());
    if (a->type() != gguf::ValueType::STRING)
        fail("{}: key 'general.architecture': expected string, got {}", file->source(),
             gguf::value_type_name(a->type()));
    const std::string arch = std::get<std::string>(a->v);
    if (arch == "llama" || arch == "qwen2") return load_dense(std::move(file), std::move(placement), arch);
    if (arch == "deepseek2") return load_deepseek2(std::move(file), std::move(placement));
    fail("{}: unsupported architecture '{}' (supported: llama, qwen2, deepseek2)", file->source(), arch);
}

}  // namespace

std::unique_ptr<Model> load_model(const std::filesystem::path& path, const PlacementOptions& options) {
    // The file first: a missing or malformed file is reported before any device is opened.
    auto file = gguf::File::open(path);
    return load(std::move(file), Placement::create(options));
}

std::unique_ptr<Model> load_model(const std::filesystem::path& path, const BackendOptions& backend) {
    return load_model(path, PlacementOptions{.backend = backend});
}

std::unique_ptr<Model> load_model(const std::filesystem::path& path, Placement placement) {
    return load(gguf::File::open(path), std::move(placement));
}

}  // namespace r1
