#!/usr/bin/env bash
# Packs what a lent GPU machine runs into build/gpu-bundle (run here, after the main
# build and its test data). That machine has nvcc, the CUDA libraries, python3 with
# numpy, but none of Shoal's other dependencies and can fetch nothing, so the bundle
# holds:
#   bin.tar.gz  the `shoal` binary, the self-test's and the communicator's GoogleTest
#               binaries and the CUDA op benchmark (sm_80 and sm_90, the CUDA runtime
#               linked in), and every shared library they load that is neither glibc's
#               nor the CUDA toolkit's (lib/)
#   models/     the random-weight test models the self-test compares whole forwards on
#               (Gemma 3 270M, 241 MiB, is over what can travel)
#   python/     the gguf package, for bench/make_bench_models.py there (bench/compare.py,
#               the serving step, needs only the standard library and `shoal bench`)
# 64 MiB is what may travel in all; the script fails above 56 MiB. Then, with the device
# tool:
#   run(command="bench/gpu_run.sh", carry=["build/gpu-bundle"], timeout_s=420)
set -euo pipefail
cd "$(dirname "$0")/.."
[ -d build/kernels/cuda ] || {
  echo "gpu_bundle: build/ is not configured with CUDA (nvcc missing?)" >&2; exit 1; }
models_dir=build/testdata/models
models=(llama-f32 llama-q8_0 llama-q4_k_m qwen3-q4_k_m qwen3moe-q8_0 qwen3moe-q4_k_m
        gemma3-q8_0 gemma3-q4_k_m)
for m in "${models[@]}"; do
  [ -f "$models_dir/$m.gguf" ] || {
    echo "gpu_bundle: $models_dir/$m.gguf is missing (scripts/build makes the test data)" >&2
    exit 1; }
done
gguf_package=$(ls -d .venv/lib/python3*/site-packages/gguf 2>/dev/null | head -1)
[ -n "$gguf_package" ] || { echo "gpu_bundle: no gguf package in .venv (scripts/setup)" >&2; exit 1; }

binaries=(build/cli/shoal build/tests/kernels/selftest_test build/tests/worker/communicator_test
          build/bench/cuda_op_bench)
cmake --build build --target shoal selftest_test communicator_test cuda_op_bench
bundle=build/gpu-bundle
staging=build/gpu-bundle-staging
rm -rf "$bundle" "$staging"
mkdir -p "$bundle/models" "$bundle/python" "$staging/lib"
cp "${binaries[@]}" "$staging/"
strip --strip-debug "$staging"/shoal "$staging"/selftest_test "$staging"/communicator_test \
  "$staging"/cuda_op_bench
# Libraries from Debian's packages that the GPU image lacks; glibc, the loader and the
# CUDA driver and libraries (cuBLAS, NCCL) stay the machine's own.
for binary in "${binaries[@]}"; do
  ldd "$binary" | awk '/=> \//{print $3}' | while read -r lib; do
    case "$(basename "$lib")" in
      libc.so*|libm.so*|libdl.so*|librt.so*|libpthread.so*|ld-linux*|libcuda.so*|libcublas*|libcudart*|libnccl*) ;;
      *) cp -nL "$lib" "$staging/lib/" ;;
    esac
  done
done
strip --strip-debug "$staging"/lib/*.so* 2>/dev/null || true
tar -czf "$bundle/bin.tar.gz" -C "$staging" .
rm -rf "$staging"
for m in "${models[@]}"; do cp "$models_dir/$m.gguf" "$bundle/models/"; done
cp -r "$gguf_package" "$bundle/python/"
find "$bundle/python" -name __pycache__ -prune -exec rm -rf {} +
du -sh "$bundle"
size_kib=$(du -sk "$bundle" | cut -f1)
if [ "$size_kib" -gt $((56 * 1024)) ]; then
  echo "gpu_bundle: $((size_kib / 1024)) MiB is over the 56 MiB this script allows" >&2
  exit 1
fi
