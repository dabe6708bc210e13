// Writer -> reader round trips: random metadata of every value type and tensors of several
// types, compared value by value and byte by byte; plus the layout rules of GGUF.md §1.5.
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <random>

#include <gtest/gtest.h>

#include "runtime/gguf/gguf.h"

namespace r1::test {
namespace {

namespace fs = std::filesystem;
using gguf::Value;

fs::path temp_path(const std::string& name) {
    return fs::temp_directory_path() / fmt::format("r1_gguf_{}_{}", getpid(), name);
}

std::string random_string(std::mt19937_64& rng, size_t max_len) {
    static const std::string kAlphabet = "abcdefghijklmnopqrstuvwxyz \n\t\"\\é中🙂";
    std::string s;
    size_t n = rng() % (max_len + 1);
    for (size_t i = 0; i < n; ++i) s += kAlphabet[rng() % kAlphabet.size()];
    return s;  // may hold partial UTF-8: GGUF strings are bytes, the container must not care
}

Value random_scalar(std::mt19937_64& rng, gguf::ValueType t) {
    using T = gguf::ValueType;
    switch (t) {
        case T::U8: return static_cast<uint8_t>(rng());
        case T::I8: return static_cast<int8_t>(rng());
        case T::U16: return static_cast<uint16_t>(rng());
        case T::I16: return static_cast<int16_t>(rng());
        case T::U32: return static_cast<uint32_t>(rng());
        case T::I32: return static_cast<int32_t>(rng());
        case T::F32: return std::uniform_real_distribution<float>(-1e6f, 1e6f)(rng);
        case T::BOOL: return static_cast<bool>(rng() & 1);
        case T::STRING: return random_string(rng, 40);
        case T::U64: return static_cast<uint64_t>(rng());
        case T::I64: return static_cast<int64_t>(rng());
        case T::F64: return std::uniform_real_distribution<double>(-1e300, 1e300)(rng);
        case T::ARRAY: break;
    }
    return uint8_t{0};
}

bool same(const Value& a, const Value& b) {
    if (a.type() != b.type()) return false;
    if (a.type() == gguf::ValueType::ARRAY) {
        const auto& x = std::get<gguf::Array>(a.v);
        const auto& y = std::get<gguf::Array>(b.v);
        if (x.elem_type != y.elem_type || x.items.size() != y.items.size()) return false;
        for (size_t i = 0; i < x.items.size(); ++i)
            if (!same(x.items[i], y.items[i])) return false;
        return true;
    }
    return a.v == b.v;
}

struct TensorSpec {
    std::string name;
    GgmlType type;
    std::vector<int64_t> ne;
    std::vector<uint8_t> bytes;
};

class GgufRoundTrip : public ::testing::TestWithParam<uint32_t> {};

TEST_P(GgufRoundTrip, MetadataAndTensorsSurviveByteForByte) {
    const uint32_t alignment = GetParam();
    std::mt19937_64 rng(1234 + alignment);
    std::vector<std::pair<std::string, Value>> kv;
    kv.emplace_back("general.architecture", Value("llama"));
    for (uint32_t t = 0; t <= 12; ++t) {
        auto vt = static_cast<gguf::ValueType>(t);
        if (vt == gguf::ValueType::ARRAY) continue;
        for (int k = 0; k < 3; ++k)
            kv.emplace_back(fmt::format("test.{}.{}", gguf::value_type_name(vt), k), random_scalar(rng, vt));
        gguf::Array a;
        a.elem_type = vt;
        size_t n = (t == 0) ? 0 : rng() % 50;  // include an empty array
        for (size_t i = 0; i < n; ++i) a.items.push_back(random_scalar(rng, vt));
        kv.emplace_back(fmt::format("test.array.{}", gguf::value_type_name(vt)), Value(std::move(a)));
    }

    std::vector<TensorSpec> tensors = {
        {"token_embd.weight", GgmlType::F32, {16, 5}, {}},
        {"blk.0.attn_q.weight", GgmlType::F16, {64, 3}, {}},
        {"blk.0.attn_k.weight", GgmlType::Q4_0, {64, 2}, {}},
        {"blk.0.ffn_up.weight", GgmlType::Q8_0, {96, 3}, {}},
        {"blk.0.ffn_down.weight", GgmlType::Q4_K, {256, 2}, {}},
        {"output.weight", GgmlType::Q6_K, {512, 1, 1}, {}},
        {"blk.0.attn_norm.weight", GgmlType::F32, {7}, {}},
        {"blk.0.exps", GgmlType::BF16, {32, 4, 3}, {}},
    };
    auto path = temp_path(fmt::format("rt{}.gguf", alignment));
    {
        gguf::Writer w(path, alignment);
        for (const auto& [k, v] : kv) w.set(k, v);
        for (auto& t : tensors) {
            w.add_tensor(t.name, t.type, t.ne);
            t.bytes.resize(w.tensors().back().n_bytes);
            for (auto& b : t.bytes) b = static_cast<uint8_t>(rng());
        }
        for (size_t i = 0; i < tensors.size(); ++i) {
            const auto& b = tensors[i].bytes;
            if (i % 2) {  // chunked writes
                size_t half = b.size() / 3;
                w.write(std::span(b).first(half));
                w.write(std::span(b).subspan(half));
            } else {
                w.write(b);
            }
        }
        EXPECT_TRUE(fs::exists(w.tmp_path()));
        EXPECT_FALSE(fs::exists(path));
        w.finish();
    }
    ASSERT_TRUE(fs::exists(path));
    EXPECT_FALSE(fs::exists(path.string() + ".tmp"));

    auto f = gguf::File::open(path);
    EXPECT_EQ(f->version(), 3u);
    EXPECT_EQ(f->alignment(), alignment);
    EXPECT_EQ(f->trailing_bytes(), 0u);
    const size_t extra = alignment != gguf::kDefaultAlignment ? 1 : 0;  // general.alignment
    ASSERT_EQ(f->metadata().size(), kv.size() + extra);
    EXPECT_EQ(f->metadata()[0].first, "general.architecture");
    for (const auto& [k, v] : kv) {
        const Value* got = f->find(k);
        ASSERT_NE(got, nullptr) << k;
        EXPECT_TRUE(same(*got, v)) << k;
    }
    ASSERT_EQ(f->tensors().size(), tensors.size());
    EXPECT_EQ(f->data_offset() % alignment, 0u);
    uint64_t expect_offset = 0;
    for (size_t i = 0; i < tensors.size(); ++i) {
        const auto& t = f->tensors()[i];
        EXPECT_EQ(t.name, tensors[i].name);
        EXPECT_EQ(t.type, tensors[i].type);
        EXPECT_EQ(t.offset, expect_offset);
        EXPECT_EQ(t.n_dims, tensors[i].name == "output.weight" ? 1u : tensors[i].ne.size())
            << "trailing 1s are trimmed";
        for (size_t d = 0; d < tensors[i].ne.size(); ++d) EXPECT_EQ(t.ne[d], tensors[i].ne[d]);
        ASSERT_EQ(t.n_bytes, tensors[i].bytes.size());
        EXPECT_EQ(0, std::memcmp(t.data, tensors[i].bytes.data(), t.n_bytes)) << t.name;
        EXPECT_EQ((f->data_offset() + t.offset) % alignment, 0u);
        expect_offset += (t.n_bytes + alignment - 1) / alignment * alignment;
    }
    EXPECT_EQ(f->get_array<float>("test.array.f32").size(),
              std::get<gguf::Array>(f->find("test.array.f32")->v).items.size());
    EXPECT_THROW(f->get_array<int32_t>("test.array.f32"), gguf::GgufError);
    fs::remove(path);
}

INSTANTIATE_TEST_SUITE_P(Alignments, GgufRoundTrip, ::testing::Values(32u, 64u, 1u));

TEST(GgufWriter, KnownHeaderBytes) {  // GGUF.md §1.3 byte example for a KV
    auto path = temp_path("bytes.gguf");
    {
        gguf::Writer w(path);
        w.set("general.architecture", "qwen2");
        w.finish();
    }
    std::ifstream in(path, std::ios::binary);
    std::vector<uint8_t> got((std::istreambuf_iterator<char>(in)), {});
    std::vector<uint8_t> want = {'G', 'G', 'U', 'F', 3, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0,
                                 20, 0, 0, 0, 0, 0, 0, 0};
    for (char c : std::string("general.architecture")) want.push_back(static_cast<uint8_t>(c));
    for (uint8_t b : {8, 0, 0, 0, 5, 0, 0, 0, 0, 0, 0, 0}) want.push_back(b);
    for (char c : std::string("qwen2")) want.push_back(static_cast<uint8_t>(c));
    EXPECT_EQ(got, want);
    fs::remove(path);
}

TEST(GgufWriter, AbandonedWriterLeavesNothing) {
    auto path = temp_path("abandoned.gguf");
    {
        gguf::Writer w(path);
        std::vector<int64_t> ne = {32};
        w.add_tensor("t", GgmlType::F32, ne);
        std::vector<uint8_t> half(64);
        w.write(half);
    }
    EXPECT_FALSE(fs::exists(path));
    EXPECT_FALSE(fs::exists(path.string() + ".tmp"));
}

TEST(GgufWriter, FinishWithMissingDataFailsAndLeavesNothing) {
    auto path = temp_path("short.gguf");
    {
        gguf::Writer w(path);
        std::vector<int64_t> ne = {32};
        w.add_tensor("t", GgmlType::F32, ne);
        std::vector<uint8_t> part(100);
        w.write(part);
        EXPECT_THROW(w.finish(), Error);
    }
    EXPECT_FALSE(fs::exists(path));
    EXPECT_FALSE(fs::exists(path.string() + ".tmp"));
}

TEST(GgufWriter, RejectsWhatReadersWouldReject) {
    auto path = temp_path("bad.gguf");
    gguf::Writer w(path);
    std::vector<int64_t> ne31 = {31};
    EXPECT_THROW(w.add_tensor("q", GgmlType::Q4_0, ne31), Error);
    EXPECT_THROW(w.add_tensor(std::string(64, 'x'), GgmlType::F32, ne31), Error);
    std::vector<int64_t> ne = {4};
    w.add_tensor("a", GgmlType::F32, ne);
    EXPECT_THROW(w.add_tensor("a", GgmlType::F32, ne), Error);
    EXPECT_THROW(w.set("", Value(uint32_t{1})), Error);
}

TEST(GgufWriter, TooManyBytesIsAnError) {
    auto path = temp_path("long.gguf");
    gguf::Writer w(path);
    std::vector<int64_t> ne = {4};
    w.add_tensor("a", GgmlType::F32, ne);
    std::vector<uint8_t> bytes(17);
    EXPECT_THROW(w.write(bytes), Error);
}

}  // namespace
}  // namespace r1::test
