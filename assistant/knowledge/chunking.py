"""Cut documents into chunks that remember where they came from.

Chunks follow the headings, so a citation can say "Retail tiers > Service model" rather than
"characters 4,000 to 5,000", and their ids are derived from content so re-ingesting an unchanged
document produces exactly the same ids (the basis of incremental, kill-safe ingest).
May import: assistant.text, assistant.knowledge.documents.
"""

from __future__ import annotations

import hashlib
import re
from datetime import date

from pydantic import BaseModel, Field

from assistant.knowledge.documents import AskItem, FaqItem, KnowledgeDoc, Source, faq_section_matches
from assistant.text import LIST_ITEM, label, parse_sections, split_sentences


class Chunk(BaseModel):
    """One retrievable passage; ``text`` is what users see, ``embedding_text`` what gets embedded."""

    id: str
    doc_id: str
    title: str
    section: str
    text: str
    position: int
    doc_hash: str
    doc_chunks: int
    source: Source
    topics: list[str]
    audience: list[str]
    segments: list[str]
    review_by: date | None = None
    superseded_by: str | None = None
    faq: list[FaqItem] = Field(default_factory=list, description="Vetted answers for this section (first chunk only).")
    language: str = "en"
    edition_of: str | None = None
    asks: list[str] = Field(default_factory=list, description="Questions the section answers (front matter "
                            "``asks``): searched with the text, never shown.")
    section_index: int = Field(0, description="Ordinal of the section's heading in the document (0: before the "
                               "first); editions keep their sections in the same order, so it pairs them.")

    @property
    def family(self) -> str:
        """The document this passage stands for in any language: an edition's original, else its own."""
        return self.edition_of or self.doc_id

    @property
    def content_text(self) -> str:
        """The heading path and the text alone: what judges whether a passage answers (the questions in
        ``asks`` say what the section is for, not what it says)."""
        return f"{label(self.title, self.section)}\n{self.text}"

    @property
    def embedding_text(self) -> str:
        """What the keyword index and the dense lists read: the heading path, the text and the questions
        the section answers (so a question worded unlike the text still finds it)."""
        asks = "\n" + " ".join(self.asks) if self.asks else ""
        return f"{self.content_text}{asks}"


def chunk_document(doc: KnowledgeDoc, chunk_size: int = 900, overlap: int = 1) -> list[Chunk]:
    """Pack paragraphs into chunks of at most ``chunk_size`` characters without crossing headings."""
    texts: list[tuple[str, str, int]] = []
    ordinal = 0
    for sec in parse_sections(doc.body):
        ordinal += bool(sec.heading)
        section, paragraphs = sec.path, sec.paragraphs
        units: list[str] = []
        for para in paragraphs:
            units.extend([para] if len(para) <= chunk_size else _split_long(para, chunk_size))
        buffer: list[str] = []
        for unit in units:
            if buffer and len("\n\n".join(buffer + [unit])) > chunk_size:
                texts.append((section, "\n\n".join(buffer), ordinal))
                # no overlap out of a table or a list: a repeated row or item would stand alone, out of place
                structured = TABLE_LINE.match(buffer[-1]) or LIST_ITEM.match(buffer[-1])
                tail = split_sentences(buffer[-1])[-overlap:] if overlap and not structured else []
                buffer = [" ".join(tail)] if tail and len(" ".join(tail)) + len(unit) < chunk_size else []
            buffer.append(unit)
        if buffer:
            texts.append((section, "\n\n".join(buffer), ordinal))
    meta = doc.meta
    chunks: list[Chunk] = []
    seen: set[str] = set()
    for section, text, ordinal in texts:
        digest = hashlib.sha1(f"{meta.id}\x1f{section}\x1f{text}".encode("utf-8")).hexdigest()[:16]
        chunk_id = f"{meta.id}:{digest}"
        if chunk_id in seen:
            continue
        seen.add(chunk_id)
        chunks.append(
            Chunk(
                id=chunk_id, doc_id=meta.id, title=meta.title, section=section, text=text,
                position=len(chunks), doc_hash=doc.content_hash, doc_chunks=0, source=meta.source,
                topics=meta.topics, audience=list(meta.audience), segments=list(meta.segments),
                review_by=meta.review_by, superseded_by=meta.superseded_by,
                language=meta.language, edition_of=meta.edition_of, section_index=ordinal,
            )
        )
    for chunk in chunks:
        chunk.doc_chunks = len(chunks)
    for item in meta.faq:
        _attach_faq(item, chunks)
    for ask in meta.asks:
        _attach_asks(ask, chunks)
    return chunks


