"""Incremental, idempotent ingest: only what changed is embedded, and a killed run heals itself.

Every decision is taken by comparing content hashes on disk with the hashes stored on the chunks
in Chroma. A document is written as "delete its old chunks, then upsert its new ones"; a run killed
between the two, or half-way through an upsert, leaves a document whose chunks disagree with its
expected count or hash, and the next run rewrites exactly that document.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable
from datetime import datetime, timezone
from pathlib import Path

import numpy as np
from pydantic import BaseModel, Field

from assistant.config import Settings
from assistant.errors import InputError
from assistant.knowledge.chunking import Chunk, chunk_document
from assistant.knowledge.documents import (
    DocError,
    KnowledgeDoc,
    LoadReport,
    load_documents,
    load_user_file,
    load_user_folder,
    require_folder,
)
from assistant.search.embeddings import Embedder, Kept
from assistant.search.sources import (
    IngestLock,
    SourceRegistry,
    removal_problem,
    shown,
)
from assistant.search.store import ChromaStore, DocState

Progress = Callable[[int, int, str], None]
Notice = Callable[[str], None]
SCHEMA_VERSION = "5"  # 2: chunks carry their section's vetted FAQ answers; 3: language, edition_of, section_index; 4: long tables and lists cut between rows and items; 5: a list that interrupts prose is cut between items too


class IngestRequest(BaseModel):
    rebuild: bool = False
    sources: list[Path] = Field(default_factory=list, description="Extra folders of the bank's own files.")
    prune: bool = Field(False, description="Allow removing more than ADVISOR_MAX_REMOVAL_SHARE of a source's "
                        "documents (or all of them), and forget remembered folders that are gone.")
    replacing: dict[Path, Path] = Field(
        default_factory=dict, description="Kept file -> its new version, read instead of it. A refused new version "
        "leaves the kept one in force; the caller moves accepted versions into place after the ingest.")


class IngestReport(BaseModel):
    added: int = 0
    updated: int = 0
    removed: int = 0
    unchanged: int = 0
    chunks: int = 0
    embedded_chunks: int = 0
    multilingual_chunks: int = Field(0, description="Chunks embedded for the multilingual list.")
    reused_vectors: int = Field(0, description="Of the chunks written (both lists), vectors read back from the vector "
                                "cache (a passage whose text an earlier ingest embedded) instead of computed.")
    seconds: float = 0.0
    knowledge_version: str = ""
    errors: list[DocError] = []
    removed_ids: list[str] = []

    def summary(self) -> str:
        return (f"documents: {self.added} added, {self.updated} updated, {self.removed} removed, "
                f"{self.unchanged} unchanged; {self.chunks} chunks ({self.embedded_chunks} embedded, "
                f"{self.multilingual_chunks} multilingual; {self.reused_vectors} of their vectors read from the cache); "
                f"{len(self.errors)} rejected; {self.seconds:.1f} s")


def fingerprint(settings: Settings) -> str:
    """What besides the text decides a document's chunks and vectors: change any, re-embed."""
    return f"schema={SCHEMA_VERSION}|model={settings.embedding_model}|size={settings.chunk_size}|overlap={settings.chunk_overlap}"


