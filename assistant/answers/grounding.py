"""The grounding check every language-model answer passes before a banker sees it.

A fluent sentence is not a true one. Each sentence of a model's answer must (1) cite at least one
passage that exists, (2) say something close in meaning to a sentence of a passage it cites, and
(3) use only figures that a cited passage contains: a model that "calculates" a RAROC or rounds a
threshold has written a number no document backs. Sentences that fail are dropped, never shown.

Two attacks get their own guard. Passage sentences addressed to a model ("ignore previous
instructions ...") never count as support, or a model that obeyed an injected document would be
"grounded" in the attack itself; and sentences that repeat the system prompt are dropped, so a
model talked into revealing its instructions reveals nothing.
"""

from __future__ import annotations

import re
import unicodedata
from decimal import Decimal, InvalidOperation
from functools import lru_cache
from importlib import resources
from typing import Literal

import numpy as np
from pydantic import BaseModel, Field

from assistant.answers.blocks import clean_sentence
from assistant.search.embeddings import Embedder
from assistant.search.keywords import coverage, tokenize
from assistant.text import cjk_share, split_sentences

DEFAULT_THRESHOLD = 0.55
"""Cosine similarity (all-MiniLM-L6-v2) a sentence needs with its best cited passage sentence.
Faithful paraphrases of a passage sentence score about 0.6-0.95, sentences on the same topic that assert
something else 0.3-0.5; 0.55 keeps faithful rewording and drops topical filler."""

CJK_COVERAGE = 0.6
"""Share of a Chinese claim's characters and bigrams that its best cited unit must contain. The
English embedding model cannot read Chinese (an unrelated Chinese sentence can score 0.7), so
Chinese claims are judged on keywords, as retrieval does."""
CJK_CLAIM = 0.3

LEAK_SIMILARITY = 0.8
LEAK_SHINGLE = 6

CITATION = re.compile(r"\[\s*(\d+(?:\s*(?:[,，;；、]|[-–])\s*\d+)*)\s*\]")
TRAILING_CITATIONS = re.compile(r"([.!?。！？])((?:\s*\[[\d\s,，;；、\-–]+\])+)")
NUMBER = re.compile(r"[0-9]+(?:,[0-9]{3})*(?:\.[0-9]+)?")
WORDS = re.compile(r"\w+")


class SentenceCheck(BaseModel):
    """The verdict on one sentence of a model's answer, with the evidence for it."""

    text: str = Field(description="The sentence as written, citations included.")
    claim: str = Field(description="The sentence without citations or markup: what gets compared.")
    cited: list[int] = Field(default_factory=list, description="Valid passage numbers, 1-based.")
    invalid: list[int] = Field(default_factory=list, description="Cited numbers with no such passage.")
    similarity: float = Field(0.0, description="Support from the best cited unit, on the scale of `measure`.")
    measure: Literal["embedding", "keywords"] = "embedding"
    missing_numbers: list[str] = Field(default_factory=list)
    leaks_prompt: bool = False
    framing: bool = Field(False, description="A heading or connective with nothing to verify.")
    supported: bool = False
    reason: str | None = None


class GroundingResult(BaseModel):
    sentences: list[SentenceCheck] = Field(default_factory=list)

    @property
    def kept(self) -> list[SentenceCheck]:
        return [s for s in self.sentences if s.supported]

    @property
    def dropped(self) -> list[SentenceCheck]:
        """Claims removed as unsupported; framing fragments are removed too but are not claims."""
        return [s for s in self.sentences if not s.supported and not s.framing]

    @property
    def grounded(self) -> bool:
        return bool(self.kept)

    @property
    def any_valid_citation(self) -> bool:
        return any(s.cited for s in self.sentences)

    @property
    def invalid_citations(self) -> list[int]:
        return sorted({n for s in self.sentences for n in s.invalid})


def normalise(text: str) -> str:
    """NFKC folds full-width digits and punctuation (１２％, ，) into the ASCII the checks read."""
    return unicodedata.normalize("NFKC", text)


def move_trailing_citations(text: str) -> str:
    """Models often write 'claim. [1] Next claim.'; move the marker before the full stop so the
    citation stays with the sentence it supports."""
    return TRAILING_CITATIONS.sub(lambda m: " " + m.group(2).strip() + m.group(1), text)


