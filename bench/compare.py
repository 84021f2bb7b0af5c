#!/usr/bin/env python3
"""Serving comparison: Shoal (`shoal serve`, its OpenAI API) against llama.cpp's own
server (`llama-server`, built for this CPU by bench/setup_llama_cpp.sh) on the same GGUF
file, the same prompts and the same thread count, in one run, every measurement taken by
`shoal bench` (cli/bench_command.cc) over HTTP with SSE: output tokens/s, requests/s,
TTFT / TPOT / ITL / end-to-end percentiles and, with --slo, goodput.

`shoal serve` starts once (`--served-model-name bench`, --threads, every --shoal-flag),
with its own admission (`--max-num-seqs`, 256 unless a --shoal-flag sets it). llama-server starts afresh for every level N with `--parallel N`
slots and continuous batching, a context of N x (the longest prompt + the longest
output, rounded up to 256), the same threads for prompt and decode (`--threads`,
`--threads-batch`), and every --llama-server-flag.

For every closed-loop level (--concurrency) and then every open-loop rate
(--request-rates, Poisson arrivals at R requests/s, at most --rate-max-concurrency in
flight, which is also llama-server's slot count there) `shoal bench` runs against Shoal
and right after it against llama-server (Shoal idles meanwhile), so the machine's drift
over minutes hits both alike. Both get the same prompts: random token ids from the
model's own vocabulary (`shoal bench --model` is the same GGUF), the same seed for both
at a level and a fresh seed for every level (no level finds the previous one's prompts in
a prefix cache), greedy, end-of-generation ignored unless --stop-at-eos, so every request
yields exactly its max_tokens on both. Each server first gets one short warm-up request
(first touch of the weights and KV pages).

  bench/setup_llama_cpp.sh      # build/llama.cpp/bin/llama-server
  .venv/bin/python bench/compare.py --model FILE [--concurrency 1 4 16 64]
      [--request-rates 1 2 4] [--rate-max-concurrency 64] [--num-requests 64]
      [--workload random|agent] [--turns 4]
      [--input-len 100] [--output-len 64] [--threads 2] [--seed 0] [--stop-at-eos]
      [--slo ttft=2s,tpot=150ms] [--workload-flag='--prefix-len 1000']
      [--shoal-flag=--max-num-seqs=16] [--llama-server-flag='--flash-attn on']
      [--no-prefix-cache-run] [--skip-llama-cpp] [--shoal BINARY]
      [--llama-server BINARY] [--json out.json] [--plot out.png]

--workload agent runs shoal bench's agent workload: at a level of N streams, N agents,
each sending --turns requests whose history grows over one shared system prompt and tool
list (prefix caching matters; llama-server reuses a slot's own cache between an agent's
turns). --workload-flag passes a flag to every `shoal bench` run (repeatable, split at
spaces), e.g. --workload-flag='--prefix-len 1000' (every prompt shares a 1000-token
prefix), '--system-prompt-len 2000' (agents), '--range-ratio 0.5', '--burstiness 0.5',
'--endpoint chat'.
--no-prefix-cache-run then also runs every level against a second `shoal serve` with
`--enable-prefix-caching=false`, to show what the cache buys. --json writes every
`shoal bench` report with the CPU and llama.cpp build (bench/bench_env.py); bench/plot.py
draws it. Standard library only (bench/gpu_run.sh runs it with a bare python3).
"""
import argparse
import collections
import json
import os
import re
import shlex
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path

import bench_env

ROOT = Path(__file__).resolve().parent.parent
SHOAL = ROOT / "build/cli/shoal"  # --shoal
LLAMA_SERVER = ROOT / "build/llama.cpp/bin/llama-server"  # --llama-server
SERVED_NAME = "bench"
# compare.py's own options; not to be given again through --workload-flag.
OWN_FLAGS = {"target", "protocol", "model", "served-model-name", "concurrency", "request-rate",
             "num-requests", "input-len", "output-len", "stop-at-eos", "slo", "json", "seed",
             "workload", "agents", "turns", "plot"}


def die_with_parent():
    """preexec_fn: the child gets SIGTERM when this script dies (Linux), so a crash or a
    timeout leaves no server behind holding the port, the memory or our stdout."""
    try:
        import ctypes
        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except Exception:
        pass


