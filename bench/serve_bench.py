#!/usr/bin/env python3
"""Serving benchmark, like vLLM's `bench serve`: many concurrent streaming requests
against Shoal's scheduler (gRPC, `shoal scheduler`) and llama.cpp's server
(llama-cpp-python's OpenAI server), on the same GGUF file, the same prompts and the same
thread count, in one run. Reports per concurrency level: output tokens/s, requests/s,
and TTFT / TPOT (time per output token after the first) / end-to-end percentiles.

Prompts are text (random words from a fixed list, seeded); Shoal gets the token ids
llama.cpp's own tokenizer gives for them (the same ids Shoal's tokenizer gives, see
tests/model/tokenizer), llama.cpp gets the text. Both decode greedily and stop at
end-of-generation or max_tokens, so both produce the same continuations.

  .venv-bench/bin/python bench/serve_bench.py --model FILE [--concurrency 1 4 16 64]
      [--num-requests 64] [--prompt-words 100] [--max-tokens 64] [--threads 2]
      [--shared-prefix-words 0] [--skip-llama-cpp] [--json out.json]
      [--shoal BINARY] [--stubs DIR] [--scheduler-flag=--device=cuda:0]

--shoal and --stubs (Python gRPC stubs generated beforehand) let it run where the
binary lives elsewhere and grpc_tools is missing: bench/gpu_run.sh on a lent GPU machine.

--shared-prefix-words N gives every prompt the same N-word system prompt (an agent-like
workload); Shoal is then also run with its prefix cache off, to show what the cache buys.
"""
import argparse
import concurrent.futures
import json
import os
import random
import re
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path

os.environ.setdefault("GRPC_VERBOSITY", "ERROR")
import grpc  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
SHOAL = ROOT / "build/cli/shoal"  # --shoal
WORDS = ("the of and to in is was for on that with as by at from his her it an were are "
         "which this be or had not but have one all their they new first time after two "
         "year city river music school family history war film team game world state "
         "system people water light small large early north south village island church").split()


def make_prompts(n: int, words: int, prefix_words: int, seed: int):
    rng = random.Random(seed)
    prefix = " ".join(rng.choice(WORDS) for _ in range(prefix_words))
    prompts = []
    for i in range(n):
        body = " ".join(rng.choice(WORDS) for _ in range(words))
        prompts.append((prefix + "\n\n" if prefix else "") + f"Request {i}: " + body)
    return prompts


def percentiles(values):
    if not values:
        return {}
    s = sorted(values)
    pick = lambda q: s[min(len(s) - 1, int(q * len(s)))]  # noqa: E731
    return {"mean": statistics.fmean(s), "p50": pick(0.5), "p90": pick(0.9), "p99": pick(0.99)}


def summarize(results, wall):
    out_tokens = sum(r["tokens"] for r in results)
    ttft = [r["ttft"] for r in results]
    tpot = [(r["e2e"] - r["ttft"]) / (r["tokens"] - 1) for r in results if r["tokens"] > 1]
    return {"requests": len(results), "output_tokens": out_tokens, "wall_s": wall,
            "output_tokens_per_s": out_tokens / wall, "requests_per_s": len(results) / wall,
            "ttft": percentiles(ttft), "tpot": percentiles(tpot),
            "e2e": percentiles([r["e2e"] for r in results])}


def run_load(fn, prompts, concurrency):
    start = time.perf_counter()
    with concurrent.futures.ThreadPoolExecutor(concurrency) as pool:
        results = list(pool.map(fn, range(len(prompts))))
    return summarize(results, time.perf_counter() - start)


def generate_stubs(out_dir):
    """The Python gRPC stubs of proto/shoal/v1 into out_dir (needs grpc_tools)."""
    import grpc_tools
    from grpc_tools import protoc
    protoc.main(["protoc", f"-I{ROOT / 'proto'}", f"-I{Path(grpc_tools.__file__).parent / '_proto'}",
                 f"--python_out={out_dir}", f"--grpc_python_out={out_dir}",
                 *map(str, (ROOT / "proto/shoal/v1").glob("*.proto"))])


