#!/usr/bin/env python3
"""Draws serving results as a PNG: output tokens/s, TTFT p50 and p99, and TPOT p50
against concurrency (closed-loop levels) and, in a second row, against request rate
(open-loop runs), one line per target.

  .venv/bin/python bench/plot.py RESULT.json [MORE.json ...] --out plot.png [--title T]

Each file is either bench/compare.py's --json (its "runs", one line per server: shoal,
llama.cpp, ...) or a single `shoal bench --json` report (one point, named after its
target; a `--ramp-rates` report gives one point per stage; `shoal bench --plot` draws its
own report this way); points of the same target from several files join into one line. With several
compare.py files, each line's name starts with its file's name. Needs matplotlib
(scripts/requirements.txt).
"""
import argparse
import json
import sys
from pathlib import Path


def points(path, data, prefix):
    """(series name, kind, x, summary) of every report in one file's JSON; kind is
    "concurrency" or "rate"."""
    if "runs" in data:  # bench/compare.py
        for run in data["runs"]:
            name = f"{prefix}{run['server']}"
            summary = run["report"]["summary"]
            if run.get("request_rate") is not None:
                yield name, "rate", float(run["request_rate"]), summary
            else:
                yield name, "concurrency", float(run["concurrency"]), summary
    elif "ramp" in data:  # shoal bench --ramp-rates: one point per stage
        name = f"{data.get('target', path.stem)} {data.get('model', '')}".strip()
        for stage in data["ramp"]["stages"]:
            yield name, "rate", float(stage["rate"]), stage["summary"]
    elif "summary" in data:  # one shoal bench report
        load = data.get("load", {})
        rate = load.get("request_rate")
        name = f"{data.get('target', path.stem)} {data.get('model', '')}".strip()
        if isinstance(rate, (int, float)):
            yield name, "rate", float(rate), data["summary"]
        else:
            yield name, "concurrency", float(load.get("concurrency", 0)), data["summary"]
    else:
        raise ValueError(f"{path}: neither a compare.py nor a shoal bench report")


def plot(files, out, title=None):
    """files: [(path, parsed JSON)]; writes the PNG to out."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    several = sum("runs" in data for _, data in files) > 1
    series = {}  # (kind, name) -> {x: summary}
    for path, data in files:
        prefix = f"{Path(path).stem}: " if several and "runs" in data else ""
        for name, kind, x, summary in points(Path(path), data, prefix):
            series.setdefault((kind, name), {})[x] = summary
    kinds = [k for k in ("concurrency", "rate") if any(kind == k for kind, _ in series)]
    if not kinds:
        raise ValueError("no runs to plot")
    panels = [("output tokens/s", lambda s: s["output_tokens_per_s"], [("", None)]),
              ("TTFT (s)", None, [("p50", "-"), ("p99", "--")]),
              ("TPOT p50 (ms)", lambda s: s["tpot_s"]["p50"] * 1e3, [("", None)])]
    fig, axes = plt.subplots(len(kinds), len(panels), figsize=(5 * len(panels), 4 * len(kinds)),
                             squeeze=False)
    colors = {}
    for row, kind in enumerate(kinds):
        for col, (ylabel, value, styles) in enumerate(panels):
            ax = axes[row][col]
            for (k, name), by_x in series.items():
                if k != kind:
                    continue
                color = colors.setdefault(name, f"C{len(colors) % 10}")
                xs = sorted(by_x)
                for suffix, style in styles:
                    if value is None:  # TTFT at a percentile
                        ys = [by_x[x]["ttft_s"][suffix] for x in xs]
                    else:
                        ys = [value(by_x[x]) for x in xs]
                    ax.plot(xs, ys, linestyle=style or "-", marker="o", color=color,
                            label=f"{name} {suffix}".strip())
            if kind == "concurrency":
                ax.set_xscale("log", base=2)
                ax.set_xlabel("concurrent streams")
            else:
                ax.set_xlabel("request rate (requests/s, open loop)")
            ax.xaxis.set_major_formatter(matplotlib.ticker.FuncFormatter(lambda v, _: f"{v:g}"))
            ax.set_ylabel(ylabel)
            ax.set_ylim(bottom=0)
            ax.grid(True, alpha=0.3)
            ax.legend(fontsize="small")
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    fig.savefig(out, dpi=120)
    plt.close(fig)


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("files", nargs="+", type=Path, help="compare.py or shoal bench JSON files")
    p.add_argument("--out", type=Path, required=True, help="the PNG to write")
    p.add_argument("--title")
    args = p.parse_args()
    files = [(path, json.loads(path.read_text())) for path in args.files]
    title = args.title
    if title is None:
        models = {Path(d["model"]).name for _, d in files if "runs" in d and d.get("model")}
        title = ", ".join(sorted(models)) or None
    plot(files, args.out, title)
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