def interrupt(*_):
    raise KeyboardInterrupt


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def split_flags(flags):
    """Repeatable flag options, each split at spaces: ['--a 1', '--b=2'] -> ['--a', '1', '--b=2']."""
    return [word for flag in flags for word in shlex.split(flag)]


def flag_value(words, name, default):
    """The last value of --name (or --name_with_underscores) in words, as --name=V or --name V."""
    value = default
    spellings = {"--" + name, "--" + name.replace("-", "_")}
    for i, word in enumerate(words):
        key, eq, rest = word.partition("=")
        if key in spellings:
            if eq:
                value = rest
            elif i + 1 < len(words):
                value = words[i + 1]
    return value


def stop_process(proc, timeout):
    """SIGTERM, then SIGKILL if it is still there after timeout seconds."""
    if proc.poll() is not None:
        return
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


class ShoalServer:
    """`shoal serve` (router, scheduler and worker in one process) on free ports."""

    def __init__(self, model, threads, extra, grpc):
        self.cmd = [str(SHOAL), "serve", "--model", model, "--served-model-name", SERVED_NAME,
                    "--host", "127.0.0.1", "--port", "0", "--grpc-port", "0" if grpc else "-1",
                    "--threads", str(threads), "--log-level", "warn", *extra]
        self.proc = subprocess.Popen(self.cmd, stderr=subprocess.PIPE, text=True,
                                     preexec_fn=die_with_parent)
        self.tail = collections.deque(maxlen=40)
        self.http = self.grpc = None
        try:
            while not (self.http and (self.grpc or not grpc)):
                line = self.proc.stderr.readline()
                if not line:
                    raise RuntimeError("shoal serve did not start: " + shlex.join(self.cmd)
                                       + "\n" + "".join(self.tail))
                self.tail.append(line)
                if m := re.match(r"http listening on (\S+)", line):
                    self.http = m.group(1)
                if m := re.match(r"grpc listening on (\S+)", line):
                    self.grpc = m.group(1)
        except BaseException:
            self.stop()
            raise
        # Keep draining stderr (a full pipe would block the server), the last lines kept.
        threading.Thread(target=lambda: [self.tail.append(l) for l in self.proc.stderr],
                         daemon=True).start()

    def target(self, protocol):
        return self.grpc if protocol == "grpc" else self.http

    def metrics(self):
        with urllib.request.urlopen(f"http://{self.http}/metrics", timeout=10) as r:
            return r.read().decode()

    def alive(self):
        return self.proc.poll() is None

    def stop(self):
        stop_process(self.proc, 120)


class LlamaCppServer:
    """llama.cpp's own `llama-server` (bench/setup_llama_cpp.sh builds it) with `slots`
    parallel slots and continuous batching, `ctx_per_slot` tokens of context each."""

    def __init__(self, model, threads, slots, ctx_per_slot, extra):
        port = free_port()
        self.target = f"127.0.0.1:{port}"
        self.log = tempfile.NamedTemporaryFile("w+", prefix="llama-server-", suffix=".log",
                                               delete=False)
        self.cmd = [str(LLAMA_SERVER), "--model", model, "--host", "127.0.0.1",
                    "--port", str(port), "--threads", str(threads),
                    "--threads-batch", str(threads), "--parallel", str(slots),
                    "--cont-batching", "--ctx-size", str(slots * ctx_per_slot),
                    "--no-webui", *extra]
        self.proc = subprocess.Popen(self.cmd, stdout=self.log, stderr=subprocess.STDOUT,
                                     preexec_fn=die_with_parent)
        deadline = time.time() + 300
        try:
            while time.time() < deadline and self.proc.poll() is None:
                try:
                    # 503 while the model loads, 200 once every slot is ready.
                    with urllib.request.urlopen(f"http://{self.target}/health", timeout=2) as r:
                        if r.status == 200:
                            return
                except Exception:
                    pass
                time.sleep(0.2)
        except BaseException:
            self.stop()
            raise
        log = self.log_tail()
        self.stop()
        raise RuntimeError("llama-server did not start: " + shlex.join(self.cmd) + "\n" + log)

    def log_tail(self, chars=3000):
        self.log.flush()
        return Path(self.log.name).read_text(errors="replace")[-chars:]

    def alive(self):
        return self.proc.poll() is None

    def stop(self):
        stop_process(self.proc, 60)
        self.log.close()
        try:
            os.unlink(self.log.name)
        except OSError:
            pass