class ShoalServer:
    def __init__(self, model, threads, extra, stubs=None):
        self.proc = subprocess.Popen(
            [str(SHOAL), "scheduler", "--model", model, "--port", "0",
             "--metrics-port", "0", "--threads", str(threads), *extra],
            stderr=subprocess.PIPE, text=True)
        self.grpc = self.http = None
        while not (self.grpc and self.http):
            line = self.proc.stderr.readline()
            if not line:
                raise RuntimeError("shoal scheduler did not start")
            if m := re.match(r"grpc listening on (\S+)", line):
                self.grpc = m.group(1)
            if m := re.match(r"http listening on (\S+)", line):
                self.http = m.group(1)
        threading.Thread(target=lambda: [None for _ in self.proc.stderr], daemon=True).start()
        if stubs is None:
            stubs = tempfile.mkdtemp()
            generate_stubs(stubs)
        sys.path.insert(0, str(stubs))
        import shoal.v1.scheduler_pb2 as pb
        import shoal.v1.scheduler_pb2_grpc as pbg
        import shoal.v1.inference_pb2 as ipb
        self.pb, self.ipb = pb, ipb
        self.stub = pbg.SchedulerStub(grpc.insecure_channel(self.grpc))
        self.counter = 0

    def metrics(self):
        with urllib.request.urlopen(f"http://{self.http}/metrics", timeout=10) as r:
            return r.read().decode()

    def request(self, tokens, max_tokens):
        self.counter += 1
        req = self.pb.SchedulerGenerateRequest(
            request_id=f"bench-{self.counter}-{random.random()}", prompt_token_ids=tokens,
            sampling=self.ipb.SamplingParams(temperature=0.0, max_tokens=max_tokens))
        start = time.perf_counter()
        ttft, n = None, 0
        for msg in self.stub.Generate(req, timeout=3600):
            if msg.token_ids and ttft is None:
                ttft = time.perf_counter() - start
            n += len(msg.token_ids)
        return {"ttft": ttft or 0.0, "e2e": time.perf_counter() - start, "tokens": n}

    def stop(self):
        self.proc.send_signal(signal.SIGTERM)
        self.proc.wait(timeout=120)


class LlamaCppServer:
    def __init__(self, model, threads, port=18731):
        self.url = f"http://127.0.0.1:{port}"
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "llama_cpp.server", "--model", model, "--host", "127.0.0.1",
             "--port", str(port), "--n_threads", str(threads), "--n_threads_batch", str(threads),
             "--n_ctx", "4096", "--interrupt_requests", "False"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.time() + 120
        while time.time() < deadline:
            try:
                urllib.request.urlopen(self.url + "/v1/models", timeout=2)
                return
            except Exception:
                time.sleep(0.2)
        raise RuntimeError("llama.cpp server did not start")

    def request(self, text, max_tokens):
        body = json.dumps({"prompt": text, "max_tokens": max_tokens, "temperature": 0.0,
                           "stream": True}).encode()
        req = urllib.request.Request(self.url + "/v1/completions", data=body,
                                     headers={"Content-Type": "application/json"})
        start = time.perf_counter()
        ttft, n = None, 0
        with urllib.request.urlopen(req, timeout=3600) as resp:
            for raw in resp:
                line = raw.decode().strip()
                if not line.startswith("data: ") or line == "data: [DONE]":
                    continue
                choice = json.loads(line[6:])["choices"][0]
                if choice.get("finish_reason") is None:  # one token per chunk; the last has none
                    if ttft is None:
                        ttft = time.perf_counter() - start
                    n += 1
        return {"ttft": ttft or 0.0, "e2e": time.perf_counter() - start, "tokens": n}

    def stop(self):
        self.proc.terminate()
        self.proc.wait(timeout=60)


def shoal_run_decode_rate(model, prompts, max_tokens, threads):
    """Median decode tokens/s of `shoal run` (no server) on the same prompts."""
    rates = []
    for text in prompts:
        out = subprocess.run([str(SHOAL), "run", "--model", model, "--prompt",
                              text, "-n", str(max_tokens), "--temperature", "0", "--threads",
                              str(threads)], capture_output=True, text=True, check=True).stderr
        m = re.search(r"generated: (\d+) tokens in ([\d.]+) s", out)
        if m and int(m.group(1)) > 1:
            rates.append((int(m.group(1)) - 1) / float(m.group(2)))
    return statistics.median(rates)


def step_overhead_share(metrics_text):
    def total(name):
        return sum(float(l.rsplit(" ", 1)[1]) for l in metrics_text.splitlines()
                   if l.startswith(name + "{"))
    step = total("shoal_scheduler_step_seconds_sum")
    return total("shoal_scheduler_step_overhead_seconds_sum") / step if step else 0.0


def fmt(row):
    return (f"{row['output_tokens']:6d} tokens {row['output_tokens_per_s']:8.1f} tok/s  "
            f"TTFT p50 {row['ttft']['p50'] * 1e3:7.0f} ms "
            f"p99 {row['ttft']['p99'] * 1e3:7.0f} ms  TPOT p50 {row['tpot'].get('p50', 0) * 1e3:6.1f} ms "
            f"p99 {row['tpot'].get('p99', 0) * 1e3:6.1f} ms")


def llama_cpp_tokenizer(model):
    import llama_cpp
    vocab = llama_cpp.Llama(model_path=model, vocab_only=True, verbose=False)
    return lambda text: vocab.tokenize(text.encode(), add_bos=True, special=False)


