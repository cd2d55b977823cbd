"""Chinese questions and Chinese editions: keywords, the multilingual model, and the language of passages.

One bilingual store for the module: the small corpus plus the Chinese editions shipped in knowledge/docs,
with both dense lists (MiniLM and the multilingual model) real.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest

from assistant.answers.advisor import Advisor, AskRequest
from assistant.config import Settings
from assistant.plugins import default_registry
from assistant.search import keywords
from assistant.search.keywords import add_keywords, glossary_keywords, tokenize
from assistant.search.languages import question_language, reads_chinese
from assistant.search.multilingual import E5Embedder, MultilingualEmbedder

from .conftest import KNOWLEDGE, ROOT, SMALL_DOCS, make_knowledge

EDITIONS = sorted(p.name.removesuffix(".zh.md") for p in (KNOWLEDGE / "docs").glob("*.zh.md"))


# Every shipped document has a Chinese edition; these two are left English-only here, as a bank's own
# English documents would be, so the tests can see what a Chinese question gets from them.
ENGLISH_ONLY = {"sme-size-classification", "coverage-team-models"}


def bilingual_knowledge(target: Path) -> Path:
    make_knowledge(target)
    for stem in EDITIONS:
        if stem in SMALL_DOCS and stem not in ENGLISH_ONLY:
            shutil.copy(KNOWLEDGE / "docs" / f"{stem}.zh.md", target / "docs" / f"{stem}.zh.md")
    return target


@pytest.fixture(scope="module")
def bilingual(tmp_path_factory) -> Advisor:
    base = tmp_path_factory.mktemp("bilingual")
    advisor = Advisor(Settings(_env_file=None, knowledge_dir=bilingual_knowledge(base / "knowledge"), data_dir=base / "data"))
    report = advisor.ingest()
    assert not report.errors and report.multilingual_chunks == report.embedded_chunks == report.chunks
    return advisor


def test_editions_of_the_small_corpus_are_shipped():
    assert {"baoshang-bank-failure", "retail-tier-scheme"} <= set(EDITIONS)


# --- keywords -------------------------------------------------------------------------------------

def test_glossary_terms_are_single_keywords():
    add_keywords(glossary_keywords(KNOWLEDGE / "data"))
    assert "包商银行" in tokenize("风险经理可以从包商银行的倒闭中吸取哪些教训？")
    assert "一户一策" in tokenize("大客户为什么要一户一策")
    assert "供应链金融" in tokenize("核心企业带动的供应链金融怎么做")
    assert "哪些" not in tokenize("风险经理可以从包商银行的倒闭中吸取哪些教训？")


def test_segmenter_loads_quietly_and_writes_nothing_into_the_repository(capfd):
    before = {p.name for p in ROOT.iterdir()}
    keywords._segmenters.clear()
    keywords._added.clear()
    try:
        assert tokenize("城市商业银行的零售客户分层") and capfd.readouterr().err == ""
        assert {p.name for p in ROOT.iterdir()} == before
    finally:  # later tests in this process expect the glossary words back
        add_keywords(glossary_keywords(KNOWLEDGE / "data"))


def test_glossary_words_wait_for_the_first_chinese_text_and_english_never_loads_jieba():
    keywords._segmenters.clear()
    keywords._added.clear()
    try:
        assert add_keywords(glossary_keywords(KNOWLEDGE / "data")) > 100
        assert tokenize("How is RAROC calculated?") == ["raroc", "calcul"] and not keywords._segmenters
        assert "包商银行" in tokenize("包商银行的教训") and keywords._segmenters   # words added before it was built
        before = keywords.vocabulary()
        assert add_keywords(["新词测试"]) == 1 and "新词测试" in tokenize("新词测试的意思")   # and after
        assert keywords.vocabulary() != before
    finally:
        keywords._segmenters.clear()
        keywords._added.clear()
        add_keywords(glossary_keywords(KNOWLEDGE / "data"))


def test_a_missing_glossary_costs_keywords_not_answers(tmp_path):
    assert glossary_keywords(tmp_path) == []
    (tmp_path / "glossary.yaml").write_text("- term: [unclosed\n", encoding="utf-8")
    assert glossary_keywords(tmp_path) == []


# --- the multilingual model ---------------------------------------------------------------------

@pytest.mark.parametrize("name, cls, dimension", [("multilingual", E5Embedder, 384), ("multilingual-e5-small", E5Embedder, 384),
                                                   ("use-multilingual-v3", MultilingualEmbedder, 512)])
def test_multilingual_embedders_are_registered_and_read_chinese_against_english(name, cls, dimension):
    embedder = default_registry().get("embedder", name)(Settings(_env_file=None))
    assert type(embedder) is cls and embedder.multilingual and embedder.dimension == dimension
    english = ["Baoshang Bank was taken over because its controlling shareholder drained it through related loans.",
               "Private banking starts at RMB 6 million of financial assets.",
               "RAROC divides risk-adjusted return by economic capital."]
    questions = ["包商银行为什么被接管？", "私人银行客户的门槛是多少？", "风险调整后资本收益率怎么计算？"]
    vectors = embedder.encode(english)
    assert vectors.shape == (3, dimension) and np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-4)
    scores = embedder.encode_cached(questions) @ vectors.T
    assert list(scores.argmax(axis=1)) == [0, 1, 2]


def test_the_list_ranks_with_e5_and_the_gate_reads_use_unless_told_to_share(bilingual):
    """The Chinese thresholds are calibrated on USE's cosines; the list ranks better with e5."""
    assert bilingual.multilingual_embedder.model_name == "multilingual-e5-small"
    assert bilingual.multilingual_embedder.batch_size == 8   # a question during an ingest waits for one small batch
    assert bilingual.multilingual_store.info()["embedding_model"] == "multilingual-e5-small"
    assert bilingual.multilingual_scorer.model_name == "use-multilingual-v3"
    assert bilingual.composer.embedder_for("包商银行为什么被接管？") is bilingual.multilingual_scorer
    shared = Advisor(bilingual.settings.model_copy(update={"multilingual_scorer": "list"}), embedder=bilingual.embedder)
    assert shared.multilingual_scorer is shared.multilingual_embedder


