#!/usr/bin/env bash
# Builds the peer for the CPU benchmarks: llama.cpp's own tools (llama-bench,
# llama-batched-bench, llama-server) from the llama.cpp tree that llama-cpp-python's
# source distribution carries (the version scripts/requirements-reference.txt pins, the
# one the golden files use), compiled for the instruction sets of THIS machine.
#
#   bench/setup_llama_cpp.sh          # prints the binaries' paths at the end
#
# Source in build/llama.cpp-src, binaries in build/llama.cpp/bin (build/ is ignored by
# git). Run again, it does nothing unless the version or the flags changed. Needs the
# Python environment of scripts/setup (.venv) for `pip download`, cmake and ninja.
#
# Flags: GGML_NATIVE=OFF and one GGML_<ISA>=ON for each of AVX, AVX2, FMA, F16C, BMI2,
# SSE4.2, AVX-VNNI, AVX-512 (F/CD/BW/VL/DQ), AVX512-VBMI, -VNNI and -BF16 that
# /proc/cpuinfo lists, and AMX always off: with -march=native on a CPU with AMX,
# llama.cpp's AMX matmul crashed on small quantized models (llama-cpp-python 0.3.36, see
# scripts/setup), and this version cannot switch AMX off under GGML_NATIVE=ON (the
# GGML_AMX_* options only apply with GGML_NATIVE=OFF). So on an AVX2-only AMD EPYC it
# builds for AVX2, on an AVX-512 VNNI Xeon for AVX-512 VNNI.
#
# Environment: LLAMA_CPP_JOBS (default 2), SHOAL_BUILD_LOCK (default
# /tmp/shoal-build.lock: configure and compile run under `flock` on it, the machine's
# shared build lock), LLAMA_CPP_EXTRA_CMAKE_ARGS (appended, e.g. "-DGGML_AMX_INT8=ON" to try AMX).
set -euo pipefail
cd "$(dirname "$0")/.."

version=$(sed -n 's/^llama-cpp-python==//p' scripts/requirements-reference.txt)
[ -n "$version" ] || { echo "setup_llama_cpp: no llama-cpp-python pin in scripts/requirements-reference.txt" >&2; exit 1; }
jobs=${LLAMA_CPP_JOBS:-2}
lock=${SHOAL_BUILD_LOCK:-/tmp/shoal-build.lock}
src=build/llama.cpp-src
out=build/llama.cpp
download=build/llama.cpp-download
targets=(llama-bench llama-batched-bench llama-server)

# ---- instruction sets of this CPU ---------------------------------------------------
cpu_flags=" $(grep -m1 '^flags' /proc/cpuinfo | cut -d: -f2) "
has() { for f in "$@"; do [[ "$cpu_flags" == *" $f "* ]] || return 1; done; }
onoff() { if has "$@"; then echo ON; else echo OFF; fi; }
isa_args=(
  -DGGML_NATIVE=OFF
  -DGGML_SSE42="$(onoff sse4_2)"
  -DGGML_AVX="$(onoff avx)"
  -DGGML_AVX2="$(onoff avx2)"
  -DGGML_FMA="$(onoff fma)"
  -DGGML_F16C="$(onoff f16c)"
  -DGGML_BMI2="$(onoff bmi2)"
  -DGGML_AVX_VNNI="$(onoff avx_vnni)"
  -DGGML_AVX512="$(onoff avx512f avx512cd avx512bw avx512vl avx512dq)"
  -DGGML_AVX512_VBMI="$(onoff avx512f avx512vbmi)"
  -DGGML_AVX512_VNNI="$(onoff avx512f avx512_vnni)"
  -DGGML_AVX512_BF16="$(onoff avx512f avx512_bf16)"
  -DGGML_AMX_TILE=OFF -DGGML_AMX_INT8=OFF -DGGML_AMX_BF16=OFF
)
# shellcheck disable=SC2206
extra_args=(${LLAMA_CPP_EXTRA_CMAKE_ARGS:-})
cmake_args=(
  -G Ninja -DCMAKE_BUILD_TYPE=Release -DBUILD_SHARED_LIBS=OFF
  -DLLAMA_BUILD_TESTS=OFF -DLLAMA_BUILD_EXAMPLES=OFF -DLLAMA_BUILD_TOOLS=ON
  -DLLAMA_BUILD_SERVER=ON -DLLAMA_BUILD_APP=OFF -DLLAMA_BUILD_UI=OFF
  -DLLAMA_USE_PREBUILT_UI=OFF -DLLAMA_OPENSSL=OFF
  -DLLAMA_BUILD_NUMBER=0 -DLLAMA_BUILD_COMMIT="llama-cpp-python-$version"
  "${isa_args[@]}" "${extra_args[@]}"
)
chosen=$(printf '%s\n' "${isa_args[@]}" "${extra_args[@]}" | sed -n 's/^-D//p' | paste -sd' ')
model_name=$(grep -m1 '^model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//')
amx_note=""
has amx_int8 && amx_note=" (this CPU has AMX; left off, see the comment at the top)"
echo "setup_llama_cpp: llama.cpp from llama-cpp-python $version for: $model_name"
echo "setup_llama_cpp: flags: $chosen$amx_note"

