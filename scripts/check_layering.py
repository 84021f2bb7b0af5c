#!/usr/bin/env python3
"""Checks DESIGN.md's dependency directions over every directory with code.

The table of allowed directions is read from scripts/layering.txt (its header says the
format). For each top-level directory with C++/CUDA/proto code:
  - every #include "dir/..." of a project directory must be allowed by the row;
    includes of generated proto headers ("shoal/v1/x.pb.h") count as `proto`;
  - every .proto import must name a file under proto/ (or protobuf's own types);
  - the directory itself must have a row, so that a new directory cannot escape.
Exits non-zero listing every violation; the last line counts them.
"""
import argparse
import fnmatch
import re
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
TABLE = Path("scripts/layering.txt")
CODE_SUFFIXES = {".h", ".hh", ".hpp", ".c", ".cc", ".cpp", ".cu", ".cuh", ".proto"}
INCLUDE = re.compile(r'^\s*#\s*include\s+["<]([^">]+)[">]', re.MULTILINE)
IMPORT = re.compile(r'^\s*import\s+(?:public\s+|weak\s+)?"([^"]+)"\s*;', re.MULTILINE)
ROW = re.compile(r"^([A-Za-z0-9_.-]+)\s*:(.*)$")


class TableError(Exception):
    pass


def read_table(path: Path) -> dict[str, set[str]]:
    """dir -> the directories it may depend on (a "*" row allows every row's dir)."""
    rows: dict[str, list[str]] = {}
    for number, raw in enumerate(path.read_text().splitlines(), start=1):
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        match = ROW.match(line)
        if match is None:
            raise TableError(f"{path}:{number}: expected 'dir: allowed dirs...', got {raw!r}")
        directory, allowed = match.group(1), match.group(2).split()
        if directory in rows:
            raise TableError(f"{path}:{number}: {directory} has a second row")
        rows[directory] = allowed
    table = {}
    for directory, allowed in rows.items():
        if "*" in allowed:
            if allowed != ["*"]:
                raise TableError(f"{path}: {directory}: '*' must stand alone")
            table[directory] = set(rows) - {directory}
            continue
        unknown = [a for a in allowed if a not in rows]
        if unknown:
            raise TableError(f"{path}: {directory} may use {', '.join(unknown)}, "
                             "which have no row of their own")
        table[directory] = set(allowed)
    return table


def ignore_patterns(root: Path) -> list[str]:
    """The .gitignore's patterns, so build trees and virtualenvs are not checked."""
    gitignore = root / ".gitignore"
    if not gitignore.exists():
        return ["build", "build-*"]
    patterns = []
    for line in gitignore.read_text().splitlines():
        line = line.strip()
        if line and not line.startswith(("#", "!")):
            patterns.append(line.strip("/"))
    return patterns


def is_ignored(relative: Path, patterns: list[str]) -> bool:
    return any(part.startswith(".") or any(fnmatch.fnmatch(part, p) for p in patterns)
               for part in relative.parts)


def code_files(root: Path, patterns: list[str]):
    for path in sorted(root.rglob("*")):
        relative = path.relative_to(root)
        if path.suffix in CODE_SUFFIXES and path.is_file() and not is_ignored(relative,
                                                                               patterns):
            yield relative


def include_owner(include: str, table: dict[str, set[str]], proto_roots: set[str]) -> str | None:
    """The project directory an include path belongs to; None for a library's header
    or a path relative to the including file."""
    first = include.split("/", 1)[0]
    if "/" not in include:
        return None
    if first in table:
        return first
    if first in proto_roots:  # generated from proto/<first>/...: "shoal/v1/x.pb.h"
        return "proto"
    return None


def check(root: Path, table: dict[str, set[str]]) -> tuple[list[str], int]:
    """The violations, and how many files were checked."""
    proto_dir = root / "proto"
    proto_roots = set()
    if proto_dir.is_dir():
        proto_roots = {p.name for p in proto_dir.iterdir() if p.is_dir()}
    violations, checked = [], 0
    unlisted = set()
    for relative in code_files(root, ignore_patterns(root)):
        checked += 1
        if len(relative.parts) == 1:
            violations.append(f"{relative} is code outside any directory of {TABLE}")
            continue
        directory = relative.parts[0]
        if directory not in table:
            if directory not in unlisted:
                unlisted.add(directory)
                violations.append(f"{directory}/ has code ({relative}) but no row in {TABLE}")
            continue
        text = (root / relative).read_text(errors="replace")
        if relative.suffix == ".proto":
            for target in IMPORT.findall(text):
                if target.startswith("google/protobuf/"):
                    continue
                if not (proto_dir / target).is_file():
                    violations.append(f"{relative} imports {target}, which is not under proto/")
                elif directory != "proto" and "proto" not in table[directory]:
                    violations.append(f"{relative} imports {target} (proto/)")
            continue
        for include in INCLUDE.findall(text):
            owner = include_owner(include, table, proto_roots)
            if owner is not None and owner != directory and owner not in table[directory]:
                violations.append(f"{relative} includes {include} ({owner}/)")
    return violations, checked


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--root", type=Path, default=REPO, help="the tree to check")
    args = parser.parse_args()
    try:
        table = read_table(args.root / TABLE)
    except (OSError, TableError) as error:
        print(f"layering table error: {error}")
        return 2
    violations, checked = check(args.root, table)
    for v in violations:
        print(f"layering violation: {v}")
    print(f"checked {checked} files in the {len(table)} directories of {TABLE}")
    print(f"checked include directions: {len(violations)} violations")
    return 1 if violations else 0


if __name__ == "__main__":
    sys.exit(main())
