// load_model: architecture dispatch (M01).
#include "runtime/models/models.h"

#include "core/error.h"

namespace r1 {

std::unique_ptr<Model> load_model(const std::filesystem::path& path, const BackendOptions& backend_options) {
    auto file = gguf::File::open(path);
    const gguf::Value* a = file->find("general.architecture");
    if (!a) fail("{}: missing key 'general.architecture'", file->source());
    if (a->type() != gguf::ValueType::STRING)
        fail("{}: key 'general.architecture': expected string, got {}", file->source(),
             gguf::value_type_name(a->type()));
    const std::string arch = std::get<std::string>(a->v);
    std::vector<std::unique_ptr<Backend>> backends;
    backends.push_back(create_backend(backend_options));
    if (arch == "llama" || arch == "qwen2") return load_dense(std::move(file), std::move(backends), arch);
    if (arch == "deepseek2") return load_deepseek2(std::move(file), std::move(backends));
    fail("{}: unsupported architecture '{}' (supported: llama, qwen2, deepseek2)", file->source(), arch);
}

}  // namespace r1
