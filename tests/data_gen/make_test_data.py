#!/usr/bin/env python3
"""Writes the inputs and reference outputs of Shoal's data-driven tests into --out.

Each generator module in this folder has `write(out: Path) -> None`: random-weight GGUF
models made with the `gguf` package, dumps of GGUF files as `gguf` reads them, chat
templates rendered by Python's jinja2, ... The references come from libraries nobody
here wrote. Outputs are regenerated only when this folder's sources change.

Run by CTest as the `make_test_data` fixture; by hand:
  .venv/bin/python tests/data_gen/make_test_data.py --out build/testdata
"""
import argparse
import hashlib
import importlib
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

# Order matters: later generators may read what earlier ones wrote.
GENERATORS = ["vocabs", "models", "quant_cases", "gguf_dumps", "templates"]


def sources_fingerprint() -> str:
    digest = hashlib.sha256()
    for path in sorted(HERE.rglob("*")):
        if path.is_file() and "__pycache__" not in path.parts:
            digest.update(str(path.relative_to(HERE)).encode())
            digest.update(path.read_bytes())
    # Inputs the generators read: test vocabularies, corpora, templates.
    repo = HERE.parent.parent
    for path in sorted([*(repo / "model" / "templates").glob("*"), *(repo / "tests" / "data").rglob("*")]):
        if path.is_file():
            digest.update(str(path.relative_to(repo)).encode())
            digest.update(path.read_bytes())
    return digest.hexdigest()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", required=True, type=Path)
    parser.add_argument("--force", action="store_true", help="regenerate even if up to date")
    args = parser.parse_args()

    # Absolute: the dumps record each file's path, and tests read them from other folders.
    out: Path = args.out.resolve()
    out.mkdir(parents=True, exist_ok=True)
    stamp = out / ".fingerprint"
    fingerprint = sources_fingerprint()
    if not args.force and stamp.exists() and stamp.read_text() == fingerprint:
        print(f"test data in {out} is up to date")
        return 0
    stamp.unlink(missing_ok=True)
    for name in GENERATORS:
        if not (HERE / f"{name}.py").exists():
            continue
        start = time.monotonic()
        importlib.import_module(name).write(out)
        print(f"{name}: {time.monotonic() - start:.1f}s")
    stamp.write_text(fingerprint)
    return 0


if __name__ == "__main__":
    sys.exit(main())
