"""Hybrid retrieval: keyword (BM25) and dense (Chroma) lists fused by reciprocal rank fusion.

Why both: bankers ask with exact terms ("RAROC", "两增两控", "1+N") that a small English embedding
model blurs or cannot read at all, and with paraphrases that keywords miss. RRF needs no score
calibration between the two lists, which is what makes it robust across corpora.
"""

from __future__ import annotations

import re
import threading
import time
from functools import lru_cache
from typing import Any, Literal

import numpy as np
from langchain_core.callbacks import CallbackManagerForRetrieverRun
from langchain_core.documents import Document
from langchain_core.retrievers import BaseRetriever
from pydantic import BaseModel, ConfigDict, Field, field_validator

from assistant.config import Settings
from assistant.knowledge.chunking import Chunk
from assistant.knowledge.documents import FILTER_KEYS
from assistant.search.embeddings import Embedder
from assistant.search.store import ChromaStore, matches, where_clause
from assistant.text import cjk_share, mmr

Mode = Literal["dense", "bm25", "hybrid"]

STOPWORDS = frozenset(
    "a an and are as at be but by for if in into is it no not of on or such that the their then there "
    "these they this to was will with what which who how does do can should i we our my me you your".split()
)
CJK_STOP = re.compile("为什么|什么|怎么样|怎么|如何|哪些|哪个|是否|应该|可以|我们|一个|请问|请|是|的|了|吗|呢|和|与|及|在|对|有|我|你|该|应|要")
WORD = re.compile(r"[a-z0-9]+(?:[+.][a-z0-9]+)*|[\u4e00-\u9fff\u3400-\u4dbf]+")


@lru_cache(maxsize=1)
def _stemmer():
    try:
        import Stemmer

        return Stemmer.Stemmer("english")
    except ImportError:  # pragma: no cover - PyStemmer is a declared dependency
        return None


def tokenize(text: str) -> list[str]:
    """English words stemmed, stop words dropped; Chinese runs as characters and bigrams,
    so '客户细分' matches '细分客户' partly and '客户细分' fully without a Chinese segmenter."""
    tokens: list[str] = []
    words: list[str] = []
    for match in WORD.finditer(text.lower()):
        piece = match.group(0)
        if "\u3400" <= piece[0] <= "\u9fff":
            for run in CJK_STOP.split(piece):
                tokens.extend(run)
                tokens.extend(run[i:i + 2] for i in range(len(run) - 1))
        elif piece not in STOPWORDS:
            words.append(piece)
    stemmer = _stemmer()
    tokens.extend(stemmer.stemWords(words) if stemmer else words)
    return tokens


class RetrievalQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")

    query: str = Field(min_length=1)
    k: int = Field(5, ge=1, le=100)
    filters: dict[str, str] = Field(default_factory=dict)
    mode: Mode = "hybrid"
    mmr: bool | None = None

    @field_validator("query")
    @classmethod
    def _not_blank(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("the question is empty")
        return value.strip()

    @field_validator("filters")
    @classmethod
    def _known_keys(cls, value: dict[str, str]) -> dict[str, str]:
        unknown = [k for k in value if k not in FILTER_KEYS + ("doc_id",)]
        if unknown:
            raise ValueError(f"unknown filter {unknown}; use {', '.join(FILTER_KEYS)}")
        return value


class ScoredChunk(BaseModel):
    chunk: Chunk
    score: float = Field(description="Fused RRF score; only comparable within one result list.")
    similarity: float = Field(description="Cosine similarity of the question and the passage.")
    coverage: float = Field(0.0, description="Share of the question's keywords found in the passage.")
    dense_rank: int | None = None
    bm25_rank: int | None = None


class BM25Index:
    """A keyword index over the store's chunks, rebuilt when the store's revision changes."""

    def __init__(self, chunks: list[Chunk]) -> None:
        import bm25s

        self.chunks = chunks
        self._bm25 = bm25s.BM25()
        if chunks:
            self._bm25.index([tokenize(c.embedding_text) or ["∅"] for c in chunks], show_progress=False)

    def search(self, query: str, n: int, filters: dict[str, str] | None = None) -> list[tuple[Chunk, float]]:
        if not self.chunks:
            return []
        tokens = tokenize(query)
        if not tokens:
            return []
        scores = self._bm25.get_scores(tokens)
        if filters:
            mask = np.array([matches(c, filters) for c in self.chunks], dtype=bool)
            scores = np.where(mask, scores, 0.0)
        n = min(n, len(scores))
        top = np.argpartition(-scores, n - 1)[:n]
        top = top[np.argsort(-scores[top], kind="stable")]
        return [(self.chunks[i], float(scores[i])) for i in top if scores[i] > 0]


def coverage(query_tokens: list[str], text: str) -> float:
    """Keyword evidence that does not depend on the embedding model reading the language."""
    wanted = set(query_tokens)
    if not wanted:
        return 0.0
    return len(wanted & set(tokenize(text))) / len(wanted)


def rrf(ranked_lists: list[list[str]], k: int = 60, weights: list[float] | None = None) -> dict[str, float]:
    fused: dict[str, float] = {}
    for ranking, weight in zip(ranked_lists, weights or [1.0] * len(ranked_lists)):
        for rank, item in enumerate(ranking):
            fused[item] = fused.get(item, 0.0) + weight / (k + rank + 1)
    return fused


def mmr_select(candidates: list[str], relevance: dict[str, float], vectors: dict[str, np.ndarray],
               k: int, lam: float) -> list[str]:
    """Maximal marginal relevance: trade a little relevance for passages that say something new."""
    if not candidates:
        return []
    values = np.array([relevance[c] for c in candidates])
    spread = values.max() - values.min()
    norm = [(relevance[c] - values.min()) / spread if spread else 1.0 for c in candidates]

    def similarity(i: int, j: int) -> float:
        a, b = vectors.get(candidates[i]), vectors.get(candidates[j])
        return 0.0 if a is None or b is None else float(a @ b)

    return [candidates[i] for i in mmr(norm, similarity, k, lam)]


class HybridRetriever:
    """One ``run()`` in, ranked passages out; the BM25 side follows the store's revisions."""

    def __init__(self, settings: Settings, store: ChromaStore, embedder: Embedder, refresh_seconds: float = 1.0) -> None:
        self.settings = settings
        self.store = store
        self.embedder = embedder
        self.refresh_seconds = refresh_seconds
        self._index: BM25Index | None = None
        self._revision: str | None = None
        self._checked = 0.0
        self._writes_seen = -1
        self._lock = threading.Lock()

    def keyword_index(self) -> BM25Index:
        now = time.monotonic()
        with self._lock:
            # Our own writes invalidate at once; other processes' writes within refresh_seconds.
            writes = self.store.local_writes
            if self._index is not None and now - self._checked < self.refresh_seconds and writes == self._writes_seen:
                return self._index
            revision = self.store.revision()
            self._checked = now
            if self._index is None or revision != self._revision or writes != self._writes_seen:
                self._index = BM25Index(self.store.all_chunks())
                self._revision, self._writes_seen = revision, writes
            return self._index

    def run(self, query: RetrievalQuery) -> list[ScoredChunk]:
        s = self.settings
        depth = max(s.candidates, query.k * 3)
        qvec = self.embedder.encode_cached([query.query])[0]
        dense: list[tuple[Chunk, float]] = []
        keyword: list[tuple[Chunk, float]] = []
        if query.mode in ("dense", "hybrid"):
            dense = self.store.query(qvec, depth, where_clause(query.filters))
        if query.mode in ("bm25", "hybrid"):
            keyword = self.keyword_index().search(query.query, depth, query.filters)
        chunks: dict[str, Chunk] = {c.id: c for c, _ in keyword}
        chunks.update({c.id: c for c, _ in dense})
        dense_weight = 1.0 - 0.9 * cjk_share(query.query)
        fused = rrf([[c.id for c, _ in dense], [c.id for c, _ in keyword]], s.rrf_k, [dense_weight, 1.0])
        order = sorted(fused, key=lambda cid: (-fused[cid], cid))
        similarity = {c.id: sim for c, sim in dense}
        use_mmr = s.mmr if query.mmr is None else query.mmr
        shortlist = order[: max(query.k * 3, query.k)] if use_mmr else order[: query.k]
        need = [cid for cid in shortlist if cid not in similarity or use_mmr]
        vectors = self.store.embeddings(need) if need else {}
        for cid, vec in vectors.items():
            similarity.setdefault(cid, float(vec @ qvec))
        if use_mmr:
            shortlist = mmr_select(shortlist, fused, vectors, query.k, s.mmr_lambda)
        dense_rank = {c.id: i + 1 for i, (c, _) in enumerate(dense)}
        bm25_rank = {c.id: i + 1 for i, (c, _) in enumerate(keyword)}
        q_tokens = tokenize(query.query)
        return [
            ScoredChunk(chunk=chunks[cid], score=fused[cid], similarity=similarity.get(cid, 0.0),
                        coverage=coverage(q_tokens, chunks[cid].embedding_text),
                        dense_rank=dense_rank.get(cid), bm25_rank=bm25_rank.get(cid))
            for cid in shortlist
        ]


def to_document(hit: ScoredChunk) -> Document:
    c = hit.chunk
    return Document(
        page_content=c.text, id=c.id,
        metadata={"chunk_id": c.id, "doc_id": c.doc_id, "title": c.title, "section": c.section,
                  "source": c.source, "topics": c.topics, "audience": c.audience, "segments": c.segments,
                  "score": hit.score, "similarity": hit.similarity},
    )


class AdvisorRetriever(BaseRetriever):
    """The hybrid retriever as a LangChain ``BaseRetriever``, to plug into any LangChain chain."""

    model_config = ConfigDict(arbitrary_types_allowed=True)

    retriever: Any
    k: int = 5
    filters: dict[str, str] = Field(default_factory=dict)
    mode: Mode = "hybrid"

    def _get_relevant_documents(self, query: str, *, run_manager: CallbackManagerForRetrieverRun) -> list[Document]:
        hits = self.retriever.run(RetrievalQuery(query=query, k=self.k, filters=self.filters, mode=self.mode))
        return [to_document(h) for h in hits]