def shoal_tokenizer(model):
    """`shoal tokenize` (the same ids as llama.cpp's, see tests/model/tokenizer), for runs
    without llama-cpp-python installed."""
    def tokenize(text):
        out = subprocess.run([str(SHOAL), "tokenize", "--model", model, text],
                             capture_output=True, text=True, check=True).stdout
        return [int(t) for t in out.split()]
    return tokenize


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--model")
    p.add_argument("--concurrency", nargs="+", type=int, default=[1, 4, 16, 64])
    p.add_argument("--num-requests", type=int, default=64)
    p.add_argument("--prompt-words", type=int, default=100)
    p.add_argument("--max-tokens", type=int, default=64)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--shared-prefix-words", type=int, default=0)
    p.add_argument("--skip-llama-cpp", action="store_true")
    p.add_argument("--shoal-run-reference", type=int, default=0, metavar="N",
                   help="also time `shoal run` on N of the prompts (the 1-stream reference)")
    p.add_argument("--scheduler-flag", action="append", default=[], metavar="FLAG",
                   help="passed to `shoal scheduler` (repeatable), e.g. --scheduler-flag=--max-num-batched-tokens=256")
    p.add_argument("--json", type=Path)
    p.add_argument("--shoal", type=Path, help="the shoal binary (default build/cli/shoal)")
    p.add_argument("--stubs", type=Path, help="pre-generated gRPC stubs instead of grpc_tools")
    p.add_argument("--write-stubs", type=Path, metavar="DIR",
                   help="only generate the stubs into DIR and exit")
    args = p.parse_args()
    if args.write_stubs:
        args.write_stubs.mkdir(parents=True, exist_ok=True)
        generate_stubs(args.write_stubs)
        return 0
    if not args.model:
        p.error("--model is required")
    if args.shoal:
        global SHOAL
        SHOAL = args.shoal.resolve()

    tokenize = shoal_tokenizer(args.model) if args.skip_llama_cpp else llama_cpp_tokenizer(args.model)
    # Fresh prompts for every concurrency level (the shared prefix stays the same), so
    # no level finds the previous level's prompts in a prefix cache.
    prompts = {c: make_prompts(args.num_requests, args.prompt_words, args.shared_prefix_words,
                               seed=c) for c in args.concurrency}
    with concurrent.futures.ThreadPoolExecutor(os.cpu_count() or 1) as pool:  # a process each
        tokens = {c: list(pool.map(tokenize, prompts[c])) for c in args.concurrency}
    lengths = [len(t) for c in args.concurrency for t in tokens[c]]
    print(f"{args.num_requests} prompts per level of {statistics.fmean(lengths):.0f} tokens on "
          f"average, max_tokens {args.max_tokens}, {args.threads} threads", flush=True)
    report = {"model": args.model, "runs": [],
              "args": {k: str(v) if isinstance(v, Path) else v for k, v in vars(args).items()}}

    configs = [("shoal", args.scheduler_flag)]
    if args.shared_prefix_words:
        configs.append(("shoal-no-prefix-cache", args.scheduler_flag + ["--enable-prefix-caching=false"]))
    # `shoal scheduler`'s own --max-num-seqs (4 per thread on CPU) unless a
    # --scheduler-flag sets it: requests over it wait, like a server with that many slots.
    for name, flags in configs:
        server = ShoalServer(args.model, args.threads, flags, args.stubs)
        # A warm-up request: first-touch of the weights and KV pages.
        server.request(tokens[args.concurrency[0]][0][:8], 2)
        for c in args.concurrency:
            row = run_load(lambda i: server.request(tokens[c][i], args.max_tokens), tokens[c], c)
            row |= {"server": name, "concurrency": c}
            report["runs"].append(row)
            print(f"{name:22s} c={c:3d}  {fmt(row)}", flush=True)
        report[f"{name}_step_overhead_share"] = step_overhead_share(server.metrics())
        print(f"{name}: scheduler overhead {report[f'{name}_step_overhead_share']:.1%} of step time")
        server.stop()
    if args.shoal_run_reference:
        c = args.concurrency[0]
        rate = shoal_run_decode_rate(args.model, prompts[c][:args.shoal_run_reference],
                                     args.max_tokens, args.threads)
        served = [r for r in report["runs"] if r["server"] == "shoal" and r["concurrency"] == c][0]
        report["shoal_run_decode_tokens_per_s"] = rate
        print(f"shoal run: decode {rate:.1f} tok/s; shoal scheduler at c={c}: "
              f"{1 / served['tpot']['p50']:.1f} tok/s (1 / p50 TPOT)", flush=True)
    if not args.skip_llama_cpp:
        server = LlamaCppServer(args.model, args.threads)
        server.request("warm up", 2)
        for c in args.concurrency:
            row = run_load(lambda i: server.request(prompts[c][i], args.max_tokens), prompts[c], c)
            row |= {"server": "llama.cpp", "concurrency": c}
            report["runs"].append(row)
            print(f"{'llama.cpp':22s} c={c:3d}  {fmt(row)}", flush=True)
        server.stop()
    if args.json:
        args.json.write_text(json.dumps(report, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
