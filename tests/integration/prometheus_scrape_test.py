#!/usr/bin/env python3
"""A real Prometheus server (Debian's) scrapes `shoal scheduler`'s /metrics the way a
deployment's would: the target is up with no scrape error (so the exposition parses),
the vLLM-named series are there with their labels, counters equal what the grpcio client
saw, and PromQL over the histograms (histogram_quantile) gives sane answers.

Run by ctest as: prometheus_scrape_test.py --shoal build/cli/shoal --testdata build/testdata
"""
import json
import random
import shutil
import socket
import subprocess
import tempfile
import time
import unittest
import urllib.parse
import urllib.request
from pathlib import Path

from shoal_processes import Scheduler, generate, greedy, parse_test_args

SHOAL = ""
TESTDATA = Path()
SCRAPE_INTERVAL_S = 1


def free_loopback_port() -> int:
    # Prometheus cannot report a port it chose itself, so pick one; a clash is retried.
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Prometheus:
    """A Prometheus server on loopback scraping its targets (job "shoal") every second."""

    def __init__(self, *targets: str):
        self.dir = Path(tempfile.mkdtemp(prefix="shoal-prometheus-"))
        target_list = ", ".join(f"'{t}'" for t in targets)
        (self.dir / "prometheus.yml").write_text(
            f"global:\n  scrape_interval: {SCRAPE_INTERVAL_S}s\n  scrape_timeout: {SCRAPE_INTERVAL_S}s\n"
            f"scrape_configs:\n  - job_name: shoal\n    static_configs:\n"
            f"      - targets: [{target_list}]\n")
        binary = shutil.which("prometheus") or "/usr/bin/prometheus"
        for _ in range(5):
            self.address = f"127.0.0.1:{free_loopback_port()}"
            with open(self.dir / "log", "a") as log:  # the child keeps its own descriptor
                self.proc = subprocess.Popen(
                    [binary, f"--config.file={self.dir / 'prometheus.yml'}",
                     f"--storage.tsdb.path={self.dir / 'data'}", f"--web.listen-address={self.address}",
                     "--log.level=warn"],
                    stdout=subprocess.DEVNULL, stderr=log)
            if self._wait_ready(60):
                return
            self.stop()
        raise RuntimeError("prometheus did not start:\n" + (self.dir / "log").read_text())

    def _wait_ready(self, timeout) -> bool:
        deadline = time.time() + timeout
        while time.time() < deadline and self.proc.poll() is None:
            try:
                with urllib.request.urlopen(f"http://{self.address}/-/ready", timeout=2) as r:
                    if r.status == 200:
                        return True
            except OSError:
                pass
            time.sleep(0.1)
        return False

    def api(self, path: str, **params):
        url = f"http://{self.address}/api/v1/{path}?{urllib.parse.urlencode(params)}"
        with urllib.request.urlopen(url, timeout=10) as r:
            body = json.load(r)
        assert body["status"] == "success", body
        return body["data"]

    def query(self, promql: str) -> list:
        return self.api("query", query=promql)["result"]

    def value(self, promql: str) -> float:
        result = self.query(promql)
        assert len(result) == 1, f"{promql}: {result}"
        return float(result[0]["value"][1])

    def wait_for(self, promql: str, want, timeout=30) -> float:
        """Polls until the query's single value satisfies want (scrapes are periodic)."""
        deadline = time.time() + timeout
        last = None
        while time.time() < deadline:
            result = self.query(promql)
            if len(result) == 1:
                last = float(result[0]["value"][1])
                if want(last):
                    return last
            time.sleep(0.2)
        raise AssertionError(f"{promql} never satisfied the condition; last value {last}")

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


class PrometheusScrapeTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.server = Scheduler(SHOAL, str(TESTDATA / "models" / "llama-f32.gguf"),
                               "--max-kv-blocks", "256", "--max-num-batched-tokens", "128")
        cls.prometheus = Prometheus(cls.server.http_address)

    @classmethod
    def tearDownClass(cls):
        cls.prometheus.stop()
        cls.server.stop()
        shutil.rmtree(cls.prometheus.dir, ignore_errors=True)

    def test_the_target_is_up_and_every_scrape_parses(self):
        self.prometheus.wait_for('up{job="shoal"}', lambda v: v == 1)
        targets = self.prometheus.api("targets")["activeTargets"]
        self.assertEqual(len(targets), 1)
        self.assertEqual(targets[0]["health"], "up")
        self.assertEqual(targets[0]["lastError"], "")

    def test_counters_match_what_the_client_saw_and_histograms_answer_promql(self):
        rng = random.Random(7)
        prompt_tokens = completion_tokens = 0
        shared = [rng.randrange(4000) for _ in range(48)]  # three full 16-token blocks
        for i in range(6):
            prompt = shared + [rng.randrange(4000) for _ in range(rng.randrange(1, 20))]
            tokens, finish, _ = generate(self.server.stub, greedy(f"scraped-{i}", prompt, 5 + i))
            prompt_tokens += len(prompt)
            completion_tokens += len(tokens)
            self.assertEqual(finish.usage.completion_tokens, len(tokens))
        p = self.prometheus
        # Read from a scrape taken well after the last request ended, so every metric the
        # engine updates at a request's end (counters, histograms) is in it.
        settled = time.time() + 0.5
        p.wait_for('timestamp(up{job="shoal"})', lambda t: t > settled, timeout=30)
        self.assertEqual(p.value("sum(vllm:generation_tokens_total)"), completion_tokens)
        self.assertEqual(p.value("sum(vllm:prompt_tokens_total)"), prompt_tokens)
        self.assertEqual(p.value('sum(vllm:request_success_total{finished_reason="length"})'), 6)
        self.assertEqual(p.value("sum(vllm:e2e_request_latency_seconds_count)"), 6)
        self.assertEqual(p.value("sum(vllm:time_to_first_token_seconds_count)"), 6)
        # Requests 2..6 find the shared three blocks in the prefix cache.
        self.assertGreaterEqual(p.value("sum(vllm:prefix_cache_hits_total)"), 5 * 48)
        self.assertEqual(p.value("sum(vllm:num_requests_running)"), 0)
        self.assertEqual(p.value("sum(vllm:kv_cache_usage_perc)"), 0)
        # The series carry the model_name label that vLLM's dashboards select on.
        for series in p.query('{__name__=~"vllm:.*"}'):
            self.assertTrue(series["metric"].get("model_name"), series["metric"])
        # PromQL over the histograms: a median TTFT within the slowest request's latency.
        ttft_p50 = p.value("histogram_quantile(0.5, sum by (le) (vllm:time_to_first_token_seconds_bucket))")
        e2e_max = p.value("histogram_quantile(1.0, sum by (le) (vllm:e2e_request_latency_seconds_bucket))")
        self.assertGreater(ttft_p50, 0)
        self.assertLessEqual(ttft_p50, e2e_max)
        # Inter-token latencies: one per token after the first of each request.
        self.assertEqual(p.value("sum(vllm:inter_token_latency_seconds_count)"), completion_tokens - 6)
        # Requests ran one after another, so each of their tokens took a step of its own.
        self.assertGreaterEqual(p.value("sum(shoal_scheduler_steps_total)"), completion_tokens)


def main():
    global SHOAL, TESTDATA
    SHOAL, TESTDATA, unittest_argv = parse_test_args()
    unittest.main(argv=unittest_argv)


if __name__ == "__main__":
    main()
