"""Hybrid retrieval, filters, the LangChain adapter and the grounded/ungrounded contract."""

import re

import pytest

from assistant.answers.advisor import AskRequest
from assistant.errors import InputError
from assistant.search.fusion import minmax_fusion, rrf
from assistant.search.retrieval import AdvisorRetriever, RetrievalQuery
from assistant.search.keywords import tokenize


def test_rrf_rewards_agreement_between_lists():
    fused = rrf([["a", "b", "c"], ["b", "d"]], k=60)
    assert max(fused, key=fused.get) == "b"
    assert fused["a"] > fused["d"]


def test_minmax_fusion_keeps_how_far_ahead_a_list_s_best_passage_is():
    """Ranks alone call a clear winner and a near tie the same; scaled scores do not. Dense says 'a' by
    far, keywords mildly prefer 'b': min-max fusion picks 'a', RRF cannot tell them apart."""
    from assistant.knowledge.chunking import Chunk

    def chunk(cid):
        return Chunk(id=cid, doc_id=cid, title=cid, section="", text=cid, position=0, doc_hash="h", doc_chunks=1,
                     source="general", topics=[], audience=[], segments=[])

    a, b, c = chunk("a"), chunk("b"), chunk("c")
    dense = [(a, 0.80), (b, 0.31), (c, 0.30)]
    keyword = [(b, 9.0), (a, 8.5), (c, 1.0)]
    fused = minmax_fusion([dense, keyword], [1.0, 1.0])
    assert max(fused, key=fused.get) == "a" and fused["a"] > fused["b"] > fused["c"]
    ranks = rrf([[x.id for x, _ in dense], [x.id for x, _ in keyword]])
    assert ranks["a"] == ranks["b"]
    assert minmax_fusion([[(a, 0.5), (b, 0.5)], []], [1.0, 1.0]) == {"a": 1.0, "b": 1.0}   # a flat list counts fully


def test_zscore_fusion_lets_a_clear_lead_outvote_an_ordinary_one():
    """Min-max gives each list's first passage 1 whether it stands far above the rest or is merely first of
    an even slope. Twenty candidates: the dense list has 'a' far above nineteen alike (with 'b' the best of
    them), the keyword list ranks 'b' first of an even slope with 'a' near the bottom. Min-max picks 'b'
    (1 + 0.16 against 1 + 0.11); scaling by the spread lets the clear lead win."""
    from assistant.knowledge.chunking import Chunk

    def chunk(cid):
        return Chunk(id=cid, doc_id=cid, title=cid, section="", text=cid, position=0, doc_hash="h", doc_chunks=1,
                     source="general", topics=[], audience=[], segments=[])

    rest = [chunk(f"r{i}") for i in range(18)]
    a, b = chunk("a"), chunk("b")
    dense = [(a, 0.90), (b, 0.52)] + [(r, 0.50 - 0.05 * i / 17) for i, r in enumerate(rest)]
    keyword = [(b, 10.0)] + [(r, 9.5 - 7.0 * i / 17) for i, r in enumerate(rest)] + [(a, 2.0)]
    ranged = minmax_fusion([dense, keyword], [1.0, 1.0])
    spread = minmax_fusion([dense, keyword], [1.0, 1.0], "spread")
    assert max(ranged, key=ranged.get) == "b"
    assert max(spread, key=spread.get) == "a"
    assert minmax_fusion([[(a, 0.5), (b, 0.5)]], [1.0], "spread") == {"a": 1.0, "b": 1.0}   # a flat list counts fully