# The stamp holds everything the build depends on; the same stamp and all three
# binaries present means there is nothing to do.
stamp_text="llama-cpp-python $version
cmake ${cmake_args[*]}"
stamp=$out/shoal-build-info.txt
binaries_present() { for t in "${targets[@]}"; do [ -x "$out/bin/$t" ] || return 1; done; }
if binaries_present && [ -f "$stamp" ] && [ "$(sed -n '1,2p' "$stamp")" = "$stamp_text" ]; then
  echo "setup_llama_cpp: already built for these flags"
else
  # ---- source: vendor/llama.cpp of the pinned sdist ---------------------------------
  if [ "$(cat "$src/.shoal-version" 2>/dev/null)" != "$version" ]; then
    python=.venv/bin/python
    [ -x "$python" ] || python=python3
    mkdir -p "$download"
    sdist="$download/llama_cpp_python-$version.tar.gz"
    if [ ! -f "$sdist" ]; then
      echo "setup_llama_cpp: downloading llama-cpp-python $version (source distribution, ~75 MiB)"
      "$python" -m pip download -q --no-deps --no-binary :all: \
        "llama-cpp-python==$version" -d "$download"
    fi
    rm -rf "$src" "$src.tmp" && mkdir -p "$src.tmp"
    tar -xzf "$sdist" -C "$src.tmp" --strip-components=3 \
      "llama_cpp_python-$version/vendor/llama.cpp"
    # The tree's .git is a submodule pointer to a directory the sdist lacks.
    rm -f "$src.tmp/.git"
    echo "$version" > "$src.tmp/.shoal-version"
    mv "$src.tmp" "$src"
  fi

  # ---- configure and build, under the machine's shared build lock -------------------
  # Configured for other flags or another version: start clean so no stale cache entry
  # survives. (An interrupted build with the same flags just continues.)
  if [ -f "$out/CMakeCache.txt" ] && [ "$(cat "$out/.shoal-configured" 2>/dev/null)" != "$stamp_text" ]; then
    rm -rf "$out"
  fi
  mkdir -p "$out"
  echo "setup_llama_cpp: building ${targets[*]} with $jobs jobs (waits for $lock; ~13 min on 2 cores)"
  flock "$lock" cmake -S "$src" -B "$out" "${cmake_args[@]}" > "$out/configure.log" 2>&1 \
    || { tail -30 "$out/configure.log"; exit 1; }
  echo "$stamp_text" > "$out/.shoal-configured"
  flock "$lock" cmake --build "$out" -j "$jobs" --target "${targets[@]}"
  {
    echo "$stamp_text"
    echo "cpu $model_name"
    echo "flags $chosen"
    echo "compiler $(c++ --version | head -1)"
  } > "$stamp"
fi
echo "setup_llama_cpp: build info in $stamp"
for t in "${targets[@]}"; do echo "$PWD/$out/bin/$t"; done
