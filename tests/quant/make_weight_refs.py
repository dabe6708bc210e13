#!/usr/bin/env python3
"""Writes tests/fixtures/quant/weight_refs.json: for every quantizable weight matrix of the
fixture models, the FNV-1a-64 of its bytes in each GGUF type, as produced by
tests/fixtures/tools/ggml_quants.py (the fixtures' numpy port of ggml's reference quantizers,
llama.cpp d32676d7, whose output was compared byte for byte with llama-quantize; see the
fixtures README, "Quantization references"). test_quant's FixtureWeights tests recompute
them with quant/codecs.h.

Tensor selection and GGUF row layout as the fixtures' tools/quant_ref.py (GGUF.md §2.15):
every 2-D *.weight except norms and the MoE router mlp.gate.weight, along GGUF rows (HF
[out, in] rows); DeepSeek kv_b_proj as attn_k_b (per head transposed, rows of
qk_nope_head_dim) and attn_v_b (rows of kv_lora_rank); Q4_K -> Q5_0 and Q6_K -> Q8_0 where
the row length is not a multiple of 256. F16 is numpy's round-to-nearest-even half; BF16 is
rounded with integer arithmetic (nearest even), NaN never occurs in these weights.

Needs numpy (Debian python3-numpy). Run from the repository root:
    /usr/bin/python3 tests/quant/make_weight_refs.py
"""
import glob
import json
import os
import struct
import sys

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
FIXTURES = os.path.join(ROOT, "tests", "fixtures")
sys.path.insert(0, os.path.join(FIXTURES, "tools"))
import ggml_quants  # noqa: E402

MODELS = ["tiny-r1-qwen2", "tiny-r1-llama", "tiny-r1-moe"]
TYPES = ["Q8_0", "Q6_K", "Q5_0", "Q4_1", "Q4_0", "Q4_K", "F16", "BF16", "Q5_1", "Q5_K"]


# Q5_1 and Q5_K are not in ggml_quants.py; these extensions reuse its helpers and its
# make_qkx2 (checked there against llama.cpp through Q4_K) with ggml's Q5 parameters
# (GGUF.md §2.8, §2.10): an independent, vectorized implementation of the same reference.
def _q5_1(x):
    F32 = ggml_quants.F32
    mn, mx = x.min(axis=1), x.max(axis=1)
    d = ((mx - mn) / F32(31)).astype(F32)
    with np.errstate(divide="ignore"):
        idv = np.where(d != 0, F32(1) / d, F32(0)).astype(F32)
    v = ((x - mn[:, None]).astype(F32) * idv[:, None]).astype(F32)
    q = (ggml_quants.c_trunc(v + F32(0.5)) & 0xFF).astype(np.int64)
    qh = (((q >> 4) & 1) << np.arange(32, dtype=np.int64)).sum(axis=1).astype("<u4")
    return np.concatenate([ggml_quants._u16_bytes(ggml_quants.fp16_bits(d)),
                           ggml_quants._u16_bytes(ggml_quants.fp16_bits(mn)),
                           qh.view(np.uint8).reshape(-1, 4), ggml_quants._nibbles(q, 16)], axis=1)


def _q5_k(x):
    F32, nearest_int, seq_sum = ggml_quants.F32, ggml_quants.nearest_int, ggml_quants.seq_sum
    nb = x.shape[0]
    xs = x.reshape(nb * 8, 32).T.astype(F32)
    sum_x2 = seq_sum((xs * xs).astype(F32))
    av_x = np.sqrt((sum_x2 / F32(32)).astype(F32)).astype(F32)
    w = (av_x[None, :] + np.abs(xs)).astype(F32)
    scales, mins, L = ggml_quants.make_qkx2(xs, w, 31, -0.5, 0.1, 15)
    scales, mins = scales.reshape(nb, 8), mins.reshape(nb, 8)
    L = L.T.reshape(nb, 8, 32)
    max_scale = np.maximum(scales.max(axis=1), F32(0))
    max_min = np.maximum(mins.max(axis=1), F32(0))
    with np.errstate(divide="ignore"):
        inv_scale = np.where(max_scale > 0, F32(63) / max_scale, F32(0)).astype(F32)
        inv_min = np.where(max_min > 0, F32(63) / max_min, F32(0)).astype(F32)
    ls = np.minimum(63, nearest_int(inv_scale[:, None] * scales) & 0xFF)
    lm = np.minimum(63, nearest_int(inv_min[:, None] * mins) & 0xFF)
    sc = np.zeros((nb, 12), dtype=np.int64)
    sc[:, 0:4] = ls[:, 0:4] | ((ls[:, 4:8] >> 4) << 6)
    sc[:, 4:8] = lm[:, 0:4] | ((lm[:, 4:8] >> 4) << 6)
    sc[:, 8:12] = (ls[:, 4:8] & 0xF) | ((lm[:, 4:8] & 0xF) << 4)
    d16 = ggml_quants.fp16_bits((max_scale / F32(63)).astype(F32))
    dmin16 = ggml_quants.fp16_bits((max_min / F32(63)).astype(F32))
    d = (ggml_quants.fp16_value(d16)[:, None] * ls.astype(F32)).astype(F32)
    dm = (ggml_quants.fp16_value(dmin16)[:, None] * lm.astype(F32)).astype(F32)
    with np.errstate(divide="ignore", invalid="ignore"):
        lq = np.clip(nearest_int(((x.reshape(nb, 8, 32) + dm[:, :, None]).astype(F32)
                                  / d[:, :, None]).astype(F32)), 0, 31)
    L = np.where((d != 0)[:, :, None], lq, L).reshape(nb, 4, 64)  # chunk c: elements 64c..
    lo, hi = L[:, :, :32], L[:, :, 32:]
    qs = ((lo & 0xF) | ((hi & 0xF) << 4)).astype(np.uint8).reshape(nb, 128)
    shifts = 2 * np.arange(4)[None, :, None]
    qh = (((lo >> 4) << shifts) | ((hi >> 4) << (shifts + 1))).sum(axis=1).astype(np.uint8)  # [nb, 32]
    return np.concatenate([ggml_quants._u16_bytes(d16), ggml_quants._u16_bytes(dmin16),
                           sc.astype(np.uint8), qh, qs], axis=1)


