"""Audit trail, replay, knowledge currency, plan approval and disclaimers."""

import json
import re
import sqlite3
import threading
from datetime import date

import pytest

from assistant.answers.advisor import Advisor, AskRequest
from assistant.governance.audit import AuditRecord, AuditStore, AuditUnavailable, ChunkRef
from assistant.clients.exports import to_docx, to_markdown
from assistant.governance.service import Governance, knowledge_status
from assistant.clients.profiles import load_profiles
from assistant.governance.reviews import ReviewError, ReviewStore

from .conftest import KNOWLEDGE

DOCS = ["coverage-team-models", "client-profitability-raroc-eva", "retail-tier-scheme", "compliance-basics-for-rms",
        "supply-chain-finance", "major-clients-and-their-needs"]


@pytest.fixture()
def governance(make_settings, tmp_path):
    from .conftest import make_knowledge
    settings = make_settings(knowledge_dir=make_knowledge(tmp_path / "kb", DOCS))
    advisor = Advisor(settings)
    advisor.ingest()
    return Governance(advisor)


def profile(stem):
    return load_profiles(KNOWLEDGE / "profiles" / f"{stem}.json")[0]


def test_every_answer_gets_an_audit_record_with_hashed_chunks(governance):
    answer = governance.ask(AskRequest(question="How is RAROC calculated?", k=4), user="li.wei")
    assert answer.audit_id and answer.disclaimer
    record = governance.show(answer.audit_id)
    assert record.kind == "answer" and record.user == "li.wei"
    assert record.inputs["question"] == "How is RAROC calculated?" and record.inputs["k"] == 4
    assert len(record.chunks) == 4 and all(len(c.content_hash) == 16 for c in record.chunks)
    assert {c.chunk_id for c in record.chunks if c.cited} == {c.chunk_id for c in answer.citations}
    assert record.knowledge_version and record.composer == "extractive"
    assert record.settings["embedding_model"] and "min_relevance" in record.settings


def test_plan_records_mask_personal_data_unless_kept(governance, make_settings):
    p = profile("p12-private-banking-entrepreneur")
    plan = governance.plan(p, user="rm1")
    record = governance.show(plan.audit_id)
    assert record.kind == "plan" and p.name not in record.model_dump_json()
    assert record.inputs["profile"]["name"].startswith("[masked]") and record.inputs["profile"]["aum_rmb"] == p.aum_rmb
    keep = Governance(Advisor(governance.settings.model_copy(update={"audit_keep_personal_data": True})))
    assert keep.show(keep.plan(p).audit_id).inputs["profile"]["name"] == p.name


def test_replay_is_the_same_until_a_cited_document_changes(governance):
    answer = governance.ask(AskRequest(question="What does one client, one policy mean?"))
    plan = governance.plan(profile("p05-large-soe"))
    assert governance.replay(answer.audit_id).same
    assert governance.replay(plan.audit_id).same
    cited = answer.citations[0]
    doc = governance.settings.docs_dir / f"{cited.doc_id}.md"
    text = doc.read_text(encoding="utf-8")
    sentence = cited.text.split(". ")[0]
    assert sentence in text
    doc.write_text(text.replace(sentence, sentence + " (revised by the credit committee)"), encoding="utf-8")
    governance.advisor.ingest()
    report = governance.replay(answer.audit_id)
    assert not report.same and cited.doc_id in report.changed_documents
    assert report.knowledge_version_then != report.knowledge_version_now
    assert f"changed documents: {cited.doc_id}" in report.summary()


def test_audit_trail_is_append_only(governance):
    answer = governance.ask(AskRequest(question="What is RAROC?"))
    conn = sqlite3.connect(governance.settings.audit_path)
    for table in ("audit", "audit_completion"):
        with pytest.raises(sqlite3.DatabaseError, match="append-only"):
            conn.execute(f"update {table} set record = 'x' where id = ?", (answer.audit_id,))
        with pytest.raises(sqlite3.DatabaseError, match="append-only"):
            conn.execute(f"delete from {table}")
    conn.close()


