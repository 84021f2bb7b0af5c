#!/usr/bin/env python3
"""Regenerates tests/golden/sampler_distributions.json: for a few hundred random rows
of logits and sampling parameters, the exact distribution vLLM's sampler draws from,
for tests/worker/sampler/distribution_golden_test.cc.

The reference follows vLLM v1 literally, in float64 numpy, and shares no code with
worker/sampler/:
  penalties   vllm/model_executor/layers/utils.py apply_penalties: repetition on tokens
              in the prompt or the output (logit > 0: divide, else multiply), then
              minus frequency * output count, then minus presence * (count > 0)
  logit_bias  vllm/v1/sample/logits_processor/builtin.py: logits[id] += bias
              (applied before the penalties, like vLLM's non-argmax-invariant processors)
  temperature vllm/v1/sample/sampler.py: logits / temperature
  min_p       builtin.py MinPLogitsProcessor: drop probs < min_p * max prob
  top-k/top-p vllm/v1/sample/ops/topk_topp_sampler.py apply_top_k_top_p_pytorch: sort
              ascending; top-k masks logits < the k-th largest; top-p masks tokens whose
              ascending cumulative probability is <= 1 - top_p, keeping the last one
Ties in the sort are broken as Shoal defines them (the lower id is the more likely);
vLLM's own order among equal logits is whatever torch.sort returns.

Cases whose outcome hinges on rounding (a probability within 1e-5 of the min_p or
top-p cut) are redrawn, so the golden sets are exact. Logits lie in [-10, 10] and
temperatures are >= 0.25, so no kept token underflows float32.

Needs only numpy:
  .venv/bin/python scripts/make_golden_sampler.py
"""
import json
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "tests" / "golden" / "sampler_distributions.json"
NUM_CASES = 300
MARGIN = 1e-5
VOCABS = [2, 3, 5, 10, 17, 32, 64, 100, 150, 256, 512]


def softmax(x):
    finite = x[np.isfinite(x)]
    e = np.exp(x - finite.max())
    return e / e.sum()


def ascending_order(x):
    # Ascending by logit; among equal logits the higher id first (so the lower id is
    # the more likely one, as in Shoal).
    ids = np.arange(len(x))
    return np.lexsort((-ids, x))


def apply_penalties(x, case):
    prompt = set(case["prompt_token_ids"])
    counts = np.bincount(np.array(case["output_token_ids"], dtype=np.int64),
                         minlength=len(x)).astype(np.float64)
    seen = np.array([(i in prompt) or counts[i] > 0 for i in range(len(x))])
    rep = case["repetition_penalty"]
    x = np.where(seen, np.where(x > 0, x / rep, x * rep), x)
    x = x - case["frequency_penalty"] * counts
    x = x - case["presence_penalty"] * (counts > 0)
    return x


def reference(case):
    """Returns {id: probability} of the final distribution, or None when a cut is
    too close to call."""
    x = np.array([-np.inf if v is None else v for v in case["logits"]], dtype=np.float32)
    x = x.astype(np.float64)
    for token_id, bias in case["logit_bias"]:
        x[token_id] += bias
    x = apply_penalties(x, case)
    x = x / case["temperature"]
    vocab = len(x)

    if case["min_p"] > 0:
        probs = softmax(x)
        ratio = probs / probs.max()
        live = np.isfinite(x)
        if np.any(np.abs(ratio[live] - case["min_p"]) < MARGIN):
            return None
        x = np.where(probs < case["min_p"] * probs.max(), -np.inf, x)

    k = case["top_k"]
    top_k_on = 0 < k < vocab
    top_p_on = case["top_p"] < 1.0
    if top_k_on or top_p_on:
        order = ascending_order(x)
        xs = x[order]
        if top_k_on:
            xs = np.where(xs < xs[vocab - k], -np.inf, xs)
        if top_p_on:
            cum = np.cumsum(softmax(xs))
            cut = 1.0 - case["top_p"]
            live = np.isfinite(xs)
            if np.any(np.abs(cum[live] - cut) < MARGIN):
                return None
            mask = cum <= cut
            mask[-1] = False
            xs = np.where(mask, -np.inf, xs)
        x = np.empty_like(xs)
        x[order] = xs

    probs = softmax(x)
    return {i: float(probs[i]) for i in range(vocab) if np.isfinite(x[i]) and probs[i] > 0}


