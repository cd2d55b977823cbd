"""How long a big client book takes, and how much memory: ``python -m bench.book_scale [--rows 1000000]``.

Writes a synthetic book with the 17 columns of the UCI Bank Marketing sample (same names, separator
and value kinds; distributions set near the sample's, nothing copied from it) into a temp folder,
in chunks, then runs ``segment_book`` on it exactly as ``advisor segment --no-cite`` does (citations
add a fixed few seconds per book, not per row). Baseline in the same run: ``pandas.read_csv`` of
the same file. Peak memory is the process's VmHWM from /proc, read after each step; the file is
generated in chunks first so it does not count. CPU seconds and the 1-minute load average are printed
beside the wall time, because the machine is shared. Prints one JSON line per figure; nothing asserts.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

REPO = Path(__file__).resolve().parent.parent
JOBS = ["management", "blue-collar", "technician", "admin.", "services", "retired", "self-employed", "entrepreneur",
        "unemployed", "housemaid", "student", "unknown"]
JOB_SHARE = [0.21, 0.21, 0.17, 0.11, 0.09, 0.05, 0.04, 0.04, 0.03, 0.025, 0.02, 0.005]
MONTHS = ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"]


def synthetic_chunk(n: int, rng: np.random.Generator) -> pd.DataFrame:
    """n clients shaped like bank.csv, drawn from four kinds of client (young, older savers, heavily
    contacted, contacted before) with ~8% overdrawn and ~2% in default across them, so the book has
    the kind of structure a real one has rather than independent columns."""
    kind = rng.choice(4, n, p=[0.42, 0.26, 0.17, 0.15])
    age = np.where(kind == 1, rng.normal(55, 7, n), np.where(kind == 0, rng.normal(33, 5, n), rng.normal(41, 9, n)))
    level = np.where(kind == 1, 7.8, np.where(kind == 3, 7.3, 6.8))
    overdrawn = rng.random(n) < 0.08
    balance = np.where(overdrawn, -rng.lognormal(5.8, 1.0, n), np.where(rng.random(n) < 0.08, 0, rng.lognormal(level, 1.2)))
    campaign = np.where(kind == 2, 4 + rng.geometric(0.2, n), rng.geometric(0.55, n))
    contacted = kind == 3
    outcome = np.where(contacted, rng.choice(["failure", "other", "success"], n, p=[0.6, 0.24, 0.16]), "unknown")
    took = rng.random(n) < np.where(contacted, 0.3, np.where(kind == 2, 0.06, 0.09))
    yes = lambda mask: np.where(mask, "yes", "no")  # noqa: E731
    return pd.DataFrame({
        "age": np.clip(age, 18, 95).astype(int), "job": rng.choice(JOBS, n, p=JOB_SHARE),
        "marital": rng.choice(["married", "single", "divorced"], n, p=[0.62, 0.265, 0.115]),
        "education": rng.choice(["secondary", "tertiary", "primary", "unknown"], n, p=[0.51, 0.3, 0.15, 0.04]),
        "default": yes(rng.random(n) < 0.017), "balance": np.round(balance).astype(int),
        "housing": yes(rng.random(n) < np.where(kind == 1, 0.42, 0.62)), "loan": yes(rng.random(n) < 0.15),
        "contact": rng.choice(["cellular", "unknown", "telephone"], n, p=[0.64, 0.29, 0.07]),
        "day": rng.integers(1, 32, n), "month": rng.choice(MONTHS, n), "duration": rng.lognormal(5.2, 0.8, n).astype(int),
        "campaign": np.minimum(campaign, 50), "pdays": np.where(contacted, rng.integers(1, 400, n), -1),
        "previous": np.where(contacted, np.minimum(rng.geometric(0.35, n), 25), 0), "poutcome": outcome, "y": yes(took)})


def write_book(path: Path, rows: int, seed: int = 7, chunk: int = 100_000) -> None:
    rng = np.random.default_rng(seed)
    for start in range(0, rows, chunk):
        part = synthetic_chunk(min(chunk, rows - start), rng)
        part.to_csv(path, sep=";", index=False, header=start == 0, mode="w" if start == 0 else "a")


def peak_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def baseline(book: Path) -> tuple[float, float]:
    """pandas.read_csv of the whole file in a fresh process: (seconds, that process's peak memory in MB)."""
    code = ("import time, pandas as pd; from bench.book_scale import peak_mb; t = time.perf_counter(); "
            f"pd.read_csv({str(book)!r}, sep=';'); print(time.perf_counter() - t, peak_mb())")
    out = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, check=True).stdout.split()
    return float(out[0]), float(out[1])


def run(rows: int, keep: Path | None) -> list[dict]:
    from assistant.clients.book import segment_book
    from assistant.clients.book_actions import load_actions
    from assistant.clients.book_io import load_columns
    from assistant.clients.rules import rules_for

    data = REPO / "knowledge" / "data"
    folder = Path(tempfile.mkdtemp(prefix="book-scale-"))
    try:
        book = folder / "book.csv"
        started = time.perf_counter()
        write_book(book, rows)
        made = time.perf_counter() - started
        before = peak_mb()
        load = os.getloadavg()[0]
        cpu = time.process_time()
        marks: list[tuple[float, str]] = []
        started = time.perf_counter()
        report = segment_book(book, rules_for(data), load_columns(data / "book_columns.yaml"), folder / "out",
                              actions=load_actions(data / "book_actions.yaml"),
                              progress=lambda f, m: marks.append((time.perf_counter() - started, m)))
        total = time.perf_counter() - started
        cpu = time.process_time() - cpu
        peak = peak_mb()
        read_s, read_peak = baseline(book)
        phases = {m.split(" ")[0]: round(t, 1) for t, m in marks if m.startswith(("clustering", "naming", "writing", "drawing", "done"))}
        if keep:
            shutil.copytree(folder / "out", keep, dirs_exist_ok=True)
        return [
            {"figure": "segment_book", "rows": rows, "file_mb": round(book.stat().st_size / 2**20, 1), "seconds": round(total, 1),
             "cpu_seconds": round(cpu, 1), "load_average_1min": [round(load, 1), round(os.getloadavg()[0], 1)], "peak_memory_mb": round(peak, 0), "peak_before_mb": round(before, 0), "phases_s": phases, "k": report.k, "segments": len(report.segments),
             "silhouette": report.silhouette, "stability_ari": report.stability_ari, "rejected": report.rejected,
             "labels": [s.label for s in report.segments]},
            {"figure": "baseline pandas.read_csv (whole file, default dtypes)", "seconds": round(read_s, 1),
             "peak_memory_mb": round(read_peak, 0), "ratio": round(total / read_s, 1)},
            {"figure": "writing the synthetic file (not timed above)", "seconds": round(made, 1)},
        ]
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--keep", type=Path, default=None, help="Copy the outputs (not the book) to this folder.")
    args = parser.parse_args()
    for row in run(args.rows, args.keep):
        print(json.dumps(row, ensure_ascii=False))


if __name__ == "__main__":
    main()
