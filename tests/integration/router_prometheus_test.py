#!/usr/bin/env python3
"""A real Prometheus server (Debian's) scrapes a deployment of two processes, `shoal
router` in front of `shoal scheduler`: both targets are up with no scrape error, PromQL
over the router's request counter gives exactly the chat requests the test made (by
status code too), the scheduler's outcome counters agree with what the clients saw, and
`promtool check metrics` accepts both /metrics outputs (the router's on its --port, the
scheduler's on its --metrics-port; the scheduler's vLLM-compatible names are the only
lint it reports).

Run by ctest as: router_prometheus_test.py --shoal build/cli/shoal --testdata build/testdata
"""
import json
import re
import shutil
import subprocess
import time
import unittest
import urllib.error
import urllib.request
from pathlib import Path

from prometheus_scrape_test import Prometheus
from shoal_processes import Scheduler, Server, parse_test_args

SHOAL = ""
TESTDATA = Path()
MODEL = "qwen3-q4_k_m"
CHAT_ROUTE = 'route="/v1/chat/completions"'
# vLLM's metric names, kept for its dashboards, are what promtool's linter flags.
VLLM_LINT = re.compile(r"^vllm:\w+ (metric names should not contain ':'|"
                       r'non-counter metrics should not have "_total" suffix)$')


def post_json(url: str, body) -> int:
    data = body if isinstance(body, bytes) else json.dumps(body).encode()
    request = urllib.request.Request(url, data=data, headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=60) as r:
            r.read()
            return r.status
    except urllib.error.HTTPError as e:
        e.read()
        return e.code


class RouterPrometheusTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        model = str(TESTDATA / "models" / f"{MODEL}.gguf")
        cls.scheduler = Scheduler(SHOAL, model, "--max-kv-blocks", "1024")
        cls.addClassCleanup(cls.scheduler.stop)
        cls.router = Server(SHOAL, model, "--drain-seconds", "2", scheduler=cls.scheduler)
        cls.addClassCleanup(cls.router.stop)  # cleanups run last-in first-out
        cls.prometheus = Prometheus(cls.router.http_address, cls.scheduler.http_address)
        cls.addClassCleanup(shutil.rmtree, cls.prometheus.dir, ignore_errors=True)
        cls.addClassCleanup(cls.prometheus.stop)
        cls.codes = cls.make_traffic()

    @classmethod
    def make_traffic(cls) -> dict[str, int]:
        """The chat requests this test makes, by status code; also a few requests to
        other routes, which the chat count must not include."""
        import openai
        client = cls.router.openai(max_retries=0, timeout=60)
        codes = {"200": 0, "400": 0, "404": 0}
        messages = [{"role": "user", "content": "Count to three."}]
        for i in range(5):
            r = client.chat.completions.create(model=MODEL, messages=messages, max_tokens=3 + i,
                                               extra_body={"ignore_eos": True})
            assert r.usage.completion_tokens == 3 + i
            codes["200"] += 1
        for i in range(4):
            stream = client.chat.completions.create(
                model=MODEL, messages=messages, max_tokens=4, stream=True,
                stream_options={"include_usage": True}, extra_body={"ignore_eos": True})
            assert [c.usage.completion_tokens for c in stream if c.usage] == [4]
            codes["200"] += 1
        for body in ({"model": MODEL, "messages": messages, "max_tokens": -1},
                     {"model": MODEL, "messages": []}, b'{"model": '):
            assert post_json(cls.router.base_url + "/chat/completions", body) == 400
            codes["400"] += 1
        try:
            client.chat.completions.create(model="no-such-model", messages=messages, max_tokens=2)
            raise AssertionError("an unknown model was served")
        except openai.NotFoundError:
            codes["404"] += 1
        # Other routes: not chat requests.
        for i in range(3):
            r = client.completions.create(model=MODEL, prompt="One, two,", max_tokens=2,
                                          extra_body={"ignore_eos": True})
            assert r.usage.completion_tokens == 2
        client.models.list()
        assert post_json(cls.router.base_url + "/completions", {"model": MODEL}) == 400
        return codes

    def settled(self):
        """Waits for a scrape of both targets taken after the traffic ended."""
        after = time.time() + 0.5
        for target in (self.router.http_address, self.scheduler.http_address):
            self.prometheus.wait_for(f'timestamp(up{{job="shoal",instance="{target}"}})',
                                     lambda t: t > after, timeout=30)

    def test_both_targets_are_up_and_every_scrape_parses(self):
        for target in (self.router.http_address, self.scheduler.http_address):
            self.prometheus.wait_for(f'up{{job="shoal",instance="{target}"}}', lambda v: v == 1)
        targets = self.prometheus.api("targets")["activeTargets"]
        self.assertEqual(sorted(t["labels"]["instance"] for t in targets),
                         sorted([self.router.http_address, self.scheduler.http_address]))
        for target in targets:
            self.assertEqual(target["health"], "up", target)
            self.assertEqual(target["lastError"], "", target)

    def test_promql_counts_exactly_the_chat_requests_made(self):
        self.settled()
        p = self.prometheus
        made = sum(self.codes.values())
        counted = p.value(f"sum(shoal_router_requests_total{{{CHAT_ROUTE}}})")
        print(f"\nchat requests made {made} {self.codes}; Prometheus counted {counted:.0f}")
        self.assertEqual(counted, made)
        by_code = {r["metric"]["code"]: float(r["value"][1]) for r in
                   p.query(f"sum by (code) (shoal_router_requests_total{{{CHAT_ROUTE}}})")}
        self.assertEqual(by_code, {code: float(n) for code, n in self.codes.items()})
        # Only the router exports the series: one instance.
        instances = p.query(f"count by (instance) (shoal_router_requests_total{{{CHAT_ROUTE}}})")
        self.assertEqual([r["metric"]["instance"] for r in instances], [self.router.http_address])
        self.assertEqual(p.value('sum(shoal_router_requests_total{route="/v1/completions"})'), 4)
        # The scheduler ran every request that was admitted, each to its length.
        generated = self.codes["200"] + 3
        self.assertEqual(p.value('sum(vllm:request_success_total{finished_reason="length"})'),
                         generated)
        self.assertEqual(p.value("sum(vllm:e2e_request_latency_seconds_count)"), generated)
        self.assertEqual(p.value("sum(shoal_router_inflight_requests)"), 0)
        self.assertEqual(p.value("sum(vllm:num_requests_running)"), 0)

    def test_promtool_accepts_both_outputs(self):
        promtool = shutil.which("promtool")
        if promtool is None:
            self.skipTest("promtool is not installed (Debian: apt-get install prometheus)")
        for name, server in (("router", self.router), ("scheduler", self.scheduler)):
            status, text = server.http("/metrics")
            self.assertEqual(status, 200)
            self.assertIn("# TYPE", text)
            checked = subprocess.run([promtool, "check", "metrics"], input=text,
                                     capture_output=True, text=True, timeout=60)
            problems = [line for line in (checked.stdout + checked.stderr).splitlines()
                        if line.strip()]
            # 0: clean; 3: lint problems only (1 would be a parse error).
            self.assertIn(checked.returncode, (0, 3), f"{name}: {problems}")
            unexpected = [line for line in problems if not VLLM_LINT.match(line)]
            self.assertEqual(unexpected, [], f"{name}: promtool check metrics")
            if name == "router":
                self.assertEqual(checked.returncode, 0, problems)
                self.assertIn("shoal_router_requests_total", text)
            else:
                self.assertIn("vllm:num_requests_running", text)


def main():
    global SHOAL, TESTDATA
    SHOAL, TESTDATA, unittest_argv = parse_test_args()
    unittest.main(argv=unittest_argv)


if __name__ == "__main__":
    main()
