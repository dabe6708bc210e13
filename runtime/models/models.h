// Opening a model file: reads general.architecture and hands the file to its family.
#pragma once

#include <filesystem>
#include <memory>
#include <vector>

#include "runtime/model/model.h"

namespace r1 {

// Maps the GGUF file (no copy), checks every key and tensor, binds it to the backend.
// Throws r1::Error naming the file and the problem (RELIABILITY.md §4.2).
std::unique_ptr<Model> load_model(const std::filesystem::path& path, const BackendOptions& backend);

// Family loaders (one file each); `file` is already open and its architecture read.
std::unique_ptr<Model> load_dense(std::unique_ptr<gguf::File> file, std::vector<std::unique_ptr<Backend>> backends,
                                  const std::string& arch);
std::unique_ptr<Model> load_deepseek2(std::unique_ptr<gguf::File> file, std::vector<std::unique_ptr<Backend>> backends);

}  // namespace r1
