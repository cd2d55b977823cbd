"""An append-only audit trail: every answer and plan can be shown and replayed later.

Regulators and model-risk teams ask "why did the tool say this, on what knowledge, and would it say
it again?". Each record keeps the inputs (personal data masked unless a setting keeps it), the
retrieved and cited chunks with content hashes, the knowledge version and the composer, and a hash
of the output; replay re-runs the same inputs and reports what changed.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from contextlib import closing
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, Field

from assistant.errors import InputError
from assistant.sqlite import connect, initialise

MASK = "[masked]"
PERSONAL_FIELDS = ("name", "id_number", "anchor_firm", "notes")
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
]


class ChunkRef(BaseModel):
    chunk_id: str
    doc_id: str
    content_hash: str
    cited: bool = False


class AuditRecord(BaseModel):
    id: str = Field(default_factory=lambda: uuid.uuid4().hex[:16])
    created_at: str = Field(default_factory=lambda: datetime.now(timezone.utc).isoformat(timespec="seconds"))
    kind: Literal["answer", "plan"]
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


def mask_profile(profile: dict, keep: bool) -> dict:
    """Replace identifying fields; amounts and needs stay, since they drive the result."""
    if keep:
        return dict(profile)
    masked = dict(profile)
    for key in PERSONAL_FIELDS:
        if masked.get(key) and not str(masked[key]).startswith(MASK):  # idempotent: replays mask masked data
            masked[key] = f"{MASK}:{text_hash(str(masked[key]))[:8]}" if key == "name" else MASK
    return masked


class AuditStore:
    def __init__(self, path: Path) -> None:
        self.path = path
        initialise(path, SCHEMA)

    def add(self, record: AuditRecord) -> str:
        with closing(connect(self.path)) as conn:
            conn.execute("insert into audit (id, created_at, kind, user, record) values (?,?,?,?,?)",
                         (record.id, record.created_at, record.kind, record.user, record.model_dump_json()))
        return record.id

    def get(self, audit_id: str) -> AuditRecord:
        with closing(connect(self.path)) as conn:
            row = conn.execute("select record from audit where id = ?", (audit_id,)).fetchone()
        if row is None:
            raise InputError(f"no audit record with id '{audit_id}'; list recent ones with 'advisor audit list'")
        return AuditRecord.model_validate_json(row[0])

    def recent(self, limit: int = 20) -> list[AuditRecord]:
        with closing(connect(self.path)) as conn:
            rows = conn.execute("select record from audit order by seq desc limit ?", (limit,)).fetchall()
        return [AuditRecord.model_validate_json(r[0]) for r in rows]

    def count(self) -> int:
        with closing(connect(self.path)) as conn:
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
]


class PostgresAuditStore:
    """The same append-only trail in PostgreSQL, for app processes on several machines.

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
        with self._connect() as conn:
            conn.execute('insert into audit (id, created_at, kind, "user", record) values (%s, %s, %s, %s, %s)',
                         (record.id, record.created_at, record.kind, record.user, record.model_dump_json()))
        return record.id

    def get(self, audit_id: str) -> AuditRecord:
        with self._connect() as conn:
            row = conn.execute("select record from audit where id = %s", (audit_id,)).fetchone()
        if row is None:
            raise InputError(f"no audit record with id '{audit_id}'; list recent ones with 'advisor audit list'")
        return AuditRecord.model_validate_json(row[0])

    def recent(self, limit: int = 20) -> list[AuditRecord]:
        with self._connect() as conn:
            rows = conn.execute("select record from audit order by seq desc limit %s", (limit,)).fetchall()
        return [AuditRecord.model_validate_json(r[0]) for r in rows]

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
    return ReplayReport(audit_id=old.id, same=same, output_changed=output_changed,
                        knowledge_version_then=old.knowledge_version, knowledge_version_now=new.knowledge_version,
                        composer_then=old.composer, composer_now=new.composer, changed_chunks=changed,
                        new_chunks=fresh, changed_documents=docs)


def dumps(data: Any) -> str:
    return json.dumps(data, ensure_ascii=False, sort_keys=True, default=str)