def split_answer(text: str) -> list[str]:
    """Sentences of a model's answer, each keeping its own citation markers."""
    text = move_trailing_citations(normalise(text))
    return split_sentences(text)


def parse_citations(sentence: str) -> list[int]:
    """All passage numbers a sentence cites, in order: [1], [1, 2], [1][3] and [2-4] all count."""
    numbers: list[int] = []
    for match in CITATION.finditer(sentence):
        for part in re.split(r"\s*[,，;；、]\s*", match.group(1)):
            bounds = [int(b) for b in re.split(r"\s*[-–]\s*", part) if b]
            if len(bounds) == 2 and 0 < bounds[1] - bounds[0] < 20:
                numbers.extend(range(bounds[0], bounds[1] + 1))
            else:
                numbers.extend(bounds)
    return list(dict.fromkeys(numbers))


def strip_citations(sentence: str) -> str:
    text = CITATION.sub("", sentence)
    text = re.sub(r"\s+([.,;:!?。，；：！？])", r"\1", text)
    return clean_sentence(re.sub(r"\s{2,}", " ", text)).strip()


def number_value(token: str) -> Decimal | None:
    try:
        return Decimal(token.replace(",", "")).normalize()
    except InvalidOperation:  # pragma: no cover - the pattern only matches digits
        return None


def extract_numbers(text: str) -> dict[Decimal, str]:
    """Every figure in a text by value, so '10,000' matches '10000', '12.50%' matches '12.5 per
    cent' and a percentage matches the same figure without its sign."""
    found: dict[Decimal, str] = {}
    for match in NUMBER.finditer(normalise(text)):
        value = number_value(match.group(0))
        if value is not None:
            found.setdefault(value, match.group(0))
    return found


def missing_numbers(claim: str, cited_text: list[str]) -> list[str]:
    """Figures in the claim that no cited passage contains: a model that computes or rounds a
    figure has written a number no document backs."""
    available = set().union(*(extract_numbers(t) for t in cited_text))
    return [shown for value, shown in extract_numbers(claim).items() if value not in available]


def is_framing(claim: str) -> bool:
    """A heading or lead-in ('Recommendations:') states nothing to check; dropping it silently
    keeps the warning count about real claims."""
    words = WORDS.findall(claim)
    return not NUMBER.search(claim) and (claim.endswith((":", "：")) or len(words) < 3)


@lru_cache(maxsize=1)
def injection_markers() -> tuple[re.Pattern[str], ...]:
    text = resources.files("assistant.answers").joinpath("prompts", "injection_markers.txt").read_text(encoding="utf-8")
    lines = [line.strip() for line in text.splitlines()]
    return tuple(re.compile(line, re.I) for line in lines if line and not line.startswith("#"))


def addresses_model(sentence: str) -> bool:
    """True for text written to steer a language model rather than to inform a reader."""
    return any(p.search(sentence) for p in injection_markers())


def shingles(text: str, size: int = LEAK_SHINGLE) -> set[tuple[str, ...]]:
    words = [w.lower() for w in WORDS.findall(text)]
    return {tuple(words[i:i + size]) for i in range(len(words) - size + 1)}


