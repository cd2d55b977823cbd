"""Files that other readers and processes share, written so that none of them ever sees half of one.

May import the standard library only.

    replace_atomically(graph, lambda temp: export_to(temp))
    write_atomically(registry, json.dumps(folders))
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from pathlib import Path


def replace_atomically(path: Path, write: Callable[[Path], None]) -> None:
    """Let ``write`` fill a temporary name beside ``path``, then rename it over: readers see the old file
    or the new one, never half of one, a crash leaves the old file whole, and two processes writing at
    once both succeed (the last rename wins). The temporary file does not outlive a failed write."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temp = path.with_name(f".{path.name}.{os.getpid()}.{threading.get_ident()}.tmp")
    try:
        write(temp)
        os.replace(temp, path)
    finally:
        temp.unlink(missing_ok=True)


def write_atomically(path: Path, text: str) -> None:
    """``text`` into ``path`` through ``replace_atomically``, flushed to disk before the rename."""
    def write(temp: Path) -> None:
        with open(temp, "w", encoding="utf-8") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())

    replace_atomically(path, write)
