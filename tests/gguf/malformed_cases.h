// One malformed file per case of RELIABILITY.md §4.1 (G01-G22), with the problem class the
// reader must report. Shared by the unit test and the fuzz seed-corpus generator.
#pragma once

#include <ostream>
#include <string>
#include <vector>

#include "runtime/gguf/gguf.h"
#include "tests/gguf/gguf_bytes.h"

namespace r1::test {

struct MalformedCase {
    std::string id;    // "G04a"
    std::string what;  // what is wrong
    std::vector<uint8_t> bytes;
    gguf::ErrorCode expect;
};

inline void PrintTo(const MalformedCase& c, std::ostream* os) { *os << c.id << " (" << c.what << ")"; }

inline std::vector<MalformedCase> malformed_cases() {
    using gguf::ErrorCode;
    using E = ErrorCode;
    std::vector<MalformedCase> cs;
    auto add = [&](std::string id, std::string what, const Bytes& b, E e) {
        cs.push_back({std::move(id), std::move(what), b.b, e});
    };
    constexpr uint64_t kMax64 = ~uint64_t{0};
    constexpr uint32_t F32 = 0, Q4_0 = 2, I64 = 27;
    // A valid one-tensor file around a tensor info (F32 [4] = 16 bytes of data unless told).
    auto one_tensor = [](std::vector<int64_t> ne, uint32_t type, uint64_t offset, size_t data) {
        Bytes b;
        b.header(1, 0).tensor("t", std::move(ne), type, offset).pad(32).zeros(data);
        return b;
    };

    add("G01a", "0-byte file", Bytes{}, E::Truncated);
    add("G01b", "magic only", Bytes{}.raw("GGUF"), E::Truncated);
    add("G01c", "cut mid-header (12 bytes)", Bytes{}.raw("GGUF").u32(3).u32(0), E::Truncated);
    add("G02a", "bad magic FUGG", Bytes{}.raw("FUGG").u32(3).u64(0).u64(0), E::BadMagic);
    add("G02b", "legacy GGJT", Bytes{}.raw("GGJT").u32(3).u64(0).u64(0), E::BadMagic);
    add("G02c", "legacy ggjt", Bytes{}.raw("ggjt").u32(3).u64(0).u64(0), E::BadMagic);
    add("G02d", "legacy GGML", Bytes{}.raw("GGML").u32(3).u64(0).u64(0), E::BadMagic);
    add("G03a", "version 0", Bytes{}.header(0, 0, 0), E::Version);
    add("G03b", "version 1", Bytes{}.header(0, 0, 1), E::Version);
    add("G03c", "version 4", Bytes{}.header(0, 0, 4), E::Version);
    add("G03d", "byte-swapped version", Bytes{}.header(0, 0, 0x03000000), E::Version);
    add("G04a", "n_tensors = 2^64-1", Bytes{}.header(kMax64, 0), E::Count);
    add("G04b", "n_kv = 2^64-1", Bytes{}.header(0, kMax64), E::Count);
    {
        Bytes b;
        b.header(0, uint64_t{1} << 32).zeros(100 - 24);
        add("G05a", "n_kv = 2^32 in a 100-byte file", b, E::Truncated);
        Bytes c;
        c.header(uint64_t{1} << 32, 0).zeros(100 - 24);
        add("G05b", "n_tensors = 2^32 in a 100-byte file", c, E::Truncated);
    }
    add("G06a", "key length 2^64-1", Bytes{}.header(0, 1).u64(kMax64).raw("key").u32(4).u32(1), E::StringLen);
    add("G06b", "key length past EOF", Bytes{}.header(0, 1).u64(1000).raw("key").u32(4).u32(1), E::StringLen);
    add("G07", "empty key", Bytes{}.header(0, 1).str("").u32(4).u32(1), E::EmptyKey);
    add("G08", "non-UTF-8 key", Bytes{}.header(0, 1).str("\xff\xfe\x80key").u32(4).u32(1), E::KeyEncoding);
    add("G09", "duplicate key", Bytes{}.header(0, 2).kv_u32("a.b", 1).kv_u32("a.b", 2), E::DupKey);
    add("G10a", "value type 99", Bytes{}.header(0, 1).str("k").u32(99).u32(0), E::KvType);
    add("G10b", "value type -1", Bytes{}.header(0, 1).str("k").u32(0xFFFFFFFF).u32(0), E::KvType);
    add("G10c", "array element type 77", Bytes{}.header(0, 1).str("k").u32(9).u32(77).u64(1).u32(0), E::KvType);
    add("G10d", "array of arrays", Bytes{}.header(0, 1).str("k").u32(9).u32(9).u64(1).u32(4).u64(0), E::KvType);
    add("G10e", "bool value 2", Bytes{}.header(0, 1).str("k").u32(7).u8(2), E::KvType);
    add("G11a", "string value length 2^64-1", Bytes{}.header(0, 1).str("k").u32(8).u64(kMax64).raw("x"), E::StringLen);
    add("G11b", "string of 1 MiB with 16 bytes left", Bytes{}.header(0, 1).str("k").u32(8).u64(1 << 20).zeros(16), E::StringLen);
    add("G11c", "string length = cap + 1", Bytes{}.header(0, 1).str("k").u32(8).u64(gguf::kMaxStringLen + 1).zeros(16), E::StringLen);
    add("G12a", "array of 2^40 u8", Bytes{}.header(0, 1).str("k").u32(9).u32(0).u64(uint64_t{1} << 40).zeros(8), E::ArrayLen);
    add("G12b", "array of 2^40 strings", Bytes{}.header(0, 1).str("k").u32(9).u32(8).u64(uint64_t{1} << 40).zeros(8), E::ArrayLen);
    add("G12c", "array count x elem size overflows", Bytes{}.header(0, 1).str("k").u32(9).u32(10).u64(uint64_t{1} << 62).zeros(8), E::ArrayLen);
    add("G12d", "array of 1000 u32 with 8 bytes left", Bytes{}.header(0, 1).str("k").u32(9).u32(4).u64(1000).zeros(8), E::ArrayLen);
    add("G13a", "alignment 0", Bytes{}.header(0, 1).kv_u32("general.alignment", 0), E::Alignment);
    add("G13b", "alignment 13", Bytes{}.header(0, 1).kv_u32("general.alignment", 13), E::Alignment);
    add("G13c", "alignment 2^31", Bytes{}.header(0, 1).kv_u32("general.alignment", 1u << 31), E::Alignment);
    add("G14a", "alignment as i32", Bytes{}.header(0, 1).str("general.alignment").u32(5).u32(32), E::KvType);
    add("G14b", "alignment as string", Bytes{}.header(0, 1).kv_str("general.alignment", "32"), E::KvType);
    add("G14c", "alignment as array", Bytes{}.header(0, 1).str("general.alignment").u32(9).u32(4).u64(1).u32(32), E::KvType);
    add("G15a", "n_dims = 5", Bytes{}.header(1, 0).str("t").u32(5).i64(1).i64(1).i64(1).i64(1).i64(1).u32(0).u64(0), E::NDims);
    add("G15b", "n_dims = 0xFFFFFFFF", Bytes{}.header(1, 0).str("t").u32(0xFFFFFFFF).i64(1).u32(0).u64(0).zeros(64), E::NDims);
    add("G15c", "n_dims = 0", Bytes{}.header(1, 0).str("t").u32(0).u32(0).u64(0).zeros(64), E::NDims);
    add("G16a", "negative dimension", one_tensor({-4}, F32, 0, 32), E::Shape);
    add("G16b", "ne = [2^32, 2^32] overflows int64", one_tensor({int64_t{1} << 32, int64_t{1} << 32}, F32, 0, 32), E::SizeOverflow);
    add("G16c", "F32 ne = [2^62]: bytes overflow", one_tensor({int64_t{1} << 62}, F32, 0, 32), E::SizeOverflow);
    add("G16d", "I64 ne = [2^61, 4]: bytes overflow", one_tensor({int64_t{1} << 61, 4}, I64, 0, 32), E::SizeOverflow);
    add("G17a", "tensor type 9999", one_tensor({4}, 9999, 0, 32), E::TensorType);
    add("G17b", "tensor type -1", one_tensor({4}, 0xFFFFFFFF, 0, 32), E::TensorType);
    add("G17c", "removed type Q4_2 (4)", one_tensor({32}, 4, 0, 32), E::TensorType);
    add("G18", "Q4_0 with ne[0] = 31", one_tensor({31}, Q4_0, 0, 32), E::BlockAlign);
    add("G19a", "offset 2^40 past EOF", one_tensor({4}, F32, uint64_t{1} << 40, 32), E::DataRange);
    add("G19b", "offset 2^64-1", one_tensor({4}, F32, kMax64, 32), E::DataRange);
    add("G19c", "data one byte short", one_tensor({4}, F32, 0, 15), E::DataRange);
    {
        auto two = [](uint64_t off2) {
            Bytes b;
            b.header(2, 0).tensor("a", {4}, 0, 0).tensor("b", {4}, 0, off2).pad(32).zeros(128);
            return b;
        };
        add("G20a", "misaligned offset 16", two(16), E::Offset);
        add("G20b", "two tensors at the same offset", two(0), E::Offset);
        add("G20c", "a hole between tensors", two(64), E::Offset);
        Bytes c;
        c.header(2, 0).tensor("a", {int64_t{1} << 61}, 0, 0).tensor("b", {int64_t{1} << 61}, 0, uint64_t{1} << 63).pad(32).zeros(64);
        add("G21a", "padded sizes add past 2^64", c, E::SizeOverflow);
        add("G21b", "padding a size near 2^64 overflows", one_tensor({(int64_t{1} << 62) - 1}, F32, 0, 32), E::SizeOverflow);
    }
    {
        Bytes b;
        b.header(2, 0).tensor("a", {4}, 0, 0).tensor("a", {4}, 0, 32).pad(32).zeros(64);
        add("G22a", "duplicate tensor name", b, E::TensorName);
    }
    add("G22b", "tensor name of 64 bytes", Bytes{}.header(1, 0).tensor(std::string(64, 'n'), {4}, 0, 0).pad(32).zeros(32), E::TensorName);
    add("G22c", "empty tensor name", Bytes{}.header(1, 0).tensor("", {4}, 0, 0).pad(32).zeros(32), E::TensorName);
    add("G22d", "non-UTF-8 tensor name", Bytes{}.header(1, 0).tensor("bad\xc3(", {4}, 0, 0).pad(32).zeros(32), E::TensorName);
    return cs;
}

}  // namespace r1::test
