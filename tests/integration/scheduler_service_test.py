#!/usr/bin/env python3
"""`shoal scheduler` as users run it, driven by the official grpcio client: concurrent
streams give exactly the tokens each request gives alone (greedy), a shared prefix is
served from the prefix cache with a lower time to first token, a client that goes away
frees its KV blocks, a refused duplicate id cancels nothing, bad requests get the right
gRPC codes, overload is refused with RESOURCE_EXHAUSTED and a retry-after trailer,
requests stop on EOS, stop token ids, max_tokens and the context length with the right
reason and metric, the health service, /ready and /metrics answer, and SIGTERM drains
(aborting what is left, retryably) and exits 0.

Run by ctest as: scheduler_service_test.py --shoal build/cli/shoal --testdata build/testdata
"""
import concurrent.futures
import random
import time
import unittest
from pathlib import Path

import grpc
from shoal_processes import Scheduler, gemma_path, generate, greedy, parse_test_args, pb

SHOAL = ""
TESTDATA = Path()


def start_scheduler(model: str, *flags: str) -> Scheduler:
    return Scheduler(SHOAL, model, *flags)


class RandomModelTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.server = start_scheduler(str(TESTDATA / "models" / "llama-f32.gguf"), "--max-kv-blocks", "512",
                               "--max-num-batched-tokens", "256")

    @classmethod
    def tearDownClass(cls):
        cls.server.stop()

    def test_concurrent_streams_give_the_tokens_each_gives_alone(self):
        rng = random.Random(3)
        requests = [greedy(f"alone-{i}", [rng.randrange(4000) for _ in range(rng.randrange(1, 80))],
                           rng.randrange(4, 24)) for i in range(32)]
        alone = [generate(self.server.stub, r)[0] for r in requests]
        for r in requests:
            r.request_id = r.request_id.replace("alone", "together")
        with concurrent.futures.ThreadPoolExecutor(32) as pool:
            together = list(pool.map(lambda r: generate(self.server.stub, r), requests))
        for r, a, (tokens, finish, _) in zip(requests, alone, together):
            self.assertEqual(tokens, a, r.request_id)
            self.assertEqual(finish.usage.completion_tokens, len(tokens))
            self.assertEqual(finish.usage.prompt_tokens, len(r.prompt_token_ids))
        self.assertEqual(self.server.metric("vllm:num_requests_running"), 0)

    def test_bad_requests_get_invalid_argument(self):
        stub = self.server.stub
        cases = [
            (greedy("empty", [], 4), "empty"),
            (greedy("long", [1] * 2048, 4), "context"),
            (greedy("zero", [1], 0), "max_tokens"),
            (greedy("huge", [1, 2], 1 << 30), "exceed"),
            (greedy("temp", [1], 4, temperature=-1.0), "temperature"),
            (greedy("topp", [1], 4, top_p=1.5), "top_p"),
            (greedy("vocab", [999999], 4), "vocabulary"),
        ]
        for request, message in cases:
            with self.subTest(request.request_id):
                with self.assertRaises(grpc.RpcError) as e:
                    generate(stub, request)
                self.assertEqual(e.exception.code(), grpc.StatusCode.INVALID_ARGUMENT)
                self.assertIn(message, e.exception.details())
        with self.assertRaises(grpc.RpcError) as e:
            stub.Cancel(pb().CancelRequest(request_id="nobody"), timeout=10)
        self.assertEqual(e.exception.code(), grpc.StatusCode.NOT_FOUND)

    def test_duplicate_ids_are_refused_while_live(self):
        stream = self.server.stub.Generate(greedy("twin", [1, 2, 3], 1000), timeout=300)
        next(iter(stream))
        with self.assertRaises(grpc.RpcError) as e:
            generate(self.server.stub, greedy("twin", [4], 2))
        self.assertEqual(e.exception.code(), grpc.StatusCode.ALREADY_EXISTS)
        self.server.stub.Cancel(pb().CancelRequest(request_id="twin"), timeout=10)
        try:  # a no-op: OK while the request is still live, NOT_FOUND once it has ended
            self.server.stub.Cancel(pb().CancelRequest(request_id="twin"), timeout=10)
        except grpc.RpcError as e:
            self.assertEqual(e.code(), grpc.StatusCode.NOT_FOUND)
        reasons = [m.finish.reason for m in stream if m.HasField("finish")]
        import shoal.v1.inference_pb2 as inference_pb2
        self.assertEqual(reasons, [inference_pb2.FINISH_REASON_CANCELLED])

    def test_a_refused_duplicate_leaves_the_original_running(self):
        import shoal.v1.inference_pb2 as inference_pb2
        stream = self.server.stub.Generate(greedy("original", [7, 8, 9], 200), timeout=300)
        messages = iter(stream)
        tokens = list(next(messages).token_ids)
        for _ in range(3):
            with self.assertRaises(grpc.RpcError) as e:
                generate(self.server.stub, greedy("original", [4], 2))
            self.assertEqual(e.exception.code(), grpc.StatusCode.ALREADY_EXISTS)
        # Duplicates cancelled by their clients as soon as they are sent: the server may
        # see each cancellation before or after refusing the call.
        for _ in range(20):
            self.server.stub.Generate(greedy("original", [4], 2), timeout=30).cancel()
        finish = None
        for m in messages:
            tokens += m.token_ids
            if m.HasField("finish"):
                finish = m.finish
        self.assertEqual(finish.reason, inference_pb2.FINISH_REASON_LENGTH,
                         "the refused calls must not cancel the request that holds the id")
        self.assertEqual(len(tokens), 200)

    def test_stop_conditions_end_requests_with_the_right_reason_and_metric(self):
        import shoal.v1.inference_pb2 as inference_pb2
        eos = eos_token_id(TESTDATA / "models" / "llama-f32.gguf")
        stop_before = self.server.metric("vllm:request_success_total", 'finished_reason="stop"')
        length_before = self.server.metric("vllm:request_success_total", 'finished_reason="length"')
        prompt = [11, 12, 13, 14]
        free_run, _, _ = generate(self.server.stub, greedy("free", prompt, 8))
        # The model's EOS, made the argmax by a logit bias, ends the request at once...
        tokens, finish, _ = generate(self.server.stub, greedy(
            "eos", prompt, 8, ignore_eos=False, logit_bias={eos: 100.0}))
        self.assertEqual((tokens, finish.reason, finish.stop_token_id),
                         ([eos], inference_pb2.FINISH_REASON_STOP, eos))
        # ...unless min_tokens holds it back.
        tokens, finish, _ = generate(self.server.stub, greedy(
            "eos-min", prompt, 8, ignore_eos=False, logit_bias={eos: 100.0}, min_tokens=3))
        self.assertEqual(len(tokens), 4)
        self.assertNotIn(eos, tokens[:3])
        self.assertEqual((tokens[3], finish.reason, finish.stop_token_id),
                         (eos, inference_pb2.FINISH_REASON_STOP, eos))
        # A stop token id: the third token of the free run.
        tokens, finish, _ = generate(self.server.stub, greedy(
            "stop-id", prompt, 8, stop_token_ids=[free_run[2]]))
        first = free_run.index(free_run[2])
        self.assertEqual(tokens, free_run[:first + 1])
        self.assertEqual((finish.reason, finish.stop_token_id),
                         (inference_pb2.FINISH_REASON_STOP, free_run[2]))
        # min_tokens holds a stop token id back too.
        tokens, finish, _ = generate(self.server.stub, greedy(
            "stop-id-min", prompt, 8, stop_token_ids=[free_run[0]], min_tokens=2))
        self.assertNotEqual(tokens[:1], [free_run[0]])
        stops = 3 + (finish.reason == inference_pb2.FINISH_REASON_STOP)
        # max_tokens.
        tokens, finish, _ = generate(self.server.stub, greedy("max", prompt, 5))
        self.assertEqual((len(tokens), finish.reason), (5, inference_pb2.FINISH_REASON_LENGTH))
        self.assertFalse(finish.HasField("stop_token_id"))
        # The context length (2048 for the test models): no max_tokens, 3 tokens of room.
        long_prompt = [(i * 7919) % 3990 + 3 for i in range(2045)]
        request = greedy("context", long_prompt, 1)
        request.sampling.ClearField("max_tokens")
        tokens, finish, _ = generate(self.server.stub, request)
        self.assertEqual((len(tokens), finish.reason), (3, inference_pb2.FINISH_REASON_LENGTH))
        self.assertEqual(finish.usage.total_tokens, 2048)
        self.assertEqual(self.server.metric("vllm:request_success_total", 'finished_reason="stop"'),
                         stop_before + stops)
        self.assertEqual(
            self.server.metric("vllm:request_success_total", 'finished_reason="length"'),
            length_before + 3 + (4 - stops))

    def test_a_stop_string_cancel_counts_as_a_stop_not_an_abort(self):
        import shoal.v1.inference_pb2 as inference_pb2
        stop_before = self.server.metric("vllm:request_success_total", 'finished_reason="stop"')
        abort_before = self.server.metric("vllm:request_success_total", 'finished_reason="abort"')
        stream = self.server.stub.Generate(greedy("stopstr", [1, 2, 3], 1000), timeout=300)
        messages = iter(stream)
        next(messages)
        self.server.stub.Cancel(pb().CancelRequest(
            request_id="stopstr", reason=pb().CANCEL_REASON_STOP_STRING), timeout=10)
        finish = [m.finish for m in messages if m.HasField("finish")][0]
        self.assertEqual(finish.reason, inference_pb2.FINISH_REASON_STOP)
        self.assertFalse(finish.HasField("stop_token_id"))
        self.assertEqual(self.server.metric("vllm:request_success_total", 'finished_reason="stop"'),
                         stop_before + 1)
        self.assertEqual(self.server.metric("vllm:request_success_total", 'finished_reason="abort"'),
                         abort_before)

    def test_a_client_that_goes_away_frees_its_blocks(self):
        aborted_before = self.server.metric("vllm:request_success_total", 'finished_reason="abort"')
        call = self.server.stub.Generate(greedy("leaver", list(range(50)), 1500), timeout=300)
        first = next(iter(call))
        self.assertEqual(len(first.token_ids), 1)
        call.cancel()
        deadline = time.time() + 30
        stats = None
        while time.time() < deadline:
            stats = self.server.stub.Stats(pb().StatsRequest(), timeout=10)
            if stats.num_running == 0 and stats.num_kv_blocks_free == stats.num_kv_blocks_total:
                break
            time.sleep(0.02)
        self.assertEqual(stats.num_running, 0)
        self.assertEqual(stats.num_kv_blocks_free, stats.num_kv_blocks_total)
        self.assertEqual(self.server.metric("vllm:request_success_total", 'finished_reason="abort"'),
                         aborted_before + 1)

    def test_health_ready_and_metrics(self):
        from grpc_health.v1 import health_pb2, health_pb2_grpc
        health = health_pb2_grpc.HealthStub(self.server.channel)
        self.assertEqual(health.Check(health_pb2.HealthCheckRequest(), timeout=10).status,
                         health_pb2.HealthCheckResponse.SERVING)
        self.assertEqual(self.server.http("/health"), (200, "ok\n"))
        self.assertEqual(self.server.http("/ready")[0], 200)
        self.assertEqual(self.server.http("/nothing")[0], 404)
        _, text = self.server.http("/metrics")
        for name in ("vllm:num_requests_running", "vllm:num_requests_waiting",
                     "vllm:kv_cache_usage_perc", "vllm:prefix_cache_queries_total",
                     "vllm:prefix_cache_hits_total", "vllm:prompt_tokens_total",
                     "vllm:generation_tokens_total", "vllm:time_to_first_token_seconds_bucket",
                     "vllm:inter_token_latency_seconds_bucket", "vllm:request_queue_time_seconds_bucket",
                     "vllm:request_prefill_time_seconds_bucket", "vllm:e2e_request_latency_seconds_bucket",
                     "vllm:iteration_tokens_total_bucket", "vllm:request_success_total",
                     "vllm:num_preemptions_total", "shoal_scheduler_step_overhead_seconds_bucket"):
            self.assertIn(name, text)


