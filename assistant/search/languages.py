"""Which language a question is in, how much each ranked list counts for it, and which edition answers.

A Chinese question should be answered from the Chinese edition of a document and an English question
from the English one; an edition keeps its original's sections in the same order, so a passage has a
counterpart in the other language: same family (the original's id), same section ordinal. Retrieval
finds a passage in whichever language ranks it and then hands the reader the counterpart in their
own language; where there is none (a bank's Chinese memo, a document not yet translated), the
passage stays in its own language and says so (``chunk.language``).

    editions = Editions(chunks)
    hits = editions.prefer(hits, question_language("风险经理学什么"))   # per ranked list, before fusion
"""

from __future__ import annotations

from collections import defaultdict
from typing import Literal

from assistant.knowledge.chunking import Chunk
from assistant.search.store import matches
from assistant.text import cjk_share, is_chinese

Language = Literal["en", "zh"]

# A question this Chinese or more is answered in Chinese (the share of its letters that are Chinese).
CHINESE_QUESTION = 0.3
# Any real share of Chinese means the English model misses words: the multilingual model reads it.
MIXED_QUESTION = 0.1

# Weights of the three lists at the two ends of the language scale, interpolated by cjk_share; chosen on
# golden v2 (bench/multilingual.py sweep, figures in README, "中文 ... Figures"). The English model reads
# nothing of a Chinese question. The multilingual list gets half a vote in both languages: with USE it found
# the right document more often than the right section (a quarter of a vote in English, half in Chinese);
# with e5 (2026-12-04) a sweep of the English weight (0.25, 0.5, 1.0) put 0.5 first on the holdout and
# framed-holdout and within a question of the best on v2, and the Chinese sweep kept 0.5.
WEIGHTS_EN = {"dense": 1.0, "keyword": 1.0, "multilingual": 0.5}
WEIGHTS_ZH = {"dense": 0.1, "keyword": 1.0, "multilingual": 0.5}


def question_language(text: str) -> Language:
    return "zh" if is_chinese(text, CHINESE_QUESTION) else "en"


def reads_chinese(text: str) -> bool:
    """True when the English model would miss words of the text: Chinese or mixed."""
    return cjk_share(text) >= MIXED_QUESTION


def list_weights(text: str) -> dict[str, float]:
    share = cjk_share(text)
    return {name: WEIGHTS_EN[name] + (WEIGHTS_ZH[name] - WEIGHTS_EN[name]) * share for name in WEIGHTS_EN}


def for_reach(fused: dict[str, float], chunks: dict[str, Chunk], language: str, weights: dict[str, float],
              active: set[str], keyword_found: set[str]) -> dict[str, float]:
    """Score a passage against the lists that can read it. The English model reads no Chinese passage,
    and keywords meet a passage in another language only by chance (a bracketed term), so a bank's
    Chinese memo with no English edition is ranked by the multilingual list alone; left as is, RRF
    would bury it under English passages two lists agree on, and no English question could be answered
    from it. The lists that can read a passage are scaled up to the full weight. A passage the keyword
    list did find (a bracketed 小微企业 in an English passage) was read by it: its keyword share counts
    as reach, not as a bonus on top of a scaled-up score, which let an English passage that ranked sixth
    in meaning beat the bank's Chinese passage that ranked first in words and second in meaning."""
    total = sum(weights[n] for n in active)
    out = {}
    for cid, score in fused.items():
        chunk = chunks[cid]
        reach = sum(weights[n] for n in active if n == "multilingual" or (n == "dense" and chunk.language == "en")
                    or (n == "keyword" and (chunk.language == language or cid in keyword_found)))
        out[cid] = score * total / reach if 0 < reach < total else score
    return out


class Editions:
    """Passages grouped by (family, section ordinal, language), to find a passage's counterpart.

    >>> editions = Editions(store.all_chunks())
    >>> editions.counterpart(english_chunk, "zh").doc_id     # 'retail-tier-scheme-zh'
    """

    def __init__(self, chunks: list[Chunk]) -> None:
        groups: dict[tuple[str, int, str], list[Chunk]] = defaultdict(list)
        for chunk in chunks:
            groups[(chunk.family, chunk.section_index, chunk.language)].append(chunk)
        self._groups = {key: sorted(group, key=lambda c: c.position) for key, group in groups.items()}

    def counterpart(self, chunk: Chunk, language: str, filters: dict[str, str] | None = None) -> Chunk | None:
        """The passage of the other edition at the same place: the same section, and within a section
        cut into several passages, the one at the same relative position."""
        if chunk.language == language:
            return chunk
        theirs = [c for c in self._groups.get((chunk.family, chunk.section_index, language), []) if matches(c, filters)]
        if not theirs:
            return None
        mine = self._groups.get((chunk.family, chunk.section_index, chunk.language), [chunk])
        index = next((i for i, c in enumerate(mine) if c.id == chunk.id), 0)
        return theirs[min(index * len(theirs) // max(len(mine), 1), len(theirs) - 1)]

    def prefer(self, hits: list[tuple[Chunk, float]], language: str,
               filters: dict[str, str] | None = None) -> list[tuple[Chunk, float]]:
        """One ranked list with every passage moved to its counterpart in ``language`` where one exists,
        before the lists are fused. A section found in both editions by one list keeps the better of the
        two scores, not their sum, so a translated document does not outrank an untranslated one just for
        being there twice; but what different lists found in different editions adds up as one section's
        evidence. (Moving the fused scores instead let the keywords find the Chinese edition and the
        multilingual model the English one, and the section kept only the larger half: a Chinese question
        about comparing NPL ratios had its section first in meaning and third in words, and sixth fused.)"""
        best: dict[str, tuple[Chunk, float]] = {}
        for chunk, score in hits:
            target = self.counterpart(chunk, language, filters) or chunk
            if target.id not in best or score > best[target.id][1]:
                best[target.id] = (target, score)
        return sorted(best.values(), key=lambda pair: -pair[1])
