"""The keyword index on disk: built once per collection revision, loaded memory-mapped by every process.

Building the BM25 index means reading every chunk from Chroma and cutting its text into keywords
(jieba for Chinese): about 2 s for the shipped knowledge base, paid by every app process and every
one-shot ``advisor ask``. The first process to build it for a revision (usually the ingest) saves the
index's arrays (bm25s' own format) and the chunks beside them; the others load the arrays
memory-mapped, so processes on one machine share one copy through the page cache, and the folder can
sit on the shared data folder of a multi-machine deployment. A saved index is keyed by the collection's
revision and the keyword vocabulary (``keywords.vocabulary``): any write to the collection or a new
glossary word means a new key, so a stale index is never read. A folder that cannot be read or
written costs the time, never an answer: the index is built in memory as before, with a warning.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
import uuid
from pathlib import Path

import numpy as np

from assistant.knowledge.chunking import Chunk
from assistant.search.keywords import vocabulary

log = logging.getLogger(__name__)
FORMAT = 1
DONE = "complete"


class KeywordIndexFile:
    """Saved keyword indexes of one collection, newest few kept.

    >>> files = KeywordIndexFile(settings.data_dir / "keywords" / settings.collection)
    >>> saved = files.load(store.revision())            # (chunks, bm25s.BM25) or None
    >>> files.save(store.revision(), chunks, bm25)       # after building one
    """

    def __init__(self, folder: Path, keep: int = 3) -> None:
        self.folder = Path(folder)
        self.keep = keep

    def path(self, revision: str) -> Path:
        key = hashlib.sha1(f"{FORMAT}|{revision}|{vocabulary()}".encode("utf-8")).hexdigest()[:20]
        return self.folder / key

    def load(self, revision: str):
        """The chunks and the memory-mapped index saved for this revision, or None."""
        import bm25s

        folder = self.path(revision)
        if not (folder / DONE).exists():
            return None
        try:
            records = json.loads((folder / "chunks.json").read_text(encoding="utf-8"))
            chunks = [Chunk.model_validate(r) for r in records]
            bm25 = bm25s.BM25.load(str(folder), mmap=True)
            if bm25.scores["num_docs"] != len(chunks):
                raise ValueError(f"{bm25.scores['num_docs']} documents in the index, {len(chunks)} chunks beside it")
            for key in ("data", "indices", "indptr"):
                # Plain views of the same mapped pages: numpy.memmap's subclass costs ~3 us on every slice,
                # and a query slices once per keyword (a plan makes ~500 queries).
                bm25.scores[key] = np.asarray(bm25.scores[key])
        except (OSError, ValueError, KeyError) as exc:
            log.warning("keyword index %s not read (%s); building it in memory", folder, str(exc).splitlines()[0])
            return None
        return chunks, bm25

    def save(self, revision: str, chunks: list[Chunk], bm25) -> Path | None:
        """Write the index for this revision unless another process already did; never raises."""
        target = self.path(revision)
        if (target / DONE).exists():
            return target
        staging = self.folder / f".staging-{uuid.uuid4().hex[:12]}"
        try:
            staging.mkdir(parents=True)
            bm25.save(str(staging))
            (staging / "chunks.json").write_text(json.dumps([c.model_dump(mode="json") for c in chunks],
                                                            ensure_ascii=False), encoding="utf-8")
            (staging / DONE).write_text(revision, encoding="utf-8")
            os.rename(staging, target)   # atomic: readers see a whole index or none
        except OSError as exc:
            shutil.rmtree(staging, ignore_errors=True)
            if (target / DONE).exists():   # another process renamed its copy first
                return target
            log.warning("keyword index not saved to %s (%s); each process builds its own", self.folder, exc)
            return None
        self._prune(target)
        return target

    def _prune(self, current: Path) -> None:
        """Keep the newest few (a process may still be reading an older one; unlinking a memory-mapped
        file is safe on Linux, the mapping lives until it is closed)."""
        try:
            saved = sorted((p for p in self.folder.iterdir() if p.is_dir() and not p.name.startswith(".")),
                           key=lambda p: p.stat().st_mtime, reverse=True)
        except OSError:
            return
        for old in [p for p in saved if p != current][self.keep - 1:]:
            shutil.rmtree(old, ignore_errors=True)