def knowledge_version(hashes: dict[str, str]) -> str:
    digest = hashlib.sha256("\n".join(f"{k}={v}" for k, v in sorted(hashes.items())).encode()).hexdigest()
    return digest[:12]


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
    """Bring the store in line with the knowledge folder, the remembered folders and the uploads.

    >>> Ingestor(settings, store, embedder).run(IngestRequest(prune=False), notice=print)

    Nothing is written until the plan is known: missing folders and removals beyond the allowed
    share stop the run first, and ``notice`` hears how many documents go (and which) before any do.
    """

    def __init__(self, settings: Settings, store: ChromaStore, embedder: Embedder, group_chunks: int = 128,
                 lock: IngestLock | None = None, ml_store: ChromaStore | None = None,
                 ml_embedder: Embedder | None = None) -> None:
        self.settings = settings
        self.store = store
        self.embedder = embedder
        self.group_chunks = group_chunks
        self.lock = lock or IngestLock(settings.data_dir / "ingest.lock")
        # The multilingual list (a second store and embedder) is written by the same run; each store is
        # its own manifest, so a run killed between the two writes of a document heals just that side.
        self.ml_store = ml_store if ml_embedder is not None else None
        self.ml_embedder = ml_embedder

    def load(self, sources: list[Path], replacing: dict[Path, Path] | None = None) -> tuple[list[KnowledgeDoc], list[DocError]]:
        fp = fingerprint(self.settings)
        report = load_documents(self.settings.docs_dir, fp)
        docs, errors = list(report.docs), list(report.errors)
        seen = {d.meta.id for d in docs}
        for folder in sources:
            extra = load_user_folder(folder, fp)
            self._overlay(folder, extra, replacing or {}, seen, fp)
            errors.extend(extra.errors)
            for doc in extra.docs:
                if doc.meta.id in seen:
                    errors.append(DocError(path=doc.path, message=f"id '{doc.meta.id}' is already used by another document; rename the file"))
                    continue
                seen.add(doc.meta.id)
                docs.append(doc)
        return docs, errors

    @staticmethod
    def _overlay(folder: Path, extra: LoadReport, replacing: dict[Path, Path], seen: set[str], fp: str) -> None:
        """Read each new version in place of its kept file; a refused one is an error on the new
        version's path and leaves the kept file's document as it was."""
        root = folder.resolve()
        for kept, new in replacing.items():
            if kept.resolve().parent != root:
                continue
            try:
                doc = load_user_file(new, fp)
            except ValueError as exc:  # ConversionError and front-matter errors
                extra.errors.append(DocError(path=str(new), message=str(exc)))
                continue
            others = {d.meta.id for d in extra.docs if Path(d.path).resolve() != kept.resolve()}
            if doc.meta.id in seen or doc.meta.id in others:
                extra.errors.append(DocError(path=str(new), message=f"id '{doc.meta.id}' is already used by another "
                                             "document; rename the file (or change its id)"))
                continue
            extra.docs = [d for d in extra.docs if Path(d.path).resolve() != kept.resolve()] + [doc]
            extra.errors = [e for e in extra.errors if Path(e.path).resolve() != kept.resolve()]

    def folders(self, request: IngestRequest, registry: SourceRegistry) -> list[Path]:
        """The folders to read; raises InputError for a missing one (nothing is changed then)."""
        require_folder(self.settings.docs_dir, "knowledge folder (ADVISOR_KNOWLEDGE_DIR/docs)")
        missing = [str(p) for p in request.sources if not p.is_dir()]
        if missing:
            raise InputError(f"--source folder not found: {', '.join(missing)}: check the path (or mount the share); "
                             "nothing was changed")
        gone = [p for p in registry.saved() if not p.is_dir()]
        if gone and not request.prune:
            raise InputError(f"the remembered source folder {', '.join(map(str, gone))} is missing (unmounted or moved?): "
                             "mount it again, or run the ingest with prune (advisor ingest --prune) to forget it and "
                             "remove its documents; nothing was changed")
        fresh = [p.resolve() for p in request.sources]
        folders = [p for p in registry.folders() if p.is_dir() and p.resolve() not in fresh]
        return folders + fresh

    def run(self, request: IngestRequest | None = None, progress: Progress | None = None,
            notice: Notice | None = None) -> IngestReport:
        request = request or IngestRequest()
        started = time.perf_counter()
        with self.lock:
            registry = SourceRegistry(self.settings)
            docs, errors = self.load(self.folders(request, registry), request.replacing)
            manifest = self.store.manifest()
            current = {d.meta.id for d in docs}
            stale = sorted(doc_id for doc_id in manifest if doc_id not in current)
            problem = None if request.prune else removal_problem(stale, manifest, self.settings.max_removal_share)
            if problem:
                raise InputError(problem)
            if stale and notice is not None:
                notice(f"removing {len(stale)} of {len(manifest)} stored documents no longer on disk: {shown(stale)}")
            registry.add(request.sources)
            gone = [p for p in registry.saved() if not p.is_dir()]  # only with prune: folders() refused them otherwise
            if gone:
                registry.forget(gone)
            report = IngestReport(errors=errors, removed_ids=stale)
            if request.rebuild:
                for store in self._stores():
                    store.reset()
            self._match_ml_model()
            manifest = {} if request.rebuild else manifest
            ml_manifest = self.ml_store.manifest() if self.ml_store is not None else {}
            to_write = self._plan(docs, manifest, ml_manifest, report)
            stale_ml = sorted(set(ml_manifest) - current - set(stale))
            if to_write or stale or stale_ml:
                self._bump()
            self._write(to_write, report, progress)
            for doc_id in stale:
                if not request.rebuild:
                    for store in self._stores():
                        store.delete_doc(doc_id)
                report.removed += 1
            for doc_id in stale_ml:
                self.ml_store.delete_doc(doc_id)
            self._finish(docs, report, started)
            return report

    def _finish(self, docs: list[KnowledgeDoc], report: IngestReport, started: float) -> None:
        version = knowledge_version({d.meta.id: d.content_hash for d in docs})
        report.knowledge_version = version
        report.seconds = time.perf_counter() - started
        self._bump({
            "knowledge_version": version,
            "last_ingest": datetime.now(timezone.utc).isoformat(timespec="seconds"),
            "documents": len(docs),
        })

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
            english = [p for p in group if p.english]
            multilingual = [p for p in group if p.multilingual]
            for store, embedder, items in ((self.store, self.embedder, english),
                                           (self.ml_store, self.ml_embedder, multilingual)):
                kept = self._vectors(embedder, items)
                self._replace(store, items, kept.vectors)
                report.reused_vectors += kept.reused
            report.embedded_chunks += sum(len(p.chunks) for p in english)
            report.multilingual_chunks += sum(len(p.chunks) for p in multilingual)
            for item in group:
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
    def _vectors(embedder: Embedder | None, items: list[Pending]) -> Kept:
        """Embed the group's documents in one call, their chunks in order; passages whose text the vector
        cache holds are read back (an embedder without a cache, such as a test's own, embeds all)."""
        flat = [c.embedding_text for p in items for c in p.chunks]
        if not flat:
            return Kept(np.zeros((0, 0), dtype=np.float32), 0)
        kept = getattr(embedder, "encode_kept", None)
        return kept(flat) if kept is not None else Kept(embedder.encode(flat), 0)

    @staticmethod
    def _replace(store: ChromaStore | None, items: list[Pending], vectors: np.ndarray) -> None:
        """One delete and one write per group, not per document: each Chroma write has a fixed cost
        (about 0.1 s), which made the writes a fifth of a knowledge-base ingest. A kill in between
        leaves documents short of chunks, which the next run's manifest sees and embeds again."""
        if store is None or not items:
            return
        store.delete_docs([p.doc.meta.id for p in items if p.existed])
        store.upsert([c for p in items for c in p.chunks], vectors)
