#!/usr/bin/env python3
"""Writes the GGUF fuzzer's seed corpus (tests/fuzz/corpus/gguf/): tiny but complete
models of each architecture, written with the `gguf` package, so the fuzzer starts
from files that reach the config and tensor checks. Run once; the seeds are committed.
"""
import sys
from pathlib import Path

import numpy as np
from gguf import GGUFWriter, GGMLQuantizationType as Q, quants

OUT = Path(__file__).resolve().parent / "corpus" / "gguf"


def tiny(arch: str, path: Path, qtype) -> None:
    rng = np.random.default_rng(0)
    w = GGUFWriter(path, arch=arch)
    E, F, V, H, D = 32, 64, 8, 2, 16
    w.add_context_length(64)
    w.add_embedding_length(E)
    w.add_block_count(1)
    w.add_feed_forward_length(F)
    w.add_head_count(H)
    w.add_head_count_kv(1)
    w.add_layer_norm_rms_eps(1e-6)
    w.add_rope_freq_base(10000.0)
    if arch == "qwen3moe":
        w.add_expert_count(2)
        w.add_expert_used_count(1)
        w.add_expert_feed_forward_length(F)
    if arch == "gemma3":
        w.add_sliding_window(4)
    w.add_tokenizer_model("llama" if arch == "gemma3" else "gpt2")
    w.add_token_list([f"t{i}" for i in range(V)])

    def put(name, *shape):
        x = rng.standard_normal(shape).astype(np.float32)
        if len(shape) == 2 and qtype != Q.F32:
            w.add_tensor(name, quants.quantize(x, qtype), raw_dtype=qtype)
        else:
            w.add_tensor(name, x)

    put("token_embd.weight", V, E)
    put("output_norm.weight", E)
    put("blk.0.attn_norm.weight", E)
    put("blk.0.attn_q.weight", H * D, E)
    put("blk.0.attn_k.weight", D, E)
    put("blk.0.attn_v.weight", D, E)
    put("blk.0.attn_output.weight", E, H * D)
    if arch != "llama":
        put("blk.0.attn_q_norm.weight", D)
        put("blk.0.attn_k_norm.weight", D)
    if arch == "gemma3":
        put("blk.0.post_attention_norm.weight", E)
        put("blk.0.post_ffw_norm.weight", E)
    put("blk.0.ffn_norm.weight", E)
    if arch == "qwen3moe":
        put("blk.0.ffn_gate_inp.weight", 2, E)
        for name in ("ffn_gate_exps", "ffn_up_exps"):
            w.add_tensor(f"blk.0.{name}.weight", rng.standard_normal((2, F, E)).astype(np.float32))
        w.add_tensor("blk.0.ffn_down_exps.weight", rng.standard_normal((2, E, F)).astype(np.float32))
    else:
        put("blk.0.ffn_gate.weight", F, E)
        put("blk.0.ffn_up.weight", F, E)
        put("blk.0.ffn_down.weight", E, F)
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()


def main() -> int:
    OUT.mkdir(parents=True, exist_ok=True)
    for arch, qtype in (("llama", Q.F32), ("qwen3", Q.Q8_0), ("qwen3moe", Q.F16), ("gemma3", Q.Q4_0)):
        tiny(arch, OUT / f"{arch}.gguf", qtype)
    return 0


if __name__ == "__main__":
    sys.exit(main())
