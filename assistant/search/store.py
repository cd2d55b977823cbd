"""Chroma behind one small class: embedded or server, the same code path.

The store is also the ingest manifest: every chunk carries its document's content hash and chunk
count, so what is in the store can always be compared with what is on disk, even after a crash
half-way through a document.
"""

from __future__ import annotations

import json
import threading
import uuid
from collections.abc import Mapping
from datetime import date
from typing import Any

import numpy as np
from pydantic import BaseModel

from assistant.config import Settings
from assistant.errors import AdvisorError, InputError
from assistant.knowledge.chunking import Chunk
from assistant.knowledge.documents import FaqItem
from assistant.plugins import Registry

FLAG_PREFIX = {"topics": "topic:", "audience": "aud:", "segments": "seg:"}
LIST_FIELDS = ("topics", "audience", "segments")
REVISION_KEY = "revision"


class StoreUnavailable(AdvisorError, RuntimeError):
    """Chroma cannot be reached; the message says where it was looked for and what to do."""


class DocState(BaseModel):
    doc_hash: str
    expected_chunks: int
    present_chunks: int
    hashes_agree: bool
    source: str = ""

    @property
    def complete(self) -> bool:
        return self.hashes_agree and self.present_chunks == self.expected_chunks


def _chunk_metadata(chunk: Chunk) -> dict[str, Any]:
    meta: dict[str, Any] = {
        "doc_id": chunk.doc_id, "title": chunk.title, "section": chunk.section,
        "position": chunk.position, "doc_hash": chunk.doc_hash, "doc_chunks": chunk.doc_chunks,
        "source": chunk.source, "review_by": chunk.review_by.isoformat() if chunk.review_by else "",
        "superseded_by": chunk.superseded_by or "",
        "language": chunk.language, "edition_of": chunk.edition_of or "", "section_index": chunk.section_index,
    }
    if chunk.faq:
        meta["faq"] = json.dumps([f.model_dump() for f in chunk.faq], ensure_ascii=False)
    if chunk.asks:
        meta["asks"] = json.dumps(chunk.asks, ensure_ascii=False)
    for field in LIST_FIELDS:
        values = getattr(chunk, field)
        meta[field] = "|".join(values)
        for value in values:
            meta[FLAG_PREFIX[field] + value] = True
    return meta


def chunk_from_record(chunk_id: str, text: str, meta: dict[str, Any]) -> Chunk:
    return Chunk(
        id=chunk_id, doc_id=meta["doc_id"], title=meta["title"], section=meta.get("section", ""),
        text=text, position=int(meta.get("position", 0)), doc_hash=meta["doc_hash"],
        doc_chunks=int(meta.get("doc_chunks", 0)), source=meta["source"],
        topics=[v for v in str(meta.get("topics", "")).split("|") if v],
        audience=[v for v in str(meta.get("audience", "")).split("|") if v],
        segments=[v for v in str(meta.get("segments", "")).split("|") if v],
        review_by=date.fromisoformat(meta["review_by"]) if meta.get("review_by") else None,
        superseded_by=meta.get("superseded_by") or None,
        faq=[FaqItem.model_validate(f) for f in json.loads(meta["faq"])] if meta.get("faq") else [],
        asks=json.loads(meta["asks"]) if meta.get("asks") else [],
        language=meta.get("language") or "en", edition_of=meta.get("edition_of") or None,
        section_index=int(meta.get("section_index", 0)),
    )


def where_clause(filters: dict[str, str] | None) -> dict[str, Any] | None:
    """Translate ``{"segments": "major-client"}`` into Chroma's metadata filter language."""
    if not filters:
        return None
    clauses: list[dict[str, Any]] = []
    for key, value in filters.items():
        if not isinstance(value, str) or not value.strip():
            raise InputError(f"filter '{key}' needs a text value, got {value!r}")
        try:
            value.encode("utf-8")
        except UnicodeEncodeError as exc:
            raise InputError(f"filter '{key}' holds characters that are not valid text ({value!r}); retype the value") from exc
        if key == "source":
            clauses.append({"source": value})
        elif key == "segments" and value != "all":
            # a document written for every segment answers for each one of them
            clauses.append({"$or": [{FLAG_PREFIX[key] + value: True}, {FLAG_PREFIX[key] + "all": True}]})
        elif key in FLAG_PREFIX:
            clauses.append({FLAG_PREFIX[key] + value: True})
        elif key == "doc_id":
            clauses.append({"doc_id": value})
        else:
            raise ValueError(f"unknown filter '{key}'; use one of source, topics, audience, segments, doc_id")
    return clauses[0] if len(clauses) == 1 else {"$and": clauses}


def matches(chunk: Chunk, filters: dict[str, str] | None) -> bool:
    """The same filter applied in Python, for the keyword index that lives outside Chroma."""
    for key, value in (filters or {}).items():
        if key == "source" and chunk.source != value:
            return False
        if key == "doc_id" and chunk.doc_id != value:
            return False
        if key == "segments" and value not in chunk.segments and "all" not in chunk.segments:
            return False
        if key in ("topics", "audience") and value not in getattr(chunk, key):
            return False
    return True


