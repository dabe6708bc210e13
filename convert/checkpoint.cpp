// HF folder loading: config.json, the shard index (weight_map) and every shard header, checked
// against each other before any conversion starts (RELIABILITY.md §4.7 C01-C04, C06, C09).
#include "convert/checkpoint.h"

#include <sys/stat.h>

#include <algorithm>
#include <set>

#include <fmt/ranges.h>

#include "core/checked.h"
#include "core/files.h"
#include "core/json.h"

namespace r1::convert {

namespace fs = std::filesystem;

namespace {

// config / index / generation_config: read bounded, nesting limited (core/json.h).
nlohmann::json read_json(const fs::path& p) { return read_json_file(p.string(), kMaxConfigFileBytes); }

// A shard name from weight_map must stay inside the model folder (C04): a plain relative path
// without "..". The file it names may be a symlink to a regular file anywhere (a Hugging Face
// hub cache snapshot links every file into ../../blobs/); safetensors::File::open refuses
// anything that is not a regular file once resolved.
fs::path shard_path(const fs::path& dir, const std::string& name, const fs::path& index) {
    fs::path rel(name);
    if (name.empty() || rel.is_absolute())
        fail("{}: shard path '{}' must be relative to the model folder", index.string(), name);
    for (const auto& part : rel)
        if (part == "..") fail("{}: shard path '{}' leaves the model folder", index.string(), name);
    return dir / rel;
}

}  // namespace

int64_t config_int(const nlohmann::json& c, const char* key) {
    auto it = c.find(key);
    if (it == c.end() || it->is_null()) fail("config.json: missing '{}'", key);
    if (!it->is_number_integer()) fail("config.json: '{}' must be an integer, got {}", key, it->dump());
    return it->get<int64_t>();
}

int64_t config_int_or(const nlohmann::json& c, const char* key, int64_t fallback) {
    auto it = c.find(key);
    if (it == c.end() || it->is_null()) return fallback;
    return config_int(c, key);
}

double config_num(const nlohmann::json& c, const char* key) {
    auto it = c.find(key);
    if (it == c.end() || it->is_null()) fail("config.json: missing '{}'", key);
    if (!it->is_number()) fail("config.json: '{}' must be a number, got {}", key, it->dump());
    return it->get<double>();
}

double config_num_or(const nlohmann::json& c, const char* key, double fallback) {
    auto it = c.find(key);
    if (it == c.end() || it->is_null()) return fallback;
    return config_num(c, key);
}

bool config_bool_or(const nlohmann::json& c, const char* key, bool fallback) {
    auto it = c.find(key);
    if (it == c.end() || it->is_null()) return fallback;
    if (!it->is_boolean()) fail("config.json: '{}' must be true or false, got {}", key, it->dump());
    return it->get<bool>();
}

Checkpoint::Checkpoint(const fs::path& dir) : dir_(dir) {
    std::error_code ec;
    if (!fs::is_directory(dir_, ec)) fail("{}: not a directory", dir_.string());
    fs::path cfg = dir_ / "config.json";
    if (!fs::exists(cfg, ec)) fail("{}: no config.json (not a Hugging Face model folder)", dir_.string());
    config_ = read_json(cfg);
    if (!config_.is_object()) fail("{}: not a JSON object", cfg.string());

    fs::path index = dir_ / "model.safetensors.index.json";
    fs::path single = dir_ / "model.safetensors";
    if (fs::exists(index, ec)) {
        nlohmann::json j = read_json(index);
        if (!j.is_object() || !j.contains("weight_map"))
            fail("{}: no 'weight_map'", index.string());
        const auto& wm = j["weight_map"];
        if (!wm.is_object()) fail("{}: 'weight_map' is not an object", index.string());
        // shard -> tensors it should hold, in file-name order (deterministic).
        std::map<std::string, std::set<std::string>> shards;
        for (auto& [tname, shard] : wm.items()) {
            if (!shard.is_string()) fail("{}: weight_map['{}'] is not a string", index.string(), tname);
            shards[shard.get<std::string>()].insert(tname);
        }
        if (shards.empty()) fail("{}: 'weight_map' is empty", index.string());
        for (const auto& [shard, names] : shards) {
            fs::path p = shard_path(dir_, shard, index);
            if (!fs::exists(p, ec)) {
                std::string list;
                size_t k = 0;
                for (const auto& n : names) {
                    if (k++ == 3) { list += ", ..."; break; }
                    list += (list.empty() ? "" : ", ") + n;
                }
                fail("{}: missing shard '{}' ({} tensors: {})", index.string(), shard, names.size(), list);
            }
        }
        for (const auto& [shard, names] : shards) {
            add_file(shard_path(dir_, shard, index), shard);
            const safetensors::File& f = *files_.back();
            for (const auto& t : f.tensors())
                if (!names.count(t.name))
                    fail("{}: shard '{}' holds '{}', which weight_map does not list for it", index.string(), shard, t.name);
            for (const auto& n : names)
                if (!f.find(n)) fail("{}: weight_map lists '{}' in '{}', which does not hold it", index.string(), n, shard);
        }
    } else if (fs::exists(single, ec)) {
        add_file(single, "model.safetensors");
    } else {
        fail("{}: no model.safetensors or model.safetensors.index.json", dir_.string());
    }
}

void Checkpoint::add_file(const fs::path& p, const std::string& shard_name) {
    files_.push_back(safetensors::File::open(p));
    const safetensors::File* f = files_.back().get();
    for (const auto& t : f->tensors()) {
        if (!tensors_.emplace(t.name, Entry{f, &t}).second)
            fail("{}: tensor '{}' appears in more than one shard", shard_name, t.name);
        total_bytes_ += t.n_bytes();
    }
}

nlohmann::json Checkpoint::read_json_if_exists(const std::string& file_name) const {
    std::error_code ec;
    fs::path p = dir_ / file_name;
    if (!fs::exists(p, ec)) return nullptr;
    return read_json(p);
}

std::vector<std::string> Checkpoint::names() const {
    std::vector<std::string> out;
    for (const auto& [n, e] : tensors_) out.push_back(n);
    return out;
}

std::vector<std::string> Checkpoint::unconsumed() const {
    std::vector<std::string> out;
    for (const auto& [n, e] : tensors_)
        if (!used_.count(n)) out.push_back(n);
    return out;
}

Source Checkpoint::get(const std::string& name) const {
    auto it = tensors_.find(name);
    if (it == tensors_.end()) fail("{}: missing tensor '{}'", dir_.string(), name);
    use(name);
    Source s;
    s.name = name;
    s.file = it->second.file;
    s.info = it->second.info;
    const auto& shape = s.info->shape;
    using safetensors::Dtype;
    Dtype dt = s.info->dtype;
    if (dt != Dtype::F32 && dt != Dtype::F16 && dt != Dtype::BF16 && dt != Dtype::F8_E4M3 && dt != Dtype::F8_E5M2)
        fail("{}: tensor '{}' has dtype {}, which cannot be converted (F32, F16, BF16, F8_E4M3 only)",
             s.file->source(), name, safetensors::dtype_name(dt));
    if (shape.empty()) {
        s.rows = s.cols = 1;
    } else {
        s.cols = shape.back();
        s.rows = 1;
        for (size_t d = 0; d + 1 < shape.size(); ++d) s.rows *= shape[d];  // product checked by the reader
    }
    if (dt == Dtype::F8_E4M3 || dt == Dtype::F8_E5M2) {
        std::string sname = name + "_scale_inv";
        auto sit = tensors_.find(sname);
        if (sit == tensors_.end())
            fail("{}: FP8 tensor '{}' has no '{}' block scales", s.file->source(), name, sname);
        use(sname);
        s.scale_file = sit->second.file;
        s.scale = sit->second.info;
        int64_t br = 128, bc = 128;
        auto qc = config_.find("quantization_config");
        if (qc != config_.end() && qc->is_object() && qc->contains("weight_block_size")) {
            const auto& wb = (*qc)["weight_block_size"];
            if (!wb.is_array() || wb.size() != 2 || !wb[0].is_number_integer() || !wb[1].is_number_integer() ||
                wb[0].get<int64_t>() <= 0 || wb[1].get<int64_t>() <= 0)
                fail("config.json: quantization_config.weight_block_size must be two positive integers");
            br = wb[0].get<int64_t>();
            bc = wb[1].get<int64_t>();
        }
        s.block_rows = br;
        s.block_cols = bc;
        const auto& ss = s.scale->shape;
        int64_t want_r = (s.rows + br - 1) / br, want_c = (s.cols + bc - 1) / bc;
        if (shape.size() != 2 || ss.size() != 2 || ss[0] != want_r || ss[1] != want_c)
            fail("{}: '{}' has shape [{}] for a [{}] weight with {}x{} blocks (expected [{}, {}])",
                 s.scale_file->source(), sname, fmt::join(ss, ", "), fmt::join(shape, ", "), br, bc, want_r, want_c);
        auto sdt = s.scale->dtype;
        if (sdt != Dtype::F32 && sdt != Dtype::BF16 && sdt != Dtype::F16)
            fail("{}: '{}' has dtype {}, expected F32", s.scale_file->source(), sname, safetensors::dtype_name(sdt));
    }
    return s;
}

void Source::read_rows(int64_t r0, int64_t n, float* dst) const {
    R1_CHECK(r0 >= 0 && n >= 0 && r0 + n <= rows);
    file->read_f32(*info, r0 * cols, n * cols, dst);
    if (!scale) return;
    // FP8: w = q * scale_inv[row / block_rows, col / block_cols], one block row at a time.
    const int64_t n_cb = (cols + block_cols - 1) / block_cols;
    std::vector<float> srow(static_cast<size_t>(n_cb));
    int64_t loaded = -1;
    for (int64_t r = r0; r < r0 + n; ++r) {
        int64_t rb = r / block_rows;
        if (rb != loaded) {
            scale_file->read_f32(*scale, rb * n_cb, n_cb, srow.data());
            loaded = rb;
        }
        float* row = dst + (r - r0) * cols;
        for (int64_t c = 0; c < cols; ++c) row[c] *= srow[static_cast<size_t>(c / block_cols)];
    }
}

}  // namespace r1::convert
