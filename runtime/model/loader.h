// Reading a model's GGUF description with every check of RELIABILITY.md §4.2: typed,
// range-checked hyper-parameters (M02-M04, runtime/hparams) and tensors checked by name, shape
// and type against them (M05, M06). Families use these; they never read the file directly.
#pragma once

#include <cstdint>
#include <set>
#include <string>
#include <vector>

#include "backends/backend.h"
#include "runtime/gguf/gguf.h"
#include "runtime/hparams/hparams.h"
#include "runtime/model/placement.h"

namespace r1 {

// Checks each tensor by name, shape and type, and hands it to the backend the placement gives
// it (by name: a layer's, the routed experts', the input's or the output's), after checking
// that backend has the op for the type; remembers which were used. Files pages of tensors no
// backend reads in place are released by release_copied() once every weight is loaded.
class TensorLoader {
public:
    // Resolves the placement for n_layer layers and checks every backend's weight capacity
    // before any weight is loaded (Placement::check_capacity).
    TensorLoader(const gguf::File& file, Placement& placement, int32_t n_layer);
    // W (n_out, n_in): ggml ne {n_in, n_out}, a type the backend multiplies by (M05, M06).
    Tensor matrix(const std::string& name, int64_t n_out, int64_t n_in);
    // A stack of n_mat matrices (n_out, n_in): ne {n_in, n_out, n_mat} (experts, per-head
    // products); `op` is Matmul or MatmulId.
    Tensor stack(const std::string& name, int64_t n_in, int64_t n_out, int64_t n_mat, Op op);
    // A table of n_rows rows of n elements read with get_rows (token embeddings).
    Tensor rows(const std::string& name, int64_t n_rows, int64_t n);
    // A 1-D float vector of n elements (F32, F16 or BF16 in the file; F32 on the backend).
    Tensor vector(const std::string& name, int64_t n);
    // The same vector as host floats, for tables the host computes (RoPE frequency factors).
    std::vector<float> host_vector(const std::string& name, int64_t n);
    bool has(const std::string& name) const { return f_.find_tensor(name) != nullptr; }
    // A tensor checked by name and shape (ne, ggml order) whose file bytes the family
    // rearranges on the host before handing the result to derived() (a legacy layout split
    // at load). Counts as used.
    const gguf::TensorInfo& raw(const std::string& name, std::initializer_list<int64_t> ne);
    // A weight the family computed on the host: `data` holds contiguous rows of `type`, shape
    // ne; the backend copies it (the caller may free `data` afterwards).
    Tensor derived(const std::string& name, GgmlType type, std::initializer_list<int64_t> ne, const void* data,
                   WeightUse use);
    // Warns on stderr about tensors no family asked for (M05 "extras warned about").
    void warn_unused() const;
    // Drops the file's pages of tensors that every backend copied (repacked or uploaded).
    void release_copied();

private:
    const gguf::TensorInfo& find(const std::string& name);
    // The backend of t used as `use`, failing unless it runs `op` on t's type.
    Backend& backend_for(const gguf::TensorInfo& t, WeightUse use, Op op) const;
    Tensor load(const gguf::TensorInfo& t, Backend& be, WeightUse use);
    const gguf::File& f_;
    const Placement& placement_;
    std::set<std::string> used_;
    std::set<const void*> read_in_place_;
    std::vector<const gguf::TensorInfo*> copied_;
};

}  // namespace r1