class ChromaStore:
    """The advisor's chunks and vectors in Chroma: an embedded folder, or a server when ``chroma_host`` is set.

    >>> store = ChromaStore(settings)   # ChromaStore(settings, collection="advisor-ml") for the second list
    >>> store.upsert(chunks, embedder.encode([c.embedding_text for c in chunks]))
    >>> store.query(embedder.encode_cached(["What is RAROC?"])[0], n=5)   # [(chunk, cosine), ...]
    """

    # Rows per read of the whole collection: Chroma answers one unpaged get() of more than 32,766 records
    # with "too many SQL variables" (chromadb 1.5.9, embedded and server alike).
    page_size = 10_000

    def __init__(self, settings: Settings, collection: str | None = None) -> None:
        self.settings = settings
        self.collection_name = collection or settings.collection
        self._client = None
        self._collection = None
        self._lock = threading.Lock()
        # Writes through this object: a reader in the same process (the keyword index) can tell at no cost
        # that its copy is stale, instead of waiting for its next revision check.
        self.local_writes = 0

    @property
    def location(self) -> str:
        s = self.settings
        return f"Chroma server http://{s.chroma_host}:{s.chroma_port}" if s.server_mode else f"Chroma folder {s.chroma_path}"

    def _connect(self):
        import chromadb
        from chromadb.config import Settings as ChromaSettings

        chroma_settings = ChromaSettings(anonymized_telemetry=False, allow_reset=True)
        s = self.settings
        try:
            if s.server_mode:
                return chromadb.HttpClient(host=s.chroma_host, port=s.chroma_port, settings=chroma_settings)
            s.chroma_path.mkdir(parents=True, exist_ok=True)
            return chromadb.PersistentClient(path=str(s.chroma_path), settings=chroma_settings)
        except Exception as exc:  # chromadb raises plain Exception/ValueError for connection failures
            raise StoreUnavailable(f"cannot open the {self.location}: {exc}") from exc

    @property
    def collection(self):
        with self._lock:
            if self._collection is None:
                if self._client is None:
                    self._client = self._connect()
                try:
                    self._collection = self._client.get_or_create_collection(
                        self.collection_name, configuration={"hnsw": {"space": "cosine"}},
                        embedding_function=None,
                    )
                except Exception as exc:
                    self._client = None
                    raise StoreUnavailable(f"cannot open collection '{self.collection_name}' in the {self.location}: {exc}") from exc
            return self._collection

    def _call(self, fn, *args, **kwargs):
        """Run a Chroma call; a dropped server becomes a readable error and the next call reconnects."""
        try:
            return fn(*args, **kwargs)
        except StoreUnavailable:
            raise
        except Exception as exc:
            if self.settings.server_mode and _looks_like_connection_error(exc):
                with self._lock:
                    self._client = None
                    self._collection = None
                raise StoreUnavailable(f"lost the {self.location} ({exc.__class__.__name__}); is the server running?") from exc
            raise

    def _written(self, fn) -> None:
        """A write; counted once it is over (done or failed half-way), so a reader that saw the count rebuilds after it."""
        try:
            self._call(fn)
        finally:
            self.local_writes += 1

    def reset(self) -> None:
        self.collection  # connect
        with self._lock:
            try:
                self._client.delete_collection(self.collection_name)
            except Exception:
                pass
            self._collection = None
            self.local_writes += 1

    def count(self) -> int:
        return self._call(lambda: self.collection.count())

    def revision(self) -> str:
        def read() -> str:
            meta = self.collection.metadata or {}
            return f"{meta.get(REVISION_KEY, '')}:{self.collection.count()}"
        return self._call(read)

    def bump_revision(self, extra: dict[str, Any] | None = None) -> None:
        def write() -> None:
            meta = {k: v for k, v in (self.collection.metadata or {}).items() if not k.startswith("hnsw:")}
            meta[REVISION_KEY] = uuid.uuid4().hex
            meta.update(extra or {})
            self.collection.modify(metadata=meta)
        self._written(write)

    def info(self) -> dict[str, Any]:
        return self._call(lambda: dict(self.collection.metadata or {}))

    def _get_all(self, include: list[str], where: dict[str, Any] | None = None) -> dict[str, list]:
        """The whole collection (or what ``where`` selects), read page by page."""
        out: dict[str, list] = {"ids": [], **{key: [] for key in include}}
        while True:
            got = self.collection.get(include=include, where=where, limit=self.page_size, offset=len(out["ids"]))
            for key in out:
                out[key].extend(got[key] or [])
            if len(got["ids"]) < self.page_size:
                return out

    def manifest(self) -> dict[str, DocState]:
        def read() -> dict[str, DocState]:
            got = self._get_all(["metadatas"])
            states: dict[str, DocState] = {}
            for meta in got["metadatas"] or []:
                doc_id = meta["doc_id"]
                st = states.get(doc_id)
                if st is None:
                    states[doc_id] = DocState(doc_hash=meta["doc_hash"], expected_chunks=int(meta["doc_chunks"]),
                                              present_chunks=1, hashes_agree=True, source=str(meta.get("source", "")))
                else:
                    st.present_chunks += 1
                    st.hashes_agree = st.hashes_agree and st.doc_hash == meta["doc_hash"]
            return states
        return self._call(read)

    def upsert(self, chunks: list[Chunk], embeddings: np.ndarray) -> None:
        if not chunks:
            return
        self._written(lambda: self.collection.upsert(
            ids=[c.id for c in chunks], documents=[c.text for c in chunks],
            metadatas=[_chunk_metadata(c) for c in chunks], embeddings=embeddings,
        ))

    def delete_doc(self, doc_id: str) -> None:
        self.delete_docs([doc_id])

    def delete_docs(self, doc_ids: list[str]) -> None:
        """Every chunk of these documents, in one write."""
        if doc_ids:
            where = {"doc_id": doc_ids[0]} if len(doc_ids) == 1 else {"doc_id": {"$in": list(doc_ids)}}
            self._written(lambda: self.collection.delete(where=where))

    def all_chunks(self, where: dict[str, Any] | None = None) -> list[Chunk]:
        def read() -> list[Chunk]:
            got = self._get_all(["documents", "metadatas"], where)
            chunks = [chunk_from_record(i, d, m) for i, d, m in zip(got["ids"], got["documents"], got["metadatas"])]
            return sorted(chunks, key=lambda c: (c.doc_id, c.position))
        return self._call(read)

    def get_chunks(self, ids: list[str]) -> dict[str, Chunk]:
        if not ids:
            return {}
        got = self._call(lambda: self.collection.get(ids=ids, include=["documents", "metadatas"]))
        return {i: chunk_from_record(i, d, m) for i, d, m in zip(got["ids"], got["documents"], got["metadatas"])}

    def embeddings(self, ids: list[str]) -> dict[str, np.ndarray]:
        if not ids:
            return {}
        got = self._call(lambda: self.collection.get(ids=ids, include=["embeddings"]))
        return {i: np.asarray(e, dtype=np.float32) for i, e in zip(got["ids"], got["embeddings"])}

    def query(self, embedding: np.ndarray, n: int, where: dict[str, Any] | None = None,
              known: Mapping[str, Chunk] | None = None) -> list[tuple[Chunk, float]]:
        return self.query_many(np.asarray(embedding)[None, :], n, where, known)[0]

    def query_many(self, embeddings: np.ndarray, n: int, where: dict[str, Any] | None = None,
                   known: Mapping[str, Chunk] | None = None, ids: list[str] | None = None) -> list[list[tuple[Chunk, float]]]:
        """Several questions under one filter in one call: a plan's dozens of citations cost a few round
        trips instead of one each. ``known`` holds chunks the caller already has in memory (the keyword
        index's): then only ids and distances are read, and only unknown ids are fetched, since reading
        texts and metadata back is most of a query's cost on a small collection. ``ids``, when given,
        replaces ``where`` by the ids it selects (the caller's own filter of the same chunks): Chroma
        restricts by id several times faster than by a metadata ``$or``."""
        if len(embeddings) == 0:
            return []
        if ids is not None and not ids:
            return [[] for _ in embeddings]
        include = ["distances"] if known is not None else ["documents", "metadatas", "distances"]
        restrict = {"ids": ids} if ids is not None else {"where": where}
        got = self._call(lambda: self.collection.query(
            query_embeddings=[e.tolist() for e in embeddings], n_results=n, include=include, **restrict))
        if known is None:
            return [
                [(chunk_from_record(i, d, m), 1.0 - float(dist)) for i, d, m, dist in zip(found, docs, metas, dists)]
                for found, docs, metas, dists in zip(got["ids"], got["documents"], got["metadatas"], got["distances"])
            ]
        missing = [i for found in got["ids"] for i in found if i not in known]
        chunks = {**self.get_chunks(list(dict.fromkeys(missing))), **known} if missing else known
        return [[(chunks[i], 1.0 - float(dist)) for i, dist in zip(found, dists) if i in chunks]
                for found, dists in zip(got["ids"], got["distances"])]


def _looks_like_connection_error(exc: Exception) -> bool:
    name = exc.__class__.__name__.lower()
    text = str(exc).lower()
    return any(word in name or word in text for word in ("connect", "timeout", "refused", "unavailable", "remoteprotocol", "network"))


def register(registry: Registry) -> None:
    """The built-in store: Chroma, embedded or as a server (``ADVISOR_CHROMA_HOST``)."""
    registry.register("store", "chroma", ChromaStore)
