#!/usr/bin/env bash
# Packs what a lent GPU machine runs into build/gpu-bundle (run here, after the main
# build). That machine has nvcc and the CUDA libraries but none of Shoal's other
# dependencies and can fetch nothing, so the bundle holds the `shoal` binary, the
# self-test's and the communicator's GoogleTest binaries and the CUDA op benchmark
# (built for sm_80 and sm_90 with the CUDA runtime linked in) plus every shared library they load that is neither glibc's nor the CUDA
# toolkit's. Then, with the device tool:
#   run(command="bench/gpu_run.sh", carry=["build/gpu-bundle"], timeout_s=300)
set -euo pipefail
cd "$(dirname "$0")/.."
[ -d build/kernels/cuda ] || {
  echo "gpu_bundle: build/ is not configured with CUDA (nvcc missing?)" >&2; exit 1; }
cmake --build build --target shoal selftest_test communicator_test cuda_op_bench
bundle=build/gpu-bundle
rm -rf "$bundle"
mkdir -p "$bundle/lib"
cp build/cli/shoal build/tests/kernels/selftest_test build/tests/worker/communicator_test \
  build/bench/cuda_op_bench "$bundle/"
strip --strip-debug "$bundle"/shoal "$bundle"/selftest_test "$bundle"/communicator_test "$bundle"/cuda_op_bench
# Libraries from Debian's packages that the GPU image lacks; glibc, the loader and the
# CUDA driver and libraries (cuBLAS, NCCL) stay the machine's own.
for binary in "$bundle"/shoal "$bundle"/selftest_test "$bundle"/communicator_test "$bundle"/cuda_op_bench; do
  ldd "$binary" | awk '/=> \//{print $3}' | while read -r lib; do
    case "$(basename "$lib")" in
      libc.so*|libm.so*|libdl.so*|librt.so*|libpthread.so*|ld-linux*|libcuda.so*|libcublas*|libcudart*|libnccl*) ;;
      *) cp -nL "$lib" "$bundle/lib/" ;;
    esac
  done
done
strip --strip-debug "$bundle"/lib/*.so* 2>/dev/null || true
du -sh "$bundle"
