"""Dense search by exact cosine over vectors held in memory, for collections small enough to scan.

A knowledge base of a few thousand passages is scanned exactly in well under a millisecond (a matrix
product), while each Chroma query costs several milliseconds of call overhead whatever its size: a
plan's citations made 11 store calls, about half of its time. So below a size limit the retriever
keeps each store's vectors in memory beside the keyword index, for the same revision of the store,
and ranks by exact cosine (no approximation, so also the same or better recall than HNSW); above it,
and for passages the index does not hold yet, the store answers as before.

May import numpy and assistant.knowledge (search floor).

>>> exact = ExactVectors.from_store(store, index.chunks)
>>> exact.query_many(question_vectors, 30, allowed_ids)[0][:2]   # [(chunk, cosine), ...]
"""

from __future__ import annotations

import threading
from collections.abc import Sequence

import numpy as np

from assistant.knowledge.chunking import Chunk


class ExactVectors:
    """One store's vectors for a fixed list of chunks, rows normalised, searched by matrix product.

    >>> exact = ExactVectors([chunk_a, chunk_b], np.array([[1.0, 0.0], [0.0, 1.0]]))
    >>> exact.query_many(np.array([[1.0, 0.0]]), 1)[0][0][0] is chunk_a
    True
    """

    def __init__(self, chunks: Sequence[Chunk], vectors: np.ndarray) -> None:
        if len(chunks) != len(vectors):
            raise ValueError(f"{len(chunks)} chunks but {len(vectors)} vectors")
        self.chunks = list(chunks)
        matrix = np.asarray(vectors, dtype=np.float32).reshape(len(self.chunks), -1)
        norms = np.linalg.norm(matrix, axis=1, keepdims=True)
        self.matrix = matrix / np.where(norms == 0, 1.0, norms)
        self.position = {c.id: i for i, c in enumerate(self.chunks)}

    @classmethod
    def from_store(cls, store, chunks: Sequence[Chunk], page: int = 5000) -> "ExactVectors":
        """The store's vectors for ``chunks``, read in pages; a chunk the store has no vector for
        (another model's collection still filling) is left out."""
        vectors: dict[str, np.ndarray] = {}
        ids = [c.id for c in chunks]
        for start in range(0, len(ids), page):
            vectors.update(store.embeddings(ids[start:start + page]))
        kept = [c for c in chunks if c.id in vectors]
        dim = len(next(iter(vectors.values()))) if vectors else 0
        return cls(kept, np.vstack([vectors[c.id] for c in kept]) if kept else np.zeros((0, dim), np.float32))

    def __len__(self) -> int:
        return len(self.chunks)

    def query_many(self, embeddings: np.ndarray, n: int,
                   ids: Sequence[str] | None = None) -> list[list[tuple[Chunk, float]]]:
        """The ``n`` nearest chunks per question, best first, among ``ids`` when given (a filter's chunks)."""
        queries = np.asarray(embeddings, dtype=np.float32).reshape(len(embeddings), -1)
        if len(queries) == 0:
            return []
        rows = (np.fromiter((self.position[i] for i in ids if i in self.position), dtype=np.int64)
                if ids is not None else None)
        matrix = self.matrix if rows is None else self.matrix[rows]
        if len(matrix) == 0:
            return [[] for _ in queries]
        norms = np.linalg.norm(queries, axis=1, keepdims=True)
        queries = queries / np.where(norms == 0, 1.0, norms)
        take = min(n, matrix.shape[0])
        out = []
        for query in queries:
            row = matrix @ query   # one product per question: a batch gives each question the same scores as alone
            top = np.argpartition(-row, take - 1)[:take] if take < len(row) else np.arange(len(row))
            top = top[np.lexsort((top, -row[top]))]   # best first; ties in a fixed order
            picked = top if rows is None else rows[top]
            out.append([(self.chunks[int(p)], float(row[t])) for p, t in zip(picked, top)])
        return out


class ExactSearch:
    """Each store's ``ExactVectors`` for the keyword index the retriever holds, read once per index, so
    they follow the same revisions; none above ``limit`` passages.

    >>> exact = ExactSearch(settings.exact_search_max)
    >>> vectors = exact.vectors("dense", store, retriever.keyword_index())   # None when too large
    """

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self._held: dict[str, tuple[object, ExactVectors]] = {}
        self._asked: dict[str, object] = {}
        self._lock = threading.Lock()

    def holds(self, name: str) -> bool:
        """Whether the vectors of the store ``name`` are in memory (for tests and the status line)."""
        return name in self._held

    def vectors(self, name: str, store, index, first_use_waits: bool = True) -> ExactVectors | None:
        """``index`` is the keyword index (its ``chunks``); None above the limit, or while the store
        cannot give every chunk's vector (a collection still being filled: read again next time).
        With ``first_use_waits``, the first search of an index is left to the store and the vectors are
        read from the second on: a one-shot ``advisor ask`` asks once, and reading every vector (0.3 s
        for the knowledge base's two models) would cost it more than the one store query it saves."""
        if not 0 < len(index.chunks) <= self.limit:
            return None
        with self._lock:
            held = self._held.get(name)
            if held is not None and held[0] is index:
                return held[1]
            if first_use_waits and self._asked.get(name) is not index:
                self._asked[name] = index
                return None
            exact = ExactVectors.from_store(store, index.chunks)
            if len(exact) < len(index.chunks):
                return None
            self._held[name] = (index, exact)
            return exact
