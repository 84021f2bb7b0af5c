#!/usr/bin/env python3
"""bench/compare.py, the serving comparison driver, end to end on a tiny model with
llama-server left out (CI has no llama.cpp build): it starts `shoal serve`, runs a
closed-loop level and an agent-workload level through `shoal bench`, writes its JSON
report (every run with its command) and the plot, and stops the server.

Run by ctest as: compare_smoke_test.py --shoal build/cli/shoal --testdata build/testdata
"""
import json
import subprocess
import sys
import tempfile
import unittest
from pathlib import Path

from shoal_processes import ROOT, parse_test_args

SHOAL = ""
TESTDATA = Path()


def compare(*flags, timeout=240):
    with tempfile.TemporaryDirectory() as tmp:
        out, png = Path(tmp) / "compare.json", Path(tmp) / "compare.png"
        proc = subprocess.run(
            [sys.executable, str(ROOT / "bench/compare.py"), "--shoal", SHOAL, "--model",
             str(TESTDATA / "models/qwen3-q8_0.gguf"), "--skip-llama-cpp", "--threads", "1",
             "--json", str(out), "--plot", str(png), *flags],
            capture_output=True, text=True, timeout=timeout)
        report = json.loads(out.read_text()) if out.exists() else {}
        return proc, report, png.exists() and png.read_bytes()[:4] == b"\x89PNG"


class CompareSmokeTest(unittest.TestCase):
    def test_random_levels(self):
        proc, report, plotted = compare("--concurrency", "1", "4", "--num-requests", "4",
                                        "--input-len", "16", "--output-len", "4")
        self.assertEqual(proc.returncode, 0, proc.stdout + proc.stderr)
        runs = report["runs"]
        self.assertEqual([(r["server"], r["concurrency"]) for r in runs],
                         [("shoal", 1), ("shoal", 4)])
        # At least 2 requests per stream: the 4-stream level sent 8.
        self.assertEqual(runs[1]["report"]["summary"]["completed"], 8)
        self.assertEqual(runs[1]["report"]["summary"]["output_tokens"], 32)
        self.assertIn("shoal bench", runs[0]["command"])
        self.assertTrue(plotted)
        self.assertIn("| 4 |", proc.stdout)

    def test_agent_levels(self):
        proc, report, _ = compare(
            "--workload", "agent", "--concurrency", "2", "--turns", "2", "--output-len", "3",
            "--slo", "ttft=60s", "--workload-flag=--system-prompt-len 48 --tools 1 --tool-len 16 "
            "--user-turn-len 8 --assistant-turn-len 8")
        self.assertEqual(proc.returncode, 0, proc.stdout + proc.stderr)
        summary = report["runs"][0]["report"]["summary"]
        self.assertEqual(summary["completed"], 4)  # 2 agents x 2 turns
        self.assertEqual(sorted(summary["turns"]), ["1", "2"])
        self.assertEqual(summary["good"], 4)

    def test_own_flags_are_refused_in_workload_flags(self):
        proc, _, _ = compare("--concurrency", "1", "--workload-flag=--agents 3")
        self.assertNotEqual(proc.returncode, 0)
        self.assertIn("compare.py sets --agents itself", proc.stderr)


if __name__ == "__main__":
    SHOAL, TESTDATA, argv = parse_test_args()
    unittest.main(argv=argv)