class Runner:
    """Runs `shoal bench` and keeps its reports."""

    def __init__(self, args, workload_words):
        self.args = args
        self.workload_words = workload_words
        self.runs = []

    def bench(self, target, protocol, extra, verbose):
        """One `shoal bench` run against target: its JSON report (RuntimeError if it failed)."""
        with tempfile.TemporaryDirectory(prefix="shoal-compare-") as tmp:
            out = Path(tmp) / "report.json"
            cmd = [str(SHOAL), "bench", "--target", target, "--protocol", protocol,
                   "--model", self.args.model, "--served-model-name", SERVED_NAME,
                   "--json", str(out), *extra]
            proc = subprocess.run(cmd, stdout=None if verbose else subprocess.PIPE,
                                  stderr=None if verbose else subprocess.STDOUT, text=True,
                                  preexec_fn=die_with_parent)
            if proc.returncode != 0 or not out.exists():
                raise RuntimeError(f"shoal bench failed ({proc.returncode}): {shlex.join(cmd)}\n"
                                   + (proc.stdout or "")[-3000:])
            return json.loads(out.read_text()), cmd

    def warm_up(self, target, protocol):
        """One short request: first touch of the weights and KV pages."""
        self.bench(target, protocol, ["--concurrency", "1", "--num-requests", "1",
                                      "--input-len", "8", "--output-len", "2",
                                      "--seed", str(self.args.seed + 999_983)], False)

    def measure(self, server, target, protocol, load, seed, extra_info):
        """A level (load: {"concurrency": C} or {"request_rate": R, "concurrency": C})."""
        a = self.args
        num_requests = max(a.num_requests, a.min_requests_per_stream * load["concurrency"])
        flags = ["--concurrency", str(load["concurrency"]), "--num-requests", str(num_requests),
                 "--input-len", str(a.input_len), "--output-len", str(a.output_len),
                 "--seed", str(seed)]
        if a.workload == "agent":
            # As many agents as streams at a level (at a rate, --rate-max-concurrency).
            flags += ["--workload", "agent", "--agents", str(load["concurrency"]),
                      "--turns", str(a.turns)]
        if "request_rate" in load:
            flags += ["--request-rate", str(load["request_rate"])]
        if a.stop_at_eos:
            flags.append("--stop-at-eos")
        if a.slo:
            flags += ["--slo", a.slo]
        report, cmd = self.bench(target, protocol, flags + self.workload_words, a.verbose)
        run = {"server": server, "concurrency": load["concurrency"],
               "request_rate": load.get("request_rate"), "seed": seed,
               "command": shlex.join(cmd), **extra_info, "report": report}
        self.runs.append(run)
        print(f"{server:22s} {label(run):>12s}  {fmt(report['summary'])}", flush=True)
        return run


def label(run):
    return (f"{run['request_rate']:g} req/s" if run.get("request_rate") is not None
            else f"c={run['concurrency']}")


def fmt(s):
    line = (f"{s['output_tokens']:6d} tokens {s['output_tokens_per_s']:8.1f} tok/s  "
            f"TTFT p50 {s['ttft_s']['p50'] * 1e3:7.0f} ms p99 {s['ttft_s']['p99'] * 1e3:7.0f} ms  "
            f"TPOT p50 {s['tpot_s']['p50'] * 1e3:6.1f} ms p99 {s['tpot_s']['p99'] * 1e3:6.1f} ms")
    if s["failed"]:
        line += f"  FAILED {s['failed']} {s['errors']}"
    return line


def per_slot_context(args, words):
    """Context per llama-server slot: the longest prompt (BOS, the shared prefix, the
    longest own part) plus the longest output, rounded up to 256 (llama.cpp pads to 256
    anyway). An agent's last turn carries the system prompt, the tools and every earlier
    turn; shoal bench's lengths there are approximate (a word counts as one token), so a
    quarter more is allowed."""
    if args.workload == "agent":
        def length(name, default):
            return int(flag_value(words, name, default))
        prompt = (length("system-prompt-len", 1000) + length("tools", 4) * length("tool-len", 120)
                  + args.turns * length("user-turn-len", 60)
                  + (args.turns - 1) * length("assistant-turn-len", 120))
        need = 1 + int(prompt * 1.25) + args.output_len + 8
    else:
        ratio = float(flag_value(words, "range-ratio", 0))
        prefix = int(flag_value(words, "prefix-len", 0))
        need = (1 + prefix + int(args.input_len * (1 + ratio)) + int(args.output_len * (1 + ratio))
                + 8)
    return (need + 255) // 256 * 256


