"""Our golden sets: does retrieval find the right section, and does the answer text say what a
correct answer must say, or decline when the knowledge base does not cover the question?

Three sets under knowledge/eval/: ``v1`` (golden.jsonl: documents and sections, no key points),
``v2`` (golden_v2.jsonl: sections, key points and questions that must be declined; the default) and
``holdout`` (holdout_v2.jsonl: the same format, never used for tuning), ``blind`` (blind_v1.jsonl:
documents only, answerable, off-topic and not covered, written without sight of the system) and
``blind2`` (blind_v2.jsonl: 80 answerable questions with sections and key points, written from the
documents before their ``asks`` blocks existed, by a writer who saw neither the system nor the other sets).
``blind3`` (blind_v3.jsonl, 2026-12-04: 60 answerable questions, 30 in Chinese, one or two per document over
all 52, and 20 to decline, ten of them in-domain but not covered; written from the documents' bodies alone,
without their ``faq``/``asks`` blocks, the system or the other sets, after the day's changes were made).
``blind4`` (blind_v4.jsonl, 2026-12-04, later): the same recipe again, written after blind3 had been read, so
the day's later changes are checked on questions nobody tuned on (all 52 documents, 10 uncovered questions).
``blind5`` (blind_v5.jsonl, 2026-12-04, later still): the same recipe, more situational and calculation questions,
written after the evening's first changes and measured once before the next.
``blind6`` (blind_v6.jsonl, 2026-12-04, night): the same recipe by a new writer, told to avoid the uncovered
topics of the earlier sets, measured once on arrival on the code of f0e11a1.
``blind7`` (blind_v7.jsonl, 2026-12-04, late night): the same recipe by a new writer, its ten uncovered questions
of kinds no earlier set asked (the writer was pointed at operations, product terms and staff matters), measured
on arrival against the out-of-scope topics written before it was read (three new ones) and the topics before them.
``blind8`` (blind_v8.jsonl, 2026-12-05): the same recipe by a new writer who was shown no earlier set, uncovered
questions again of new kinds, measured once on arrival after that day's changes.
``blind9`` (blind_v9.jsonl, 2026-12-05, later): the same recipe by a new writer shown no earlier set, written before
that day's later changes (lists of parts, the second round of listed questions) and read only after them.
``rates`` (rate_probes.jsonl, 2026-12-04): 40 questions about rates, fees, limits and reported figures, 24 the
documents answer (several naming a bank or saying "now") and 16 they do not (a named bank's posted rate, a
bank's latest results): the hard cases of the out-of-scope topic on a named bank's current figures.
``framed-holdout`` and ``framed-blind2`` are those two sets with every question re-worded to say where
the asker works ("I run trainee sessions at a city commercial bank.", "我们是兰州本地的城商行，"), by a
writer who saw neither the system nor its framing rules (search/framing.py): the same answers are due.

>>> report = evaluate_golden(advisor, golden_path(settings, "v2"))
>>> report.overall.key_point_coverage
"""

from __future__ import annotations

import time
from collections import defaultdict
from pathlib import Path
from typing import TYPE_CHECKING, Callable, Literal

from pydantic import BaseModel, Field, model_validator

from assistant.answers.advisor import Advisor, AskRequest
from assistant.config import Settings
from assistant.errors import InputError
from assistant.evaluation.beir import read_jsonl
from assistant.evaluation.metrics import (
    answer_length,
    key_point_coverage,
    mean,
    median,
    mrr_at,
    recall_at,
    section_matches,
)

if TYPE_CHECKING:
    from assistant.answers.answer import Answer

GoldenSet = Literal["v1", "v2", "holdout", "blind", "blind2", "blind3", "blind4", "blind5", "blind6", "blind7", "blind8", "blind9", "rates", "framed-holdout", "framed-blind2"]
SET_FILES: dict[str, str] = {"v1": "golden.jsonl", "v2": "golden_v2.jsonl", "holdout": "holdout_v2.jsonl",
                             "blind": "blind_v1.jsonl", "blind2": "blind_v2.jsonl", "blind3": "blind_v3.jsonl",
                             "blind4": "blind_v4.jsonl", "blind5": "blind_v5.jsonl", "blind6": "blind_v6.jsonl", "blind7": "blind_v7.jsonl", "blind8": "blind_v8.jsonl", "blind9": "blind_v9.jsonl",
                             "rates": "rate_probes.jsonl",
                             "framed-holdout": "framed_holdout_v2.jsonl", "framed-blind2": "framed_blind_v2.jsonl"}
