"""The multilingual list is written by the same incremental ingest, and each list heals on its own;
the bank's Chinese files (txt, docx, pdf) are cut on Chinese sentences and headings."""

from __future__ import annotations

import pytest
from docx import Document as DocxDocument

from assistant.answers.advisor import Advisor, AskRequest
from assistant.knowledge.converters import chinese_headings, unwrap_cjk_lines
from assistant.search.ingest import IngestRequest

from .pdf_fixture import chinese_pdf, cjk_font

DOCS = ["retail-tier-scheme", "baoshang-bank-failure"]


def ids(store) -> dict[str, str]:
    return {c.id: c.doc_hash for c in store.all_chunks()}


@pytest.fixture()
def settings(make_settings, tmp_path):
    from .conftest import KNOWLEDGE, make_knowledge

    knowledge = make_knowledge(tmp_path / "knowledge", DOCS)
    (knowledge / "docs" / "retail-tier-scheme.zh.md").write_bytes((KNOWLEDGE / "docs" / "retail-tier-scheme.zh.md").read_bytes())
    return make_settings(knowledge_dir=knowledge)


def test_both_lists_hold_the_same_chunks_and_heal_separately(settings, advisor):
    adv = Advisor(settings, embedder=advisor.embedder, ml_embedder=advisor.multilingual_embedder)
    first = adv.ingest()
    assert first.added == 3 and first.multilingual_chunks == first.embedded_chunks == first.chunks
    assert ids(adv.store) == ids(adv.multilingual_store)
    assert adv.multilingual_store.info()["embedding_model"] == adv.multilingual_embedder.model_name

    # A run killed between the two writes of a document: only that document's multilingual side is redone.
    adv.multilingual_store.delete_doc("baoshang-bank-failure")
    healed = adv.ingest()
    baoshang = sum(1 for c in adv.store.all_chunks() if c.doc_id == "baoshang-bank-failure")
    assert (healed.embedded_chunks, healed.multilingual_chunks, healed.updated, healed.unchanged) == (0, baoshang, 1, 2)
    assert ids(adv.store) == ids(adv.multilingual_store)

    # Removing a document removes it from both lists (one of three is past the safety share: prune says so).
    (settings.docs_dir / "retail-tier-scheme.zh.md").unlink()
    gone = adv.ingest(IngestRequest(prune=True))
    assert gone.removed == 1
    assert "retail-tier-scheme-zh" not in {c.doc_id for c in adv.multilingual_store.all_chunks()}
    assert ids(adv.store) == ids(adv.multilingual_store)


def test_turning_the_list_on_embeds_only_the_multilingual_side(settings, advisor):
    english_only = Advisor(settings.model_copy(update={"multilingual_embedder": "none"}), embedder=advisor.embedder)
    off = english_only.ingest()
    assert off.multilingual_chunks == 0 and off.embedded_chunks == off.chunks
    adv = Advisor(settings, embedder=advisor.embedder, ml_embedder=advisor.multilingual_embedder)
    on = adv.ingest()
    assert on.embedded_chunks == 0 and on.multilingual_chunks == on.chunks == off.chunks
    again = adv.ingest()
    assert (again.embedded_chunks, again.multilingual_chunks, again.unchanged) == (0, 0, 3)


def test_another_multilingual_model_starts_its_list_afresh(settings, advisor):
    adv = Advisor(settings, embedder=advisor.embedder, ml_embedder=advisor.multilingual_embedder)
    first = adv.ingest()
    adv.multilingual_store.bump_revision({"embedding_model": "some-other-model"})
    switched = adv.ingest()
    assert switched.embedded_chunks == 0 and switched.multilingual_chunks == first.chunks
    assert adv.multilingual_store.info()["embedding_model"] == adv.multilingual_embedder.model_name


def test_an_app_started_over_a_list_of_the_old_model_embeds_it_again_before_answering(settings, advisor):
    """An upgrade from USE to e5 as the list's model: the old 512-d vectors cannot be read by a 384-d
    question, so the first start re-embeds the list (a store of the same model is left alone)."""
    old = Advisor(settings.model_copy(update={"multilingual_embedder": "use-multilingual-v3"}), embedder=advisor.embedder)
    old.ingest()
    assert old.multilingual_store.info()["embedding_model"] == "use-multilingual-v3"
    upgraded = Advisor(settings, embedder=advisor.embedder, ml_embedder=advisor.multilingual_embedder)
    report = upgraded.ensure_ingested()
    assert report is not None and report.embedded_chunks == 0 and report.multilingual_chunks == report.chunks
    assert upgraded.multilingual_store.info()["embedding_model"] == "multilingual-e5-small"
    assert upgraded.retrieve(AskRequest(question="零售客户怎么分层？", k=3))[0].chunk.doc_id == "retail-tier-scheme-zh"
    assert upgraded.ensure_ingested() is None