@pytest.mark.parametrize("question, doc", [("两增两控是什么", "inclusive-finance-policy"), ("什么是两增两控？", "inclusive-finance-policy"),
                                           ("请简单解释一下两增两控。", "inclusive-finance-policy"), ("包商银行是什么意思？", "baoshang-bank-failure")])
def test_a_term_asked_about_in_chinese_is_answered_from_its_chinese_edition(bilingual, question, doc):
    """The shipped default (e5 as the list's model) over a base with Chinese editions."""
    answer = bilingual.ask(question)
    assert answer.grounded, answer.answer
    assert answer.citations[0].doc_id == f"{doc}-zh", answer.citations[0].doc_id


def test_embedder_for_picks_the_model_that_reads_the_question(bilingual):
    assert bilingual.embedder_for("包商银行为什么被接管？") is bilingual.multilingual_scorer
    assert bilingual.embedder_for("What does 一户一策 mean for a major client?") is bilingual.multilingual_scorer
    assert bilingual.embedder_for("How is RAROC calculated?") is bilingual.embedder
    mixed = "What does 一户一策 mean for a major client?"
    assert question_language("RAROC怎么算？") == "zh" and question_language(mixed) == "en"
    assert reads_chinese(mixed) and not reads_chinese("What is RAROC?")


# --- retrieval in the question's language --------------------------------------------------------

def families_with_editions(advisor: Advisor) -> set[str]:
    return {c.family for c in advisor.store.all_chunks() if c.edition_of}


def test_chinese_question_is_answered_from_the_chinese_edition(bilingual):
    hits = bilingual.retrieve(AskRequest(question="风险经理可以从那家被接管的包头银行身上学到什么？", k=5))
    assert hits[0].chunk.doc_id == "baoshang-bank-failure-zh"
    translated = families_with_editions(bilingual)
    assert all(h.chunk.language == "zh" for h in hits if h.chunk.family in translated)
    assert hits[0].ml_similarity is not None and hits[0].ml_similarity > 0.3  # MiniLM cannot read either side


def test_a_framed_chinese_question_about_lessons_is_answered_by_the_lessons(bilingual):
    """"我们城商行" places the asker (framing.py); the lessons section's summary answers, not the bank's history."""
    answer = bilingual.ask("包商银行倒闭给我们城商行留下什么教训？")
    assert answer.grounded and answer.question == "包商银行倒闭给我们城商行留下什么教训？"
    assert (answer.citations[0].doc_id, answer.citations[0].section) == ("baoshang-bank-failure-zh", "城市商业银行的风险启示")
    assert "最终控制人" in answer.answer or "真正股东" in answer.answer


def test_a_vetted_answer_elsewhere_in_a_retrieved_document_leads(bilingual):
    """The tier document's thresholds FAQ lists "零售客户按资产分几层，各层门槛是多少？"; a paraphrase that retrieves
    other sections of the document still gets the vetted answer, citing the thresholds section's own chunk."""
    from assistant.answers.faq import document_faqs

    question = "零售客户按资产怎么分层？"
    composer = bilingual.composer
    library = composer.library()
    passages = composer.passages(bilingual.retrieve(AskRequest(question=question)))
    extra = document_faqs(passages, library)
    retrieved = {(p.section.doc_id, p.section.section) for p in passages}
    assert extra and all(p.section.faq for p in extra)
    assert not retrieved & {(p.section.doc_id, p.section.section) for p in extra}
    assert all(p.hits[0].chunk.id == library.heads[(p.section.doc_id, p.section.section)].id for p in extra)
    answer = bilingual.ask(question)
    assert (answer.citations[0].kind, answer.citations[0].section) == ("faq", "分层门槛")
    assert "5万元" in answer.answer and "600万元" in answer.answer


