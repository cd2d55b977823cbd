"""An append-only audit trail: every answer and plan can be shown and replayed later.

Regulators and model-risk teams ask "why did the tool say this, on what knowledge, and would it say
it again?". Each record keeps the inputs (personal data masked unless a setting keeps it), the
retrieved and cited chunks with content hashes, the knowledge version and the composer, and a hash
of the output; replay re-runs the same inputs and reports what changed.

An answer is recorded before any of it is shown (status "started") and completed when it ends. The
completion is a second row in its own append-only table, never an update, so the trail still
refuses every UPDATE and DELETE (triggers on both engines, made by the store's migration); reading a
record joins the two. It lives in the state database: a SQLite file beside the other state, or the
PostgreSQL database app processes on several machines share.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, Field
from sqlalchemy import func, select, text

from assistant.database.engine import Database, DatabaseUnavailable
from assistant.database.migrate import open_store
from assistant.database.tables import audit
from assistant.errors import AdvisorError, InputError

Status = Literal["started", "completed", "interrupted"]
# Portable SQL: the completion is appended only when its started record exists (one statement, so
# no other writer can come between the check and the insert).
COMPLETE = text("insert into audit_completion (id, completed_at, status, record) "
                "select cast(:id as text), cast(:at as text), cast(:status as text), cast(:record as text) "
                "where exists (select 1 from audit where id = :id)")
JOINED = ("select a.record, c.record from audit a left join audit_completion c on c.id = a.id ")
GET = text(JOINED + "where a.id = :id")
RECENT = text(JOINED + "order by a.seq desc limit :limit")


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
    """The trail in the state database: a SQLite file beside the other state, or PostgreSQL.

    >>> store = AuditStore(settings.audit_path)          # or audit_store(settings), or AuditStore("postgresql://...")
    >>> store.add(started); store.complete(done); store.get(started.id).status
    'completed'
    """

    def __init__(self, target: Database | Path | str, timeout: float | None = None) -> None:
        try:
            self.db = open_store(target, "audit", timeout)
        except DatabaseUnavailable as exc:
            raise AuditUnavailable(f"cannot open the audit trail {exc}") from exc
        self.path = self.db.path

    def add(self, record: AuditRecord) -> str:
        try:
            with self.db.write() as conn:
                conn.execute(audit.insert().values(id=record.id, created_at=record.created_at, kind=record.kind,
                                                   user=record.user, record=record.model_dump_json()))
        except DatabaseUnavailable as exc:
            raise AuditUnavailable(f"cannot write to the audit trail {exc}") from exc
        return record.id

    def complete(self, record: AuditRecord) -> str:
        """Append the completing row of a started record (never an update of it)."""
        try:
            with self.db.write() as conn:
                written = conn.execute(COMPLETE, {"id": record.id, "at": record.completed_at or _now(), "status": record.status,
                                                  "record": record.model_dump_json()}).rowcount
        except DatabaseUnavailable as exc:
            raise AuditUnavailable(f"cannot write to the audit trail {exc}") from exc
        if written != 1:
            raise _no_start(record.id)
        return record.id

    def get(self, audit_id: str) -> AuditRecord:
        with self.db.read() as conn:
            row = conn.execute(GET, {"id": audit_id}).first()
        if row is None:
            raise _missing(audit_id)
        return _merged(row)

    def recent(self, limit: int = 20) -> list[AuditRecord]:
        with self.db.read() as conn:
            rows = conn.execute(RECENT, {"limit": limit}).all()
        return [_merged(r) for r in rows]

    def count(self) -> int:
        with self.db.read() as conn:
            return int(conn.execute(select(func.count()).select_from(audit)).scalar_one())


def audit_store(settings) -> AuditStore:
    """SQLite beside the other state by default; the shared database when ADVISOR_DATABASE_URL (or its
    older name for the trail alone, ADVISOR_AUDIT_URL) is set."""
    return AuditStore(settings.store_url("audit"))


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
