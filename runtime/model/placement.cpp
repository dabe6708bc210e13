// Placement: the layer ranges of -ngl, the routed-expert rule of --cpu-moe, the weight-capacity
// check before loading and the load line.
#include "runtime/model/placement.h"

#include <algorithm>
#include <charconv>

#include <fmt/format.h>

#include "core/error.h"

namespace r1 {
namespace {

std::string size_str(uint64_t n) {
    constexpr double kMiB = 1024.0 * 1024.0, kGiB = kMiB * 1024.0;
    if (double(n) >= kGiB) return fmt::format("{:.1f} GiB", double(n) / kGiB);
    return fmt::format("{:.1f} MiB", double(n) / kMiB);
}

// "blk.<il>.<rest>" -> il and rest; false for any other name.
bool split_block_name(std::string_view name, int32_t& il, std::string_view& rest) {
    constexpr std::string_view kPrefix = "blk.";
    if (!name.starts_with(kPrefix)) return false;
    const char* b = name.data() + kPrefix.size();
    const char* e = name.data() + name.size();
    const auto [p, ec] = std::from_chars(b, e, il);
    if (ec != std::errc() || p == b || p == e || *p != '.') return false;
    rest = std::string_view(p + 1, size_t(e - p - 1));
    return true;
}

// Routed experts' stacks (ffn_gate_exps, ffn_up_exps, ffn_down_exps, ffn_gate_up_exps, ...);
// shared experts (ffn_*_shexp) and the router (ffn_gate_inp) are not.
bool is_routed_expert(std::string_view rest) {
    return rest.starts_with("ffn_") && rest.find("_exps") != std::string_view::npos;
}

}  // namespace

Placement Placement::create(const PlacementOptions& o) {
    if (o.backend.name == "cpu") {
        Placement p(create_backend(o.backend), nullptr, -1, false);
        std::vector<std::string> ignored;
        if (o.n_gpu_layers >= 0) ignored.push_back(fmt::format("-ngl {} ignored: the cpu backend runs every layer", o.n_gpu_layers));
        if (o.cpu_moe) ignored.push_back("--cpu-moe: every weight is on the cpu already");
        if (o.backend.device != 0) ignored.push_back(fmt::format("--device {} ignored: the cpu backend has no devices", o.backend.device));
        p.ignored_ = fmt::format("{}", fmt::join(ignored, "; "));
        return p;
    }
    // The device first: a missing backend or device is reported before the CPU is set up.
    auto device = create_backend(o.backend);
    auto host = create_backend({.name = "cpu", .n_threads = o.backend.n_threads, .isa = o.backend.isa});
    return Placement(std::move(host), std::move(device), o.n_gpu_layers, o.cpu_moe);
}

Placement::Placement(std::unique_ptr<Backend> host, std::unique_ptr<Backend> device, int32_t n_device_layers,
                     bool cpu_moe)
    : host_(std::move(host)), device_(std::move(device)), n_device_(n_device_layers), cpu_moe_(cpu_moe && device_) {
    R1_CHECK(host_ != nullptr);
}

void Placement::resolve(int32_t n_layer) {
    R1_CHECK(n_layer >= 1);
    n_layer_ = n_layer;
    if (!device_) {
        first_device_ = n_layer;
        output_on_device_ = false;
        return;
    }
    const int32_t n_dev = n_device_ < 0 ? n_layer : std::min(n_device_, n_layer);
    first_device_ = n_layer - n_dev;
    output_on_device_ = n_device_ < 0 || n_device_ > n_layer;
}

Backend& Placement::layer(int32_t il) const {
    R1_CHECK(n_layer_ > 0 && il >= 0 && il < n_layer_);
    return il >= first_device_ ? *device_ : *host_;
}

Backend& Placement::output() const {
    R1_CHECK(n_layer_ > 0);
    return output_on_device_ ? *device_ : *host_;
}

Backend& Placement::experts(int32_t il) const { return cpu_moe_ ? *host_ : layer(il); }

Backend& Placement::for_tensor(std::string_view name, WeightUse use) const {
    int32_t il = 0;
    std::string_view rest;
    if (split_block_name(name, il, rest) && il >= 0 && il < n_layer_)
        return is_routed_expert(rest) ? experts(il) : layer(il);
    if (name == "token_embd.weight" && use == WeightUse::Rows) return input();
    return output();
}

std::vector<Backend*> Placement::backends() const {
    std::vector<Backend*> v{host_.get()};
    if (device_) v.push_back(device_.get());
    return v;
}

void Placement::sync() const {
    for (Backend* be : backends()) be->sync();
}

void Placement::check_capacity(const gguf::File& file) {
    R1_CHECK(n_layer_ > 0);
    bytes_.clear();
    for (Backend* be : backends()) bytes_.push_back({be, 0});
    auto add = [&](const Backend& be, uint64_t n) {
        for (auto& [b, total] : bytes_)
            if (b == &be) total += n;
    };
    const bool tied = file.find_tensor("output.weight") == nullptr;
    for (const auto& t : file.tensors()) {
        const WeightUse use = t.name == "token_embd.weight" ? WeightUse::Rows : WeightUse::Matmul;
        add(for_tensor(t.name, use), t.n_bytes);
        if (use == WeightUse::Rows && tied && &output() != &input()) add(output(), t.n_bytes);
    }
    for (const auto& [be, total] : bytes_)
        if (total > be->weight_capacity())
            fail("{}: the weights placed on the {} backend need {} but it holds {} (place fewer layers on it with "
                 "-ngl, or keep routed experts on the CPU with --cpu-moe)",
                 file.source(), be->name(), size_str(total), size_str(be->weight_capacity()));
}

std::string Placement::load_line() const {
    // The host's share: a range of layers, the head, the routed experts.
    int32_t first = -1, last = -1;
    for (int32_t il = 0; il < n_layer_; ++il)
        if (&layer(il) == host_.get()) {
            if (first < 0) first = il;
            last = il;
        }
    std::vector<std::string> parts;
    if (first == 0 && last == n_layer_ - 1) parts.push_back(fmt::format("{} layers", n_layer_));
    else if (first >= 0 && first == last) parts.push_back(fmt::format("layer {}", first));
    else if (first >= 0) parts.push_back(fmt::format("layers {}-{}", first, last));
    if (n_layer_ > 0 && &output() == host_.get() && device_) parts.push_back("output");
    if (cpu_moe_) parts.push_back("routed experts");
    uint64_t host_bytes = 0;
    for (const auto& [b, total] : bytes_)
        if (b == host_.get()) host_bytes = total;

    std::string line;
    if (device_) {  // CLI.md: "backend <name>: <device>, <k>/<n> layers, <MiB> MiB on device"
        line = fmt::format("backend {}: {}, {}/{} layers, {:.0f} MiB on device", device_->name(), device_->device_name(),
                           n_layer_ - first_device_, n_layer_, double(device_->device_bytes()) / (1024.0 * 1024.0));
        if (!bytes_.empty() && !parts.empty()) parts.push_back(size_str(host_bytes) + " weights");
        if (!parts.empty()) line += fmt::format("; {}: {}", host_->name(), fmt::join(parts, ", "));
    } else {
        line = fmt::format("backend {}: {}", host_->name(), fmt::join(parts, ", "));
        if (!bytes_.empty()) line += ", " + size_str(host_bytes) + " weights";
    }
    if (!ignored_.empty()) line += " (" + ignored_ + ")";
    return line;
}

}  // namespace r1
