#!/usr/bin/env python3
"""`shoal bench` against a real `shoal serve` over both protocols: every request
completes with exactly the output tokens asked for (ignore_eos), the JSON report has its
documented fields with sane values, an open loop and a --duration bound work, and a
target nobody listens on is reported as errors, not a crash; --plot draws the report with
bench/plot.py, and a plot that fails is an error that keeps the JSON.

Run by ctest as: bench_smoke_test.py --shoal build/cli/shoal --testdata build/testdata
"""
import json
import os
import struct
import subprocess
import sys
import tempfile
import unittest
from pathlib import Path

from shoal_processes import Server, parse_test_args

SHOAL = ""
TESTDATA = Path()
MODEL = "qwen3-q8_0"


def bench(target: str, *flags: str, timeout=120) -> tuple[int, dict, str]:
    with tempfile.NamedTemporaryFile(suffix=".json") as out:
        proc = subprocess.run(
            [SHOAL, "bench", "--target", target, "--model", str(TESTDATA / "models" / f"{MODEL}.gguf"),
             "--json", out.name, *flags], capture_output=True, text=True, timeout=timeout)
        report = json.loads(Path(out.name).read_text() or "{}") if proc.returncode == 0 else {}
    return proc.returncode, report, proc.stdout + proc.stderr


class BenchSmokeTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.server = Server(SHOAL, str(TESTDATA / "models" / f"{MODEL}.gguf"),
                            "--max-kv-blocks", "512", "--log-level", "warn")

    @classmethod
    def tearDownClass(cls):
        cls.server.stop()

    def check_complete_run(self, report: dict, requests: int, output_len: int, input_len: int):
        s = report["summary"]
        self.assertEqual((s["requests"], s["completed"], s["failed"]), (requests, requests, 0), s)
        self.assertEqual(s["output_tokens"], requests * output_len)
        self.assertGreaterEqual(s["prompt_tokens"], requests * input_len)
        for key in ("ttft_s", "e2e_s"):
            self.assertGreater(s[key]["p50"], 0, key)
        # A tiny model's tokens may all come in one read: per-token times can be 0.
        for key in ("ttft_s", "tpot_s", "e2e_s", "itl_s"):
            self.assertGreaterEqual(s[key]["p50"], 0, key)
            self.assertGreaterEqual(s[key]["p99"], s[key]["p50"], key)
        self.assertGreaterEqual(s["e2e_s"]["p50"], s["ttft_s"]["p50"])
        self.assertGreater(s["output_tokens_per_s"], 0)
        self.assertGreaterEqual(report["load_generator_cpu_s"], 0)

    def test_http_closed_loop(self):
        code, report, log = bench(self.server.http_address, "--protocol", "http",
                                  "--concurrency", "4", "--num-requests", "12",
                                  "--input-len", "16", "--output-len", "6")
        self.assertEqual(code, 0, log)
        self.check_complete_run(report, 12, 6, 16)
        self.assertEqual(report["target"], f"http://{self.server.http_address}/v1/completions")

    def test_http_chat_endpoint(self):
        code, report, log = bench(self.server.http_address, "--protocol", "http",
                                  "--endpoint", "chat", "--concurrency", "2",
                                  "--num-requests", "4", "--input-len", "16", "--output-len", "5")
        self.assertEqual(code, 0, log)
        self.check_complete_run(report, 4, 5, 16)

    def test_grpc_closed_loop(self):
        code, report, log = bench(self.server.grpc_address, "--protocol", "grpc",
                                  "--concurrency", "4", "--num-requests", "12",
                                  "--input-len", "16", "--output-len", "6")
        self.assertEqual(code, 0, log)
        self.check_complete_run(report, 12, 6, 16)

    def test_open_loop_with_an_slo(self):
        code, report, log = bench(self.server.http_address, "--protocol", "http",
                                  "--request-rate", "20", "--num-requests", "10",
                                  "--input-len", "8", "--output-len", "4",
                                  "--slo", "ttft=60s,tpot=60s")
        self.assertEqual(code, 0, log)
        self.check_complete_run(report, 10, 4, 8)
        self.assertEqual(report["summary"]["good"], 10)  # a generous SLO every request meets

    def test_server_metrics_are_scraped_around_the_run(self):
        code, report, log = bench(self.server.http_address, "--protocol", "http",
                                  "--concurrency", "2", "--num-requests", "6",
                                  "--input-len", "40", "--prefix-len", "32", "--output-len", "3")
        self.assertEqual(code, 0, log)
        metrics = report["server_metrics"]
        self.assertEqual(metrics["router_requests"], 6)  # the run's requests, nothing else
        self.assertEqual(metrics["generation_tokens"], 18)
        self.assertGreater(metrics["prefix_cache_hits"], 0, "a shared 32-token prefix")
        self.assertEqual(metrics["preemptions"], 0)

    def test_rate_ramp_reports_the_highest_rate_that_held(self):
        code, report, log = bench(self.server.http_address, "--protocol", "http",
                                  "--ramp-rates", "4,8", "--stage-seconds", "1",
                                  "--input-len", "8", "--output-len", "3",
                                  "--slo", "ttft=60s,e2e=60s")
        self.assertEqual(code, 0, log)
        ramp = report["ramp"]
        self.assertTrue(ramp["all_held"], ramp)
        self.assertEqual(ramp["highest_rate_held"], 8)
        self.assertEqual([stage["num_requests"] for stage in ramp["stages"]], [4, 8])

    def test_plot_draws_the_ramp_as_a_png(self):
        with tempfile.TemporaryDirectory() as tmp:
            png = Path(tmp) / "ramp.png"
            code, report, log = bench(self.server.http_address, "--protocol", "http",
                                      "--ramp-rates", "4,8", "--stage-seconds", "1",
                                      "--input-len", "8", "--output-len", "3",
                                      "--slo", "ttft=60s", "--plot", str(png))
            self.assertEqual(code, 0, log)
            self.assertEqual(len(report["ramp"]["stages"]), 2)
            data = png.read_bytes()
        self.assertEqual(data[:8], b"\x89PNG\r\n\x1a\n")
        # bench/plot.py: three panels of 5 x 4 inches at 120 dpi, one row (rates only).
        width, height = struct.unpack(">II", data[16:24])
        self.assertEqual((width, height), (1800, 480))

    def test_a_failed_plot_is_an_error_and_keeps_the_report(self):
        with tempfile.TemporaryDirectory() as tmp:
            script = Path(tmp) / "broken_plot.py"
            script.write_text("import sys\nsys.exit('no matplotlib here')\n")
            out = Path(tmp) / "report.json"
            proc = subprocess.run(
                [SHOAL, "bench", "--target", self.server.http_address, "--model",
                 str(TESTDATA / "models" / f"{MODEL}.gguf"), "--num-requests", "2",
                 "--concurrency", "1", "--input-len", "8", "--output-len", "2",
                 "--json", str(out), "--plot", str(Path(tmp) / "x.png")],
                capture_output=True, text=True, timeout=120,
                env={**os.environ, "SHOAL_PLOT_SCRIPT": str(script),
                     "SHOAL_PYTHON": sys.executable})
            self.assertNotEqual(proc.returncode, 0)
            self.assertIn("no matplotlib here", proc.stderr)
            self.assertIn(f"the report is in {out}", proc.stderr)
            self.assertEqual(json.loads(out.read_text())["summary"]["completed"], 2)
            self.assertFalse((Path(tmp) / "x.png").exists())

    def test_agent_workload_hits_the_prefix_cache_and_splits_by_tenant(self):
        code, report, log = bench(self.server.http_address, "--protocol", "http",
                                  "--endpoint", "chat", "--workload", "agent", "--agents", "2",
                                  "--turns", "3", "--system-prompt-len", "64", "--tools", "1",
                                  "--tool-len", "24", "--user-turn-len", "8",
                                  "--assistant-turn-len", "8", "--output-len", "3",
                                  "--concurrency", "2", "--tenants", "a:key-a:1,b:key-b:1")
        self.assertEqual(code, 0, log)
        s = report["summary"]
        self.assertEqual((s["requests"], s["completed"]), (6, 6), s)
        self.assertEqual(s["output_tokens"], 18)
        self.assertEqual(sorted(s["tenants"]), ["a", "b"])
        self.assertEqual(s["tenants"]["a"]["requests"] + s["tenants"]["b"]["requests"], 6)
        self.assertNotIn("key-a", json.dumps(report), "an API key must not reach the report")
        # Later turns extend earlier ones, and the agents share a system prompt.
        self.assertGreater(report["server_metrics"]["prefix_cache_hits"], 64)

    def test_duration_bounds_a_run(self):
        code, report, log = bench(self.server.http_address, "--protocol", "http",
                                  "--concurrency", "2", "--num-requests", "1000",
                                  "--input-len", "8", "--output-len", "200",
                                  "--duration", "2", timeout=60)
        self.assertEqual(code, 0, log)
        s = report["summary"]
        self.assertLess(s["requests"], 1000)
        self.assertLess(report["wall_s"], 10)

    def test_unreachable_target_is_errors_not_a_crash(self):
        code, report, log = bench("127.0.0.1:1", "--protocol", "http", "--concurrency", "2",
                                  "--num-requests", "3", "--input-len", "8", "--output-len", "2")
        self.assertEqual(code, 0, log)
        self.assertEqual(report["summary"]["failed"], 3)
        self.assertEqual(report["summary"]["errors"], {"disconnect": 3})


if __name__ == "__main__":
    SHOAL, TESTDATA, argv = parse_test_args()
    unittest.main(argv=argv)
