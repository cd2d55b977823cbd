"""Hybrid retrieval: keyword (BM25) and dense lists fused (min-max by default, z-score or RRF: fusion.py;
README, Fusion).

Why both: bankers ask with exact terms ("RAROC", "两增两控", "1+N") that a small embedding model blurs, and
with paraphrases that keywords miss. The asker's setting ("for a city bank") is not searched (framing.py)."""

from __future__ import annotations

import threading
import time
from collections import Counter
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
from assistant.search.keyword_file import KeywordIndexFile
from assistant.search.framing import topic_of
# tokenize and coverage are imported from here by the composer too: it scores keywords as the index does
from assistant.search.keywords import add_keywords, coverage, glossary_keywords, tokenize
from assistant.search.exact import ExactSearch
from assistant.search.languages import Editions, for_reach, list_weights, question_language
from assistant.search.store import ChromaStore, matches, where_clause
from assistant.search.fusion import minmax_fusion, mmr_select, rrf

Mode = Literal["dense", "bm25", "hybrid"]


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
    score: float = Field(description="Fused score (RRF, min-max or z-score, per the fusion setting); only comparable within one result list.")
    similarity: float = Field(description="Cosine similarity of the question and the passage.")
    coverage: float = Field(0.0, description="Share of the question's keywords found in the passage.")
    dense_rank: int | None = None
    bm25_rank: int | None = None
    ml_similarity: float | None = Field(None, description="Cosine under the multilingual model, when that list is on.")
    ml_rank: int | None = None


EMPTY = "∅"   # the one keyword of a passage that has none (bm25s needs one per passage)


class BM25Index:
    """A keyword index over the store's chunks, rebuilt when the store's revision changes.

    >>> index = BM25Index(store.all_chunks())
    >>> index.search("RAROC hurdle rate", n=5, filters={"audience": "manager"})   # [(chunk, bm25 score), ...]
    """

    def __init__(self, chunks: list[Chunk], bm25=None) -> None:
        """``bm25``: an index already built over these chunks, in this order (a saved one, loaded)."""
        import bm25s

        self.chunks = chunks
        self.by_id: dict[str, Chunk] = {c.id: c for c in chunks}
        self.editions = Editions(chunks)
        self._masks: dict[tuple[tuple[str, str], ...], np.ndarray] = {}
        self._bm25 = bm25
        if bm25 is None:
            self._bm25 = bm25s.BM25()
            if chunks:
                self._bm25.index([tokenize(c.embedding_text) or [EMPTY] for c in chunks], show_progress=False)
        self._counts: Counter[str] | None = None

    def keyword_counts(self) -> Counter[str]:
        """In how many passages each keyword occurs, read off the index (a keyword's postings are its
        passages), so the composer's word weights need not cut every passage again, and a process that
        loaded a saved index reads English without ever loading jieba."""
        if self._counts is None:
            counts: Counter[str] = Counter()
            if self.chunks:
                postings = np.diff(np.asarray(self._bm25.scores["indptr"]))
                for token, column in self._bm25.vocab_dict.items():
                    if token != EMPTY and column < len(postings) and postings[column]:
                        counts[token] = int(postings[column])
            self._counts = counts
        return self._counts

    def search(self, query: str, n: int, filters: dict[str, str] | None = None) -> list[tuple[Chunk, float]]:
        if not self.chunks:
            return []
        tokens = tokenize(query)
        if not tokens:
            return []
        scores = self._bm25.get_scores(tokens)
        if filters:
            scores = np.where(self._mask(filters), scores, 0.0)
        n = min(n, len(scores))
        top = np.argpartition(-scores, n - 1)[:n]
        top = top[np.argsort(-scores[top], kind="stable")]
        return [(self.chunks[i], float(scores[i])) for i in top if scores[i] > 0]

    def _mask(self, filters: dict[str, str]) -> np.ndarray:
        """Which chunks a filter lets through, worked out once per filter (a plan asks dozens of times)."""
        key = tuple(sorted(filters.items()))
        mask = self._masks.get(key)
        if mask is None:
            mask = np.array([matches(c, filters) for c in self.chunks], dtype=bool)
            if len(self._masks) < 1024:
                self._masks[key] = mask
        return mask

    def allowed_ids(self, filters: dict[str, str], limit: int = 5000) -> list[str] | None:
        """The ids a filter lets through, for the dense lists to restrict by id (None past ``limit``,
        where a list of ids would cost more than Chroma's own metadata filter)."""
        mask = self._mask(filters)
        if int(mask.sum()) > limit:
            return None
        return [c.id for c, keep in zip(self.chunks, mask) if keep]