def raw_rows(governance, audit_id: str) -> tuple[list, list]:
    with sqlite3.connect(governance.settings.audit_path) as conn:
        started = [json.loads(r[0]) for r in conn.execute("select record from audit where id = ?", (audit_id,))]
        completed = [json.loads(r[0]) for r in conn.execute("select record from audit_completion where id = ?", (audit_id,))]
    return started, completed


def test_an_answer_is_recorded_as_started_before_it_is_composed_then_completed_in_a_second_row(governance):
    answer = governance.ask(AskRequest(question="How is RAROC calculated?"), user="li.wei")
    started, completed = raw_rows(governance, answer.audit_id)
    assert [r["status"] for r in started] == ["started"] and started[0]["output_hash"] == ""
    assert [r["status"] for r in completed] == ["completed"] and completed[0]["output_summary"] == answer.answer[:300]
    record = governance.show(answer.audit_id)  # show reads both rows together
    assert record.status == "completed" and record.completed_at and record.user == "li.wei"
    assert record.created_at == started[0]["created_at"]
    assert governance.audit.recent(1)[0].status == "completed"
    assert governance.replay(answer.audit_id).same


def test_a_stream_is_recorded_before_its_first_text_and_an_abandoned_one_is_marked_interrupted(governance):
    stream = governance.ask_stream(AskRequest(question="What does one client, one policy mean?"), user="rm1")
    first = next(stream)
    assert first.answer is None and first.delta
    pending = governance.audit.recent(1)[0]
    assert pending.status == "started" and pending.user == "rm1" and pending.inputs["question"].startswith("What does one")
    stream.close()  # the reader left half-way
    left = governance.show(pending.id)
    assert left.status == "interrupted" and "stopped before the answer was complete" in left.output_summary
    assert "never completed (status interrupted)" in governance.replay(pending.id).summary()


def test_only_the_first_step_of_a_streamed_answer_clears_the_question_box(governance):
    """What the user types while an answer streams is the next question: later steps must not wipe it."""
    from assistant.interfaces.app.ask_tab import AskTab
    from assistant.interfaces.app.common import AppContext

    steps = list(AskTab(AppContext(governance.advisor)).ask_stream(
        "What does one client, one policy mean?", [], [], None, "any", "any", "any", None))
    questions = [step[4] for step in steps]
    assert len(steps) >= 2 and questions[0] == ""
    assert all(isinstance(q, dict) and "value" not in q for q in questions[1:]), questions  # gr.update(): no change
    assert steps[-1][5] is not None  # the final step still carries the answer


def test_an_answer_whose_audit_record_cannot_be_completed_is_withdrawn_and_the_user_told_why(governance):
    from assistant.interfaces.app.ask_tab import AskTab
    from assistant.interfaces.app.common import AppContext

    ctx = AppContext(governance.advisor)
    ctx.governance.audit = AuditStore(governance.settings.audit_path, timeout=0.2)
    steps = AskTab(ctx).ask_stream("What does one client, one policy mean?", [], [], None, "any", "any", "any", None)
    messages, *_ = next(steps)
    assert messages[-1]["role"] == "assistant" and messages[-1]["content"]  # the first sentence is on screen
    shown = messages[-1]["content"]
    blocker = sqlite3.connect(governance.settings.audit_path, isolation_level=None)
    blocker.execute("begin immediate")  # another process holds the audit database: the completion cannot be written
    try:
        outputs = list(steps)
    finally:
        blocker.execute("rollback")
        blocker.close()
    messages, turns, _, error, question, last, *_client = outputs[-1]
    assert messages[-1]["content"].startswith("⚠️ Answer withdrawn: the answer is not shown because its audit record")
    assert not any(shown in m["content"] for m in messages if m["role"] == "assistant")
    assert "could not be written" in error and "database is locked" in error
    assert last is None and question == "What does one client, one policy mean?" and turns == []
    assert governance.audit.recent(1)[0].status == "started"  # the trail still says an answer was begun