class OverloadTest(unittest.TestCase):
    def test_overload_is_refused_with_retry_after_and_accepted_requests_finish(self):
        import shoal.v1.inference_pb2 as inference_pb2
        # 12 KV blocks hold about two of these requests at a time, so most wait.
        server = start_scheduler(str(TESTDATA / "models" / "llama-f32.gguf"), "--max-kv-blocks", "12",
                                 "--max-num-seqs", "32", "--max-waiting", "3")
        try:
            def run(i):
                request = greedy(f"load-{i}", [(i * 31 + j) % 3990 + 3 for j in range(40)], 60)
                try:
                    return generate(server.stub, request)
                except grpc.RpcError as e:
                    return e
            with concurrent.futures.ThreadPoolExecutor(24) as pool:
                results = list(pool.map(run, range(24)))
            refused = [r for r in results if isinstance(r, grpc.RpcError)]
            served = [r for r in results if not isinstance(r, grpc.RpcError)]
            self.assertGreater(len(refused), 0, "the test must overload the scheduler")
            self.assertGreaterEqual(len(served), 3, "max_waiting requests are always accepted")
            for e in refused:
                self.assertEqual(e.code(), grpc.StatusCode.RESOURCE_EXHAUSTED, e.details())
                trailers = dict(e.trailing_metadata() or ())
                self.assertIn("retry-after", trailers)
                self.assertGreaterEqual(int(trailers["retry-after"]), 1)
            for tokens, finish, _ in served:
                self.assertEqual(finish.reason, inference_pb2.FINISH_REASON_LENGTH, finish.error.message)
                self.assertEqual(len(tokens), 60)
            self.assertEqual(server.metric("shoal_scheduler_overload_rejections_total"), len(refused))
        finally:
            server.stop()


