"""Assembling seeded quizzes, grading answers and recording results (the public quiz functions).
"""
from __future__ import annotations

import hashlib
import random
from collections.abc import Sequence

from assistant.config import Settings
from assistant.errors import InputError
from assistant.training.material import TrainingKnowledge, knowledge_for
from assistant.training.models import (
    LETTERS,
    OPTIONS,
    GradedQuestion,
    Question,
    Quiz,
    QuizRequest,
    QuizResult,
    TopicCount,
    TopicTally,
)
from assistant.training.chinese import in_chinese
from assistant.training.questions import _glossary_stems, _Stem
from assistant.training.rule_questions import _scenario_stems, _sme_stems, _tier_stems

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


def question_bank(settings: Settings, seed: int = 0, topic: str | None = None, language: str = "en") -> list[Question]:
    """Every question the knowledge yields, distractors drawn with ``seed`` (for trainers and tests)."""
    k = knowledge_for(settings)
    request = QuizRequest(topic=topic, seed=seed, language=language)
    rng = random.Random(request.seed)
    stems = _check_topic(k, _stems(k), request.topic)
    return _worded([q for q in (_focus(s.build(rng), request.topic) for s in stems) if q is not None], k, request.language)


def _worded(questions: list[Question], k: TrainingKnowledge, language: str) -> list[Question]:
    """Questions in the quiz's language: the same questions, ids and correct options in either."""
    return in_chinese(questions, k) if language == "zh" else questions


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
    questions = _worded(questions, k, request.language)
    digest = hashlib.sha1(f"{seed}|{request.topic}|{'|'.join(q.id for q in questions)}".encode()).hexdigest()[:12]
    note = None
    if len(questions) < request.n:
        note = f"only {len(questions)} questions exist for {'this topic' if request.topic else 'the knowledge base'}"
        if request.language == "zh":
            note = f"{'该主题' if request.topic else '知识库'}目前只有{len(questions)}道题"
    return Quiz(id=digest, seed=seed, topic=request.topic, requested=request.n, questions=questions, note=note,
                language=request.language)


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
    from assistant.training.progress import Attempt, progress_store

    attempts = [Attempt(question_id=i.question_id, topic=i.topic, kind=i.kind, correct=i.correct, quiz_id=result.quiz_id)
                for i in result.items if not i.skipped]
    return progress_store(settings).record(trainee, attempts)
