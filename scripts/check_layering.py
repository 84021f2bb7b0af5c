#!/usr/bin/env python3
"""Checks DESIGN.md's dependency directions: each library directory may include only
the directories its row allows. Exits non-zero listing every violation."""
import re
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
# DESIGN.md's table: dir -> the project directories its code may include.
ALLOWED = {
    "proto": set(),
    "common": set(),
    "model": {"common"},
    "kernels": {"common"},
    "worker": {"common", "model", "kernels", "proto"},
    "scheduler": {"common", "model", "proto"},
    "router": {"common", "model", "proto"},
}
INCLUDE = re.compile(r'^\s*#\s*include\s+["<]([a-z_]+)/', re.MULTILINE)


def main() -> int:
    violations = []
    for directory, allowed in ALLOWED.items():
        for path in sorted((REPO / directory).rglob("*")):
            if path.suffix not in {".h", ".cc", ".cu", ".cuh"}:
                continue
            for target in INCLUDE.findall(path.read_text(errors="replace")):
                if target in ALLOWED and target != directory and target not in allowed:
                    violations.append(f"{path.relative_to(REPO)} includes {target}/")
    for v in violations:
        print(f"layering violation: {v}")
    print(f"checked include directions: {len(violations)} violations")
    return 1 if violations else 0


if __name__ == "__main__":
    sys.exit(main())
