"""Audit trail, replay, knowledge currency, plan approval and disclaimers."""

import re
import sqlite3
import threading
from datetime import date

import pytest

from assistant.answers.advisor import Advisor, AskRequest
from assistant.governance.audit import AuditRecord, AuditStore, ChunkRef
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
    with pytest.raises(sqlite3.DatabaseError, match="append-only"):
        conn.execute("update audit set user = 'x' where id = ?", (answer.audit_id,))
    with pytest.raises(sqlite3.DatabaseError, match="append-only"):
        conn.execute("delete from audit")
    conn.close()


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
    if any(c.doc_id == "client-profitability-raroc-eva" for s in plan.sections for i in s.items for c in i.citations):
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


def test_only_one_of_two_racing_approvals_wins(governance, tmp_path):
    store = ReviewStore(tmp_path / "reviews.sqlite3")
    stored = store.create(governance.plan(profile("p02-small-manufacturer")), "rm", "relationship-manager")
    store.transition(stored.plan_id, "submit", "rm", "relationship-manager")
    outcomes: list[str] = []

    def act(action: str, who: str) -> None:
        try:
            store.transition(stored.plan_id, action, who, "manager", "please revise")
            outcomes.append(action)
        except ReviewError:
            outcomes.append("refused")

    threads = [threading.Thread(target=act, args=(a, f"m{i}")) for i, a in enumerate(["approve", "return"] * 5)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert outcomes.count("refused") == 9


def test_plan_exports_carry_the_disclaimer(governance):
    plan = governance.plan(profile("p08-mass-retail"))
    assert plan.disclaimer and plan.disclaimer in to_markdown(plan)
