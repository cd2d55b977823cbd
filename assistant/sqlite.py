"""One way to open the advisor's SQLite stores, safe for several threads and processes on a machine.

WAL lets readers proceed while one process writes; the busy timeout makes concurrent writers wait
for each other instead of failing, which is what keeps feedback, audit, review and progress writes
lossless. Switching a new file to WAL does not always wait on the busy timeout (it answers "database
is locked" at once when processes start together), so ``initialise`` retries until the winner is done.
"""

from __future__ import annotations

import sqlite3
import time
from contextlib import closing
from pathlib import Path

BUSY_TIMEOUT_S = 30.0


def connect(path: Path, timeout: float = BUSY_TIMEOUT_S) -> sqlite3.Connection:
    path.parent.mkdir(parents=True, exist_ok=True)
    conn = sqlite3.connect(path, timeout=timeout, isolation_level=None)
    conn.execute(f"pragma busy_timeout={int(timeout * 1000)}")
    return conn


def initialise(path: Path, statements: list[str] | tuple[str, ...], timeout: float = BUSY_TIMEOUT_S) -> None:
    """Switch the file to WAL and run the schema statements (each idempotent: 'if not exists')."""
    deadline = time.monotonic() + timeout
    while True:
        with closing(connect(path, timeout)) as conn:
            try:
                conn.execute("pragma journal_mode=wal")
                for statement in statements:
                    conn.execute(statement)
                return
            except sqlite3.OperationalError as exc:
                if ("locked" not in str(exc) and "busy" not in str(exc)) or time.monotonic() > deadline:
                    raise
        time.sleep(0.05)
