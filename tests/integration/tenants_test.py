#!/usr/bin/env python3
"""Tenants at the front door of a real `shoal serve` with a key file (--api-keys), through
the official openai client, raw HTTP and grpcio: 401 for a missing or unknown key, 403
for a priority above the key's allowance, 429 with Retry-After over requests per minute
and in-flight limits, 400 over the key's max_tokens; the key file reloaded (file change
and SIGHUP) without dropping a stream; prefix-cache isolation between cache groups and
sharing within one; per-tenant metrics. Also the open endpoint (no key file): a
request's own cache_salt and priority reach the scheduler.

Run by ctest as: tenants_test.py --shoal build/cli/shoal --testdata build/testdata
"""
import json
import os
import signal
import tempfile
import threading
import time
import unittest
import urllib.error
import urllib.request
from pathlib import Path

import grpc

from shoal_processes import Server, parse_test_args

SHOAL = ""
TESTDATA = Path()
MODEL = "qwen3-q8_0"
SLOW = "gemma3-f32"

KEYS = """
tenants:
  alpha:
    keys: [sk-alpha]
    requests_per_minute: 1000
    max_tokens: 64
    priority: 0
    best_priority: -1
    cache_group: team
  alpha-bot:
    keys: [sk-alpha-bot]
    cache_group: team
  beta:
    keys: [sk-beta]
  limited:
    keys: [sk-limited]
    requests_per_minute: 2
  single:
    keys: [sk-single]
    max_concurrent: 1
    max_queued: 0
  queued:
    keys: [sk-queued]
    max_concurrent: 1
    max_queued: 1
"""


def model_path(name):
    return str(TESTDATA / "models" / f"{name}.gguf")


def write_keys(path: Path, text: str):
    """Replaces the file, as an editor or a ConfigMap update does."""
    temp = path.with_suffix(".tmp")
    temp.write_text(text)
    os.replace(temp, path)


def post(server, path, body, key=None, timeout=60):
    """(status, headers, parsed body) of a JSON POST."""
    headers = {"Content-Type": "application/json"}
    if key:
        headers["Authorization"] = f"Bearer {key}"
    request = urllib.request.Request(f"http://{server.http_address}{path}",
                                     data=json.dumps(body).encode(), headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=timeout) as r:
            return r.status, dict(r.headers), json.loads(r.read())
    except urllib.error.HTTPError as e:
        return e.code, dict(e.headers), json.loads(e.read() or b"{}")


def completion(prompt, max_tokens=4, **extra):
    return {"model": MODEL, "prompt": prompt, "max_tokens": max_tokens, "temperature": 0,
            **extra}


# A prompt long enough to fill several KV blocks, the same every time.
LONG_PROMPT = " ".join(f"word{i}" for i in range(200))


class KeyedServerTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.dir = tempfile.TemporaryDirectory()
        cls.keys = Path(cls.dir.name) / "keys.yaml"
        write_keys(cls.keys, KEYS)
        cls.server = Server(SHOAL, model_path(MODEL), "--api-keys", str(cls.keys),
                            "--max-kv-blocks", "512", "--log-level", "info")

    @classmethod
    def tearDownClass(cls):
        cls.server.stop()
        cls.dir.cleanup()

    def client(self, key):
        return self.server.openai(api_key=key)

    def test_missing_and_unknown_keys_are_401_and_operations_stay_open(self):
        import openai
        for key in ("", "sk-wrong"):
            status, _, body = post(self.server, "/v1/completions", completion("hi"), key=key)
            self.assertEqual(status, 401, body)
            self.assertEqual(set(body["error"]), {"message", "type", "param", "code"})
            self.assertNotIn("sk-wrong", json.dumps(body))
        with self.assertRaises(openai.AuthenticationError):
            self.client("sk-wrong").models.list()
        self.assertEqual(post(self.server, "/tokenize", {"prompt": "hi"})[0], 401)
        for path in ("/health", "/ready", "/metrics"):
            self.assertEqual(self.server.http(path)[0], 200, path)
        self.assertNotIn("open to anyone", "".join(self.server.log))
        self.assertNotIn("sk-alpha", "".join(self.server.log), "a key reached the log")

    def test_a_valid_key_works_over_the_openai_client(self):
        reply = self.client("sk-beta").completions.create(model=MODEL, prompt="hello",
                                                          max_tokens=3, temperature=0)
        self.assertEqual(reply.usage.completion_tokens, 3)
        # x-api-key (the Anthropic SDK's header) works too.
        request = urllib.request.Request(
            f"http://{self.server.http_address}/v1/models", headers={"x-api-key": "sk-beta"})
        with urllib.request.urlopen(request, timeout=30) as r:
            self.assertEqual(r.status, 200)

    def test_priority_above_the_allowance_is_403(self):
        import openai
        client = self.client("sk-alpha")
        client.completions.create(model=MODEL, prompt="x", max_tokens=1,
                                  extra_body={"priority": -1})
        with self.assertRaises(openai.PermissionDeniedError) as caught:
            client.completions.create(model=MODEL, prompt="x", max_tokens=1,
                                      extra_body={"priority": -2})
        self.assertIn("priority", str(caught.exception))

    def test_max_tokens_over_the_keys_limit_is_400(self):
        status, _, body = post(self.server, "/v1/completions", completion("x", max_tokens=65),
                               key="sk-alpha")
        self.assertEqual(status, 400, body)
        self.assertEqual(body["error"]["param"], "max_tokens")
        # A chat request without max_tokens runs with the key's cap.
        status, _, body = post(self.server, "/v1/chat/completions",
                               {"model": MODEL, "messages": [{"role": "user", "content": "hi"}],
                                "temperature": 0, "ignore_eos": True}, key="sk-alpha")
        self.assertEqual(status, 200, body)
        self.assertEqual(body["usage"]["completion_tokens"], 64)

    def test_requests_per_minute_is_429_with_retry_after(self):
        import openai
        client = self.client("sk-limited")
        for _ in range(2):
            client.completions.create(model=MODEL, prompt="x", max_tokens=1)
        status, headers, body = post(self.server, "/v1/completions", completion("x"),
                                     key="sk-limited")
        self.assertEqual(status, 429, body)
        self.assertGreaterEqual(int(headers["Retry-After"]), 1)
        self.assertLessEqual(int(headers["Retry-After"]), 30)
        self.assertIn("requests per minute", body["error"]["message"])
        with self.assertRaises(openai.RateLimitError):
            client.completions.create(model=MODEL, prompt="x", max_tokens=1)
        # Another tenant is not affected.
        self.client("sk-beta").completions.create(model=MODEL, prompt="x", max_tokens=1)
        self.assertGreaterEqual(self.server.metric(
            "shoal_router_tenant_rejections_total",
            'reason="requests_per_minute",tenant="limited"'), 2)

    def test_beyond_max_concurrent_a_request_waits_up_to_max_queued(self):
        client = self.client("sk-queued")
        stream = client.completions.create(model=MODEL, prompt="x", max_tokens=300,
                                           stream=True, extra_body={"ignore_eos": True})
        chunks = iter(stream)
        next(chunks)  # running now
        waiting = {}
        waiter = threading.Thread(target=lambda: waiting.update(
            reply=post(self.server, "/v1/completions", completion("y", max_tokens=2),
                       key="sk-queued")))
        waiter.start()
        deadline = time.time() + 10
        while time.time() < deadline and self.server.metric(
                "shoal_router_tenant_requests_inflight", 'tenant="queued"', 0) < 2:
            time.sleep(0.02)
        # One running and one waiting: a third is over max_queued.
        status, headers, body = post(self.server, "/v1/completions", completion("z"),
                                     key="sk-queued")
        self.assertEqual(status, 429, body)
        self.assertIn("max_queued", body["error"]["message"])
        self.assertIn("Retry-After", headers)
        self.assertTrue(waiter.is_alive(), "the second request must wait, not fail")
        list(chunks)  # the first ends; the waiting one starts and completes
        waiter.join(timeout=30)
        status, _, body = waiting["reply"]
        self.assertEqual(status, 200, body)
        self.assertEqual(body["usage"]["completion_tokens"], 2)
        self.assertGreaterEqual(self.server.metric(
            "shoal_router_tenant_rejections_total", 'reason="max_queued",tenant="queued"'), 1)

    def test_in_flight_limit_without_a_queue_is_429_while_a_stream_runs(self):
        client = self.client("sk-single")
        stream = client.completions.create(model=MODEL, prompt="x", max_tokens=400,
                                           stream=True, extra_body={"ignore_eos": True})
        first = next(iter(stream))  # running now
        self.assertIsNotNone(first)
        status, headers, _ = post(self.server, "/v1/completions", completion("x"),
                                  key="sk-single")
        self.assertEqual(status, 429)
        self.assertIn("Retry-After", headers)
        stream.close()
        deadline = time.time() + 10
        while time.time() < deadline:
            status, _, _ = post(self.server, "/v1/completions", completion("x"), key="sk-single")
            if status == 200:
                break
            time.sleep(0.1)
        self.assertEqual(status, 200, "the slot did not come back when the stream ended")

    def test_cache_groups_isolate_and_share_prefixes(self):
        def cached(key):
            status, _, body = post(self.server, "/v1/completions",
                                   completion(LONG_PROMPT, max_tokens=1), key=key)
            self.assertEqual(status, 200, body)
            return body["usage"]["prompt_tokens_details"]["cached_tokens"]

        self.assertEqual(cached("sk-beta"), 0)
        self.assertGreater(cached("sk-beta"), 100)   # its own prompt again: cached
        self.assertEqual(cached("sk-alpha"), 0)      # another group: nothing of beta's
        self.assertGreater(cached("sk-alpha-bot"), 100)  # alpha's group shares

    def test_grpc_needs_a_key_and_reports_limits(self):
        import shoal.v1.inference_pb2 as inference_pb2
        request = inference_pb2.GenerateRequest(
            model=MODEL, prompt="hello", sampling=inference_pb2.SamplingParams(max_tokens=2))
        with self.assertRaises(grpc.RpcError) as caught:
            list(self.server.stub.Generate(request, timeout=30))
        self.assertEqual(caught.exception.code(), grpc.StatusCode.UNAUTHENTICATED)
        with self.assertRaises(grpc.RpcError) as caught:
            self.server.stub.ListModels(inference_pb2.ListModelsRequest(), timeout=30)
        self.assertEqual(caught.exception.code(), grpc.StatusCode.UNAUTHENTICATED)
        replies = list(self.server.stub.Generate(request, timeout=30,
                                                 metadata=[("authorization", "Bearer sk-beta")]))
        self.assertEqual(replies[-1].final.usage.completion_tokens, 2)
        request.priority = -5
        with self.assertRaises(grpc.RpcError) as caught:
            list(self.server.stub.Generate(request, timeout=30,
                                           metadata=[("x-api-key", "sk-alpha")]))
        self.assertEqual(caught.exception.code(), grpc.StatusCode.PERMISSION_DENIED)

    def test_per_tenant_metrics(self):
        self.client("sk-beta").completions.create(model=MODEL, prompt="count me", max_tokens=2)
        self.assertGreaterEqual(
            self.server.metric("shoal_router_tenant_requests_total", 'tenant="beta"'), 1)
        self.assertGreaterEqual(
            self.server.metric("shoal_router_tenant_generation_tokens_total", 'tenant="beta"'), 2)
        self.assertEqual(
            self.server.metric("shoal_router_tenant_requests_inflight", 'tenant="beta"'), 0)
        self.assertGreaterEqual(self.server.metric(
            "shoal_router_tenant_rejections_total",
            'reason="unauthenticated",tenant="unauthenticated"'), 0)


