"""Load knowledge documents and cut them into chunks that remember where they came from.

Chunks follow the headings, so a citation can say "Retail tiers > Service model" rather than
"characters 4,000 to 5,000", and their ids are derived from content so re-ingesting an unchanged
document produces exactly the same ids (the basis of incremental, kill-safe ingest).
"""

from __future__ import annotations

import hashlib
import re
from datetime import date
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from .converters import SUPPORTED_SUFFIXES, ConversionError, convert_file

Source = Literal["thesis-a", "thesis-b", "general", "bank"]
Audience = Literal["manager", "relationship-manager", "trainer"]
Segment = Literal[
    "all",
    "micro-business",
    "small-business",
    "medium-enterprise",
    "supply-chain-supplier",
    "major-client",
    "mass-retail",
    "affluent",
    "wealth",
    "private-banking",
]
SLUG = r"^[a-z0-9][a-z0-9-]{1,80}$"
FILTER_KEYS = ("source", "topics", "audience", "segments")


class FaqItem(BaseModel):
    """A vetted answer a bank writes for questions it expects; it leads when a question matches it."""

    model_config = ConfigDict(extra="forbid")

    q: list[str] = Field(min_length=1)
    section: str = Field(min_length=1)
    a: str = Field(min_length=20, max_length=1500)


class DocMeta(BaseModel):
    """The front matter every knowledge document carries (see knowledge/README.md)."""

    model_config = ConfigDict(extra="forbid")

    id: str = Field(pattern=SLUG)
    title: str = Field(min_length=3, max_length=200)
    source: Source
    topics: list[str] = Field(min_length=1)
    audience: list[Audience] = Field(min_length=1)
    segments: list[Segment] = Field(min_length=1)
    language: str = "en"
    summary: str | None = None
    effective_date: date | None = None
    review_by: date | None = None
    superseded_by: str | None = Field(None, pattern=SLUG)
    faq: list[FaqItem] = []

    @field_validator("topics")
    @classmethod
    def _topic_slugs(cls, topics: list[str]) -> list[str]:
        bad = [t for t in topics if not re.match(SLUG, t)]
        if bad:
            raise ValueError(f"topics must be lower-case slugs like 'sme-lending', got {bad}")
        return topics


class KnowledgeDoc(BaseModel):
    meta: DocMeta
    body: str
    path: str
    content_hash: str


class DocError(BaseModel):
    path: str
    message: str


class LoadReport(BaseModel):
    docs: list[KnowledgeDoc] = []
    errors: list[DocError] = []


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

    @property
    def embedding_text(self) -> str:
        heading = f"{self.title} > {self.section}" if self.section else self.title
        return f"{heading}\n{self.text}"


FRONT_MATTER = re.compile(r"\A\ufeff?---[ \t]*\r?\n(.*?)\r?\n---[ \t]*(?:\r?\n|\Z)", re.S)
HEADING = re.compile(r"^(#{1,6})\s+(.+?)\s*#*\s*$")
SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[A-Z0-9\"(\u4e00-\u9fff])|(?<=[。！？])")


def split_front_matter(text: str) -> tuple[dict | None, str]:
    match = FRONT_MATTER.match(text)
    if not match:
        return None, text
    data = yaml.safe_load(match.group(1))
    if not isinstance(data, dict):
        raise ValueError("front matter is not a YAML mapping")
    return data, text[match.end():]


def parse_document(path: Path, text: str, fingerprint: str = "") -> KnowledgeDoc:
    """Validate one markdown document; raise ValueError naming what is wrong."""
    try:
        data, body = split_front_matter(text)
    except yaml.YAMLError as exc:
        raise ValueError(f"front matter is not valid YAML: {exc}".splitlines()[0]) from exc
    if data is None:
        raise ValueError("missing front matter: start the file with '---', the fields (id, title, source, "
                         "topics, audience, segments) and '---'")
    try:
        meta = DocMeta.model_validate(data)
    except ValidationError as exc:
        raise ValueError(_describe(exc)) from exc
    if not body.strip():
        raise ValueError("the document has front matter but no text")
    digest = hashlib.sha256((fingerprint + "\n" + text).encode("utf-8")).hexdigest()
    return KnowledgeDoc(meta=meta, body=body, path=str(path), content_hash=digest)


def _describe(exc: ValidationError) -> str:
    parts = []
    for err in exc.errors():
        where = ".".join(str(p) for p in err["loc"]) or "front matter"
        parts.append(f"{where}: {err['msg']}")
    return "; ".join(parts)


def load_documents(folder: Path, fingerprint: str = "") -> LoadReport:
    """Load every ``*.md`` under ``folder``; a bad file becomes an error entry, never an exception."""
    report = LoadReport()
    seen: dict[str, str] = {}
    for path in sorted(folder.rglob("*.md")):
        if path.name.lower() == "readme.md":
            continue
        try:
            doc = parse_document(path, path.read_text(encoding="utf-8"), fingerprint)
        except (ValueError, UnicodeDecodeError) as exc:
            report.errors.append(DocError(path=str(path), message=str(exc)))
            continue
        if doc.meta.id in seen:
            report.errors.append(DocError(path=str(path), message=f"duplicate id '{doc.meta.id}' (also in {seen[doc.meta.id]})"))
            continue
        seen[doc.meta.id] = str(path)
        report.docs.append(doc)
    return report