ggml_quants.BLOCK.update({"Q5_1": (32, 24), "Q5_K": (256, 176)})
ggml_quants._QUANT.update({"Q5_1": _q5_1, "Q5_K": _q5_k})
ggml_quants.FALLBACK["Q5_K"] = "Q5_1"


def read_safetensors(path):
    with open(path, "rb") as f:
        n = struct.unpack("<Q", f.read(8))[0]
        header = json.loads(f.read(n))
        data = f.read()
    out = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        a, b = info["data_offsets"]
        raw = np.frombuffer(data[a:b], dtype=np.uint8)
        if info["dtype"] == "F32":
            arr = raw.view("<f4")
        elif info["dtype"] == "BF16":
            arr = (raw.view("<u2").astype(np.uint32) << 16).view(np.float32)
        else:
            raise ValueError("%s: dtype %s" % (name, info["dtype"]))
        out[name] = arr.reshape(info["shape"]).astype(np.float32)
    return out


def quantizable(name, w):
    return (w.ndim == 2 and name.endswith(".weight") and not name.endswith("norm.weight")
            and not name.endswith("mlp.gate.weight"))


def gguf_parts(name, w, cfg):
    if name.endswith("self_attn.kv_b_proj.weight"):
        nh, nope, vd = cfg["num_attention_heads"], cfg["qk_nope_head_dim"], cfg["v_head_dim"]
        kv = w.reshape(nh, nope + vd, w.shape[1])
        k_b = np.ascontiguousarray(kv[:, :nope, :].transpose(0, 2, 1)).reshape(-1, nope)
        v_b = np.ascontiguousarray(kv[:, nope:, :]).reshape(-1, w.shape[1])
        return [("attn_k_b", k_b), ("attn_v_b", v_b)]
    return [("", w)]


def fnv1a64(b):
    h = 0xCBF29CE484222325
    for v in b:  # sequential by definition; slow but run once
        h = ((h ^ v) * 0x100000001B3) & 0xFFFFFFFFFFFFFFFF
    return "%016x" % h


def encode(qtype, rows):
    """-> (actual type, bytes)."""
    if qtype == "F16":
        return "F16", rows.astype("<f2").tobytes()
    if qtype == "BF16":
        u = rows.view(np.uint32).astype(np.uint64)
        r = ((u + 0x7FFF + ((u >> 16) & 1)) >> 16).astype("<u2")
        return "BF16", r.tobytes()
    actual = qtype
    if rows.shape[1] % ggml_quants.BLOCK[actual][0]:
        actual = ggml_quants.FALLBACK[actual]
        assert rows.shape[1] % ggml_quants.BLOCK[actual][0] == 0
    return actual, ggml_quants.quantize(actual, rows).tobytes()


def main():
    ggml_quants.check_test_vectors()
    x = ggml_quants.test_row()
    print("Q5_K of the GGUF.md 2.13 row: fnv1a64", fnv1a64(ggml_quants.quantize("Q5_K", x[None, :]).tobytes()),
          "(the 176 bytes in GGUF.md hash to a3110024b57d1938; its stated digest 1791c52478ff5236 is not theirs)", file=sys.stderr)
    out = {"what": "FNV-1a-64 of each weight matrix's GGUF bytes per type; see "
                   "tests/quant/make_weight_refs.py", "models": {}}
    for m in MODELS:
        mdir = os.path.join(FIXTURES, "models", m)
        cfg = json.load(open(os.path.join(mdir, "config.json")))
        sd = {}
        for f in sorted(glob.glob(os.path.join(mdir, "*.safetensors"))):
            sd.update(read_safetensors(f))
        entries = []
        for name in sorted(sd):
            w = sd[name]
            if not quantizable(name, w):
                continue
            for part, rows in gguf_parts(name, w, cfg):
                rows = np.ascontiguousarray(rows, dtype=np.float32)
                types = {}
                for t in TYPES:
                    actual, data = encode(t, rows)
                    types[t] = {"as": actual, "fnv1a64": fnv1a64(data)}
                entries.append({"tensor": name, "part": part, "rows": int(rows.shape[0]),
                                "row_length": int(rows.shape[1]), "types": types})
            print(m, name, file=sys.stderr)
        out["models"][m] = entries
    path = os.path.join(FIXTURES, "quant", "weight_refs.json")
    with open(path, "w") as f:
        json.dump(out, f, indent=1)
        f.write("\n")


if __name__ == "__main__":
    main()
