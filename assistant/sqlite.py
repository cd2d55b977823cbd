"""One way to open the advisor's SQLite stores, safe for several threads and processes on a machine.

WAL lets readers proceed while one process writes; the busy timeout makes concurrent writers wait
for each other instead of failing, which is what keeps feedback, audit and review writes lossless.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path


def connect(path: Path) -> sqlite3.Connection:
    path.parent.mkdir(parents=True, exist_ok=True)
    conn = sqlite3.connect(path, timeout=30, isolation_level=None)
    conn.execute("pragma journal_mode=wal")
    conn.execute("pragma busy_timeout=30000")
    return conn