def slugify(name: str) -> str:
    slug = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")
    if len(slug) < 2:
        slug = "doc-" + hashlib.sha1(name.encode("utf-8")).hexdigest()[:8]
    return slug[:70]


def load_user_file(path: Path, fingerprint: str = "") -> KnowledgeDoc:
    """A bank's own file: markdown with our front matter is taken as is; anything else gets
    front matter derived from its name, so users need not learn the schema to add a PDF."""
    text = convert_file(path)
    if path.suffix.lower() in (".md", ".markdown") and FRONT_MATTER.match(text):
        return parse_document(path, text, fingerprint)
    title = next((m.group(2) for line in text.splitlines() if (m := HEADING.match(line))), None)
    meta = DocMeta(
        id="bank-" + slugify(path.stem),
        title=_readable_title(title or path.stem.replace("_", " ").replace("-", " ")),
        source="bank",
        topics=["bank-documents"],
        audience=["manager", "relationship-manager", "trainer"],
        segments=["all"],
    )
    digest = hashlib.sha256((fingerprint + "\n" + meta.id + "\n" + text).encode("utf-8")).hexdigest()
    return KnowledgeDoc(meta=meta, body=text, path=str(path), content_hash=digest)


def _readable_title(text: str) -> str:
    title = text[:200].strip()
    return title if len(title) >= 3 else f"Document {title}".strip()


def load_user_folder(folder: Path, fingerprint: str = "") -> LoadReport:
    report = LoadReport()
    seen: set[str] = set()
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        if path.suffix.lower() not in SUPPORTED_SUFFIXES:
            report.errors.append(DocError(path=str(path), message=f"skipped: unsupported type '{path.suffix}'"))
            continue
        try:
            doc = load_user_file(path, fingerprint)
        except (ConversionError, ValueError) as exc:
            report.errors.append(DocError(path=str(path), message=str(exc)))
            continue
        if doc.meta.id in seen:
            report.errors.append(DocError(path=str(path), message=f"duplicate id '{doc.meta.id}'"))
            continue
        seen.add(doc.meta.id)
        report.docs.append(doc)
    return report


def _sections(body: str) -> list[tuple[str, list[str]]]:
    """Split a body into (section path, paragraphs); the level-1 heading is the title, not a section."""
    stack: list[tuple[int, str]] = []
    sections: list[tuple[str, list[str]]] = []
    paragraph: list[str] = []
    current: list[str] = []

    def flush_paragraph() -> None:
        if paragraph:
            current.append("\n".join(paragraph).strip())
            paragraph.clear()

    def path() -> str:
        return " > ".join(title for _, title in stack)

    current_path = ""
    in_code = False
    for line in body.splitlines():
        if line.strip().startswith("```"):
            in_code = not in_code
        match = None if in_code else HEADING.match(line)
        if match:
            flush_paragraph()
            if current:
                sections.append((current_path, current))
            current = []
            level = len(match.group(1))
            if level == 1:
                stack = []
            else:
                stack = [(lvl, t) for lvl, t in stack if lvl < level] + [(level, match.group(2).strip())]
            current_path = path()
        elif not line.strip():
            flush_paragraph()
        else:
            paragraph.append(line.rstrip())
    flush_paragraph()
    if current:
        sections.append((current_path, current))
    return sections


def split_sentences(text: str) -> list[str]:
    pieces: list[str] = []
    for line in text.splitlines():
        line = line.strip()
        if not line:
            continue
        pieces.extend(s.strip() for s in SENTENCE_END.split(line) if s and s.strip())
    return pieces


def chunk_document(doc: KnowledgeDoc, chunk_size: int = 900, overlap: int = 1) -> list[Chunk]:
    """Pack paragraphs into chunks of at most ``chunk_size`` characters without crossing headings."""
    texts: list[tuple[str, str]] = []
    for section, paragraphs in _sections(doc.body):
        units: list[str] = []
        for para in paragraphs:
            units.extend([para] if len(para) <= chunk_size else _split_long(para, chunk_size))
        buffer: list[str] = []
        for unit in units:
            if buffer and len("\n\n".join(buffer + [unit])) > chunk_size:
                texts.append((section, "\n\n".join(buffer)))
                tail = split_sentences(buffer[-1])[-overlap:] if overlap else []
                buffer = [" ".join(tail)] if tail and len(" ".join(tail)) + len(unit) < chunk_size else []
            buffer.append(unit)
        if buffer:
            texts.append((section, "\n\n".join(buffer)))
    meta = doc.meta
    chunks: list[Chunk] = []
    seen: set[str] = set()
    for section, text in texts:
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
            )
        )
    for chunk in chunks:
        chunk.doc_chunks = len(chunks)
    return chunks


def _split_long(paragraph: str, limit: int) -> list[str]:
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
