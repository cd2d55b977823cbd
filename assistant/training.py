"""Training mode: an onboarding curriculum, a bilingual glossary and graded quizzes, all from the knowledge base.

Trainers change content by editing files (knowledge/data/curriculum.yaml, glossary.yaml, the rule tables,
the example profiles), never code: every question is built from those files, every answer is checked by
the same rules the advisor uses, and every explanation cites the document (and section) it comes from,
so a trainee can go and read the source. Quizzes are deterministic per seed so a trainer can hand the
same quiz to a whole cohort.

Public functions (the CLI and the app call only these):
``build_curriculum``, ``validate_curriculum``, ``search_glossary``, ``quiz_topics``, ``question_bank``,
``make_quiz``, ``grade``, ``parse_answer``, ``record_result``.
"""

from __future__ import annotations

import hashlib
import math
import random
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import lru_cache, partial
from itertools import combinations
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from .config import Settings
from .errors import InputError
from .knowledge import HEADING, SLUG, Audience, load_documents
from .profiles import EnterpriseProfile, IndividualProfile, example_profiles
from .rules import GlossaryEntry, IndustryBounds, RuleBook, Tier, TierTable, rules_for
from .segmentation import MEASURE_LABEL, classify

LETTERS = "ABCD"
OPTIONS = 4
CJK = re.compile(r"[\u3400-\u9fff]")
Kind = Literal["definition", "fact", "scenario"]


# ----------------------------------------------------------------------------------------- models


class Citation(BaseModel):
    """Where a trainee reads more: a document of knowledge/docs and, when known, a section path."""

    doc_id: str
    title: str
    section: str | None = Field(None, description="Section path as in the chunks, e.g. 'Service model by tier > Mass'.")

    @property
    def label(self) -> str:
        return f"{self.doc_id} > {self.section}" if self.section else self.doc_id


class Question(BaseModel):
    """One multiple-choice question with exactly one correct option."""

    id: str = Field(description="Stable hash of what is asked: the same question has the same id in every quiz.")
    topic: str
    topics: list[str] = Field(min_length=1, description="Every topic of the cited documents; --topic filters on these.")
    kind: Kind
    family: str = Field(description="Which generator made it, e.g. glossary-definition, sme-bound, scenario-segment.")
    prompt: str
    options: list[str] = Field(min_length=OPTIONS, max_length=OPTIONS)
    answer: int = Field(ge=0, lt=OPTIONS)
    explanation: str
    sources: list[Citation] = Field(min_length=1)

    @model_validator(mode="after")
    def _unambiguous(self) -> "Question":
        if len({o.strip().casefold() for o in self.options}) != OPTIONS:
            raise ValueError(f"question {self.id}: options are not distinct: {self.options}")
        return self

    @property
    def answer_letter(self) -> str:
        return LETTERS[self.answer]


class QuizRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    topic: str | None = Field(None, description="A topic of the vocabulary; None for any topic.")
    n: int = Field(10, ge=1, le=500)
    seed: int | None = Field(None, ge=0, le=2**63 - 1, description="None picks one; the quiz records it.")

    @field_validator("topic", mode="before")
    @classmethod
    def _blank_is_any(cls, value: object) -> object:
        if isinstance(value, str):
            value = value.strip().lower()
            return None if value in ("", "any", "all") else value
        return value


class Quiz(BaseModel):
    id: str
    seed: int
    topic: str | None
    requested: int
    questions: list[Question]
    note: str | None = Field(None, description="Set when fewer questions than requested exist for the topic.")


class TopicCount(BaseModel):
    topic: str
    questions: int


class GradedQuestion(BaseModel):
    number: int
    question_id: str
    topic: str
    kind: Kind
    prompt: str
    options: list[str]
    chosen: int | None = Field(None, description="Index chosen; None when the question was skipped.")
    answer: int
    correct: bool
    explanation: str
    sources: list[Citation]

    @property
    def skipped(self) -> bool:
        return self.chosen is None


class TopicTally(BaseModel):
    topic: str
    answered: int
    correct: int
    score: float


class QuizResult(BaseModel):
    quiz_id: str
    seed: int
    topic: str | None
    total: int
    answered: int
    correct: int
    score: float = Field(description="Correct share of the answered questions (0 when none was answered).")
    items: list[GradedQuestion]
    by_topic: list[TopicTally]


class GlossaryHit(BaseModel):
    term: str
    zh: str
    definition: str
    doc: str
    doc_title: str | None = None
    match: Literal["exact", "prefix", "term", "definition"]


class GlossarySearch(BaseModel):
    query: str
    language: Literal["en", "zh"]
    total: int
    hits: list[GlossaryHit]


class ReadingSpec(BaseModel):
    model_config = ConfigDict(extra="forbid")

    doc: str
    sections: list[str] = Field(default_factory=list)
    note: str | None = None


