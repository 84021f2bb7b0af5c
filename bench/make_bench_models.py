#!/usr/bin/env python3
"""Writes the random-weight benchmark models (issue 4's peer comparison) into --out:

  llama-0.5b-{q8_0,q4_k_m}.gguf  llama-shaped, ~0.5B parameters: 24 layers, hidden 896,
                                 14 heads, 2 KV heads, FFN 4864, vocabulary 151936
                                 (the shape of Qwen2.5-0.5B)
  qwen3moe-1b-q4_k_m.gguf        qwen3moe, ~1B parameters: 16 layers, hidden 1024,
                                 16 heads, 4 KV heads, 32 experts (top 4) of FFN 512,
                                 vocabulary 151936

Weights are random (a seeded generator), the tensor types follow llama.cpp's recipes
(tests/data_gen/models.py), and the vocabulary is the test BPE vocabulary padded with
unused tokens to the real size, so the embedding and output matrices cost what they do
in the real models. Speed does not depend on weight values.

  .venv/bin/python bench/make_bench_models.py --out build/bench-models [--only llama-0.5b-q4_k_m]

It needs numpy and the gguf package only, so bench/gpu_run.sh runs it on a lent GPU
machine too (the files are too large to carry there).
"""
import argparse
import dataclasses
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests" / "data_gen"))
import models  # noqa: E402
import vocab_gguf  # noqa: E402

VOCAB_SIZE = 151936

LLAMA_05B = models.Spec("llama", "bpe", "qwen2", n_embd=896, n_layer=24, n_head=14, n_head_kv=2,
                        head_dim=64, n_ff=4864, rope_base=1000000.0, eps=1e-6, tied=True)
QWEN3MOE_1B = models.Spec("qwen3moe", "bpe", "qwen2", n_embd=1024, n_layer=16, n_head=16,
                          n_head_kv=4, head_dim=128, n_ff=2048, n_expert=32, n_expert_used=4,
                          n_ff_exp=512, rope_base=1000000.0, eps=1e-6)

BENCH_MODELS = [
    ("llama-0.5b", LLAMA_05B, "q8_0"),
    ("llama-0.5b", LLAMA_05B, "q4_k_m"),
    ("qwen3moe-1b", QWEN3MOE_1B, "q4_k_m"),
]


def padded_vocab() -> dict:
    vocab = dict(vocab_gguf.load_vocab("bpe"))
    extra = VOCAB_SIZE - len(vocab["tokens"])
    vocab["tokens"] = vocab["tokens"] + [f"<unused_{i}>" for i in range(extra)]
    vocab["token_types"] = vocab["token_types"] + [5] * extra  # UNUSED
    return vocab


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", required=True, type=Path)
    parser.add_argument("--only", nargs="+", metavar="NAME-FORMAT",
                        help="write just these, e.g. llama-0.5b-q4_k_m")
    args = parser.parse_args()
    known = {f"{name}-{fmt}" for name, _, fmt in BENCH_MODELS}
    if args.only and not set(args.only) <= known:
        parser.error(f"--only takes {sorted(known)}")
    args.out.mkdir(parents=True, exist_ok=True)
    vocab = padded_vocab()
    for name, spec, fmt in BENCH_MODELS:
        if args.only and f"{name}-{fmt}" not in args.only:
            continue
        path = args.out / f"{name}-{fmt}.gguf"
        if path.exists():
            print(f"{path} exists")
            continue
        models.write_model(path, dataclasses.replace(spec, vocab=vocab), fmt)
        print(f"wrote {path} ({path.stat().st_size / 2**20:.0f} MiB)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
