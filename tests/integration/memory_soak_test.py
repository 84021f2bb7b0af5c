#!/usr/bin/env python3
"""A soak: `shoal scheduler` with its default memory settings (prefix caching on, no
--max-kv-blocks) serves a few thousand short requests with distinct prompts over gRPC,
and its resident memory stays flat after warm-up. Its KV cache is sized for what the
replica can use and committed at start, so serving touches no new pages; before, the
pool was sized from 90% of RAM and committed lazily, and with the prefix cache's LRU
order every request touched fresh pages (RSS rose ~29 KB per request, without end).
The pool's size is logged at start and exported as shoal_scheduler_kv_cache_bytes.

Bounded: at most 3000 requests and 420 s (about 10 s on an idle 2-core machine).

Run by ctest as: memory_soak_test.py --shoal build/cli/shoal --testdata build/testdata
"""
import concurrent.futures
import re
import threading
import time
import unittest
from pathlib import Path

from shoal_processes import Scheduler, generate, greedy, parse_test_args

SHOAL = ""
TESTDATA = Path()
REQUESTS = 3000
WARM_UP = 500
DEADLINE_SECONDS = 420
# Allocator noise (gRPC arenas, histograms' first buckets) stays far below the ~29 KB a
# request that touches fresh KV pages would add: 2500 measured requests would add 70 MiB.
ALLOWED_GROWTH_KIB = 12 * 1024


def rss_kib(pid: int) -> int:
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise RuntimeError("no VmRSS")


class MemorySoakTest(unittest.TestCase):
    def test_resident_memory_stays_flat_under_thousands_of_requests(self):
        server = Scheduler(SHOAL, str(TESTDATA / "models" / "qwen3moe-f32.gguf"))
        try:
            start_log = "".join(server.log)
            match = re.search(r"(\d+) KV blocks of 16 tokens \(([\d.]+) MiB, committed\)", start_log)
            self.assertIsNotNone(match, start_log)
            kv_bytes = server.metric("shoal_scheduler_kv_cache_bytes")
            self.assertAlmostEqual(kv_bytes / 2**20, float(match.group(2)), delta=0.1)
            # Sized for the replica (8 sequences of the 2048-token context plus half
            # again), not for the machine's RAM.
            self.assertLessEqual(int(match.group(1)), 8 * 2048 // 16 * 3 // 2)
            self.assertGreaterEqual(rss_kib(server.proc.pid), kv_bytes / 1024,
                                    "the KV cache is resident from the start")

            lock = threading.Lock()
            done = [0]
            deadline = time.time() + DEADLINE_SECONDS
            samples = {}

            def run(i):
                if time.time() > deadline:
                    return
                prompt = [(i * 7919 + j * 104729) % 3990 + 3 for j in range(24)]
                tokens, finish, _ = generate(server.stub, greedy(f"soak-{i}", prompt, 2), timeout=60)
                self.assertEqual(len(tokens), 2)
                with lock:
                    done[0] += 1
                    if done[0] in (WARM_UP, REQUESTS):
                        samples[done[0]] = rss_kib(server.proc.pid)

            with concurrent.futures.ThreadPoolExecutor(8) as pool:
                list(pool.map(run, range(REQUESTS)))
            self.assertEqual(done[0], REQUESTS, "the soak ran out of time")
            growth = samples[REQUESTS] - samples[WARM_UP]
            print(f"RSS {samples[WARM_UP]} -> {samples[REQUESTS]} KiB over requests "
                  f"{WARM_UP}..{REQUESTS}: {growth:+d} KiB; KV cache {kv_bytes / 2**20:.1f} MiB")
            self.assertLess(growth, ALLOWED_GROWTH_KIB,
                            f"RSS grew {growth} KiB over {REQUESTS - WARM_UP} requests "
                            f"({samples[WARM_UP]} -> {samples[REQUESTS]} KiB)")
            self.assertGreater(server.metric("vllm:prefix_cache_queries_total"), 0)
        finally:
            server.stop()


def main():
    global SHOAL, TESTDATA
    SHOAL, TESTDATA, unittest_argv = parse_test_args()
    unittest.main(argv=unittest_argv)


if __name__ == "__main__":
    main()
