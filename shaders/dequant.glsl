// One 32-element chunk of a weight row as floats, for the type chosen by a -D TYPE_* define:
// F32, F16, BF16, Q8_0, Q4_0, Q4_1, Q5_0, Q5_1, Q4_K, Q5_K, Q6_K (layouts: quant/blocks.h).
// The includer declares `uint16_t wq[]` at binding 0 (16-bit storage) and includes
// common.glsl first.
// deq32(row, c, n, v): row = first u16 word of the row, c = chunk index (elements 32c ..
// 32c+31), n = elements in the row (float types: elements >= n are 0 and not read; block
// types have whole chunks). Values equal quant/'s dequantize_row_* bit for bit: products and
// sums are `precise` (no fused multiply-add) and in the references' order.

// Byte o of the block starting at u16 word base (little-endian words).
uint rbyte(uint base, uint o) {
    const uint w = uint(wq[base + (o >> 1)]);
    return (o & 1u) != 0u ? (w >> 8) : (w & 0xFFu);
}
// d · q + m (Q4_1, Q5_1) and d · q − m (K-quants) as two rounded operations.
float affine(float d, float q, float m) {
    precise float p = d * q;
    precise float r = p + m;
    return r;
}

#if defined(TYPE_F32)
// The same binding as floats: F32 rows start on a 4-byte boundary (row is even: weights are
// placed 256-byte aligned and rows are 4·n bytes), so one load per value instead of two.
layout(std430, binding = 0) readonly buffer Wf { float wf[]; };
void deq32(uint row, uint c, uint n, out float v[32]) {
    const uint b = (row >> 1) + c * 32u;
    for (uint l = 0u; l < 32u; ++l) v[l] = 32u * c + l < n ? wf[b + l] : 0.0;
}
#elif defined(TYPE_F16)
void deq32(uint row, uint c, uint n, out float v[32]) {
    const uint b = row + c * 32u;
    for (uint l = 0u; l < 32u; ++l) v[l] = 32u * c + l < n ? f16(uint(wq[b + l])) : 0.0;
}
#elif defined(TYPE_BF16)
void deq32(uint row, uint c, uint n, out float v[32]) {
    const uint b = row + c * 32u;
    for (uint l = 0u; l < 32u; ++l) v[l] = 32u * c + l < n ? uintBitsToFloat(uint(wq[b + l]) << 16) : 0.0;
}
#elif defined(TYPE_Q8_0)
// Block: d (f16), qs[32] int8; 17 words.
void deq32(uint row, uint c, uint n, out float v[32]) {
    const uint b = row + c * 17u;
    const float d = f16(uint(wq[b]));
    for (uint k = 0u; k < 16u; ++k) {
        const uint w = uint(wq[b + 1u + k]);
        v[2u * k] = float(int(w << 24) >> 24) * d;
        v[2u * k + 1u] = float(int(w << 16) >> 24) * d;
    }
}
#elif defined(TYPE_Q4_0) || defined(TYPE_Q4_1)
// Q4_0 block: d (f16), qs[16]; 9 words; value (q − 8)·d. Q4_1: d, m (f16), qs[16]; 10 words;
// value q·d + m. Element j in the low nibble of qs[j], j + 16 in the high one.
void deq32(uint row, uint c, uint n, out float v[32]) {
#if defined(TYPE_Q4_0)
    const uint b = row + c * 9u, q = b + 1u;
#else
    const uint b = row + c * 10u, q = b + 2u;
    const float m = f16(uint(wq[b + 1u]));
#endif
    const float d = f16(uint(wq[b]));
    for (uint k = 0u; k < 8u; ++k) {
        const uint w = uint(wq[q + k]);
        const uint q0 = w & 0xFu, q16 = (w >> 4) & 0xFu, q1 = (w >> 8) & 0xFu, q17 = (w >> 12) & 0xFu;
#if defined(TYPE_Q4_0)
        v[2u * k] = float(int(q0) - 8) * d;
        v[2u * k + 16u] = float(int(q16) - 8) * d;
        v[2u * k + 1u] = float(int(q1) - 8) * d;
        v[2u * k + 17u] = float(int(q17) - 8) * d;
#else
        v[2u * k] = affine(float(q0), d, m);
        v[2u * k + 16u] = affine(float(q16), d, m);
        v[2u * k + 1u] = affine(float(q1), d, m);
        v[2u * k + 17u] = affine(float(q17), d, m);
#endif
    }
}
#elif defined(TYPE_Q5_0) || defined(TYPE_Q5_1)
// Q5_0 block: d (f16), qh (u32 of 5th bits), qs[16]; 11 words; value (q − 16)·d. Q5_1: d, m,
// qh, qs; 12 words; value q·d + m. q_j = nibble j (as Q4_0) | bit j of qh << 4.
void deq32(uint row, uint c, uint n, out float v[32]) {
#if defined(TYPE_Q5_0)
    const uint b = row + c * 11u, h = b + 1u;
#else
    const uint b = row + c * 12u, h = b + 2u;
    const float m = f16(uint(wq[b + 1u]));
#endif
    const float d = f16(uint(wq[b]));
    const uint qh = uint(wq[h]) | (uint(wq[h + 1u]) << 16);
    for (uint k = 0u; k < 8u; ++k) {
        const uint w = uint(wq[h + 2u + k]);
        const uint j = 2u * k;
        const uint q0 = (w & 0xFu) | (((qh >> j) & 1u) << 4);
        const uint q1 = ((w >> 8) & 0xFu) | (((qh >> (j + 1u)) & 1u) << 4);
        const uint q16 = ((w >> 4) & 0xFu) | (((qh >> (j + 16u)) & 1u) << 4);
        const uint q17 = ((w >> 12) & 0xFu) | (((qh >> (j + 17u)) & 1u) << 4);
#if defined(TYPE_Q5_0)
        v[j] = float(int(q0) - 16) * d;
        v[j + 1u] = float(int(q1) - 16) * d;
        v[j + 16u] = float(int(q16) - 16) * d;
        v[j + 17u] = float(int(q17) - 16) * d;
#else
        v[j] = affine(float(q0), d, m);
        v[j + 1u] = affine(float(q1), d, m);
        v[j + 16u] = affine(float(q16), d, m);
        v[j + 17u] = affine(float(q17), d, m);
#endif
    }
}
#elif defined(TYPE_Q4_K) || defined(TYPE_Q5_K)
// Super-block of 256: d, dmin (f16), scales[12] (6-bit scale/min pairs), [Q5_K: qh[32]],
// qs[128]; 72 words (Q4_K) or 88 (Q5_K). Chunk s of 32: bytes qs[32(s/2) + l], low nibble for
// even s, high for odd; Q5_K adds bit s of qh[l] as the 5th bit. Value (d·sc)·q − dmin·mn.
void deq32(uint row, uint c, uint n, out float v[32]) {
#if defined(TYPE_Q4_K)
    const uint b = row + (c >> 3) * 72u;
#else
    const uint b = row + (c >> 3) * 88u;
#endif
    const uint s = c & 7u;
    uint sc, mn;
    if (s < 4u) {
        sc = rbyte(b, 4u + s) & 63u;
        mn = rbyte(b, 8u + s) & 63u;
    } else {
        sc = (rbyte(b, 8u + s) & 0xFu) | ((rbyte(b, s) >> 6) << 4);
        mn = (rbyte(b, 8u + s) >> 4) | ((rbyte(b, 4u + s) >> 6) << 4);
    }
    precise float d = f16(uint(wq[b])) * float(sc);
    precise float m = f16(uint(wq[b + 1u])) * float(mn);
    const uint shift = (s & 1u) * 4u;
#if defined(TYPE_Q4_K)
    const uint q = b + 8u + (s >> 1) * 16u;
#else
    const uint q = b + 24u + (s >> 1) * 16u, qh = b + 8u;
#endif
    for (uint k = 0u; k < 16u; ++k) {
        const uint w = uint(wq[q + k]);
        uint q0 = (w >> shift) & 0xFu, q1 = (w >> (8u + shift)) & 0xFu;
#if defined(TYPE_Q5_K)
        const uint wh = uint(wq[qh + k]);
        q0 |= ((wh >> s) & 1u) << 4;
        q1 |= ((wh >> (8u + s)) & 1u) << 4;
#endif
        v[2u * k] = affine(d, float(q0), -m);
        v[2u * k + 1u] = affine(d, float(q1), -m);
    }
}
#elif defined(TYPE_Q6_K)
// Super-block of 256: ql[128], qh[64], scales[16] int8, d (f16); 105 words. Chunk s of 32:
// half h = s/4 and quarter r = s%4 select ql[64h + 32(r&1) + l] (high nibble for r >= 2),
// qh[32h + l] >> 2r, scale[8h + l/16 + 2r]. Value (d·scale)·(q − 32).
void deq32(uint row, uint c, uint n, out float v[32]) {
    const uint b = row + (c >> 3) * 105u;
    const uint s = c & 7u;
    const uint h = s >> 2, r = s & 3u;
    const float d = f16(uint(wq[b + 104u]));
    precise float d0 = d * float(int(rbyte(b, 192u + 8u * h + 2u * r) << 24) >> 24);
    precise float d1 = d * float(int(rbyte(b, 192u + 8u * h + 1u + 2u * r) << 24) >> 24);
    const uint ql = b + 32u * h + 16u * (r & 1u);  // word index
    const uint qh = b + 64u + 16u * h;
    const uint ls = r >= 2u ? 4u : 0u;
    for (uint k = 0u; k < 16u; ++k) {
        const uint wl = uint(wq[ql + k]);
        const uint wh = uint(wq[qh + k]);
        const int q0 = int(((wl >> ls) & 0xFu) | (((wh >> (2u * r)) & 3u) << 4)) - 32;
        const int q1 = int(((wl >> (8u + ls)) & 0xFu) | (((wh >> (8u + 2u * r)) & 3u) << 4)) - 32;
        const float dd = k < 8u ? d0 : d1;
        v[2u * k] = dd * float(q0);
        v[2u * k + 1u] = dd * float(q1);
    }
}
#else
#error "dequant.glsl: define one TYPE_*"
#endif
