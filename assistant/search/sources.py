"""What an ingest may read and remove: the remembered folders, the ingest lock, the removal guard.

An ingest brings the store in line with the folders it reads, so a folder that is missing, empty
by accident (an unmounted share) or mistyped would empty the store. Everything here exists to make
that impossible without saying so: missing folders are errors, a large removal stops unless it is
asked for, and the list of remembered folders is only changed under the lock, atomically.
"""

from __future__ import annotations

import fcntl
import json
import threading
from collections import Counter
from pathlib import Path

from assistant.config import Settings
from assistant.errors import InputError
from assistant.search.files import write_atomically
from assistant.search.store import DocState

SHOWN_IDS = 20


class IngestLock:
    """One ingest at a time per data folder: across processes (flock) and threads, re-entrant within
    a thread, so an upload can hold it around "check, ingest, keep" while the ingest takes it again.

    >>> lock = IngestLock(settings.data_dir / "ingest.lock")
    >>> with lock:
    ...     advisor.ingest()
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self._thread_lock = threading.RLock()
        self._depth = 0
        self._handle = None

    def __enter__(self) -> "IngestLock":
        self._thread_lock.acquire()
        try:
            if self._depth == 0:
                self.path.parent.mkdir(parents=True, exist_ok=True)
                handle = open(self.path, "w")
                fcntl.flock(handle, fcntl.LOCK_EX)
                self._handle = handle
            self._depth += 1
        except BaseException:
            self._thread_lock.release()
            raise
        return self

    def __exit__(self, *exc) -> None:
        try:
            self._depth -= 1
            if self._depth == 0 and self._handle is not None:
                fcntl.flock(self._handle, fcntl.LOCK_UN)
                self._handle.close()
                self._handle = None
        finally:
            self._thread_lock.release()


class SourceRegistry:
    """Folders added with ``--source`` are remembered, so a later plain ingest does not delete them.

    >>> registry = SourceRegistry(settings)
    >>> registry.add([Path("/srv/bank-files")])   # call under the IngestLock
    >>> registry.folders()
    """

    def __init__(self, settings: Settings) -> None:
        self.path = settings.data_dir / "sources.json"
        self.uploads = settings.uploads_dir

    def saved(self) -> list[Path]:
        if not self.path.exists():
            return []
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise InputError(f"{self.path} is not a JSON list of folders ({exc}); fix or delete it and ingest again") from exc
        if not isinstance(data, list) or not all(isinstance(p, str) for p in data):
            raise InputError(f"{self.path} must hold a JSON list of folder paths; fix or delete it and ingest again")
        return [Path(p) for p in data]

    def folders(self) -> list[Path]:
        """The remembered folders, then the upload folder when there is one."""
        return self.saved() + ([self.uploads] if self.uploads.exists() else [])

    def add(self, folders: list[Path]) -> None:
        saved = [str(p) for p in self.saved()]
        fresh = [str(f.resolve()) for f in folders if str(f.resolve()) not in saved]
        if fresh:
            write_atomically(self.path, json.dumps(saved + list(dict.fromkeys(fresh)), indent=2))

    def forget(self, folders: list[Path]) -> None:
        gone = {str(f) for f in folders}
        write_atomically(self.path, json.dumps([str(p) for p in self.saved() if str(p) not in gone], indent=2))


def removal_problem(stale: list[str], manifest: dict[str, DocState], max_share: float) -> str | None:
    """Why removing ``stale`` needs --prune, or None: it takes all of a source's documents, or more
    than ``max_share`` of them (a source is the documents' ``source``: thesis-a, thesis-b, general, bank)."""
    if not stale:
        return None
    stored = Counter(state.source for state in manifest.values())
    removed = Counter(manifest[doc_id].source for doc_id in stale)
    too_many = [f"{source or 'unknown'}: {n} of {stored[source]}" for source, n in sorted(removed.items())
                if n == stored[source] or n > max_share * stored[source]]
    if not too_many:
        return None
    return (f"the ingest stopped before changing anything: it would remove {len(stale)} of {len(manifest)} stored "
            f"documents ({'; '.join(too_many)}; the limit is {max_share:.0%} of a source, and never all of it): "
            f"{shown(stale)}. Is a folder missing, empty or unmounted? If these documents really were removed, "
            f"run the ingest again with prune (advisor ingest --prune)")


def shown(ids: list[str]) -> str:
    more = len(ids) - SHOWN_IDS
    return ", ".join(ids[:SHOWN_IDS]) + (f" and {more} more" if more > 0 else "")
