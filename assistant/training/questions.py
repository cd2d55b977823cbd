"""How a quiz question is made: stems, drafts, distractor pools and exactly one correct option; glossary questions.
"""
from __future__ import annotations

import hashlib
import random
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import partial

from assistant.clients.rules import GlossaryEntry
from assistant.training.material import TrainingKnowledge, _word
from assistant.training.models import OPTIONS, Citation, Kind, Question

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
                    family=draft.family, key=draft.key, prompt=draft.prompt, options=options, answer=options.index(draft.answer),
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
