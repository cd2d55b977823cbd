"""Trainee results in SQLite: who answered which question of which topic, and whether it was right.

The CLI, the app's worker threads and several terminals may write at once, so every call opens its own
connection (nothing is shared between threads), the database runs in WAL mode (readers never block the
writer) and waits on a busy database instead of failing (busy_timeout). Writes take the write lock up
front (BEGIN IMMEDIATE), so a batch of answers is stored completely or not at all.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, field_validator

from assistant.config import Settings
from assistant.errors import InputError
from assistant.sqlite import initialise

DB_NAME = "progress.sqlite3"
BUSY_TIMEOUT_S = 30.0
WEAK_BELOW = 0.7
MIN_ATTEMPTS = 3
SCHEMA = """
CREATE TABLE IF NOT EXISTS attempts (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    trainee TEXT NOT NULL COLLATE NOCASE,
    topic TEXT NOT NULL,
    question_id TEXT NOT NULL,
    kind TEXT NOT NULL DEFAULT '',
    correct INTEGER NOT NULL CHECK (correct IN (0, 1)),
    answered_at TEXT NOT NULL,
    quiz_id TEXT NOT NULL DEFAULT ''
);
CREATE INDEX IF NOT EXISTS attempts_by_trainee ON attempts (trainee, topic);
CREATE INDEX IF NOT EXISTS attempts_by_topic ON attempts (topic);
"""
_init_lock = threading.Lock()
_initialised: set[str] = set()


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
    """The results database at ``path``; cheap to create, safe to share between threads and processes.

    >>> store = ProgressStore(settings.data_dir / "progress.sqlite3")
    >>> store.record("li.wei", [Attempt(question_id="q1", topic="profitability", correct=True)])
    1
    >>> store.report(ReportRequest(trainee="li.wei")).score
    1.0
    """

    def __init__(self, path: Path, busy_timeout: float = BUSY_TIMEOUT_S) -> None:
        self.path = Path(path)
        self.busy_timeout = busy_timeout

    @contextmanager
    def _connect(self) -> Iterator[sqlite3.Connection]:
        self._ensure_schema()
        conn = self._open()
        try:
            yield conn
        finally:
            conn.close()

    def _open(self) -> sqlite3.Connection:
        try:
            conn = sqlite3.connect(self.path, timeout=self.busy_timeout, isolation_level=None)
        except sqlite3.OperationalError as exc:
            raise InputError(f"cannot open the progress database {self.path}: {exc}; check ADVISOR_DATA_DIR") from exc
        conn.execute(f"PRAGMA busy_timeout = {int(self.busy_timeout * 1000)}")
        return conn

    def _ensure_schema(self) -> None:
        """Create the file, switch it to WAL and create the table once per process; retry while another
        process holds the lock, since changing the journal mode does not always wait on busy_timeout."""
        key = str(self.path.resolve())
        if key in _initialised and self.path.exists():
            return
        with _init_lock:
            if key in _initialised and self.path.exists():
                return
            initialise(self.path, [stmt for stmt in SCHEMA.split(";") if stmt.strip()], self.busy_timeout)
            _initialised.add(key)

    def record(self, trainee: str, attempts: Iterable[Attempt], at: datetime | None = None) -> int:
        """Store a batch of answers atomically; returns how many rows were written."""
        name = clean_trainee(trainee)
        stamp = (at or datetime.now(timezone.utc)).isoformat(timespec="seconds")
        rows = [(name, a.topic, a.question_id, a.kind, int(a.correct), stamp, a.quiz_id) for a in attempts]
        if not rows:
            return 0
        with self._connect() as conn:
            conn.execute("BEGIN IMMEDIATE")
            try:
                conn.executemany("INSERT INTO attempts (trainee, topic, question_id, kind, correct, answered_at, quiz_id) "
                                 "VALUES (?, ?, ?, ?, ?, ?, ?)", rows)
                conn.execute("COMMIT")
            except BaseException:
                conn.execute("ROLLBACK")
                raise
        return len(rows)

    def count(self, trainee: str | None = None) -> int:
        with self._connect() as conn:
            if trainee is None:
                return conn.execute("SELECT COUNT(*) FROM attempts").fetchone()[0]
            return conn.execute("SELECT COUNT(*) FROM attempts WHERE trainee = ?", (clean_trainee(trainee),)).fetchone()[0]

    def trainees(self) -> list[str]:
        with self._connect() as conn:
            return [r[0] for r in conn.execute("SELECT trainee FROM attempts GROUP BY trainee ORDER BY trainee")]

    def report(self, request: ReportRequest | None = None) -> ProgressReport:
        """Scores per topic over every recorded attempt; a topic is weak when its score is below
        ``weak_below`` after at least ``min_attempts`` answers (fewer answers say too little)."""
        request = request or ReportRequest()
        name = clean_trainee(request.trainee) if request.trainee is not None else None
        with self._connect() as conn:
            where, args = ("WHERE trainee = ?", (name,)) if name else ("", ())
            rows = conn.execute(f"SELECT topic, COUNT(*), SUM(correct) FROM attempts {where} GROUP BY topic ORDER BY topic",
                                args).fetchall()
            if name and rows:  # show the name as first recorded, whatever case the trainer typed
                name = conn.execute("SELECT trainee FROM attempts WHERE trainee = ? ORDER BY id LIMIT 1", (name,)).fetchone()[0]
            per_trainee = [] if name else conn.execute(
                "SELECT trainee, topic, COUNT(*), SUM(correct), MAX(answered_at) FROM attempts "
                "GROUP BY trainee, topic ORDER BY trainee, topic").fetchall()
        if name and not rows:
            known = self.trainees()
            hint = f"; trainees with results: {', '.join(known[:20])}" if known else "; no results are recorded yet"
            raise InputError(f"no results recorded for trainee '{name}'{hint}")
        topics = [_score(topic, n, c, request) for topic, n, c in rows]
        attempts, correct = sum(t.attempts for t in topics), sum(t.correct for t in topics)
        return ProgressReport(trainee=name, attempts=attempts, correct=correct, score=correct / attempts if attempts else 0.0,
                              topics=topics, weak_topics=_weakest(topics), trainees=_summaries(per_trainee, request),
                              weak_below=request.weak_below, min_attempts=request.min_attempts)


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
    """The store every front end shares: DATA_DIR/progress.sqlite3."""
    return ProgressStore(settings.data_dir / DB_NAME)


def progress_report(settings: Settings, trainee: str | None = None, weak_below: float = WEAK_BELOW,
                    min_attempts: int = MIN_ATTEMPTS) -> ProgressReport:
    """Per-topic scores and weak topics for a trainee, or for the cohort when ``trainee`` is None."""
    return progress_store(settings).report(ReportRequest(trainee=trainee, weak_below=weak_below, min_attempts=min_attempts))
