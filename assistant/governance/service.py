"""Answers and plans a bank can sign off: audited, replayable, with disclaimers and currency checks.

This wraps the advisor rather than living inside it, so evaluation and benchmarks run the same
retrieval without filling the audit trail, while every user-facing path (CLI, app, API) goes
through here.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import date, datetime, timedelta, timezone
from functools import cached_property
from pathlib import Path

from pydantic import BaseModel

from assistant.answers.advisor import Advisor, AskRequest
from assistant.answers.answer import Answer
from assistant.answers.llm import AnswerChunk, stream_answer
from assistant.clients.plans import Plan, PlanDrafter
from assistant.clients.rules import rules_for
from assistant.clients.segmentation import Classification, classify
from assistant.clients.situation.advice import ClientAdvisor
from assistant.clients.situation.state import ClientReply, ClientState
from assistant.clients.profiles import (
    EnterpriseProfile,
    IndividualProfile,
    validate_profile,
)
from assistant.answers.privacy import mask_identifiers, mask_profile
from assistant.errors import InputError
from assistant.governance.audit import (
    AuditRecord,
    AuditStore,
    AuditUnavailable,
    ChunkRef,
    ReplayReport,
    Status,
    audit_store,
    compare,
    dumps,
    text_hash,
)
from assistant.governance.client_records import client_record, replay_state
from assistant.knowledge.documents import load_documents
from assistant.knowledge.editions import edition_states
from assistant.search.languages import question_language
from assistant.text import load_yaml

START = "(client set)"
RESULT_SETTINGS = ("top_k", "candidates", "rrf_k", "mmr", "mmr_lambda", "min_relevance", "min_coverage",
                   "answer_sentences", "chunk_size", "chunk_overlap", "embedding_model", "llm", "llm_model")


def load_disclaimers(folder: Path) -> dict[str, str]:
    path = folder / "disclaimers.yaml"
    if not path.exists():
        return {}
    data = load_yaml(path.read_text(encoding="utf-8")) or {}
    return {k: " ".join(str(v).split()) for k, v in data.items()}


WITHHELD = {
    "answer": "the answer is not shown because its audit record could not be written",
    "plan": "the plan is not shown because its audit record could not be written",
    "classify": "the classification is not shown because its audit record could not be written",
    "upload": "the upload was not started because its audit record could not be written",
}


class Governance:
    """Every user-facing answer, plan and upload, recorded before it is shown.

    >>> governance = Governance(Advisor.from_settings(settings))
    >>> governance.ask(AskRequest(question="What is RAROC?"), user="li.wei").audit_id
    """

    def __init__(self, advisor: Advisor) -> None:
        self.advisor = advisor
        self.settings = advisor.settings

    @cached_property
    def audit(self) -> AuditStore:
        return audit_store(self.settings)

    @cached_property
    def disclaimers(self) -> dict[str, str]:
        return load_disclaimers(self.settings.rules_dir)

    def _settings_used(self) -> dict:
        return {k: getattr(self.settings, k) for k in RESULT_SETTINGS}

    def _composer(self) -> str:
        return getattr(self.advisor.composer, "name", "extractive")

    def _write(self, record: AuditRecord, complete: bool = False) -> str:
        """Append a record, or the completing row of a started one; refuse to go on when it fails."""
        try:
            store = self.audit
            return store.complete(record) if complete else store.add(record)
        except AuditUnavailable as exc:
            raise AuditUnavailable(f"{WITHHELD[record.kind]} ({exc}); ask an administrator to check the audit "
                                   "database (ADVISOR_DATABASE_URL, ADVISOR_AUDIT_URL or ADVISOR_AUDIT_DB)") from exc

    # ------------------------------------------------------------------ answers
    def disclaimer(self, kind: str, text: str = "", language: str | None = None) -> str | None:
        """The disclaimer in the reader's language (given, or read from the question by the rule that picks
        the Chinese editions): ``answer_zh`` / ``plan_zh`` when the bank's file has one; English otherwise."""
        texts = self.disclaimers
        if (language or question_language(text)) == "zh" and f"{kind}_zh" in texts:
            return texts[f"{kind}_zh"]
        return texts.get(kind)

    def ask(self, request: AskRequest | str, user: str | None = None) -> Answer:
        """Recorded as started before the answer is composed and completed before it is returned."""
        if isinstance(request, str):
            request = AskRequest(question=request)
        hits = self.advisor.retrieve(request)
        started = self._start_answer(request, hits, user)
        answer = self.advisor.composer.compose(request.question.strip(), hits)
        answer.disclaimer = self.disclaimer("answer", request.question)
        self._complete_answer(started, request, answer, hits)
        return answer

    def ask_stream(self, request: AskRequest, user: str | None = None) -> Iterator[AnswerChunk]:
        """Stream text as the composer releases it; the last chunk carries the audited Answer.

        The started record is written before the first piece of text; if the completing row cannot be
        written the stream raises AuditUnavailable instead of yielding the answer, and the caller must
        withdraw what it showed. A stream abandoned half-way is completed as "interrupted"."""
        question = self.advisor.check_question(request.question)
        hits = self.advisor.retrieve(request)
        started = self._start_answer(request, hits, user)
        finished = False
        try:
            for chunk in stream_answer(self.advisor.composer, question, hits):
                if chunk.answer is not None:
                    chunk.answer.disclaimer = self.disclaimer("answer", question)
                    self._complete_answer(started, request, chunk.answer, hits)
                    finished = True
                yield chunk
        finally:
            if started is not None and not finished:
                self._interrupt(started)

    def _answer_inputs(self, request: AskRequest) -> dict:
        question = request.question if self.settings.audit_keep_personal_data else mask_identifiers(request.question)
        return {"question": question, "k": request.k, "filters": request.filters, "mode": request.mode}

    def _start_answer(self, request: AskRequest, hits, user: str | None) -> AuditRecord | None:
        if not self.settings.audit:
            return None
        record = AuditRecord(
            kind="answer", status="started", user=user, inputs=self._answer_inputs(request),
            settings=self._settings_used(),
            chunks=[ChunkRef(chunk_id=h.chunk.id, doc_id=h.chunk.doc_id, content_hash=text_hash(h.chunk.text)) for h in hits],
            knowledge_version=self.advisor.store.info().get("knowledge_version"), composer=self._composer(),
            prompt_version=getattr(self.advisor.composer, "prompt_version", None), output_hash="",
            output_summary="started: the answer is being composed")
        self._write(record)
        return record

    def _complete_answer(self, started: AuditRecord | None, request: AskRequest, answer: Answer, hits) -> None:
        if started is None:
            return
        done = self._answer_record(request, answer, hits, started.user).model_copy(update={
            "id": started.id, "created_at": started.created_at, "status": "completed", "completed_at": _now()})
        self._write(done, complete=True)
        answer.audit_id = started.id

    def _interrupt(self, started: AuditRecord) -> None:
        """Best effort: the reader has gone, so there is nobody left to tell if this fails too."""
        note = "interrupted: the answer stream stopped before the answer was complete (reader left or write failed)"
        try:
            self._write(started.model_copy(update={"status": "interrupted", "completed_at": _now(),
                                                   "output_summary": note}), complete=True)
        except AuditUnavailable:
            pass

    def _answer_record(self, request: AskRequest, answer: Answer, hits, user: str | None) -> AuditRecord:
        cited = {c.chunk_id for c in answer.citations}
        return AuditRecord(
            kind="answer", user=user, inputs=self._answer_inputs(request), settings=self._settings_used(),
            chunks=[ChunkRef(chunk_id=h.chunk.id, doc_id=h.chunk.doc_id, content_hash=text_hash(h.chunk.text),
                             cited=h.chunk.id in cited) for h in hits],
            knowledge_version=self.advisor.store.info().get("knowledge_version"), composer=answer.composer,
            prompt_version=getattr(self.advisor.composer, "prompt_version", None),
            output_hash=text_hash(answer.answer + dumps([c.chunk_id for c in answer.citations])),
            output_summary=answer.answer[:300])

    # ------------------------------------------------------------------ uploads
    def refused_upload(self, names: list[str], user: str | None, reason: str) -> str | None:
        """An upload refused for the user's role is recorded too: auditors look for attempts to change
        what every user is told. Best effort: the refusal stands whether or not the record is written."""
        if not self.settings.audit:
            return None
        try:
            return self._write(self._upload_record(user, {"files": names, "refused": reason}, f"refused: {reason}"))
        except AuditUnavailable:
            return None

    def _upload_record(self, user: str | None, inputs: dict, summary: str, status: Status = "completed") -> AuditRecord:
        return AuditRecord(kind="upload", status=status, user=user, inputs=inputs, settings={}, chunks=[],
                           knowledge_version=self.advisor.store.info().get("knowledge_version"), composer="upload",
                           output_hash="", output_summary=summary[:300])

    def upload(self, names: list[str], user: str | None, run: Callable[[], tuple[list[str], list[str], str]]):
        """Record an upload of ``names`` by ``user`` before it starts, run it, and complete the record
        with what went in (``run`` returns accepted names, "name: reason" rejections and a summary)."""
        if not self.settings.audit:
            return run()
        started = self._upload_record(user, {"files": names}, "started: files are being checked", status="started")
        self._write(started)
        try:
            accepted, rejected, summary = outcome = run()
        except BaseException:
            self._interrupt(started)
            raise
        self._write(started.model_copy(update={
            "status": "completed", "completed_at": _now(), "inputs": {"files": names, "accepted": accepted, "rejected": rejected},
            "knowledge_version": self.advisor.store.info().get("knowledge_version"),
            "output_hash": text_hash(dumps([accepted, rejected])), "output_summary": summary[:300]}), complete=True)
        return outcome

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
        reply.answer.disclaimer = self.disclaimer("answer", message)
        if self.settings.audit:
            reply.answer.audit_id = self._write(client_record(
                message, before, reply, hits, self.settings.audit_keep_personal_data, user=user, settings=self._settings_used(),
                knowledge_version=self.advisor.store.info().get("knowledge_version"),
                prompt_version=getattr(self.advisor.composer, "prompt_version", None)))
        return reply

    # ------------------------------------------------------------------ plans
    def plan(self, profile: EnterpriseProfile | IndividualProfile, user: str | None = None, language: str = "en") -> Plan:
        """A plan is not streamed: it is recorded whole (one append) before it is returned, or not returned."""
        plan = PlanDrafter(self.advisor).run(profile, language)
        plan.disclaimer = self.disclaimer("plan", language=language)
        if self.settings.audit:
            plan.audit_id = self._write(self._plan_record(profile, plan, user))
        return plan

    def _plan_record(self, profile, plan: Plan, user: str | None) -> AuditRecord:
        raw = profile.model_dump(mode="json", exclude_none=True)
        masked = mask_profile(raw, self.settings.audit_keep_personal_data)
        cited = self.advisor.store.get_chunks(plan.cited_chunk_ids)
        return AuditRecord(
            kind="plan", user=user, inputs={"profile": masked, **({"language": plan.language} if plan.language != "en" else {})},
            settings=self._settings_used(),
            chunks=[ChunkRef(chunk_id=cid, doc_id=c.doc_id, content_hash=text_hash(c.text), cited=True) for cid, c in cited.items()],
            knowledge_version=plan.knowledge_version, composer="plan-drafter", output_hash=self._plan_hash(plan, raw, masked),
            output_summary=masked_text(f"{plan.segment_label}; {sum(len(s.items) for s in plan.sections)} items", raw, masked))

    @staticmethod
    def _plan_hash(plan: Plan, raw: dict, masked: dict) -> str:
        """Hash of the plan's substance with personal fields in their masked form, so a replay from
        the masked inputs can be compared with the original."""
        text = dumps({"segment": plan.segment, "sections": [s.model_dump(exclude={"key"}) for s in plan.sections]})
        return text_hash(masked_text(text, raw, masked, json_escaped=True))

    def classify(self, profile: EnterpriseProfile | IndividualProfile, user: str | None = None) -> Classification:
        """Segment a client; recorded (profile masked) before it is returned, like a plan."""
        result = classify(profile, rules_for(self.settings.rules_dir))
        if self.settings.audit:
            self._write(self._classify_record(profile, result, user))
        return result

    def _classify_record(self, profile, result: Classification, user: str | None) -> AuditRecord:
        raw = profile.model_dump(mode="json", exclude_none=True)
        masked = mask_profile(raw, self.settings.audit_keep_personal_data)
        shown = masked_text(dumps(result.model_dump(exclude={"name"})), raw, masked, json_escaped=True)
        return AuditRecord(kind="classify", user=user, inputs={"profile": masked}, settings={}, chunks=[],
                           knowledge_version=None, composer="rules", output_hash=text_hash(shown),
                           output_summary=masked_text(f"{result.segment_label} [{result.segment}]", raw, masked))

    # ------------------------------------------------------------------ replay
    def show(self, audit_id: str) -> AuditRecord:
        return self.audit.get(audit_id)

    def replay(self, audit_id: str) -> ReplayReport:
        old = self.audit.get(audit_id)
        if old.kind == "upload":
            raise InputError(f"{audit_id} records an upload, which is not replayed; see it with 'advisor audit show {audit_id}'")
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
        elif old.kind == "classify":
            profile = validate_profile(old.inputs["profile"])
            new = self._classify_record(profile, classify(profile, rules_for(self.settings.rules_dir)), None)
        else:
            profile = validate_profile(old.inputs["profile"])
            plan = PlanDrafter(self.advisor).run(profile, old.inputs.get("language", "en"))
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
    titles = {d.meta.id: d.meta.title for d in report.docs}
    for edition in edition_states(report.docs):
        if edition.needs_update:
            attention.append(DocStatus(doc_id=edition.doc_id, title=titles[edition.doc_id], status=edition.status))
    for error in report.errors:  # a rejected file (an edition of nothing, bad front matter) answers nobody
        attention.append(DocStatus(doc_id=Path(error.path).name, title="", status=f"rejected: {error.message}"))
    info = advisor.store.info()
    version = info.get("knowledge_version")
    label = f"{version} · {info.get('documents', len(report.docs))} documents · ingested {info.get('last_ingest', 'never')}"
    return KnowledgeStatus(knowledge_version=version, label=label, documents=len(report.docs),
                           attention=sorted(attention, key=lambda d: (d.review_by or date.max, d.doc_id)))


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def masked_text(text: str, raw: dict, masked: dict, json_escaped: bool = False) -> str:
    """``text`` (a plan summary, a plan's JSON) with every profile value that masking changed replaced by
    its masked form, so a segment label naming the anchor firm does not carry it into the audit trail."""
    for key, value in raw.items():
        pairs = zip(value, masked.get(key) or []) if isinstance(value, list) else [(value, masked.get(key))]
        for before, after in pairs:
            if isinstance(before, str) and isinstance(after, str) and after != before and len(before) > 1:
                old, new = (dumps(before)[1:-1], dumps(after)[1:-1]) if json_escaped else (before, after)
                text = text.replace(old, new)
    return text


def require_audit_id(value: str) -> str:
    if not value or not value.strip():
        raise InputError("give an audit id (shown as audit_id in ask --json and plan --format json)")
    return value.strip()