def test_what_two_lists_find_in_two_editions_counts_for_one_section():
    """A Chinese question: the keywords find section A's Chinese edition second, the multilingual model
    finds A's English edition first. Handed over per list before fusion, A has both votes and leads;
    one list that finds both editions of a section still counts it once, at the better score."""
    from assistant.knowledge.chunking import Chunk
    from assistant.search.languages import Editions

    def chunk(doc, section, language):
        return Chunk(id=f"{doc}-{section}", doc_id=doc, title=doc, section=section, text=section, position=section_no[section],
                     doc_hash="h", doc_chunks=2, source="general", topics=[], audience=[], segments=[], language=language,
                     edition_of="guide" if language == "zh" else None, section_index=section_no[section])

    section_no = {"A": 1, "B": 2, "C": 3}
    en_a, en_b, zh_a, zh_b, zh_c = (chunk("guide", "A", "en"), chunk("guide", "B", "en"), chunk("guide-zh", "A", "zh"),
                                    chunk("guide-zh", "B", "zh"), chunk("guide-zh", "C", "zh"))
    editions = Editions([en_a, en_b, zh_a, zh_b, zh_c])
    keyword_hits = [(zh_b, 9.0), (zh_a, 8.5), (zh_c, 1.0), (en_b, 0.5)]
    multilingual_hits = [(en_a, 0.60), (zh_b, 0.45), (zh_c, 0.30), (zh_a, 0.29)]
    keyword = editions.prefer(keyword_hits, "zh")
    multilingual = editions.prefer(multilingual_hits, "zh")
    assert keyword == [(zh_b, 9.0), (zh_a, 8.5), (zh_c, 1.0)]                    # en B folded into zh B at 9.0, not 9.5
    assert multilingual == [(zh_a, 0.60), (zh_b, 0.45), (zh_c, 0.30)]
    fused = minmax_fusion([keyword, multilingual], [1.0, 0.5])
    assert max(fused, key=fused.get) == "guide-zh-A"
    # fused first and handed over after, A kept only its larger half and B led
    unmapped = minmax_fusion([keyword_hits, multilingual_hits], [1.0, 0.5])
    assert max(unmapped["guide-zh-A"], unmapped["guide-A"]) < unmapped["guide-zh-B"]
    assert editions.prefer([(en_a, 0.5)], "en") == [(en_a, 0.5)]                # already in the question's language


@pytest.mark.parametrize("fusion", ["minmax", "rrf"])
def test_both_fusions_run_end_to_end_and_the_setting_picks_one(make_settings, fusion):
    from assistant.answers.advisor import Advisor

    advisor = Advisor.from_settings(make_settings(fusion=fusion))
    advisor.ingest()
    hits = advisor.retriever.run(RetrievalQuery(query="How is RAROC calculated?", k=5, mode="hybrid"))
    assert hits[0].chunk.doc_id == "client-profitability-raroc-eva"
    scores = [h.score for h in hits]
    assert scores == sorted(scores, reverse=True)
    assert (scores[0] > 0.5) == (fusion == "minmax")   # scaled scores sum to ~2 at the top; RRF's stay near 2/61


def test_tokenizer_stems_english_and_cuts_chinese_into_words():
    assert tokenize("Banks lending") == ["bank", "lend"]
    tokens = tokenize("客户经理如何做客户细分")
    assert "客户经理" in tokens or {"客户", "经理"} <= set(tokens)
    assert "细分" in tokens and "如何" not in tokens


def test_the_words_of_a_request_to_explain_are_not_keywords():
    for question in ("请简单解释一下批量转让。", "批量转让是什么意思？", "介绍一下批量转让的含义"):
        tokens = set(tokenize(question))
        assert {"批量", "转让"} <= tokens and not tokens & {"意思", "解释", "解释一下", "一下", "简单", "介绍", "含义"}, tokens
    assert tokenize("Explain the observation period briefly, please.") == tokenize("Describe the observation period.") == ["observ", "period"]


def test_an_amount_written_with_thousands_separators_is_one_keyword():
    # "100,000" was "100" and "000", so a question naming an amount met every passage with a round figure in it
    assert tokenize("RMB 100,000 or 1,200,000 yuan") == ["rmb", "100000", "1200000", "yuan"]
    assert tokenize("items 1,2,3 and 3.5%") == ["item", "1", "2", "3", "3.5"]


