"""Thumbs up/down on answers, kept on disk for review.

SQLite in WAL mode with a busy timeout: several app processes on one machine can write at once
without losing a vote. (For app processes on several machines, point the data dir at shared storage
or use a server database; see the README.)
"""

from __future__ import annotations

import json
import sqlite3
import time
from contextlib import closing
from datetime import datetime, timezone
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, Field

SCHEMA = """
create table if not exists feedback (
    id integer primary key autoincrement,
    created_at text not null,
    user text,
    rating integer not null check (rating in (-1, 1)),
    comment text,
    question text not null,
    answer text not null,
    citations text not null
)
"""


class FeedbackIn(BaseModel):
    rating: Literal[-1, 1]
    question: str = Field(min_length=1, max_length=5000)
    answer: str = Field(max_length=50000)
    citations: list[dict] = Field(default_factory=list)
    comment: str | None = Field(None, max_length=2000)
    user: str | None = Field(None, max_length=200)


class FeedbackRow(FeedbackIn):
    id: int
    created_at: str


BUSY_TIMEOUT_S = 30.0


def connect(path: Path) -> sqlite3.Connection:
    """A connection that waits on a busy database; WAL is a property of the file, set once by ``initialise``."""
    path.parent.mkdir(parents=True, exist_ok=True)
    conn = sqlite3.connect(path, timeout=BUSY_TIMEOUT_S, isolation_level=None)
    conn.execute(f"pragma busy_timeout={int(BUSY_TIMEOUT_S * 1000)}")
    return conn


def initialise(path: Path, timeout: float = BUSY_TIMEOUT_S) -> None:
    """Switch the file to WAL and create the table. Several processes starting at once on a new file race
    here, and changing the journal mode answers "database is locked" at once instead of waiting on
    busy_timeout, so the loser retries until the winner is done."""
    deadline = time.monotonic() + timeout
    while True:
        with closing(connect(path)) as conn:
            try:
                conn.execute("pragma journal_mode=wal")
                conn.execute(SCHEMA)
                return
            except sqlite3.OperationalError as exc:
                if ("locked" not in str(exc) and "busy" not in str(exc)) or time.monotonic() > deadline:
                    raise
        time.sleep(0.05)


class FeedbackStore:
    def __init__(self, path: Path) -> None:
        self.path = path
        initialise(path)

    def add(self, item: FeedbackIn) -> int:
        with closing(connect(self.path)) as conn:
            cursor = conn.execute(
                "insert into feedback (created_at, user, rating, comment, question, answer, citations) values (?,?,?,?,?,?,?)",
                (datetime.now(timezone.utc).isoformat(timespec="seconds"), item.user, item.rating, item.comment,
                 item.question, item.answer, json.dumps(item.citations, ensure_ascii=False)))
            return int(cursor.lastrowid)

    def list(self, limit: int = 100) -> list[FeedbackRow]:
        with closing(connect(self.path)) as conn:
            rows = conn.execute("select id, created_at, user, rating, comment, question, answer, citations from feedback "
                                "order by id desc limit ?", (limit,)).fetchall()
        return [FeedbackRow(id=r[0], created_at=r[1], user=r[2], rating=r[3], comment=r[4], question=r[5], answer=r[6],
                            citations=json.loads(r[7])) for r in rows]

    def count(self) -> int:
        with closing(connect(self.path)) as conn:
            return int(conn.execute("select count(*) from feedback").fetchone()[0])
