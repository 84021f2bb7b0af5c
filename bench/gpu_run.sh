#!/usr/bin/env bash
# Runs on a lent GPU machine, from the repository root, with build/gpu-bundle carried
# (bench/gpu_bundle.sh made it): the device's facts, then `shoal selftest --backend
# cuda` (every op against the CPU reference; exit 0 only if all passed and nothing was
# left out), the self-test's and the communicator's GoogleTest suites, and the per-op
# speeds against the device's ceilings (bench/cuda_op_bench.cc). Logs go to $OUT for docs/gpu-validation.md.
set -uo pipefail
cd "$(dirname "$0")/.."
out=${OUT:-/tmp/shoal-gpu}
mkdir -p "$out"
bundle=build/gpu-bundle
# cuBLAS from the toolkit; NCCL from the toolkit or, failing that, PyTorch's wheel.
nccl_wheel=$(ls -d /opt/torch/.venv/lib/python3*/site-packages/nvidia/nccl/lib 2>/dev/null | head -1)
export LD_LIBRARY_PATH="$PWD/$bundle/lib:/usr/local/cuda/lib64:/usr/local/cuda/lib:${nccl_wheel:+$nccl_wheel:}${LD_LIBRARY_PATH:-}"
{
  date -u
  nvidia-smi --query-gpu=name,driver_version,memory.total,clocks.max.sm --format=csv
  nvcc --version | tail -2
} 2>&1 | tee "$out/device.txt"
"$bundle/shoal" selftest --backend cuda 2>&1 | tee "$out/selftest.txt"
selftest_rc=${PIPESTATUS[0]}
"$bundle/selftest_test" 2>&1 | tee "$out/selftest_test.txt" | tail -8
test_rc=${PIPESTATUS[0]}
"$bundle/communicator_test" 2>&1 | tee "$out/communicator_test.txt" | tail -4
comm_rc=${PIPESTATUS[0]}
"$bundle/cuda_op_bench" 2>&1 | tee "$out/cuda_op_bench.txt"
echo "exit codes: shoal selftest $selftest_rc, selftest_test $test_rc, communicator_test $comm_rc" |
  tee -a "$out/device.txt"
