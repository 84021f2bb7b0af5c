#!/usr/bin/env python3
"""Regenerates tests/golden/logits_*.json: llama.cpp's next-token logits at every
position of a few prompts, and its greedy continuations, for the forward-pass tests
(tests/worker/forward/logits_reference_test.cc).

Models and llama.cpp settings:
  <arch>-f32, -q8_0, -q4_k_m   the generated random-weight models (tests/data_gen/
                               models.py, regenerated here into a temporary folder so
                               the goldens do not depend on a build); KV cache in F32,
                               so the f32 references are exact float32 arithmetic.
                               Each must pass models.check_history_dependence (greedy
                               continuations of >= 4 distinct tokens in 32, top token
                               rarely the input token); the script fails otherwise
  gemma3-270m                  the real Gemma 3 270M Q4_K_M with llama-server's CPU
                               defaults (F16 KV cache, flash attention on), plus, for two
                               other llama.cpp settings (F16 and F32 KV without flash
                               attention), the top-1 token at every position and the
                               logits of the golden's top-8 tokens: with quantized
                               activations this model amplifies rounding differences
                               (~0.4 logit between llama.cpp's own settings), and the
                               test bounds Shoal by that spread

Stored per model and prompt: the prompt's token ids; at every position the top-8 token
ids and logits; the full logits vector at a few positions (float32, base64); and the
greedy continuation of 32 tokens (each step one decode on the KV cache) with, at each
step, llama.cpp's top-2 logit gap and its logit range (max - min), so tests can allow a
divergence only at a near tie. Full logits are kept for the f32 models only (the others
are compared by their top tokens).

Needs llama-cpp-python (`scripts/setup --reference`):
  .venv/bin/python scripts/make_golden_logits.py [--only-gemma3-270m]
"""
import base64
import hashlib
import json
import sys
import tempfile
from pathlib import Path

import numpy as np
import llama_cpp

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests" / "data_gen"))
import models  # noqa: E402
import paths  # noqa: E402

GGML_TYPE_F32 = 0
GGML_TYPE_F16 = 1
TOP = 8
CONTINUATION = 32
FULL_LOGIT_POSITIONS = 4

TEST_PROMPTS = [
    "The quick brown fox jumps over the lazy dog.",
    "def fibonacci(n):\n    if n < 2:\n        return n\n    return fibonacci(n - 1) + fibonacci(n - 2)\n",
    "Shoal serves many clients at once: a router, a scheduler that batches requests over a "
    "paged KV cache, and workers that run the forward passes. Élan, naïve café, 東京, 🐟.",
]
GEMMA_PROMPTS = [
    "The capital of France is Paris. The capital of Germany is Berlin. The capital of Italy is",
    "Photosynthesis is the process by which green plants use sunlight to synthesize foods from "
    "carbon dioxide and water. In most plants, photosynthesis takes place in the leaves, where "
    "chlorophyll absorbs light energy. The process releases oxygen as a by-product, which",
    "def quicksort(items):\n    if len(items) <= 1:\n        return items\n    pivot = items[0]\n"
    "    smaller = [x for x in items[1:] if x < pivot]\n    larger = [x for x in items[1:] if x >= pivot]\n"
    "    return",
    "Once upon a time, in a small village at the edge of a great forest, there lived an old "
    "woodcutter and his daughter. Every morning the woodcutter went into the forest with his axe,"
    " and every evening he came home tired but happy. One day, as he was walking deeper into the",
    "The history of the printing press begins in the fifteenth century, when Johannes Gutenberg "
    "combined movable metal type, oil-based ink and a wooden press adapted from those used to "
    "make wine. Within a few decades, printing shops had spread to more than two hundred cities "
    "across Europe, and the price of books fell sharply. Scholars could now compare identical "
    "copies of a text, and ideas travelled faster than ever before. Historians often argue that",
    "Q: What is the boiling point of water at sea level?\nA: 100 degrees Celsius.\n"
    "Q: How many continents are there?\nA: Seven.\nQ: Who wrote Romeo and Juliet?\n"
    "A: William Shakespeare.\nQ: What is the largest planet in our solar system?\nA: Jupiter.\n"
    "Q: What gas do humans need to breathe to survive?\nA:",
]


def encode_floats(values: np.ndarray) -> str:
    return base64.b64encode(np.asarray(values, dtype="<f4").tobytes()).decode()


def sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def run_prompt(llm: llama_cpp.Llama, text: str, full_logits: bool) -> dict:
    llm.reset()
    tokens = llm.tokenize(text.encode(), add_bos=True, special=False)
    llm.eval(tokens)
    logits = np.array(llm.scores[: len(tokens)], dtype=np.float32)
    top_ids = np.argsort(-logits, axis=1, kind="stable")[:, :TOP]
    full_positions = sorted({0, len(tokens) // 3, 2 * len(tokens) // 3, len(tokens) - 1})
    continuation, gaps, ranges = [], [], []
    for _ in range(CONTINUATION):
        row = np.asarray(llm.scores[llm.n_tokens - 1], dtype=np.float32)
        next_id = int(np.argmax(row))
        top_two = np.sort(row)[-2:]
        continuation.append(next_id)
        gaps.append(float(top_two[1] - top_two[0]))
        ranges.append(float(row.max() - row.min()))
        llm.eval([next_id])
    return {
        "text": text,
        "tokens": tokens,
        "top_ids": top_ids.tolist(),
        "top_logits": [encode_floats(logits[i, top_ids[i]]) for i in range(len(tokens))],
        "full_logits": ({str(p): encode_floats(logits[p]) for p in full_positions[:FULL_LOGIT_POSITIONS]}
                        if full_logits else {}),
        "greedy_continuation": continuation,
        "greedy_gaps": gaps,
        "greedy_ranges": ranges,
    }


def open_llama(path: Path, kv_type: int, flash_attn: bool) -> llama_cpp.Llama:
    return llama_cpp.Llama(model_path=str(path), n_ctx=512, n_batch=512, logits_all=True,
                           type_k=kv_type, type_v=kv_type, flash_attn=flash_attn, n_threads=2,
                           verbose=False)


def other_setting(path: Path, golden_prompts, kv_type: int, flash_attn: bool) -> tuple:
    """Under another llama.cpp setting, per prompt: the argmax token at every position,
    and at every position the logits of the golden setting's top-8 tokens (base64)."""
    llm = open_llama(path, kv_type, flash_attn)
    top1, top_logits = [], []
    for prompt in golden_prompts:
        llm.reset()
        tokens = llm.tokenize(prompt["text"].encode(), add_bos=True, special=False)
        assert tokens == prompt["tokens"]
        llm.eval(tokens)
        logits = np.array(llm.scores[: len(tokens)], dtype=np.float32)
        top1.append(np.argmax(logits, axis=1).tolist())
        top_logits.append([encode_floats(logits[i, ids])
                           for i, ids in enumerate(prompt["top_ids"])])
    return top1, top_logits


def golden_for(path: Path, prompts, kv_type: int, flash_attn: bool, full_logits: bool) -> dict:
    llm = open_llama(path, kv_type, flash_attn)
    return {
        "file": path.name,
        "sha256": sha256(path),
        "kv_type": "f32" if kv_type == GGML_TYPE_F32 else "f16",
        "flash_attn": flash_attn,
        "prompts": [run_prompt(llm, text, full_logits) for text in prompts],
    }


def main() -> int:
    golden_dir = ROOT / "tests" / "golden"
    meta = {"made_by": "scripts/make_golden_logits.py", "llama_cpp_python": llama_cpp.__version__}
    # --only-gemma3-270m skips the random-weight models (their goldens stay as they are).
    if "--only-gemma3-270m" not in sys.argv[1:]:
        write_random_model_goldens(golden_dir, meta)
    write_gemma_golden(golden_dir, meta)
    return 0


def write_random_model_goldens(golden_dir: Path, meta: dict) -> None:
    problems = []
    with tempfile.TemporaryDirectory() as tmp:
        models.write(Path(tmp))
        for spec in models.SPECS:
            out = dict(meta, models={})
            for fmt in models.FORMATS:
                path = Path(tmp) / "models" / f"{spec.arch}-{fmt}.gguf"
                out["models"][fmt] = golden_for(path, TEST_PROMPTS, GGML_TYPE_F32, flash_attn=False,
                                                full_logits=fmt == "f32")
                problems.extend(f"{spec.arch}-{fmt}: {problem}"
                                for problem in history_problems(out["models"][fmt]))
            (golden_dir / f"logits_{spec.arch}.json").write_text(json.dumps(out) + "\n")
            print(f"wrote logits_{spec.arch}.json")
    if problems:
        raise SystemExit("the random test models' outputs ignore their history "
                         "(tests/data_gen/models.py):\n  " + "\n  ".join(problems))


def history_problems(golden: dict) -> list:
    """models.check_history_dependence on each prompt, with a summary line per prompt."""
    problems = []
    for i, prompt in enumerate(golden["prompts"]):
        top1 = [ids[0] for ids in prompt["top_ids"]]
        continuation = prompt["greedy_continuation"]
        echoes = sum(int(t == p) for t, p in zip(prompt["tokens"], top1))
        print(f"  {golden['file']} prompt {i}: {len(set(continuation))} distinct tokens in "
              f"{len(continuation)}, top token = input token at {echoes}/{len(top1)} positions")
        problems.extend(f"prompt {i}: {problem}" for problem in models.check_history_dependence(
            prompt["tokens"], top1, continuation))
    return problems


def write_gemma_golden(golden_dir: Path, meta: dict) -> None:
    gemma_path = paths.gemma3_gguf()
    golden = golden_for(gemma_path, GEMMA_PROMPTS, GGML_TYPE_F16, flash_attn=True,
                        full_logits=False)
    golden["other_settings_top1"], golden["other_settings_top_logits"] = {}, {}
    for name, kv_type in (("f16_kv", GGML_TYPE_F16), ("f32_kv", GGML_TYPE_F32)):
        top1, top_logits = other_setting(gemma_path, golden["prompts"], kv_type, flash_attn=False)
        golden["other_settings_top1"][name] = top1
        golden["other_settings_top_logits"][name] = top_logits
    gemma = dict(meta, models={"q4_k_m": golden})
    (golden_dir / "logits_gemma3-270m.json").write_text(json.dumps(gemma) + "\n")
    print("wrote logits_gemma3-270m.json")


if __name__ == "__main__":
    sys.exit(main())
