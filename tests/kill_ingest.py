"""Run one ingest and ``kill -9`` this very process after N chunks have been written to the store.

``python -m tests.kill_ingest N`` (settings from ADVISOR_* variables). A counted kill point, unlike a
timer, lands in the same place on any machine: N chunks are written (the last batch cut short
half-way through a document when N falls inside it), then SIGKILL. N = 0 kills at the first write,
which for a document being replaced is right after its old chunks were deleted. Exit code 3 means
the ingest finished without reaching the kill point, which the test treats as a failure.
"""

from __future__ import annotations

import os
import signal
import sys

from assistant.answers.advisor import Advisor
from assistant.config import Settings
from assistant.search.store import ChromaStore


class KillingStore(ChromaStore):
    """The real Chroma store, killed with SIGKILL once ``after`` chunks have gone in."""

    def __init__(self, settings: Settings, after: int) -> None:
        super().__init__(settings)
        self.after = after
        self.written = 0

    def upsert(self, chunks, embeddings) -> None:
        room = self.after - self.written
        if room >= len(chunks):
            super().upsert(chunks, embeddings)
            self.written += len(chunks)
            return
        super().upsert(chunks[:room], embeddings[:room])
        os.kill(os.getpid(), signal.SIGKILL)


def main() -> None:
    settings = Settings()
    advisor = Advisor(settings, store=KillingStore(settings, int(sys.argv[1])))
    advisor.ingest(progress=lambda *_: None)
    sys.exit(3)


if __name__ == "__main__":
    main()
