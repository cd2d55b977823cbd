"""What training hands out and takes back: questions, quizzes, results, curriculum and glossary models.

May import: assistant.config, assistant.errors, assistant.knowledge, assistant.clients.
"""
from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from assistant.knowledge.documents import SLUG, Audience
from assistant.text import label

LETTERS = "ABCD"
OPTIONS = 4
Kind = Literal["definition", "fact", "scenario"]
# ----------------------------------------------------------------------------------------- models


class Citation(BaseModel):
    """Where a trainee reads more: a document of knowledge/docs and, when known, a section path."""

    doc_id: str
    title: str
    section: str | None = Field(None, description="Section path as in the chunks, e.g. 'Service model by tier > Mass'.")

    @property
    def label(self) -> str:
        return label(self.doc_id, self.section)


class Question(BaseModel):
    """One multiple-choice question with exactly one correct option."""

    id: str = Field(description="Stable hash of what is asked: the same question has the same id in every quiz.")
    topic: str
    topics: list[str] = Field(min_length=1, description="Every topic of the cited documents; --topic filters on these.")
    kind: Kind
    family: str = Field(description="Which generator made it, e.g. glossary-definition, sme-bound, scenario-segment.")
    key: str = Field("", description="What it asks about within its family (a term, a tier id, 'industry/table/measure', "
                     "a profile): how the Chinese wording finds its sources.")
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
    language: Literal["en", "zh"] = Field("en", description="zh: the same questions worded in Chinese, cited from the Chinese editions.")

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
    language: Literal["en", "zh"] = "en"


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
    definition_zh: str = ""
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
    note_zh: str | None = Field(None, min_length=1, description="The note in Chinese; only beside a note.")

    @model_validator(mode="after")
    def _note_pair(self) -> "ReadingSpec":
        if self.note_zh is not None and self.note is None:
            raise ValueError(f"reading '{self.doc}': note_zh without a note; write the English note beside it")
        return self


class ModuleSpec(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: str = Field(pattern=SLUG)
    title: str = Field(min_length=3, max_length=200)
    days: tuple[int, int]
    objectives: list[str] = Field(min_length=1)
    topics: list[str] = Field(min_length=1)
    readings: list[ReadingSpec] = Field(min_length=1)
    activities: list[str] = Field(default_factory=list)
    # Chinese wordings, item n for item n of the English list; left out, the Chinese curriculum shows the English.
    title_zh: str | None = Field(None, min_length=1, max_length=200)
    objectives_zh: list[str] | None = None
    activities_zh: list[str] | None = None

    @model_validator(mode="after")
    def _chinese_in_step(self) -> "ModuleSpec":
        for field in ("objectives", "activities"):
            english, chinese = getattr(self, field), getattr(self, f"{field}_zh")
            if chinese is None:
                continue
            if len(chinese) != len(english):
                raise ValueError(f"module '{self.id}': {field}_zh has {len(chinese)} items but {field} has {len(english)}; "
                                 f"give one Chinese wording per English item, in the same order")
            if any(not c.strip() for c in chinese):
                raise ValueError(f"module '{self.id}': {field}_zh has an empty item")
        return self

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
    title_zh: str | None = Field(None, min_length=1)
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
    phase: str = Field(description="Days 1-30, Days 31-60, Days 61-90 or After day 90 (第1-30天 ... in Chinese).")
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
