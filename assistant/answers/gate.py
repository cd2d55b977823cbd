"""Knowing what it doesn't know: does the knowledge base answer this question at all?

Three kinds of evidence, because each fails somewhere:
- **meaning**: cosine of the question and the best retrieved passages, with the embedder passed in
  (the English MiniLM reads no Chinese, so for a Chinese question it is noise unless a multilingual
  embedder is passed);
- **words**: the share of the question's rare words that the best passage contains (IDF-weighted),
  which works in any language the keyword index reads;
- **vocabulary**: specialised terms the knowledge base never uses at all ("bitcoin", "HIBOR",
  "MiFID"). A question about a thing the bank's documents never mention is out of scope however
  banking-like it sounds; ordinary words that are merely absent ("drifting") do not count.

``relevance`` computes the evidence; ``answerable`` decides. Thresholds were calibrated on golden v2
(see docs/readme/answers.md); the held-out set was not used.

>>> evidence = relevance("What is RAROC?", hits, embedder, library)
>>> answerable(evidence)
True
"""

from __future__ import annotations

import re
from typing import Protocol

import numpy as np
from pydantic import BaseModel, Field

from assistant.answers.sections import Library
from assistant.search.keywords import STOPWORDS, tokenize
from assistant.search.retrieval import ScoredChunk
from assistant.text import is_chinese

ENGLISH_WORD = re.compile(r"[A-Za-z][A-Za-z0-9+\-]*[A-Za-z0-9]|[A-Za-z]")

# Calibrated on golden v2 (165 English, 72 Chinese questions): a plateau of settings declines 80% of the
# unanswerable English questions; these decline the fewest answerable ones (2 of 140).
DENSE_FLOOR = 0.31
"""Below this best-passage cosine an English question is declined whatever its words say."""
FOREIGN_SURE = 0.52
"""A question naming a term the base never uses is answered only from this cosine up."""
KEYWORD_FLOOR = 0.16
"""IDF-weighted share of the question's words in the best passage below which it is declined."""
KNOWN_FLOOR = 0.70
"""Share of an English question's words that occur somewhere in the knowledge base."""
ZH_KEYWORD_FLOOR = 0.05
"""The same share for a Chinese question read by keywords only (the English model cannot judge it)."""
ZH_KNOWN_FLOOR = 0.05
"""Share of a Chinese question's character pairs that occur anywhere in the knowledge base."""


class Embeds(Protocol):
    def encode_cached(self, texts: list[str]) -> np.ndarray: ...


class Evidence(BaseModel):
    """Why the gate decided as it did; kept on the answer path for logs and calibration."""

    language: str = Field(description="'zh' when the question is mostly Chinese, else 'en'.")
    dense: float = Field(0.0, description="Best cosine of the question with a retrieved passage (the embedder passed).")
    keywords: float = Field(0.0, description="IDF-weighted share of the question's terms in the best passage.")
    known: float = Field(1.0, description="Share of the question's terms that the knowledge base uses anywhere.")
    unknown: int = Field(0, description="How many of the question's terms the knowledge base never uses.")
    foreign: list[str] = Field(default_factory=list, description="Specialised terms the knowledge base never uses.")
    reads_language: bool = Field(True, description="Whether the embedder can read the question's language.")


def relevance(question: str, hits: list[ScoredChunk], embedder: Embeds, library: Library | None = None,
              reads_chinese: bool | None = None) -> Evidence:
    """The gate's evidence for one question. Pass the embedder that reads the question's language;
    ``reads_chinese`` defaults to the embedder's ``multilingual`` attribute (False for MiniLM)."""
    chinese = is_chinese(question)
    reads = not chinese or bool(getattr(embedder, "multilingual", False) if reads_chinese is None else reads_chinese)
    evidence = Evidence(language="zh" if chinese else "en", reads_language=reads)
    top = hits[:5]
    if not top:
        return evidence
    vectors = embedder.encode_cached([question] + [h.chunk.embedding_text for h in top])
    evidence.dense = round(float(np.max(vectors[1:] @ vectors[0])), 4)
    terms = set(tokenize(question))
    idf = library.idf if library is not None else (lambda _t: 1.0)
    weight = sum(idf(t) for t in terms)
    if weight:
        best = max(sum(idf(t) for t in terms & set(tokenize(h.chunk.embedding_text))) for h in top)
        evidence.keywords = round(best / weight, 4)
    if library is not None:
        pool = [t for t in terms if len(t) == 2] if chinese else [t for t in terms if not is_chinese(t)]
        known = sum(library.knows(t) for t in pool)
        evidence.known = round(known / len(pool), 4) if pool else 1.0
        evidence.unknown = len(pool) - known
        evidence.foreign = [] if chinese else foreign_terms(question, library, embedder)
    return evidence


def foreign_terms(question: str, library: Library, embedder: Embeds) -> list[str]:
    """Words the knowledge base never uses and the embedding model's own vocabulary splits into
    pieces: specialised terms (bitcoin, HIBOR), not everyday words (weekend, drifting)."""
    tokenizer = getattr(getattr(getattr(embedder, "model", None), "tokenizer", None), "tokenize", None)
    out = []
    for word in ENGLISH_WORD.findall(question):
        lower = word.lower()
        if lower in STOPWORDS or len(lower) < 3:
            continue
        stems = tokenize(lower)
        if not stems or any(library.knows(s) for s in stems):
            continue
        if tokenizer is None or len(tokenizer(lower)) >= 2 or word.isupper():
            out.append(word)
    return out


def answerable(evidence: Evidence) -> bool:
    """The decision. English: meaning first, words and vocabulary to overrule a topical-sounding
    question about something the base never covers. Chinese with an English-only embedder: words."""
    if not evidence.reads_language:
        return evidence.keywords >= ZH_KEYWORD_FLOOR and evidence.known >= ZH_KNOWN_FLOOR
    strange = evidence.known < KNOWN_FLOOR and evidence.unknown >= 2  # one odd word in a short question is not enough
    if evidence.dense < DENSE_FLOOR or evidence.keywords < KEYWORD_FLOOR or strange:
        return False
    return not evidence.foreign or evidence.dense >= FOREIGN_SURE