def step_overhead_share(metrics_text):
    def total(name):
        return sum(float(l.rsplit(" ", 1)[1]) for l in metrics_text.splitlines()
                   if l.startswith(name + "{") or l.startswith(name + " "))
    step = total("shoal_scheduler_step_seconds_sum")
    return total("shoal_scheduler_step_overhead_seconds_sum") / step if step else None


def ms(seconds):
    return f"{seconds * 1e3:.0f} ms" if seconds >= 0.1 else f"{seconds * 1e3:.1f} ms"


def summary_tables(runs, slo):
    """Markdown: per sweep (levels, then rates), Shoal against llama.cpp when both ran,
    else one table per server."""
    out = []
    for kind, key, head in (("levels", "concurrency", "streams"), ("rates", "request_rate", "req/s")):
        sweep = [r for r in runs if (r["request_rate"] is None) == (kind == "levels")]
        if not sweep:
            continue
        xs = list(dict.fromkeys(r[key] for r in sweep))
        by = {(r["server"], r[key]): r["report"]["summary"] for r in sweep}
        servers = list(dict.fromkeys(r["server"] for r in sweep))
        if "shoal" in servers and "llama.cpp" in servers:
            cols = ["Shoal tok/s", "llama.cpp tok/s", "ratio", "Shoal TTFT p50",
                    "llama.cpp TTFT p50", "Shoal TPOT p50", "llama.cpp TPOT p50"]
            if slo:
                cols += ["Shoal goodput", "llama.cpp goodput"]
            lines = [f"| {head} | " + " | ".join(cols) + " |", "|---:" * (len(cols) + 1) + "|"]
            for x in xs:
                s, l = by.get(("shoal", x)), by.get(("llama.cpp", x))
                if not (s and l):
                    continue
                ratio = (s["output_tokens_per_s"] / l["output_tokens_per_s"]
                         if l["output_tokens_per_s"] else float("inf"))
                row = [f"{s['output_tokens_per_s']:.1f}", f"{l['output_tokens_per_s']:.1f}",
                       f"{ratio:.2f}x", ms(s["ttft_s"]["p50"]), ms(l["ttft_s"]["p50"]),
                       ms(s["tpot_s"]["p50"]), ms(l["tpot_s"]["p50"])]
                if slo:
                    row += [f"{s['goodput_requests_per_s']:.2f} req/s ({s['good']}/{s['requests']})",
                            f"{l['goodput_requests_per_s']:.2f} req/s ({l['good']}/{l['requests']})"]
                lines.append(f"| {x:g} | " + " | ".join(row) + " |")
            out.append("\n".join(lines))
            servers = [s for s in servers if s not in ("shoal", "llama.cpp")]
        for server in servers:
            cols = ["tok/s", "req/s done", "TTFT p50 / p99", "TPOT p50 / p99", "failed"]
            if slo:
                cols.append("goodput")
            lines = [f"{server}:\n", f"| {head} | " + " | ".join(cols) + " |",
                     "|---:" * (len(cols) + 1) + "|"]
            for x in xs:
                s = by.get((server, x))
                if not s:
                    continue
                row = [f"{s['output_tokens_per_s']:.1f}", f"{s['requests_per_s']:.2f}",
                       f"{ms(s['ttft_s']['p50'])} / {ms(s['ttft_s']['p99'])}",
                       f"{ms(s['tpot_s']['p50'])} / {ms(s['tpot_s']['p99'])}", str(s["failed"])]
                if slo:
                    row.append(f"{s['goodput_requests_per_s']:.2f} req/s ({s['good']}/{s['requests']})")
                lines.append(f"| {x:g} | " + " | ".join(row) + " |")
            out.append("\n".join(lines))
    return "\n\n".join(out)