class HybridRetriever:
    """One ``run()`` in, ranked passages out; the BM25 side follows the store's revisions.

    >>> retriever = HybridRetriever(settings, ChromaStore(settings), Embedder(settings.embedding_model))
    >>> hits = retriever.run(RetrievalQuery(query="How is RAROC calculated?", k=5, mode="hybrid"))
    >>> hits[0].chunk.title, hits[0].similarity

    Three lists are fused: the English model's, the keywords', and (with a multilingual store and embedder)
    the multilingual model's, weighted by how Chinese the question is, each list's passages first handed
    over in the question's language (see languages.py): what two lists found in two editions adds up.
    """

    def __init__(self, settings: Settings, store: ChromaStore, embedder: Embedder, refresh_seconds: float = 1.0,
                 ml_store: ChromaStore | None = None, ml_embedder: Embedder | None = None,
                 keyword_files: KeywordIndexFile | None = None) -> None:
        self.settings = settings
        self.keyword_files = keyword_files
        self.store = store
        self.embedder = embedder
        self.ml_store = ml_store if ml_embedder is not None else None
        self.ml_embedder = ml_embedder
        self.refresh_seconds = refresh_seconds
        self._index: BM25Index | None = None
        self._revision: str | None = None
        self._checked = 0.0
        self._writes_seen = -1
        self._glossary_loaded = False
        self._lock = threading.Lock()
        self.exact = ExactSearch(settings.exact_search_max)

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
                if not self._glossary_loaded:  # before the first index: the words decide how text is cut
                    add_keywords(glossary_keywords(self.settings.rules_dir))
                    self._glossary_loaded = True
                self._index = self._saved_or_built(revision)
                self._revision, self._writes_seen = revision, writes
            return self._index

    def _saved_or_built(self, revision: str) -> BM25Index:
        """The index saved for this revision (memory-mapped), else built from the store and saved."""
        files = self.keyword_files
        saved = files.load(revision) if files is not None else None
        if saved is not None:
            return BM25Index(*saved)
        index = BM25Index(self.store.all_chunks())
        if files is not None and index.chunks and self.store.revision() == revision:   # nothing written meanwhile
            files.save(revision, index.chunks, index._bm25)
        return index

    def _depth(self, query: RetrievalQuery) -> int:
        return max(self.settings.candidates, query.k * 3)

    def _lists(self, queries: list[RetrievalQuery],
               index: BM25Index) -> list[tuple[dict[str, list[tuple[Chunk, float]]], dict[str, np.ndarray]]]:
        """Each ranked list each question's mode asks for, and its vector under each model. Questions that
        share a filter get their dense lists from one store call, and all are embedded in one batch."""
        texts = [q.query for q in queries]
        dense = self.embedder.encode_cached(texts)
        out = [({"dense": [], "keyword": [], "multilingual": []}, {"dense": dense[i]}) for i in range(len(queries))]
        wanted = [i for i, q in enumerate(queries) if q.mode in ("dense", "hybrid")]
        ml: dict[int, np.ndarray] = {}
        if self.ml_store is not None and wanted:
            # Every question: with e5 as its model the list also ranks English passages for English questions
            # better than MiniLM and the keywords alone (README, "Fusion by question language"); with USE it
            # had added nothing to an English question and was skipped for one.
            ml = dict(zip(wanted, self.ml_embedder.encode_cached([texts[i] for i in wanted])))
        groups: dict[tuple[int, tuple[tuple[str, str], ...]], list[int]] = {}
        for i in wanted:
            groups.setdefault((self._depth(queries[i]), tuple(sorted(queries[i].filters.items()))), []).append(i)
        for (depth, filters), rows in groups.items():
            where = where_clause(dict(filters))
            # the keyword index holds the same chunks (as of its last refresh), so it can name the ids a filter keeps
            ids = index.allowed_ids(dict(filters)) if filters else None
            for i, hits in zip(rows, self._dense("dense", self.store, index, dense[rows], depth, where, ids)):
                out[i][0]["dense"] = hits
            if self.ml_store is not None:
                # the English model's rank of a Chinese passage is noise: the multilingual list or its English edition ranks it
                for i in rows:
                    out[i][0]["dense"] = [(c, sim) for c, sim in out[i][0]["dense"] if c.language == "en"]
            reading = [i for i in rows if i in ml]
            if reading:
                for i, hits in zip(reading, self._dense("multilingual", self.ml_store, index,
                                                        np.vstack([ml[i] for i in reading]), depth, where, ids)):
                    out[i][1]["multilingual"] = ml[i]
                    out[i][0]["multilingual"] = hits
        for i, q in enumerate(queries):
            if q.mode in ("bm25", "hybrid"):
                out[i][0]["keyword"] = index.search(q.query, self._depth(q), q.filters)
        return out

    def warm_exact(self) -> bool:
        """Read the dense vectors for exact search now (an app's warm-up), not at the second question."""
        index = self.keyword_index()
        stores = [("dense", self.store)] + ([("multilingual", self.ml_store)] if self.ml_store is not None else [])
        return all([self.exact.vectors(name, store, index, first_use_waits=False) is not None for name, store in stores])

    def _dense(self, name: str, store: ChromaStore, index: BM25Index, vectors: np.ndarray, depth: int,
               where: dict | None, ids: list[str] | None) -> list[list[tuple[Chunk, float]]]:
        """One dense list per question: exact cosine in memory for a collection within
        ``exact_search_max`` (see exact.py), else the store's own query."""
        exact = self.exact.vectors(name, store, index)
        if exact is not None:
            return exact.query_many(vectors, depth, ids)
        return store.query_many(vectors, depth, where, index.by_id, ids)

    def run(self, query: RetrievalQuery) -> list[ScoredChunk]:
        return self.run_many([query])[0]

    def run_many(self, queries: list[RetrievalQuery]) -> list[list[ScoredChunk]]:
        """``run`` for many questions at once, with the same result for each as alone: a plan cites
        dozens of recommendations, and per-call costs (store round trips, model calls) dominate."""
        if not queries:
            return []
        queries = [q.model_copy(update={"query": topic_of(q.query)}) for q in queries]  # not the asker's setting
        s = self.settings
        index = self.keyword_index()  # one index for the whole batch, even if a refresh lands meanwhile
        staged = []
        for query, (lists, vecs) in zip(queries, self._lists(queries, index)):
            language = question_language(query.query)
            lists = {name: index.editions.prefer(hits, language, query.filters) for name, hits in lists.items()}
            chunks: dict[str, Chunk] = {c.id: c for hits in lists.values() for c, _ in hits}
            weights = list_weights(query.query)
            names = [name for name in lists if lists[name]]
            if s.fusion in ("minmax", "zscore"):
                fused = minmax_fusion([lists[n] for n in names], [weights[n] for n in names],
                                      "range" if s.fusion == "minmax" else "spread")
            else:
                fused = rrf([[c.id for c, _ in lists[n]] for n in names], s.rrf_k, [weights[n] for n in names])
            if "multilingual" in names:
                fused = for_reach(fused, chunks, language, weights, set(names), {c.id for c, _ in lists["keyword"]})
            order = sorted(fused, key=lambda cid: (-fused[cid], cid))
            use_mmr = s.mmr if query.mmr is None else query.mmr
            shortlist = order[: max(query.k * 3, query.k)] if use_mmr else order[: query.k]
            staged.append((query, lists, vecs, chunks, fused, shortlist, use_mmr))
        # the passages' vectors the lists did not give: one read per store for every question
        need = {"dense": set(), "multilingual": set()}
        for _, lists, vecs, _, _, shortlist, use_mmr in staged:
            need["dense"].update(_unscored(lists["dense"], shortlist, use_mmr))
            if "multilingual" in vecs:
                need["multilingual"].update(_unscored(lists["multilingual"], shortlist, False))
        vectors = {"dense": self.store.embeddings(sorted(need["dense"])),
                   "multilingual": self.ml_store.embeddings(sorted(need["multilingual"])) if need["multilingual"] else {}}
        results = []
        for query, lists, vecs, chunks, fused, shortlist, use_mmr in staged:
            similarity, mine = _cosines(lists["dense"], _unscored(lists["dense"], shortlist, use_mmr), vectors["dense"], vecs["dense"])
            ml_similarity: dict[str, float] = {}
            if "multilingual" in vecs:
                ml_similarity, _ = _cosines(lists["multilingual"], _unscored(lists["multilingual"], shortlist, False),
                                            vectors["multilingual"], vecs["multilingual"])
            if use_mmr:
                shortlist = mmr_select(shortlist, fused, mine, query.k, s.mmr_lambda)
            rank = {n: {c.id: i + 1 for i, (c, _) in enumerate(hits)} for n, hits in lists.items()}
            q_tokens = tokenize(query.query)
            results.append([
                ScoredChunk(chunk=chunks[cid], score=fused[cid], similarity=similarity.get(cid, 0.0),
                            coverage=coverage(q_tokens, chunks[cid].content_text),
                            dense_rank=rank["dense"].get(cid), bm25_rank=rank["keyword"].get(cid),
                            ml_similarity=ml_similarity.get(cid) if "multilingual" in vecs else None,
                            ml_rank=rank["multilingual"].get(cid))
                for cid in shortlist
            ])
        return results


