// The safetensors reader against RELIABILITY.md §4.3: every malformed case ST01-ST16 gives the
// documented error class with a one-line message naming the source; valid edge cases (empty
// tensors, scalars, NaN, unaligned data, trailing header spaces) are read correctly.
#include <unistd.h>

#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>

#include <gtest/gtest.h>

#include "runtime/safetensors/safetensors.h"

namespace r1::test {
namespace {

using safetensors::ErrorCode;

std::vector<uint8_t> file_bytes(const std::string& header, const std::vector<uint8_t>& data, uint64_t n_override = 0,
                                bool use_override = false) {
    std::vector<uint8_t> b(8 + header.size() + data.size());
    uint64_t n = use_override ? n_override : header.size();
    std::memcpy(b.data(), &n, 8);
    if (!header.empty()) std::memcpy(b.data() + 8, header.data(), header.size());
    if (!data.empty()) std::memcpy(b.data() + 8 + header.size(), data.data(), data.size());
    return b;
}

std::vector<uint8_t> zeros(size_t n) { return std::vector<uint8_t>(n, 0); }

struct Case {
    std::string id, what;
    std::vector<uint8_t> bytes;
    ErrorCode expect;
};

std::vector<Case> cases() {
    const std::string t1 = R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}})";
    std::vector<Case> c;
    c.push_back({"ST01a", "empty file", {}, ErrorCode::HeaderTooSmall});
    c.push_back({"ST01b", "7 bytes", {1, 2, 3, 4, 5, 6, 7}, ErrorCode::HeaderTooSmall});
    c.push_back({"ST02a", "N past the end", file_bytes(t1, zeros(8), 4096, true), ErrorCode::InvalidHeaderLength});
    c.push_back({"ST02b", "N = 2^64-1", file_bytes(t1, zeros(8), ~0ull, true), ErrorCode::InvalidHeaderLength});
    c.push_back({"ST03", "N = 100000001", file_bytes(t1, zeros(8), 100'000'001, true), ErrorCode::HeaderTooLarge});
    c.push_back({"ST04a", "header not UTF-8", file_bytes("{\"\xff\xfe\":1}", {}), ErrorCode::InvalidHeader});
    c.push_back({"ST04b", "first byte not {", file_bytes(" {}", {}), ErrorCode::InvalidHeaderStart});
    c.push_back({"ST05a", "invalid JSON", file_bytes("{\"a\":", {}), ErrorCode::InvalidHeaderDeserialization});
    c.push_back({"ST05i", "metadata nested 100000 deep",
                 file_bytes("{\"__metadata__\":" + std::string(100000, '[') + std::string(100000, ']') + "}", {}),
                 ErrorCode::InvalidHeaderDeserialization});
    c.push_back({"ST05b", "top-level array", file_bytes("[1,2]", {}), ErrorCode::InvalidHeaderStart});
    c.push_back({"ST05c", "missing dtype", file_bytes(R"({"a":{"shape":[2],"data_offsets":[0,8]}})", zeros(8)),
                 ErrorCode::InvalidHeaderDeserialization});
    c.push_back({"ST05d", "missing shape", file_bytes(R"({"a":{"dtype":"F32","data_offsets":[0,8]}})", zeros(8)),
                 ErrorCode::InvalidHeaderDeserialization});
    c.push_back({"ST05e", "missing data_offsets", file_bytes(R"({"a":{"dtype":"F32","shape":[2]}})", zeros(8)),
                 ErrorCode::InvalidHeaderDeserialization});
    c.push_back({"ST05f", "negative shape", file_bytes(R"({"a":{"dtype":"F32","shape":[-2],"data_offsets":[0,8]}})", zeros(8)),
                 ErrorCode::InvalidHeaderDeserialization});
    c.push_back({"ST05g", "float shape", file_bytes(R"({"a":{"dtype":"F32","shape":[2.0],"data_offsets":[0,8]}})", zeros(8)),
                 ErrorCode::InvalidHeaderDeserialization});
    c.push_back({"ST05h", "string shape", file_bytes(R"({"a":{"dtype":"F32","shape":["2"],"data_offsets":[0,8]}})", zeros(8)),
                 ErrorCode::InvalidHeaderDeserialization});
    c.push_back({"ST06a", "unknown dtype", file_bytes(R"({"a":{"dtype":"Q9","shape":[2],"data_offsets":[0,8]}})", zeros(8)),
                 ErrorCode::Dtype});
    c.push_back({"ST06b", "lower-case dtype", file_bytes(R"({"a":{"dtype":"f16","shape":[2],"data_offsets":[0,4]}})", zeros(4)),
                 ErrorCode::Dtype});
    c.push_back({"ST07a", "end < begin", file_bytes(R"({"a":{"dtype":"U8","shape":[0],"data_offsets":[4,0]}})", zeros(4)),
                 ErrorCode::InvalidOffset});
    c.push_back({"ST07b", "hole", file_bytes(R"({"a":{"dtype":"U8","shape":[4],"data_offsets":[4,8]}})", zeros(8)),
                 ErrorCode::InvalidOffset});
    c.push_back({"ST07c", "overlap",
                 file_bytes(R"({"a":{"dtype":"U8","shape":[4],"data_offsets":[0,4]},"b":{"dtype":"U8","shape":[4],"data_offsets":[2,6]}})", zeros(6)),
                 ErrorCode::InvalidOffset});
    c.push_back({"ST07d", "shared range",
                 file_bytes(R"({"a":{"dtype":"U8","shape":[4],"data_offsets":[0,4]},"b":{"dtype":"U8","shape":[4],"data_offsets":[0,4]}})", zeros(4)),
                 ErrorCode::InvalidOffset});
    c.push_back({"ST08", "dtype/shape mismatch", file_bytes(R"({"a":{"dtype":"F32","shape":[2,3],"data_offsets":[0,16]}})", zeros(16)),
                 ErrorCode::TensorInvalidInfo});
    c.push_back({"ST09", "shape product overflow",
                 file_bytes(R"({"a":{"dtype":"F32","shape":[1099511627776,1099511627776],"data_offsets":[0,8]}})", zeros(8)),
                 ErrorCode::ValidationOverflow});
    c.push_back({"ST10a", "trailing bytes", file_bytes(t1, zeros(12)), ErrorCode::MetadataIncompleteBuffer});
    c.push_back({"ST10b", "short buffer", file_bytes(R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}})", zeros(4)),
                 ErrorCode::MetadataIncompleteBuffer});
    c.push_back({"ST11", "duplicate tensor",
                 file_bytes(R"({"a":{"dtype":"U8","shape":[4],"data_offsets":[0,4]},"a":{"dtype":"U8","shape":[4],"data_offsets":[4,8]}})", zeros(8)),
                 ErrorCode::DuplicateTensor});
    c.push_back({"ST12a", "metadata value not a string", file_bytes(R"({"__metadata__":{"format":1}})", {}), ErrorCode::InvalidMetadata});
    c.push_back({"ST12b", "nested metadata", file_bytes(R"({"__metadata__":{"x":{"y":"z"}}})", {}), ErrorCode::InvalidMetadata});
    return c;
}

