"""Run every benchmark and print one table: ``.venv/bin/python -m bench.run [--quick] [--json OUT]``.

Each figure stands beside a baseline measured in the same run (ratio = value / baseline). Goals are
shown and marked met or not as information; nothing here fails on a time. The exit code is 1 only
when a section could not run at all.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
import traceback
from pathlib import Path

from .common import Ctx, Row, error_row, fmt_number, machine, now_iso, versions

SECTIONS = ("ingest", "reingest", "qa", "plans", "quality", "coldstart", "restart", "users", "memory")


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def loadavg() -> str:
    return Path("/proc/loadavg").read_text().split()[0]


def run_section(name: str, ctx: Ctx, timing: dict) -> list[Row]:
    import importlib

    module = importlib.import_module(f"bench.{name}")
    started = time.perf_counter()
    load_start = loadavg()
    log(f"{name}: start")
    try:
        rows = module.run(ctx)
    except Exception as exc:  # a broken section is reported, the others still run
        traceback.print_exc()
        rows = [error_row(name, exc)]
    seconds = time.perf_counter() - started
    timing[name] = {"seconds": round(seconds, 1), "load_start": load_start, "load_end": loadavg()}
    log(f"{name}: done in {seconds:.0f} s")
    return rows


def table(rows: list[Row]) -> str:
    head = ("figure", "value", "baseline", "ratio", "goal", "met")
    body = []
    for r in rows:
        if r.error:
            body.append((r.name, "ERROR", r.error[:60], "", "", ""))
            continue
        baseline = f"{fmt_number(r.baseline, r.baseline_unit)} ({r.baseline_name})" if r.baseline is not None else "-"
        met = {True: "yes", False: "NO", None: ""}[r.met]
        body.append((r.name, fmt_number(r.value, r.unit), baseline,
                     "-" if r.ratio is None else f"{r.ratio:.2f}x", r.goal_text(), met))
    widths = [max(len(str(x[i])) for x in [head, *body]) for i in range(len(head))]
    line = "  ".join("-" * w for w in widths)
    out = ["  ".join(str(h).ljust(w) for h, w in zip(head, widths)), line]
    section = None
    for r, cells in zip(rows, body):
        if section is not None and r.section != section:
            out.append("")
        section = r.section
        out.append("  ".join(str(c).ljust(w) for c, w in zip(cells, widths)).rstrip())
    notes = [f"  - {r.name}: {r.note}" for r in rows if r.note]
    return "\n".join(out + (["", "notes:"] + notes if notes else []))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.run", description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true",
                        help="one run of each expensive figure, every third golden question, no SciFact")
    parser.add_argument("--json", type=Path, metavar="OUT", help="also write every figure, run and setting to OUT")
    parser.add_argument("--only", metavar="SECTIONS", help=f"comma-separated subset of {','.join(SECTIONS)}")
    args = parser.parse_args(argv)
    chosen = SECTIONS if not args.only else tuple(s.strip() for s in args.only.split(",") if s.strip())
    unknown = [s for s in chosen if s not in SECTIONS]
    if unknown:
        parser.error(f"unknown section(s) {unknown}; choose from {', '.join(SECTIONS)}")

    ignored = sorted(k for k in os.environ if k.startswith("ADVISOR_"))
    for key in ignored:  # results must not depend on whoever ran it last with which variables
        del os.environ[key]
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    os.environ["GRADIO_ANALYTICS_ENABLED"] = "False"

    meta = {"started": now_iso(), "quick": args.quick, "sections": list(chosen), "machine": machine(),
            "versions": versions(), "argv": sys.argv, "ignored_env": ignored}
    log(f"bench: {'quick' if args.quick else 'full'} run of {', '.join(chosen)}; machine {meta['machine']['nproc']} "
        f"cores, {meta['machine']['mem_total_gib']} GiB, load {' '.join(meta['machine']['loadavg'])}")
    ctx = Ctx(quick=args.quick, log=log)
    started = time.perf_counter()
    rows: list[Row] = []
    timing: dict[str, dict] = {}
    meta["section_timing"] = timing
    try:
        for name in chosen:
            rows += run_section(name, ctx, timing)
    finally:
        ctx.close()
    meta["finished"] = now_iso()
    meta["seconds"] = round(time.perf_counter() - started, 1)
    meta["loadavg_end"] = machine()["loadavg"]

    m = meta["machine"]
    print(f"\nStrategy Advisor benchmarks, {meta['started']} ({'quick' if args.quick else 'full'} run, "
          f"{meta['seconds']:.0f} s)")
    print(f"machine: {m['nproc']} cores ({m['cpu_model']}), {m['mem_total_gib']} GiB RAM, Python {m['python']}; "
          f"load average {' '.join(m['loadavg'])} at start, {' '.join(meta['loadavg_end'])} at end")
    v = meta["versions"]
    print("versions: " + ", ".join(f"{k} {v[k]}" for k in ("torch", "sentence-transformers", "chromadb",
                                                            "langchain-chroma", "gradio", "bm25s")))
    print("sections (wall time, 1-min load average at start -> end): " + ", ".join(
        f"{k} {t['seconds']:.0f} s ({t['load_start']} -> {t['load_end']})" for k, t in timing.items()))
    print()
    print(table(rows))
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps({"meta": meta, "rows": [r.as_json() for r in rows]}, indent=2, default=str))
        print(f"\nwrote {args.json}")
    return 1 if any(r.error for r in rows) else 0


if __name__ == "__main__":
    sys.exit(main())
