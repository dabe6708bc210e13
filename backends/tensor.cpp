// The backend-independent parts of backend.h: tensor shapes, views and strides, op names,
// the RoPE angle table every backend reads, and the host-staged copy between backends.
#include <algorithm>
#include <cmath>
#include <vector>

#include "backends/backend.h"
#include "core/error.h"

namespace r1 {
namespace {

void fill_contiguous_strides(Tensor& t) {
    t.nb[0] = type_traits(t.type).type_size;  // per block; block types have whole rows
    t.nb[1] = t.row_size();
    for (int d = 2; d < Tensor::kDims; ++d) t.nb[d] = t.nb[d - 1] * size_t(t.ne[d - 1]);
}

}  // namespace

bool Tensor::contiguous() const {
    size_t expect = row_size();  // dimensions of one index have no stride to check
    for (int d = 1; d < kDims; ++d) {
        if (ne[d] > 1 && nb[d] != expect) return false;
        expect *= size_t(ne[d]);
    }
    return true;
}

size_t Tensor::n_bytes() const {
    if (n_elements() == 0) return 0;
    size_t last = row_size();
    for (int d = 1; d < kDims; ++d) last += size_t(ne[d] - 1) * nb[d];
    return last;
}

Tensor Tensor::view(std::initializer_list<int64_t> ne_, std::initializer_list<size_t> nb_, size_t off) const {
    R1_CHECK(ne_.size() >= 1 && ne_.size() <= kDims && nb_.size() + 1 == ne_.size());
    Tensor v = *this;
    v.offset = offset + off;
    int d = 0;
    for (int64_t n : ne_) v.ne[d++] = n;
    for (; d < kDims; ++d) v.ne[d] = 1;
    d = 1;
    for (size_t s : nb_) v.nb[d++] = s;
    // Unused dimensions get the packed stride so that contiguous() sees through them.
    for (; d < kDims; ++d) v.nb[d] = v.nb[d - 1] * size_t(v.ne[d - 1]);
    if (ne_.size() == 1) v.nb[1] = v.row_size();
    R1_CHECK(v.offset + v.n_bytes() <= buffer.n_bytes || buffer.n_bytes == 0);
    return v;
}

Tensor Tensor::slice(int dim, int64_t i0, int64_t n) const {
    R1_CHECK(dim >= 0 && dim < kDims && i0 >= 0 && n >= 0 && i0 + n <= ne[dim]);
    R1_CHECK(dim > 0 || i0 % type_traits(type).block_size == 0);
    Tensor v = *this;
    v.ne[dim] = n;
    v.offset += dim == 0 ? size_t(row_bytes(type, uint64_t(i0))) : size_t(i0) * nb[dim];
    return v;
}

Tensor Tensor::reshape(std::initializer_list<int64_t> ne_) const {
    R1_CHECK(contiguous() && ne_.size() >= 1 && ne_.size() <= kDims);
    Tensor v = *this;
    int d = 0;
    for (int64_t n : ne_) v.ne[d++] = n;
    for (; d < kDims; ++d) v.ne[d] = 1;
    R1_CHECK(v.n_elements() == n_elements());
    fill_contiguous_strides(v);
    return v;
}

Tensor make_tensor(const Buffer& buffer, size_t offset, GgmlType type, std::initializer_list<int64_t> ne) {
    R1_CHECK(ne.size() >= 1 && ne.size() <= Tensor::kDims);
    Tensor t;
    t.buffer = buffer;
    t.offset = offset;
    t.type = type;
    int d = 0;
    for (int64_t n : ne) t.ne[d++] = n;
    for (; d < Tensor::kDims; ++d) t.ne[d] = 1;
    fill_contiguous_strides(t);
    R1_CHECK(offset + t.n_bytes() <= buffer.n_bytes);
    return t;
}

size_t tensor_bytes(GgmlType type, std::initializer_list<int64_t> ne) {
    uint64_t n = 1;
    auto it = ne.begin();
    n = row_bytes(type, uint64_t(*it));
    for (++it; it != ne.end(); ++it) n *= uint64_t(*it);
    return size_t(n);
}

const char* op_name(Op op) {
    switch (op) {
        case Op::GetRows: return "get_rows";
        case Op::Matmul: return "matmul";
        case Op::MatmulId: return "matmul_id";
        case Op::RmsNorm: return "rms_norm";
        case Op::Rope: return "rope";
        case Op::Attention: return "attention";
        case Op::Swiglu: return "swiglu";
        case Op::Add: return "add";
        case Op::Mul: return "mul";
        case Op::Scale: return "scale";
        case Op::Sigmoid: return "sigmoid";
        case Op::Softmax: return "softmax";
        case Op::Copy: return "copy";
        case Op::MoeRoute: return "moe_route";
        case Op::Argmax: return "argmax";
    }
    return "?";
}

// Angles as HF computes them: inv_freq_i = 1 / base^(2i/n_rot) rounded to float32, divided by
// the optional factor, θ = pos · inv_freq_i in float32, cos/sin of that float in double.
// YaRN (GGUF.md §5.5): corr(β) = n_rot · ln(L / (2π β)) / (2 ln base), low = floor(corr(β_fast)),
// high = ceil(corr(β_slow)) clamped to [0, n_rot − 1]; ramp_i = clamp((i − low) / (high − low));
// f'_i = f_i / s · ramp_i + f_i · (1 − ramp_i). cos and sin are scaled by attn_factor (HF's
// mscale(s, m) / mscale(s, m_all); ggml folds a 1 + 0.1 ln s into its attn_factor instead).
void rope_table(const RopeConfig& c, int32_t n_pos, float* out) {
    R1_CHECK(c.n_rot > 0 && c.n_rot % 2 == 0);
    const int32_t half = c.n_rot / 2;
    std::vector<float> inv_freq(static_cast<size_t>(half));
    const float mag = c.attn_factor;
    for (int32_t i = 0; i < half; ++i) {
        float f = float(1.0 / std::pow(double(c.freq_base), double(2 * i) / double(c.n_rot)));
        if (c.freq_factors) f = f / c.freq_factors[i];
        inv_freq[size_t(i)] = f;
    }
    if (c.yarn_factor > 1.0f) {
        const double L = double(c.yarn_orig_ctx), lb = std::log(double(c.freq_base));
        auto corr = [&](double beta) { return double(c.n_rot) * std::log(L / (beta * 2 * M_PI)) / (2 * lb); };
        const double low = std::max(0.0, std::floor(corr(double(c.yarn_beta_fast))));
        const double high = std::min(double(c.n_rot - 1), std::ceil(corr(double(c.yarn_beta_slow))));
        const double span = std::max(0.001, high - low);
        for (int32_t i = 0; i < half; ++i) {
            const double ramp = std::clamp((double(i) - low) / span, 0.0, 1.0);
            const double f = double(inv_freq[size_t(i)]);
            inv_freq[size_t(i)] = float(f / double(c.yarn_factor) * ramp + f * (1.0 - ramp));
        }
    }
    for (int32_t p = 0; p < n_pos; ++p)
        for (int32_t i = 0; i < half; ++i) {
            const float theta = float(p) * inv_freq[size_t(i)];
            float* o = out + (size_t(p) * size_t(half) + size_t(i)) * 2;
            o[0] = float(std::cos(double(theta))) * mag;
            o[1] = float(std::sin(double(theta))) * mag;
        }
}

void copy_across(Backend& from, const Tensor& src, Backend& to, const Tensor& dst) {
    R1_CHECK(src.type == dst.type && src.n_elements() == dst.n_elements() && src.contiguous() && dst.contiguous());
    std::vector<uint8_t> host(src.n_bytes());
    from.download(src, host.data());
    to.upload(dst, host.data());
}

}  // namespace r1
