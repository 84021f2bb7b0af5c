#!/usr/bin/env python3
"""Serving benchmark, like vLLM's `bench serve`: many concurrent streaming requests
against Shoal (`shoal serve` through its OpenAI API by default; with --shoal-protocol
grpc, `shoal scheduler` directly, without the router) and llama.cpp's own server
(`llama-server`, built for this CPU by bench/setup_llama_cpp.sh), on the same GGUF file,
the same prompts and the same thread count, in one run. Reports per concurrency level:
output tokens/s, requests/s, and TTFT / TPOT (time per output token after the first) /
end-to-end percentiles.

llama-server is started afresh for every concurrency level N with `--parallel N` slots
and continuous batching, a context of N x (the level's longest prompt + max_tokens,
rounded up to 256), the same threads for prompt and decode, and driven through its
OpenAI-compatible streaming /v1/completions, like `shoal serve`. Shoal runs once, with its
own admission (`--max-num-seqs`, 4 per compute thread on CPU, unless a --scheduler-flag
sets it).

Prompts are random words from a fixed list, seeded, tokenized once by `shoal tokenize`
(the ids llama.cpp's tokenizer gives, see tests/model/tokenizer; checked against
llama-server's /tokenize on the first prompt of every level); both servers get the same
token ids, decode greedily and, by default, ignore end-of-generation, so every request
yields exactly --max-tokens tokens on both (--stop-at-eos: stop at end-of-generation).

  bench/setup_llama_cpp.sh      # build/llama.cpp/bin/llama-server
  .venv/bin/python bench/serve_bench.py --model FILE [--concurrency 1 4 16 64]
      [--num-requests 64] [--prompt-words 100] [--max-tokens 64] [--threads 2]
      [--shared-prefix-words 0] [--skip-llama-cpp] [--json out.json]
      [--shoal BINARY] [--stubs DIR] [--scheduler-flag=--device=cuda:0]
      [--llama-server BINARY] [--llama-server-flag="--flash-attn on"]

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
import shlex
import signal
import socket
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

import bench_env  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
SHOAL = ROOT / "build/cli/shoal"  # --shoal
LLAMA_SERVER = ROOT / "build/llama.cpp/bin/llama-server"  # --llama-server
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
            stderr=subprocess.PIPE, text=True, preexec_fn=die_with_parent)
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

    def request(self, tokens, max_tokens, ignore_eos=True):
        self.counter += 1
        req = self.pb.SchedulerGenerateRequest(
            request_id=f"bench-{self.counter}-{random.random()}", prompt_token_ids=tokens,
            sampling=self.ipb.SamplingParams(temperature=0.0, max_tokens=max_tokens,
                                             ignore_eos=ignore_eos))
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


def openai_stream_completion(url, tokens, max_tokens, ignore_eos):
    """One streamed /v1/completions request with token-id prompts, greedy, as vLLM's
    `bench serve` sends it: {"ttft", "e2e", "tokens"} (tokens from the usage chunk)."""
    # The same token ids for every server (BOS included; neither adds one to an id
    # prompt). max_tokens and ignore_eos as vLLM names them; n_predict for llama-server.
    body = json.dumps({"model": "bench", "prompt": tokens, "max_tokens": max_tokens,
                       "n_predict": max_tokens,
                       "ignore_eos": ignore_eos, "temperature": 0.0, "stream": True,
                       "stream_options": {"include_usage": True}}).encode()
    req = urllib.request.Request(url + "/v1/completions", data=body,
                                 headers={"Content-Type": "application/json"})
    start = time.perf_counter()
    ttft, n, usage = None, 0, None
    with urllib.request.urlopen(req, timeout=3600) as resp:
        for raw in resp:
            line = raw.decode().strip()
            if not line.startswith("data: ") or line == "data: [DONE]":
                continue
            chunk = json.loads(line[6:])
            if chunk.get("usage"):
                usage = chunk["usage"].get("completion_tokens")
            if "prompt_progress" in chunk or not chunk.get("choices"):
                continue
            if chunk["choices"][0].get("finish_reason") is None:  # text of new tokens
                if ttft is None:
                    ttft = time.perf_counter() - start
                n += 1
    return {"ttft": ttft or 0.0, "e2e": time.perf_counter() - start,
            "tokens": usage if usage is not None else n}


class ShoalHttpServer:
    """`shoal serve` (router, scheduler and worker in one process), driven through its
    OpenAI-compatible streaming /v1/completions exactly like llama-server."""

    def __init__(self, model, threads, extra):
        self.proc = subprocess.Popen(
            [str(SHOAL), "serve", "--model", model, "--served-model-name", "bench", "--port", "0",
             "--grpc-port", "-1",
             "--threads", str(threads), "--log-level", "warn", *extra],
            stderr=subprocess.PIPE, text=True, preexec_fn=die_with_parent)
        self.url = None
        while not self.url:
            line = self.proc.stderr.readline()
            if not line:
                raise RuntimeError("shoal serve did not start")
            if m := re.match(r"http listening on (\S+)", line):
                self.url = "http://" + m.group(1)
        threading.Thread(target=lambda: [None for _ in self.proc.stderr], daemon=True).start()

    def metrics(self):
        with urllib.request.urlopen(self.url + "/metrics", timeout=10) as r:
            return r.read().decode()

    def request(self, tokens, max_tokens, ignore_eos=True):
        return openai_stream_completion(self.url, tokens, max_tokens, ignore_eos)

    def stop(self):
        self.proc.send_signal(signal.SIGTERM)
        self.proc.wait(timeout=120)


def die_with_parent():
    """preexec_fn: the server gets SIGTERM when this script dies (Linux), so a crash or a
    timeout leaves no server behind holding the port, the memory or our stdout."""
    try:
        import ctypes
        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except Exception:
        pass


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class LlamaCppServer:
    """llama.cpp's own `llama-server` (bench/setup_llama_cpp.sh builds it) with `slots`
    parallel slots and continuous batching, `ctx_per_slot` tokens of context each, driven
    through its OpenAI-compatible /v1/completions with SSE streaming and token-id prompts."""

    def __init__(self, model, threads, slots, ctx_per_slot, extra):
        port = free_port()
        self.url = f"http://127.0.0.1:{port}"
        self.log = tempfile.NamedTemporaryFile("w+", prefix="llama-server-", suffix=".log",
                                               delete=False)
        self.cmd = [str(LLAMA_SERVER), "--model", model, "--host", "127.0.0.1",
                    "--port", str(port), "--threads", str(threads),
                    "--threads-batch", str(threads), "--parallel", str(slots),
                    "--cont-batching", "--ctx-size", str(slots * ctx_per_slot),
                    "--no-webui", *[word for flag in extra for word in shlex.split(flag)]]
        self.proc = subprocess.Popen(self.cmd, stdout=self.log, stderr=subprocess.STDOUT,
                                     preexec_fn=die_with_parent)
        deadline = time.time() + 300
        while time.time() < deadline:
            if self.proc.poll() is not None:
                break
            try:
                # 503 while the model loads, 200 once every slot is ready.
                with urllib.request.urlopen(self.url + "/health", timeout=2) as r:
                    if r.status == 200:
                        return
            except Exception:
                pass
            time.sleep(0.2)
        self.log.seek(0)
        log = self.log.read()[-3000:]
        self.stop()
        raise RuntimeError("llama-server did not start: " + " ".join(self.cmd) + "\n" + log)

    def tokenize(self, text):
        body = json.dumps({"content": text, "add_special": True}).encode()
        req = urllib.request.Request(self.url + "/tokenize", data=body,
                                     headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(req, timeout=60) as r:
            return json.loads(r.read())["tokens"]

    def request(self, tokens, max_tokens, ignore_eos):
        return openai_stream_completion(self.url, tokens, max_tokens, ignore_eos)

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(timeout=60)
        self.log.close()
        os.unlink(self.log.name)


def shoal_run_decode_rate(model, prompts, max_tokens, threads, ignore_eos):
    """Median decode tokens/s of `shoal run` (no server) on the same prompts."""
    rates = []
    for text in prompts:
        out = subprocess.run([str(SHOAL), "run", "--model", model, "--prompt",
                              text, "-n", str(max_tokens), "--temperature", "0", "--threads",
                              str(threads), *(["--ignore-eos"] if ignore_eos else [])],
                             capture_output=True, text=True, check=True).stderr
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


def shoal_tokenizer(model):
    """`shoal tokenize` (the same ids as llama.cpp's, see tests/model/tokenizer)."""
    def tokenize(text):
        out = subprocess.run([str(SHOAL), "tokenize", "--model", model, text],
                             capture_output=True, text=True, check=True).stdout
        return [int(t) for t in out.split()]
    return tokenize


def per_slot_context(token_lists, max_tokens):
    """Context per llama-server slot: the longest prompt plus max_tokens, rounded up to
    256 (llama.cpp pads to 256 anyway)."""
    need = max(len(t) for t in token_lists) + max_tokens + 8
    return (need + 255) // 256 * 256


def run_llama_cpp_level(args, c, tokens, prompts):
    """One concurrency level against a fresh llama-server with c slots."""
    server = LlamaCppServer(args.model, args.threads, c, per_slot_context(tokens, args.max_tokens),
                            args.llama_server_flag)
    try:
        theirs = server.tokenize(prompts[0])
        if theirs != tokens[0]:
            print(f"warning: llama-server tokenizes the first prompt differently "
                  f"({len(theirs)} ids against shoal tokenize's {len(tokens[0])}); both get "
                  f"shoal's ids", flush=True)
        server.request(tokens[0][:8], 2, True)  # warm-up: first touch of weights and KV
        row = run_load(lambda i: server.request(tokens[i], args.max_tokens, not args.stop_at_eos),
                       tokens, c)
    finally:
        server.stop()
    return row | {"server": "llama.cpp", "concurrency": c, "slots": c,
                  "ctx_size": c * per_slot_context(tokens, args.max_tokens)}


def run_shoal_config(args, name, server, tokens, prompts, report, ignore_eos):
    """Every concurrency level against one running Shoal server; with the default
    config, each level against llama-server right after Shoal's."""
    # A warm-up request: first-touch of the weights and KV pages.
    server.request(tokens[args.concurrency[0]][0][:8], 2)
    for c in args.concurrency:
        row = run_load(lambda i: server.request(tokens[c][i], args.max_tokens, ignore_eos),
                       tokens[c], c)
        row |= {"server": name, "concurrency": c}
        report["runs"].append(row)
        print(f"{name:22s} c={c:3d}  {fmt(row)}", flush=True)
        if name == "shoal" and not args.skip_llama_cpp:
            # The peer's level right after Shoal's (Shoal's server idles meanwhile), so
            # the machine's drift over minutes hits both alike.
            row = run_llama_cpp_level(args, c, tokens[c], prompts[c])
            report["runs"].append(row)
            print(f"{'llama.cpp':22s} c={c:3d}  {fmt(row)}", flush=True)
    report[f"{name}_step_overhead_share"] = step_overhead_share(server.metrics())
    print(f"{name}: scheduler overhead {report[f'{name}_step_overhead_share']:.1%} of step time")


def summary_table(report, levels):
    def run(server, c):
        rows = [r for r in report["runs"] if r["server"] == server and r["concurrency"] == c]
        return rows[0] if rows else None
    lines = ["| streams | Shoal tok/s | llama.cpp tok/s | ratio | Shoal TTFT p50 | "
             "llama.cpp TTFT p50 | Shoal TPOT p50 | llama.cpp TPOT p50 |",
             "|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for c in levels:
        s, l = run("shoal", c), run("llama.cpp", c)
        if not (s and l):
            continue
        lines.append(
            f"| {c} | {s['output_tokens_per_s']:.1f} | {l['output_tokens_per_s']:.1f} | "
            f"{s['output_tokens_per_s'] / l['output_tokens_per_s']:.2f}x | "
            f"{s['ttft']['p50'] * 1e3:.0f} ms | {l['ttft']['p50'] * 1e3:.0f} ms | "
            f"{s['tpot'].get('p50', 0) * 1e3:.1f} ms | {l['tpot'].get('p50', 0) * 1e3:.1f} ms |")
    return "\n".join(lines)


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--model")
    p.add_argument("--concurrency", nargs="+", type=int, default=[1, 4, 16, 64])
    p.add_argument("--num-requests", type=int, default=64)
    p.add_argument("--prompt-words", type=int, default=100)
    p.add_argument("--max-tokens", type=int, default=64)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--shared-prefix-words", type=int, default=0)
    p.add_argument("--stop-at-eos", action="store_true",
                   help="stop at end-of-generation (default: ignore it, on both servers)")
    p.add_argument("--skip-llama-cpp", action="store_true")
    p.add_argument("--shoal-protocol", choices=["http", "grpc"], default="http",
                   help="http: `shoal serve` through its OpenAI API, like llama-server (end to "
                        "end, the default); grpc: `shoal scheduler` directly (no router)")
    p.add_argument("--shoal-run-reference", type=int, default=0, metavar="N",
                   help="also time `shoal run` on N of the prompts (the 1-stream reference)")
    p.add_argument("--scheduler-flag", action="append", default=[], metavar="FLAG",
                   help="passed to `shoal serve` or `shoal scheduler` (repeatable), e.g. --scheduler-flag=--max-num-batched-tokens=256")
    p.add_argument("--llama-server-flag", action="append", default=[], metavar="FLAG",
                   help="passed to llama-server (repeatable, split at spaces: llama.cpp takes no "
                        "--flag=value), e.g. --llama-server-flag='--flash-attn on'")
    p.add_argument("--json", type=Path)
    p.add_argument("--shoal", type=Path, help="the shoal binary (default build/cli/shoal)")
    p.add_argument("--llama-server", type=Path,
                   help="the llama-server binary (default build/llama.cpp/bin/llama-server)")
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
    global SHOAL, LLAMA_SERVER
    if args.shoal:
        SHOAL = args.shoal.resolve()
    if args.llama_server:
        LLAMA_SERVER = args.llama_server.resolve()
    if not args.skip_llama_cpp and not LLAMA_SERVER.exists():
        p.error(f"{LLAMA_SERVER} is missing: run bench/setup_llama_cpp.sh (or --skip-llama-cpp)")

    print(bench_env.describe(), flush=True)
    tokenize = shoal_tokenizer(args.model)
    # Fresh prompts for every concurrency level (the shared prefix stays the same), so
    # no level finds the previous level's prompts in a prefix cache.
    prompts = {c: make_prompts(args.num_requests, args.prompt_words, args.shared_prefix_words,
                               seed=c) for c in args.concurrency}
    with concurrent.futures.ThreadPoolExecutor(os.cpu_count() or 1) as pool:  # a process each
        tokens = {c: list(pool.map(tokenize, prompts[c])) for c in args.concurrency}
    lengths = [len(t) for c in args.concurrency for t in tokens[c]]
    ignore_eos = not args.stop_at_eos
    print(f"{args.num_requests} prompts per level of {statistics.fmean(lengths):.0f} tokens on "
          f"average, max_tokens {args.max_tokens}{' (EOS ignored)' if ignore_eos else ''}, "
          f"{args.threads} threads", flush=True)
    if not args.skip_llama_cpp:
        print(f"llama-server: --parallel N --cont-batching, --ctx-size N x per-slot context, "
              f"--threads {args.threads} --threads-batch {args.threads} "
              f"{' '.join(args.llama_server_flag + [''])}(restarted for each level N)", flush=True)
    report = {"model": args.model, "runs": [], "cpu": bench_env.cpu_description(),
              "llama_cpp_build": bench_env.llama_cpp_build_info(),
              "args": {k: str(v) if isinstance(v, Path) else v for k, v in vars(args).items()}}

    configs = [("shoal", args.scheduler_flag)]
    if args.shared_prefix_words:
        configs.append(("shoal-no-prefix-cache", args.scheduler_flag + ["--enable-prefix-caching=false"]))
    # Shoal's own --max-num-seqs (4 per thread on CPU) unless a
    # --scheduler-flag sets it: requests over it wait, like a server with that many slots.
    for name, flags in configs:
        if args.shoal_protocol == "http":
            server = ShoalHttpServer(args.model, args.threads, flags)
        else:
            server = ShoalServer(args.model, args.threads, flags, args.stubs)
        try:
            run_shoal_config(args, name, server, tokens, prompts, report, ignore_eos)
        finally:
            server.stop()
    if args.shoal_run_reference:
        c = args.concurrency[0]
        rate = shoal_run_decode_rate(args.model, prompts[c][:args.shoal_run_reference],
                                     args.max_tokens, args.threads, ignore_eos)
        served = [r for r in report["runs"] if r["server"] == "shoal" and r["concurrency"] == c][0]
        report["shoal_run_decode_tokens_per_s"] = rate
        print(f"shoal run: decode {rate:.1f} tok/s; shoal served at c={c}: "
              f"{1 / served['tpot']['p50']:.1f} tok/s (1 / p50 TPOT)", flush=True)
    if not args.skip_llama_cpp:
        print("\n" + summary_table(report, args.concurrency), flush=True)
    if args.json:
        args.json.write_text(json.dumps(report, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
