"""Incremental, idempotent ingest: only what changed is embedded, and a killed run heals itself.

Every decision is taken by comparing content hashes on disk with the hashes stored on the chunks
in Chroma. A document is written as "delete its old chunks, then upsert its new ones"; a run killed
between the two, or half-way through an upsert, leaves a document whose chunks disagree with its
expected count or hash, and the next run rewrites exactly that document.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import time
from collections.abc import Callable
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path

from pydantic import BaseModel, Field

from assistant.config import Settings
from assistant.knowledge.chunking import Chunk, chunk_document
from assistant.knowledge.documents import (
    DocError,
    KnowledgeDoc,
    load_documents,
    load_user_folder,
)
from assistant.search.embeddings import Embedder
from assistant.search.store import ChromaStore, DocState

Progress = Callable[[int, int, str], None]
SCHEMA_VERSION = "2"  # 2: chunks carry language, edition_of and section_index


class IngestRequest(BaseModel):
    rebuild: bool = False
    sources: list[Path] = Field(default_factory=list, description="Extra folders of the bank's own files.")


class IngestReport(BaseModel):
    added: int = 0
    updated: int = 0
    removed: int = 0
    unchanged: int = 0
    chunks: int = 0
    embedded_chunks: int = 0
    multilingual_chunks: int = Field(0, description="Chunks embedded for the multilingual list.")
    seconds: float = 0.0
    knowledge_version: str = ""
    errors: list[DocError] = []

    def summary(self) -> str:
        return (f"documents: {self.added} added, {self.updated} updated, {self.removed} removed, "
                f"{self.unchanged} unchanged; {self.chunks} chunks ({self.embedded_chunks} embedded, "
                f"{self.multilingual_chunks} multilingual); "
                f"{len(self.errors)} rejected; {self.seconds:.1f} s")


def fingerprint(settings: Settings) -> str:
    """What besides the text decides a document's chunks and vectors: change any, re-embed."""
    return f"schema={SCHEMA_VERSION}|model={settings.embedding_model}|size={settings.chunk_size}|overlap={settings.chunk_overlap}"


def knowledge_version(hashes: dict[str, str]) -> str:
    digest = hashlib.sha256("\n".join(f"{k}={v}" for k, v in sorted(hashes.items())).encode()).hexdigest()
    return digest[:12]


class SourceRegistry:
    """Folders added with ``--source`` are remembered, so a later plain ingest does not delete them."""

    def __init__(self, settings: Settings) -> None:
        self.path = settings.data_dir / "sources.json"
        self.uploads = settings.uploads_dir

    def folders(self) -> list[Path]:
        saved = json.loads(self.path.read_text()) if self.path.exists() else []
        folders = [Path(p) for p in saved]
        if self.uploads.exists():
            folders.append(self.uploads)
        return folders

    def add(self, folders: list[Path]) -> None:
        saved = json.loads(self.path.read_text()) if self.path.exists() else []
        for folder in folders:
            resolved = str(folder.resolve())
            if resolved not in saved:
                saved.append(resolved)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.path.write_text(json.dumps(saved, indent=2))


