"""The cost curve: what retrieval costs as the collection grows to 10k, 100k and 1M chunks.

    .venv/bin/python -m bench.scale                      # embedded 10k, 100k, 1M; server 10k, 100k
    .venv/bin/python -m bench.scale --sizes 10000 --server-sizes 10000 --queries 30   # a quick look

Per size: add throughput, query p50/p95 (dense, BM25, hybrid, dense and hybrid with a metadata filter),
the keyword index's build time, resident memory of a fresh process holding the store and the keyword
index, and disk; every figure beside a same-run baseline (chromadb's own add and query, bm25s on the
same texts). Vectors are synthetic and text is SciFact recombined (see ``bench.scale_data``).

Order: embedded sizes up to the largest server size, then the server sizes, then the larger embedded
sizes, so the one long step (1M) runs once, last. A step that would run past ``--step-minutes`` stops
growing at a batch boundary and is measured at the size it reached; a step that runs the machine low
on memory is stopped by a guard; both are recorded and end that mode's curve. The JSON is rewritten
after every step, so an interrupted run keeps what it measured.
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
import urllib.request
from pathlib import Path
from typing import Any

from bench.common import PYTHON, REPO, SCIFACT, free_port, machine, now_iso, versions
from bench.scale_data import BATCH
from bench.scale_report import plot, table

DEFAULT_SCIFACT = next((p for p in (SCIFACT, REPO.parents[1] / "shared" / "benchmarks" / "scifact",
                                    Path("/work/shared/benchmarks/scifact")) if p.is_dir()), SCIFACT)


def loadavg() -> float:
    return float(Path("/proc/loadavg").read_text().split()[0])


def disk_mib(path: Path) -> float:
    """Blocks actually allocated (sparse files count as what they use)."""
    total = 0
    for root, _, files in os.walk(path):
        for name in files:
            try:
                total += os.lstat(os.path.join(root, name)).st_blocks * 512
            except OSError:
                pass
    return total / 2**20


def proc_memory(pid: int) -> dict[str, float]:
    out = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(("VmRSS", "VmHWM")):
            out[line.split(":")[0]] = int(line.split()[1]) / 1024
    return out


class ChromaServer:
    """``chroma run`` (shipped with chromadb) on a free loopback port, for the server steps."""

    def __init__(self, path: Path, log: Path) -> None:
        self.path, self.log, self.port = path, log, free_port()
        self.proc: subprocess.Popen | None = None

    def __enter__(self) -> "ChromaServer":
        chroma = Path(PYTHON).with_name("chroma")
        with open(self.log, "a") as log:
            self.proc = subprocess.Popen([str(chroma), "run", "--path", str(self.path), "--host", "127.0.0.1",
                                          "--port", str(self.port)], stdout=log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 120
        while True:
            if self.proc.poll() is not None:
                raise RuntimeError(f"chroma run exited with {self.proc.returncode}; see {self.log}")
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/api/v2/heartbeat", timeout=2):
                    return self
            except OSError:
                if time.monotonic() > deadline:
                    raise TimeoutError(f"chroma run did not answer in 120 s; see {self.log}")
                time.sleep(0.3)

    def __exit__(self, *exc: object) -> None:
        if self.proc is not None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


def child(args: argparse.Namespace, step: str, where: list[str], out: Path, **extra: Any) -> dict[str, Any]:
    """Run one grow or measure step in a fresh process; its JSON, or what it left when it failed."""
    cmd = [PYTHON, "-m", "bench.scale_measure", step, "--out", str(out), "--scifact", str(args.scifact),
           "--min-free-gib", str(args.min_free_gib), *where]
    for key, value in extra.items():
        cmd += [f"--{key.replace('_', '-')}", str(value)]
    done = subprocess.run(cmd, cwd=REPO, capture_output=True, text=True)
    result = json.loads(out.read_text()) if out.exists() else {}
    if done.returncode != 0:
        result.setdefault("stopped", f"{step} process exited with {done.returncode}: {done.stderr.strip()[-800:]}")
    return result


def run_step(args: argparse.Namespace, mode: str, size: int, where: list[str], store_dir: Path,
             server: ChromaServer | None) -> dict[str, Any]:
    step: dict[str, Any] = {"mode": mode, "size": size, "started": now_iso(), "load_start": loadavg()}
    tag = f"{mode}-{size}"
    print(f"[{now_iso()}] {tag}: growing (load {step['load_start']:.1f})", flush=True)
    deadline = time.time() + args.step_minutes * 60
    step["grow"] = child(args, "grow", where, args.work / f"grow-{tag}.json", target=size, deadline=deadline)
    step["grow_s"] = sum(b["seconds"] for b in step["grow"].get("batches", []))
    if "stopped" in step["grow"]:
        step["stopped"] = step["grow"]["stopped"]
    if step["grow"].get("reached", 0) >= BATCH:
        print(f"[{now_iso()}] {tag}: measuring {step['grow']['reached']:,} chunks", flush=True)
        step["measure"] = child(args, "measure", where, args.work / f"measure-{tag}.json", queries=args.queries)
        if "stopped" in step["measure"]:
            step["stopped"] = step["measure"]["stopped"]
    step["disk_mib"] = disk_mib(store_dir)
    if server is not None and server.proc is not None:
        step["server_memory"] = proc_memory(server.proc.pid)
    step["load_end"] = loadavg()
    return step


def run_mode(args: argparse.Namespace, mode: str, sizes: list[int], report: dict[str, Any]) -> None:
    store_dir = args.work / f"{mode}-chroma"
    if mode == "embedded":
        where, server = ["--chroma-path", str(store_dir)], None
    else:
        server = ChromaServer(store_dir, args.work / "chroma-server.log").__enter__()
        where = ["--host", "127.0.0.1", "--port", str(server.port)]
    try:
        for size in sizes:
            if any(s["mode"] == mode and "stopped" in s for s in report["steps"]):
                break  # a curve that stopped does not go on to larger sizes
            if any(s["mode"] == mode and s["size"] == size and s.get("measure") for s in report["steps"]):
                continue  # measured by the run this one resumes
            report["steps"].append(run_step(args, mode, size, where, store_dir, server))
            save(args, report)
    finally:
        if server is not None:
            server.__exit__()


def save(args: argparse.Namespace, report: dict[str, Any]) -> None:
    report["finished"] = now_iso()
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(report, indent=1))
    if args.plot:
        plot(report, args.plot)


def sizes_arg(text: str) -> list[int]:
    sizes = sorted({int(s.replace("_", "").replace(",", "")) for s in text.split() if s})
    bad = [s for s in sizes if s <= 0 or s % BATCH]
    if bad:
        raise argparse.ArgumentTypeError(f"sizes must be positive multiples of {BATCH} (got {bad})")
    return sizes


def parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=sizes_arg, default=[10_000, 100_000, 1_000_000], help="embedded sizes, e.g. '10000 100000'")
    parser.add_argument("--server-sizes", type=sizes_arg, default=[10_000, 100_000], help="Chroma server sizes")
    parser.add_argument("--queries", type=int, default=100, help="timed questions per size (SciFact train queries)")
    parser.add_argument("--step-minutes", type=float, default=150, help="time budget for growing one step")
    parser.add_argument("--min-free-gib", type=float, default=3.0, help="stop a step when MemAvailable falls below")
    parser.add_argument("--scifact", type=Path, default=DEFAULT_SCIFACT)
    parser.add_argument("--json", type=Path, default=Path("/tmp/scale.json"))
    parser.add_argument("--plot", type=Path, default=REPO / "docs" / "screenshots" / "scale.png")
    parser.add_argument("--work", type=Path, default=None, help="where the stores go (default: a new temp folder, removed at the end)")
    parser.add_argument("--resume", action="store_true",
                        help="keep the steps already in --json and grow the stores in --work further (e.g. 100k -> 1M later)")
    args = parser.parse_args(argv)
    if args.resume and args.work is None:
        parser.error("--resume needs --work DIR: the folder holding the stores of the run it resumes")
    if not (args.scifact / "corpus.jsonl").is_file():
        parser.error(f"no SciFact corpus at {args.scifact}; pass --scifact DIR (the BEIR scifact folder)")
    args.own_work = args.work is None
    args.work = args.work or Path(tempfile.mkdtemp(prefix="advisor-scale-"))
    args.work.mkdir(parents=True, exist_ok=True)
    return args


def main(argv: list[str] | None = None) -> None:
    args = parse(argv)
    run = {"started": now_iso(), "machine": machine(), "versions": versions(), "argv": sys.argv[1:],
           "work": str(args.work), "batch": BATCH}
    if args.resume and args.json.is_file():
        report = json.loads(args.json.read_text())
        report["meta"].setdefault("resumed", []).append(run)
    else:
        report = {"meta": run, "steps": []}
    small = [s for s in args.sizes if s <= max(args.server_sizes, default=0)]
    run_mode(args, "embedded", small, report)
    run_mode(args, "server", args.server_sizes, report)
    run_mode(args, "embedded", [s for s in args.sizes if s not in small], report)
    save(args, report)
    print(table(report))
    if args.own_work:
        shutil.rmtree(args.work, ignore_errors=True)
    print(f"\nJSON: {args.json}   plot: {args.plot}" + ("" if args.own_work else f"   stores kept in {args.work}"))


if __name__ == "__main__":
    main()