class Malformed : public ::testing::TestWithParam<Case> {};

void PrintTo(const Case& c, std::ostream* os) { *os << c.id << " (" << c.what << ")"; }

TEST_P(Malformed, ReportsTheProblem) {
    const Case& c = GetParam();
    try {
        auto f = safetensors::File::parse(c.bytes, "case.safetensors");
        FAIL() << c.id << " (" << c.what << ") was accepted";
    } catch (const safetensors::SafetensorsError& e) {
        EXPECT_EQ(safetensors::error_code_name(e.code()), safetensors::error_code_name(c.expect)) << c.id << ": " << e.what();
        EXPECT_EQ(std::string(e.what()).rfind("case.safetensors: ", 0), 0u) << e.what();
        EXPECT_EQ(std::string(e.what()).find('\n'), std::string::npos) << e.what();
    }
}

INSTANTIATE_TEST_SUITE_P(Reliability, Malformed, ::testing::ValuesIn(cases()),
                         [](const auto& info) { return info.param.id; });

TEST(Safetensors, TrailingSpacesEmptyTensorsAndScalarsAreValid) {  // ST04 (spaces), ST13
    std::string h = R"({"__metadata__":{"format":"pt"},"e":{"dtype":"F32","shape":[0,4],"data_offsets":[0,0]},)"
                    R"("s":{"dtype":"F32","shape":[],"data_offsets":[0,4]}})";
    h.append(8 - h.size() % 8, ' ');
    float one = 1.0f;
    std::vector<uint8_t> data(4);
    std::memcpy(data.data(), &one, 4);
    auto bytes = file_bytes(h, data);
    auto f = safetensors::File::parse(bytes);
    ASSERT_EQ(f->tensors().size(), 2u);
    EXPECT_EQ(f->find("e")->n_elements, 0);
    EXPECT_EQ(f->find("s")->n_elements, 1);
    EXPECT_EQ(f->metadata().at("format"), "pt");
    float v = 0;
    f->read_f32(*f->find("s"), 0, 1, &v);
    EXPECT_EQ(v, 1.0f);
}

