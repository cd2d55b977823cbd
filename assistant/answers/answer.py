"""What a composer returns: the answer with its numbered citations, and the decline.

One shape for the extractive composer, the language-model composer and the client chat, so the app, the API,
the audit trail and the evaluation read any answer the same way. The decline says why (a topic the bank
declared out of scope, or no passage answers) and names the nearest topics the base does cover.

May import pydantic, assistant.text, assistant.search.retrieval and assistant.answers.gate (for the evidence).

>>> not_found("Will it rain tomorrow?", hits).answer
'The knowledge base has no passage that answers this question. The nearest topics it covers are: ...'
"""

from __future__ import annotations

from datetime import date
from typing import Literal, Protocol

from pydantic import BaseModel, Field

from assistant.answers.gate import Evidence
from assistant.search.retrieval import ScoredChunk
from assistant.text import is_chinese, label

__all__ = ["Answer", "Citation", "Composer", "chunk_warnings", "currency_warnings", "nearest_topics", "not_found",
           "number_citations"]


class Citation(BaseModel):
    """A numbered source of an answer: a whole section, or a vetted FAQ answer cited to its section."""

    n: int
    doc_id: str
    title: str
    section: str
    source: str
    text: str
    score: float
    chunk_id: str
    kind: Literal["passage", "faq"] = Field("passage", description="'faq' when the text is a vetted answer.")


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
    unsure: bool = Field(False, description="Answered, but the question sits about as near the bank's out-of-scope "
                         "examples as the knowledge base: the answer opens with a caution (gate.unsure).")


class Composer(Protocol):
    """What the advisor needs from any composer, extractive or language model: a name and ``compose()``.

    >>> composer: Composer = ExtractiveComposer(settings, embedder)
    >>> composer.compose("How is RAROC calculated?", hits).answer
    """

    name: str

    def compose(self, question: str, hits: list[ScoredChunk]) -> Answer: ...


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


CAUTION = {"en": "*The knowledge base may not cover exactly this; what follows is from the nearest passages. "
                 "Check it before you rely on it.*",
           "zh": "*知识库可能没有正好回答这个问题的内容；以下摘自最接近的段落，使用前请核实。*"}


def with_caution(answer: Answer) -> Answer:
    """The answer, opened by a caution in the question's language (gate.unsure): what a colleague says
    before passing on the nearest thing they have."""
    lead = CAUTION["zh" if is_chinese(answer.question) else "en"]
    return answer.model_copy(update={"answer": f"{lead}\n\n{answer.answer}", "unsure": True})


def not_found(question: str, hits: list[ScoredChunk], evidence: Evidence | None = None) -> Answer:
    """The decline, in the question's language: why (a topic the bank declared out of scope, or no
    passage answers) and the nearest topics the knowledge base does cover."""
    suggestions = nearest_topics(hits)
    chinese = is_chinese(question)
    off = evidence is not None and evidence.off_topic
    if chinese:
        text = (f"这个问题属于“{evidence.off_topic_zh}”，不在本知识库的范围内。" if off
                else "知识库中没有能回答这个问题的内容。")
        if suggestions:
            text += "知识库涵盖的最相近主题：" + "；".join(suggestions) + "。"
    else:
        text = (f"This question is about {evidence.off_topic}, which the knowledge base does not cover." if off
                else "The knowledge base has no passage that answers this question.")
        if suggestions:
            text += " The nearest topics it covers are: " + "; ".join(suggestions) + "."
    return Answer(question=question, answer=text, grounded=False, suggestions=suggestions)


def number_citations(hits: list[ScoredChunk]) -> list[Citation]:
    return [
        Citation(n=i + 1, doc_id=h.chunk.doc_id, title=h.chunk.title, section=h.chunk.section,
                 source=h.chunk.source, text=h.chunk.text, score=round(h.similarity, 4), chunk_id=h.chunk.id)
        for i, h in enumerate(hits)
    ]
