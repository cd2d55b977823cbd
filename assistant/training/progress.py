"""Trainee results: who answered which question of which topic, and whether it was right.

The CLI, the app's worker threads and several terminals (or machines, with a server database) may
write at once; the state database (``assistant.database``) keeps a batch of answers complete or
absent, and names are found again without regard to case on every engine (lower(trainee)).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timezone
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, field_validator
from sqlalchemy import func, select

from assistant.config import Settings
from assistant.database.engine import BUSY_TIMEOUT_S, Database
from assistant.database.migrate import open_store
from assistant.database.tables import attempts as table
from assistant.errors import InputError

WEAK_BELOW = 0.7
MIN_ATTEMPTS = 3


class Attempt(BaseModel):
    """One answered question, as the store keeps it."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    question_id: str = Field(min_length=1, max_length=64)
    topic: str = Field(min_length=1, max_length=80)
    kind: str = Field("", max_length=40)
    correct: bool
    quiz_id: str = Field("", max_length=64)


class TopicScore(BaseModel):
    topic: str
    attempts: int
    correct: int
    score: float
    weak: bool = Field(description="Score below the threshold with at least the minimum number of attempts.")


class TraineeSummary(BaseModel):
    trainee: str
    attempts: int
    correct: int
    score: float
    weak_topics: list[str]
    last_answered_at: str


class ProgressReport(BaseModel):
    """Per-topic scores and weak topics for one trainee, or for the whole cohort when ``trainee`` is None."""

    trainee: str | None
    attempts: int
    correct: int
    score: float
    topics: list[TopicScore]
    weak_topics: list[str] = Field(description="Weakest first.")
    trainees: list[TraineeSummary] = Field(default_factory=list, description="Cohort reports only: one row per trainee.")
    weak_below: float
    min_attempts: int


class ReportRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    trainee: str | None = None
    weak_below: float = Field(WEAK_BELOW, gt=0, le=1)
    min_attempts: int = Field(MIN_ATTEMPTS, ge=1, le=1000)

    @field_validator("trainee", mode="before")
    @classmethod
    def _blank_is_cohort(cls, value: object) -> object:
        return None if isinstance(value, str) and not value.strip() else value


def clean_trainee(name: str | None) -> str:
    """Names are how a trainer finds results again, so they are trimmed and must be plain text."""
    text = " ".join((name or "").split())
    if not text:
        raise InputError("the trainee name is empty: give the name the trainer will look results up by (--trainee NAME)")
    if len(text) > 100:
        raise InputError(f"the trainee name is {len(text)} characters long; use at most 100")
    if any(ord(c) < 32 for c in text):
        raise InputError("the trainee name contains control characters; use plain text")
    return text