def test_no_answer_is_shown_when_the_audit_trail_cannot_be_written(governance, tmp_path):
    from typer.testing import CliRunner

    from assistant.interfaces.app.ask_tab import AskTab
    from assistant.interfaces.app.common import AppContext
    from assistant.interfaces.cli import app as cli_app

    blocked = tmp_path / "not-a-folder"
    blocked.write_text("a file where the audit folder should be")
    broken = Advisor(governance.settings.model_copy(update={"audit_db": blocked / "audit.sqlite3"}),
                     store=governance.advisor.store, embedder=governance.advisor.embedder)
    with pytest.raises(AuditUnavailable, match="the answer is not shown because its audit record could not be written"):
        Governance(broken).ask(AskRequest(question="How is RAROC calculated?"))
    with pytest.raises(AuditUnavailable, match="the plan is not shown"):
        Governance(broken).plan(profile("p08-mass-retail"))
    messages, _, _, error, _, last, *_client = next(AskTab(AppContext(broken)).ask_stream(
        "How is RAROC calculated?", [], [], None, "any", "any", "any", None))
    assert messages == [] and last is None and "not shown because its audit record" in error
    env = {"ADVISOR_KNOWLEDGE_DIR": str(governance.settings.knowledge_dir), "ADVISOR_DATA_DIR": str(governance.settings.data_dir),
           "ADVISOR_AUDIT_DB": str(blocked / "audit.sqlite3")}
    result = CliRunner().invoke(cli_app, ["ask", "How is RAROC calculated?"], env=env)
    assert result.exit_code == 2 and "not shown because its audit record" in result.output and "RAROC =" not in result.output


def test_identity_and_phone_numbers_in_questions_are_masked_in_the_audit_record(governance):
    question = "Client 110105198804124215 (mobile 138 0013 8000, or +86-13912345678) asks how RAROC is calculated"
    answer = governance.ask(AskRequest(question=question))
    text = json.dumps(raw_rows(governance, answer.audit_id), ensure_ascii=False)
    for secret in ("110105198804124215", "138 0013 8000", "13912345678"):
        assert secret not in text
    recorded = governance.show(answer.audit_id).inputs["question"]
    assert recorded == "Client [masked id number] (mobile [masked phone number], or [masked phone number]) asks how RAROC is calculated"
    keep = Governance(Advisor(governance.settings.model_copy(update={"audit_keep_personal_data": True}),
                              store=governance.advisor.store, embedder=governance.advisor.embedder))
    assert keep.show(keep.ask(AskRequest(question=question)).audit_id).inputs["question"] == question


def test_the_audit_trail_and_the_model_prompt_mask_the_same_fields_the_same_way(governance, advisor):
    from assistant.answers.privacy import PERSONAL_FIELDS
    from assistant.answers.prompting import build_messages

    p = profile("p04-supply-chain-supplier").model_copy(update={
        "id_number": "91620100MA74XQ2K3R", "notes": "Owner's mobile 13800138000; prefers calls after six"})
    values = {field: getattr(p, field) for field in PERSONAL_FIELDS}
    assert all(values.values()), "the profile must fill every personal field"
    record = governance.show(governance.plan(p).audit_id)
    audited = record.inputs["profile"]
    assert p.anchor_firm not in record.model_dump_json()  # nor in the summary ("Supply-chain supplier of ...")
    _, prompt = build_messages("What should we offer?", advisor.retrieve(AskRequest(question="supply chain finance")), p)
    for field, value in values.items():
        assert value not in json.dumps(audited, ensure_ascii=False) and value not in prompt.content, field
        assert f'"{field}": "{audited[field]}"' in prompt.content, field  # the same masked value in both
    assert "13800138000" not in prompt.content


