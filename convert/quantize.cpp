// `r1 quantize IN.gguf OUT.gguf T`: requantizes a GGUF file to another type mix with the same
// selection rules as `r1 convert`. Sources of quantizable tensors must be F32, F16, BF16 or
// Q8_0 (requantizing lower-bit formats compounds their error); same-type tensors are copied.
#include <cstring>

#include <fmt/format.h>

#include "convert/convert.h"
#include "convert/encode.h"
#include "convert/plan.h"
#include "convert/stream.h"
#include "quant/codecs.h"
#include "runtime/hparams/hparams.h"

namespace r1::convert {

namespace fs = std::filesystem;

void quantize_gguf(const ConvertOptions& o) {
    check_output_path(o);
    auto in = gguf::File::open(o.input);
    const std::string arch = in->get<std::string>("general.architecture");
    check_hparams(HParams(*in, arch));  // the runtime's rules: never write a file r1 run refuses
    const int64_t n_layer = in->get_int(arch + ".block_count");
    const int64_t n_expert = in->has(arch + ".expert_count") ? in->get_int(arch + ".expert_count") : 0;

    std::vector<TypeQuery> queries;
    for (const auto& t : in->tensors())
        queries.push_back({t.name, std::vector<int64_t>(t.ne.begin(), t.ne.begin() + t.n_dims), layer_of(t.name)});
    std::vector<GgmlType> types = choose_types(queries, o.mix, o.pure, n_layer, n_expert);

    gguf::Writer w(o.output);
    for (const auto& [k, v] : in->metadata()) {
        if (k == "general.alignment" || k.starts_with("split.")) continue;
        w.set(k, v);
    }
    w.set("general.file_type", mix_file_type(o.mix));
    w.set("general.quantization_version", uint32_t{2});

    std::vector<StreamTensor> stream;
    uint64_t total = 0;
    for (size_t i = 0; i < in->tensors().size(); ++i) {
        const gguf::TensorInfo& t = in->tensors()[i];
        GgmlType src = t.type, dst = types[i];
        if (src != dst && ((type_traits(src).is_quantized && src != GgmlType::Q8_0) || !codec(src)))
            fail("{}: tensor '{}' is {}; requantizing needs F32, F16, BF16 or Q8_0 sources (convert from the "
                 "Hugging Face checkpoint instead)", o.input.string(), t.name, type_traits(src).name);
        w.add_tensor(t.name, dst, std::span<const int64_t>(t.ne.data(), t.n_dims));
        StreamTensor s{.name = t.name, .type = dst, .row_length = t.ne[0], .n_rows = t.n_elements() / std::max<int64_t>(t.ne[0], 1),
                       .source_bytes = t.n_bytes};
        const uint64_t src_row = row_bytes(src, static_cast<uint64_t>(t.ne[0]));
        const uint8_t* data = t.data;
        if (src == dst) {
            s.produce_bytes = [data, src_row](int64_t r0, int64_t n, uint8_t* out) {
                std::memcpy(out, data + static_cast<uint64_t>(r0) * src_row, static_cast<uint64_t>(n) * src_row);
            };
        } else {
            s.produce = [data, src_row, src, len = t.ne[0]](int64_t r0, int64_t n, float* out) {
                decode_rows(src, data + static_cast<uint64_t>(r0) * src_row, n, len, out);
            };
        }
        total += t.n_bytes;
        stream.push_back(std::move(s));
    }
    Progress progress(stream.size(), total, o.quiet);
    stream_tensors(w, stream, o.threads > 0 ? o.threads : default_threads(), progress);
    w.finish();
    std::error_code ec;
    auto size = fs::file_size(o.output, ec);
    progress.finish(fmt::format("quantize: wrote {} ({} tensors, {:.1f} MB, {})", o.output.string(), stream.size(),
                                size / 1e6, mix_name(o.mix)));
}

}  // namespace r1::convert
