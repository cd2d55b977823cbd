"""Cite recommendations: find the knowledge-base passage that supports each one, in the reader's language.

Shared by plans, the chat's client answers and client books, so a recommendation is cited the same way
wherever it appears. May import search (the retriever's query model) and the knowledge models; nothing
from the other client modules.
"""

from __future__ import annotations

from pydantic import BaseModel

from assistant.search.retrieval import RetrievalQuery, ScoredChunk


class PlanCitation(BaseModel):
    doc_id: str
    title: str
    section: str
    chunk_id: str
    score: float


def in_language(retriever, chunk, language: str):
    """The same passage in the reader's language (its edition's counterpart), or the passage itself."""
    if language == "en":
        return chunk
    index = getattr(retriever, "keyword_index", None)
    editions = getattr(index(), "editions", None) if callable(index) else None
    return (editions.counterpart(chunk, language) if editions is not None else None) or chunk


class CiteRequest(BaseModel):
    """A recommendation to cite: its English wording, the client's segment, the document its rule names."""

    text: str
    segment: str
    prefer_doc: str | None = None


def cite(retriever, text: str, segment: str, prefer_doc: str | None = None, k: int = 1,
         min_support: float = 0.3, language: str = "en") -> list[PlanCitation]:
    """Find the passage that supports a recommendation (see ``cite_many``)."""
    return cite_many(retriever, [CiteRequest(text=text, segment=segment, prefer_doc=prefer_doc)], k, min_support, language)[0]


def cite_many(retriever, requests: list[CiteRequest], k: int = 1, min_support: float = 0.3,
              language: str = "en") -> list[list[PlanCitation]]:
    """Find the passage that supports each recommendation: first in the document the rule names,
    then among passages for the client's segment, then anywhere. Shared by plans and client books,
    so a recommendation is cited the same way wherever it appears. Each round asks the retriever for
    every request still unsupported at once. ``text`` is the English wording (what the similarity floor
    was calibrated on); a Chinese plan then cites the Chinese edition of the same passage."""
    attempts = [[{"doc_id": r.prefer_doc}] if r.prefer_doc else [] for r in requests]
    for r, tries in zip(requests, attempts):
        tries += [{"segments": r.segment}, {}]
    best: dict[int, list[ScoredChunk]] = {}
    open_ = list(range(len(requests)))
    while open_:
        asked = [i for i in open_ if attempts[i]]
        queries = [RetrievalQuery(query=requests[i].text[:1500], k=3, filters=attempts[i].pop(0)) for i in asked]
        for i, hits in zip(asked, _run_many(retriever, queries)):
            hits = [h for h in hits if h.similarity >= min_support]
            if hits:
                best[i] = sorted(hits, key=lambda h: -h.similarity)[:k]
        open_ = [i for i in asked if i not in best and attempts[i]]
    out = []
    for i in range(len(requests)):
        chunks = [(in_language(retriever, h.chunk, language), h.similarity) for h in best.get(i, [])]
        out.append([PlanCitation(doc_id=c.doc_id, title=c.title, section=c.section, chunk_id=c.id, score=round(score, 4))
                    for c, score in chunks])
    return out


class CitationQueue:
    """Recommendations waiting for their citations, looked up together in one ``cite_many`` batch.

    >>> queue = CitationQueue()
    >>> queue.add(item, CiteRequest(text=item.text, segment="wealth"))     # item.citations is set later
    >>> queue.resolve(advisor.retriever, min_support=0.3)
    """

    def __init__(self) -> None:
        self._pending: list[tuple[object, CiteRequest]] = []

    def add(self, target, request: CiteRequest) -> None:
        self._pending.append((target, request))

    def resolve(self, retriever, min_support: float = 0.3, language: str = "en") -> None:
        pending, self._pending = self._pending, []
        found = cite_many(retriever, [r for _, r in pending], 1, min_support, language)
        for (target, _), citations in zip(pending, found):
            target.citations = citations


def _run_many(retriever, queries: list[RetrievalQuery]) -> list[list[ScoredChunk]]:
    """A retriever without ``run_many`` (a bank's own) is asked one question at a time."""
    batch = getattr(retriever, "run_many", None)
    return batch(queries) if batch is not None else [retriever.run(q) for q in queries]
