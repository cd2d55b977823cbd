"""Keywords for the BM25 list: English words stemmed, Chinese cut into words by jieba.

Why a segmenter: Chinese has no spaces, and character bigrams alone both miss words ('包商银行' is
three bigrams, none of them the bank's name) and invent false ones across word borders. jieba ships its
dictionary in the wheel; the glossary's Chinese terms are added to it, so '包商银行', '一户一策' and
'供应链金融' are single keywords. The segmenter is built on first Chinese text, never at import, and
says nothing (jieba logs its dictionary build at DEBUG to stderr by default).

    tokenize("从包商银行的倒闭学到什么")   # ['包商', '银行', '包商银行', '倒闭', '学到']
    add_keywords(glossary_keywords(Path("knowledge/data")))
"""

from __future__ import annotations

import hashlib
import logging
import re
import threading
from functools import lru_cache
from pathlib import Path

import yaml
from assistant.text import load_yaml

log = logging.getLogger(__name__)

STOPWORDS = frozenset(
    "a an and are as at be but by for if in into is it no not of on or such that the their then there "
    "these they this to was will with what which who how does do can should i we our my me you your "
    # the scaffolding of a request to explain, as in Chinese below
    "explain briefly brief please describe".split()
)
CJK_STOPWORDS = frozenset(
    "为什么 什么 怎么样 怎么 如何 哪些 哪个 哪 是否 应该 可以 能否 能 我们 我 你 你们 他 她 它 他们 一个 请问 请 "
    "是 的 了 吗 呢 吧 啊 和 与 及 或 在 对 有 该 应 要 会 从 把 被 让 给 向 就 都 也 还 而 并 等 中 之 其 这 那 这些 "
    "那些 这个 那个 以及 还是 或者 如果 因为 所以 但是 可能 需要 哪里 多少 几 个 吗 么 "
    # the scaffolding of a request to explain ("请简单解释一下X", "X是什么意思"): counted as words, they
    # outweighed the term asked about in the gate and the keyword list (2026-12-04)
    "意思 含义 解释 解释一下 一下 简单 简要 介绍 介绍一下 讲讲 说说 讲解".split()
)
WORD = re.compile(r"[a-z0-9]+(?:[+.][a-z0-9]+|,\d{3}(?!\d))*|[\u4e00-\u9fff\u3400-\u4dbf]+")
CJK_RUN = re.compile(r"[\u4e00-\u9fff\u3400-\u4dbf]{2,}")

TOKENIZER_VERSION = "jieba-0.42.1-search+porter2-4"   # change when tokenize() cuts text differently
_lock = threading.RLock()
_added: set[str] = set()


@lru_cache(maxsize=1)
def _stemmer():
    try:
        import Stemmer

        return Stemmer.Stemmer("english")
    except ImportError:  # pragma: no cover - PyStemmer is a declared dependency
        return None


_segmenters: list = []   # the one jieba tokenizer, once built


def _segmenter():
    """jieba's tokenizer with its bundled dictionary and every word added so far, built on first
    Chinese text (about 0.7 s), quietly. Its dictionary cache goes to the system temp folder (jieba's
    default), never into the working tree."""
    if _segmenters:
        return _segmenters[0]
    with _lock:
        if not _segmenters:
            import jieba

            jieba.setLogLevel(logging.WARNING)
            segmenter = jieba.Tokenizer()
            segmenter.initialize()
            for word in sorted(_added):
                segmenter.add_word(word)  # jieba picks a frequency high enough to keep the word whole
            _segmenters.append(segmenter)
    return _segmenters[0]


def add_keywords(terms: list[str]) -> int:
    """Teach the segmenter whole words (the glossary's Chinese terms); returns how many were new.

    Only the Chinese runs of a term are added ('1+N 模式' adds '模式'), since only those reach jieba.
    Call it before building an index: words added later change how new text is cut. Until the first
    Chinese text the words are only remembered, so a process that reads only English never loads jieba.
    """
    runs = {run for term in terms for run in CJK_RUN.findall(term or "")}
    with _lock:
        new = sorted(runs - _added)
        if new:
            _added.update(new)
            for segmenter in _segmenters:
                for word in new:
                    segmenter.add_word(word)
            token_set.cache_clear()
    return len(new)


def vocabulary() -> str:
    """A fingerprint of how text is cut into keywords (the words added, the tokenizer's version): an
    index saved under another fingerprint would not match the questions' keywords."""
    with _lock:
        words = "\n".join(sorted(_added))
    return hashlib.sha1(f"{TOKENIZER_VERSION}\n{words}".encode("utf-8")).hexdigest()[:16]


def glossary_keywords(rules_dir: Path) -> list[str]:
    """The Chinese names in the glossary (glossary.yaml or glossary_parts/*.yaml). A missing or broken
    glossary costs keywords, not answers: it is logged and retrieval goes on without it."""
    files = [rules_dir / "glossary.yaml"]
    if not files[0].exists():
        parts = rules_dir / "glossary_parts"
        files = sorted(parts.glob("*.yaml")) if parts.is_dir() else []
    terms: list[str] = []
    for path in files:
        try:
            entries = load_yaml(path.read_text(encoding="utf-8")) or []
        except (OSError, yaml.YAMLError) as exc:
            log.warning("glossary %s not read for keywords: %s", path, str(exc).splitlines()[0])
            continue
        terms.extend(str(e["zh"]) for e in entries if isinstance(e, dict) and e.get("zh"))
    return terms


def _chinese(run: str) -> list[str]:
    """jieba's search mode: the whole word and the words inside it ('供应链金融', '供应链', '金融'), so a
    question that names a part still meets the whole (golden v2: better than whole words alone and than
    words plus character bigrams; see README, "Figures (golden v2, section recall@5 ...)")."""
    return [w for w in _segmenter().lcut_for_search(run, HMM=True) if w.strip() and w not in CJK_STOPWORDS]


def tokenize(text: str, chinese: bool = True) -> list[str]:
    """English words stemmed with stop words dropped; Chinese runs cut into words by jieba (skipped with
    ``chinese=False``, for matching against a question that has no Chinese words)."""
    tokens: list[str] = []
    words: list[str] = []
    for match in WORD.finditer(text.lower()):
        piece = match.group(0)
        if "\u3400" <= piece[0] <= "\u9fff":
            if chinese:
                tokens.extend(_chinese(piece))
        elif piece not in STOPWORDS:
            words.append(piece.replace(",", ""))
    stemmer = _stemmer()
    tokens.extend(stemmer.stemWords(words) if stemmer else words)
    return tokens


@lru_cache(maxsize=16384)
def token_set(text: str, chinese: bool = True) -> frozenset[str]:
    """The distinct keywords of a passage, remembered: every answer scores the same few hundred passages
    against each question, and cutting Chinese with jieba is the slow part. ``chinese=False`` leaves
    Chinese runs uncut: a question without Chinese words cannot meet them, and a one-shot English
    question then never loads jieba (0.7 s), whatever bracketed Chinese terms its passages carry."""
    return frozenset(tokenize(text, chinese))


def has_chinese(tokens) -> bool:
    """Whether any keyword is Chinese, i.e. whether passages must be cut with jieba to meet them."""
    return any("\u3400" <= t[0] <= "\u9fff" for t in tokens if t)


def coverage(query_tokens: list[str], text: str) -> float:
    """Keyword evidence that does not depend on the embedding model reading the language."""
    wanted = set(query_tokens)
    if not wanted:
        return 0.0
    return len(wanted & token_set(text, has_chinese(wanted))) / len(wanted)