@pytest.mark.parametrize("mode", ["dense", "bm25", "hybrid"])
def test_each_mode_finds_the_raroc_section(advisor, mode):
    hits = advisor.retriever.run(RetrievalQuery(query="How is RAROC calculated from expected loss and economic capital?", k=3, mode=mode))
    assert hits[0].chunk.doc_id == "client-profitability-raroc-eva"
    assert any("RAROC" in h.chunk.section for h in hits)


def test_filters_restrict_every_hit(advisor):
    hits = advisor.retrieve(AskRequest(question="segmentation of clients", k=8, filters={"source": "thesis-b"}))
    assert hits and all(h.chunk.source == "thesis-b" for h in hits)
    hits = advisor.retrieve(AskRequest(question="service model", k=8, filters={"segments": "major-client"}))
    assert hits and all({"major-client", "all"} & set(h.chunk.segments) for h in hits)
    hits = advisor.retrieve(AskRequest(question="policy", k=8, filters={"topics": "inclusive-finance", "audience": "manager"}))
    assert hits and all("inclusive-finance" in h.chunk.topics and "manager" in h.chunk.audience for h in hits)


def test_unknown_filter_is_a_clear_error(advisor):
    with pytest.raises(InputError, match="unknown filter"):
        advisor.retrieve(AskRequest(question="anything", filters={"colour": "red"}))


def test_mmr_diversifies_without_losing_the_best_passage(advisor):
    q = "Baoshang Bank takeover and its lessons"
    plain = advisor.retriever.run(RetrievalQuery(query=q, k=5, mmr=False))
    diverse = advisor.retriever.run(RetrievalQuery(query=q, k=5, mmr=True))
    assert diverse[0].chunk.id == plain[0].chunk.id
    assert len({h.chunk.id for h in diverse}) == 5


def test_langchain_retriever_returns_documents_with_metadata(advisor):
    retriever = AdvisorRetriever(retriever=advisor.retriever, k=2, filters={"source": "thesis-a"})
    docs = retriever.invoke("private banking threshold")
    assert len(docs) == 2
    assert all(d.metadata["source"] == "thesis-a" and d.metadata["doc_id"] and d.page_content for d in docs)


def squash(text: str) -> str:
    return re.sub(r"[\W_]+", "", text).lower()


def test_answer_cites_every_sentence(advisor):
    answer = advisor.ask("What is RAROC and how do I compute it?")
    assert answer.grounded
    assert answer.citations and answer.citations[0].doc_id == "client-profitability-raroc-eva"
    numbers = {c.n for c in answer.citations}
    assert numbers == set(range(1, len(numbers) + 1))
    pieces = re.findall(r"(.+?) \[(\d+)\](?:\s|$)", answer.answer)
    assert pieces and " ".join(f"{p} [{n}]" for p, n in pieces) == answer.answer.strip()  # no uncited text
    passages = {c.n: squash(c.text) for c in answer.citations}
    for sentence, n in pieces:  # every cited sentence is text from that passage
        assert squash(sentence) in passages[int(n)], (sentence, n)


def test_chinese_question_is_answered_from_keywords(english_only_use_list):
    answer = english_only_use_list.ask("两增两控是什么")
    assert answer.grounded
    assert answer.citations[0].doc_id == "inclusive-finance-policy"


@pytest.mark.parametrize("question, why", [
    ("What is the best recipe for lasagna with ricotta?", "This question is about food and cooking, which"),
    ("Who won the 1998 football world cup final?", "This question is about entertainment and sport, which"),
])
def test_unanswerable_question_is_not_grounded_and_not_padded(advisor, question, why):
    answer = advisor.ask(question)
    assert not answer.grounded
    assert answer.citations == []
    assert answer.answer.startswith(why)
    assert answer.suggestions


