"""Synthetic chunks for the cost curve: SciFact sentences recombined, clustered unit vectors, real metadata.

Why synthetic: embedding a million chunks with all-MiniLM-L6-v2 would take about ten hours on two
cores, and its cost is linear in the chunks (measured by ``bench.ingest``), so it says nothing new about
scale. What does change with size is the store, the keyword index and the filters, so those get
realistic inputs:

- text: each chunk takes 2-5 consecutive sentences of its document's "home" SciFact abstract and one or
  two sentences of another, so BM25 sees SciFact's real vocabulary and term statistics;
- vectors: every abstract has a random unit centroid; a chunk is its home centroid plus a little of the
  other abstract's and noise, normalised, so the vector space has clusters as real embeddings do;
- metadata: the same fields and filter flags ingest writes (source, topics, audience, segments);
- queries: SciFact's train queries, each embedded near the centroid of an abstract it is judged
  relevant to, so a dense query finds a cluster.

Chunk ``i`` is a pure function of ``i`` and the seed, so a collection can be grown in steps and a
measuring process can rebuild any query vector without sharing memory with the growing one.
The SciFact files are read where they are and never copied.
"""

from __future__ import annotations

import csv
import hashlib
import json
from pathlib import Path

import numpy as np

from assistant.knowledge.chunking import Chunk
from assistant.text import split_sentences

DIM = 384
BATCH = 5_000            # chunks per add; every size must be a multiple of it
CHUNKS_PER_DOC = 8
SOURCES = ("thesis-a", "thesis-b", "general", "bank")
AUDIENCES = ("manager", "relationship-manager", "trainer")
SEGMENTS = ("all", "micro-business", "small-business", "medium-enterprise", "supply-chain-supplier",
            "major-client", "mass-retail", "affluent", "wealth", "private-banking")
TOPICS = ("city-commercial-banks", "risk-management", "strategy", "major-clients", "regulation",
          "segmentation-theory", "sme-lending", "compliance", "products", "retail-banking", "profitability",
          "key-account-management", "crm", "competition", "regional-context", "operations", "wealth-management",
          "customer-value", "case-study", "analytics", "technology", "supply-chain-finance", "onboarding",
          "inclusive-finance")
FILTER = {"topics": "risk-management"}   # the filtered query; about 2 documents in 24 carry it
MAX_CHARS = 900


def _read_jsonl(path: Path) -> list[dict]:
    # The shared files have CRLF line endings; splitlines() and json.loads() both shrug them off.
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


class SciFactText:
    """The abstracts as (title, sentences), the train queries and one relevant abstract per query."""

    def __init__(self, folder: Path) -> None:
        corpus = folder / "corpus.jsonl"
        if not corpus.is_file():
            raise FileNotFoundError(f"SciFact corpus not found at {corpus}; pass --scifact DIR (the BEIR folder)")
        rows = _read_jsonl(corpus)
        self.titles = [r.get("title", "").strip() for r in rows]
        self.sentences = [split_sentences(r.get("text", "")) or [r.get("title", "")] for r in rows]
        position = {r["_id"]: i for i, r in enumerate(rows)}
        queries = {q["_id"]: q["text"].strip() for q in _read_jsonl(folder / "queries.jsonl")}
        self.queries: list[tuple[str, int]] = []
        qrels = folder / "qrels" / "train.tsv"
        with open(qrels, encoding="utf-8", newline="") as handle:
            seen: set[str] = set()
            for row in csv.DictReader(handle, delimiter="\t"):
                qid, did = row["query-id"].strip(), row["corpus-id"].strip()
                if qid in queries and did in position and qid not in seen:
                    seen.add(qid)
                    self.queries.append((queries[qid], position[did]))

    def __len__(self) -> int:
        return len(self.titles)