class ReloadTest(unittest.TestCase):
    """The key file changes under a running server: streams of a removed key finish."""

    def setUp(self):
        self.dir = tempfile.TemporaryDirectory()
        self.keys = Path(self.dir.name) / "keys.json"  # the JSON form of the same structure
        write_keys(self.keys, json.dumps({"tenants": {"old": {"keys": ["sk-old"]}}}))
        self.server = Server(SHOAL, model_path(SLOW), "--api-keys", str(self.keys),
                             "--log-level", "info")

    def tearDown(self):
        self.server.stop()
        self.dir.cleanup()

    def wait_for_status(self, key, want, timeout=10):
        deadline = time.time() + timeout
        status = None
        while time.time() < deadline:
            status = post(self.server, "/v1/completions",
                          {**completion("x", max_tokens=1), "model": SLOW}, key=key)[0]
            if status == want:
                return
            time.sleep(0.1)
        self.fail(f"{key}: status {status}, not {want}, {timeout} s after the change")

    def test_a_changed_file_swaps_keys_without_dropping_a_stream(self):
        stream = self.server.openai(api_key="sk-old").completions.create(
            model=SLOW, prompt="a long one", max_tokens=300, stream=True,
            extra_body={"ignore_eos": True})
        chunks = iter(stream)
        tokens = [next(chunks)]
        write_keys(self.keys, json.dumps({"tenants": {"new": {"keys": ["sk-new"]}}}))
        self.wait_for_status("sk-new", 200)
        self.wait_for_status("sk-old", 401)
        for chunk in chunks:
            tokens.append(chunk)
        text_chunks = [c for c in tokens if c.choices and c.choices[0].text]
        self.assertGreater(len(text_chunks), 0)
        self.assertEqual(tokens[-1].choices[0].finish_reason, "length")
        self.assertIn("reloaded", "".join(self.server.log))

    def test_a_broken_file_keeps_the_old_keys(self):
        write_keys(self.keys, "tenants: [this is: not valid")
        deadline = time.time() + 10
        while "the old keys stay" not in "".join(self.server.log) and time.time() < deadline:
            time.sleep(0.1)
        self.assertIn("the old keys stay", "".join(self.server.log))
        self.wait_for_status("sk-old", 200)

    def test_sighup_reloads_what_the_watcher_cannot_see(self):
        # Rewritten in place, the same size, its time stamp put back: only SIGHUP reads it.
        before = os.stat(self.keys)
        new = json.dumps({"tenants": {"hup": {"keys": ["sk-hup"]}}})
        self.assertEqual(len(new), before.st_size)
        with open(self.keys, "r+") as f:
            f.write(new)
        os.utime(self.keys, ns=(before.st_atime_ns, before.st_mtime_ns))
        time.sleep(1.5)
        self.wait_for_status("sk-old", 200, timeout=2)
        self.server.proc.send_signal(signal.SIGHUP)
        self.wait_for_status("sk-hup", 200)
        self.wait_for_status("sk-old", 401)
        self.assertIsNone(self.server.proc.poll(), "SIGHUP must not stop the server")


