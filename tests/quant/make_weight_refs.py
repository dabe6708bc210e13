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
TYPES = ["Q8_0", "Q6_K", "Q5_0", "Q4_1", "Q4_0", "Q4_K", "F16", "BF16"]


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
