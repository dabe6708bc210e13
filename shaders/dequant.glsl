// One 32-element chunk of a weight row as floats, for the type chosen by a -D TYPE_* define:
// F32, F16, Q8_0, Q4_0, Q4_K, Q6_K (layouts: quant/blocks.h). The includer declares
// `uint16_t wq[]` (16-bit storage). deq32(row, c, v): row = first u16 word of the row,
// c = chunk index (elements 32c .. 32c+31). Matches quant/'s dequantize_row_* to rounding.

float f16(uint w) { return unpackHalf2x16(w).x; }
// Byte o of the block starting at u16 word base (little-endian words).
uint rbyte(uint base, uint o) {
    const uint w = uint(wq[base + (o >> 1)]);
    return (o & 1u) != 0u ? (w >> 8) : (w & 0xFFu);
}

#if defined(TYPE_F32)
void deq32(uint row, uint c, out float v[32]) {
    const uint b = row + c * 64u;
    for (uint l = 0u; l < 32u; ++l) v[l] = uintBitsToFloat(uint(wq[b + 2u * l]) | (uint(wq[b + 2u * l + 1u]) << 16));
}
#elif defined(TYPE_F16)
void deq32(uint row, uint c, out float v[32]) {
    const uint b = row + c * 32u;
    for (uint l = 0u; l < 32u; ++l) v[l] = f16(uint(wq[b + l]));
}
#elif defined(TYPE_Q8_0)
// Block: d (f16), qs[32] int8; 17 words.
void deq32(uint row, uint c, out float v[32]) {
    const uint b = row + c * 17u;
    const float d = f16(uint(wq[b]));
    for (uint k = 0u; k < 16u; ++k) {
        const uint w = uint(wq[b + 1u + k]);
        v[2u * k] = d * float(int(w << 24) >> 24);
        v[2u * k + 1u] = d * float(int(w << 16) >> 24);
    }
}
#elif defined(TYPE_Q4_0)
// Block: d (f16), qs[16]: element j in the low nibble of qs[j], j+16 in the high one; 9 words.
void deq32(uint row, uint c, out float v[32]) {
    const uint b = row + c * 9u;
    const float d = f16(uint(wq[b]));
    for (uint k = 0u; k < 8u; ++k) {
        const uint w = uint(wq[b + 1u + k]);
        v[2u * k] = d * float(int(w & 0xFu) - 8);
        v[2u * k + 16u] = d * float(int((w >> 4) & 0xFu) - 8);
        v[2u * k + 1u] = d * float(int((w >> 8) & 0xFu) - 8);
        v[2u * k + 17u] = d * float(int((w >> 12) & 0xFu) - 8);
    }
}
#elif defined(TYPE_Q4_K)
// Super-block of 256: d, dmin (f16), scales[12] (6-bit scale/min pairs), qs[128]; 72 words.
// Chunk s of 32: bytes qs[32(s/2) + l], low nibble for even s, high for odd.
void deq32(uint row, uint c, out float v[32]) {
    const uint b = row + (c >> 3) * 72u;
    const uint s = c & 7u;
    uint sc, mn;
    if (s < 4u) {
        sc = rbyte(b, 4u + s) & 63u;
        mn = rbyte(b, 8u + s) & 63u;
    } else {
        sc = (rbyte(b, 8u + s) & 0xFu) | ((rbyte(b, s) >> 6) << 4);
        mn = (rbyte(b, 8u + s) >> 4) | ((rbyte(b, 4u + s) >> 6) << 4);
    }
    const float d = f16(uint(wq[b])) * float(sc);
    const float m = f16(uint(wq[b + 1u])) * float(mn);
    const uint q = b + 8u + (s >> 1) * 16u;
    const uint shift = (s & 1u) * 4u;
    for (uint k = 0u; k < 16u; ++k) {
        const uint w = uint(wq[q + k]);
        v[2u * k] = d * float((w >> shift) & 0xFu) - m;
        v[2u * k + 1u] = d * float((w >> (8u + shift)) & 0xFu) - m;
    }
}
#elif defined(TYPE_Q6_K)
// Super-block of 256: ql[128], qh[64], scales[16] int8, d (f16); 105 words. Chunk s of 32:
// half h = s/4 and quarter r = s%4 select ql[64h + 32(r&1) + l] (high nibble for r >= 2),
// qh[32h + l] >> 2r, scale[8h + l/16 + 2r].
void deq32(uint row, uint c, out float v[32]) {
    const uint b = row + (c >> 3) * 105u;
    const uint s = c & 7u;
    const uint h = s >> 2, r = s & 3u;
    const float d = f16(uint(wq[b + 104u]));
    const float d0 = d * float(int(rbyte(b, 192u + 8u * h + 2u * r) << 24) >> 24);
    const float d1 = d * float(int(rbyte(b, 192u + 8u * h + 1u + 2u * r) << 24) >> 24);
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