def draw_case(rng):
    vocab = int(rng.choice(VOCABS + [2048] if rng.random() < 0.02 else VOCABS))
    kind = rng.integers(3)
    if kind == 0:  # smooth: distinct values
        logits = rng.normal(0.0, rng.choice([0.5, 2.0, 4.0]), vocab)
        logits = np.round(np.clip(logits, -10, 10), 4)
    elif kind == 1:  # coarse: many ties
        logits = np.round(rng.uniform(-4, 4, vocab) * 4) / 4
    else:  # peaked, like a trained model
        logits = rng.normal(-2.0, 1.5, vocab)
        logits[rng.integers(vocab, size=min(3, vocab))] += rng.uniform(3, 8)
        logits = np.round(np.clip(logits, -10, 10), 4)
    values = [float(v) for v in logits]
    if vocab > 3 and rng.random() < 0.1:  # a few masked tokens, never the best
        best = int(np.argmax(logits))
        for i in rng.choice(vocab, size=vocab // 4, replace=False):
            if int(i) != best:
                values[int(i)] = None

    case = {
        "vocab_size": vocab,
        "logits": values,
        "temperature": float(rng.choice([0.25, 0.5, 0.7, 1.0, 1.0, 1.3, 2.0, 4.0])),
        "top_k": int(rng.choice([0, 0, 0, -1, 1, 2, 5, 20, 50, vocab - 1, vocab, vocab + 3])),
        "top_p": float(rng.choice([1.0, 1.0, 0.99, 0.95, 0.9, 0.8, 0.7, 0.5, 0.3, 0.01])),
        "min_p": float(rng.choice([0.0, 0.0, 0.0, 0.0, 0.001, 0.01, 0.05, 0.1, 0.3])),
        "repetition_penalty": 1.0,
        "presence_penalty": 0.0,
        "frequency_penalty": 0.0,
        "prompt_token_ids": [],
        "output_token_ids": [],
        "logit_bias": [],
    }
    if rng.random() < 0.35:
        case["repetition_penalty"] = float(rng.choice([1.0, 1.3, 0.8, 2.0]))
        case["presence_penalty"] = float(rng.choice([0.0, 0.5, -0.5, 1.5]))
        case["frequency_penalty"] = float(rng.choice([0.0, 0.3, -0.2, 1.0]))
        case["prompt_token_ids"] = [int(i) for i in rng.integers(vocab, size=rng.integers(1, 8))]
        case["output_token_ids"] = [int(i) for i in rng.integers(vocab, size=rng.integers(0, 12))]
    if rng.random() < 0.2:
        ids = rng.choice(vocab, size=min(vocab, 3), replace=False)
        case["logit_bias"] = [[int(i), float(rng.choice([-100.0, -2.5, 1.25, 5.0]))] for i in ids]
    if all(v is None for v in case["logits"]):
        return None
    return case


def main():
    rng = np.random.default_rng(20250601)
    cases = []
    redrawn = 0
    while len(cases) < NUM_CASES:
        case = draw_case(rng)
        expected = reference(case) if case else None
        if expected is None:
            redrawn += 1
            continue
        case["expected"] = [[i, float(f"{p:.12g}")] for i, p in sorted(expected.items())]
        cases.append(case)
    doc = {
        "description": "vLLM-semantics sampling distributions; scripts/make_golden_sampler.py",
        "cases": cases,
    }
    OUT.write_text(json.dumps(doc, separators=(",", ":")) + "\n")
    print(f"wrote {len(cases)} cases to {OUT} ({redrawn} redrawn near a cut)")


if __name__ == "__main__":
    main()