class GroundingChecker:
    """Checks sentences against the passages a model was given. One instance serves every
    question: it holds only the embedder, the threshold and the texts never to repeat.

    >>> checker = GroundingChecker(embedder, threshold=0.55, secrets=prompt_secrets())
    >>> result = checker.check("RAROC divides risk-adjusted return by economic capital [1].", [passage_text])
    >>> result.grounded, [s.reason for s in result.dropped]
    """

    def __init__(self, embedder: Embedder, threshold: float = DEFAULT_THRESHOLD, secrets: list[str] | None = None) -> None:
        self.embedder = embedder
        self.threshold = threshold
        secrets = secrets or []
        sentences = [clean_sentence(s) for text in secrets for s in split_sentences(text)]
        self._secret_sentences = [s for s in sentences if len(WORDS.findall(s)) >= 4]
        self._secret_shingles: set[tuple[str, ...]] = set().union(*(shingles(t) for t in secrets))

    def check(self, text: str, passages: list[str]) -> GroundingResult:
        return GroundingResult(sentences=[self.check_sentence(s, passages) for s in split_answer(text)])

    def check_sentence(self, sentence: str, passages: list[str]) -> SentenceCheck:
        numbers = parse_citations(sentence)
        check = SentenceCheck(text=sentence, claim=strip_citations(sentence),
                              cited=[n for n in numbers if 1 <= n <= len(passages)],
                              invalid=[n for n in numbers if not 1 <= n <= len(passages)])
        if not check.claim or (is_framing(check.claim) and not check.cited):
            return check.model_copy(update={"framing": True, "reason": "nothing to verify"})
        if self.leaks_prompt(check.claim):
            return check.model_copy(update={"leaks_prompt": True, "reason": "repeats the system prompt"})
        if not check.cited:
            reason = "cites no passage that exists" if check.invalid else "cites no passage"
            return check.model_copy(update={"reason": reason})
        cited_text = [passages[n - 1] for n in check.cited]
        check.missing_numbers = missing_numbers(check.claim, cited_text)
        check.measure = "keywords" if cjk_share(check.claim) >= CJK_CLAIM else "embedding"
        check.similarity = self.support(check.claim, cited_text, check.measure)
        threshold = CJK_COVERAGE if check.measure == "keywords" else self.threshold
        if check.missing_numbers:
            check.reason = "figures not in the cited passages: " + ", ".join(check.missing_numbers)
        elif check.similarity < threshold:
            check.reason = f"too far from the cited passages (similarity {check.similarity:.2f})"
        else:
            check.supported = True
        return check

    def support(self, claim: str, cited_text: list[str], measure: str = "embedding") -> float:
        """Best similarity of the claim to any cited sentence or pair of adjacent sentences (a
        model often fuses two), ignoring sentences that address the model."""
        units = [u for text in cited_text for u in evidence_units(text)]
        if not units:
            return 0.0
        if measure == "keywords":
            wanted = tokenize(claim)
            return max(coverage(wanted, u) for u in units)
        vectors = self.embedder.encode_cached([claim] + units)
        return float(np.max(vectors[1:] @ vectors[0]))

    def leaks_prompt(self, claim: str) -> bool:
        if self._secret_shingles & shingles(claim):
            return True
        if not self._secret_sentences:
            return False
        vectors = self.embedder.encode_cached([claim] + self._secret_sentences)
        return bool(np.max(vectors[1:] @ vectors[0]) >= LEAK_SIMILARITY)


def evidence_units(passage: str) -> list[str]:
    sentences = [clean_sentence(s) for s in split_sentences(passage)]
    sentences = [s for s in sentences if s and not addresses_model(s)]
    pairs = [f"{a} {b}" for a, b in zip(sentences, sentences[1:])]
    return sentences + pairs


class Renumberer:
    """Renumbers citations in order of first use by a kept sentence, so the answer's [1] is the
    first passage it relies on and the citation list holds only passages the text cites.

    >>> numbering = Renumberer()
    >>> numbering.apply(SentenceCheck(text="Tier clients by AUM [3].", claim="Tier clients by AUM.", cited=[3]))
    'Tier clients by AUM [1].'
    """

    def __init__(self) -> None:
        self.order: list[int] = []

    def apply(self, check: SentenceCheck) -> str:
        for n in check.cited:
            if n not in self.order:
                self.order.append(n)
        markers = "".join(f"[{self.order.index(n) + 1}]" for n in check.cited)
        claim = check.claim
        end = claim[-1] if claim and claim[-1] in ".!?。！？" else ""
        body = claim[:-1].rstrip() if end else claim
        return f"{body} {markers}{end}" if end else f"{body} {markers}"


class SentenceStream:
    """Cuts streamed text into complete sentences: a sentence is complete once the next one has
    begun, so the grounding check never judges half a sentence.

    >>> lines = SentenceStream()
    >>> lines.feed("RAROC compares return with capital [1]. EVA sub"), lines.flush()
    (['RAROC compares return with capital [1].'], ['EVA sub'])
    """

    def __init__(self) -> None:
        self.buffer = ""

    def feed(self, delta: str) -> list[str]:
        self.buffer += delta
        pieces = split_answer(self.buffer)
        if len(pieces) < 2:
            return []
        trailing = self.buffer[len(self.buffer.rstrip()):]
        self.buffer = pieces[-1] + trailing
        return pieces[:-1]

    def flush(self) -> list[str]:
        pieces = split_answer(self.buffer)
        self.buffer = ""
        return pieces
