"""The cost curve as Markdown tables and a log-log plot, from the JSON ``bench.scale`` writes.

    .venv/bin/python -m bench.scale_report /tmp/scale.json [--plot docs/screenshots/scale.png]
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

MODES = ("dense", "bm25", "hybrid", "dense+filter", "hybrid+filter")
LABELS = {"dense": "dense", "bm25": "BM25", "hybrid": "hybrid", "dense+filter": "dense + filter",
          "hybrid+filter": "hybrid + filter"}


def _measured(report: dict[str, Any]) -> list[dict[str, Any]]:
    return [s for s in report["steps"] if s.get("measure", {}).get("modes")]


def _n(x: float | None, digits: int = 0) -> str:
    if x is None:
        return "-"
    return f"{x:,.{digits}f}" if x >= 10 or digits == 0 else f"{x:.{max(digits, 1)}f}"


def _ms(x: float) -> str:
    return f"{x:.1f}" if x < 100 else f"{x:,.0f}"


def _size(step: dict[str, Any]) -> str:
    count = step["measure"].get("count", step["size"])
    return f"{count:,}" + ("" if count >= step["size"] else f" (of {step['size']:,})")


def table(report: dict[str, Any]) -> str:
    """Two tables: the advisor's figures (ratio to the bare baseline in brackets), then the baselines."""
    head = ("| store | chunks | add, chunks/s | " + " | ".join(f"{LABELS[m]} p50 / p95 ms" for m in MODES)
            + " | BM25 build s | RSS MiB | disk MiB |")
    lines = [head, "|" + "---|" * (head.count("|") - 1)]
    for s in _measured(report):
        m, g = s["measure"], s.get("grow", {})
        cells = [s["mode"], _size(s), f"{_n(g.get('advisor_chunks_per_s'))} ({_ratio(g.get('advisor_chunks_per_s'), g.get('bare_chunks_per_s'))})"]
        for mode in MODES:
            r = m["modes"][mode]
            cells.append(f"{_ms(r['value_p50_ms'])} / {_ms(r['value_p95_ms'])} ({r['ratio_p50']:.1f}x)")
        cells.append(f"{m['bm25_total_s']:.1f} ({m['bm25_total_s'] / m['bare_bm25_build_s']:.1f}x)")
        cells.append(_n(m["memory_app"]["VmRSS"]) + (f" + server {_n(s['server_memory']['VmRSS'])}"
                                                      if s.get("server_memory") else ""))
        cells.append(_n(s.get("disk_mib")))
        lines.append("| " + " | ".join(cells) + " |")
    lines += ["", "Same-run baselines (bare chromadb `collection.query`/`upsert`, bm25s with its own tokenizer and stemmer):", ""]
    head = ("| store | chunks | bare upsert chunks/s | chromadb query p50 / p95 ms | chromadb filtered query p50 / p95 ms"
            " | bm25s query p50 / p95 ms | bm25s build s | BM25 fetch s / build s | filter share | dense top-5 = chromadb |")
    lines += [head, "|" + "---|" * (head.count("|") - 1)]
    for s in _measured(report):
        m, g = s["measure"], s.get("grow", {})
        b = {mode: m["modes"][mode] for mode in MODES}
        lines.append("| " + " | ".join([
            s["mode"], _size(s), _n(g.get("bare_chunks_per_s")),
            f"{_ms(b['dense']['baseline_p50_ms'])} / {_ms(b['dense']['baseline_p95_ms'])}",
            f"{_ms(b['dense+filter']['baseline_p50_ms'])} / {_ms(b['dense+filter']['baseline_p95_ms'])}",
            f"{_ms(b['bm25']['baseline_p50_ms'])} / {_ms(b['bm25']['baseline_p95_ms'])}",
            f"{m['bare_bm25_build_s']:.1f}", f"{m['bm25_fetch_s']:.1f} / {m['bm25_build_s']:.1f}",
            f"{m['filter_share']:.1%}", f"{m['dense_top5_agreement']:.0%}"]) + " |")
    stops = [f"- {s['mode']} {s['size']:,}: {s['stopped']}" for s in report["steps"] if s.get("stopped")]
    return "\n".join(lines + (["", "Stopped:", *stops] if stops else []))


def _ratio(a: float | None, b: float | None) -> str:
    return "-" if not a or not b else f"{a / b:.2f}x"


def _series(steps: list[dict[str, Any]], mode: str, get) -> tuple[list[int], list[float]]:
    xs, ys = [], []
    for s in steps:
        if s["mode"] != mode:
            continue
        try:
            y = get(s)
        except (KeyError, TypeError):
            continue
        if y:
            xs.append(s["measure"].get("count", s["size"]))
            ys.append(y)
    return xs, ys


def plot(report: dict[str, Any], path: Path) -> None:
    """Three log-log panels: query p95, build and add costs, memory and disk."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    steps = _measured(report)
    if not steps:
        return
    fig, axes = plt.subplots(1, 3, figsize=(16, 5.2))
    styles = {"embedded": "-", "server": "--"}
    for mode in ("embedded", "server"):
        for q in MODES:
            xs, ys = _series(steps, mode, lambda s, q=q: s["measure"]["modes"][q]["value_p95_ms"])
            axes[0].plot(xs, ys, styles[mode], marker="o", label=f"{LABELS[q]} ({mode})")
    for name, key in (("chromadb query", "dense"), ("bm25s query", "bm25")):
        xs, ys = _series(steps, "embedded", lambda s, key=key: s["measure"]["modes"][key]["baseline_p95_ms"])
        axes[0].plot(xs, ys, ":", color="grey", marker="x", label=f"bare {name} (embedded)")
    _panel(axes[0], "query p95 (ms)", "Query latency, p95, k=5 from 30 candidates")
    for mode in ("embedded", "server"):
        for name, get in (("keyword index build s", lambda s: s["measure"]["bm25_total_s"]),
                          ("bare bm25s build s", lambda s: s["measure"]["bare_bm25_build_s"]),
                          ("seconds per 10k added", lambda s: 10_000 / s["grow"]["advisor_chunks_per_s"])):
            xs, ys = _series(steps, mode, get)
            axes[1].plot(xs, ys, styles[mode], marker="o", label=f"{name} ({mode})")
    _panel(axes[1], "seconds", "Keyword index build; adding chunks")
    for mode in ("embedded", "server"):
        for name, get in (("app process RSS", lambda s: s["measure"]["memory_app"]["VmRSS"]),
                          ("Chroma server RSS", lambda s: s["server_memory"]["VmRSS"]),
                          ("disk", lambda s: s["disk_mib"])):
            xs, ys = _series(steps, mode, get)
            axes[2].plot(xs, ys, styles[mode], marker="o", label=f"{name} ({mode})")
    _panel(axes[2], "MiB", "Memory (no embedding model) and disk")
    fig.suptitle("Cost curve: synthetic 384-d vectors, SciFact text recombined (bench/scale.py)")
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)


def _panel(ax, ylabel: str, title: str) -> None:
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("chunks in the collection")
    ax.set_ylabel(ylabel)
    ax.set_title(title, fontsize=10)
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=7)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("json", type=Path)
    parser.add_argument("--plot", type=Path)
    args = parser.parse_args()
    report = json.loads(args.json.read_text())
    print(table(report))
    if args.plot:
        plot(report, args.plot)


if __name__ == "__main__":
    main()
