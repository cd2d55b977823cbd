"""Browse what the advisor knows: documents by topic, and each document's text."""

from __future__ import annotations

from collections import defaultdict

from pydantic import BaseModel

from assistant.answers.advisor import Advisor
from assistant.knowledge.documents import split_front_matter


class DocSummary(BaseModel):
    id: str
    title: str
    source: str
    topics: list[str]
    segments: list[str]
    chunks: int


def list_documents(advisor: Advisor) -> list[DocSummary]:
    grouped: dict[str, list] = defaultdict(list)
    for chunk in advisor.store.all_chunks():
        grouped[chunk.doc_id].append(chunk)
    return sorted(
        (DocSummary(id=doc_id, title=c[0].title, source=c[0].source, topics=c[0].topics, segments=c[0].segments, chunks=len(c))
         for doc_id, c in grouped.items()),
        key=lambda d: (d.topics[0] if d.topics else "", d.title),
    )


def topics(docs: list[DocSummary]) -> list[str]:
    return sorted({t for d in docs for t in d.topics})


def read_document(advisor: Advisor, doc_id: str) -> str:
    """The original markdown where we have it, else the document rebuilt from its chunks."""
    path = advisor.settings.docs_dir / f"{doc_id}.md"
    if path.exists():
        _, body = split_front_matter(path.read_text(encoding="utf-8"))
        return body.strip()
    chunks = advisor.store.all_chunks(where={"doc_id": doc_id})
    if not chunks:
        return f"No document with id '{doc_id}'."
    lines = [f"# {chunks[0].title}"]
    section = None
    for chunk in chunks:
        if chunk.section != section and chunk.section:
            lines.append(f"\n## {chunk.section}")
        section = chunk.section
        lines.append(chunk.text)
    return "\n\n".join(lines)
