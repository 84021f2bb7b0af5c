#!/usr/bin/env python3
"""The router's HTTP front under stress and abuse, against real `shoal serve` processes
on loopback: hundreds of concurrent streams, clients that vanish mid-stream or while
queued, malformed and hostile requests (while a well-formed stream runs through them),
slow and non-reading clients, the connection cap, keep-alive comments, 429 with
Retry-After, SIGTERM draining, and a bounded soak whose resident memory stays flat.

Every loop is bounded in count and time, and every process is stopped even on failure.
The classes are registered as separate ctest entries (see CMakeLists.txt); run one with
  router_robustness_test.py --shoal build/cli/shoal --testdata build/testdata RouterDrainTest
"""
import asyncio
import json
import random
import select
import signal
import socket
import subprocess
import threading
import time
import unittest
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from shoal_processes import Server, parse_test_args

SHOAL = ""
TESTDATA = Path()
FAST = "qwen3-q4_k_m"  # ~1 ms a token on 2 cores
SLOW = "gemma3-f32"    # the slowest test model: ~1-4 ms a token here, by load
CHAT = "/v1/chat/completions"
COMPLETIONS = "/v1/completions"
# The KV cache holds 1024 blocks of 16 tokens and the context is 2048 tokens, so the
# longest request these tests make is a short prompt plus 1900 tokens.
LONG = 1900


# --- processes and metrics ---------------------------------------------------------

def serve(test: unittest.TestCase, model: str, *flags: str, drain: float = 2) -> Server:
    """A `shoal serve` process, stopped when the test ends (pass or fail)."""
    server = Server(SHOAL, str(TESTDATA / "models" / f"{model}.gguf"), "--max-kv-blocks", "1024",
                    "--drain-seconds", str(drain), *flags)
    test.addCleanup(server.stop, signal.SIGTERM, 30)
    return server


def scrape(server: Server) -> dict[str, float]:
    """Every series of /metrics: {'name{labels}': value}."""
    status, text = server.http("/metrics")
    assert status == 200, status
    series = {}
    for line in text.splitlines():
        if line and not line.startswith("#"):
            name, value = line.rsplit(" ", 1)
            series[name] = float(value)
    return series


def total(series: dict[str, float], name: str, labels: str = "") -> float:
    """The sum of the series named `name` whose labels contain `labels`."""
    return sum(v for k, v in series.items()
               if k.split("{", 1)[0] == name and labels in k)


def load(server: Server) -> dict[str, float]:
    """What a request in flight holds: the engine's running and waiting counts, its KV
    usage, and the router's in-flight gauge."""
    m = scrape(server)
    return {"running": total(m, "vllm:num_requests_running"),
            "waiting": total(m, "vllm:num_requests_waiting"),
            "kv": total(m, "vllm:kv_cache_usage_perc"),
            "inflight": total(m, "shoal_router_inflight_requests")}


def wait_until(condition, timeout: float, what: str, poll: float = 0.05):
    """Polls condition() (returning a truthy value when satisfied) until timeout."""
    deadline = time.time() + timeout
    last = None
    while time.time() < deadline:
        last = condition()
        if last:
            return last
        time.sleep(poll)
    raise AssertionError(f"timed out after {timeout} s waiting for {what}; last: {last}")


def wait_load(server: Server, want: dict[str, float], timeout: float) -> dict[str, float]:
    last = {}

    def reached():
        nonlocal last
        last = load(server)
        return all(last[k] == v for k, v in want.items())
    try:
        wait_until(reached, timeout, f"load {want}")
    except AssertionError:
        raise AssertionError(f"load never reached {want} within {timeout} s; last {last}") from None
    return last


# --- raw HTTP over sockets (full control over what is sent and when) ----------------

def host_port(server: Server) -> tuple[str, int]:
    host, port = server.http_address.rsplit(":", 1)
    return host, int(port)


def connect(server: Server, timeout: float = 30, rcvbuf: int | None = None) -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    if rcvbuf is not None:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
    sock.settimeout(timeout)
    try:
        sock.connect(host_port(server))
    except BaseException:
        sock.close()
        raise
    return sock


