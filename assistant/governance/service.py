"""Answers and plans a bank can sign off: audited, replayable, with disclaimers and currency checks.

This wraps the advisor rather than living inside it, so evaluation and benchmarks run the same
retrieval without filling the audit trail, while every user-facing path (CLI, app, API) goes
through here.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, timedelta
from functools import cached_property
from pathlib import Path

import yaml
from pydantic import BaseModel

from assistant.answers.advisor import Advisor, AskRequest
from assistant.answers.compose import Answer
from assistant.answers.llm import AnswerChunk, stream_answer
from assistant.clients.plans import Plan, PlanDrafter
from assistant.clients.profiles import (
    EnterpriseProfile,
    IndividualProfile,
    validate_profile,
)
from assistant.clients.situation.advice import ClientAdvisor
from assistant.clients.situation.state import ClientReply, ClientState
from assistant.errors import InputError
from assistant.governance.audit import (
    AuditRecord,
    AuditStore,
    ChunkRef,
    PostgresAuditStore,
    ReplayReport,
    audit_store,
    compare,
    dumps,
    mask_profile,
    text_hash,
)
from assistant.governance.client_records import client_record, replay_state
from assistant.knowledge.documents import load_documents

START = "(client set)"
RESULT_SETTINGS = ("top_k", "candidates", "rrf_k", "mmr", "mmr_lambda", "min_relevance", "min_coverage",
                   "answer_sentences", "chunk_size", "chunk_overlap", "embedding_model", "llm", "llm_model")


def load_disclaimers(folder: Path) -> dict[str, str]:
    path = folder / "disclaimers.yaml"
    if not path.exists():
        return {}
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    return {k: " ".join(str(v).split()) for k, v in data.items()}


class Governance:
    def __init__(self, advisor: Advisor) -> None:
        self.advisor = advisor
        self.settings = advisor.settings

    @cached_property
    def audit(self) -> AuditStore | PostgresAuditStore:
        return audit_store(self.settings)

    @cached_property
    def disclaimers(self) -> dict[str, str]:
        return load_disclaimers(self.settings.rules_dir)

    def _settings_used(self) -> dict:
        return {k: getattr(self.settings, k) for k in RESULT_SETTINGS}

    def _composer(self) -> str:
        return getattr(self.advisor.composer, "name", "extractive")

    # ------------------------------------------------------------------ answers
    def ask(self, request: AskRequest | str, user: str | None = None) -> Answer:
        if isinstance(request, str):
            request = AskRequest(question=request)
        answer, hits = self.advisor.answer(request)
        answer.disclaimer = self.disclaimers.get("answer")
        if self.settings.audit:
            answer.audit_id = self.audit.add(self._answer_record(request, answer, hits, user))
        return answer

    def ask_stream(self, request: AskRequest, user: str | None = None) -> Iterator[AnswerChunk]:
        """Stream text as the composer releases it; the last chunk carries the audited Answer."""
        question = self.advisor.check_question(request.question)
        hits = self.advisor.retrieve(request)
        for chunk in stream_answer(self.advisor.composer, question, hits):
            if chunk.answer is not None:
                chunk.answer.disclaimer = self.disclaimers.get("answer")
                if self.settings.audit:
                    chunk.answer.audit_id = self.audit.add(self._answer_record(request, chunk.answer, hits, user))
            yield chunk

    def _answer_record(self, request: AskRequest, answer: Answer, hits, user: str | None) -> AuditRecord:
        cited = {c.chunk_id for c in answer.citations}
        return AuditRecord(
            kind="answer", user=user,
            inputs={"question": request.question, "k": request.k, "filters": request.filters, "mode": request.mode},
            settings=self._settings_used(),
            chunks=[ChunkRef(chunk_id=h.chunk.id, doc_id=h.chunk.doc_id, content_hash=text_hash(h.chunk.text),
                             cited=h.chunk.id in cited) for h in hits],
            knowledge_version=self.advisor.store.info().get("knowledge_version"), composer=answer.composer,
            prompt_version=getattr(self.advisor.composer, "prompt_version", None),
            output_hash=text_hash(answer.answer + dumps([c.chunk_id for c in answer.citations])),
            output_summary=answer.answer[:300])

    # ------------------------------------------------------------------ answers for a client
    @cached_property
    def clients(self) -> ClientAdvisor:
        return ClientAdvisor(self.advisor)

    def advise(self, message: str, state: ClientState | None = None, user: str | None = None) -> ClientReply:
        """A chat turn that may be about a client (described, answered for, or forgotten); ``kind == "general"``
        leaves the plain answer to the caller. Every client answer is audited with the masked client."""
        message = self.advisor.check_question(message)
        reply, hits = self.clients.respond(message, state)
        return self._record_client(message, state, reply, hits, user)

    def advise_start(self, state: ClientState, user: str | None = None) -> ClientReply:
        """Recommend for a client set outside the chat (an example, a file, the Plan tab, an edit in the panel)."""
        reply, hits = self.clients.start(state)
        return self._record_client(START, state, reply, hits, user)

    def _record_client(self, message: str, before: ClientState | None, reply: ClientReply, hits, user: str | None) -> ClientReply:
        if reply.answer is None or reply.kind == "cleared":
            return reply
        reply.answer.disclaimer = self.disclaimers.get("answer")
        if self.settings.audit:
            reply.answer.audit_id = self.audit.add(client_record(
                message, before, reply, hits, self.settings.audit_keep_personal_data, user=user, settings=self._settings_used(),
                knowledge_version=self.advisor.store.info().get("knowledge_version"),
                prompt_version=getattr(self.advisor.composer, "prompt_version", None)))
        return reply

    # ------------------------------------------------------------------ plans
    def plan(self, profile: EnterpriseProfile | IndividualProfile, user: str | None = None) -> Plan:
        plan = PlanDrafter(self.advisor).run(profile)
        plan.disclaimer = self.disclaimers.get("plan")
        if self.settings.audit:
            plan.audit_id = self.audit.add(self._plan_record(profile, plan, user))
        return plan

    def _plan_record(self, profile, plan: Plan, user: str | None) -> AuditRecord:
        raw = profile.model_dump(mode="json", exclude_none=True)
        masked = mask_profile(raw, self.settings.audit_keep_personal_data)
        cited = self.advisor.store.get_chunks(plan.cited_chunk_ids)
        return AuditRecord(
            kind="plan", user=user, inputs={"profile": masked}, settings=self._settings_used(),
            chunks=[ChunkRef(chunk_id=cid, doc_id=c.doc_id, content_hash=text_hash(c.text), cited=True) for cid, c in cited.items()],
            knowledge_version=plan.knowledge_version, composer="plan-drafter", output_hash=self._plan_hash(plan, raw, masked),
            output_summary=f"{plan.segment_label}; {sum(len(s.items) for s in plan.sections)} items")

    @staticmethod
    def _plan_hash(plan: Plan, raw: dict, masked: dict) -> str:
        """Hash of the plan's substance with personal fields in their masked form, so a replay from
        the masked inputs can be compared with the original."""
        text = dumps({"segment": plan.segment, "sections": [s.model_dump() for s in plan.sections]})
        for key, value in raw.items():
            if isinstance(value, str) and masked.get(key) != value and len(value) > 1:
                text = text.replace(dumps(value)[1:-1], dumps(masked[key])[1:-1])
        return text_hash(text)

    # ------------------------------------------------------------------ replay
    def show(self, audit_id: str) -> AuditRecord:
        return self.audit.get(audit_id)

    def replay(self, audit_id: str) -> ReplayReport:
        old = self.audit.get(audit_id)
        if old.kind == "answer" and "client_turn" in old.inputs:
            state, settled = replay_state(old.inputs)
            question = old.inputs["question"]
            if old.inputs["client_turn"] in ("recommendation", "question") and settled is not None:
                reply, hits = self.clients.settle_turn(question, settled)  # from the facts read (the message is masked)
            else:
                reply, hits = self.clients.respond(question, state)
            new = client_record(question, state, reply, hits, self.settings.audit_keep_personal_data, user=None,
                                settings=self._settings_used(), knowledge_version=self.advisor.store.info().get("knowledge_version"))
        elif old.kind == "answer":
            request = AskRequest(**{k: v for k, v in old.inputs.items() if v is not None})
            answer, hits = self.advisor.answer(request)
            new = self._answer_record(request, answer, hits, None)
        else:
            profile = validate_profile(old.inputs["profile"])
            plan = PlanDrafter(self.advisor).run(profile)
            new = self._plan_record(profile, plan, None)
        return compare(old, new)


class DocStatus(BaseModel):
    doc_id: str
    title: str
    status: str
    effective_date: date | None = None
    review_by: date | None = None
    superseded_by: str | None = None


class KnowledgeStatus(BaseModel):
    knowledge_version: str | None
    label: str
    documents: int
    attention: list[DocStatus]


def knowledge_status(advisor: Advisor, today: date | None = None, horizon_days: int = 90) -> KnowledgeStatus:
    """What is due for review, overdue, superseded or not yet in force."""
    today = today or date.today()
    report = load_documents(advisor.settings.docs_dir)
    attention: list[DocStatus] = []
    for doc in report.docs:
        m = doc.meta
        status = None
        if m.superseded_by:
            status = f"superseded by {m.superseded_by}"
        elif m.review_by and m.review_by < today:
            status = f"overdue for review since {m.review_by.isoformat()}"
        elif m.review_by and m.review_by <= today + timedelta(days=horizon_days):
            status = f"review due by {m.review_by.isoformat()}"
        elif m.effective_date and m.effective_date > today:
            status = f"not yet in force (effective {m.effective_date.isoformat()})"
        if status:
            attention.append(DocStatus(doc_id=m.id, title=m.title, status=status, effective_date=m.effective_date,
                                       review_by=m.review_by, superseded_by=m.superseded_by))
    info = advisor.store.info()
    version = info.get("knowledge_version")
    label = f"{version} · {info.get('documents', len(report.docs))} documents · ingested {info.get('last_ingest', 'never')}"
    return KnowledgeStatus(knowledge_version=version, label=label, documents=len(report.docs),
                           attention=sorted(attention, key=lambda d: (d.review_by or date.max, d.doc_id)))


def require_audit_id(value: str) -> str:
    if not value or not value.strip():
        raise InputError("give an audit id (shown as audit_id in ask --json and plan --format json)")
    return value.strip()
