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

from assistant.errors import InputError
from assistant.knowledge.converters import (
    ConversionError,
    convert_file,
    supported_suffixes,
)
from assistant.text import HEADING, is_chinese, load_yaml, parse_sections

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


CJK_FOLD = re.compile(r"(?<=[\u3000-\u303f\u3400-\u9fff\uff00-\uffef]) (?=[\u3000-\u303f\u3400-\u9fff\uff00-\uffef])")


class FaqItem(BaseModel):
    """A vetted answer a bank writes for questions it expects; it leads when a question matches it."""

    model_config = ConfigDict(extra="forbid")

    q: list[str] = Field(min_length=1)
    section: str = Field(min_length=1)
    a: str = Field(min_length=20, max_length=1500)

    @field_validator("a")
    @classmethod
    def _join_folded_chinese(cls, text: str) -> str:
        """YAML's folded blocks join lines with a space, which Chinese does not write between characters."""
        return CJK_FOLD.sub("", text)


class AskItem(BaseModel):
    """Questions one section answers, written the way managers and staff ask them. They are indexed with
    the section (its keywords and its vector), so a question worded unlike the section's own text still
    finds it; they are never shown as content."""

    model_config = ConfigDict(extra="forbid")

    section: str = Field(min_length=1)
    q: list[str] = Field(min_length=1, max_length=8)

    @field_validator("q")
    @classmethod
    def _short_questions(cls, questions: list[str]) -> list[str]:
        bad = [q for q in questions if not 4 <= len(q.strip()) <= 240]
        if bad:
            raise ValueError(f"each question must be 4-240 characters, got {bad[0]!r}")
        return [q.strip() for q in questions]


def faq_section_matches(wanted: str, path: str) -> bool:
    """A FAQ names its section by heading ("Tier thresholds") or by path ("Service model by tier > Mass");
    a section path matches it too when the heading is one of its ancestors."""
    return bool(path) and (path == wanted or path.endswith(" > " + wanted) or wanted in path.split(" > "))


class DocMeta(BaseModel):
    """The front matter every knowledge document carries (see knowledge/README.md)."""

    model_config = ConfigDict(extra="forbid")

    id: str = Field(pattern=SLUG)
    title: str = Field(min_length=3, max_length=200)
    source: Source
    topics: list[str] = Field(min_length=1)
    audience: list[Audience] = Field(min_length=1)
    segments: list[Segment] = Field(min_length=1)
    language: Literal["en", "zh"] = "en"
    edition_of: str | None = Field(None, pattern=SLUG, description="The English document this one translates.")
    edition_hash: str | None = Field(None, description="The English body hash the edition was written from "
                                     "(filled by `advisor knowledge stamp-editions`).")
    summary: str | None = None
    effective_date: date | None = None
    review_by: date | None = None
    superseded_by: str | None = Field(None, pattern=SLUG)
    faq: list[FaqItem] = []
    asks: list[AskItem] = Field(default_factory=list, description="Questions each section answers, indexed "
                                "with it (see knowledge/README.md).")

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


FRONT_MATTER = re.compile(r"\A\ufeff?---[ \t]*\r?\n(.*?)\r?\n---[ \t]*(?:\r?\n|\Z)", re.S)


def split_front_matter(text: str) -> tuple[dict | None, str]:
    match = FRONT_MATTER.match(text)
    if not match:
        return None, text
    data = load_yaml(match.group(1))
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
    _check_faq_sections(meta, body)
    digest = hashlib.sha256((fingerprint + "\n" + text).encode("utf-8")).hexdigest()
    return KnowledgeDoc(meta=meta, body=body, path=str(path), content_hash=digest)


def _check_faq_sections(meta: DocMeta, body: str) -> None:
    """A vetted answer is cited to its section, and listed questions are indexed with theirs, so the
    section must exist in this document."""
    paths = [s.path for s in parse_sections(body) if s.path]
    for field, items in (("faq", meta.faq), ("asks", meta.asks)):
        for number, item in enumerate(items):
            if not any(faq_section_matches(item.section, p) for p in paths):
                raise ValueError(f"{field}.{number}.section: '{item.section}' is not a heading of this document; "
                                 "use one of " + ", ".join(repr(p.split(' > ')[-1]) for p in paths[:8]))


def _describe(exc: ValidationError) -> str:
    parts = []
    for err in exc.errors():
        where = ".".join(str(p) for p in err["loc"]) or "front matter"
        parts.append(f"{where}: {err['msg']}")
    return "; ".join(parts)


def load_documents(folder: Path, fingerprint: str = "") -> LoadReport:
    """Load every ``*.md`` under ``folder``; a bad file becomes an error entry, never an exception.

    A missing folder is an error, not an empty knowledge base: an unmounted share or a mistyped
    ADVISOR_KNOWLEDGE_DIR must not read as "every document was deleted"."""
    require_folder(folder, "knowledge folder")
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
    return _check_editions(report)


def _check_editions(report: LoadReport) -> LoadReport:
    """An edition must translate a document that is there, into another language; else it is rejected
    (its original still loads), so a Chinese question never cites a twin of nothing."""
    by_id = {d.meta.id: d for d in report.docs}
    kept: list[KnowledgeDoc] = []
    for doc in report.docs:
        original = doc.meta.edition_of
        problem = None
        if original is not None:
            target = by_id.get(original)
            if target is None:
                problem = f"edition_of '{original}': no document has that id; fix the id or add the document"
            elif target.meta.edition_of is not None:
                problem = f"edition_of '{original}': that document is itself an edition; point at the original"
            elif target.meta.language == doc.meta.language:
                problem = (f"edition_of '{original}': both documents are in language '{doc.meta.language}'; "
                           "set language: to the edition's own language")
        if problem:
            report.errors.append(DocError(path=doc.path, message=problem))
        else:
            kept.append(doc)
    report.docs = kept
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
        language="zh" if is_chinese(text[:20000]) else "en",
    )
    digest = hashlib.sha256((fingerprint + "\n" + meta.id + "\n" + text).encode("utf-8")).hexdigest()
    return KnowledgeDoc(meta=meta, body=text, path=str(path), content_hash=digest)


def _readable_title(text: str) -> str:
    title = text[:200].strip()
    return title if len(title) >= 3 else f"Document {title}".strip()


def require_folder(folder: Path, what: str) -> None:
    """Raise InputError naming ``folder`` when it is not there (or is a file)."""
    if not folder.is_dir():
        state = "is a file, not a folder" if folder.exists() else "does not exist"
        raise InputError(f"the {what} {folder} {state}: check the path (or mount the share) and try again; "
                         "nothing was changed")


def load_user_folder(folder: Path, fingerprint: str = "") -> LoadReport:
    require_folder(folder, "source folder")
    report = LoadReport()
    seen: set[str] = set()
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        if path.suffix.lower() not in supported_suffixes():
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
