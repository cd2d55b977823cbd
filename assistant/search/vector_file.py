"""Vectors kept on disk by text hash, so a restarted app answers new questions at the warm speed at once,
and an ingest embeds only passages whose text no earlier ingest embedded (``Embedder.encode_kept``).

An answer scores every quotable sentence of its candidate sections, and embedding them is what a cold
answer costs (minutes of background warm-up for the knowledge base and its Chinese edition on 2 cores). Those vectors
depend only on the model and the text, so they are written here as they are made and read back after a
restart instead of recomputed. One SQLite file per model in the data folder (or ADVISOR_VECTORS_DIR):
several app processes on one machine share it (WAL, one writer at a time), and a lost or broken file only costs time again.

The file holds the vector of a fixed probe sentence from the model that wrote it; a file whose probe
the current model does not reproduce (another model under the same name, another version) is emptied
before use, so a vector from the wrong model is never read.

May import numpy and the standard library only (bottom floor of search).
"""

from __future__ import annotations

import hashlib
import logging
import re
import sqlite3
import threading
from collections.abc import Callable
from pathlib import Path

import numpy as np

log = logging.getLogger(__name__)
_CHUNK = 500  # SQLite's variable limit is far above; this keeps each statement small


def _key(text: str) -> bytes:
    return hashlib.sha1(text.encode("utf-8", "surrogatepass")).digest()


def file_for(folder: Path, model_name: str) -> Path:
    """The cache file of a model: its name made safe for a file name (a local folder path is a valid name)."""
    safe = re.sub(r"[^A-Za-z0-9._-]+", "_", model_name).strip("._") or "model"
    return folder / f"{safe[-80:]}.sqlite3"


class VectorFile:
    """A text -> vector map in one SQLite file; every failure turns it off with one warning, never an error.

    >>> embedder.keep_on_disk(VectorFile(file_for(data_dir / "vectors", embedder.model_name)))
    >>> embedder.encode_cached(["What is RAROC?"])   # computed once, then read back, also after a restart
    """

    PROBE = "Strategy Advisor vector cache probe: customer segmentation at a city commercial bank."

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self._lock = threading.Lock()
        self._conn: sqlite3.Connection | None = None
        self._checked = False
        self.enabled = True

    def _connect(self) -> sqlite3.Connection:
        if self._conn is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            conn = sqlite3.connect(self.path, timeout=30, check_same_thread=False, isolation_level=None)
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("CREATE TABLE IF NOT EXISTS vectors (key BLOB PRIMARY KEY, vector BLOB NOT NULL)")
            conn.execute("CREATE TABLE IF NOT EXISTS probe (id INTEGER PRIMARY KEY CHECK (id = 1), vector BLOB NOT NULL)")
            self._conn = conn
        return self._conn

    def _off(self, exc: Exception) -> None:
        self.enabled = False
        log.warning("vector cache %s turned off (%s: %s); answers stay correct, new sentences are embedded again",
                    self.path, exc.__class__.__name__, exc)

    def check(self, probe: Callable[[], np.ndarray]) -> None:
        """Empty the file unless the current model reproduces the probe vector that the file was written with."""
        if self._checked or not self.enabled:
            return
        with self._lock:
            if self._checked:
                return
            self._checked = True
            try:
                current = np.asarray(probe(), dtype=np.float32)
                conn = self._connect()
                row = conn.execute("SELECT vector FROM probe WHERE id = 1").fetchone()
                stored = np.frombuffer(row[0], dtype=np.float32) if row else None
                if stored is None or stored.shape != current.shape or not np.allclose(stored, current, atol=1e-4):
                    if stored is not None:
                        log.warning("vector cache %s was written by another model; emptied", self.path)
                    with conn:
                        conn.execute("BEGIN IMMEDIATE")
                        conn.execute("DELETE FROM vectors")
                        conn.execute("INSERT OR REPLACE INTO probe (id, vector) VALUES (1, ?)", (current.tobytes(),))
            except (sqlite3.Error, OSError) as exc:
                self._off(exc)

    def get(self, texts: list[str]) -> dict[str, np.ndarray]:
        if not self.enabled or not self._checked or not texts:
            return {}
        keys = {_key(t): t for t in texts}
        found: dict[str, np.ndarray] = {}
        try:
            with self._lock:
                conn = self._connect()
                ids = list(keys)
                for start in range(0, len(ids), _CHUNK):
                    part = ids[start:start + _CHUNK]
                    rows = conn.execute(f"SELECT key, vector FROM vectors WHERE key IN ({','.join('?' * len(part))})", part)
                    for key, blob in rows:
                        found[keys[key]] = np.frombuffer(blob, dtype=np.float32).copy()
        except (sqlite3.Error, OSError) as exc:
            self._off(exc)
            return {}
        return found

    def put(self, vectors: dict[str, np.ndarray]) -> None:
        if not self.enabled or not self._checked or not vectors:
            return
        rows = [(_key(t), np.asarray(v, dtype=np.float32).tobytes()) for t, v in vectors.items()]
        try:
            with self._lock:
                conn = self._connect()
                with conn:
                    conn.execute("BEGIN IMMEDIATE")
                    conn.executemany("INSERT OR REPLACE INTO vectors (key, vector) VALUES (?, ?)", rows)
        except (sqlite3.Error, OSError) as exc:
            self._off(exc)

    def __len__(self) -> int:
        if not self.enabled:
            return 0
        with self._lock:
            return int(self._connect().execute("SELECT COUNT(*) FROM vectors").fetchone()[0])
