"""The stores' tables as they stand at the newest schema version, for building queries.

The schema itself is made and changed only by the migrations (``migrations/<store>/versions``);
these definitions mirror the newest version and a test checks that they match a migrated database
column for column on both engines.
"""

from __future__ import annotations

from sqlalchemy import BigInteger, Column, Integer, MetaData, Table, Text

metadata = MetaData()
_Key = BigInteger().with_variant(Integer(), "sqlite")   # SQLite's integer primary key is its rowid

feedback = Table(
    "feedback", metadata,
    Column("id", _Key, primary_key=True, autoincrement=True),
    Column("created_at", Text, nullable=False),
    Column("user", Text),
    Column("rating", Integer, nullable=False),
    Column("comment", Text),
    Column("question", Text, nullable=False),
    Column("answer", Text, nullable=False),
    Column("citations", Text, nullable=False),
)

attempts = Table(
    "attempts", metadata,
    Column("id", _Key, primary_key=True, autoincrement=True),
    Column("trainee", Text, nullable=False),
    Column("topic", Text, nullable=False),
    Column("question_id", Text, nullable=False),
    Column("kind", Text, nullable=False, server_default=""),
    Column("correct", Integer, nullable=False),
    Column("answered_at", Text, nullable=False),
    Column("quiz_id", Text, nullable=False, server_default=""),
)

plans = Table(
    "plans", metadata,
    Column("plan_id", Text, primary_key=True),
    Column("status", Text, nullable=False),
    Column("plan", Text, nullable=False),
    Column("created_by", Text),
    Column("created_at", Text, nullable=False),
    Column("updated_at", Text, nullable=False),
)

plan_events = Table(
    "plan_events", metadata,
    Column("seq", _Key, primary_key=True, autoincrement=True),
    Column("plan_id", Text, nullable=False),
    Column("at", Text, nullable=False),
    Column("actor", Text),
    Column("role", Text),
    Column("action", Text, nullable=False),
    Column("comment", Text),
)

audit = Table(
    "audit", metadata,
    Column("seq", _Key, primary_key=True, autoincrement=True),
    Column("id", Text, unique=True, nullable=False),
    Column("created_at", Text, nullable=False),
    Column("kind", Text, nullable=False),
    Column("user", Text),
    Column("record", Text, nullable=False),
)

audit_completion = Table(
    "audit_completion", metadata,
    Column("seq", _Key, primary_key=True, autoincrement=True),
    Column("id", Text, unique=True, nullable=False),
    Column("completed_at", Text, nullable=False),
    Column("status", Text, nullable=False),
    Column("record", Text, nullable=False),
)

TABLES = {"feedback": (feedback,), "progress": (attempts,), "reviews": (plans, plan_events),
          "audit": (audit, audit_completion)}
