"""Thumbs up/down on answers, kept on disk for review.

SQLite in WAL mode with a busy timeout: several app processes on one machine can write at once
without losing a vote. (For app processes on several machines, point the data dir at shared storage
or use a server database; see the README.)
"""

from __future__ import annotations

import json
from contextlib import closing
from datetime import datetime, timezone
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, Field

from assistant.sqlite import connect, initialise

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
    """A vote as stored: what was sent, with its row id and the UTC time it arrived.

    >>> row = FeedbackStore(settings.data_dir / "feedback.sqlite3").list(limit=1)[0]
    >>> row.id, row.created_at, row.rating
    """

    id: int
    created_at: str


class FeedbackStore:
    """Thumbs up/down on answers in one SQLite file that several app processes may write at once.

    >>> store = FeedbackStore(settings.data_dir / "feedback.sqlite3")
    >>> store.add(FeedbackIn(rating=1, question="What is RAROC?", answer=answer.answer, user="li.wei"))
    1
    >>> store.list(limit=10)[0].rating
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        initialise(path, [SCHEMA])

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
