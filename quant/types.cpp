// The ggml type table. Sizes as in GGUF.md §2.1 (checked there with sizeof on ggml's structs).
#include "quant/types.h"

#include <array>
#include <cctype>

namespace r1 {
namespace {

constexpr uint32_t kQK = 256;

constexpr std::array<TypeTraits, kGgmlTypeCount> make_table() {
    std::array<TypeTraits, kGgmlTypeCount> t{};
    auto set = [&](GgmlType id, std::string_view n, uint32_t bs, uint32_t ts, bool q) {
        t[static_cast<uint32_t>(id)] = TypeTraits{n, bs, ts, q};
    };
    set(GgmlType::F32, "f32", 1, 4, false);
    set(GgmlType::F16, "f16", 1, 2, false);
    set(GgmlType::Q4_0, "q4_0", 32, 18, true);
    set(GgmlType::Q4_1, "q4_1", 32, 20, true);
    set(GgmlType::Q5_0, "q5_0", 32, 22, true);
    set(GgmlType::Q5_1, "q5_1", 32, 24, true);
    set(GgmlType::Q8_0, "q8_0", 32, 34, true);
    set(GgmlType::Q8_1, "q8_1", 32, 36, true);
    set(GgmlType::Q2_K, "q2_K", kQK, 84, true);
    set(GgmlType::Q3_K, "q3_K", kQK, 110, true);
    set(GgmlType::Q4_K, "q4_K", kQK, 144, true);
    set(GgmlType::Q5_K, "q5_K", kQK, 176, true);
    set(GgmlType::Q6_K, "q6_K", kQK, 210, true);
    set(GgmlType::Q8_K, "q8_K", kQK, 292, true);
    set(GgmlType::IQ2_XXS, "iq2_xxs", kQK, 66, true);
    set(GgmlType::IQ2_XS, "iq2_xs", kQK, 74, true);
    set(GgmlType::IQ3_XXS, "iq3_xxs", kQK, 98, true);
    set(GgmlType::IQ1_S, "iq1_s", kQK, 50, true);
    set(GgmlType::IQ4_NL, "iq4_nl", 32, 18, true);
    set(GgmlType::IQ3_S, "iq3_s", kQK, 110, true);
    set(GgmlType::IQ2_S, "iq2_s", kQK, 82, true);
    set(GgmlType::IQ4_XS, "iq4_xs", kQK, 136, true);
    set(GgmlType::I8, "i8", 1, 1, false);
    set(GgmlType::I16, "i16", 1, 2, false);
    set(GgmlType::I32, "i32", 1, 4, false);
    set(GgmlType::I64, "i64", 1, 8, false);
    set(GgmlType::F64, "f64", 1, 8, false);
    set(GgmlType::IQ1_M, "iq1_m", kQK, 56, true);
    set(GgmlType::BF16, "bf16", 1, 2, false);
    set(GgmlType::TQ1_0, "tq1_0", kQK, 54, true);
    set(GgmlType::TQ2_0, "tq2_0", kQK, 66, true);
    set(GgmlType::MXFP4, "mxfp4", 32, 17, true);
    set(GgmlType::NVFP4, "nvfp4", 64, 36, true);
    return t;
}

constexpr auto kTable = make_table();

bool iequal(std::string_view a, std::string_view b) {
    if (a.size() != b.size()) return false;
    for (size_t i = 0; i < a.size(); ++i) {
        if (std::tolower(static_cast<unsigned char>(a[i])) !=
            std::tolower(static_cast<unsigned char>(b[i])))
            return false;
    }
    return true;
}

}  // namespace

const TypeTraits* type_traits(uint32_t id) {
    if (id >= kGgmlTypeCount || kTable[id].block_size == 0) return nullptr;
    return &kTable[id];
}

std::optional<GgmlType> type_from_name(std::string_view name) {
    for (uint32_t id = 0; id < kGgmlTypeCount; ++id) {
        if (kTable[id].block_size != 0 && iequal(kTable[id].name, name))
            return static_cast<GgmlType>(id);
    }
    return std::nullopt;
}

const char* file_type_name(uint32_t ftype) {
    switch (ftype) {
        case 0: return "F32";
        case 1: return "F16";
        case 2: return "Q4_0";
        case 3: return "Q4_1";
        case 7: return "Q8_0";
        case 8: return "Q5_0";
        case 9: return "Q5_1";
        case 10: return "Q2_K";
        case 11: return "Q3_K_S";
        case 12: return "Q3_K_M";
        case 13: return "Q3_K_L";
        case 14: return "Q4_K_S";
        case 15: return "Q4_K_M";
        case 16: return "Q5_K_S";
        case 17: return "Q5_K_M";
        case 18: return "Q6_K";
        case 19: return "IQ2_XXS";
        case 20: return "IQ2_XS";
        case 21: return "Q2_K_S";
        case 22: return "IQ3_XS";
        case 23: return "IQ3_XXS";
        case 24: return "IQ1_S";
        case 25: return "IQ4_NL";
        case 26: return "IQ3_S";
        case 27: return "IQ3_M";
        case 28: return "IQ2_S";
        case 29: return "IQ2_M";
        case 30: return "IQ4_XS";
        case 31: return "IQ1_M";
        case 32: return "BF16";
        case 36: return "TQ1_0";
        case 37: return "TQ2_0";
        case 38: return "MXFP4_MOE";
        default: return nullptr;
    }
}

}  // namespace r1
