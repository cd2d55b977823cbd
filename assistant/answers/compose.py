"""Answer models and the offline extractive composer.

The extractive composer writes nothing it did not read: it picks the retrieved passages' sentences
that best answer the question, cites each one, and says plainly when nothing relevant was found.
That makes it the safe default for a bank and the fallback for any language model.
"""

from __future__ import annotations

import re
from datetime import date
from typing import Protocol

import numpy as np
from pydantic import BaseModel, Field

from assistant.config import Settings
from assistant.search.embeddings import Embedder
from assistant.search.retrieval import ScoredChunk, coverage, tokenize
from assistant.text import label, split_sentences


class Citation(BaseModel):
    n: int
    doc_id: str
    title: str
    section: str
    source: str
    text: str
    score: float
    chunk_id: str


class Answer(BaseModel):
    question: str
    answer: str
    grounded: bool
    citations: list[Citation] = Field(default_factory=list)
    warnings: list[str] = Field(default_factory=list)
    suggestions: list[str] = Field(default_factory=list, description="Nearest topics when nothing answers.")
    composer: str = "extractive"
    retrieval_query: str | None = Field(None, description="The standalone query used, when rewritten.")
    audit_id: str | None = None
    disclaimer: str | None = None


class Composer(Protocol):
    name: str

    def compose(self, question: str, hits: list[ScoredChunk]) -> Answer: ...


MARKUP = re.compile(r"^\s*(?:[-*+]\s+|\d+[.)]\s+|>\s*)|\*\*|__|`")


def clean_sentence(sentence: str) -> str:
    text = MARKUP.sub("", sentence).strip()
    return text.strip("|").strip()


def currency_warnings(hits: list[ScoredChunk], today: date | None = None) -> list[str]:
    """Stale guidance must not pass as current: flag passages past review or superseded."""
    return chunk_warnings([h.chunk for h in hits], today)


def chunk_warnings(chunks: list, today: date | None = None) -> list[str]:
    today = today or date.today()
    warnings: list[str] = []
    seen: set[str] = set()
    for c in chunks:
        if c.doc_id in seen:
            continue
        seen.add(c.doc_id)
        if c.superseded_by:
            warnings.append(f"'{c.title}' is superseded by '{c.superseded_by}'; check the newer document.")
        elif c.review_by and c.review_by < today:
            warnings.append(f"'{c.title}' was due for review on {c.review_by.isoformat()}; its figures may be out of date.")
    return warnings


def nearest_topics(hits: list[ScoredChunk], limit: int = 3) -> list[str]:
    out: list[str] = []
    for hit in hits:
        name = label(hit.chunk.title, hit.chunk.section)
        if name not in out:
            out.append(name)
        if len(out) == limit:
            break
    return out


def not_found(question: str, hits: list[ScoredChunk]) -> Answer:
    suggestions = nearest_topics(hits)
    text = "The knowledge base has no passage that answers this question."
    if suggestions:
        text += " The nearest topics it covers are: " + "; ".join(suggestions) + "."
    return Answer(question=question, answer=text, grounded=False, suggestions=suggestions)


def number_citations(hits: list[ScoredChunk]) -> list[Citation]:
    return [
        Citation(n=i + 1, doc_id=h.chunk.doc_id, title=h.chunk.title, section=h.chunk.section,
                 source=h.chunk.source, text=h.chunk.text, score=round(h.similarity, 4), chunk_id=h.chunk.id)
        for i, h in enumerate(hits)
    ]


def candidate_sentences(text: str) -> list[tuple[int, str]]:
    """Sentences that can stand alone in an answer: no headings, fragments, table rows or lead-ins."""
    out = []
    for index, raw in enumerate(split_sentences(text)):
        sentence = clean_sentence(raw)
        if len(sentence.split()) < 5 or len(sentence) > 500 or sentence.endswith(":") or sentence.count("|") >= 2:
            continue
        out.append((index, sentence))
    return out


class ExtractiveComposer:
    name = "extractive"

    def __init__(self, settings: Settings, embedder: Embedder) -> None:
        self.settings = settings
        self.embedder = embedder

    def warm(self, texts: list[str], batch: int = 256) -> int:
        """Embed every answerable sentence ahead of questions (the app does this in the background
        after start), so the first answers cost a query embedding, not forty sentence embeddings."""
        sentences = list(dict.fromkeys(s for text in texts for _, s in candidate_sentences(text)))
        for start in range(0, len(sentences), batch):
            self.embedder.encode_cached(sentences[start:start + batch])
        return len(sentences)

    def relevant(self, question: str, hits: list[ScoredChunk]) -> bool:
        """Dense similarity decides for English; keyword coverage lets a Chinese question through,
        which the English embedding model cannot judge."""
        if not hits:
            return False
        if max(h.similarity for h in hits) >= self.settings.min_relevance:
            return True
        enough_terms = len(set(tokenize(question))) >= 3
        return enough_terms and max(h.coverage for h in hits) >= self.settings.min_coverage

    def compose(self, question: str, hits: list[ScoredChunk]) -> Answer:
        if not self.relevant(question, hits):
            return not_found(question, hits)
        candidates = [(h_index, s_index, text) for h_index, hit in enumerate(hits)
                      for s_index, text in candidate_sentences(hit.chunk.text)]
        if not candidates:
            return not_found(question, hits)
        qvec = self.embedder.encode_cached([question])[0]
        svecs = self.embedder.encode_cached([t for _, _, t in candidates])
        sims = svecs @ qvec
        q_tokens = tokenize(question)
        scores = np.array([
            0.6 * sims[i] + 0.2 * max(hits[h].similarity, hits[h].coverage) + 0.2 * coverage(q_tokens, t)
            for i, (h, _, t) in enumerate(candidates)
        ])
        chosen = self._mmr(scores, svecs, self.settings.answer_sentences)
        picked = sorted((candidates[i] for i in chosen), key=lambda c: (c[0], c[1]))
        used = list(dict.fromkeys(h for h, _, _ in picked))
        citations = number_citations([hits[h] for h in used])
        number = {h: i + 1 for i, h in enumerate(used)}
        text = " ".join(f"{t} [{number[h]}]" for h, _, t in picked)
        return Answer(question=question, answer=text, grounded=True, citations=citations,
                      warnings=currency_warnings([hits[h] for h in used]))

    def _mmr(self, scores: np.ndarray, vectors: np.ndarray, k: int, lam: float = 0.7) -> list[int]:
        order = list(np.argsort(-scores, kind="stable"))
        floor = scores[order[0]] - 0.15
        pool = [i for i in order if scores[i] >= floor][: 6 * k]
        chosen: list[int] = []
        while pool and len(chosen) < k:
            def gain(i: int) -> float:
                redundancy = max((float(vectors[i] @ vectors[j]) for j in chosen), default=0.0)
                return lam * scores[i] - (1 - lam) * redundancy
            best = max(pool, key=gain)
            if chosen and max(float(vectors[best] @ vectors[j]) for j in chosen) > 0.9:
                pool.remove(best)
                continue
            chosen.append(best)
            pool.remove(best)
        return chosen