def eos_token_id(model: Path) -> int:
    import gguf
    reader = gguf.GGUFReader(str(model))
    field = reader.fields["tokenizer.ggml.eos_token_id"]
    return int(field.parts[field.data[0]][0])


class GemmaTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.server = start_scheduler(gemma_path(), "--max-kv-blocks", "1024",
                               "--max-num-batched-tokens", "512")

    @classmethod
    def tearDownClass(cls):
        cls.server.stop()

    def test_concurrent_streams_give_the_tokens_each_gives_alone(self):
        rng = random.Random(5)
        requests = [greedy(f"g-alone-{i}", [2] + [rng.randrange(3, 200000) for _ in range(rng.randrange(4, 40))],
                           rng.randrange(4, 12)) for i in range(32)]
        alone = [generate(self.server.stub, r)[0] for r in requests]
        for r in requests:
            r.request_id = r.request_id.replace("alone", "together")
        with concurrent.futures.ThreadPoolExecutor(32) as pool:
            together = list(pool.map(lambda r: generate(self.server.stub, r), requests))
        for r, a, (tokens, _, _) in zip(requests, alone, together):
            self.assertEqual(tokens, a, r.request_id)

    def test_a_shared_prefix_is_served_from_the_cache_with_a_lower_ttft(self):
        # CI runs other tests beside this one on 2 cores, so one cold/warm pair can
        # swap places by chance: three pairs, each on a fresh prefix, compared by median.
        rng = random.Random(11)
        cold_ttfts, warm_ttfts = [], []
        for round_index in range(3):
            prefix = [2] + [rng.randrange(3, 200000) for _ in range(511)]
            cold = generate(self.server.stub, greedy(f"p{round_index}-cold", prefix + [1000, 1001], 2))
            warm = generate(self.server.stub, greedy(f"p{round_index}-warm", prefix + [2000, 2001], 2))
            self.assertEqual(cold[2], 0)
            self.assertEqual(warm[2], 512, "32 full blocks of the shared 512 tokens")
            self.assertEqual(warm[1].usage.cached_prompt_tokens, 512)
            cold_ttfts.append(cold[1].time_to_first_token_seconds)
            warm_ttfts.append(warm[1].time_to_first_token_seconds)
        cold_ttfts.sort()
        warm_ttfts.sort()
        self.assertLess(warm_ttfts[1], cold_ttfts[1], f"TTFT cold {cold_ttfts}, warm {warm_ttfts}")


class ShutdownTest(unittest.TestCase):
    def test_sigterm_drains_and_exits_zero(self):
        # The grace period is far shorter than the 2000 tokens the request wants.
        server = start_scheduler(str(TESTDATA / "models" / "qwen3-f32.gguf"), "--max-kv-blocks", "128",
                           "--drain-seconds", "0.05")
        call = server.stub.Generate(greedy("lingering", [1, 2, 3], 2000), timeout=120)
        next(iter(call))
        start = time.time()
        self.assertEqual(server.stop(), 0, "".join(server.log))
        self.assertLess(time.time() - start, 30)
        import shoal.v1.inference_pb2 as inference_pb2
        finishes = [m.finish for m in call if m.HasField("finish")]
        self.assertEqual([f.reason for f in finishes], [inference_pb2.FINISH_REASON_ABORTED])
        self.assertTrue(finishes[0].error.retryable, "another replica may serve it")
        self.assertEqual(finishes[0].error.code, grpc.StatusCode.UNAVAILABLE.value[0])
        self.assertIn("draining", "".join(server.log))


def main():
    global SHOAL, TESTDATA
    SHOAL, TESTDATA, unittest_argv = parse_test_args()
    unittest.main(argv=unittest_argv)


if __name__ == "__main__":
    main()
