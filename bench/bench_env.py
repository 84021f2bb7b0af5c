"""What the benchmark scripts print about the machine and the peer build: the CPU (lscpu's
model name, its SIMD levels, the level Shoal's kernels dispatch to) and the flags
bench/setup_llama_cpp.sh built llama.cpp with. Standard library only (bench/gpu_run.sh
runs the scripts with a bare python3)."""
import os
import re
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LLAMA_CPP = ROOT / "build/llama.cpp"

NO_REPACK = ("weights are not repacked on this CPU (no AVX-512 VNNI): both columns run the "
             "same kernels")


def cpu_flags() -> set:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("flags"):
                return set(line.split(":", 1)[1].split())
    except OSError:
        pass
    return set()


def shoal_cpu_level(flags: set, honor_cap: bool = True) -> str:
    """The level Shoal's kernels dispatch to here (kernels/cpu_features.cc), capped by
    SHOAL_CPU_LEVEL as the `shoal` binary caps it when honor_cap."""
    if not {"avx2", "fma", "f16c"} <= flags:
        level = "scalar"
    elif not {"avx512f", "avx512bw", "avx512vl", "avx512dq"} <= flags:
        level = "avx2"
    else:
        level = "avx512-vnni" if "avx512_vnni" in flags else "avx512"
    order = ["scalar", "avx2", "avx512", "avx512-vnni"]
    cap = os.environ.get("SHOAL_CPU_LEVEL") if honor_cap else None
    if cap in order and order.index(cap) < order.index(level):
        level = cap
    return level


def cpu_description(honor_cap: bool = True) -> dict:
    """lscpu's model name, the SIMD extensions that matter here, Shoal's kernel level and
    whether Shoal repacks weights at load (only with its AVX-512 VNNI kernels)."""
    flags = cpu_flags()
    try:
        lscpu = subprocess.run(["lscpu"], capture_output=True, text=True).stdout
        model = re.search(r"Model name:\s*(.+)", lscpu).group(1).strip()
        family = re.search(r"CPU family:\s*(\S+)", lscpu)
        number = re.search(r"\nModel:\s*(\S+)", lscpu)
        if family and number:  # "Intel(R) Xeon(R) Processor" alone says little
            model += f" (family {family.group(1)} model {number.group(1)})"
    except (OSError, AttributeError):
        model = "unknown"
    isa = [name for name, flag in (("AVX2", "avx2"), ("AVX-512", "avx512f"),
                                   ("AVX-512 VNNI", "avx512_vnni"), ("AVX-512 BF16", "avx512_bf16"),
                                   ("AVX-VNNI", "avx_vnni"), ("AMX", "amx_int8")) if flag in flags]
    level = shoal_cpu_level(flags, honor_cap)
    return {"model": model, "cpus": os.cpu_count(), "isa": isa, "shoal_level": level,
            "shoal_repacks": level == "avx512-vnni"}


def llama_cpp_build_info() -> dict:
    """build/llama.cpp/shoal-build-info.txt (bench/setup_llama_cpp.sh): version, cmake
    arguments, CPU, the instruction-set flags chosen, compiler."""
    info = {}
    path = LLAMA_CPP / "shoal-build-info.txt"
    if path.exists():
        for line in path.read_text().splitlines():
            key, _, value = line.partition(" ")
            info[key] = value
    return info


def describe(honor_cap: bool = True) -> str:
    """Two lines for the top of a benchmark's output. honor_cap: the Shoal binary run
    reads SHOAL_CPU_LEVEL (`shoal` does; build/bench/model_bench does not)."""
    cpu = cpu_description(honor_cap)
    build = llama_cpp_build_info()
    return (f"CPU: {cpu['model']}, {cpu['cpus']} CPUs, {', '.join(cpu['isa']) or 'no AVX2'}; "
            f"Shoal's kernels: {cpu['shoal_level']}"
            f"{' (SHOAL_CPU_LEVEL)' if honor_cap and os.environ.get('SHOAL_CPU_LEVEL') else ''}, weights "
            f"{'repacked at load' if cpu['shoal_repacks'] else 'not repacked'}\n"
            f"llama.cpp: llama-cpp-python {build.get('llama-cpp-python', '?')}'s vendor/llama.cpp, "
            f"{build.get('flags', 'flags unknown (no build/llama.cpp/shoal-build-info.txt)')}")
