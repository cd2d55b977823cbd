"""Curated answers where the bank has them: match a question to a document's vetted FAQ item.

A FAQ item (front matter ``faq:``, see knowledge/README.md) lists the questions it answers, the
section it summarises and the vetted answer. It leads an answer when two things hold: the question
means the same as one of its listed questions (cosine with the embedder passed, or for a Chinese
question read by an English-only embedder, the share of shared words), and retrieval found its
section among the passages, so a FAQ can never answer a question its document was not retrieved for.
When none of the retrieved sections' items matches, the items of the other sections of the retrieved
documents are tried (``document_faqs``): "零售客户按资产怎么分层？" retrieves the tier document's principles and
measurement rules, while its listed question "零售客户按资产分几层，各层门槛是多少？" sits on the thresholds section.

>>> match = match_faq("What AUM makes a customer affluent?", passages, embedder)
>>> match.item.a if match else None
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from pydantic import BaseModel, ConfigDict

from assistant.answers.gate import Embeds
from assistant.answers.sections import Library, Passage
from assistant.knowledge.documents import FaqItem
from assistant.search.keywords import tokenize
from assistant.text import is_chinese

FAQ_SIMILARITY = 0.72
"""Cosine of the question with a listed FAQ question (MiniLM) from which the vetted answer leads;
paraphrases of a listed question score about 0.75-0.95, other questions on the same section 0.5-0.7."""
FAQ_OVERLAP = 0.6
"""Dice overlap of words (characters and pairs for Chinese) that stands in for the cosine when the
embedder cannot read the question's language."""


FAQ_ELSEWHERE = 0.80
"""The same cosine for an item of a section retrieval did not return: a stricter bar, because the section's
own text never confirmed the topic (blind2 has a question about Baoshang's missing controls at 0.727
with "Which banks took over Baoshang's business?"; "零售客户按资产怎么分层？" meets its listed question at 0.81)."""


class FaqMatch(BaseModel):
    model_config = ConfigDict(arbitrary_types_allowed=True)

    item: FaqItem
    passage: int
    score: float
    question: str


def overlap(a: str, b: str) -> float:
    left, right = set(tokenize(a)), set(tokenize(b))
    return 2 * len(left & right) / (len(left) + len(right)) if left and right else 0.0


def match_faq(question: str, passages: list[Passage], embedder: Embeds, reads_chinese: bool = False,
              threshold: float = FAQ_SIMILARITY, eligible: Callable[[Passage], bool] | None = None) -> FaqMatch | None:
    """The best FAQ item of a retrieved section whose listed question the question paraphrases; ``eligible``:
    only sections it accepts (the composer's: vetted for the kind of client the question is about)."""
    chinese = is_chinese(question)
    by_meaning = not chinese or reads_chinese
    candidates: list[tuple[int, FaqItem, str]] = [
        (i, item, q) for i, p in enumerate(passages) if eligible is None or eligible(p) for item in p.section.faq
        for q in item.q if is_chinese(q) == chinese or (by_meaning and reads_chinese)
    ]
    if not candidates:
        return None
    if by_meaning:
        vectors = embedder.encode_cached([question] + [q for _, _, q in candidates])
        scores = vectors[1:] @ vectors[0]
        floor = threshold
    else:
        scores = np.array([overlap(question, q) for _, _, q in candidates])
        floor = FAQ_OVERLAP
    best = int(np.argmax(scores))
    if float(scores[best]) < floor:
        return None
    index, item, listed = candidates[best]
    return FaqMatch(item=item, passage=index, score=round(float(scores[best]), 4), question=listed)


def document_faqs(passages: list[Passage], library: Library) -> list[Passage]:
    """The sections with vetted answers of the documents retrieval found, that it did not itself return,
    as passages after the retrieved ones (each cites its own first chunk, at its document's best score)."""
    present = {(p.section.doc_id, p.section.section) for p in passages}
    out: list[Passage] = []
    for passage in passages:
        best = passage.best_hit
        for key in library.with_faq.get(passage.section.doc_id, []):
            if key in present:
                continue
            present.add(key)
            hit = best.model_copy(update={"chunk": library.heads[key]})
            out.append(Passage(section=library.sections[key], hits=[hit], rank=len(passages) + len(out)))
    return out
