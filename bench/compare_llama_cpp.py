#!/usr/bin/env python3
"""Shoal vs llama.cpp on the same GGUF files and thread counts, in one run: prompt
processing (pp, one forward pass over P tokens) and decode (tg, T single-token steps),
median tokens/s of several repetitions (Shoal's and llama.cpp's alternating), plus decode's share of the memory-bandwidth
limit (bandwidth / bytes of weights read per token, bandwidth measured by
build/bench/stream_bench in the same run). Prints a markdown table and writes JSON.

  bench/setup_llama_cpp.sh                      # llama.cpp for this CPU (.venv-bench)
  .venv-bench/bin/python bench/compare_llama_cpp.py --models A.gguf B.gguf \\
      [--threads 1 2] [--pp 512] [--tg 128] [--reps 5] [--json out.json]
"""
import argparse
import json
import random
import re
import statistics
import subprocess
import sys
import time
from pathlib import Path

import llama_cpp
from gguf import GGUFReader

ROOT = Path(__file__).resolve().parent.parent


def decode_bytes_per_token(path: Path) -> float:
    """Weight bytes one decode step reads: every tensor once, except the embedding rows
    (one row) unless tied to the output, and only the active share of MoE experts."""
    reader = GGUFReader(path)
    arch = reader.fields["general.architecture"].contents()
    used = reader.fields.get(f"{arch}.expert_used_count")
    count = reader.fields.get(f"{arch}.expert_count")
    active = used.contents() / count.contents() if used and count else 1.0
    names = {t.name for t in reader.tensors}
    total = 0.0
    for t in reader.tensors:
        if t.name == "token_embd.weight" and "output.weight" in names:
            total += t.n_bytes / t.shape[-1]
        elif "_exps." in t.name:
            total += t.n_bytes * active
        else:
            total += t.n_bytes
    return total


def stream_bandwidth(threads: int) -> dict:
    out = subprocess.run([str(ROOT / "build/bench/stream_bench"), "--threads", str(threads)],
                         capture_output=True, text=True, check=True).stdout
    rates = {}
    for line in out.splitlines():
        m = re.match(r"\s*(\d+)\s+([\d.]+)\s+([\d.]+)", line)
        if m:
            rates[int(m.group(1))] = float(m.group(3)) * 1e9  # median, bytes/s
    return rates


def llama_cpp_speed(path: Path, threads: int, pp: int, tg: int, reps: int, flash_attn: bool):
    llm = llama_cpp.Llama(model_path=str(path), n_ctx=pp + tg + 16, n_batch=pp, n_ubatch=pp,
                          n_threads=threads, n_threads_batch=threads, flash_attn=flash_attn,
                          verbose=False)
    rng = random.Random(1)
    prompt = [rng.randrange(llm.n_vocab()) for _ in range(pp)]
    llm.reset()
    llm.eval(prompt)  # warm up at full size, as model_bench does
    pp_rates, tg_rates = [], []
    for _ in range(reps):
        llm.reset()
        start = time.perf_counter()
        llm.eval(prompt)
        pp_rates.append(pp / (time.perf_counter() - start))
        elapsed = 0.0
        for i in range(tg):
            # Like llama-bench, decode steps feed arbitrary tokens: speed does not
            # depend on which.
            start = time.perf_counter()
            llm.eval([prompt[i % pp]])
            elapsed += time.perf_counter() - start
        tg_rates.append(tg / elapsed)
    return statistics.median(pp_rates), statistics.median(tg_rates)


def shoal_speed(path: Path, threads: list, pp: int, tg: int, reps: int) -> dict:
    out = subprocess.run([str(ROOT / "build/bench/model_bench"), "--model", str(path), "--pp",
                          str(pp), "--tg", str(tg), "--reps", str(reps), "--threads",
                          ",".join(map(str, threads)), "--json"],
                         capture_output=True, text=True, check=True).stdout
    return json.loads(out)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", nargs="+", type=Path, required=True)
    parser.add_argument("--threads", nargs="+", type=int, default=[1, 2])
    parser.add_argument("--pp", type=int, default=512)
    parser.add_argument("--tg", type=int, default=128)
    parser.add_argument("--reps", type=int, default=5)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()

    bandwidth = stream_bandwidth(max(args.threads))
    results = []
    print("| model | threads | pp Shoal | pp llama.cpp | ratio | tg Shoal | tg llama.cpp | ratio "
          "| tg limit | Shoal / limit | RSS MiB (file + KV) |")
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    for path in args.models:
        bytes_per_token = decode_bytes_per_token(path)
        for t in args.threads:
            # Repetitions alternate between the two (Shoal, llama.cpp without and with flash
            # attention, repeat), so the machine's drift over minutes hits both alike.
            shoal_pp, shoal_tg, peer_pp, peer_tg = [], [], [], []
            shoal = None
            for _ in range(args.reps):
                shoal = shoal_speed(path, [t], args.pp, args.tg, 1)
                shoal_pp.append(shoal["results"][0]["pp_tokens_per_s"])
                shoal_tg.append(shoal["results"][0]["tg_tokens_per_s"])
                # llama.cpp's faster setting of flash attention, per metric.
                peer = [llama_cpp_speed(path, t, args.pp, args.tg, 1, fa) for fa in (False, True)]
                peer_pp.append(max(p[0] for p in peer))
                peer_tg.append(max(p[1] for p in peer))
            limit = bandwidth[t] / bytes_per_token
            result = dict(model=path.name, threads=t, shoal_pp=statistics.median(shoal_pp),
                          llama_cpp_pp=statistics.median(peer_pp),
                          shoal_tg=statistics.median(shoal_tg),
                          llama_cpp_tg=statistics.median(peer_tg), tg_limit=limit,
                          bandwidth_gbs=bandwidth[t] / 1e9, bytes_per_token=bytes_per_token,
                          rss_end_mib=shoal["rss_end_mib"], file_mib=shoal["file_mib"],
                          kv_mib=shoal["kv_mib"])
            peer_pp, peer_tg = result["llama_cpp_pp"], result["llama_cpp_tg"]
            results.append(result)
            print(f"| {path.name} | {t} | {result['shoal_pp']:.1f} | {peer_pp:.1f} | "
                  f"{result['shoal_pp'] / peer_pp:.2f} | {result['shoal_tg']:.1f} | {peer_tg:.1f} | "
                  f"{result['shoal_tg'] / peer_tg:.2f} | {limit:.1f} | "
                  f"{result['shoal_tg'] / limit:.0%} | {shoal['rss_end_mib']:.0f} "
                  f"({shoal['file_mib']:.0f} + {shoal['kv_mib']:.0f}) |", flush=True)
    if args.json:
        args.json.write_text(json.dumps({"bandwidth": bandwidth, "results": results}, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
