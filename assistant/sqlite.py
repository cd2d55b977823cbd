"""One way to open the advisor's SQLite stores, safe for several threads and processes on a machine.

WAL lets readers proceed while one process writes; the busy timeout makes concurrent writers wait
for each other instead of failing, which is what keeps feedback, audit, review and progress writes
lossless. Switching a new file to WAL does not always wait on the busy timeout (it answers "database
is locked" at once when processes start together), so ``initialise`` retries until the winner is done.
"""

from __future__ import annotations

import os
import sqlite3
import threading
import time
from collections.abc import Iterator
from contextlib import closing, contextmanager
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


def _identity(path: Path) -> tuple[int, int] | None:
    try:
        st = os.stat(path)
    except OSError:
        return None
    return st.st_dev, st.st_ino


class ThreadConnections:
    """One open connection per thread to one file, for stores written on every answer.

    >>> connections = ThreadConnections(settings.audit_path)
    >>> with connections.use() as conn:
    ...     conn.execute("insert into audit ...")

    Opening and closing a connection per write cost about 5 ms (closing the last connection to a WAL
    file checkpoints it), a tenth of an answer's time under load. A kept connection is dropped after
    any error and whenever the file on disk is no longer the one it opened (moved, deleted, restored
    from a backup), so a write never lands in a file nobody reads.
    """

    def __init__(self, path: Path, timeout: float = BUSY_TIMEOUT_S) -> None:
        self.path = path
        self.timeout = timeout
        self._local = threading.local()

    @contextmanager
    def use(self) -> Iterator[sqlite3.Connection]:
        conn: sqlite3.Connection | None = getattr(self._local, "conn", None)
        if conn is not None and getattr(self._local, "identity", None) != _identity(self.path):
            self._drop()
            conn = None
        if conn is None:
            conn = connect(self.path, self.timeout)
            self._local.conn, self._local.identity = conn, _identity(self.path)
        try:
            yield conn
        except BaseException:
            self._drop()
            raise

    def _drop(self) -> None:
        conn = getattr(self._local, "conn", None)
        self._local.conn = None
        if conn is not None:
            try:
                conn.close()
            except sqlite3.Error:
                pass