@pytest.mark.parametrize("question, message", [("", "empty"), ("   ", "empty"), ("x" * 5000, "limit is 2000")])
def test_bad_questions_get_clear_errors(advisor, question, message):
    with pytest.raises(InputError, match=message):
        advisor.ask(question)


def test_many_questions_at_once_get_what_each_gets_alone(advisor):
    """Plans and client books ask dozens of questions in one batch; batching must not change a single hit."""
    queries = [
        RetrievalQuery(query="How is RAROC calculated?", k=3),
        RetrievalQuery(query="service model for major clients", k=3, filters={"segments": "major-client"}),
        RetrievalQuery(query="What went wrong at Baoshang Bank?", k=4, filters={"doc_id": "baoshang-bank-failure"}),
        RetrievalQuery(query="怎样给零售客户分层？", k=3),
        RetrievalQuery(query="retail tier thresholds", k=5, mode="bm25"),
        RetrievalQuery(query="retail tier thresholds", k=5, mode="dense", mmr=True),
        RetrievalQuery(query="service model for major clients", k=2, filters={"segments": "major-client"}),
    ]
    together = advisor.retriever.run_many(queries)
    alone = [advisor.retriever.run(q) for q in queries]
    assert [[h.model_dump() for h in hits] for hits in together] == [[h.model_dump() for h in hits] for hits in alone]
    assert all(together) and advisor.retriever.run_many([]) == []


def test_batched_citations_match_one_by_one_and_fall_back_as_documented(advisor):
    from assistant.clients.citing import CiteRequest, cite, cite_many

    requests = [
        CiteRequest(text="Tier retail clients by assets under management", segment="mass-retail", prefer_doc="retail-tier-scheme"),
        CiteRequest(text="Assign a coverage team led by a senior relationship manager", segment="major-client"),
        CiteRequest(text="Price the loan above its RAROC hurdle", segment="major-client", prefer_doc="sme-size-classification"),
        CiteRequest(text="zzqx vvbnm qwrtp", segment="mass-retail"),
    ]
    batched = cite_many(advisor.retriever, requests)
    single = [cite(advisor.retriever, r.text, r.segment, r.prefer_doc) for r in requests]
    assert batched == single
    assert batched[0][0].doc_id == "retail-tier-scheme"
    # the named document does not support RAROC pricing, so the citation comes from further out
    assert batched[2] and batched[2][0].doc_id == "client-profitability-raroc-eva"
    assert batched[3] == []

    class OneAtATime:  # a bank's own retriever with run() only
        def __init__(self, inner):
            self.inner = inner

        def run(self, query):
            return self.inner.run(query)

    assert cite_many(OneAtATime(advisor.retriever), requests) == batched


def test_restricting_by_ids_finds_what_the_metadata_filter_finds(advisor):
    """Filtered dense lists restrict Chroma by the ids the keyword index's filter keeps (faster than a
    metadata $or); they must be exactly the lists the metadata filter gives."""
    from assistant.search.store import where_clause

    index = advisor.retriever.keyword_index()
    vectors = advisor.embedder.encode_cached(["service model for major clients", "怎样给零售客户分层？", "RAROC hurdle"])
    for filters in ({"segments": "major-client"}, {"doc_id": "retail-tier-scheme"}, {"topics": "inclusive-finance", "audience": "manager"}):
        ids = index.allowed_ids(filters)
        assert ids and len(ids) < len(index.chunks)
        by_ids = advisor.store.query_many(vectors, 30, known=index.by_id, ids=ids)
        by_where = advisor.store.query_many(vectors, 30, where_clause(filters))
        assert [[(c.id, round(s, 5)) for c, s in hits] for hits in by_ids] == \
               [[(c.id, round(s, 5)) for c, s in hits] for hits in by_where]
    assert advisor.store.query_many(vectors, 5, known=index.by_id, ids=[]) == [[], [], []]
    assert index.allowed_ids({"segments": "major-client"}, limit=1) is None