@pytest.mark.parametrize("question", ["为什么包商银行会倒闭？我们能学到什么？", "Why did Baoshang Bank fail?"])
def test_why_baoshang_failed_gets_the_vetted_answer_on_its_cause(bilingual, question):
    """The first question a trainee asks of the case; it had been answered with the training notes and the
    lessons, then (in English) with the takeover's vetted answer, never the cause: the owner's extraction
    and the two missing controls."""
    answer = bilingual.ask(question)
    assert answer.citations[0].kind == "faq", answer.answer[:200]
    assert answer.citations[0].section in ("城市商业银行的风险启示", "Risk lessons for a city commercial bank")
    assert "89%" in answer.answer and ("明天集团" in answer.answer or "Tomorrow Group" in answer.answer)
    assert "公司治理" in answer.answer or "governance" in answer.answer


@pytest.mark.parametrize("question", ["长城是什么时候修建的？", "孔子是哪里人？"])
def test_a_general_knowledge_question_in_chinese_is_declined(bilingual, question):
    """Everyday words (什么时候, 修建) meet some passage; the one word the base never uses (长城) and a cosine
    under 0.20 say the question is about something else."""
    answer = bilingual.ask(question)
    assert not answer.grounded, answer.answer[:200]
    evidence = bilingual.composer.evidence(question, bilingual.retrieve(AskRequest(question=question)))
    assert evidence.unknown >= 1 and evidence.dense < 0.20


def test_a_short_chinese_question_about_the_case_is_not_taken_for_a_foreign_tax_question(bilingual):
    """Short Chinese questions sit far from any passage under the multilingual model, and "英国对银行征收的银行税
    怎么算？" (out of scope) was nearer; a question the lessons section lists is nearer still."""
    answer = bilingual.ask("包商银行出了什么问题？")
    assert answer.grounded, answer.answer
    assert answer.citations[0].doc_id.startswith("baoshang-bank-failure")


def test_english_question_gets_english_passages_where_they_exist(bilingual):
    hits = bilingual.retrieve(AskRequest(question="Which tier does a customer with RMB 80,000 daily average balance belong to?", k=5))
    assert hits[0].chunk.doc_id == "retail-tier-scheme"
    assert all(h.chunk.language == "en" for h in hits)


def test_chinese_question_without_a_chinese_edition_gets_the_english_passage_marked_english(bilingual):
    hits = bilingual.retrieve(AskRequest(question="按照2011年的标准，批发企业多少员工算小型企业？", k=5))
    sme = [h for h in hits if h.chunk.doc_id == "sme-size-classification"]
    assert sme and all(h.chunk.language == "en" for h in sme)


def test_counterpart_is_the_same_section_of_the_other_edition(bilingual):
    editions = bilingual.retriever.keyword_index().editions
    english = [c for c in bilingual.store.all_chunks() if c.doc_id == "retail-tier-scheme" and c.section_index > 0]
    for chunk in english:
        twin = editions.counterpart(chunk, "zh")
        assert twin.doc_id == "retail-tier-scheme-zh" and twin.section_index == chunk.section_index
        assert editions.counterpart(twin, "en").doc_id == "retail-tier-scheme"
    bank_only = next(c for c in bilingual.store.all_chunks() if c.doc_id == "coverage-team-models")
    assert editions.counterpart(bank_only, "zh") is None


def test_filters_hold_after_passages_change_language(bilingual):
    hits = bilingual.retrieve(AskRequest(question="零售客户分层的门槛", k=5, filters={"segments": "affluent"}))
    assert hits and all({"affluent", "all"} & set(h.chunk.segments) for h in hits)


def test_the_multilingual_list_can_be_turned_off(bilingual):
    settings = bilingual.settings.model_copy(update={"multilingual_embedder": "none"})
    advisor = Advisor(settings, embedder=bilingual.embedder)
    assert advisor.multilingual_embedder is None and advisor.multilingual_store is None
    assert advisor.embedder_for("包商银行为什么被接管？") is advisor.embedder
    hits = advisor.retrieve(AskRequest(question="包商银行为什么被接管？", k=3))
    assert hits[0].chunk.doc_id == "baoshang-bank-failure-zh" and hits[0].ml_similarity is None


def test_two_embedders_of_one_model_share_its_forward_lock():
    """The loaded model is shared (one per process), so its forward passes must be serialised across
    embedders, not per embedder: two advisors in one process (a bench, a test session) share it."""
    assert E5Embedder()._encode_lock is E5Embedder()._encode_lock
    assert MultilingualEmbedder()._encode_lock is not E5Embedder()._encode_lock
