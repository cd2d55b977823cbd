"""The ranking measures the field uses (nDCG, recall, MRR) and the ones our golden sets add: a
section match, key-point coverage of an answer's text and its length in words.

>>> recall_at(["a", "x"], {"a", "b"}, 5)
0.5
"""

from __future__ import annotations

import math
import statistics

from assistant.answers.compose import length_in_words
from assistant.knowledge.documents import faq_section_matches


def ndcg_at(ranked: list[str], relevant: dict[str, int], k: int = 10) -> float:
    dcg = sum(relevant.get(d, 0) / math.log2(i + 2) for i, d in enumerate(ranked[:k]))
    ideal = sorted((r for r in relevant.values() if r > 0), reverse=True)[:k]
    idcg = sum(r / math.log2(i + 2) for i, r in enumerate(ideal))
    return dcg / idcg if idcg else 0.0


def recall_at(ranked: list[str], relevant: dict[str, int] | set[str], k: int) -> float:
    wanted = {d for d in relevant if (relevant[d] > 0 if isinstance(relevant, dict) else True)}
    return len(wanted & set(ranked[:k])) / len(wanted) if wanted else 0.0


def mrr_at(ranked: list[str], relevant: dict[str, int] | set[str], k: int = 10) -> float:
    for i, d in enumerate(ranked[:k]):
        if d in relevant and (relevant[d] > 0 if isinstance(relevant, dict) else True):
            return 1.0 / (i + 1)
    return 0.0


def section_matches(doc_id: str, section_path: str, expected: dict[str, str]) -> bool:
    """A chunk answers an expected (document, heading) when the heading is its section or one of its
    ancestors in the section path ("Service model by tier > Mass" matches "Service model by tier"); a
    heading may be written as its path ("Service model by tier > Mass") where its name repeats."""
    if doc_id != expected["doc_id"]:
        return False
    wanted = expected.get("section") or ""
    return not wanted or faq_section_matches(wanted, section_path)


def key_point_coverage(answer_text: str, key_points: list[list[str]]) -> float:
    """Share of key points whose any accepted phrase occurs in the answer text (case-insensitive)."""
    if not key_points:
        return 0.0
    text = answer_text.casefold()
    return sum(any(p.casefold() in text for p in alternatives) for alternatives in key_points) / len(key_points)


def answer_length(text: str) -> float:
    """Words, with every two Chinese characters counted as one word."""
    return length_in_words(text)


def median(values: list[float]) -> float:
    return round(statistics.median(values), 1) if values else 0.0


def mean(values: list[float]) -> float:
    return round(sum(values) / len(values), 4) if values else 0.0