class SyntheticCorpus:
    """Chunks, vectors and query vectors for the cost curve, all derived from (seed, index).

    >>> corpus = SyntheticCorpus(SciFactText(Path("../shared/benchmarks/scifact")))
    >>> chunks, vectors = corpus.batch(0)            # chunks 0..4,999 and their unit vectors
    >>> QueryVectors(corpus).encode_cached([corpus.queries()[0]])
    """

    def __init__(self, text: SciFactText, seed: int = 7) -> None:
        self.text = text
        self.seed = seed
        rng = np.random.default_rng(seed)
        centroids = rng.standard_normal((len(text), DIM)).astype(np.float32)
        self.centroids = centroids / np.linalg.norm(centroids, axis=1, keepdims=True)

    def home(self, doc: int) -> int:
        return (doc * 2654435761 + self.seed) % len(self.text)

    def _text(self, rng: np.random.Generator, home: int, other: int) -> str:
        own = self.text.sentences[home]
        start = int(rng.integers(0, max(1, len(own) - 1)))
        picked = own[start:start + int(rng.integers(2, 6))]
        foreign = self.text.sentences[other]
        at = int(rng.integers(0, len(foreign)))
        picked += foreign[at:at + int(rng.integers(1, 3))]
        return " ".join(picked)[:MAX_CHARS]

    def _chunk(self, i: int, rng: np.random.Generator, other: int) -> Chunk:
        doc, position = divmod(i, CHUNKS_PER_DOC)
        home = self.home(doc)
        return Chunk(
            id=f"c{i:08d}", doc_id=f"doc-{doc:07d}", title=self.text.titles[home] or f"Document {doc}",
            section=f"Part {position + 1}", text=self._text(rng, home, other), position=position,
            doc_hash=hashlib.sha1(f"{self.seed}:{doc}".encode()).hexdigest()[:16], doc_chunks=CHUNKS_PER_DOC,
            source=SOURCES[doc % len(SOURCES)],
            topics=sorted({TOPICS[(doc * 7) % len(TOPICS)], TOPICS[(doc * 13 + 5) % len(TOPICS)]}),
            audience=sorted({AUDIENCES[doc % 3], AUDIENCES[(doc // 3) % 3]}),
            segments=sorted({SEGMENTS[doc % len(SEGMENTS)], SEGMENTS[(doc // 10) % len(SEGMENTS)]}),
        )

    def batch(self, start: int, n: int = BATCH) -> tuple[list[Chunk], np.ndarray]:
        """Chunks ``start`` .. ``start + n - 1``; ``start`` must sit on a batch boundary so steps agree."""
        if start % BATCH or n != BATCH:
            raise ValueError(f"batches start on multiples of {BATCH} and hold {BATCH} chunks (got start={start}, n={n})")
        rng = np.random.default_rng([self.seed, start // BATCH])
        others = rng.integers(0, len(self.text), size=n)
        chunks = [self._chunk(start + j, rng, int(others[j])) for j in range(n)]
        homes = np.array([self.home((start + j) // CHUNKS_PER_DOC) for j in range(n)])
        noise = rng.standard_normal((n, DIM)).astype(np.float32) * 0.02
        vectors = self.centroids[homes] + 0.5 * self.centroids[others] + noise
        return chunks, (vectors / np.linalg.norm(vectors, axis=1, keepdims=True)).astype(np.float32)

    def queries(self, n: int | None = None) -> list[str]:
        return [q for q, _ in self.text.queries[:n]]

    def query_vector(self, query: str) -> np.ndarray:
        """Near the centroid of an abstract judged relevant to the query (any text: a hashed centroid)."""
        target = dict(self.text.queries).get(query)
        digest = int(hashlib.sha1(query.encode()).hexdigest()[:8], 16)
        if target is None:
            target = digest % len(self.text)
        noise = np.random.default_rng([self.seed, digest]).standard_normal(DIM).astype(np.float32) * 0.02
        vector = self.centroids[target] + noise
        return (vector / np.linalg.norm(vector)).astype(np.float32)


class QueryVectors:
    """Stands in for the embedder in ``HybridRetriever``: a question's vector costs a dictionary lookup.

    >>> retriever = HybridRetriever(settings, store, QueryVectors(corpus))
    """

    def __init__(self, corpus: SyntheticCorpus) -> None:
        self.corpus = corpus
        self._cache: dict[str, np.ndarray] = {}

    def encode_cached(self, texts: list[str]) -> np.ndarray:
        rows = []
        for text in texts:
            if text not in self._cache:
                self._cache[text] = self.corpus.query_vector(text)
            rows.append(self._cache[text])
        return np.vstack(rows)
