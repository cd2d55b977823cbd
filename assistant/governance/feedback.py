"""Thumbs up/down on answers, kept for review.

In the state database (``assistant.database``): a SQLite file that several app processes on one
machine write at once without losing a vote, or the PostgreSQL database every machine shares
(``ADVISOR_DATABASE_URL``).
"""

from __future__ import annotations

import json
from datetime import datetime, timezone
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, Field
from sqlalchemy import func, select

from assistant.database.engine import Database
from assistant.database.migrate import open_store
from assistant.database.tables import feedback


class FeedbackIn(BaseModel):
    rating: Literal[-1, 1]
    question: str = Field(min_length=1, max_length=5000)
    answer: str = Field(max_length=50000)
    citations: list[dict] = Field(default_factory=list)
    comment: str | None = Field(None, max_length=2000)
    user: str | None = Field(None, max_length=200)


class FeedbackRow(FeedbackIn):
    """A vote as stored: what was sent, with its row id and the UTC time it arrived.

    >>> row = feedback_store(settings).list(limit=1)[0]
    >>> row.id, row.created_at, row.rating
    """

    id: int
    created_at: str


class FeedbackStore:
    """Thumbs up/down on answers, in a SQLite file or the shared server database.

    >>> store = feedback_store(settings)          # or FeedbackStore(Path("data/feedback.sqlite3")), or a URL
    >>> store.add(FeedbackIn(rating=1, question="What is RAROC?", answer=answer.answer, user="li.wei"))
    1
    >>> store.list(limit=10)[0].rating
    """

    def __init__(self, target: Database | Path | str) -> None:
        self.db = open_store(target, "feedback")

    def add(self, item: FeedbackIn) -> int:
        with self.db.write() as conn:
            result = conn.execute(feedback.insert().values(
                created_at=datetime.now(timezone.utc).isoformat(timespec="seconds"), user=item.user, rating=item.rating,
                comment=item.comment, question=item.question, answer=item.answer,
                citations=json.dumps(item.citations, ensure_ascii=False)))
            return int(result.inserted_primary_key[0])

    def list(self, limit: int = 100) -> list[FeedbackRow]:
        with self.db.read() as conn:
            rows = conn.execute(select(feedback).order_by(feedback.c.id.desc()).limit(limit)).mappings().all()
        return [FeedbackRow(**{**row, "citations": json.loads(row["citations"])}) for row in rows]

    def count(self) -> int:
        with self.db.read() as conn:
            return int(conn.execute(select(func.count()).select_from(feedback)).scalar_one())


def feedback_store(settings) -> FeedbackStore:
    """DATA_DIR/feedback.sqlite3, or the shared database when ADVISOR_DATABASE_URL is set."""
    return FeedbackStore(settings.store_url("feedback"))
