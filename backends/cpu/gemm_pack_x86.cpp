// Weight rows of the VNNI formats unpacked to unsigned quants, panels of 16 rows packed once at
// model load (pack_matrix), and the activations quantized to Q8_0 for either product (gemm_x86.h
// holds the arithmetic and the file map). x86 only; elsewhere pack_supported() is false.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "backends/cpu/gemm_x86.h"
#include "quant/blocks.h"
#include "quant/fp16.h"
#include "quant/k_common.h"

#if R1_GEMM_X86
#include <omp.h>
#endif

namespace r1::cpu {

#if R1_GEMM_X86
namespace vnni {
namespace {

// ---- one row to unsigned quants q (n_in bytes) and per-sub-block dw, mw ----
// (compiled for AVX-512 like everything here, so the byte loops vectorise: they run at load
// for every repacked matrix and per call for the per-call GEMM)

// The 32 quants of a legacy 4-bit block: element j in the low nibble of qs[j], j+16 in the high.
R1_AVX2 inline void nibbles32(const uint8_t* qs, uint8_t* q) {
    for (int j = 0; j < 16; ++j) {
        q[j] = qs[j] & 0xF;
        q[j + 16] = qs[j] >> 4;
    }
}

R1_AVX2 void unpack_q4_0(const void* row, int64_t n_in, uint8_t* q, float* dw, float* mw) {
    const auto* x = static_cast<const BlockQ4_0*>(row);
    for (int64_t b = 0; b < n_in / 32; ++b, q += 32) {
        nibbles32(x[b].qs, q);
        dw[b] = fp16_to_fp32(x[b].d);
        mw[b] = 8.0f * dw[b];
    }
}

R1_AVX2 void unpack_q4_1(const void* row, int64_t n_in, uint8_t* q, float* dw, float* mw) {
    const auto* x = static_cast<const BlockQ4_1*>(row);
    for (int64_t b = 0; b < n_in / 32; ++b, q += 32) {
        nibbles32(x[b].qs, q);
        dw[b] = fp16_to_fp32(x[b].d);
        mw[b] = -fp16_to_fp32(x[b].m);
    }
}

// Element e of a Q5 block takes bit e of the little-endian qh as its fifth bit.
template <class B>
R1_AVX2 void unpack_q5(const B* x, int64_t n_in, uint8_t* q, float* dw) {
    for (int64_t b = 0; b < n_in / 32; ++b, q += 32) {
        uint32_t qh;
        std::memcpy(&qh, x[b].qh, 4);
        for (int j = 0; j < 16; ++j) {
            q[j] = uint8_t((x[b].qs[j] & 0xF) | (((qh >> j) & 1) << 4));
            q[j + 16] = uint8_t((x[b].qs[j] >> 4) | (((qh >> (j + 16)) & 1) << 4));
        }
        dw[b] = fp16_to_fp32(x[b].d);
    }
}

R1_AVX2 void unpack_q5_0(const void* row, int64_t n_in, uint8_t* q, float* dw, float* mw) {
    unpack_q5(static_cast<const BlockQ5_0*>(row), n_in, q, dw);
    for (int64_t b = 0; b < n_in / 32; ++b) mw[b] = 16.0f * dw[b];
}

R1_AVX2 void unpack_q5_1(const void* row, int64_t n_in, uint8_t* q, float* dw, float* mw) {
    const auto* x = static_cast<const BlockQ5_1*>(row);
    unpack_q5(x, n_in, q, dw);
    for (int64_t b = 0; b < n_in / 32; ++b) mw[b] = -fp16_to_fp32(x[b].m);
}

R1_AVX2 void unpack_q8_0(const void* row, int64_t n_in, uint8_t* q, float* dw, float* mw) {
    const auto* x = static_cast<const BlockQ8_0*>(row);
    for (int64_t b = 0; b < n_in / 32; ++b, q += 32) {
        for (int j = 0; j < 32; ++j) q[j] = uint8_t(x[b].qs[j] ^ 0x80);  // q + 128
        dw[b] = fp16_to_fp32(x[b].d);
        mw[b] = 128.0f * dw[b];
    }
}

// Q4_K / Q5_K: sub-block j (32 elements) of a super-block has scale d·sc_j and min dmin·m_j.
template <class B, bool kHigh>
R1_AVX2 void unpack_qk(const void* row, int64_t n_in, uint8_t* q, float* dw, float* mw) {
    const auto* x = static_cast<const B*>(row);
    for (int64_t i = 0; i < n_in / kQK_K; ++i, q += kQK_K, dw += 8, mw += 8) {
        const float d = fp16_to_fp32(x[i].d), dmin = fp16_to_fp32(x[i].dmin);
        for (int j = 0; j < 8; ++j) {
            uint8_t sc, m;
            kq::get_scale_min(j, x[i].scales, sc, m);
            dw[j] = d * float(sc);
            mw[j] = dmin * float(m);
        }
        for (int c = 0; c < 4; ++c) {
            const uint8_t* qs = x[i].qs + 32 * c;
            uint8_t* lo = q + 64 * c;
            for (int l = 0; l < 32; ++l) {
                lo[l] = qs[l] & 0xF;
                lo[l + 32] = qs[l] >> 4;
                if constexpr (kHigh) {
                    lo[l] |= uint8_t(((x[i].qh[l] >> (2 * c)) & 1) << 4);
                    lo[l + 32] |= uint8_t(((x[i].qh[l] >> (2 * c + 1)) & 1) << 4);
                }
            }
        }
    }
}

// Q6_K: 16-element sub-blocks, w = d·sc·(q − 32).
R1_AVX2 void unpack_q6_k(const void* row, int64_t n_in, uint8_t* q, float* dw, float* mw) {
    const auto* x = static_cast<const BlockQ6_K*>(row);
    for (int64_t i = 0; i < n_in / kQK_K; ++i, q += kQK_K, dw += 16, mw += 16) {
        const float d = fp16_to_fp32(x[i].d);
        for (int j = 0; j < 16; ++j) {
            dw[j] = d * float(x[i].scales[j]);
            mw[j] = 32.0f * dw[j];
        }
        for (int h = 0; h < 2; ++h) {
            const uint8_t* ql = x[i].ql + 64 * h;
            const uint8_t* qh = x[i].qh + 32 * h;
            uint8_t* o = q + 128 * h;
            for (int l = 0; l < 32; ++l) {
                o[l] = uint8_t((ql[l] & 0xF) | (((qh[l] >> 0) & 3) << 4));
                o[l + 32] = uint8_t((ql[l + 32] & 0xF) | (((qh[l] >> 2) & 3) << 4));
                o[l + 64] = uint8_t((ql[l] >> 4) | (((qh[l] >> 4) & 3) << 4));
                o[l + 96] = uint8_t((ql[l + 32] >> 4) | (((qh[l] >> 6) & 3) << 4));
            }
        }
    }
}

constexpr Format kFormats[] = {
    {GgmlType::Q4_0, unpack_q4_0, 32, 32},
    {GgmlType::Q4_1, unpack_q4_1, 32, 32},
    {GgmlType::Q5_0, unpack_q5_0, 32, 32},
    {GgmlType::Q5_1, unpack_q5_1, 32, 32},
    {GgmlType::Q8_0, unpack_q8_0, 32, 32},
    {GgmlType::Q4_K, unpack_qk<BlockQ4_K, false>, 32, kQK_K},
    {GgmlType::Q5_K, unpack_qk<BlockQ5_K, true>, 32, kQK_K},
    {GgmlType::Q6_K, unpack_q6_k, 16, kQK_K},
};

// ---- weights repacked once at load (decode and prompt batches) ----
// Panels of 16 rows, n_out padded with zero rows; blocks are not 64-byte multiples (Q4_0: 288),
// so every access is unaligned (no measurable cost on AVX-512 machines). Per 32-element block:
//   P4_0 (Q4_0): 4 vectors of nibbles (byte 4j+c of vector i: element 4i+c of row j in the low
//                nibble, element 16+4i+c in the high one), then 16 fp16 d: 288 bytes, as Q4_0.
//   P8_0 (Q8_0): 8 vectors of q + 128, then 16 fp16 d: 544 bytes, as Q8_0.
// Per 256-element super-block, in the order the kernels read it (headers first, each sub-block's
// scales right after its quants: a layout with all scales at the end of the super-block read
// them ~2 KB ahead of the quant stream, and those loads were the top stalls of decode):
//   P4_K (Q4_K): 16 fp16 d, 16 fp16 dmin, then per sub-block 4 nibble vectors, 16 scale bytes
//                and 16 min bytes (the 6-bit values unpacked): 2368 bytes (Q4_K: 2304).
//   P6_K (Q6_K): 16 fp16 d, then 8 pairs of 16-element sub-blocks, each: the low 4 bits as 4
//                nibble vectors, the high 2 bits as 2 vectors (byte c of row j in vector h holds
//                bits 4-5 of elements 16h+4k+c, k = 0..3, at bits 2k), the two sub-blocks' int8
//                scales (16 bytes each): 3360 bytes, as Q6_K.
// The offsets of Q4_0/Q8_0 are exact integer corrections (dot starts at −off·Σqa); Q4_K's dw = d·sc
// and mw = dmin·m are formed in fp32 exactly as the reference dequantizer forms them.
constexpr PackedFormat kPacked[] = {
    {GgmlType::Q4_0, 32, 288},
    {GgmlType::Q8_0, 32, 544},
    {GgmlType::Q4_K, 256, 2368},
    {GgmlType::Q6_K, 256, 3360},
};

// The packer is plain byte loops (compiled for AVX2, which every CPU that runs either product
// has): the same bytes for the AVX-512 and the AVX2 kernels. A 16-row "vector" is 64 bytes whose
// dword j holds four bytes of row j.
struct Lanes {
    alignas(64) uint8_t b[64];
};

// Four quants of each of the 16 unpacked rows q (stride n_in) at element e.
R1_AVX2 inline Lanes gather4(const uint8_t* q, int64_t n_in, int64_t e) {
    Lanes v;
    for (int j = 0; j < kRows; ++j) std::memcpy(v.b + 4 * j, q + size_t(j) * size_t(n_in) + size_t(e), 4);
    return v;
}

// 32 quants (<= 15) of 16 rows at element e as 4 nibble vectors: low nibble element 4i + c,
// high nibble element 16 + 4i + c.
R1_AVX2 void pack_nibbles(const uint8_t* q, int64_t n_in, int64_t e, uint8_t* out) {
    for (int i = 0; i < 4; ++i) {
        const Lanes lo = gather4(q, n_in, e + 4 * i), hi = gather4(q, n_in, e + 16 + 4 * i);
        for (int k = 0; k < 64; ++k) out[64 * i + k] = uint8_t(lo.b[k] | (hi.b[k] << 4));
    }
}

R1_AVX2 void pack_panel_p(const PackedFormat& pf, const uint8_t* w, size_t row_bytes, int64_t r0, int64_t n_out,
                          int64_t n_in, uint8_t* q, float* dw, float* mw, uint8_t* out) {
    const int64_t nsb = n_in / kQK_K;
    unpack_rows(*find_format(pf.type), w, row_bytes, r0, n_out, n_in, q, dw, mw);
    auto* o = out;
    if (pf.type == GgmlType::Q4_K) {
        for (int64_t i = 0; i < nsb; ++i, o += pf.block_bytes) {
            for (int j = 0; j < 8; ++j) pack_nibbles(q, n_in, kQK_K * i + 32 * j, o + kQ4KHead + kQ4KSub * j);
            auto* hd = reinterpret_cast<uint16_t*>(o);
            auto* hdmin = reinterpret_cast<uint16_t*>(o + 32);
            for (int r = 0; r < kRows; ++r) {
                const BlockQ4_K* blk = r0 + r < n_out
                    ? reinterpret_cast<const BlockQ4_K*>(w + size_t(r0 + r) * row_bytes) + i : nullptr;
                hd[r] = blk ? blk->d : 0;
                hdmin[r] = blk ? blk->dmin : 0;
                for (int j = 0; j < 8; ++j) {
                    uint8_t sc = 0, mn = 0;
                    if (blk) kq::get_scale_min(j, blk->scales, sc, mn);
                    o[kQ4KHead + kQ4KSub * j + 256 + r] = sc;
                    o[kQ4KHead + kQ4KSub * j + 272 + r] = mn;
                }
            }
        }
        return;
    }
    if (pf.type == GgmlType::Q6_K) {
        for (int64_t i = 0; i < nsb; ++i, o += pf.block_bytes) {
            for (int m = 0; m < 8; ++m) {
                Lanes wv[8];
                for (int k = 0; k < 8; ++k) wv[k] = gather4(q, n_in, kQK_K * i + 32 * m + 4 * k);
                uint8_t* pm = o + kQ6KHead + kQ6KPair * m;
                for (int k = 0; k < 4; ++k)
                    for (int c = 0; c < 64; ++c)
                        pm[64 * k + c] = uint8_t((wv[k].b[c] & 0x0F) | ((wv[k + 4].b[c] & 0x0F) << 4));
                for (int h = 0; h < 2; ++h)
                    for (int c = 0; c < 64; ++c) {
                        uint8_t hv = 0;
                        for (int k = 0; k < 4; ++k) hv = uint8_t(hv | (((wv[4 * h + k].b[c] >> 4) & 3) << (2 * k)));
                        pm[256 + 64 * h + c] = hv;
                    }
            }
            auto* hd = reinterpret_cast<uint16_t*>(o);
            for (int r = 0; r < kRows; ++r) {
                const BlockQ6_K* blk = r0 + r < n_out
                    ? reinterpret_cast<const BlockQ6_K*>(w + size_t(r0 + r) * row_bytes) + i : nullptr;
                hd[r] = blk ? blk->d : 0;
                for (int j = 0; j < 16; ++j)
                    o[kQ6KHead + kQ6KPair * (j / 2) + 384 + 16 * (j % 2) + r] = uint8_t(blk ? blk->scales[j] : 0);
            }
        }
        return;
    }
    const bool nib = pf.type == GgmlType::Q4_0;
    const size_t wbytes = nib ? 256 : 512;
    for (int64_t b = 0; b < n_in / 32; ++b, o += pf.block_bytes) {
        if (nib) {
            pack_nibbles(q, n_in, 32 * b, o);
        } else {
            for (int i = 0; i < 8; ++i) {
                const Lanes v = gather4(q, n_in, 32 * b + 4 * i);
                std::memcpy(o + 64 * i, v.b, 64);
            }
        }
        auto* hd = reinterpret_cast<uint16_t*>(o + wbytes);
        const auto* rows16 = reinterpret_cast<const uint8_t*>(w);
        for (int r = 0; r < kRows; ++r) {
            uint16_t d = 0;  // the block's fp16 d sits at the start of Q4_0 and Q8_0 blocks
            if (r0 + r < n_out) std::memcpy(&d, rows16 + size_t(r0 + r) * row_bytes + size_t(b) * (nib ? sizeof(BlockQ4_0) : sizeof(BlockQ8_0)), 2);
            hd[r] = d;
        }
    }
}

}  // namespace

namespace {
bool gemm_enabled() {
    const char* e = std::getenv("R1_CPU_GEMM");
    return !(e && std::strcmp(e, "0") == 0);
}
}  // namespace

bool cpu_has_vnni() {
    static const bool ok = [] {
        __builtin_cpu_init();
        return gemm_enabled() && __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
               __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512dq") &&
               __builtin_cpu_supports("avx512vnni");
    }();
    return ok && isa_cap() >= Isa::Avx512;
}

bool cpu_has_avx2() {
    static const bool ok = [] {
        __builtin_cpu_init();
        return gemm_enabled() && __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") &&
               __builtin_cpu_supports("f16c");
    }();
    return ok && isa_cap() >= Isa::Avx2;
}

const Format* find_format(GgmlType t) {
    for (const Format& f : kFormats)
        if (f.type == t) return &f;
    return nullptr;
}

const PackedFormat* find_packed(GgmlType t) {
    for (const PackedFormat& f : kPacked)
        if (f.type == t) return &f;
    return nullptr;
}

// Rows r0 .. r0+15 unpacked into q (16 x n_in bytes), dw and mw (16 x n_sub); zeros past n_out.
R1_AVX2 void unpack_rows(const Format& f, const uint8_t* w, size_t row_bytes, int64_t r0, int64_t n_out, int64_t n_in,
                         uint8_t* q, float* dw, float* mw) {
    const int64_t n_sub = n_in / f.sub;
    for (int j = 0; j < kRows; ++j) {
        uint8_t* qj = q + size_t(j) * size_t(n_in);
        if (r0 + j < n_out) {
            f.unpack(w + size_t(r0 + j) * row_bytes, n_in, qj, dw + j * n_sub, mw + j * n_sub);
        } else {
            std::memset(qj, 0, size_t(n_in));
            std::fill(dw + j * n_sub, dw + (j + 1) * n_sub, 0.0f);
            std::fill(mw + j * n_sub, mw + (j + 1) * n_sub, 0.0f);
        }
    }
}

Acts ActBuffers::acts(int64_t n_in, int sub) const {
    return {.rows = rows.data(), .act_row = row_bytes(GgmlType::Q8_0, uint64_t(n_in)), .da = da.data(),
            .sa = sa.data(), .isum = isum.data(), .isum16 = isum16.data(), .nb = n_in / 32, .n_sub = n_in / sub};
}

R1_AVX2 void quantize_acts(const float* x, int64_t n_tokens, int64_t n_in, int sub, ActBuffers& buf, int n_threads) {
    auto& rows = buf.rows;
    auto& da = buf.da;
    auto& sa = buf.sa;
    const QuantizeKernel* qk = find_quantize(GgmlType::Q8_0);
    const size_t act_row = row_bytes(GgmlType::Q8_0, uint64_t(n_in));
    const int64_t nb = n_in / 32, n_sub = n_in / sub;
    rows.resize(act_row * size_t(n_tokens));
    da.resize(size_t(n_tokens * nb));
    sa.resize(size_t(n_tokens * n_sub));
    buf.isum.resize(size_t(n_tokens * nb));
    buf.isum16.resize(size_t(n_tokens * nb * 2));
#pragma omp parallel for schedule(static) num_threads(n_tokens >= 2 * n_threads ? n_threads : 1)
    for (int64_t t = 0; t < n_tokens; ++t) {
        auto* blocks = reinterpret_cast<BlockQ8_0*>(rows.data() + size_t(t) * act_row);
        qk->kernel(x + t * n_in, blocks, n_in);
        for (int64_t b = 0; b < nb; ++b) {
            const float d = fp16_to_fp32(blocks[b].d);
            da[size_t(t * nb + b)] = d;
            int32_t h0 = 0, h1 = 0;
            for (int i = 0; i < 16; ++i) h0 += blocks[b].qs[i];
            for (int i = 16; i < 32; ++i) h1 += blocks[b].qs[i];
            buf.isum16[size_t((t * nb + b) * 2)] = h0;
            buf.isum16[size_t((t * nb + b) * 2 + 1)] = h1;
            buf.isum[size_t(t * nb + b)] = h0 + h1;
            if (sub == 16) {
                sa[size_t(t * n_sub + 2 * b)] = d * float(h0);
                sa[size_t(t * n_sub + 2 * b + 1)] = d * float(h1);
            } else {
                sa[size_t(t * n_sub + b)] = d * float(h0 + h1);
            }
        }
    }
}

}  // namespace vnni

using namespace vnni;

bool pack_supported(GgmlType weight, int64_t n_in) {
    const PackedFormat* f = find_packed(weight);
    return f && n_in > 0 && n_in % f->block == 0 && n_in <= kMaxIn && (cpu_has_vnni() || cpu_has_avx2());
}

size_t packed_bytes(GgmlType weight, int64_t n_out, int64_t n_in) {
    const PackedFormat& f = *find_packed(weight);
    return size_t((n_out + kRows - 1) / kRows) * size_t(n_in / f.block) * f.block_bytes;
}

void pack_matrix(GgmlType weight, const void* w, int64_t n_out, int64_t n_in, void* out, int n_threads) {
    const PackedFormat& pf = *find_packed(weight);
    const size_t w_row = row_bytes(weight, uint64_t(n_in));
    const size_t panel_bytes = size_t(n_in / pf.block) * pf.block_bytes;
    const int64_t n_panels = (n_out + kRows - 1) / kRows;
    const int64_t n_sub = n_in / find_format(weight)->sub;
#pragma omp parallel num_threads(int(std::min<int64_t>(n_threads, n_panels)))
    {
        std::vector<uint8_t> q(size_t(kRows) * size_t(n_in));
        std::vector<float> dw(size_t(kRows * n_sub)), mw(dw.size());
#pragma omp for schedule(static)
        for (int64_t p = 0; p < n_panels; ++p)
            pack_panel_p(pf, static_cast<const uint8_t*>(w), w_row, p * kRows, n_out, n_in, q.data(), dw.data(),
                         mw.data(), static_cast<uint8_t*>(out) + size_t(p) * panel_bytes);
    }
}

#else  // not x86

bool pack_supported(GgmlType, int64_t) { return false; }
size_t packed_bytes(GgmlType, int64_t, int64_t) { return 0; }
void pack_matrix(GgmlType, const void*, int64_t, int64_t, void*, int) {}

#endif

}  // namespace r1::cpu