TEST(Safetensors, NanInfAndUnalignedDataAreRead) {  // ST14, ST15: header length 61, not a multiple of 8
    std::string h = R"({"x":{"dtype":"F32","shape":[3],"data_offsets":[0,12]}})";
    while ((8 + h.size()) % 4 != 1) h += ' ';  // data starts 1 byte past a 4-byte boundary
    float vals[3] = {std::nanf(""), INFINITY, -2.5f};
    std::vector<uint8_t> data(12);
    std::memcpy(data.data(), vals, 12);
    auto bytes = file_bytes(h, data);
    auto f = safetensors::File::parse(bytes);
    float out[3];
    f->read_f32(*f->find("x"), 0, 3, out);
    EXPECT_TRUE(std::isnan(out[0]));
    EXPECT_EQ(out[1], INFINITY);
    EXPECT_EQ(out[2], -2.5f);
}

TEST(Safetensors, TooManyTensorsIsRefusedQuickly) {  // ST16
    std::string h = "{";
    for (size_t i = 0; i <= safetensors::kMaxTensors + 1; ++i)  // __metadata__ aside
        h += fmt::format("{}\"t{}\":{{\"dtype\":\"U8\",\"shape\":[0],\"data_offsets\":[0,0]}}", i ? "," : "", i);
    h += "}";
    auto bytes = file_bytes(h, {});
    try {
        safetensors::File::parse(bytes);
        FAIL() << "accepted";
    } catch (const safetensors::SafetensorsError& e) {
        EXPECT_EQ(e.code(), ErrorCode::TooManyTensors) << e.what();
    }
}

// Element formats widened exactly: every F16 / F8 code checked against its IEEE definition.
TEST(Safetensors, ElementFormatsWidenExactly) {
    for (uint32_t h = 0; h < 0x10000; ++h) {
        uint32_t e = (h >> 10) & 31, m = h & 1023;
        float want = e == 0 ? std::ldexp(float(m), -24) : e == 31 ? (m ? NAN : INFINITY) : std::ldexp(float(1024 + m), int(e) - 25);
        if (h & 0x8000) want = -want;
        float got = safetensors::f16_bits_to_f32(static_cast<uint16_t>(h));
        if (std::isnan(want)) EXPECT_TRUE(std::isnan(got)) << h;
        else EXPECT_EQ(got, want) << h;
    }
    // E4M3FN: 448 is the largest finite value, 2^-9 the smallest subnormal, 0x7F NaN.
    EXPECT_EQ(safetensors::f8_e4m3_to_f32(0x7E), 448.0f);
    EXPECT_EQ(safetensors::f8_e4m3_to_f32(0x01), std::ldexp(1.0f, -9));
    EXPECT_EQ(safetensors::f8_e4m3_to_f32(0x38), 1.0f);
    EXPECT_EQ(safetensors::f8_e4m3_to_f32(0xC0), -2.0f);
    EXPECT_TRUE(std::isnan(safetensors::f8_e4m3_to_f32(0x7F)));
    EXPECT_EQ(safetensors::f8_e5m2_to_f32(0x7B), 57344.0f);
    EXPECT_EQ(safetensors::f8_e5m2_to_f32(0x7C), INFINITY);
}

TEST(Safetensors, FilesAreReadWithPread) {
    std::string h = R"({"x":{"dtype":"BF16","shape":[2],"data_offsets":[0,4]}})";
    std::vector<uint8_t> data = {0x80, 0x3F, 0x00, 0xC0};  // 1.0, -2.0
    auto bytes = file_bytes(h, data);
    auto p = std::filesystem::temp_directory_path() / fmt::format("r1_st_{}.safetensors", getpid());
    std::ofstream(p, std::ios::binary).write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
    auto f = safetensors::File::open(p);
    float out[2];
    f->read_f32(*f->find("x"), 0, 2, out);
    EXPECT_EQ(out[0], 1.0f);
    EXPECT_EQ(out[1], -2.0f);
    std::filesystem::remove(p);
    EXPECT_THROW(safetensors::File::open("/nonexistent.safetensors"), safetensors::SafetensorsError);
    try {
        safetensors::File::open(std::filesystem::temp_directory_path());
        FAIL();
    } catch (const safetensors::SafetensorsError& e) {
        EXPECT_EQ(e.code(), ErrorCode::NotRegularFile);
    }
}

}  // namespace
}  // namespace r1::test
