"""Start the real app in a subprocess on a free loopback port, for gradio_client and browser tests."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from contextlib import contextmanager
from pathlib import Path

from .conftest import ROOT


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def running_app(knowledge: Path, data: Path, extra_env: dict | None = None, timeout: float = 240, warm: bool = False):
    """``warm``: also wait for the log's "warm-up:" line (the app embeds every quotable sentence in the
    background after start); tests that drive a browser through many answers do, as the benchmarks do."""
    port = free_port()
    env = {**os.environ, "ADVISOR_KNOWLEDGE_DIR": str(knowledge), "ADVISOR_DATA_DIR": str(data),
           "ADVISOR_PORT": str(port), "ADVISOR_HOST": "127.0.0.1", **(extra_env or {})}
    log = open(data.parent / f"app-{port}.log", "w")
    proc = subprocess.Popen([sys.executable, str(ROOT / "app.py")], env=env, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}/"
    try:
        deadline = time.monotonic() + timeout
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"app exited with {proc.returncode}: {(data.parent / f'app-{port}.log').read_text()[-2000:]}")
            try:
                with urllib.request.urlopen(url + "gradio_api/info", timeout=2):
                    break
            except urllib.error.HTTPError:
                break  # answering, behind a login
            except Exception:
                if time.monotonic() > deadline:
                    raise TimeoutError(f"app did not start in {timeout} s")
                time.sleep(0.5)
        while warm and "warm-up:" not in (data.parent / f"app-{port}.log").read_text(errors="replace"):
            if proc.poll() is not None or time.monotonic() > deadline + timeout:
                raise TimeoutError("the app did not finish its warm-up")
            time.sleep(0.5)
        yield url, proc, data.parent / f"app-{port}.log"
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()
