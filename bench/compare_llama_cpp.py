#!/usr/bin/env python3
"""Shoal vs llama.cpp on the same GGUF files and thread counts, in one run: prompt
processing (pp, one forward pass over P tokens) and decode (tg, T single-token steps on
the KV cache), median tokens/s of several rounds, plus decode's share of the
memory-bandwidth limit (bandwidth / bytes of weights read per token, bandwidth measured
by build/bench/stream_bench in the same run). Prints a markdown table and writes JSON.

The peer is llama.cpp's own `llama-bench` (built for this CPU by bench/setup_llama_cpp.sh),
Shoal's side is build/bench/model_bench; each round runs one repetition of each, one after
the other, so the machine's drift over minutes hits both alike. llama-bench runs its
pp test (`-p P -n 0`) and its tg test (`-p 0 -n T -d P`: T decode steps after a P-token
context, as model_bench decodes after its prompt; `--tg-depth 0` for llama-bench's plain
tgT) with flash attention off and on (`-fa 0,1`); its number is the better of the two.

  bench/setup_llama_cpp.sh                 # llama.cpp's tools for this CPU (build/llama.cpp)
  .venv/bin/python bench/compare_llama_cpp.py --models A.gguf B.gguf \\
      [--threads 1 2] [--pp 512] [--tg 128] [--reps 5] [--repack] [--json out.json]

--repack also runs model_bench with the weights in the file's layout (--interleave 0) in
every round, for the "repacked vs file layout" table. Shoal repacks only where it has
the interleaved kernels (AVX-512 VNNI); elsewhere both layouts run the same kernels and
the comparison is skipped, saying so.
"""
import argparse
import json
import os
import re
import statistics
import subprocess
import sys
from pathlib import Path

from gguf import GGUFReader

from bench_env import (LLAMA_CPP, NO_REPACK, ROOT, cpu_description, describe,
                       llama_cpp_build_info)


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


def run_llama_bench(path: Path, threads: int, args: list) -> list:
    cmd = [str(LLAMA_CPP / "bin/llama-bench"), "-m", str(path), "-t", str(threads), "-r", "1",
           "-fa", "0,1", "-o", "json", *args]
    proc = subprocess.run(cmd, capture_output=True, text=True)
    if proc.returncode != 0:
        sys.exit(f"llama-bench failed ({' '.join(cmd)}):\n{proc.stderr[-3000:]}")
    return json.loads(proc.stdout)


def llama_cpp_speed(path: Path, threads: int, pp: int, tg: int, depth: int) -> dict:
    """llama-bench's pp and tg tokens/s, each the better of flash attention off and on."""
    rows = run_llama_bench(path, threads, ["-p", str(pp), "-n", "0"])
    rows += run_llama_bench(path, threads, ["-p", "0", "-n", str(tg), "-d", str(depth)])
    pp_rows = [r for r in rows if r["n_prompt"] == pp and r["n_gen"] == 0]
    tg_rows = [r for r in rows if r["n_gen"] == tg and r["n_prompt"] == 0]
    best_pp = max(pp_rows, key=lambda r: r["avg_ts"])
    best_tg = max(tg_rows, key=lambda r: r["avg_ts"])
    return {"pp": best_pp["avg_ts"], "tg": best_tg["avg_ts"],
            "pp_fa": best_pp["flash_attn"], "tg_fa": best_tg["flash_attn"],
            "cpu_info": best_pp.get("cpu_info"), "build_commit": best_pp.get("build_commit")}