def http_request(method: str, path: str, body: bytes = b"", headers: dict | None = None,
                 close: bool = True) -> bytes:
    lines = [f"{method} {path} HTTP/1.1", "Host: shoal-test"]
    all_headers = {"Content-Type": "application/json", "Content-Length": str(len(body))}
    if close:
        all_headers["Connection"] = "close"
    all_headers.update(headers or {})
    if "Transfer-Encoding" in all_headers:
        del all_headers["Content-Length"]
    lines += [f"{k}: {v}" for k, v in all_headers.items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


def read_head(file) -> tuple[int, dict[str, str]]:
    status_line = file.readline()
    if not status_line:
        raise ConnectionError("closed before a response")
    status = int(status_line.split()[1])
    headers = {}
    while (line := file.readline()) not in (b"\r\n", b"\n", b""):
        name, value = line.decode().split(":", 1)
        headers[name.strip().lower()] = value.strip()
    return status, headers


def exchange(server: Server, raw: bytes, timeout: float = 30) -> tuple[int, dict, bytes]:
    """Sends raw bytes on a new connection and reads one whole (non-streamed) response."""
    with connect(server, timeout) as sock:
        sock.sendall(raw)
        file = sock.makefile("rb")
        status, headers = read_head(file)
        body = file.read(int(headers.get("content-length", "0")))
        return status, headers, body


def post(server: Server, path: str, body, headers: dict | None = None):
    if isinstance(body, (dict, list)):
        body = json.dumps(body)
    if isinstance(body, str):
        body = body.encode()
    return exchange(server, http_request("POST", path, body, headers))


def chat_body(max_tokens: int, stream: bool = True, model: str = FAST, **extra) -> dict:
    body = {"model": model, "messages": [{"role": "user", "content": "Tell me a story."}],
            "max_tokens": max_tokens, "ignore_eos": True, "temperature": 0, "logprobs": True,
            "stream": stream}
    if stream:
        body["stream_options"] = {"include_usage": True}
    body.update(extra)
    return body


class SseStream:
    """A streamed completion on a raw connection (its own, or `reuse`'s kept-alive one):
    the request is sent at once and the response read as the test asks (or never)."""

    def __init__(self, server: Server, body: dict, path: str = CHAT, timeout: float = 60,
                 rcvbuf: int | None = None, keep_alive: bool = False,
                 reuse: "SseStream | None" = None):
        if reuse is not None:
            self.sock, self.file = reuse.sock, reuse.file
        else:
            self.sock = connect(server, timeout, rcvbuf)
            self.file = self.sock.makefile("rb")
        self.sock.sendall(http_request("POST", path, json.dumps(body).encode(),
                                       close=not keep_alive))
        self.status = None
        self.headers = {}

    def head(self) -> int:
        if self.status is None:
            self.status, self.headers = read_head(self.file)
        return self.status

    def chunks(self):
        """The chunked body's pieces; ConnectionError if it ends without the last chunk."""
        if self.head() != 200:
            body = self.file.read(int(self.headers.get("content-length", "0")))
            raise AssertionError(f"HTTP {self.status}: {body[:500]!r}")
        while True:
            size_line = self.file.readline()
            if not size_line:
                raise ConnectionError("the stream closed without its last chunk")
            size = int(size_line.split(b";")[0].strip(), 16)
            if size == 0:
                self.file.readline()
                return
            data = self.file.read(size)
            if len(data) < size or self.file.read(2) != b"\r\n":
                raise ConnectionError("the stream closed mid-chunk")
            yield data

    def events(self):
        """('comment', text) and ('data', parsed JSON or '[DONE]'), in order."""
        buffer = b""
        for data in self.chunks():
            buffer += data
            while b"\n" in buffer:
                line, buffer = buffer.split(b"\n", 1)
                line = line.decode()
                if line.startswith(":"):
                    yield "comment", line
                elif line.startswith("data: "):
                    payload = line[len("data: "):]
                    yield "data", payload if payload == "[DONE]" else json.loads(payload)

    def close(self):
        self.file.close()
        self.sock.close()


class StreamResult:
    def __init__(self):
        self.tokens = 0            # counted from each chunk's logprobs
        self.finish_reason = None
        self.usage = None
        self.done = False          # saw data: [DONE]
        self.error = None          # an in-band error event, or the exception that ended it
        self.comments_before_first_data = 0
        self.comments_before_first_token = 0
        self.first_token_at = None
        self.ended_at = None


def consume(stream: SseStream, result: StreamResult | None = None,
            stop_at_first_token: bool = False) -> StreamResult:
    """Reads a stream to its end (or to its first token), counting what it carried."""
    result = result or StreamResult()
    seen_data = False
    try:
        for kind, value in stream.events():
            if kind == "comment":
                if not seen_data:
                    result.comments_before_first_data += 1
                if result.first_token_at is None:
                    result.comments_before_first_token += 1
                continue
            seen_data = True
            if value == "[DONE]":
                result.done = True
                continue
            if "error" in value:
                result.error = value["error"]
                continue
            if value.get("usage"):
                result.usage = value["usage"]
            for choice in value.get("choices", []):
                logprobs = choice.get("logprobs") or {}
                tokens = len(logprobs.get("content") or logprobs.get("tokens") or [])
                if tokens:
                    result.tokens += tokens
                    if result.first_token_at is None:
                        result.first_token_at = time.time()
                        if stop_at_first_token:
                            return result
                if choice.get("finish_reason"):
                    result.finish_reason = choice["finish_reason"]
    except (OSError, ValueError, AssertionError) as e:  # reset, bad JSON, HTTP error
        result.error = result.error or e
    finally:
        result.ended_at = time.time()
    return result


class Witness:
    """Well-formed streams, one after another on one kept-alive connection, read in a
    thread from before the abuse until check(): one is in flight at (nearly) every moment
    of the abuse, and each must end with exactly its max_tokens tokens and [DONE]."""

    MAX_STREAMS = 200

    def __init__(self, test: unittest.TestCase, server: Server, max_tokens: int = 300,
                 model: str = SLOW):
        self.test = test
        self.server = server
        self.max_tokens = max_tokens
        self.model = model
        self.stop = threading.Event()
        self.results: list[StreamResult] = []
        self.streams: list[SseStream] = []
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()
        test.addCleanup(self._close)
        wait_until(lambda: self.results and (self.results[0].first_token_at or
                                             self.results[0].ended_at),
                   30, "the witness stream's first token")

    def _run(self):
        previous = None
        for _ in range(self.MAX_STREAMS):
            stream = SseStream(self.server, chat_body(self.max_tokens, model=self.model),
                               timeout=60, keep_alive=True, reuse=previous)
            self.streams.append(stream)
            result = StreamResult()
            self.results.append(result)
            consume(stream, result)
            if self.stop.is_set() or result.error is not None or not result.done:
                return
            previous = stream

    def _close(self):
        self.stop.set()
        if self.streams:
            self.streams[-1].close()

    def tokens(self) -> int:
        return sum(r.tokens for r in self.results)

    def check(self):
        """Stops starting streams; the one in flight runs to its end."""
        self.stop.set()
        self.thread.join(timeout=120)
        self.test.assertFalse(self.thread.is_alive(), "the witness stream never ended")
        self.test.assertTrue(self.results)
        for i, r in enumerate(self.results):
            what = f"witness stream {i + 1} of {len(self.results)}"
            self.test.assertIsNone(r.error, what)
            self.test.assertTrue(r.done, f"{what} ended without [DONE]")
            self.test.assertEqual(r.tokens, self.max_tokens, what)
            self.test.assertEqual(r.usage["completion_tokens"], self.max_tokens, what)
            self.test.assertEqual(r.finish_reason, "length", what)


def assert_openai_error(test: unittest.TestCase, status: int, body: bytes, want_status: int,
                        what: str):
    test.assertEqual(status, want_status, f"{what}: {body[:300]!r}")
    error = json.loads(body)["error"]
    test.assertIsInstance(error["message"], str, what)
    test.assertTrue(error["message"], what)
    test.assertIsInstance(error["type"], str, what)
    test.assertEqual(error["code"], want_status, what)
    return error


# --- the tests ------------------------------------------------------------------------

class RouterRobustnessTest(unittest.TestCase):

    def test_200_concurrent_streaming_clients_all_complete(self):
        import openai
        server = serve(self, FAST)
        clients = 200
        max_tokens = 8

        async def one(client, barrier, i):
            stream = await client.chat.completions.create(
                model=FAST, messages=[{"role": "user", "content": f"Client {i} says hello."}],
                max_tokens=max_tokens, stream=True, logprobs=True,
                stream_options={"include_usage": True}, extra_body={"ignore_eos": True})
            tokens, usage, finish = 0, None, None
            first = True
            async for chunk in stream:
                if chunk.usage is not None:
                    usage = chunk.usage
                for choice in chunk.choices:
                    if choice.logprobs and choice.logprobs.content:
                        tokens += len(choice.logprobs.content)
                    finish = choice.finish_reason or finish
                if first:  # every stream is open at once before any reads on
                    first = False
                    await barrier.wait()
            return tokens, usage.completion_tokens if usage else None, finish

        async def run_all():
            client = openai.AsyncOpenAI(base_url=server.base_url, api_key="unused",
                                        max_retries=0, timeout=120)
            barrier = asyncio.Barrier(clients)
            try:
                return await asyncio.wait_for(
                    asyncio.gather(*(one(client, barrier, i) for i in range(clients)),
                                   return_exceptions=True), timeout=180)
            finally:
                await client.close()

        started = time.time()
        results = asyncio.run(run_all())
        print(f"\n{clients} concurrent streams (all open at once) in {time.time() - started:.1f} s")
        errors = [r for r in results if isinstance(r, BaseException)]
        self.assertEqual(errors, [], f"{len(errors)} of {clients} streams failed")
        self.assertEqual(results, [(max_tokens, max_tokens, "length")] * clients)
        wait_load(server, {"running": 0, "waiting": 0, "kv": 0, "inflight": 0}, 10)
        m = scrape(server)
        self.assertEqual(total(m, "shoal_router_requests_total", 'route="/v1/chat/completions"'),
                         clients)
        self.assertEqual(total(m, "shoal_router_requests_total",
                               'code="200",model="qwen3-q4_k_m",protocol="http"'), clients)
        self.assertEqual(total(m, "shoal_router_client_disconnects_total"), 0)

    def test_clients_that_leave_mid_stream_free_their_blocks(self):
        server = serve(self, SLOW, "--max-num-seqs", "4")
        baseline = load(server)
        self.assertEqual(baseline, {"running": 0, "waiting": 0, "kv": 0, "inflight": 0})
        rounds, per_round = 2, 4
        for _ in range(rounds):
            streams = [SseStream(server, chat_body(LONG, model=SLOW)) for _ in range(per_round)]
            for s in streams:
                self.addCleanup(s.close)
            for s in streams:  # each has its first token, so runs and holds blocks
                self.assertGreaterEqual(consume(s, stop_at_first_token=True).tokens, 1)
            busy = load(server)
            self.assertEqual(busy["running"], per_round, busy)
            self.assertGreater(busy["kv"], 0, busy)
            self.assertEqual(busy["inflight"], per_round, busy)
            time.sleep(0.3)  # the server goes on writing while nobody reads
            left_at = time.time()
            for s in streams:
                s.close()
            wait_load(server, baseline, 5)
            print(f"\n{per_round} streams left mid-stream: blocks freed in "
                  f"{time.time() - left_at:.2f} s")
        m = scrape(server)
        clients = rounds * per_round
        self.assertEqual(total(m, "vllm:request_success_total", 'finished_reason="abort"'), clients)
        # They were cancelled, not run to the end: far fewer than LONG tokens each.
        self.assertLess(total(m, "vllm:generation_tokens_total"), clients * LONG / 2)
        # Each client that left is one exchange, one disconnect.
        exchanges = {k: v for k, v in m.items() if k.startswith("shoal_router_requests_total")
                     and 'route="/metrics"' not in k and 'route="/ready"' not in k}
        self.assertEqual(exchanges, {
            'shoal_router_requests_total{code="200",model="gemma3-f32",protocol="http",'
            'route="/v1/chat/completions"}': clients},
            "phantom exchanges recorded for clients that left mid-stream")
        self.assertEqual(total(m, "shoal_router_client_disconnects_total"), clients)

    def test_a_client_that_leaves_during_a_blocked_write_is_one_exchange(self):
        """A client stops reading (the server's write blocks on full buffers), then
        half-closes its connection: one exchange, one disconnect, nothing more."""
        server = serve(self, SLOW)
        sleeper = SseStream(server, chat_body(LONG, model=SLOW, top_logprobs=20, n=4),
                            rcvbuf=4096)
        self.addCleanup(sleeper.close)
        wait_load(server, {"running": 4}, 10)
        time.sleep(1.5)  # ~2.8 MB of events: the server's send buffer is full
        sleeper.sock.shutdown(socket.SHUT_WR)
        wait_load(server, {"running": 0, "inflight": 0, "kv": 0}, 10)
        time.sleep(0.2)
        m = scrape(server)
        exchanges = {k: v for k, v in m.items() if k.startswith("shoal_router_requests_total")
                     and 'route="/metrics"' not in k and 'route="/ready"' not in k}
        self.assertEqual(exchanges, {
            'shoal_router_requests_total{code="200",model="gemma3-f32",protocol="http",'
            'route="/v1/chat/completions"}': 1},
            "a phantom exchange was recorded for a client that left during a blocked write")
        self.assertEqual(total(m, "shoal_router_client_disconnects_total"), 1)

    def test_a_client_that_leaves_while_queued_is_dropped_from_the_queue(self):
        server = serve(self, SLOW, "--max-num-seqs", "1", "--threads", "1")
        baseline = load(server)
        runner = SseStream(server, chat_body(LONG, model=SLOW))
        self.addCleanup(runner.close)
        runner_result = StreamResult()
        thread = threading.Thread(target=consume, args=(runner, runner_result), daemon=True)
        thread.start()
        wait_load(server, {"running": 1}, 10)
        queued = SseStream(server, chat_body(LONG, model=SLOW))
        self.addCleanup(queued.close)
        wait_load(server, {"running": 1, "waiting": 1, "inflight": 2}, 10)
        queued.close()  # before its first token
        # It leaves the queue while the first request still runs.
        state = wait_load(server, {"running": 1, "waiting": 0, "inflight": 1}, 5)
        self.assertTrue(thread.is_alive(), "the running request ended first: make it longer")
        self.assertIsNone(runner_result.ended_at)
        print(f"\nqueued client left; load while the other runs: {state}")
        thread.join(timeout=60)
        self.assertTrue(runner_result.done)
        self.assertEqual(runner_result.tokens, LONG)
        wait_load(server, baseline, 5)
        m = scrape(server)
        self.assertEqual(total(m, "vllm:request_success_total", 'finished_reason="abort"'), 1)
        self.assertEqual(total(m, "vllm:generation_tokens_total"), LONG)

    def test_bad_requests_get_clear_errors_while_a_stream_runs_through(self):
        server = serve(self, SLOW, "--threads", "1")
        witness = Witness(self, server)
        good = chat_body(4, stream=False, model=SLOW)

        def with_(**fields):
            body = dict(good)
            body.update(fields)
            return json.dumps(body)

        cases = [
            ("malformed JSON", '{"model": "gemma3-f32", "messages": [', 400),
            ("not an object", "[1, 2, 3]", 400),
            ("empty body", "", 400),
            ("messages a string", with_(messages="hello"), 400),
            ("max_tokens a string", with_(max_tokens="8"), 400),
            ("stream a number", with_(stream=3), 400),
            ("content a number", with_(messages=[{"role": "user", "content": 7}]), 400),
            ("unknown role", with_(messages=[{"role": "wizard", "content": "hi"}]), 400),
            ("invalid UTF-8", with_().encode().replace(b"story", b"\xff\xfe\xc3\x28"), 400),
            ("max_tokens -1", with_(max_tokens=-1), 400),
            ("max_tokens 0", with_(max_tokens=0), 400),
            ("max_tokens 1e300", with_().replace('"max_tokens": 4', '"max_tokens": 1e300'), 400),
            ("max_tokens 2**70", with_(max_tokens=2 ** 70), 400),
            ("max_tokens beyond the context", with_(max_tokens=10 ** 6), 400),
            ("temperature NaN", with_().replace('"temperature": 0', '"temperature": NaN'), 400),
            ("temperature Infinity", with_().replace('"temperature": 0', '"temperature": Infinity'),
             400),
            ("temperature -1", with_(temperature=-1), 400),
            ("top_p 1e300", with_(top_p=1e300), 400),
            ("n a million", with_(n=10 ** 6), 400),
            ("unknown model", with_(model="no-such-model"), 404),
            ("empty messages", with_(messages=[]), 400),
            ("completions: prompt an object", json.dumps(
                {"model": SLOW, "prompt": {"a": 1}, "max_tokens": 2}), 400),
        ]
        for what, body, want in cases:
            path = COMPLETIONS if what.startswith("completions") else CHAT
            status, _, response = post(server, path, body)
            assert_openai_error(self, status, response, want, what)

        # A 100 MB body, streamed: 413 (at once when announced by Content-Length; at the
        # 16 MiB limit when chunked), then the connection closed.
        for chunked in (False, True):
            status_line, sent, closed, seconds = send_huge_body(server, 100 << 20, chunked)
            what = "chunked" if chunked else "Content-Length"
            self.assertTrue(status_line.startswith(b"HTTP/1.1 413"), (what, status_line))
            self.assertTrue(closed, f"{what}: the connection stayed open after the 413")
            self.assertLess(sent, 100 << 20, f"{what}: the server read the whole 100 MB")
            print(f"\n100 MB body ({what}): 413 and closed after {sent / 2**20:.1f} MiB sent, "
                  f"{seconds:.2f} s")

        # Header floods: one huge header, and thousands of small ones.
        floods = [("one 20 KB header", {"X-Flood": "a" * 20000}),
                  ("2000 headers", {f"X-Flood-{i}": "aaaaaaaaaa" for i in range(2000)})]
        for what, headers in floods:
            status, response_headers, response = exchange(
                server, http_request("POST", CHAT, json.dumps(good).encode(), headers))
            assert_openai_error(self, status, response, 431, what)
            self.assertEqual(response_headers.get("connection"), "close", what)

        # The server is unharmed: a good request succeeds, and so does the witness.
        status, _, response = post(server, CHAT, good)
        self.assertEqual(status, 200, response)
        self.assertEqual(json.loads(response)["usage"]["completion_tokens"], 4)
        self.assertEqual(server.http("/health")[0], 200)
        witness.check()
        self.assertIsNone(server.proc.poll())

    def test_slow_loris_connections_are_cut_off_after_the_request_timeout(self):
        server = serve(self, SLOW, "--threads", "1", "--http-request-timeout-seconds", "2")
        witness = Witness(self, server)
        lorises = 3
        cut_after = [None] * lorises

        def loris(i):
            header = http_request("POST", CHAT, b"{}", close=False)
            with connect(server, timeout=10) as sock:
                started = time.time()
                for byte in header[:12]:  # one byte a second: 12 s if never cut off
                    try:
                        sock.send(bytes([byte]))
                        readable, _, _ = select.select([sock], [], [], 1.0)
                        if readable and not sock.recv(4096):
                            break
                    except OSError:
                        break
                else:
                    return
                cut_after[i] = time.time() - started

        threads = [threading.Thread(target=loris, args=(i,), daemon=True) for i in range(lorises)]
        for t in threads:
            t.start()
        # Meanwhile, a well-formed request on a fresh connection is answered at once.
        status, _, _ = post(server, CHAT, chat_body(2, stream=False, model=SLOW))
        self.assertEqual(status, 200)
        for t in threads:
            t.join(timeout=20)
        print(f"\nslow-loris connections cut off after {[round(c or -1, 2) for c in cut_after]} s")
        for seconds in cut_after:
            self.assertIsNotNone(seconds, "a slow-loris connection was never cut off")
            self.assertGreater(seconds, 1.5)
            self.assertLess(seconds, 5)
        witness.check()
        self.assertEqual(server.http("/health")[0], 200)

    def test_a_client_that_never_reads_its_stream_is_dropped_and_its_request_cancelled(self):
        # One sequence at a time: the sleeper's six choices run one after another (~1900
        # tokens each; the witness's next stream waits behind them). Its events are fat
        # (20 top logprobs a token) and its receive window tiny: the server's send buffer
        # (~2.8 MB here) is full by the end of its first or second choice, its write
        # blocks, and 2 s later the server gives up on it while choices remain to run.
        choices = 6
        server = serve(self, SLOW, "--max-num-seqs", "1", "--http-write-timeout-seconds", "2")
        baseline = load(server)
        witness = Witness(self, server)
        body = chat_body(LONG, model=SLOW, top_logprobs=20, n=choices)
        sleeper = SseStream(server, body, rcvbuf=4096, timeout=30)
        self.addCleanup(sleeper.close)
        started = time.time()

        def aborted():
            return total(scrape(server), "vllm:request_success_total", 'finished_reason="abort"')
        wait_until(aborted, 60, "the never-reading client's request to be cancelled", poll=0.1)
        cancelled_after = time.time() - started
        witness.check()
        wait_load(server, baseline, 10)
        m = scrape(server)
        generated = total(m, "vllm:generation_tokens_total") - witness.tokens()
        print(f"\nnever-reading client dropped, its request cancelled after "
              f"{cancelled_after:.2f} s "
              f"with {generated:.0f} of {choices * LONG} tokens made")
        self.assertLess(generated, choices * LONG)
        self.assertGreaterEqual(total(m, "shoal_router_client_disconnects_total"), 1)
        self.assertGreaterEqual(
            total(m, "vllm:request_success_total", 'finished_reason="abort"'), 1)
        self.assertLess(total(m, "vllm:request_success_total", 'finished_reason="length"'),
                        len(witness.results) + choices,
                        "every choice of the sleeper ran to its end")
        # The server closed the connection: what the client finally reads ends early.
        self.assertIsNotNone(consume(sleeper).error)
        status, _, response = post(server, CHAT, chat_body(3, stream=False, model=SLOW))
        self.assertEqual(status, 200, response)

    def test_connections_over_the_limit_get_503(self):
        limit = 4
        server = serve(self, SLOW, "--threads", "1", "--max-connections", str(limit))
        witness = Witness(self, server)  # one connection
        idle = [connect(server) for _ in range(limit - 1)]
        for sock in idle:
            self.addCleanup(sock.close)
        for attempt in range(3):
            status, headers, body = exchange(server, http_request("GET", "/health"))
            assert_openai_error(self, status, body, 503, f"connection {limit + 1 + attempt}")
            self.assertEqual(headers.get("connection"), "close")
        idle.pop().close()

        def health_ok():
            try:
                return exchange(server, http_request("GET", "/health"))[0] == 200
            except OSError:
                return False
        wait_until(health_ok, 5, "a free connection slot")
        witness.check()

    def test_keepalive_comments_while_a_stream_waits_in_the_queue(self):
        server = serve(self, SLOW, "--max-num-seqs", "1", "--sse-keepalive-seconds", "0.3")
        # The runner's two choices run one after the other (one sequence at a time).
        runner = SseStream(server, chat_body(LONG, model=SLOW, n=2))
        self.addCleanup(runner.close)
        runner_result = StreamResult()
        threads = [threading.Thread(target=consume, args=(runner, runner_result), daemon=True)]
        threads[0].start()
        wait_load(server, {"running": 1}, 10)
        # A chat stream's role chunk may open it, but keep-alive comments come before its
        # first token. A completions stream has no role chunk: the comments come before
        # any data event. Both wait behind the running request.
        waiters = [(CHAT, SseStream(server, chat_body(4, model=SLOW))),
                   (COMPLETIONS, SseStream(server, {
                       "model": SLOW, "prompt": "Once upon a time", "max_tokens": 4,
                       "ignore_eos": True, "logprobs": 0, "stream": True,
                       "stream_options": {"include_usage": True}}, path=COMPLETIONS))]
        results = [StreamResult() for _ in waiters]
        for (_, stream), result in zip(waiters, results):
            self.addCleanup(stream.close)
            threads.append(threading.Thread(target=consume, args=(stream, result), daemon=True))
            threads[-1].start()
        wait_load(server, {"running": 1, "waiting": 3}, 10)
        for t in threads:
            t.join(timeout=60)
        self.assertTrue(runner_result.done)
        self.assertEqual(runner_result.tokens, 2 * LONG)
        waited = max(r.first_token_at for r in results) - runner_result.first_token_at
        for (path, _), result in zip(waiters, results):
            print(f"\n{path}: {result.comments_before_first_token} keep-alive comments before "
                  f"the first token, {result.comments_before_first_data} before the first data "
                  f"event (waited ~{waited:.1f} s)")
            self.assertTrue(result.done, path)
            self.assertIsNone(result.error, path)
            self.assertEqual(result.tokens, 4, path)
            self.assertGreaterEqual(result.comments_before_first_token, 2, path)
            if path == COMPLETIONS:
                self.assertGreaterEqual(result.comments_before_first_data, 2, path)

    def test_a_full_queue_answers_429_with_retry_after(self):
        import openai
        server = serve(self, SLOW, "--max-num-seqs", "1", "--max-waiting", "1")
        # One request runs (the only sequence) through the flood.
        runner = SseStream(server, chat_body(LONG, model=SLOW))
        self.addCleanup(runner.close)
        runner_result = StreamResult()
        runner_thread = threading.Thread(target=consume, args=(runner, runner_result), daemon=True)
        runner_thread.start()
        wait_load(server, {"running": 1, "waiting": 0}, 10)
        client = server.openai(max_retries=0, timeout=60)
        flood = 12
        outcomes = {}

        def one(i):
            streamed = i % 2 == 0
            try:
                if streamed:
                    stream = client.chat.completions.create(
                        model=SLOW, messages=[{"role": "user", "content": "hi"}], max_tokens=20,
                        stream=True, stream_options={"include_usage": True},
                        extra_body={"ignore_eos": True})
                    tokens = [c.usage.completion_tokens for c in stream if c.usage][0]
                else:
                    r = client.chat.completions.create(
                        model=SLOW, messages=[{"role": "user", "content": "hi"}], max_tokens=20,
                        extra_body={"ignore_eos": True})
                    tokens = r.usage.completion_tokens
                outcomes[i] = ("ok", streamed, tokens)
            except openai.RateLimitError as e:
                outcomes[i] = ("429", streamed, e)
            except Exception as e:  # noqa: BLE001 -- reported below
                outcomes[i] = ("other", streamed, e)

        threads = [threading.Thread(target=one, args=(i,), daemon=True) for i in range(flood)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=90)
        kinds = [(kind, streamed) for kind, streamed, _ in outcomes.values()]
        print(f"\n{flood} requests with one running and max_waiting 1: "
              f"{sum(k == 'ok' for k, _ in kinds)} served, {sum(k == '429' for k, _ in kinds)} "
              f"got 429; the runner still running: {runner_thread.is_alive()}")
        self.assertEqual(len(outcomes), flood)
        self.assertEqual([o for o in outcomes.values() if o[0] == "other"], [])
        self.assertIn(("429", True), kinds, "no streamed request got 429")
        self.assertIn(("429", False), kinds, "no non-streamed request got 429")
        for kind, _, value in outcomes.values():
            if kind == "ok":
                self.assertEqual(value, 20)
                continue
            response = value.response
            self.assertEqual(response.status_code, 429)
            retry_after = response.headers.get("retry-after")
            self.assertIsNotNone(retry_after, "a 429 without Retry-After")
            self.assertTrue(retry_after.isdigit(), retry_after)
            error = response.json()["error"]
            self.assertEqual(error["code"], 429)
            self.assertEqual(error["type"], "RateLimitError")
            self.assertTrue(error["message"])
        runner_thread.join(timeout=60)
        self.assertTrue(runner_result.done)
        self.assertEqual(runner_result.tokens, LONG)
        wait_load(server, {"running": 0, "waiting": 0, "kv": 0, "inflight": 0}, 10)

    def test_protocol_errors_record_sane_durations(self):
        """A 431 or 413 is answered at once, and its exchange should be recorded as such;
        the duration histograms of route "-" must not count seconds since boot."""
        server = serve(self, FAST)
        status, _, _ = exchange(server, http_request("GET", "/health",
                                                     headers={"X-F": "a" * 20000}))
        self.assertEqual(status, 431)
        m = scrape(server)
        self.assertEqual(total(m, "shoal_router_requests_total", 'code="431"'), 1)
        seconds = total(m, "shoal_router_request_duration_seconds_sum", 'route="-"')
        first_byte = total(m, "shoal_router_time_to_first_byte_seconds_sum", 'route="-"')
        self.assertLess(seconds, 10, "a 431 answered at once was recorded as taking "
                        f"{seconds:.0f} s (the steady clock's time since boot?)")
        self.assertLess(first_byte, 10)


def send_huge_body(server: Server, size: int, chunked: bool = False, timeout: float = 30):
    """Streams a `size`-byte body (announced by Content-Length, or chunked) while watching
    for an answer: returns (status line, bytes sent, whether the server closed, seconds)."""
    sock = connect(server, timeout)
    started = time.time()
    try:
        framing = {"Transfer-Encoding": "chunked"} if chunked else {"Content-Length": str(size)}
        sock.sendall(http_request("POST", CHAT, b"", framing, close=False))
        sock.setblocking(False)
        piece = b"{" + b" " * ((1 << 16) - 1)
        pending, queued, sent, received, closed = b"", 0, 0, b"", False
        deadline = started + timeout
        while not closed and time.time() < deadline:
            if not pending and queued < size:
                data = piece[:min(len(piece), size - queued)]
                queued += len(data)
                pending = b"%x\r\n%s\r\n" % (len(data), data) if chunked else data
                if chunked and queued == size:
                    pending += b"0\r\n\r\n"
            readable, writable, _ = select.select([sock], [sock] if pending else [], [], 0.5)
            if readable:
                try:
                    data = sock.recv(65536)
                except ConnectionResetError:
                    closed = True
                    break
                if not data:
                    closed = True
                    break
                received += data
            if writable:
                try:
                    n = sock.send(pending)
                    sent += n
                    pending = pending[n:]
                except BlockingIOError:
                    pass
                except (BrokenPipeError, ConnectionResetError):
                    pending, queued = b"", size  # the server closed: read what it said
        return received.split(b"\r\n", 1)[0], sent, closed, time.time() - started
    finally:
        sock.close()


class RouterDrainTest(unittest.TestCase):
    """SIGTERM while streams run."""

    def start_streams(self, server, count, max_tokens):
        streams = [SseStream(server, chat_body(max_tokens, model=SLOW), timeout=60)
                   for _ in range(count)]
        results = [StreamResult() for _ in streams]
        threads = [threading.Thread(target=consume, args=(s, r), daemon=True)
                   for s, r in zip(streams, results)]
        for s in streams:
            self.addCleanup(s.close)
        for t in threads:
            t.start()
        wait_until(lambda: all(r.first_token_at for r in results), 30, "every stream's first token")
        return streams, results, threads

    def refused(self, server) -> bool:
        try:
            with connect(server, timeout=2):
                return False
        except ConnectionRefusedError:
            return True

    def test_sigterm_lets_streams_finish_and_refuses_new_connections(self):
        drain = 20
        server = serve(self, SLOW, "--max-num-seqs", "4", drain=drain)
        streams, results, threads = self.start_streams(server, 3, 1000)
        signalled = time.time()
        server.proc.send_signal(signal.SIGTERM)
        # /ready fails (503) or, once the listener closed, the connection is refused
        # (as soon as the signal is handled).
        def not_ready():
            try:
                status = server.http("/ready")[0]
                return f"HTTP {status}" if status != 200 else None
            except OSError as e:
                return type(getattr(e, "reason", e)).__name__  # URLError wraps the cause
        ready_answer = wait_until(not_ready, 3, "/ready to fail")
        # (A connection that reached the backlog as the listener closed is reset.)
        self.assertIn(ready_answer, ("HTTP 503", "ConnectionRefusedError", "ConnectionResetError"))
        wait_until(lambda: self.refused(server), 3, "the listener to close")
        refused_at = time.time() - signalled
        for _ in range(5):  # and it stays closed
            self.assertTrue(self.refused(server))
            time.sleep(0.05)
        self.assertTrue(any(t.is_alive() for t in threads),
                        "the streams ended before the listener closed: make them longer")
        for t in threads:
            t.join(timeout=drain + 10)
        code = server.proc.wait(timeout=drain + 10)
        exited_after = time.time() - signalled
        print(f"\n/ready after SIGTERM: {ready_answer}; "
              f"listener closed {refused_at:.2f} s after SIGTERM; streams done by "
              f"{max(r.ended_at for r in results) - signalled:.2f} s; exit {code} after "
              f"{exited_after:.2f} s")
        for r in results:
            self.assertIsNone(r.error)
            self.assertTrue(r.done, "a stream was cut off by the drain")
            self.assertEqual(r.tokens, 1000)
            self.assertEqual(r.finish_reason, "length")
        self.assertEqual(code, 0)
        self.assertLess(exited_after, drain)

    def test_a_drain_shorter_than_the_streams_still_exits_0_in_time(self):
        drain = 1
        server = serve(self, SLOW, "--max-num-seqs", "4", "--threads", "1", drain=drain)
        streams, results, threads = self.start_streams(server, 3, LONG)
        signalled = time.time()
        server.proc.send_signal(signal.SIGTERM)
        try:
            code = server.proc.wait(timeout=drain + 5)
        except subprocess.TimeoutExpired:
            self.fail(f"still running {drain + 5} s after SIGTERM with --drain-seconds {drain}")
        exited_after = time.time() - signalled
        for t in threads:
            t.join(timeout=10)
        print(f"\n--drain-seconds {drain}: exit {code} after {exited_after:.2f} s; streams got "
              f"{[r.tokens for r in results]} of {LONG} tokens")
        self.assertEqual(code, 0)
        self.assertFalse(any(t.is_alive() for t in threads), "a stream hung after the exit")
        for r in results:
            self.assertLess(r.tokens, LONG)
            self.assertTrue(r.error is not None or not r.done,
                            "a cut-off stream must not look complete")


class RouterSoakTest(unittest.TestCase):
    """A few thousand mixed requests against `shoal serve`: RSS stays flat after warm-up."""

    REQUESTS = 6000
    WORKERS = 8
    DEADLINE_SECONDS = 150
    ALLOWED_GROWTH_KIB = 20 * 1024

    def test_mixed_soak_keeps_resident_memory_flat(self):
        server = serve(self, FAST, "--log-level", "warn")
        bad_bodies = [b'{"model": ', b"[]", json.dumps(chat_body(-1)).encode(),
                      json.dumps(chat_body(4, model="nope")).encode(),
                      json.dumps(chat_body(4, messages=[])).encode(),
                      json.dumps(chat_body(4)).encode().replace(b"story", b"\xff\xfe")]
        want_status = [400, 400, 400, 404, 400, 400]
        lock = threading.Lock()
        counts = {"stream": 0, "complete": 0, "cancelled": 0, "error": 0}
        done = [0]
        samples = {}
        failures = []
        deadline = time.time() + self.DEADLINE_SECONDS
        marks = (self.REQUESTS // 4, self.REQUESTS)

        def one(i):
            if time.time() > deadline or failures:
                return
            rng = random.Random(i)
            kind = rng.choices(["stream", "complete", "cancelled", "error"], [4, 3, 2, 1])[0]
            prompt = f"Request {i}: " + " ".join(str(rng.randrange(1000)) for _ in range(8))
            messages = [{"role": "user", "content": prompt}]
            try:
                if kind == "stream":
                    n = rng.randrange(1, 7)
                    s = SseStream(server, chat_body(n, messages=messages))
                    try:
                        r = consume(s)
                    finally:
                        s.close()
                    assert r.done and r.tokens == n and r.usage["completion_tokens"] == n, vars(r)
                elif kind == "complete":
                    n = rng.randrange(1, 7)
                    status, _, body = post(server, COMPLETIONS, {
                        "model": FAST, "prompt": prompt, "max_tokens": n, "ignore_eos": True})
                    assert status == 200, body
                    assert json.loads(body)["usage"]["completion_tokens"] == n
                elif kind == "cancelled":
                    s = SseStream(server, chat_body(200, messages=messages))
                    try:
                        consume(s, stop_at_first_token=True)
                    finally:
                        s.close()
                else:
                    k = rng.randrange(len(bad_bodies))
                    status, _, body = post(server, CHAT, bad_bodies[k])
                    assert status == want_status[k], (k, status, body)
            except Exception as e:  # noqa: BLE001 -- reported by the test
                with lock:
                    failures.append(f"request {i} ({kind}): {e!r}")
                return
            with lock:
                counts[kind] += 1
                done[0] += 1
                if done[0] in marks:
                    samples[done[0]] = rss_kib(server.proc.pid)

        started = time.time()
        with ThreadPoolExecutor(self.WORKERS) as pool:
            list(pool.map(one, range(self.REQUESTS)))
        elapsed = time.time() - started
        self.assertEqual(failures[:5], [])
        self.assertEqual(done[0], self.REQUESTS, f"the soak ran out of time after {elapsed:.0f} s")
        a, b = samples[marks[0]], samples[marks[1]]
        growth = b - a
        print(f"\nsoak: {self.REQUESTS} requests {counts} in {elapsed:.1f} s; RSS {a} KiB at "
              f"{marks[0]} -> {b} KiB at {marks[1]}: {growth:+d} KiB ({100 * growth / a:+.1f}%)")
        self.assertTrue(growth < self.ALLOWED_GROWTH_KIB or growth < a / 10,
                        f"RSS grew {growth} KiB ({a} -> {b} KiB)")
        wait_load(server, {"running": 0, "waiting": 0, "kv": 0, "inflight": 0}, 10)
        self.assertEqual(server.http("/health")[0], 200)


def rss_kib(pid: int) -> int:
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise RuntimeError("no VmRSS")


def main():
    global SHOAL, TESTDATA
    SHOAL, TESTDATA, unittest_argv = parse_test_args()
    unittest.main(argv=unittest_argv)


if __name__ == "__main__":
    main()
