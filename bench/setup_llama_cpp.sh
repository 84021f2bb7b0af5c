#!/usr/bin/env bash
# Builds the peer for the CPU benchmarks: llama.cpp (through llama-cpp-python, the same
# version the golden files use) compiled for this machine's AVX-512 / VNNI, into
# .venv-bench (ignored by git). AMX is left out: llama.cpp's AMX matmul crashed on this
# machine (llama-cpp-python 0.3.36), see scripts/setup.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ ! -x .venv-bench/bin/python ]; then python3 -m venv .venv-bench; fi
if ! .venv-bench/bin/python -c "import llama_cpp" 2>/dev/null; then
  .venv-bench/bin/python -m pip install -q --upgrade pip
  CMAKE_ARGS="-DGGML_NATIVE=OFF -DGGML_AVX=ON -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON \
-DGGML_AVX512=ON -DGGML_AVX512_VBMI=ON -DGGML_AVX512_VNNI=ON -DGGML_AVX512_BF16=ON" \
    MAX_JOBS="$(nproc)" .venv-bench/bin/python -m pip install -q --no-cache-dir \
    numpy "$(grep -m1 llama-cpp-python scripts/requirements-reference.txt)"
fi
# The comparison scripts read tensor sizes with the same gguf package the tests use, and
# drive Shoal over gRPC; llama-cpp-python's OpenAI server needs its [server] extras.
.venv-bench/bin/python -m pip install -q "$(grep -m1 '^gguf==' scripts/requirements.txt)" \
  "$(grep -m1 '^grpcio==' scripts/requirements.txt)" \
  "$(grep -m1 '^grpcio-tools==' scripts/requirements.txt)" \
  "uvicorn>=0.22.0" "fastapi>=0.100.0" "pydantic-settings>=2.0.1" "sse-starlette>=1.6.1" \
  "starlette-context>=0.3.6,<0.4"
echo "llama.cpp for benchmarks: $(.venv-bench/bin/python -c 'import llama_cpp; print(llama_cpp.__version__)')"
