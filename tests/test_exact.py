"""Dense lists by exact cosine in memory (search/exact.py): the same passages as the store's own query
on the real store, filters honoured, and the store asked again above the size limit."""

from __future__ import annotations

import numpy as np
import pytest

from assistant.answers.advisor import Advisor
from assistant.knowledge.chunking import Chunk
from assistant.search.exact import ExactVectors
from assistant.search.retrieval import RetrievalQuery


def chunk(n: int) -> Chunk:
    return Chunk(id=f"d:{n}", doc_id="d", title="T", section=f"S{n}", source="general", text=f"text {n}", position=n,
                 doc_hash="h", doc_chunks=4, topics=["strategy"], audience=["manager"], segments=["all"])


def test_ranks_by_cosine_within_the_allowed_ids_best_first():
    chunks = [chunk(i) for i in range(4)]
    vectors = np.array([[1, 0], [0.8, 0.6], [0, 1], [0, 0]], dtype=np.float32) * np.array([[3], [1], [2], [1]])
    exact = ExactVectors(chunks, vectors)
    (hits,) = exact.query_many(np.array([[2.0, 0.0]]), 3)
    assert [c.id for c, _ in hits] == ["d:0", "d:1", "d:2"]
    assert [round(s, 4) for _, s in hits] == [1.0, 0.8, 0.0]   # cosine, whatever the vectors' lengths
    (kept,) = exact.query_many(np.array([[1.0, 0.0]]), 5, ids=["d:2", "d:1", "unknown"])
    assert [c.id for c, _ in kept] == ["d:1", "d:2"]
    assert exact.query_many(np.array([[1.0, 0.0]]), 5, ids=[]) == [[]]
    with pytest.raises(ValueError, match="4 chunks but 3 vectors"):
        ExactVectors(chunks, vectors[:3])


CASES = [("How is RAROC calculated?", {}, "hybrid"), ("service model for major clients", {"segments": "major-client"}, "hybrid"),
         ("What went wrong at Baoshang Bank?", {"doc_id": "baoshang-bank-failure"}, "hybrid"),
         ("怎样给零售客户分层？", {}, "hybrid"), ("retail tier thresholds", {}, "dense")]
QUERIES = [RetrievalQuery(query=q, k=5, filters=f, mode=m) for q, f, m in CASES]


def test_the_exact_lists_find_what_the_store_finds(advisor):
    store_only = Advisor(advisor.settings.model_copy(update={"exact_search_max": 0}))
    index = advisor.retriever.keyword_index()
    assert advisor.retriever.exact.vectors("dense", advisor.store, index, first_use_waits=False) is not None
    for query in QUERIES:
        exact, stored = advisor.retriever.run(query), store_only.retriever.run(query)
        assert [h.chunk.id for h in exact] == [h.chunk.id for h in stored], query.query
        assert [h.similarity for h in exact] == pytest.approx([h.similarity for h in stored], abs=1e-5)


def test_above_the_limit_the_store_is_asked(advisor, monkeypatch):
    small = Advisor(advisor.settings.model_copy(update={"exact_search_max": 1}))
    calls = []
    original = type(small.store).query_many
    monkeypatch.setattr(type(small.store), "query_many", lambda self, *a, **k: calls.append(1) or original(self, *a, **k))
    hits = small.retriever.run(QUERIES[0])
    assert hits and calls
    assert small.retriever.exact.vectors("dense", small.store, small.retriever.keyword_index(), first_use_waits=False) is None


def test_a_one_shot_question_is_left_to_the_store_and_the_second_reads_the_vectors(advisor):
    fresh = Advisor(advisor.settings)
    exact = fresh.retriever.exact
    first = fresh.retriever.run(QUERIES[0])
    assert not exact.holds("dense")          # one question: one store query, no vectors read
    second = fresh.retriever.run(QUERIES[0])
    assert [h.chunk.id for h in second] == [h.chunk.id for h in first]
    assert exact.holds("dense") and exact.holds("multilingual")   # an English question reads both lists
    warmed = Advisor(advisor.settings)
    assert warmed.retriever.warm_exact() and warmed.retriever.exact.holds("dense")