def _section_chunks(wanted: str, chunks: list[Chunk]) -> list[Chunk]:
    """The chunks of the section a FAQ or a list of asks names (by heading or path); when that heading has
    no text of its own (only sub-sections), the chunks of its sub-sections."""
    matching = [c for c in chunks if faq_section_matches(wanted, c.section)]
    exact = [c for c in matching if c.section == wanted or c.section.endswith(" > " + wanted)]
    return exact or matching


def _attach_faq(item: FaqItem, chunks: list[Chunk]) -> None:
    """On the first chunk of the FAQ's section (of each sub-section, when the heading has no text of its
    own), so any of them can lead with it."""
    homes: dict[str, Chunk] = {}
    for chunk in _section_chunks(item.section, chunks):
        homes.setdefault(chunk.section, chunk)
    for chunk in homes.values():
        chunk.faq.append(item)


def _attach_asks(item: AskItem, chunks: list[Chunk]) -> None:
    """On every chunk of the section: a long section is several chunks, and any of them may be the one
    retrieved."""
    for chunk in _section_chunks(item.section, chunks):
        chunk.asks.extend(q for q in item.q if q not in chunk.asks)


TABLE_LINE = re.compile(r"^\s*\|")


def _split_long(paragraph: str, limit: int) -> list[str]:
    """A long table is cut between rows, each piece under the table's header; a long list between items;
    prose between sentences. Cutting a table by "sentences" joined its rows into one line: the 16-row SME
    size table was no table at all, and no row of it could be quoted."""
    lines = paragraph.splitlines()
    lead_in = next((i for i, line in enumerate(lines) if i and LIST_ITEM.match(line)), None)
    if lead_in is not None and not LIST_ITEM.match(lines[0]):
        # prose that a list interrupts without a blank line ("Features worth noting:\n- ..."), as Markdown
        # allows: cut by sentences, the list was flattened into the prose and its first item lost its place
        return _split_long("\n".join(lines[:lead_in]), limit) + _split_long("\n".join(lines[lead_in:]), limit)
    if len(lines) > 2 and all(TABLE_LINE.match(line) for line in lines):
        return _split_lines(lines[2:], limit, lines[:2])
    if len(lines) > 1 and LIST_ITEM.match(lines[0]):
        items: list[str] = []
        for line in lines:
            if LIST_ITEM.match(line) or not items:
                items.append(line)
            else:  # an indented continuation line stays with its item
                items[-1] = f"{items[-1]}\n{line}"
        return _split_lines(items, limit, [])
    out: list[str] = []
    buffer = ""
    for sentence in split_sentences(paragraph):
        while len(sentence) > limit:
            out.append(sentence[:limit])
            sentence = sentence[limit:]
        if buffer and len(buffer) + 1 + len(sentence) > limit:
            out.append(buffer)
            buffer = sentence
        else:
            buffer = f"{buffer} {sentence}".strip()
    if buffer:
        out.append(buffer)
    return out


def _split_lines(lines: list[str], limit: int, header: list[str]) -> list[str]:
    out: list[str] = []
    buffer = list(header)
    for line in lines:
        if len(buffer) > len(header) and len("\n".join(buffer + [line])) > limit:
            out.append("\n".join(buffer))
            buffer = list(header)
        buffer.append(line)
    if len(buffer) > len(header):
        out.append("\n".join(buffer))
    return out
