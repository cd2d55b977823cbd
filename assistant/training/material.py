"""The knowledge training reads, loaded once per change of the knowledge folder: documents, sections, rules, profiles.
"""
from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import yaml
from pydantic import ValidationError

from assistant.clients.profiles import (
    EnterpriseProfile,
    IndividualProfile,
    example_profiles,
)
from assistant.clients.rules import GlossaryEntry, RuleBook, rules_for
from assistant.config import Settings
from assistant.knowledge.documents import load_documents
from assistant.text import load_yaml, parse_sections
from assistant.training.models import Citation, CurriculumFile

# --------------------------------------------------------------------------- knowledge, loaded once


@dataclass
class DocSection:
    """One section of a document as training cites it: its path, its heading and the text under it.

    >>> doc_sections("# RAROC\\n\\n## Formula\\n\\nRAROC = return ÷ capital.")
    [DocSection(path='Formula', heading='Formula', text='RAROC = return ÷ capital.')]
    """

    path: str
    heading: str
    text: str = ""


@dataclass
class DocInfo:
    """One document of the knowledge base as training reads it, so quizzes cite only sections that exist.

    >>> doc = knowledge_for(settings).docs["client-profitability-raroc-eva"]
    >>> [s.path for s in doc.find("RAROC: formula and decision rule")]
    ['RAROC: formula and decision rule']
    """

    id: str
    title: str
    summary: str | None
    topics: list[str]
    audience: list[str]
    sections: list[DocSection]

    def find(self, ref: str) -> list[DocSection]:
        """A section by full path, else by heading text (several hits mean the reference is ambiguous)."""
        ref = ref.strip()
        exact = [s for s in self.sections if s.path == ref]
        return exact or [s for s in self.sections if s.heading == ref]


@dataclass
class TrainingKnowledge:
    """Everything training reads, loaded once per change of the knowledge folder and shared by every quiz.

    >>> knowledge = knowledge_for(settings)
    >>> knowledge.cite("client-profitability-raroc-eva", "Setting a loan pricing floor").section
    'Setting a loan pricing floor'
    """

    docs: dict[str, DocInfo]
    rules: RuleBook
    profiles: dict[str, EnterpriseProfile | IndividualProfile]
    curriculum: CurriculumFile | None
    curriculum_error: str | None
    glossary_sections: dict[int, str | None] = field(default_factory=dict)
    chinese_editions: dict[str, str] = field(default_factory=dict)  # original id -> its Chinese edition's id
    stems: list | None = None  # built on first use, then shared by every quiz over this knowledge

    @property
    def topics(self) -> list[str]:
        return sorted({t for d in self.docs.values() for t in d.topics})

    def cite(self, doc_id: str, section: str | None = None) -> Citation | None:
        """A citation to an existing document; a section that cannot be found is left out, not invented."""
        doc = self.docs.get(doc_id)
        if doc is None:
            return None
        hits = doc.find(section) if section else []
        return Citation(doc_id=doc_id, title=doc.title, section=hits[0].path if len(hits) == 1 else None)


def doc_sections(body: str) -> list[DocSection]:
    """Headings below the title as chunk-style paths ("Parent > Child") with the text under each."""
    return [DocSection(path=s.path, heading=s.heading, text=s.text) for s in parse_sections(body) if s.path]


def _stamp(folder: Path) -> str:
    """Changes when any file under the folder is added, removed, touched or resized."""
    files = sorted(p for p in folder.rglob("*") if p.is_file()) if folder.is_dir() else []
    digest = hashlib.sha1()
    for path in files:
        stat = path.stat()
        digest.update(f"{path}\x1f{stat.st_mtime_ns}\x1f{stat.st_size}\n".encode("utf-8", "surrogateescape"))
    return digest.hexdigest()


def knowledge_for(settings: Settings) -> TrainingKnowledge:
    """Load once per change of the knowledge folder: a 50-question quiz should not re-read 40 documents."""
    return _cached_knowledge(str(settings.knowledge_dir), _stamp(settings.knowledge_dir))


@lru_cache(maxsize=4)
def _cached_knowledge(folder: str, stamp: str) -> TrainingKnowledge:
    root = Path(folder)
    loaded = load_documents(root / "docs").docs
    docs = {
        d.meta.id: DocInfo(id=d.meta.id, title=d.meta.title, summary=d.meta.summary, topics=list(d.meta.topics),
                           audience=list(d.meta.audience), sections=doc_sections(d.body))
        for d in loaded
    }
    rules = rules_for(root / "data")
    profiles_dir = root / "profiles"
    profiles = example_profiles(profiles_dir) if profiles_dir.is_dir() else {}
    curriculum, error = _read_curriculum(root / "data" / "curriculum.yaml")
    knowledge = TrainingKnowledge(docs=docs, rules=rules, profiles=profiles, curriculum=curriculum, curriculum_error=error,
                                  chinese_editions={d.meta.edition_of: d.meta.id for d in loaded
                                                    if d.meta.edition_of and d.meta.language == "zh"})
    knowledge.glossary_sections = {i: _glossary_section(docs.get(e.doc), e) for i, e in enumerate(rules.glossary)}
    return knowledge


def _read_curriculum(path: Path) -> tuple[CurriculumFile | None, str | None]:
    if not path.exists():
        return None, f"curriculum file missing: {path}; copy the shipped knowledge/data/curriculum.yaml"
    try:
        return CurriculumFile.model_validate(load_yaml(path.read_text(encoding="utf-8"))), None
    except yaml.YAMLError as exc:
        return None, f"{path.name}: not valid YAML ({str(exc).splitlines()[0]})"
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(map(str, e['loc'])) or 'file'}: {e['msg']}" for e in exc.errors())
        return None, f"{path.name}: {problems}"


def _word(text: str) -> re.Pattern:
    return re.compile(r"(?<![A-Za-z0-9])" + re.escape(text) + r"(?![A-Za-z0-9])", re.I)


def _glossary_section(doc: DocInfo | None, entry: GlossaryEntry) -> str | None:
    """The section of the entry's document that explains it: a heading naming it, else the first mention."""
    if doc is None:
        return None
    term = _word(entry.term)
    zh = entry.zh.strip()

    def names(text: str) -> bool:
        return bool(term.search(text)) or (len(zh) >= 2 and zh in text)

    with_text = [s for s in doc.sections if s.text.strip()]  # only these are chunks a citation can point at
    for section in with_text:
        if names(section.heading):
            return section.path
    return next((s.path for s in with_text if names(s.text)), None)
