#!/usr/bin/env python3
"""Writes a synthetic BF16 Hugging Face checkpoint with the shape of DeepSeek-R1-Distill-Qwen-1.5B
(about 3.5 GB, random N(0, 0.02) weights tiled from one 8 MiB block) for `bench/convert_bench.sh`.
The tokenizer files are copied from a small fixture folder (the converter pads the vocabulary).

usage: make_synthetic_checkpoint.py OUT_DIR TOKENIZER_DIR [--layers N]
"""
import json, os, random, shutil, struct, sys

def main():
    out, tok = sys.argv[1], sys.argv[2]
    layers = int(sys.argv[sys.argv.index("--layers") + 1]) if "--layers" in sys.argv else 28
    hidden, ff, heads, kv, hd, vocab = 1536, 8960, 12, 2, 128, 151936
    cfg = {"architectures": ["Qwen2ForCausalLM"], "model_type": "qwen2", "hidden_size": hidden,
           "intermediate_size": ff, "num_hidden_layers": layers, "num_attention_heads": heads,
           "num_key_value_heads": kv, "max_position_embeddings": 131072, "rms_norm_eps": 1e-6,
           "rope_theta": 10000.0, "rope_scaling": None, "tie_word_embeddings": False,
           "vocab_size": vocab, "torch_dtype": "bfloat16", "bos_token_id": 1025, "eos_token_id": 1024}
    os.makedirs(out, exist_ok=True)
    json.dump(cfg, open(os.path.join(out, "config.json"), "w"), indent=1)
    for f in ("tokenizer.json", "tokenizer_config.json", "generation_config.json"):
        if os.path.exists(os.path.join(tok, f)):
            shutil.copy(os.path.join(tok, f), os.path.join(out, f))
    shapes = {"model.embed_tokens.weight": [vocab, hidden], "lm_head.weight": [vocab, hidden],
              "model.norm.weight": [hidden]}
    for i in range(layers):
        p = f"model.layers.{i}."
        shapes.update({p + "input_layernorm.weight": [hidden], p + "post_attention_layernorm.weight": [hidden],
                       p + "self_attn.q_proj.weight": [heads * hd, hidden], p + "self_attn.q_proj.bias": [heads * hd],
                       p + "self_attn.k_proj.weight": [kv * hd, hidden], p + "self_attn.k_proj.bias": [kv * hd],
                       p + "self_attn.v_proj.weight": [kv * hd, hidden], p + "self_attn.v_proj.bias": [kv * hd],
                       p + "self_attn.o_proj.weight": [hidden, heads * hd],
                       p + "mlp.gate_proj.weight": [ff, hidden], p + "mlp.up_proj.weight": [ff, hidden],
                       p + "mlp.down_proj.weight": [hidden, ff]})
    rng = random.Random(1234)
    block = b"".join(struct.pack("<f", rng.gauss(0.0, 0.02))[2:] for _ in range(1 << 22))  # bf16 = top half
    header, off = {}, 0
    for name in sorted(shapes):
        n = 2
        for d in shapes[name]:
            n *= d
        header[name] = {"dtype": "BF16", "shape": shapes[name], "data_offsets": [off, off + n]}
        off += n
    h = json.dumps(header).encode()
    h += b" " * ((8 - len(h) % 8) % 8)
    with open(os.path.join(out, "model.safetensors"), "wb") as f:
        f.write(struct.pack("<Q", len(h)) + h)
        for name in sorted(shapes):
            left = header[name]["data_offsets"][1] - header[name]["data_offsets"][0]
            while left > 0:
                k = min(left, len(block))
                f.write(block[:k])
                left -= k
    print(f"{out}: {off / 1e9:.2f} GB of BF16 weights, {len(shapes)} tensors")

if __name__ == "__main__":
    main()