class ProgressStore:
    """Training results in a SQLite file or the shared server database; safe to share between threads and processes.

    >>> store = progress_store(settings)          # or ProgressStore(Path("data/progress.sqlite3")), or a URL
    >>> store.record("li.wei", [Attempt(question_id="q1", topic="profitability", correct=True)])
    1
    >>> store.report(ReportRequest(trainee="li.wei")).score
    1.0
    """

    def __init__(self, target: Database | Path | str, busy_timeout: float = BUSY_TIMEOUT_S) -> None:
        self.db = open_store(target, "progress", busy_timeout)

    def record(self, trainee: str, attempts: Iterable[Attempt], at: datetime | None = None) -> int:
        """Store a batch of answers atomically; returns how many rows were written."""
        name = clean_trainee(trainee)
        stamp = (at or datetime.now(timezone.utc)).isoformat(timespec="seconds")
        rows = [{"trainee": name, "topic": a.topic, "question_id": a.question_id, "kind": a.kind, "correct": int(a.correct),
                 "answered_at": stamp, "quiz_id": a.quiz_id} for a in attempts]
        if not rows:
            return 0
        with self.db.write() as conn:
            conn.execute(table.insert(), rows)
        return len(rows)

    def count(self, trainee: str | None = None) -> int:
        query = select(func.count()).select_from(table)
        if trainee is not None:
            query = query.where(_key() == func.lower(clean_trainee(trainee)))
        with self.db.read() as conn:
            return int(conn.execute(query).scalar_one())

    def trainees(self) -> list[str]:
        with self.db.read() as conn:
            return sorted(_spellings(conn).values(), key=str.lower)

    def report(self, request: ReportRequest | None = None) -> ProgressReport:
        """Scores per topic over every recorded attempt; a topic is weak when its score is below
        ``weak_below`` after at least ``min_attempts`` answers (fewer answers say too little)."""
        request = request or ReportRequest()
        name = clean_trainee(request.trainee) if request.trainee is not None else None
        correct = func.sum(table.c.correct)
        with self.db.read() as conn:
            query = select(table.c.topic, func.count(), correct).group_by(table.c.topic).order_by(table.c.topic)
            rows = conn.execute(query.where(_key() == func.lower(name)) if name else query).all()
            spellings = _spellings(conn)
            if name and rows:  # show the name as first recorded, whatever case the trainer typed
                name = spellings[conn.execute(select(func.lower(name))).scalar_one()]
            per_trainee = [] if name else [
                (spellings[key], topic, n, c, last) for key, topic, n, c, last in conn.execute(
                    select(_key(), table.c.topic, func.count(), correct, func.max(table.c.answered_at))
                    .group_by(_key(), table.c.topic).order_by(_key(), table.c.topic)).all()]
        if name and not rows:
            known = self.trainees()
            hint = f"; trainees with results: {', '.join(known[:20])}" if known else "; no results are recorded yet"
            raise InputError(f"no results recorded for trainee '{name}'{hint}")
        topics = [_score(topic, n, c, request) for topic, n, c in rows]
        attempts, right = sum(t.attempts for t in topics), sum(t.correct for t in topics)
        return ProgressReport(trainee=name, attempts=attempts, correct=right, score=right / attempts if attempts else 0.0,
                              topics=topics, weak_topics=_weakest(topics), trainees=_summaries(per_trainee, request),
                              weak_below=request.weak_below, min_attempts=request.min_attempts)


def _key():
    return func.lower(table.c.trainee)


def _spellings(conn) -> dict[str, str]:
    """Each trainee's name as first recorded, by its key as the database folds case (SQLite's lower()
    folds ASCII only, so Python's lower() could name a different key)."""
    first = select(func.min(table.c.id)).group_by(_key()).scalar_subquery()
    return dict(conn.execute(select(_key(), table.c.trainee).where(table.c.id.in_(first))).all())


def _score(topic: str, attempts: int, correct: int, request: ReportRequest) -> TopicScore:
    score = correct / attempts if attempts else 0.0
    return TopicScore(topic=topic, attempts=attempts, correct=correct, score=score,
                      weak=attempts >= request.min_attempts and score < request.weak_below)


def _weakest(topics: list[TopicScore]) -> list[str]:
    return [t.topic for t in sorted((t for t in topics if t.weak), key=lambda t: (t.score, -t.attempts, t.topic))]


def _summaries(rows: list[tuple], request: ReportRequest) -> list[TraineeSummary]:
    grouped: dict[str, list[tuple]] = {}
    for row in rows:
        grouped.setdefault(row[0], []).append(row)
    out = []
    for trainee, items in grouped.items():
        topics = [_score(topic, n, c, request) for _, topic, n, c, _ in items]
        attempts, correct = sum(t.attempts for t in topics), sum(t.correct for t in topics)
        out.append(TraineeSummary(trainee=trainee, attempts=attempts, correct=correct, score=correct / attempts,
                                  weak_topics=_weakest(topics), last_answered_at=max(i[4] for i in items)))
    return out


def progress_store(settings: Settings) -> ProgressStore:
    """The store every front end shares: DATA_DIR/progress.sqlite3, or ADVISOR_DATABASE_URL."""
    return ProgressStore(settings.store_url("progress"))


def progress_report(settings: Settings, trainee: str | None = None, weak_below: float = WEAK_BELOW,
                    min_attempts: int = MIN_ATTEMPTS) -> ProgressReport:
    """Per-topic scores and weak topics for a trainee, or for the cohort when ``trainee`` is None."""
    return progress_store(settings).report(ReportRequest(trainee=trainee, weak_below=weak_below, min_attempts=min_attempts))
