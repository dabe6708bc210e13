// TensorLoader: every tensor shape and type checked before a kernel sees it, each error naming
// the file and tensor and what is wrong.
#include "runtime/model/loader.h"

#include <cmath>
#include <cstdio>

#include "core/error.h"
#include "quant/fp16.h"

namespace r1 {
namespace {

std::string shape_str(const gguf::TensorInfo& t) {
    std::string s = "(";
    for (uint32_t d = t.n_dims; d-- > 0;) s += fmt::format("{}{}", t.ne[d], d ? ", " : "");
    return s + ")";
}

}  // namespace

const gguf::TensorInfo& TensorLoader::find(const std::string& name) {
    const gguf::TensorInfo* t = f_.find_tensor(name);
    if (!t) fail("{}: missing tensor '{}'", f_.source(), name);
    used_.insert(name);
    return *t;
}

TensorLoader::TensorLoader(const gguf::File& file, Placement& placement, int32_t n_layer)
    : f_(file), placement_(placement) {
    placement.resolve(n_layer);
    placement.check_capacity(file);
}

Backend& TensorLoader::backend_for(const gguf::TensorInfo& t, WeightUse use, Op op) const {
    Backend& be = placement_.for_tensor(t.name, use);
    if (!be.supports(op, t.type))
        fail("{}: tensor '{}': {} on type {} is not supported by the {} backend", f_.source(), t.name, op_name(op),
             type_traits(t.type).name, be.name());
    return be;
}

Tensor TensorLoader::load(const gguf::TensorInfo& t, Backend& be, WeightUse use) {
    WeightSource src;
    src.name = t.name;
    src.type = t.type;
    src.data = t.data;
    src.persistent = true;
    src.use = use;
    for (int d = 0; d < Tensor::kDims; ++d) src.ne[d] = t.ne[size_t(d)];
    LoadedWeight w = be.load_weight(src);
    if (w.reads_source) read_in_place_.insert(t.data);
    else copied_.push_back(&t);
    return w.tensor;
}

const gguf::TensorInfo& TensorLoader::raw(const std::string& name, std::initializer_list<int64_t> ne) {
    const gguf::TensorInfo& t = find(name);
    bool ok = t.n_dims == ne.size();
    size_t d = 0;
    for (int64_t n : ne) ok = ok && t.ne[d++] == n;
    if (!ok) {
        std::string want = "(";
        for (size_t i = ne.size(); i-- > 0;) want += fmt::format("{}{}", ne.begin()[i], i ? ", " : "");
        fail("{}: tensor '{}': expected shape {}), got {}", f_.source(), name, want, shape_str(t));
    }
    return t;
}

Tensor TensorLoader::derived(const std::string& name, GgmlType type, std::initializer_list<int64_t> ne,
                             const void* data, WeightUse use) {
    WeightSource src;
    src.name = name;
    src.type = type;
    src.data = data;
    src.persistent = false;
    src.use = use;
    int d = 0;
    for (int64_t n : ne) src.ne[d++] = n;
    Backend& be = placement_.for_tensor(name, use);  // "blk.N. ..." names place it with layer N
    if (use == WeightUse::Matmul && !be.supports(Op::Matmul, type))
        fail("{}: tensor '{}': matmul on type {} is not supported by the {} backend", f_.source(), name,
             type_traits(type).name, be.name());
    return be.load_weight(src).tensor;
}

Tensor TensorLoader::matrix(const std::string& name, int64_t n_out, int64_t n_in) {
    const gguf::TensorInfo& t = find(name);
    if (t.n_dims != 2 || t.ne[0] != n_in || t.ne[1] != n_out)
        fail("{}: tensor '{}': expected shape ({}, {}), got {}", f_.source(), name, n_out, n_in, shape_str(t));
    return load(t, backend_for(t, WeightUse::Matmul, Op::Matmul), WeightUse::Matmul);
}

Tensor TensorLoader::stack(const std::string& name, int64_t n_in, int64_t n_out, int64_t n_mat, Op op) {
    const gguf::TensorInfo& t = find(name);
    if (t.n_dims != 3 || t.ne[0] != n_in || t.ne[1] != n_out || t.ne[2] != n_mat)
        fail("{}: tensor '{}': expected shape ({}, {}, {}), got {}", f_.source(), name, n_mat, n_out, n_in,
             shape_str(t));
    return load(t, backend_for(t, WeightUse::Matmul, op), WeightUse::Matmul);
}

Tensor TensorLoader::rows(const std::string& name, int64_t n_rows, int64_t n) {
    const gguf::TensorInfo& t = find(name);
    if (t.n_dims != 2 || t.ne[0] != n || t.ne[1] != n_rows)
        fail("{}: tensor '{}': expected shape ({}, {}), got {}", f_.source(), name, n_rows, n, shape_str(t));
    return load(t, backend_for(t, WeightUse::Rows, Op::GetRows), WeightUse::Rows);
}

Tensor TensorLoader::vector(const std::string& name, int64_t n) {
    const gguf::TensorInfo& t = find(name);
    if (t.n_dims != 1 || t.ne[0] != n)
        fail("{}: tensor '{}': expected shape ({}), got {}", f_.source(), name, n, shape_str(t));
    if (t.type != GgmlType::F32 && t.type != GgmlType::F16 && t.type != GgmlType::BF16)
        fail("{}: tensor '{}': expected f32, f16 or bf16, got {}", f_.source(), name, type_traits(t.type).name);
    return load(t, placement_.for_tensor(t.name, WeightUse::Vector), WeightUse::Vector);
}

std::vector<float> TensorLoader::host_vector(const std::string& name, int64_t n) {
    vector(name, n);  // the checks (the backend copy is unused but cheap)
    const gguf::TensorInfo& t = *f_.find_tensor(name);
    std::vector<float> out(static_cast<size_t>(n));
    const auto* h = reinterpret_cast<const uint16_t*>(t.data);
    for (int64_t i = 0; i < n; ++i)
        out[size_t(i)] = t.type == GgmlType::F32    ? reinterpret_cast<const float*>(t.data)[i]
                         : t.type == GgmlType::BF16 ? bf16_to_fp32(h[i])
                                                    : fp16_to_fp32(h[i]);
    return out;
}

void TensorLoader::release_copied() {
    for (const gguf::TensorInfo* t : copied_)
        if (!read_in_place_.count(t->data)) f_.release(t->data, size_t(t->n_bytes));
    copied_.clear();
}

void TensorLoader::warn_unused() const {
    size_t n = 0;
    std::string first;
    for (const auto& t : f_.tensors())
        if (!used_.count(t.name)) {
            if (n++ == 0) first = t.name;
        }
    if (n)
        std::fprintf(stderr, "r1: warning: %s: %zu tensor(s) not used by the model (first: %s)\n",
                     f_.source().c_str(), n, first.c_str());
}

}  // namespace r1
