// Opening a model file: reads general.architecture and hands the file to its family.
#pragma once

#include <filesystem>
#include <memory>
#include <vector>

#include "runtime/model/model.h"

namespace r1 {

// Maps the GGUF file (no copy), checks every key and tensor, loads each weight onto the
// backend the placement gives it. Throws r1::Error naming the file and the problem
// (RELIABILITY.md §4.2), or the backend and how much it lacks (weight capacity, an op).
std::unique_ptr<Model> load_model(const std::filesystem::path& path, const PlacementOptions& options);
// Every layer on one backend.
std::unique_ptr<Model> load_model(const std::filesystem::path& path, const BackendOptions& backend);
// On backends the caller made (tests place layers on a second CPU instance).
std::unique_ptr<Model> load_model(const std::filesystem::path& path, Placement placement);

// Family loaders (one file each); `file` is already open and its architecture read.
std::unique_ptr<Model> load_dense(std::unique_ptr<gguf::File> file, Placement placement, const std::string& arch);
std::unique_ptr<Model> load_deepseek2(std::unique_ptr<gguf::File> file, Placement placement);

}  // namespace r1
