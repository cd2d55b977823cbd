"""How well the chat reads client situations and answers them, on hand-written cases.

Each case is a message with the profile fields a banker would write down, the segment and the products that
fit. Two figures: field-level accuracy of the reading, and the share of answers whose segment line names the
right segment and whose text names at least one fitting product. Incomplete messages (``ask``) must get the
one question about the field that decides the segment instead of a guess. Lives beside the reader (not in
assistant.evaluation, which sits below clients) and runs the same code the chat runs, without the audit trail.
"""

from __future__ import annotations

import json
from pathlib import Path

from pydantic import BaseModel, Field, ValidationError

from assistant.clients.situation.advice import ClientAdvisor
from assistant.clients.chinese import SEGMENT_EN, SEGMENT_ZH
from assistant.errors import InputError


class SituationCase(BaseModel):
    id: str
    lang: str = "en"
    message: str = Field(min_length=1)
    expected: dict
    segment: str | None = None
    products: list[str] = Field(default_factory=list)
    ask: str | None = Field(None, description="For an incomplete message: the field the one question must ask for.")


class CaseResult(BaseModel):
    id: str
    lang: str
    fields: int
    right: int
    wrong: list[str] = Field(default_factory=list)
    segment_named: bool | None = None
    product_named: bool | None = None
    asked_right: bool | None = None
    got_segment: str | None = None


class SituationReport(BaseModel):
    cases: int
    field_accuracy: float
    answer_share: float = Field(description="Answers naming the right segment and at least one fitting product.")
    question_share: float | None = Field(None, description="Incomplete messages answered with the right single question.")
    by_language: dict[str, dict[str, float]]
    results: list[CaseResult]

    @property
    def misses(self) -> list[CaseResult]:
        return [r for r in self.results if r.wrong or r.segment_named is False or r.product_named is False or r.asked_right is False]


def load_cases(path: Path) -> list[SituationCase]:
    if not path.exists():
        raise InputError(f"situation cases not found: {path}")
    cases = []
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        try:
            cases.append(SituationCase.model_validate(json.loads(line)))
        except (json.JSONDecodeError, ValidationError) as exc:
            raise InputError(f"{path.name} line {n}: not a situation case ({str(exc).splitlines()[0]})") from exc
    return cases


def same(expected, got) -> bool:
    if isinstance(expected, (int, float)) and not isinstance(expected, bool) and isinstance(got, (int, float)):
        return abs(got - expected) <= 0.01 * max(abs(expected), 1)
    if isinstance(expected, list):
        return set(expected) == set(got or [])
    if isinstance(expected, str) and isinstance(got, str):
        return expected.strip().lower() == got.strip().lower()
    return expected == got


def segment_line(text: str) -> str:
    return next((line for line in text.splitlines() if line.startswith(("**Segment:", "**客户分层："))), "")


def run_case(case: SituationCase, client: ClientAdvisor) -> CaseResult:
    reply, _ = client.respond(case.message, None)
    facts = reply.state.facts.model_dump() if reply.state else {}
    wrong = [f"{k}: expected {v!r}, read {facts.get(k)!r}" for k, v in case.expected.items() if not same(v, facts.get(k))]
    result = CaseResult(id=case.id, lang=case.lang, fields=len(case.expected), right=len(case.expected) - len(wrong), wrong=wrong,
                        got_segment=reply.classification.segment if reply.classification else None)
    if case.ask:
        result.asked_right = reply.kind == "question" and reply.state is not None and reply.state.pending_field == case.ask
        return result
    text = reply.answer.answer if reply.answer else ""
    line = segment_line(text).lower()
    names = [SEGMENT_EN.get(case.segment or "", case.segment or ""), SEGMENT_ZH.get(case.segment or "", "")]
    result.segment_named = reply.kind == "recommendation" and any(n and n.lower() in line for n in names)
    fitting = [p for p in client.rules.products if p.id in case.products]
    result.product_named = any(p.name.lower() in text.lower() or (p.name_zh and p.name_zh in text) for p in fitting)
    return result


def _share(values: list[bool]) -> float:
    return round(sum(values) / len(values), 4) if values else 0.0


def evaluate_situations(client: ClientAdvisor, path: Path) -> SituationReport:
    results = [run_case(case, client) for case in load_cases(path)]
    if not results:
        raise InputError(f"{path.name} holds no situation cases")
    answered = [r for r in results if r.segment_named is not None]
    asked = [r for r in results if r.asked_right is not None]
    by_language = {}
    for lang in sorted({r.lang for r in results}):
        mine = [r for r in results if r.lang == lang]
        by_language[lang] = {"field_accuracy": round(sum(r.right for r in mine) / max(1, sum(r.fields for r in mine)), 4),
                             "answer_share": _share([bool(r.segment_named and r.product_named) for r in mine if r.segment_named is not None])}
    return SituationReport(cases=len(results), field_accuracy=round(sum(r.right for r in results) / max(1, sum(r.fields for r in results)), 4),
                           answer_share=_share([bool(r.segment_named and r.product_named) for r in answered]),
                           question_share=_share([bool(r.asked_right) for r in asked]) if asked else None,
                           by_language=by_language, results=results)