def shoal_speed(path: Path, threads: int, pp: int, tg: int, interleave: bool = True) -> dict:
    out = subprocess.run([str(ROOT / "build/bench/model_bench"), "--model", str(path), "--pp",
                          str(pp), "--tg", str(tg), "--reps", "1", "--threads", str(threads),
                          "--interleave", "1" if interleave else "0", "--json"],
                         capture_output=True, text=True, check=True).stdout
    return json.loads(out)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", nargs="+", type=Path, required=True)
    parser.add_argument("--threads", nargs="+", type=int, default=[1, 2])
    parser.add_argument("--pp", type=int, default=512)
    parser.add_argument("--tg", type=int, default=128)
    parser.add_argument("--tg-depth", type=int, default=None,
                        help="llama-bench's -d for the tg test (default: --pp, the context "
                             "model_bench decodes on)")
    parser.add_argument("--reps", type=int, default=5, help="rounds (one repetition of each)")
    parser.add_argument("--repack", action="store_true",
                        help="also run Shoal with the weights in the file's layout")
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    depth = args.pp if args.tg_depth is None else args.tg_depth
    if not (LLAMA_CPP / "bin/llama-bench").exists():
        sys.exit("build/llama.cpp/bin/llama-bench is missing: run bench/setup_llama_cpp.sh")

    # model_bench does not read SHOAL_CPU_LEVEL: it runs at the CPU's own level.
    cpu = cpu_description(honor_cap=False)
    print(describe(honor_cap=False))
    if os.environ.get("SHOAL_CPU_LEVEL"):
        print(f"note: SHOAL_CPU_LEVEL={os.environ['SHOAL_CPU_LEVEL']} is ignored here: "
              "build/bench/model_bench runs at the CPU's own level")
    tg_name = f"tg{args.tg}" + (f" @ d{depth}" if depth else "")
    print(f"llama-bench: pp{args.pp} and {tg_name}, -fa 0,1 (the better), -r 1 per round; "
          f"model_bench: pp{args.pp}, tg{args.tg} after the prompt; {args.reps} rounds, medians")
    repack = args.repack and cpu["shoal_repacks"]
    if args.repack and not repack:
        print(f"repack comparison skipped: {NO_REPACK}")
    print()

    bandwidth = stream_bandwidth(max(args.threads))
    results = []
    print("| model | threads | pp Shoal | pp llama.cpp | ratio | tg Shoal | tg llama.cpp | ratio "
          "| tg limit | Shoal / limit | RSS MiB (file + KV) |")
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    for path in args.models:
        bytes_per_token = decode_bytes_per_token(path)
        for t in args.threads:
            s_pp, s_tg, p_pp, p_tg, f_pp, f_tg, fa = [], [], [], [], [], [], []
            shoal = peer = None
            for _ in range(args.reps):
                shoal = shoal_speed(path, t, args.pp, args.tg)
                s_pp.append(shoal["results"][0]["pp_tokens_per_s"])
                s_tg.append(shoal["results"][0]["tg_tokens_per_s"])
                peer = llama_cpp_speed(path, t, args.pp, args.tg, depth)
                p_pp.append(peer["pp"])
                p_tg.append(peer["tg"])
                fa.append((peer["pp_fa"], peer["tg_fa"]))
                if repack:
                    plain = shoal_speed(path, t, args.pp, args.tg, interleave=False)
                    f_pp.append(plain["results"][0]["pp_tokens_per_s"])
                    f_tg.append(plain["results"][0]["tg_tokens_per_s"])
            med = statistics.median
            limit = bandwidth[t] / bytes_per_token
            result = dict(model=path.name, threads=t, shoal_pp=med(s_pp), llama_cpp_pp=med(p_pp),
                          shoal_tg=med(s_tg), llama_cpp_tg=med(p_tg), tg_limit=limit,
                          pp_ratio=med(s_pp) / med(p_pp), tg_ratio=med(s_tg) / med(p_tg),
                          bandwidth_gbs=bandwidth[t] / 1e9, bytes_per_token=bytes_per_token,
                          rss_end_mib=shoal["rss_end_mib"], file_mib=shoal["file_mib"],
                          kv_mib=shoal["kv_mib"], llama_cpp_flash_attn_pp_tg=fa,
                          samples=dict(shoal_pp=s_pp, shoal_tg=s_tg, llama_cpp_pp=p_pp,
                                       llama_cpp_tg=p_tg))
            if repack:
                result |= dict(file_layout_pp=med(f_pp), file_layout_tg=med(f_tg))
                result["samples"] |= dict(file_layout_pp=f_pp, file_layout_tg=f_tg)
            results.append(result)
            print(f"| {path.name} | {t} | {result['shoal_pp']:.1f} | {result['llama_cpp_pp']:.1f} | "
                  f"{result['pp_ratio']:.2f} | {result['shoal_tg']:.1f} | "
                  f"{result['llama_cpp_tg']:.1f} | {result['tg_ratio']:.2f} | {limit:.1f} | "
                  f"{result['shoal_tg'] / limit:.0%} | {shoal['rss_end_mib']:.0f} "
                  f"({shoal['file_mib']:.0f} + {shoal['kv_mib']:.0f}) |", flush=True)
    if repack:
        print("\nShoal, weights repacked at load vs the file's layout (model_bench --interleave 1|0):\n")
        print("| model | threads | pp repacked | pp file layout | tg repacked | tg file layout |")
        print("|---|---:|---:|---:|---:|---:|")
        for r in results:
            print(f"| {r['model']} | {r['threads']} | {r['shoal_pp']:.1f} | {r['file_layout_pp']:.1f} "
                  f"| {r['shoal_tg']:.1f} | {r['file_layout_tg']:.1f} |")
    elif args.repack:
        print(f"\n(no repacked vs file layout table: {NO_REPACK})")
    if args.json:
        args.json.write_text(json.dumps(
            {"cpu": cpu, "llama_cpp_build": llama_cpp_build_info(), "bandwidth": bandwidth, "pp": args.pp,
             "tg": args.tg, "tg_depth": depth, "reps": args.reps, "results": results}, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