def run_sweeps(args, runner, name, server, loads, workload_words, with_llama):
    """Every load against one running Shoal server; when with_llama, each against a fresh
    llama-server right after Shoal's."""
    protocol = args.shoal_protocol
    runner.warm_up(server.target(protocol), protocol)
    ctx = per_slot_context(args, workload_words)
    for index, load in enumerate(loads):
        seed = args.seed + index  # the same prompts for both servers, fresh ones per level
        if not server.alive():
            raise RuntimeError("shoal serve exited:\n" + "".join(server.tail))
        runner.measure(name, server.target(protocol), protocol, load, seed, {})
        if not with_llama:
            continue
        slots = load["concurrency"]
        peer = LlamaCppServer(args.model, args.threads, slots, ctx, split_flags(args.llama_server_flag))
        try:
            runner.warm_up(peer.target, "http")
            runner.measure("llama.cpp", peer.target, "http", load, seed,
                           {"llama_server": {"slots": slots, "ctx_size": slots * ctx,
                                             "command": shlex.join(peer.cmd)}})
            if not peer.alive():
                raise RuntimeError("llama-server exited:\n" + peer.log_tail())
        finally:
            peer.stop()


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter,
                                epilog="\n".join(__doc__.splitlines()[1:]))
    p.add_argument("--model", required=True, help="the GGUF file both servers load")
    p.add_argument("--concurrency", nargs="*", type=int, default=[1, 4, 16, 64],
                   help="closed-loop levels (streams in flight); give none for rates only")
    p.add_argument("--request-rates", nargs="*", type=float, default=[],
                   help="open-loop rates (requests/s, Poisson arrivals), after the levels")
    p.add_argument("--rate-max-concurrency", type=int, default=64,
                   help="requests in flight at most in a rate run; llama-server's slots there")
    p.add_argument("--num-requests", type=int, default=64,
                   help="requests per level (random workload; agents send agents x --turns)")
    p.add_argument("--min-requests-per-stream", type=int, default=2,
                   help="a level of N streams sends at least this many times N requests, so "
                        "every stream sends several (random workload)")
    p.add_argument("--workload", choices=["random", "agent"], default="random",
                   help="random: token-exact random prompts; agent: at a level of N streams, N "
                        "agents in multi-turn conversations over one shared system prompt and "
                        "tool list, each turn sent when the agent's previous one ended "
                        "(shoal bench --workload agent; --workload-flag sets its lengths)")
    p.add_argument("--turns", type=int, default=4, help="agent workload: requests per agent")
    p.add_argument("--input-len", type=int, default=100, help="prompt tokens per request")
    p.add_argument("--output-len", type=int, default=64, help="output tokens per request")
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--seed", type=int, default=0,
                   help="prompts of the k-th level (or rate) use seed + k, on both servers")
    p.add_argument("--stop-at-eos", action="store_true",
                   help="stop at end-of-generation (default: ignore it, on both servers)")
    p.add_argument("--slo", default="", help="goodput bounds for shoal bench, e.g. ttft=2s,tpot=150ms")
    p.add_argument("--workload-flag", action="append", default=[], metavar="FLAG",
                   help="passed to every shoal bench run (repeatable, split at spaces), "
                        "e.g. --workload-flag='--prefix-len 1000'")
    p.add_argument("--shoal-flag", action="append", default=[], metavar="FLAG",
                   help="passed to `shoal serve` (repeatable, split at spaces), "
                        "e.g. --shoal-flag=--max-num-seqs=16, --shoal-flag=--device=cuda:0")
    p.add_argument("--llama-server-flag", action="append", default=[], metavar="FLAG",
                   help="passed to llama-server (repeatable, split at spaces: llama.cpp takes no "
                        "--flag=value), e.g. --llama-server-flag='--flash-attn on'")
    p.add_argument("--shoal-protocol", choices=["http", "grpc"], default="http",
                   help="how shoal bench reaches Shoal: its OpenAI API (like llama-server, the "
                        "default) or its gRPC API (shoal.v1.Inference)")
    p.add_argument("--no-prefix-cache-run", action="store_true",
                   help="also run every level against Shoal with --enable-prefix-caching=false")
    p.add_argument("--skip-llama-cpp", action="store_true")
    p.add_argument("--verbose", action="store_true", help="show shoal bench's own output")
    p.add_argument("--json", type=Path, help="write every report here")
    p.add_argument("--plot", type=Path, help="then draw it with bench/plot.py (needs matplotlib)")
    p.add_argument("--shoal", type=Path, help="the shoal binary (default build/cli/shoal)")
    p.add_argument("--llama-server", type=Path,
                   help="the llama-server binary (default build/llama.cpp/bin/llama-server)")
    args = p.parse_args()
    global SHOAL, LLAMA_SERVER
    if args.shoal:
        SHOAL = args.shoal.resolve()
    if args.llama_server:
        LLAMA_SERVER = args.llama_server.resolve()
    if not SHOAL.exists():
        p.error(f"{SHOAL} is missing (build the shoal target, or --shoal)")
    if not args.skip_llama_cpp and not LLAMA_SERVER.exists():
        p.error(f"{LLAMA_SERVER} is missing: run bench/setup_llama_cpp.sh (or --skip-llama-cpp)")
    if not args.concurrency and not args.request_rates:
        p.error("nothing to run: give --concurrency levels or --request-rates")
    workload_words = split_flags(args.workload_flag)
    for word in workload_words:
        name = word.partition("=")[0].lstrip("-").replace("_", "-")
        if word.startswith("--") and name in OWN_FLAGS:
            p.error(f"--workload-flag {word}: compare.py sets --{name} itself (use its own option)")
    model = str(Path(args.model).resolve())
    args.model = model
    # A SIGTERM (bench/gpu_run.sh's timeout) unwinds like Ctrl-C, so the servers are stopped.
    signal.signal(signal.SIGTERM, interrupt)

    print(bench_env.describe(), flush=True)
    loads = ([{"concurrency": c} for c in args.concurrency]
             + [{"request_rate": r, "concurrency": args.rate_max_concurrency}
                for r in args.request_rates])
    if args.workload == "agent":
        print(f"agent workload: N agents x {args.turns} turns per level of N streams, "
              f"{args.output_len} output tokens", end="")
    else:
        print(f"{args.num_requests} requests per level, {args.input_len} prompt and "
              f"{args.output_len} output tokens", end="")
    print(f"{' (EOS ignored)' if not args.stop_at_eos else ''}, {args.threads} threads"
          f"{', workload ' + shlex.join(workload_words) if workload_words else ''}", flush=True)
    if not args.skip_llama_cpp:
        llama_flags = shlex.join(["--threads-batch", str(args.threads),
                                  *split_flags(args.llama_server_flag)])
        print(f"llama-server: --parallel N --cont-batching, --ctx-size N x "
              f"{per_slot_context(args, workload_words)}, --threads {args.threads} {llama_flags} "
              f"(restarted for each level N)", flush=True)
    report = {"model": model, "cpu": bench_env.cpu_description(),
              "llama_cpp_build": bench_env.llama_cpp_build_info(),
              "args": {k: str(v) if isinstance(v, Path) else v for k, v in vars(args).items()},
              "runs": []}
    runner = Runner(args, workload_words)
    runner.runs = report["runs"]
    shoal_flags = split_flags(args.shoal_flag)
    configs = [("shoal", shoal_flags, not args.skip_llama_cpp)]
    if args.no_prefix_cache_run:
        configs.append(("shoal-no-prefix-cache", shoal_flags + ["--enable-prefix-caching=false"],
                        False))
    status = 0
    try:
        for name, flags, with_llama in configs:
            server = ShoalServer(model, args.threads, flags, args.shoal_protocol == "grpc")
            report.setdefault("shoal_commands", {})[name] = shlex.join(server.cmd)
            try:
                run_sweeps(args, runner, name, server, loads, workload_words, with_llama)
                try:
                    share = step_overhead_share(server.metrics())
                except Exception:
                    share = None
                if share is not None:
                    report[f"{name}_step_overhead_share"] = share
                    print(f"{name}: scheduler overhead {share:.1%} of step time", flush=True)
            finally:
                server.stop()
    except KeyboardInterrupt:
        print("compare: interrupted; the servers are stopped", file=sys.stderr)
        status = 130
    except RuntimeError as e:
        print(f"compare: {e}", file=sys.stderr)
        status = 1
    if report["runs"]:
        print("\n" + summary_tables(report["runs"], args.slo), flush=True)
    if args.json:
        args.json.write_text(json.dumps(report, indent=1) + "\n")
    if args.plot and report["runs"]:
        import plot
        plot.plot([(args.json or Path("compare"), report)], args.plot, Path(model).name)
        print(f"plot: {args.plot}")
    return status


if __name__ == "__main__":
    sys.exit(main())