def _unscored(hits: list[tuple[Chunk, float]], shortlist: list[str], all_vectors: bool) -> list[str]:
    """Shortlisted passages whose vector must be read: those the list did not score (or all, for MMR)."""
    ranked = {c.id for c, _ in hits}
    return [cid for cid in shortlist if cid not in ranked or all_vectors]


def _cosines(hits: list[tuple[Chunk, float]], need: list[str], vectors: dict[str, np.ndarray],
             qvec: np.ndarray) -> tuple[dict[str, float], dict[str, np.ndarray]]:
    """Question-passage cosine for the shortlist: from the list where it ranked, else from its vector."""
    similarity = {c.id: sim for c, sim in hits}
    mine = {cid: vectors[cid] for cid in need if cid in vectors}
    for cid, vec in mine.items():
        similarity.setdefault(cid, float(vec @ qvec))
    return similarity, mine


def to_document(hit: ScoredChunk) -> Document:
    c = hit.chunk
    return Document(
        page_content=c.text, id=c.id,
        metadata={"chunk_id": c.id, "doc_id": c.doc_id, "title": c.title, "section": c.section,
                  "source": c.source, "topics": c.topics, "audience": c.audience, "segments": c.segments,
                  "language": c.language, "score": hit.score, "similarity": hit.similarity},
    )


class AdvisorRetriever(BaseRetriever):
    """The hybrid retriever as a LangChain ``BaseRetriever``, to plug into any LangChain chain.

    >>> retriever = AdvisorRetriever(retriever=advisor.retriever, k=3, filters={"audience": "manager"})
    >>> [d.metadata["title"] for d in retriever.invoke("How is RAROC calculated?")]
    """

    model_config = ConfigDict(arbitrary_types_allowed=True)

    retriever: Any
    k: int = 5
    filters: dict[str, str] = Field(default_factory=dict)
    mode: Mode = "hybrid"

    def _get_relevant_documents(self, query: str, *, run_manager: CallbackManagerForRetrieverRun) -> list[Document]:
        hits = self.retriever.run(RetrievalQuery(query=query, k=self.k, filters=self.filters, mode=self.mode))
        return [to_document(h) for h in hits]