@contextmanager
def _exclusive(lock_path: Path):
    lock_path.parent.mkdir(parents=True, exist_ok=True)
    with open(lock_path, "w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


class Pending(BaseModel):
    """One document to (re)write, and into which of the two dense lists."""

    doc: KnowledgeDoc
    chunks: list[Chunk]
    existed: bool
    english: bool = True
    multilingual: bool = False


def _fresh(state: DocState | None, doc: KnowledgeDoc) -> bool:
    return state is not None and state.complete and state.doc_hash == doc.content_hash


class Ingestor:
    """Writes every document into the English store and, when given, the multilingual store.

    Each store is its own manifest, so each is healed on its own: turning the multilingual list on
    over an existing store embeds only the multilingual side, and a run killed between the two
    writes of a document rewrites just the side that is incomplete.
    """

    def __init__(self, settings: Settings, store: ChromaStore, embedder: Embedder, group_chunks: int = 128,
                 ml_store: ChromaStore | None = None, ml_embedder: Embedder | None = None) -> None:
        self.settings = settings
        self.store = store
        self.embedder = embedder
        self.group_chunks = group_chunks
        self.ml_store = ml_store if ml_embedder is not None else None
        self.ml_embedder = ml_embedder

    def load(self, sources: list[Path]) -> tuple[list[KnowledgeDoc], list[DocError]]:
        fp = fingerprint(self.settings)
        report = load_documents(self.settings.docs_dir, fp)
        docs, errors = list(report.docs), list(report.errors)
        seen = {d.meta.id for d in docs}
        for folder in sources:
            if not folder.is_dir():
                errors.append(DocError(path=str(folder), message="source folder does not exist"))
                continue
            extra = load_user_folder(folder, fp)
            errors.extend(extra.errors)
            for doc in extra.docs:
                if doc.meta.id in seen:
                    errors.append(DocError(path=doc.path, message=f"id '{doc.meta.id}' is already used by another document; rename the file"))
                    continue
                seen.add(doc.meta.id)
                docs.append(doc)
        return docs, errors

    def run(self, request: IngestRequest | None = None, progress: Progress | None = None) -> IngestReport:
        request = request or IngestRequest()
        started = time.perf_counter()
        registry = SourceRegistry(self.settings)
        if request.sources:
            missing = [str(p) for p in request.sources if not p.is_dir()]
            if missing:
                raise FileNotFoundError(f"source folder not found: {', '.join(missing)}")
            registry.add(request.sources)
        with _exclusive(self.settings.data_dir / "ingest.lock"):
            docs, errors = self.load(registry.folders())
            if request.rebuild:
                self.store.reset()
                if self.ml_store is not None:
                    self.ml_store.reset()
            self._match_ml_model()
            report = IngestReport(errors=errors)
            manifest = self.store.manifest()
            ml_manifest = self.ml_store.manifest() if self.ml_store is not None else {}
            to_write = self._plan(docs, manifest, ml_manifest, report)
            current = {d.meta.id for d in docs}
            stale = sorted((set(manifest) | set(ml_manifest)) - current)
            if to_write or stale:
                self._bump()
            self._write(to_write, report, progress)
            for doc_id in stale:
                for store in self._stores():
                    store.delete_doc(doc_id)
                report.removed += 1
            version = knowledge_version({d.meta.id: d.content_hash for d in docs})
            report.knowledge_version = version
            report.seconds = time.perf_counter() - started
            self._bump({
                "knowledge_version": version,
                "last_ingest": datetime.now(timezone.utc).isoformat(timespec="seconds"),
                "documents": len(docs),
            })
            return report

    def _stores(self) -> list[ChromaStore]:
        return [self.store] + ([self.ml_store] if self.ml_store is not None else [])

    def _bump(self, extra: dict | None = None) -> None:
        self.store.bump_revision({**extra, "embedding_model": self.settings.embedding_model} if extra else None)
        if self.ml_store is not None:
            self.ml_store.bump_revision({**extra, "embedding_model": self.ml_embedder.model_name} if extra else None)

    def _match_ml_model(self) -> None:
        """Vectors of another model (or size) cannot share a collection: start the list afresh, and
        record the model before writing, so a run killed after the reset still knows what it holds."""
        if self.ml_store is None:
            return
        name = self.ml_embedder.model_name
        held = self.ml_store.info().get("embedding_model")
        if held is not None and held != name:
            self.ml_store.reset()
        if held != name:
            self.ml_store.bump_revision({"embedding_model": name})

    def _plan(self, docs: list[KnowledgeDoc], manifest: dict[str, DocState], ml_manifest: dict[str, DocState],
              report: IngestReport) -> list[Pending]:
        to_write: list[Pending] = []
        for doc in docs:
            doc_id = doc.meta.id
            english = not _fresh(manifest.get(doc_id), doc)
            multilingual = self.ml_store is not None and not _fresh(ml_manifest.get(doc_id), doc)
            if not english and not multilingual:
                report.unchanged += 1
                report.chunks += manifest[doc_id].present_chunks
                continue
            chunks = chunk_document(doc, self.settings.chunk_size, self.settings.chunk_overlap)
            to_write.append(Pending(doc=doc, chunks=chunks, existed=doc_id in manifest or doc_id in ml_manifest,
                                    english=english, multilingual=multilingual))
        return to_write

    def _write(self, to_write: list[Pending], report: IngestReport, progress: Progress | None) -> None:
        total = sum(len(p.chunks) for p in to_write)
        done = 0
        bar = None
        if progress is None and total:
            from tqdm import tqdm
            bar = tqdm(total=total, unit="chunk", desc="embedding", leave=False)
        group: list[Pending] = []

        def flush() -> None:
            nonlocal done
            english = self._vectors(self.embedder, [p for p in group if p.english])
            multilingual = self._vectors(self.ml_embedder, [p for p in group if p.multilingual])
            for item in group:
                if item.english:
                    self._replace(self.store, item, english.pop(item.doc.meta.id))
                    report.embedded_chunks += len(item.chunks)
                if item.multilingual:
                    self._replace(self.ml_store, item, multilingual.pop(item.doc.meta.id))
                    report.multilingual_chunks += len(item.chunks)
                report.updated += item.existed
                report.added += not item.existed
                report.chunks += len(item.chunks)
            done += sum(len(p.chunks) for p in group)
            if bar is not None:
                bar.update(sum(len(p.chunks) for p in group))
            if progress is not None:
                progress(done, total, group[-1].doc.meta.id)
            group.clear()

        for item in to_write:
            group.append(item)
            if sum(len(p.chunks) for p in group) >= self.group_chunks:
                flush()
        if group:
            flush()
        if bar is not None:
            bar.close()

    @staticmethod
    def _vectors(embedder: Embedder | None, items: list[Pending]) -> dict:
        """Embed the group's documents in one call; vectors come back per document."""
        flat = [c.embedding_text for p in items for c in p.chunks]
        if not flat:
            return {}
        vectors = embedder.encode(flat)
        out, offset = {}, 0
        for p in items:
            out[p.doc.meta.id] = vectors[offset:offset + len(p.chunks)]
            offset += len(p.chunks)
        return out

    @staticmethod
    def _replace(store: ChromaStore, item: Pending, vectors) -> None:
        if item.existed:
            store.delete_doc(item.doc.meta.id)
        store.upsert(item.chunks, vectors)