LENGTH_UNIT = "words; two Chinese characters count as one word; citation markers not counted"


class GoldenQuestion(BaseModel):
    id: str
    question: str
    voice: Literal["manager", "relationship-manager", "trainer"] | None = Field(
        None, description="Who asks; none in the blind set, written from the documents without voices.")
    language: Literal["en", "zh"] = "en"
    answerable: bool = True
    kind: str | None = None
    expected: list[dict[str, str]] = Field(default_factory=list)
    key_points: list[list[str]] = Field(default_factory=list, description="Each a list of accepted phrases.")

    @model_validator(mode="after")
    def _answerable_has_expectations(self) -> "GoldenQuestion":
        if self.answerable and not self.expected:
            raise ValueError(f"question {self.id} is answerable but names no expected document")
        return self

    @property
    def expected_docs(self) -> set[str]:
        return {e["doc_id"] for e in self.expected}


class QuestionResult(BaseModel):
    id: str
    language: str
    voice: str | None
    kind: str | None
    answerable: bool
    declined: bool
    section_rank: int | None = Field(None, description="1-based rank of the first expected section among distinct sections.")
    section_recall_at_5: float | None = None
    section_rr_at_10: float | None = None
    doc_recall_at_5: float | None = None
    doc_rr_at_10: float | None = None
    key_points: float | None = Field(None, description="Share of key points the answer text holds.")
    missing: list[str] = Field(default_factory=list, description="First phrase of each key point not found.")
    words: float | None = None
    got: list[str] = Field(default_factory=list, description="The top five distinct sections retrieved.")
    answer: str = ""
    client_turn: bool = Field(False, description="Answered as the chat answers a message about a client (--via chat).")
    cautioned: bool = Field(False, description="Answered, opening with the caution that the base may not cover it.")


class Breakdown(BaseModel):
    questions: int
    answerable: int
    unanswerable: int
    section_recall_at_5: float
    section_mrr_at_10: float
    doc_recall_at_5: float
    doc_mrr_at_10: float
    grounded_share: float = Field(description="Share of all questions answered (not declined).")
    key_point_coverage: float | None
    answerable_declined: float = Field(description="Share of answerable questions declined (want <= 0.05).")
    unanswerable_declined: float = Field(description="Decline recall: share of unanswerable questions declined.")
    decline_precision: float = Field(description="Share of declines that were right to decline.")
    answerable_cautioned: float = Field(0.0, description="Share of answerable questions answered with the caution "
                                        "that the base may not cover them.")
    unanswerable_cautioned: float = Field(0.0, description="Share of unanswerable questions answered with that "
                                          "caution (not declined, but not passed off as covered either).")
    median_words: float


class GoldenReport(BaseModel):
    set: str
    file: str
    via: Literal["composer", "chat"] = Field("composer", description="Whose answers were scored (--via).")
    client_turns: int = Field(0, description="Questions the chat answered as about a client (--via chat).")
    overall: Breakdown
    by_language: dict[str, Breakdown]
    by_voice: dict[str, Breakdown]
    by_kind: dict[str, Breakdown]
    length_unit: str = LENGTH_UNIT
    questions: list[QuestionResult]
    seconds: float


def golden_path(settings: Settings, name: str = "v2") -> Path:
    if name not in SET_FILES:
        raise InputError(f"--set must be one of {', '.join(SET_FILES)}, got '{name}'")
    return settings.knowledge_dir / "eval" / SET_FILES[name]


def load_golden(path: Path) -> list[GoldenQuestion]:
    if not path.exists():
        raise InputError(f"golden set not found: {path}")
    return [GoldenQuestion.model_validate(row) for row in read_jsonl(path)]


def english_section(advisor: Advisor, chunk) -> tuple[str, str]:
    """Expectations name the English document and heading; a Chinese question is answered from the
    Chinese edition, whose same section is just as right, so a passage counts as its English counterpart."""
    twin = advisor.retriever.keyword_index().editions.counterpart(chunk, "en") or chunk  # itself when English
    return twin.doc_id, twin.section


ClientTurn = Callable[[str], "Answer | None"]
"""What the chat answers a first message with when it reads it as about a client (a recommendation, or a
question back), else None: passed in by the caller, which may build it from assistant.clients."""


