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
from assistant.search.store import ChromaStore

Progress = Callable[[int, int, str], None]
SCHEMA_VERSION = "2"  # 2: chunks carry their section's vetted FAQ answers


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
    seconds: float = 0.0
    knowledge_version: str = ""
    errors: list[DocError] = []

    def summary(self) -> str:
        return (f"documents: {self.added} added, {self.updated} updated, {self.removed} removed, "
                f"{self.unchanged} unchanged; {self.chunks} chunks ({self.embedded_chunks} embedded); "
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


class Ingestor:
    def __init__(self, settings: Settings, store: ChromaStore, embedder: Embedder, group_chunks: int = 128) -> None:
        self.settings = settings
        self.store = store
        self.embedder = embedder
        self.group_chunks = group_chunks

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
            manifest = self.store.manifest()
            report = IngestReport(errors=errors)
            to_write: list[tuple[KnowledgeDoc, list[Chunk], bool]] = []
            for doc in docs:
                state = manifest.get(doc.meta.id)
                if state is not None and state.complete and state.doc_hash == doc.content_hash:
                    report.unchanged += 1
                    report.chunks += state.present_chunks
                    continue
                chunks = chunk_document(doc, self.settings.chunk_size, self.settings.chunk_overlap)
                to_write.append((doc, chunks, state is not None))
            current = {d.meta.id for d in docs}
            stale = [doc_id for doc_id in manifest if doc_id not in current]
            if to_write or stale:
                self.store.bump_revision()
            self._write(to_write, report, progress)
            for doc_id in stale:
                self.store.delete_doc(doc_id)
                report.removed += 1
            version = knowledge_version({d.meta.id: d.content_hash for d in docs})
            report.knowledge_version = version
            report.seconds = time.perf_counter() - started
            self.store.bump_revision({
                "knowledge_version": version,
                "last_ingest": datetime.now(timezone.utc).isoformat(timespec="seconds"),
                "documents": len(docs),
                "embedding_model": self.settings.embedding_model,
            })
            return report

    def _write(self, to_write: list[tuple[KnowledgeDoc, list[Chunk], bool]], report: IngestReport,
               progress: Progress | None) -> None:
        total = sum(len(chunks) for _, chunks, _ in to_write)
        done = 0
        bar = None
        if progress is None and total:
            from tqdm import tqdm
            bar = tqdm(total=total, unit="chunk", desc="embedding", leave=False)
        group: list[tuple[KnowledgeDoc, list[Chunk], bool]] = []

        def flush() -> None:
            nonlocal done
            flat = [c for _, chunks, _ in group for c in chunks]
            vectors = self.embedder.encode([c.embedding_text for c in flat])
            offset = 0
            for doc, chunks, existed in group:
                if existed:
                    self.store.delete_doc(doc.meta.id)
                self.store.upsert(chunks, vectors[offset:offset + len(chunks)])
                offset += len(chunks)
                if existed:
                    report.updated += 1
                else:
                    report.added += 1
                report.chunks += len(chunks)
                report.embedded_chunks += len(chunks)
            done += len(flat)
            if bar is not None:
                bar.update(len(flat))
            if progress is not None:
                progress(done, total, group[-1][0].meta.id)
            group.clear()

        for item in to_write:
            group.append(item)
            if sum(len(c) for _, c, _ in group) >= self.group_chunks:
                flush()
        if group:
            flush()
        if bar is not None:
            bar.close()