class ModuleSpec(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: str = Field(pattern=SLUG)
    title: str = Field(min_length=3, max_length=200)
    days: tuple[int, int]
    objectives: list[str] = Field(min_length=1)
    topics: list[str] = Field(min_length=1)
    readings: list[ReadingSpec] = Field(min_length=1)
    activities: list[str] = Field(default_factory=list)

    @field_validator("days")
    @classmethod
    def _day_range(cls, days: tuple[int, int]) -> tuple[int, int]:
        first, last = days
        if not 1 <= first <= last <= 365:
            raise ValueError(f"days must be [first, last] with 1 <= first <= last <= 365, got {list(days)}")
        return days


class QuizSections(BaseModel):
    """Section headings the rule-table questions cite, inside the document each table names."""

    model_config = ConfigDict(extra="forbid")

    sme_measures: str | None = None
    sme_reading_rule: str | None = None
    retail_tiers: str | None = None
    retail_service: str | None = None
    qualified_investor: str | None = None


class CurriculumFile(BaseModel):
    """knowledge/data/curriculum.yaml as written by a trainer."""

    model_config = ConfigDict(extra="forbid")

    title: str
    audience: list[Audience] = Field(min_length=1)
    max_related: int = Field(4, ge=0, le=50)
    modules: list[ModuleSpec] = Field(min_length=1)
    quiz_sections: QuizSections = Field(default_factory=QuizSections)

    @model_validator(mode="after")
    def _ordered(self) -> "CurriculumFile":
        seen: set[str] = set()
        for before, module in zip([None, *self.modules], self.modules):
            if module.id in seen:
                raise ValueError(f"module id '{module.id}' is used twice")
            seen.add(module.id)
            if before is not None and module.days[0] < before.days[0]:
                raise ValueError(f"module '{module.id}' starts on day {module.days[0]}, before '{before.id}' "
                                 f"(day {before.days[0]}): list modules in teaching order or change their days")
        return self


class SectionRef(BaseModel):
    heading: str
    path: str


class Reading(BaseModel):
    doc_id: str
    title: str
    summary: str | None = None
    sections: list[SectionRef]
    note: str | None = None


class RelatedDoc(BaseModel):
    doc_id: str
    title: str
    shared_topics: list[str]


class Module(BaseModel):
    order: int
    id: str
    title: str
    phase: str = Field(description="Days 1-30, Days 31-60, Days 61-90 or After day 90.")
    first_day: int
    last_day: int
    objectives: list[str]
    topics: list[str]
    readings: list[Reading]
    related: list[RelatedDoc]
    glossary_terms: list[str] = Field(description="Glossary terms explained by the module's readings.")
    activities: list[str]


class Phase(BaseModel):
    label: str
    modules: list[str]


class Curriculum(BaseModel):
    title: str
    audience: list[str]
    modules: list[Module]
    phases: list[Phase]
    unassigned_docs: list[RelatedDoc] = Field(
        description="Documents for the audience that no module reads or lists as related: candidates for a new module.")


# --------------------------------------------------------------------------- knowledge, loaded once


@dataclass
class DocSection:
    path: str
    heading: str
    text: str = ""


@dataclass
class DocInfo:
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
    docs: dict[str, DocInfo]
    rules: RuleBook
    profiles: dict[str, EnterpriseProfile | IndividualProfile]
    curriculum: CurriculumFile | None
    curriculum_error: str | None
    glossary_sections: dict[int, str | None] = field(default_factory=dict)
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
    sections: list[DocSection] = []
    stack: list[tuple[int, str]] = []
    lines: list[str] = []
    current: DocSection | None = None
    in_code = False
    for line in body.splitlines():
        if line.strip().startswith("```"):
            in_code = not in_code
        match = None if in_code else HEADING.match(line)
        if not match:
            lines.append(line)
            continue
        if current is not None:
            current.text = "\n".join(lines)
        lines = []
        level, title = len(match.group(1)), match.group(2).strip()
        if level == 1:
            stack, current = [], None
            continue
        stack = [(lvl, t) for lvl, t in stack if lvl < level] + [(level, title)]
        current = DocSection(path=" > ".join(t for _, t in stack), heading=title)
        sections.append(current)
    if current is not None:
        current.text = "\n".join(lines)
    return sections


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
    docs = {
        d.meta.id: DocInfo(id=d.meta.id, title=d.meta.title, summary=d.meta.summary, topics=list(d.meta.topics),
                           audience=list(d.meta.audience), sections=doc_sections(d.body))
        for d in load_documents(root / "docs").docs
    }
    rules = rules_for(root / "data")
    profiles_dir = root / "profiles"
    profiles = example_profiles(profiles_dir) if profiles_dir.is_dir() else {}
    curriculum, error = _read_curriculum(root / "data" / "curriculum.yaml")
    knowledge = TrainingKnowledge(docs=docs, rules=rules, profiles=profiles, curriculum=curriculum, curriculum_error=error)
    knowledge.glossary_sections = {i: _glossary_section(docs.get(e.doc), e) for i, e in enumerate(rules.glossary)}
    return knowledge


def _read_curriculum(path: Path) -> tuple[CurriculumFile | None, str | None]:
    if not path.exists():
        return None, f"curriculum file missing: {path}; copy the shipped knowledge/data/curriculum.yaml"
    try:
        return CurriculumFile.model_validate(yaml.safe_load(path.read_text(encoding="utf-8"))), None
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


# ----------------------------------------------------------------------------------------- curriculum


def _phase(last_day: int) -> str:
    for end, label in ((30, "Days 1-30"), (60, "Days 31-60"), (90, "Days 61-90")):
        if last_day <= end:
            return label
    return "After day 90"


def _curriculum_problems(k: TrainingKnowledge) -> list[str]:
    if k.curriculum is None:
        return [k.curriculum_error or "no curriculum"]
    problems: list[str] = []
    known_topics = set(k.topics)
    for module in k.curriculum.modules:
        for topic in module.topics:
            if topic not in known_topics:
                problems.append(f"module '{module.id}': topic '{topic}' is used by no document; known topics: "
                                f"{', '.join(sorted(known_topics))}")
        for reading in module.readings:
            doc = k.docs.get(reading.doc)
            if doc is None:
                problems.append(f"module '{module.id}': no document with id '{reading.doc}' in knowledge/docs")
                continue
            for ref in reading.sections:
                hits = doc.find(ref)
                if not hits:
                    problems.append(f"module '{module.id}': document '{doc.id}' has no heading '{ref}'")
                elif len(hits) > 1:
                    problems.append(f"module '{module.id}': heading '{ref}' appears {len(hits)} times in '{doc.id}'; "
                                    f"write the full path, one of: {'; '.join(h.path for h in hits)}")
    for name, ref in k.curriculum.quiz_sections:
        if ref and not _quiz_section_exists(k, name, ref):
            problems.append(f"quiz_sections.{name}: heading '{ref}' not found in the document its rule table names")
    return problems


def _quiz_section_doc(k: TrainingKnowledge, name: str) -> str | None:
    """Which document a quiz_sections entry refers to: the `doc` field of the rule table behind it."""
    rules = k.rules
    if name.startswith("sme_"):
        return rules.sme.doc
    if name.startswith("retail_"):
        return rules.tiers.tiers[0].doc
    if name == "qualified_investor" and rules.tiers.qualified_investor:
        return rules.tiers.qualified_investor.doc
    return None


def _quiz_section_exists(k: TrainingKnowledge, name: str, ref: str) -> bool:
    doc = k.docs.get(_quiz_section_doc(k, name) or "")
    return doc is not None and len(doc.find(ref)) == 1


def validate_curriculum(settings: Settings) -> list[str]:
    """Every problem with curriculum.yaml against the documents, each naming the module and what to fix."""
    return _curriculum_problems(knowledge_for(settings))


def build_curriculum(settings: Settings) -> Curriculum:
    """The onboarding path: curriculum.yaml's modules plus, from front matter, related documents and terms."""
    k = knowledge_for(settings)
    problems = _curriculum_problems(k)
    if problems:
        raise InputError("curriculum.yaml: " + " | ".join(problems))
    spec = k.curriculum
    assert spec is not None
    audience = set(spec.audience)
    modules = [_module(k, spec, i + 1, m, audience) for i, m in enumerate(spec.modules)]
    covered = {r.doc_id for m in modules for r in m.readings} | {r.doc_id for m in modules for r in m.related}
    unassigned = [RelatedDoc(doc_id=d.id, title=d.title, shared_topics=[]) for d in sorted(k.docs.values(), key=lambda d: d.id)
                  if d.id not in covered and audience & set(d.audience)]
    phases: dict[str, list[str]] = {}
    for module in modules:
        phases.setdefault(module.phase, []).append(module.id)
    return Curriculum(title=spec.title, audience=list(spec.audience), modules=modules,
                      phases=[Phase(label=label, modules=ids) for label, ids in phases.items()],
                      unassigned_docs=unassigned)


def _module(k: TrainingKnowledge, spec: CurriculumFile, order: int, m: ModuleSpec, audience: set[str]) -> Module:
    readings = []
    for r in m.readings:
        doc = k.docs[r.doc]
        refs = [SectionRef(heading=s.heading, path=s.path) for s in (doc.find(ref)[0] for ref in r.sections)]
        readings.append(Reading(doc_id=doc.id, title=doc.title, summary=doc.summary, sections=refs, note=r.note))
    read = {r.doc_id for r in readings}
    related = []
    for doc in k.docs.values():
        shared = [t for t in m.topics if t in doc.topics]
        if doc.id not in read and shared and audience & set(doc.audience):
            related.append(RelatedDoc(doc_id=doc.id, title=doc.title, shared_topics=shared))
    related.sort(key=lambda r: (-len(r.shared_topics), r.doc_id))
    terms = [e.term for i, e in enumerate(k.rules.glossary) if _taught(e.doc, k.glossary_sections.get(i), readings)]
    return Module(order=order, id=m.id, title=m.title, phase=_phase(m.days[1]), first_day=m.days[0], last_day=m.days[1],
                  objectives=m.objectives, topics=m.topics, readings=readings, related=related[:spec.max_related],
                  glossary_terms=terms, activities=m.activities)


def _taught(doc_id: str, section: str | None, readings: list[Reading]) -> bool:
    """A term belongs to a module when the module reads the section explaining it (or the whole document)."""
    for reading in readings:
        if reading.doc_id != doc_id:
            continue
        if not reading.sections:
            return True
        if section and any(section == r.path or section.startswith(r.path + " > ") for r in reading.sections):
            return True
    return False


# ----------------------------------------------------------------------------------------- glossary


RANK = {"exact": 0, "prefix": 1, "term": 2, "definition": 3}


def search_glossary(settings: Settings, query: str, limit: int = 20) -> GlossarySearch:
    """English: exact term > term prefix > term substring > definition; Chinese: the same on the zh field."""
    text = (query or "").strip()
    if not text:
        raise InputError("the glossary query is empty: type an English or Chinese term, e.g. 'factoring' or '保理'")
    if not 1 <= limit <= 500:
        raise InputError(f"limit must be between 1 and 500, got {limit}")
    k = knowledge_for(settings)
    language: Literal["en", "zh"] = "zh" if CJK.search(text) else "en"
    needle = text.casefold()
    ranked: list[tuple[int, str, GlossaryHit]] = []
    for entry in k.rules.glossary:
        match = _glossary_match(entry, needle, language)
        if match is None:
            continue
        doc = k.docs.get(entry.doc)
        hit = GlossaryHit(term=entry.term, zh=entry.zh, definition=entry.definition, doc=entry.doc,
                          doc_title=doc.title if doc else None, match=match)
        ranked.append((RANK[match], entry.term.casefold(), hit))
    ranked.sort(key=lambda r: (r[0], r[1]))
    return GlossarySearch(query=text, language=language, total=len(ranked), hits=[h for _, _, h in ranked[:limit]])


def _glossary_match(entry: GlossaryEntry, needle: str, language: str) -> str | None:
    name = (entry.zh if language == "zh" else entry.term).casefold()
    if name == needle:
        return "exact"
    if name.startswith(needle):
        return "prefix"
    if needle in name:
        return "term"
    if language == "en" and needle in entry.definition.casefold():
        return "definition"
    return None


# ----------------------------------------------------------------------------------------- quizzes


@dataclass(frozen=True)
class _Stem:
    """A question before its distractors are drawn: enough to filter by topic and to pick a mix."""

    family: str
    key: str
    topics: tuple[str, ...]
    build: Callable[[random.Random], Question | None]


@dataclass(frozen=True)
class _Draft:
    """What a generator knows about a question apart from the random draw of its distractors."""

    family: str
    key: str
    kind: Kind
    topics: tuple[str, ...]
    prompt: str
    answer: str
    explanation: str
    sources: tuple[Citation, ...]


def _qid(family: str, key: str) -> str:
    return hashlib.sha1(f"{family}\x1f{key}".encode("utf-8")).hexdigest()[:12]


def _topics(k: TrainingKnowledge, doc_ids: Sequence[str | None]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(t for d in doc_ids if d in k.docs for t in k.docs[d].topics))


def _sources_text(sources: Sequence[Citation]) -> str:
    return ("Source: " if len(sources) == 1 else "Sources: ") + "; ".join(c.label for c in sources) + "."


def _assemble(draft: _Draft, distractors: Sequence[str], rng: random.Random,
              arrange: Callable[[list[str]], list[str]] | None = None) -> Question | None:
    """Put the answer among its distractors (shuffled unless ``arrange`` orders them, e.g. numbers
    ascending); refuse (None) rather than emit a question without exactly one correct option."""
    options = [draft.answer, *distractors]
    if not draft.sources or len(options) != OPTIONS or len({o.casefold() for o in options}) != OPTIONS:
        return None
    if arrange is None:
        rng.shuffle(options)
    else:
        options = arrange(options)
    return Question(id=_qid(draft.family, draft.key), topic=draft.topics[0], topics=list(draft.topics), kind=draft.kind,
                    family=draft.family, prompt=draft.prompt, options=options, answer=options.index(draft.answer),
                    explanation=f"{draft.explanation} {_sources_text(draft.sources)}", sources=list(draft.sources))


def _pick(rng: random.Random, preferred: Sequence, rest: Sequence, count: int = OPTIONS - 1) -> list:
    """Draw from the preferred pool (same topic, same kind) first, topping up from the rest."""
    if len(preferred) >= count:
        return rng.sample(list(preferred), count)
    if len(preferred) + len(rest) < count:
        return []
    return list(preferred) + rng.sample(list(rest), count - len(preferred))


def _choice_question(draft: _Draft, preferred: Sequence[str], rest: Sequence[str], rng: random.Random) -> Question | None:
    return _assemble(draft, _pick(rng, preferred, rest), rng)


def _stem(draft: _Draft, preferred: Sequence[str], rest: Sequence[str] = ()) -> _Stem | None:
    """A stem whose distractors come from fixed pools; None when the pools cannot fill the options."""
    if not draft.sources or len(preferred) + len(rest) < OPTIONS - 1:
        return None
    return _Stem(draft.family, draft.key, draft.topics, partial(_choice_question, draft, tuple(preferred), tuple(rest)))


def _flat(text: str) -> str:
    return " ".join(text.split())


# --- glossary questions


def glossary_option(entry: GlossaryEntry) -> str:
    """How a term is shown as an option of a definition question (tests map options back with it)."""
    return f"{entry.term} ({entry.zh})"


def _conflicts(a: GlossaryEntry, b: GlossaryEntry) -> bool:
    """Two entries that could both be "right": same or nested Chinese, nested English, same definition."""
    za, zb = a.zh.strip(), b.zh.strip()
    return (za == zb or (len(za) >= 2 and za in zb) or (len(zb) >= 2 and zb in za)
            or bool(_word(a.term).search(b.term)) or bool(_word(b.term).search(a.term))
            or _flat(a.definition).casefold() == _flat(b.definition).casefold())


def _glossary_stems(k: TrainingKnowledge) -> list[_Stem | None]:
    entries = [(i, e) for i, e in enumerate(k.rules.glossary) if e.doc in k.docs]
    stems: list[_Stem | None] = []
    for i, entry in entries:
        topics = _topics(k, [entry.doc])
        usable = [e for j, e in entries if j != i and not _conflicts(entry, e)]
        near = [set(k.docs[e.doc].topics) & set(topics) != set() for e in usable]
        preferred = [e for e, same in zip(usable, near) if same]
        rest = [e for e, same in zip(usable, near) if not same]
        sources = tuple(c for c in [k.cite(entry.doc, k.glossary_sections.get(i))] if c)
        definition = _flat(entry.definition)
        stems.append(_stem(_Draft("glossary-definition", entry.term, "definition", topics,
                                  f"Which term is defined as: “{definition}”?", glossary_option(entry),
                                  f"{entry.term} ({entry.zh}): {definition}", sources),
                           [glossary_option(e) for e in preferred], [glossary_option(e) for e in rest]))
        if not re.search(r"[A-Za-z0-9]", entry.zh):  # a Latin name inside the Chinese would give the answer away
            stems.append(_stem(_Draft("glossary-translation", entry.term, "definition", topics,
                                      f"Which English term translates “{entry.zh}”?", entry.term,
                                      f"{entry.zh} is “{entry.term}”: {definition}", sources),
                               [e.term for e in preferred], [e.term for e in rest]))
    return stems


# --- rule-table questions (the 2011 SME standard, retail tiers, qualified investors)


MEASURE_ORDER = ("employees", "operating_revenue", "total_assets")
BOUND_TABLES = ("sme_below", "medium_from", "small_from")
BOUND_PROMPTS = {
    "sme_below": "Under the 2011 SME standard, in the industry “{industry}”, below what {measure} is an enterprise "
                 "an SME (being below the ceiling on any one measure is enough)?",
    "medium_from": "Under the 2011 SME standard, in the industry “{industry}”, what {measure} must an SME reach "
                   "(together with its other lower bounds) to be medium rather than small?",
    "small_from": "Under the 2011 SME standard, in the industry “{industry}”, what {measure} must an SME reach "
                  "(together with its other lower bounds) to be small rather than micro?",
}
PROMPT_MEASURE = {"employees": "number of employees", "operating_revenue": "operating revenue", "total_assets": "total assets"}
QI_LABELS = {
    "household_financial_net_assets_rmb": "household financial net assets",
    "household_financial_assets_rmb": "household financial assets",
    "average_annual_income_rmb": "average annual income over the last three years",
}
FACTORS = (0.5, 2.0, 0.2, 5.0, 0.1, 10.0, 0.3, 3.0)
SIZE_OPTIONS = {"micro": "Micro", "small": "Small", "medium": "Medium", "large": "Large (not an SME)"}


def _quiz_sections(k: TrainingKnowledge) -> QuizSections:
    return k.curriculum.quiz_sections if k.curriculum else QuizSections()


def _measure_set(measures: Sequence[str]) -> str:
    labels = [MEASURE_LABEL[m] for m in MEASURE_ORDER if m in measures]
    return f"{labels[0]} only" if len(labels) == 1 else ", ".join(labels[:-1]) + f" and {labels[-1]}"


def _amount(unit: str, value: float) -> str:
    if unit == "employees":
        return f"{value:,.0f} employee" + ("" if value == 1 else "s")
    if unit == "rmb":
        return f"RMB {value:,.0f}"
    return f"{value:,.0f} 万元 (RMB {value * 10_000:,.0f})"


def _unit(measure: str) -> str:
    return "employees" if measure == "employees" else "wan"


def _nice(value: float, integer: bool) -> float:
    """Two significant digits, so distractors look like numbers a regulator would write."""
    nice = float(f"{value:.2g}")
    return float(max(1, round(nice))) if integer else nice


def _nearby(answer: float, pool: Sequence[float], rng: random.Random, integer: bool) -> list[float]:
    """Three plausible wrong numbers: other values of the same table first, then simple multiples."""
    candidates = {_nice(v, integer) for v in pool} | {_nice(answer * f, integer) for f in FACTORS}
    ranked = sorted(c for c in candidates if c > 0 and c != answer)
    ranked.sort(key=lambda c: (abs(math.log(c / answer)), c))
    near = ranked[:6]
    return rng.sample(near, OPTIONS - 1) if len(near) >= OPTIONS - 1 else []


def _numeric_question(draft: _Draft, value: float, pool: tuple[float, ...], unit: str, rng: random.Random) -> Question | None:
    """Numbers as options, in ascending order as on a paper test; the answer is never rounded away."""
    wrong = _nearby(value, pool, rng, integer=unit == "employees")
    by_text = {_amount(unit, v): v for v in (value, *wrong)}
    return _assemble(draft, [_amount(unit, v) for v in wrong], rng,
                     arrange=lambda options: sorted(options, key=by_text.__getitem__))


def _numeric_stem(draft: _Draft, value: float, pool: Sequence[float], unit: str) -> _Stem | None:
    if not draft.sources:
        return None
    return _Stem(draft.family, draft.key, draft.topics, partial(_numeric_question, draft, value, tuple(pool), unit))


def _industry_summary(bounds: IndustryBounds) -> str:
    def part(table: dict) -> str:
        return " and ".join(_amount(_unit(m), v) for m, v in table.items())
    return (f"SME when below {' or '.join(_amount(_unit(m), v) for m, v in bounds.sme_below.items())}; "
            f"medium from {part(bounds.medium_from)}; small from {part(bounds.small_from)}; otherwise micro")


def _sme_stems(k: TrainingKnowledge) -> list[_Stem | None]:
    sme = k.rules.sme
    sections = _quiz_sections(k)
    topics = _topics(k, [sme.doc])
    sources = tuple(c for c in [k.cite(sme.doc, sections.sme_measures)] if c)
    used = list(dict.fromkeys(tuple(m for m in MEASURE_ORDER if m in b.measures) for b in sme.industries.values()))
    every = [c for size in (1, 2, 3) for c in combinations(MEASURE_ORDER, size)]
    values = {unit: [v for b in sme.industries.values() for t in BOUND_TABLES for m, v in getattr(b, t).items()
                     if _unit(m) == unit] for unit in ("employees", "wan")}
    stems: list[_Stem | None] = []
    for industry, bounds in sme.industries.items():
        answer = tuple(m for m in MEASURE_ORDER if m in bounds.measures)
        explanation = f"{bounds.label} ({bounds.label_zh}): {_industry_summary(bounds)}."
        prompt = f"Under the 2011 SME standard, which measures decide the size class of an enterprise in the industry “{bounds.label}”?"
        stems.append(_stem(_Draft("sme-measures", industry, "fact", topics, prompt, _measure_set(answer), explanation, sources),
                           [_measure_set(s) for s in used if s != answer],
                           [_measure_set(s) for s in every if s != answer and s not in used]))
        for table in BOUND_TABLES:
            for measure, value in getattr(bounds, table).items():
                prompt = BOUND_PROMPTS[table].format(industry=bounds.label, measure=PROMPT_MEASURE[measure])
                draft = _Draft("sme-bound", f"{industry}/{table}/{measure}", "fact", topics, prompt,
                               _amount(_unit(measure), value), explanation, sources)
                stems.append(_numeric_stem(draft, value, values[_unit(measure)], _unit(measure)))
    return stems


def _basis(basis: str) -> str:
    return re.sub(r",?\s*RMB\s*$", "", basis).strip() or "AUM"


def _tier_range(tier: Tier) -> str:
    if tier.max_aum_rmb is None:
        return f"{tier.name} from RMB {tier.min_aum_rmb:,.0f}"
    return f"{tier.name} RMB {tier.min_aum_rmb:,.0f} to below {tier.max_aum_rmb:,.0f}"


def _tier_name(tier: Tier) -> str:
    return f"{tier.name} ({tier.name_zh})" if tier.name_zh else tier.name


def _tier_stems(k: TrainingKnowledge) -> list[_Stem | None]:
    table = k.rules.tiers
    sections = _quiz_sections(k)
    qi = table.qualified_investor
    pool = [t.min_aum_rmb for t in table.tiers if t.min_aum_rmb > 0] + ([getattr(qi, f) for f in QI_LABELS] if qi else [])
    explanation = f"The tiers ({table.basis}; illustrative bounds the bank calibrates): {'; '.join(map(_tier_range, table.tiers))}."
    stems: list[_Stem | None] = []
    for tier in table.tiers:
        topics = _topics(k, [tier.doc])
        sources = tuple(c for c in [k.cite(tier.doc, sections.retail_tiers)] if c)
        others = [_tier_name(t) for t in table.tiers if t.id != tier.id]
        if tier.min_aum_rmb > 0:
            prompt = f"In the bank's retail tier scheme, from what {_basis(table.basis)} does a client enter the {_tier_name(tier)} tier?"
            stems.append(_numeric_stem(_Draft("tier-threshold", tier.id, "fact", topics, prompt, _amount("rmb", tier.min_aum_rmb),
                                              explanation, sources), tier.min_aum_rmb, pool, "rmb"))
        stems.append(_service_stem(k, tier, others, topics))
        if sources and len(others) >= OPTIONS - 1:
            stems.append(_Stem("tier-aum", tier.id, topics, partial(_aum_question, tier, table, others, topics, sources, explanation)))
    if qi:
        topics = _topics(k, [qi.doc])
        sources = tuple(c for c in [k.cite(qi.doc, sections.qualified_investor)] if c)
        rule = "; ".join(f"{label} of at least RMB {getattr(qi, f):,.0f}" for f, label in QI_LABELS.items())
        explanation = f"A natural person needs two years' investment experience and one of: {rule}."
        for name, label in QI_LABELS.items():
            prompt = (f"Under the 2018 asset-management rules, what {label} (at least) makes a natural person with two "
                      f"years' investment experience a qualified investor?")
            value = getattr(qi, name)
            stems.append(_numeric_stem(_Draft("qualified-investor", name, "fact", topics, prompt, _amount("rmb", value),
                                              explanation, sources), value, pool, "rmb"))
    return stems


def _service_stem(k: TrainingKnowledge, tier: Tier, others: list[str], topics: tuple[str, ...]) -> _Stem | None:
    """Which tier gets this service model; the tier's own name is masked so the text does not give it away."""
    base = _quiz_sections(k).retail_service
    cite = k.cite(tier.doc, f"{base} > {tier.name}") if base else None
    if cite is None or cite.section is None:
        cite = k.cite(tier.doc, base)
    masked = _word(tier.name).sub("…", _flat(tier.service_model))
    draft = _Draft("tier-service", tier.id, "fact", topics,
                   f"In the bank's retail tier scheme, which tier is served this way: “{masked}”?", _tier_name(tier),
                   f"{_tier_name(tier)}: {_flat(tier.service_model)}", tuple(c for c in [cite] if c))
    return _stem(draft, others)


def _aum_question(tier: Tier, table: TierTable, others: list[str], topics: tuple[str, ...], sources: tuple[Citation, ...],
                  explanation: str, rng: random.Random) -> Question | None:
    """A drawn balance inside the tier (never on a bound), so the tier is unambiguous."""
    low = tier.min_aum_rmb
    high = tier.max_aum_rmb if tier.max_aum_rmb is not None else max(low * 4, 1.0)
    amount = _nice(rng.uniform(low + (high - low) * 0.1, low + (high - low) * 0.9), integer=True)
    if table.tier_for(amount).id != tier.id:
        return None
    draft = _Draft("tier-aum", f"{tier.id}/{amount:.0f}", "fact", topics,
                   f"A client's {_basis(table.basis)} is RMB {amount:,.0f}. Which value tier of the bank's retail tier "
                   f"scheme is the client in?", _tier_name(tier),
                   f"RMB {amount:,.0f} falls in {_tier_range(tier)}. {explanation}", sources)
    return _assemble(draft, rng.sample(others, OPTIONS - 1), rng)


# --- scenario questions from the example profiles


def describe_profile(profile: EnterpriseProfile | IndividualProfile, k: TrainingKnowledge) -> str:
    """The facts the classifier uses, in a sentence a trainee can reason from."""
    if isinstance(profile, EnterpriseProfile):
        industry = k.rules.sme.industries[profile.industry].label
        text = (f"{profile.name}: an enterprise in the industry “{industry}” (ownership: {profile.ownership.replace('-', ' ')}) "
                f"with {profile.employees:,} employees and operating revenue of RMB {profile.operating_revenue_rmb:,.0f}")
        if profile.total_assets_rmb is not None:
            text += f", total assets RMB {profile.total_assets_rmb:,.0f}"
        if profile.supply_chain_role in ("supplier", "dealer") and profile.anchor_firm:
            text += f"; it is a {profile.supply_chain_role} of the anchor firm {profile.anchor_firm}"
        elif profile.supply_chain_role == "anchor":
            text += "; it is the anchor firm of its own supply chain"
        return text + "."
    text = (f"{profile.name}: aged {profile.age}, {profile.occupation or 'occupation not given'}, family situation "
            f"“{profile.family_situation.replace('-', ' ')}”, RMB {profile.aum_rmb:,.0f} of AUM at the bank "
            f"(monthly average daily balance) and annual income of RMB {profile.annual_income_rmb:,.0f}")
    return text + ("; owns a business." if profile.business_owner else ".")


def _scenario_stems(k: TrainingKnowledge) -> list[_Stem | None]:
    sections = _quiz_sections(k)
    plays = {p.id: p for p in k.rules.playbook.segments}
    stems: list[_Stem | None] = []
    for name, profile in k.profiles.items():
        result = classify(profile, k.rules)
        play = plays.get(result.segment)
        if play is None:
            continue
        enterprise = isinstance(profile, EnterpriseProfile)
        rule_doc = k.rules.sme.doc if enterprise else k.rules.tiers.tier_for(profile.aum_rmb).doc
        rule_cite = k.cite(rule_doc, sections.sme_reading_rule if enterprise else sections.retail_tiers)
        play_doc = next((d for d in play.docs if d in k.docs), None)
        play_cite = k.cite(play_doc) if play_doc and play_doc != rule_doc else None
        described = describe_profile(profile, k)
        reasons = "; ".join(result.reasons)
        # a supply-chain or platform client is also "true" to its size-class segment: never offer that as wrong
        size_segment = {"micro": "micro-business", "small": "small-business", "medium": "medium-enterprise"}.get(result.size_class or "")
        others = [p.label for p in plays.values() if p.client_type == play.client_type and p.id not in (play.id, size_segment)]
        stems.append(_stem(_Draft("scenario-segment", name, "scenario", _topics(k, [play_doc, rule_doc]),
                                  f"Under the bank's segmentation rules, which segment is this client served as? {described}",
                                  play.label, f"The classifier places the client in {result.segment_label} [{result.segment}]: {reasons}.",
                                  tuple(c for c in (rule_cite, play_cite) if c)), others))
        if enterprise and result.size_class and rule_cite is not None:
            draft = _Draft("scenario-size", name, "scenario", _topics(k, [rule_doc]),
                           f"Under the 2011 SME standard, what is this enterprise's size class? {described}",
                           SIZE_OPTIONS[result.size_class], f"{reasons}.", (rule_cite,))
            order = list(SIZE_OPTIONS.values())
            stems.append(_Stem(draft.family, draft.key, draft.topics, partial(
                _assemble, draft, [v for v in order if v != draft.answer], arrange=lambda _o, order=order: list(order))))
    return stems


# --- assembling a quiz


def _stems(k: TrainingKnowledge) -> list[_Stem]:
    """Every question the knowledge can yield, in file order (so a seed always means the same quiz)."""
    if k.stems is None:
        k.stems = [s for s in (*_glossary_stems(k), *_sme_stems(k), *_tier_stems(k), *_scenario_stems(k)) if s is not None]
    return k.stems


def _check_topic(k: TrainingKnowledge, stems: list[_Stem], topic: str | None) -> list[_Stem]:
    if topic is None:
        return stems
    if topic not in k.topics:
        raise InputError(f"unknown topic '{topic}'; use one of: {', '.join(k.topics)}")
    chosen = [s for s in stems if topic in s.topics]
    if not chosen:
        with_questions = sorted({t for s in stems for t in s.topics})
        raise InputError(f"no quiz questions cover the topic '{topic}' yet; topics with questions: {', '.join(with_questions)}")
    return chosen


def quiz_topics(settings: Settings) -> list[TopicCount]:
    """Topics a quiz can be filtered on, with how many questions each has (for a picker)."""
    counts: dict[str, int] = {}
    for stem in _stems(knowledge_for(settings)):
        for topic in stem.topics:
            counts[topic] = counts.get(topic, 0) + 1
    return [TopicCount(topic=t, questions=c) for t, c in sorted(counts.items())]


def question_bank(settings: Settings, seed: int = 0, topic: str | None = None) -> list[Question]:
    """Every question the knowledge yields, distractors drawn with ``seed`` (for trainers and tests)."""
    k = knowledge_for(settings)
    request = QuizRequest(topic=topic, seed=seed)
    rng = random.Random(request.seed)
    stems = _check_topic(k, _stems(k), request.topic)
    return [q for q in (_focus(s.build(rng), request.topic) for s in stems) if q is not None]


def _focus(question: Question | None, topic: str | None) -> Question | None:
    """In a topic quiz, results count towards the topic the trainee asked for."""
    if question is None or topic is None or question.topic == topic:
        return question
    return question.model_copy(update={"topic": topic})


def make_quiz(settings: Settings, request: QuizRequest | None = None) -> Quiz:
    """A mix across question families (definitions, rule facts, scenarios); same seed, same quiz."""
    request = request or QuizRequest()
    seed = request.seed if request.seed is not None else random.SystemRandom().randrange(2**31)
    k = knowledge_for(settings)
    stems = _check_topic(k, _stems(k), request.topic)
    rng = random.Random(seed)
    families: dict[str, list[_Stem]] = {}
    for stem in stems:
        families.setdefault(stem.family, []).append(stem)
    order = sorted(families)
    rng.shuffle(order)
    for name in order:
        rng.shuffle(families[name])
    questions: list[Question] = []
    while len(questions) < request.n and any(families.values()):
        for name in order:
            if families[name] and len(questions) < request.n:
                question = _focus(families[name].pop().build(rng), request.topic)
                if question is not None:
                    questions.append(question)
    rng.shuffle(questions)
    digest = hashlib.sha1(f"{seed}|{request.topic}|{'|'.join(q.id for q in questions)}".encode()).hexdigest()[:12]
    note = None
    if len(questions) < request.n:
        note = f"only {len(questions)} questions exist for {'this topic' if request.topic else 'the knowledge base'}"
    return Quiz(id=digest, seed=seed, topic=request.topic, requested=request.n, questions=questions, note=note)


# ----------------------------------------------------------------------------------------- grading


def parse_answer(value: int | str | None) -> int | None:
    """A, B, C, D (any case), 1-4 as text, or an index 0-3; blank or None means skipped."""
    if value is None:
        return None
    if isinstance(value, bool):
        raise InputError(f"answer {value!r} is not one of A, B, C, D")
    if isinstance(value, int):
        if 0 <= value < OPTIONS:
            return value
        raise InputError(f"answer index {value} is out of range; use 0-{OPTIONS - 1} or A-D")
    text = value.strip().upper()
    if not text:
        return None
    if len(text) == 1 and text in LETTERS:
        return LETTERS.index(text)
    if text in ("1", "2", "3", "4"):
        return int(text) - 1
    raise InputError(f"answer '{value.strip()}' is not one of A, B, C, D")


def grade(quiz: Quiz, answers: Sequence[int | str | None]) -> QuizResult:
    """Mark each answer and attach the explanation, so feedback teaches rather than just scores."""
    if len(answers) != len(quiz.questions):
        raise InputError(f"the quiz has {len(quiz.questions)} questions but {len(answers)} answers were given; "
                         f"use None (or an empty string) for a skipped question")
    items: list[GradedQuestion] = []
    for number, (question, raw) in enumerate(zip(quiz.questions, answers), start=1):
        try:
            chosen = parse_answer(raw)
        except InputError as exc:
            raise InputError(f"question {number}: {exc}") from exc
        items.append(GradedQuestion(number=number, question_id=question.id, topic=question.topic, kind=question.kind,
                                    prompt=question.prompt, options=question.options, chosen=chosen,
                                    answer=question.answer, correct=chosen == question.answer,
                                    explanation=question.explanation, sources=question.sources))
    answered = [i for i in items if not i.skipped]
    correct = sum(i.correct for i in answered)
    tallies: dict[str, list[int]] = {}
    for item in answered:
        tally = tallies.setdefault(item.topic, [0, 0])
        tally[0] += 1
        tally[1] += item.correct
    by_topic = [TopicTally(topic=t, answered=a, correct=c, score=c / a) for t, (a, c) in sorted(tallies.items())]
    return QuizResult(quiz_id=quiz.id, seed=quiz.seed, topic=quiz.topic, total=len(items), answered=len(answered),
                      correct=correct, score=correct / len(answered) if answered else 0.0, items=items, by_topic=by_topic)


def record_result(settings: Settings, trainee: str, result: QuizResult) -> int:
    """Keep the answered questions of a graded quiz for the trainee; returns how many were stored."""
    from .progress import Attempt, progress_store

    attempts = [Attempt(question_id=i.question_id, topic=i.topic, kind=i.kind, correct=i.correct, quiz_id=result.quiz_id)
                for i in result.items if not i.skipped]
    return progress_store(settings).record(trainee, attempts)