def test_concurrent_writers_lose_no_audit_record(tmp_path):
    store = AuditStore(tmp_path / "audit.sqlite3")

    def write(n: int) -> None:
        for i in range(25):
            store.add(AuditRecord(kind="answer", inputs={"q": f"{n}-{i}"}, settings={}, knowledge_version="v",
                                  chunks=[ChunkRef(chunk_id="c", doc_id="d", content_hash="h")], composer="extractive",
                                  output_hash="x", output_summary="s"))

    threads = [threading.Thread(target=write, args=(n,)) for n in range(20)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert store.count() == 500


def test_review_dates_warn_and_status_lists_them(governance):
    doc = governance.settings.docs_dir / "client-profitability-raroc-eva.md"
    text = doc.read_text(encoding="utf-8")
    dated = re.sub(r"^review_by: .*$", "review_by: 2020-01-31", text, count=1, flags=re.M)
    assert dated != text, "the test document must carry a review_by date to move"
    doc.write_text(dated, encoding="utf-8")
    governance.advisor.ingest()
    answer = governance.ask(AskRequest(question="How is RAROC calculated?"))
    assert any("due for review on 2020-01-31" in w for w in answer.warnings)
    status = knowledge_status(governance.advisor, today=date(2026, 11, 27))
    flagged = {d.doc_id: d.status for d in status.attention}
    assert flagged["client-profitability-raroc-eva"].startswith("overdue for review since 2020-01-31")
    plan = governance.plan(profile("p05-large-soe"))
    cited = {c.doc_id for s in plan.sections for i in s.items for c in i.citations}
    assert "client-profitability-raroc-eva" in cited, "the major-client plan prices with RAROC and must cite it"
    assert any("2020-01-31" in w for w in plan.warnings)
    assert "2020-01-31" in to_markdown(plan)


def test_approval_state_machine(governance, tmp_path):
    store = ReviewStore(tmp_path / "reviews.sqlite3")
    plan = governance.plan(profile("p06-listed-private-group"))
    stored = store.create(plan, "rm1", "relationship-manager")
    assert stored.status == "draft"
    with pytest.raises(ReviewError, match="needs a plan that is submitted"):
        store.transition(stored.plan_id, "approve", "boss", "manager")
    store.transition(stored.plan_id, "submit", "rm1", "relationship-manager")
    with pytest.raises(ReviewError, match="only a manager"):
        store.transition(stored.plan_id, "approve", "rm1", "relationship-manager")
    with pytest.raises(ReviewError, match="only a manager"):
        store.transition(stored.plan_id, "approve", None, None)
    with pytest.raises(ReviewError, match="needs a comment"):
        store.transition(stored.plan_id, "return", "boss", "manager")
    returned = store.transition(stored.plan_id, "return", "boss", "manager", "Add the FX hedging need.")
    assert returned.status == "returned" and returned.events[-1].comment == "Add the FX hedging need."
    store.edit(stored.plan_id, returned.plan, "rm1", "relationship-manager")
    store.transition(stored.plan_id, "submit", "rm1", "relationship-manager")
    approved = store.transition(stored.plan_id, "approve", "boss", "manager")
    assert approved.status == "approved" and approved.plan.approved_by == "boss" and approved.plan.approved_at
    with pytest.raises(ReviewError, match="only draft or returned"):
        store.edit(stored.plan_id, approved.plan, "rm1", "relationship-manager")
    with pytest.raises(ReviewError):
        store.transition(stored.plan_id, "submit", "rm1", "relationship-manager")
    from io import BytesIO

    from docx import Document
    text = "\n".join(p.text for p in Document(BytesIO(to_docx(approved.plan))).paragraphs)
    assert "Approved by boss" in text and approved.plan.audit_id in text and approved.plan.knowledge_version in text
    assert approved.plan.disclaimer.split()[0] in text


def test_plan_exports_carry_the_disclaimer(governance):
    plan = governance.plan(profile("p08-mass-retail"))
    assert plan.disclaimer and plan.disclaimer in to_markdown(plan)


def test_four_eyes_no_one_approves_a_plan_they_drafted_edited_or_submitted(governance, tmp_path):
    store = ReviewStore(tmp_path / "reviews.sqlite3")
    own = store.create(governance.plan(profile("p05-large-soe")), "li.wei", "manager")
    store.transition(own.plan_id, "submit", "li.wei", "manager")
    with pytest.raises(ReviewError, match="you submitted plan .* cannot approve it: four eyes"):
        store.transition(own.plan_id, "approve", "li.wei", "manager")

    stored = store.create(governance.plan(profile("p06-listed-private-group")), "rm1", "relationship-manager")
    store.edit(stored.plan_id, stored.plan, "m3", "manager")
    store.transition(stored.plan_id, "submit", "boss", "manager")
    for who, did in (("rm1", "drafted"), ("m3", "edited"), ("boss", "submitted")):
        with pytest.raises(ReviewError, match=f"you {did} plan"):
            store.transition(stored.plan_id, "approve", who, "manager")
    with pytest.raises(ReviewError, match="needs a signed-in approver"):
        store.transition(stored.plan_id, "approve", None, "manager")
    assert store.get(stored.plan_id).status == "submitted"  # every refusal left it as it was
    approved = store.transition(stored.plan_id, "approve", "m2", "manager")
    plan = approved.plan
    assert (plan.drafted_by, plan.submitted_by, plan.approved_by) == ("rm1", "boss", "m2")
    from io import BytesIO

    from docx import Document
    text = "\n".join(p.text for p in Document(BytesIO(to_docx(plan))).paragraphs)
    assert "Drafted by rm1 · submitted by boss" in text and "Approved by m2 on" in text
    assert "Drafted by rm1 · submitted by boss" in to_markdown(plan)


def test_classifications_are_audited_with_the_user_and_replay(governance):
    p = profile("p04-supply-chain-supplier")
    result = governance.classify(p, user="zhang.min")
    audit_id = governance.audit.recent(1)[0].id
    record = governance.show(audit_id)
    assert record.kind == "classify" and record.user == "zhang.min" and result.segment in record.output_summary
    assert p.name not in record.model_dump_json() and p.anchor_firm not in record.model_dump_json()
    assert governance.replay(audit_id).same


def test_a_question_asked_in_chinese_carries_the_chinese_disclaimer(governance):
    english = governance.ask("What is RAROC?")
    chinese = governance.ask("什么是RAROC？")
    mixed = governance.ask("What does 普惠 mean for small firms?")
    assert english.disclaimer.startswith("For internal use") and mixed.disclaimer == english.disclaimer
    assert chinese.disclaimer.startswith("仅供本行员工内部使用")
    streamed = list(governance.ask_stream(AskRequest(question="什么是RAROC？")))[-1].answer
    assert streamed.disclaimer == chinese.disclaimer


def _record(text: str) -> AuditRecord:
    return AuditRecord(kind="answer", inputs={"question": text}, settings={}, chunks=[], knowledge_version=None,
                       composer="extractive", output_hash="0", output_summary=text)


def test_a_kept_audit_connection_never_writes_into_a_file_that_was_deleted(tmp_path):
    """The store keeps one connection per thread; after the file is deleted a write must fail loudly,
    not land in the unlinked file that nobody will read."""
    path = tmp_path / "audit.sqlite3"
    store = AuditStore(path)
    first = store.add(_record("first"))
    assert store.get(first).output_summary == "first"
    for leftover in tmp_path.glob("audit.sqlite3*"):
        leftover.unlink()
    with pytest.raises(AuditUnavailable, match="no such table"):
        store.add(_record("second"))
    again = AuditStore(path)  # a new trail in its place works at once, from the same thread
    again.add(_record("third"))
    assert store.count() == again.count() == 1


def test_a_kept_audit_connection_recovers_after_a_failed_write(tmp_path):
    store = AuditStore(tmp_path / "audit.sqlite3", timeout=0.2)
    blocker = sqlite3.connect(tmp_path / "audit.sqlite3", isolation_level=None)
    blocker.execute("begin immediate")
    try:
        with pytest.raises(AuditUnavailable, match="locked"):
            store.add(_record("blocked"))
    finally:
        blocker.execute("rollback")
        blocker.close()
    store.add(_record("after"))
    assert [r.output_summary for r in store.recent(5)] == ["after"]
