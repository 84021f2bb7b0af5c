#!/usr/bin/env bash
# Runs on a lent GPU machine, from the repository root, with build/gpu-bundle carried
# (bench/gpu_bundle.sh made it). In order, so that a short run still answers the first
# questions:
#   1. the device's facts (device.txt)
#   2. `shoal selftest --backend cuda --models <bundled>`: every op against the CPU
#      reference, NCCL at world size 1, and whole-model forwards (CUDA engine against the
#      CPU engine); exit 0 only if all passed and nothing was left out (selftest.txt)
#   3. the self-test's and the communicator's GoogleTest suites
#   4. per-op speeds against the device's ceilings (cuda_op_bench.txt)
#   5. decode and prefill tokens/s through `shoal run` on the GPU (quantized weights and
#      --bf16-weights) and on this machine's CPUs, in one run: the bundled models and the
#      0.5B llama-shaped benchmark model, written here by bench/make_bench_models.py
#      (model_speed.txt)
#   6. serving: `shoal bench` (through bench/compare.py --skip-llama-cpp) against
#      `shoal serve --device cuda:0` (its OpenAI API) on the 0.5B model at 1, 16 and 64
#      concurrent streams, and on the CPUs at 16 (serve_*.txt)
# Logs go to $OUT for docs/gpu-validation.md: seven files (the device tool brings back
# eight at most).
set -uo pipefail
cd "$(dirname "$0")/.."
out=${OUT:-/tmp/shoal-gpu}
mkdir -p "$out"
bundle=build/gpu-bundle
bin=/tmp/shoal-gpu-bin
rm -rf "$bin" && mkdir -p "$bin" && tar -xzf "$bundle/bin.tar.gz" -C "$bin"
# cuBLAS from the toolkit; NCCL from the toolkit or, failing that, PyTorch's wheel.
nccl_wheel=$(ls -d /opt/torch/.venv/lib/python3*/site-packages/nvidia/nccl/lib 2>/dev/null | head -1)
export LD_LIBRARY_PATH="$bin/lib:/usr/local/cuda/lib64:/usr/local/cuda/lib:${nccl_wheel:+$nccl_wheel:}${LD_LIBRARY_PATH:-}"
{
  date -u
  nvidia-smi --query-gpu=name,driver_version,memory.total,clocks.max.sm --format=csv
  nvcc --version | tail -2
  nproc
} 2>&1 | tee "$out/device.txt"

models=$(ls "$bundle"/models/*.gguf | paste -sd, -)
timeout 240 "$bin/shoal" selftest --backend cuda --models "$models" 2>&1 | tee "$out/selftest.txt"
selftest_rc=${PIPESTATUS[0]}
timeout 120 "$bin/selftest_test" 2>&1 | tee "$out/gtests.txt" | tail -8
test_rc=${PIPESTATUS[0]}
timeout 120 "$bin/communicator_test" 2>&1 | tee -a "$out/gtests.txt" | tail -4
comm_rc=${PIPESTATUS[0]}
timeout 180 "$bin/cuda_op_bench" 2>&1 | tee "$out/cuda_op_bench.txt"

# One generation per (model, engine): a ~540-token prompt (test vocabulary), then 128 tokens. `shoal run`
# prints the prompt's and the generation's tokens/s on its last stderr line.
prompt=$(for _ in $(seq 30); do printf 'the quick brown fox jumps over the lazy dog '; done)
speed() {  # model, label, flags...
  local model=$1 label=$2; shift 2
  local line
  line=$(timeout 120 "$bin/shoal" run --model "$model" --prompt "$prompt" -n 128 --ignore-eos \
           "$@" 2>&1 >/dev/null | tail -1)
  printf '%-28s %-22s %s\n' "$(basename "$model" .gguf)" "$label" "$line"
}
bench_models=/tmp/shoal-bench-models
PYTHONPATH="$PWD/$bundle/python" timeout 120 python3 bench/make_bench_models.py \
  --out "$bench_models" --only llama-0.5b-q4_k_m llama-0.5b-q8_0 2>&1 | tail -3
{
  for model in "$bundle"/models/llama-q8_0.gguf "$bundle"/models/qwen3moe-q4_k_m.gguf \
               "$bench_models"/llama-0.5b-q4_k_m.gguf "$bench_models"/llama-0.5b-q8_0.gguf; do
    [ -f "$model" ] || { echo "$model: missing"; continue; }
    speed "$model" "cuda:0 quantized" --device cuda:0
    speed "$model" "cuda:0 bf16" --device cuda:0 --bf16-weights
    speed "$model" "cpu $(nproc) threads" --device cpu --threads "$(nproc)"
  done
} 2>&1 | tee "$out/model_speed.txt"
serve() {  # name, concurrency levels, `shoal serve` flags...
  local name=$1 levels=$2; shift 2
  local flags=()
  for flag in "$@"; do flags+=("--shoal-flag=$flag"); done
  # shellcheck disable=SC2086
  timeout 240 python3 bench/compare.py --model "$bench_models/llama-0.5b-q4_k_m.gguf" \
    --skip-llama-cpp --shoal "$bin/shoal" --threads "$(nproc)" \
    --concurrency $levels --num-requests 64 --input-len 100 --output-len 64 "${flags[@]}" \
    2>&1 | tee "$out/serve_$name.txt"
}
if [ -f "$bench_models/llama-0.5b-q4_k_m.gguf" ]; then
  serve cuda "1 16 64" --device=cuda:0
  serve cpu "16"
fi
echo "exit codes: shoal selftest $selftest_rc, selftest_test $test_rc, communicator_test $comm_rc" |
  tee -a "$out/device.txt"
