// Shared pieces of the per-architecture plans: shape checks with config-field context, row
// copies and row permutations, and the model_type dispatch.
#include "convert/plan.h"

#include <algorithm>
#include <cstdio>

#include <fmt/ranges.h>

#include "runtime/hparams/hparams.h"

namespace r1::convert {

Plan build_plan(const Checkpoint& ck) {
    const auto& c = ck.config();
    auto mt = c.find("model_type");
    if (mt == c.end() || !mt->is_string()) fail("config.json: missing 'model_type'");
    const std::string model_type = mt->get<std::string>();
    Plan p;
    if (model_type == "qwen2" || model_type == "llama") p = build_plan_dense(ck, model_type);
    else if (model_type == "deepseek_v3" || model_type == "deepseek_v2") p = build_plan_deepseek(ck);
    else fail("config.json: model_type '{}' is not supported (qwen2, llama, deepseek_v3, deepseek_v2)", model_type);
    std::vector<std::string> extra = ck.unconsumed();
    if (!extra.empty())
        fail("{}: {} checkpoint tensors are not used by the {} mapping, e.g. '{}'", ck.dir().string(),
             extra.size(), model_type, extra.front());
    return p;
}

void check_hparams(const Plan& p, const std::string& source) {
    auto find = [&p](std::string_view key) -> const gguf::Value* {
        for (const auto& [k, v] : p.metadata)
            if (k == key) return &v;
        return nullptr;
    };
    auto origin = [&p](std::string_view key) {
        auto it = p.origin.find(std::string(key));
        return it == p.origin.end() ? std::string() : it->second;
    };
    r1::check_hparams(HParams(source, find, p.arch, origin));
}

Source expect_tensor(const Checkpoint& ck, const std::string& name, const std::vector<int64_t>& shape,
                     const std::string& why) {
    if (!ck.has(name)) fail("{}: missing tensor '{}' (expected [{}] from {})", ck.dir().string(), name,
                            fmt::join(shape, ", "), why);
    Source s = ck.get(name);
    if (s.info->shape != shape)
        fail("{}: '{}' has shape [{}], but config.json {} gives [{}]", s.file->source(), name,
             fmt::join(s.info->shape, ", "), why, fmt::join(shape, ", "));
    return s;
}

OutTensor copy_tensor(std::string gguf_name, const Source& src, int layer) {
    OutTensor t;
    t.name = std::move(gguf_name);
    t.layer = layer;
    const auto& shape = src.info->shape;
    if (shape.empty()) t.ne = {1};
    else t.ne.assign(shape.rbegin(), shape.rend());
    t.source_bytes = src.info->n_bytes();
    t.produce = [src](int64_t r0, int64_t n, float* dst) { src.read_rows(r0, n, dst); };
    return t;
}

OutTensor mapped_tensor(std::string gguf_name, std::vector<int64_t> ne, const Source& src,
                        std::function<int64_t(int64_t)> map, int layer) {
    OutTensor t;
    t.name = std::move(gguf_name);
    t.layer = layer;
    t.ne = std::move(ne);
    R1_CHECK(t.ne[0] == src.cols);
    t.source_bytes = src.info->n_bytes();
    t.produce = [src, map = std::move(map)](int64_t r0, int64_t n, float* dst) {
        // Read the source rows spanned by this range once, then gather.
        int64_t lo = INT64_MAX, hi = -1;
        for (int64_t r = r0; r < r0 + n; ++r) {
            int64_t s = map(r);
            lo = std::min(lo, s);
            hi = std::max(hi, s);
        }
        if (n == 0) return;
        std::vector<float> span(static_cast<size_t>((hi - lo + 1) * src.cols));
        src.read_rows(lo, hi - lo + 1, span.data());
        for (int64_t r = r0; r < r0 + n; ++r)
            std::copy_n(span.data() + (map(r) - lo) * src.cols, src.cols, dst + (r - r0) * src.cols);
    };
    return t;
}

int layer_of(const std::string& name) {
    int layer = -1;
    if (name.rfind("blk.", 0) != 0 || std::sscanf(name.c_str(), "blk.%d.", &layer) != 1) return -1;
    return layer;
}

}  // namespace r1::convert