class FairnessTest(unittest.TestCase):
    """A tenant flooding the router far beyond the replica's capacity does not starve a
    tenant of equal weight sending one request at a time: the router's fair queue lets
    the trickle in at the next free slot instead of behind the flood's backlog."""

    FLOOD, TRICKLE = 24, 6

    @classmethod
    def setUpClass(cls):
        cls.dir = tempfile.TemporaryDirectory()
        keys = Path(cls.dir.name) / "keys.yaml"
        write_keys(keys, "tenants:\n  flood:\n    keys: [sk-flood]\n"
                         "  trickle:\n    keys: [sk-trickle]\n")
        # Two running at a time: the router lets 4 out (2 + its headroom of 2).
        cls.server = Server(SHOAL, model_path(SLOW), "--api-keys", str(keys),
                            "--max-num-seqs", "2", "--log-level", "warn")

    @classmethod
    def tearDownClass(cls):
        cls.server.stop()
        cls.dir.cleanup()

    def timed(self, key, prompt):
        """(TTFT, end-to-end) seconds of one streamed request of 48 tokens."""
        client = self.server.openai(api_key=key)
        start = time.time()
        first = None
        for chunk in client.completions.create(model=SLOW, prompt=prompt, max_tokens=48,
                                               stream=True, extra_body={"ignore_eos": True}):
            if first is None and chunk.choices and chunk.choices[0].text:
                first = time.time() - start
        return first, time.time() - start

    def test_a_trickle_is_not_starved_by_a_flood(self):
        alone = sorted(self.timed("sk-trickle", f"alone {i}")[0] for i in range(3))[1]
        flood_times = []
        threads = [threading.Thread(target=lambda i=i: flood_times.append(
            self.timed("sk-flood", f"flood {i}"))) for i in range(self.FLOOD)]
        for t in threads:
            t.start()
        deadline = time.time() + 20
        while time.time() < deadline and self.server.metric(
                "shoal_router_tenant_requests_inflight", 'tenant="flood"', 0) < self.FLOOD:
            time.sleep(0.02)
        trickle = [self.timed("sk-trickle", f"trickle {i}") for i in range(self.TRICKLE)]
        for t in threads:
            t.join(timeout=120)
        self.assertEqual(len(flood_times), self.FLOOD)
        trickle_ttft = sorted(ttft for ttft, _ in trickle)[self.TRICKLE // 2]
        flood_ttft = sorted(ttft for ttft, _ in flood_times)[self.FLOOD // 2]
        one_request = sorted(e2e for _, e2e in flood_times)[0]
        # At most the wait for a slot to free (about one request) on top of its own
        # prefill; behind the flood's backlog it would wait for ~10 of them.
        self.assertLess(trickle_ttft, alone + 2 * one_request,
                        f"trickle {trickle_ttft:.3f}s alone {alone:.3f}s request {one_request:.3f}s")
        self.assertLess(trickle_ttft, flood_ttft / 2,
                        f"trickle {trickle_ttft:.3f}s, flood {flood_ttft:.3f}s")


    def queue_time(self, tenant):
        """(count, sum) of the tenant's admission-queue waits so far."""
        return (self.server.metric("shoal_router_tenant_queue_time_seconds_count",
                                   f'tenant="{tenant}"', 0),
                self.server.metric("shoal_router_tenant_queue_time_seconds_sum",
                                   f'tenant="{tenant}"', 0))

    def test_a_grpc_call_waits_in_the_queue_when_the_replica_is_full(self):
        import shoal.v1.inference_pb2 as inference_pb2
        before = self.queue_time("trickle")
        threads = [threading.Thread(target=lambda i=i: self.timed("sk-flood", f"full {i}"))
                   for i in range(12)]
        for t in threads:
            t.start()
        deadline = time.time() + 20
        while time.time() < deadline and self.server.metric(
                "shoal_router_tenant_requests_inflight", 'tenant="flood"', 0) < 12:
            time.sleep(0.02)
        request = inference_pb2.GenerateRequest(
            model=SLOW, prompt="waits", sampling=inference_pb2.SamplingParams(max_tokens=3))
        replies = list(self.server.stub.Generate(
            request, timeout=60, metadata=[("authorization", "Bearer sk-trickle")]))
        for t in threads:
            t.join(timeout=120)
        self.assertEqual(replies[-1].final.usage.completion_tokens, 3)
        after = self.queue_time("trickle")
        self.assertEqual(after[0], before[0] + 1)
        self.assertGreater(after[1] - before[1], 0.001, "it should have waited for a slot")


class PriorityTest(unittest.TestCase):
    """Under KV pressure a more urgent request preempts a less urgent running one, and
    both still produce their unloaded (greedy) tokens."""

    @classmethod
    def setUpClass(cls):
        # 8 blocks of 16 tokens: the two requests below cannot both hold their blocks.
        cls.server = Server(SHOAL, model_path(MODEL), "--max-kv-blocks", "8",
                            "--log-level", "warn")

    @classmethod
    def tearDownClass(cls):
        cls.server.stop()

    def greedy(self, prompt, max_tokens, priority=0):
        status, _, body = post(self.server, "/v1/completions",
                               completion(prompt, max_tokens=max_tokens, priority=priority,
                                          ignore_eos=True))
        self.assertEqual(status, 200, body)
        return body["choices"][0]["text"]

    def test_an_urgent_request_preempts_and_both_outputs_are_unchanged(self):
        low_prompt = " ".join(f"low{i}" for i in range(12))
        high_prompt = " ".join(f"high{i}" for i in range(12))
        low_alone = self.greedy(low_prompt, 80)
        high_alone = self.greedy(high_prompt, 40)
        preemptions = self.server.metric("vllm:num_preemptions_total", "", 0)
        results = {}
        low = threading.Thread(target=lambda: results.update(low=self.greedy(low_prompt, 80, 5)))
        low.start()
        deadline = time.time() + 10
        while time.time() < deadline and self.server.metric(
                "vllm:num_requests_running", "", 0) < 1:
            time.sleep(0.005)
        results["high"] = self.greedy(high_prompt, 40, -1)
        low.join(timeout=60)
        self.assertEqual(results["high"], high_alone)
        self.assertEqual(results["low"], low_alone)
        self.assertGreater(self.server.metric("vllm:num_preemptions_total", "", 0), preemptions)


class OpenEndpointTest(unittest.TestCase):
    """No key file: anyone may call, and the request's own cache_salt and priority reach
    the scheduler."""

    @classmethod
    def setUpClass(cls):
        cls.server = Server(SHOAL, model_path(MODEL), "--max-kv-blocks", "512",
                            "--log-level", "info")

    @classmethod
    def tearDownClass(cls):
        cls.server.stop()

    def test_open_and_says_so(self):
        status, _, _ = post(self.server, "/v1/completions", completion("hi"))
        self.assertEqual(status, 200)
        self.assertIn("open to anyone", "".join(self.server.log))

    def test_cache_salt_separates_prefixes_over_http(self):
        prompt = "salted " + LONG_PROMPT

        def cached(salt):
            status, _, body = post(self.server, "/v1/completions",
                                   completion(prompt, max_tokens=1, cache_salt=salt))
            self.assertEqual(status, 200, body)
            return body["usage"]["prompt_tokens_details"]["cached_tokens"]

        self.assertEqual(cached("salt-one"), 0)
        self.assertGreater(cached("salt-one"), 100)
        self.assertEqual(cached("salt-two"), 0, "a different cache_salt must not hit")


if __name__ == "__main__":
    SHOAL, TESTDATA, argv = parse_test_args()
    unittest.main(argv=argv)
