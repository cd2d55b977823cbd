"""Files handed to the browser (plan DOCX and Markdown): they name the client, so they do not stay.

Each download gets its own folder under one temporary root; a folder is removed once it is older
than ``max_age`` seconds (checked on a timer and whenever a new download is made), and the whole
root goes when the app exits. A process killed with SIGKILL runs no exit hook, so its root carries its
PID and the next app to start removes the roots of processes that are gone.
"""

from __future__ import annotations

import atexit
import os
import shutil
import tempfile
import threading
import time
from pathlib import Path


PREFIX = "advisor-downloads-"


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's process: alive
        return True
    return True


def sweep_orphans(temp_dir: Path | None = None) -> int:
    """Remove the download roots of app processes that no longer run (killed, so no exit hook ran)."""
    removed = 0
    for path in Path(temp_dir or tempfile.gettempdir()).glob(f"{PREFIX}*"):
        pid = path.name[len(PREFIX):].split("-", 1)[0]
        if pid.isdigit() and path.is_dir() and not _alive(int(pid)):
            shutil.rmtree(path, ignore_errors=True)
            removed += 1
    return removed


class Downloads:
    """A self-cleaning folder for files a user downloads.

    >>> downloads = Downloads(max_age=3600)
    >>> path = downloads.folder() / "plan-acme.docx"   # gone after an hour, or when the app exits
    """

    def __init__(self, max_age: float = 3600.0, root: Path | None = None, temp_dir: Path | None = None) -> None:
        self.max_age = max_age
        if root is None:
            sweep_orphans(temp_dir)
        self.root = root or Path(tempfile.mkdtemp(prefix=f"{PREFIX}{os.getpid()}-", dir=temp_dir))
        self.root.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        atexit.register(self.remove_all)

    def folder(self) -> Path:
        """A fresh folder for one download; older ones past their age are swept first."""
        self.sweep()
        with self._lock:
            path = Path(tempfile.mkdtemp(dir=self.root))
        timer = threading.Timer(self.max_age + 1, self.sweep)
        timer.daemon = True
        timer.start()
        return path

    def sweep(self, now: float | None = None) -> int:
        """Remove the download folders older than ``max_age``; returns how many went."""
        now = time.time() if now is None else now
        removed = 0
        with self._lock:
            for path in self.root.iterdir() if self.root.exists() else []:
                try:
                    old = now - path.stat().st_mtime > self.max_age
                except FileNotFoundError:
                    continue
                if old:
                    shutil.rmtree(path, ignore_errors=True) if path.is_dir() else path.unlink(missing_ok=True)
                    removed += 1
        return removed

    def remove_all(self) -> None:
        with self._lock:
            shutil.rmtree(self.root, ignore_errors=True)
