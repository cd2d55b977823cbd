"""An append-only audit trail: every answer and plan can be shown and replayed later.

Regulators and model-risk teams ask "why did the tool say this, on what knowledge, and would it say
it again?". Each record keeps the inputs (personal data masked unless a setting keeps it), the
retrieved and cited chunks with content hashes, the knowledge version and the composer, and a hash
of the output; replay re-runs the same inputs and reports what changed.

An answer is recorded before any of it is shown (status "started") and completed when it ends. The
completion is a second row in its own append-only table, never an update, so the trail still
refuses every UPDATE and DELETE; reading a record joins the two.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
import uuid
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, Field

from assistant.errors import AdvisorError, InputError
from assistant.sqlite import BUSY_TIMEOUT_S, ThreadConnections, initialise

Status = Literal["started", "completed", "interrupted"]
SCHEMA = [
    """create table if not exists audit (
        seq integer primary key autoincrement,
        id text unique not null,
        created_at text not null,
        kind text not null,
        user text,
        record text not null
    )""",
    """create trigger if not exists audit_no_update before update on audit
       begin select raise(abort, 'the audit trail is append-only'); end""",
    """create trigger if not exists audit_no_delete before delete on audit
       begin select raise(abort, 'the audit trail is append-only'); end""",
    """create table if not exists audit_completion (
        seq integer primary key autoincrement,
        id text unique not null,
        completed_at text not null,
        status text not null,
        record text not null
    )""",
    """create trigger if not exists audit_completion_no_update before update on audit_completion
       begin select raise(abort, 'the audit trail is append-only'); end""",
    """create trigger if not exists audit_completion_no_delete before delete on audit_completion
       begin select raise(abort, 'the audit trail is append-only'); end""",
]
COMPLETE_SQL = ("insert into audit_completion (id, completed_at, status, record) select {p}, {p}, {p}, {p} "
                "where exists (select 1 from audit where id = {p})")
GET_SQL = ("select a.record, c.record from audit a left join audit_completion c on c.id = a.id "
           "where a.id = {p}")
RECENT_SQL = ("select a.record, c.record from audit a left join audit_completion c on c.id = a.id "
              "order by a.seq desc limit {p}")


class AuditUnavailable(AdvisorError, RuntimeError):
    """The audit trail cannot be written or read; what depends on a record is not shown."""


class ChunkRef(BaseModel):
    chunk_id: str
    doc_id: str
    content_hash: str
    cited: bool = False


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


class AuditRecord(BaseModel):
    id: str = Field(default_factory=lambda: uuid.uuid4().hex[:16])
    created_at: str = Field(default_factory=_now)
    kind: Literal["answer", "plan", "classify", "upload"]
    status: Status = Field("completed", description="started: recorded before anything was shown; completed or "
                           "interrupted: the second, completing row.")
    completed_at: str | None = None
    user: str | None = None
    inputs: dict[str, Any]
    settings: dict[str, Any] = Field(description="Settings that shape the result.")
    chunks: list[ChunkRef]
    knowledge_version: str | None
    composer: str
    prompt_version: str | None = None
    output_hash: str
    output_summary: str


def text_hash(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


def _merged(row) -> AuditRecord:
    """A record as it stands: the completing row when there is one, else the started row."""
    return AuditRecord.model_validate_json(row[1] if row[1] is not None else row[0])


def _missing(audit_id: str) -> InputError:
    return InputError(f"no audit record with id '{audit_id}'; list recent ones with 'advisor audit list'")


def _no_start(audit_id: str) -> AuditUnavailable:
    return AuditUnavailable(f"there is no started audit record '{audit_id}' to complete")


class AuditStore:
    """The trail in SQLite beside the other state.

    >>> store = AuditStore(settings.audit_path)
    >>> store.add(started); store.complete(done); store.get(started.id).status
    'completed'
    """

    def __init__(self, path: Path, timeout: float | None = None) -> None:
        self.path = path
        wait = timeout or BUSY_TIMEOUT_S
        try:
            initialise(path, SCHEMA, wait)
        except (sqlite3.Error, OSError) as exc:
            raise AuditUnavailable(f"cannot open the audit trail {path}: {exc}") from exc
        self._connections = ThreadConnections(path, wait)

    def add(self, record: AuditRecord) -> str:
        try:
            with self._connections.use() as conn:
                conn.execute("insert into audit (id, created_at, kind, user, record) values (?,?,?,?,?)",
                             (record.id, record.created_at, record.kind, record.user, record.model_dump_json()))
        except (sqlite3.Error, OSError) as exc:
            raise AuditUnavailable(f"cannot write to the audit trail {self.path}: {exc}") from exc
        return record.id

    def complete(self, record: AuditRecord) -> str:
        """Append the completing row of a started record (never an update of it)."""
        try:
            with self._connections.use() as conn:
                cursor = conn.execute(COMPLETE_SQL.format(p="?"), (record.id, record.completed_at or _now(), record.status,
                                                                  record.model_dump_json(), record.id))
        except (sqlite3.Error, OSError) as exc:
            raise AuditUnavailable(f"cannot write to the audit trail {self.path}: {exc}") from exc
        if cursor.rowcount != 1:
            raise _no_start(record.id)
        return record.id

    def get(self, audit_id: str) -> AuditRecord:
        with self._connections.use() as conn:
            row = conn.execute(GET_SQL.format(p="?"), (audit_id,)).fetchone()
        if row is None:
            raise _missing(audit_id)
        return _merged(row)

    def recent(self, limit: int = 20) -> list[AuditRecord]:
        with self._connections.use() as conn:
            rows = conn.execute(RECENT_SQL.format(p="?"), (limit,)).fetchall()
        return [_merged(r) for r in rows]

    def count(self) -> int:
        with self._connections.use() as conn:
            return int(conn.execute("select count(*) from audit").fetchone()[0])


PG_SCHEMA = [
    """create table if not exists audit (
        seq bigserial primary key, id text unique not null, created_at text not null, kind text not null,
        "user" text, record text not null)""",
    """create or replace function audit_append_only() returns trigger language plpgsql as $$
       begin raise exception 'the audit trail is append-only'; end $$""",
    "drop trigger if exists audit_no_change on audit",
    """create trigger audit_no_change before update or delete on audit
       for each row execute function audit_append_only()""",
    """create table if not exists audit_completion (
        seq bigserial primary key, id text unique not null, completed_at text not null, status text not null,
        record text not null)""",
    "drop trigger if exists audit_completion_no_change on audit_completion",
    """create trigger audit_completion_no_change before update or delete on audit_completion
       for each row execute function audit_append_only()""",
]


class PostgresAuditStore:
    """The same append-only trail in PostgreSQL, for app processes on several machines.

    >>> store = PostgresAuditStore("postgresql://user:password@host:5432/db")   # ADVISOR_AUDIT_URL
    >>> store.add(started); store.complete(done); store.get(started.id).status
    'completed'

    The table refuses updates and deletes through a trigger, as the SQLite one does; the schema is
    created under an advisory lock so several processes starting at once do not race.
    """

    def __init__(self, url: str) -> None:
        import psycopg

        self.url = url
        self._psycopg = psycopg
        try:
            with psycopg.connect(url, autocommit=False, connect_timeout=10) as conn:
                conn.execute("select pg_advisory_xact_lock(7741201)")
                for statement in PG_SCHEMA:
                    conn.execute(statement)
        except psycopg.OperationalError as exc:
            raise InputError(f"cannot reach the audit database (ADVISOR_AUDIT_URL): {str(exc).splitlines()[0]}") from exc

    def _connect(self):
        return self._psycopg.connect(self.url, connect_timeout=10)

    def add(self, record: AuditRecord) -> str:
        try:
            with self._connect() as conn:
                conn.execute('insert into audit (id, created_at, kind, "user", record) values (%s, %s, %s, %s, %s)',
                             (record.id, record.created_at, record.kind, record.user, record.model_dump_json()))
        except self._psycopg.Error as exc:
            raise AuditUnavailable(f"cannot write to the audit database: {str(exc).splitlines()[0]}") from exc
        return record.id

    def complete(self, record: AuditRecord) -> str:
        try:
            with self._connect() as conn:
                cursor = conn.execute(COMPLETE_SQL.format(p="%s"), (record.id, record.completed_at or _now(), record.status,
                                                                   record.model_dump_json(), record.id))
        except self._psycopg.Error as exc:
            raise AuditUnavailable(f"cannot write to the audit database: {str(exc).splitlines()[0]}") from exc
        if cursor.rowcount != 1:
            raise _no_start(record.id)
        return record.id

    def get(self, audit_id: str) -> AuditRecord:
        with self._connect() as conn:
            row = conn.execute(GET_SQL.format(p="%s"), (audit_id,)).fetchone()
        if row is None:
            raise _missing(audit_id)
        return _merged(row)

    def recent(self, limit: int = 20) -> list[AuditRecord]:
        with self._connect() as conn:
            rows = conn.execute(RECENT_SQL.format(p="%s"), (limit,)).fetchall()
        return [_merged(r) for r in rows]

    def count(self) -> int:
        with self._connect() as conn:
            return int(conn.execute("select count(*) from audit").fetchone()[0])


def audit_store(settings) -> AuditStore | PostgresAuditStore:
    """SQLite beside the other state by default; PostgreSQL when ADVISOR_AUDIT_URL is set."""
    return PostgresAuditStore(settings.audit_url) if settings.audit_url else AuditStore(settings.audit_path)


class ReplayReport(BaseModel):
    audit_id: str
    same: bool
    output_changed: bool
    status_then: Status = "completed"
    knowledge_version_then: str | None
    knowledge_version_now: str | None
    composer_then: str
    composer_now: str
    changed_chunks: list[str] = Field(description="Chunks used then whose text is now different or gone.")
    new_chunks: list[str] = Field(description="Chunks used now that were not used then.")
    changed_documents: list[str]

    def summary(self) -> str:
        if self.same:
            return f"replay of {self.audit_id}: same result (knowledge version {self.knowledge_version_now})"
        parts = [f"replay of {self.audit_id}: the result changed"]
        if self.status_then != "completed":
            parts.append(f"the recorded answer was never completed (status {self.status_then}), so there is no "
                         "recorded output to compare with")
        if self.knowledge_version_then != self.knowledge_version_now:
            parts.append(f"knowledge version {self.knowledge_version_then} -> {self.knowledge_version_now}")
        if self.changed_documents:
            parts.append("changed documents: " + ", ".join(self.changed_documents))
        if self.composer_then != self.composer_now:
            parts.append(f"composer {self.composer_then} -> {self.composer_now}")
        return "; ".join(parts)


def compare(old: AuditRecord, new: AuditRecord) -> ReplayReport:
    then = {c.chunk_id: c for c in old.chunks}
    now = {c.chunk_id: c for c in new.chunks}
    changed = [cid for cid, ref in then.items() if cid not in now or now[cid].content_hash != ref.content_hash]
    fresh = [cid for cid in now if cid not in then]
    docs = sorted({then[c].doc_id for c in changed} | {now[c].doc_id for c in fresh})
    output_changed = old.output_hash != new.output_hash
    same = not output_changed and not changed and not fresh
    return ReplayReport(audit_id=old.id, same=same, output_changed=output_changed, status_then=old.status,
                        knowledge_version_then=old.knowledge_version, knowledge_version_now=new.knowledge_version,
                        composer_then=old.composer, composer_now=new.composer, changed_chunks=changed,
                        new_chunks=fresh, changed_documents=docs)


def dumps(data: Any) -> str:
    return json.dumps(data, ensure_ascii=False, sort_keys=True, default=str)
