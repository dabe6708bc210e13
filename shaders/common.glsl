// Helpers every shader shares: tensor addressing and exact f16 conversions.
// A tensor argument is an element offset plus element strides s1, s2, s3 of dimensions 1-3
// (dimension 0 is contiguous, or stride 0 for a broadcast operand); a stride of 0 repeats
// the operand along that dimension (broadcasting).

// Element offset of row r of a shape (·, ne1, ne2, ·): indices (r % ne1, r / ne1 % ne2, r / (ne1·ne2)).
uint row_at(uint r, uint ne1, uint ne2, uint s1, uint s2, uint s3) {
    const uint q = r / ne1;
    return (r - q * ne1) * s1 + (q % ne2) * s2 + (q / ne2) * s3;
}

// The flat invocation index of a 1-D grid laid out as (x, y) workgroups.
uint flat_id() {
    return gl_GlobalInvocationID.x + gl_GlobalInvocationID.y * gl_NumWorkGroups.x * gl_WorkGroupSize.x;
}

// IEEE binary16 bits -> binary32 bits, exact for every input (subnormals included, whatever
// the device does with f16 denormals).
uint f16_to_f32_bits(uint h) {
    const uint s = (h & 0x8000u) << 16;
    const uint e = (h >> 10) & 0x1Fu;
    const uint m = h & 0x3FFu;
    if (e == 0u) return s | floatBitsToUint(float(m) * 5.9604644775390625e-8);  // m · 2^-24, exact
    if (e == 31u) return s | 0x7F800000u | (m << 13);
    return s | ((e + 112u) << 23) | (m << 13);
}
float f16(uint h) { return uintBitsToFloat(f16_to_f32_bits(h)); }

// binary32 bits -> binary16 bits rounded to nearest even, as quant/fp16.h's fp32_to_fp16
// (packHalf2x16's rounding is left to the device).
uint f32_to_f16_bits(uint x) {
    const uint s = (x >> 16) & 0x8000u;
    const uint e = (x >> 23) & 0xFFu;
    uint m = x & 0x7FFFFFu;
    if (e == 0xFFu) return s | (m != 0u ? 0x7E00u : 0x7C00u);  // NaN as fp32_to_fp16 writes it, or inf
    const int ex = int(e) - 112;  // the f16 exponent field
    if (ex >= 31) return s | 0x7C00u;
    if (ex <= 0) {  // f16 subnormal (or zero): h = M · 2^(e - 126), M with its implicit bit
        if (ex < -10) return s;
        m |= 0x800000u;
        const uint shift = uint(14 - ex);
        uint h = m >> shift;
        const uint rem = m & ((1u << shift) - 1u), half_way = 1u << (shift - 1u);
        if (rem > half_way || (rem == half_way && (h & 1u) != 0u)) h += 1u;
        return s | h;
    }
    uint h = (uint(ex) << 10) | (m >> 13);
    const uint rem = m & 0x1FFFu;
    if (rem > 0x1000u || (rem == 0x1000u && (h & 1u) != 0u)) h += 1u;  // a carry rounds up the exponent
    return s | h;
}