def score_question(advisor: Advisor, q: GoldenQuestion, client_turn: ClientTurn | None = None) -> QuestionResult:
    hits = advisor.retrieve(AskRequest(question=q.question, k=10))
    sections = list(dict.fromkeys(english_section(advisor, h.chunk) for h in hits))
    client = client_turn(q.question) if client_turn is not None else None
    answer = client or advisor.composer.compose(q.question, hits[: advisor.settings.top_k])
    result = QuestionResult(id=q.id, language=q.language, voice=q.voice, kind=q.kind, answerable=q.answerable,
                            declined=not answer.grounded, got=[f"{d} > {s}" if s else d for d, s in sections[:5]],
                            answer=answer.answer, client_turn=client is not None, cautioned=answer.grounded and answer.unsure)
    if answer.grounded:
        result.words = answer_length(answer.answer)
    if not q.answerable:
        return result
    found = [any(section_matches(d, s, e) for e in q.expected) for d, s in sections]
    result.section_rank = found.index(True) + 1 if True in found else None
    result.section_rr_at_10 = 1.0 / result.section_rank if result.section_rank and result.section_rank <= 10 else 0.0
    result.section_recall_at_5 = sum(any(section_matches(d, s, e) for d, s in sections[:5])
                                     for e in q.expected) / len(q.expected)
    docs = list(dict.fromkeys(d for d, _ in sections))
    result.doc_recall_at_5 = recall_at(docs, q.expected_docs, 5)
    result.doc_rr_at_10 = mrr_at(docs, q.expected_docs, 10)
    if q.key_points:
        text = answer.answer if answer.grounded else ""
        result.key_points = round(key_point_coverage(text, q.key_points), 4)
        result.missing = [k[0] for k in q.key_points if key_point_coverage(text, [k]) == 0]
    return result


def breakdown(results: list[QuestionResult]) -> Breakdown:
    answerable = [r for r in results if r.answerable]
    unanswerable = [r for r in results if not r.answerable]
    declined = [r for r in results if r.declined]
    covered = [r.key_points for r in answerable if r.key_points is not None]
    return Breakdown(
        questions=len(results), answerable=len(answerable), unanswerable=len(unanswerable),
        section_recall_at_5=mean([r.section_recall_at_5 or 0.0 for r in answerable]),
        section_mrr_at_10=mean([r.section_rr_at_10 or 0.0 for r in answerable]),
        doc_recall_at_5=mean([r.doc_recall_at_5 or 0.0 for r in answerable]),
        doc_mrr_at_10=mean([r.doc_rr_at_10 or 0.0 for r in answerable]),
        grounded_share=mean([float(not r.declined) for r in results]),
        key_point_coverage=mean(covered) if covered else None,
        answerable_declined=mean([float(r.declined) for r in answerable]),
        unanswerable_declined=mean([float(r.declined) for r in unanswerable]),
        decline_precision=mean([float(not r.answerable) for r in declined]),
        answerable_cautioned=mean([float(r.cautioned) for r in answerable]),
        unanswerable_cautioned=mean([float(r.cautioned) for r in unanswerable]),
        median_words=median([r.words for r in results if r.words is not None]),
    )


def grouped(results: list[QuestionResult], key) -> dict[str, Breakdown]:
    groups: dict[str, list[QuestionResult]] = defaultdict(list)
    for r in results:
        groups[str(key(r))].append(r)
    return {k: breakdown(v) for k, v in sorted(groups.items())}


def evaluate_golden(advisor: Advisor, path: Path, name: str | None = None, client_turn: ClientTurn | None = None) -> GoldenReport:
    """Retrieval at section level, key points of the answer text, declines and length, overall and by
    language, voice and kind. With ``client_turn``, the answer is the one the chat gives: a message it reads
    as about a client gets that reply (a question back counts as declined), the rest the composer's."""
    questions = load_golden(path)
    started = time.perf_counter()
    results = [score_question(advisor, q, client_turn) for q in questions]
    return GoldenReport(
        set=name or path.stem, file=str(path), via="chat" if client_turn is not None else "composer",
        client_turns=sum(r.client_turn for r in results), overall=breakdown(results),
        by_language=grouped(results, lambda r: r.language), by_voice=grouped(results, lambda r: r.voice or "unlabelled"),
        by_kind=grouped(results, lambda r: r.kind or "unlabelled"), questions=results,
        seconds=round(time.perf_counter() - started, 2),
    )