def test_wrapped_chinese_lines_are_joined_and_numbered_headings_become_sections():
    text = unwrap_cjk_lines("第二章 授信政策\n客户经理每月至少拜访一次战\n略客户。贷款定价不低于LPR加\n50个基点！\nEnglish line\nwraps here.")
    assert "客户经理每月至少拜访一次战略客户。贷款定价不低于LPR加50个基点！" in text.splitlines()
    assert "English line" in text.splitlines()
    marked = chinese_headings(text + "\n一、准入条件\n（一）客户范围\n本行服务小微企业。")
    assert "## 第二章 授信政策" in marked and "### 一、准入条件" in marked and "#### （一）客户范围" in marked
    assert chinese_headings("一、加强管理；二、控制风险。") == "一、加强管理；二、控制风险。"


POLICY = [
    ("第一章 总则", None),
    ("本手册适用于包头分行全体客户经理。客户经理对名下客户的尽职调查负责；发现预警信号须在两个工作日内报告。", None),
    ("第二章 小微企业授信", None),
    ("一、准入条件", None),
    ("申请人须在本地连续经营满两年，纳税信用等级为B级以上。单户授信额度不超过500万元！", None),
    ("二、贷后管理", None),
    ("贷款发放后三十天内完成首次贷后检查；此后每季度至少现场检查一次。", None),
]


def write_bank_files(folder):
    folder.mkdir()
    (folder / "贷后管理办法.txt").write_bytes("\n".join(line for line, _ in POLICY).encode("gb18030"))
    document = DocxDocument()
    document.add_heading("零售客户分层营销指引", level=1)
    document.add_heading("一、分层标准", level=2)
    document.add_paragraph("月日均资产达到五十万元的客户纳入财富客户管理。财富客户由专属理财经理每月联系一次。")
    document.add_heading("二、营销活动", level=2)
    document.add_paragraph("每季度举办一次财富客户沙龙；活动预算由支行统一申请。")
    document.save(folder / "分层营销指引.docx")
    (folder / "授信手册.pdf").write_bytes(chinese_pdf([line for line, _ in POLICY]))


@pytest.mark.skipif(cjk_font() is None, reason="no CJK font (apt-get install fonts-noto-cjk)")
def test_chinese_bank_files_are_cut_on_chinese_sentences_and_headings(settings, advisor, tmp_path):
    own = tmp_path / "bank-files"
    write_bank_files(own)
    adv = Advisor(settings, embedder=advisor.embedder, ml_embedder=advisor.multilingual_embedder)
    report = adv.ingest(IngestRequest(sources=[own]))
    assert not report.errors and report.added == 3 + 3
    bank = [c for c in adv.store.all_chunks() if c.source == "bank"]
    assert {c.language for c in bank} == {"zh"}
    sections = {c.section for c in bank}
    assert any(s.endswith("一、准入条件") and s.startswith("第二章") for s in sections), sections
    assert any("一、分层标准" in s for s in sections), sections
    joined = "申请人须在本地连续经营满两年，纳税信用等级为B级以上。"
    assert sum(joined in c.text for c in bank) >= 2, [c.text for c in bank]  # the txt and the wrapped PDF

    hits = adv.retrieve(AskRequest(question="小微企业贷款发放以后多久要做第一次贷后检查？", k=3))
    assert hits[0].chunk.source == "bank" and "三十天" in hits[0].chunk.text
    # An English question the bank's Chinese manual alone answers finds it through the multilingual list
    # (e5 ranks it second there, after an English passage on loan checks; USE ranked it first)
    hits = adv.retrieve(AskRequest(question="Within how many days of disbursement is the first post-loan inspection due?", k=3))
    assert any(h.chunk.source == "bank" and h.chunk.language == "zh" and h.ml_rank <= 2 for h in hits)


def test_every_question_reads_the_multilingual_list_and_gets_passages_in_its_language(settings, advisor):
    """Until 2026-12-04 an English question skipped the list unless a Chinese passage had no English edition
    (with USE it added nothing); e5 ranks English passages well enough to raise English key points."""
    adv = Advisor(settings, embedder=advisor.embedder, ml_embedder=advisor.multilingual_embedder)
    adv.ingest()
    read: list[str] = []
    original = adv.multilingual_embedder.encode_cached

    def counting(texts):
        read.extend(texts)
        return original(texts)

    adv.multilingual_embedder.encode_cached = counting
    english = "What AUM makes a retail customer affluent?"
    hits = adv.retrieve(AskRequest(question=english, k=3))
    assert read == [english] and hits and all(h.chunk.language == "en" for h in hits)   # editions handed over
    assert hits[0].chunk.doc_id == "retail-tier-scheme" and hits[0].ml_rank is not None
    read.clear()
    chinese = adv.retrieve(AskRequest(question="富裕客户的资产门槛是多少？", k=3))
    assert read == ["富裕客户的资产门槛是多少？"] and chinese[0].chunk.language == "zh" and chinese[0].ml_rank is not None
