"""One text toolkit: sentences, headings, sections, labels, language and MMR, written once.

Every package cuts text the same way, so a sentence the composer quotes is the sentence the grounding
check verifies and the chunker keeps whole. Imports nothing from the package (bottom floor).

>>> split_sentences("Use e.g. the U.S. rule. Rates fell 3.5 points. 好的。再见！")
['Use e.g. the U.S. rule.', 'Rates fell 3.5 points.', '好的。', '再见！']
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import lru_cache

import numpy as np
import yaml

HEADING = re.compile(r"^(#{1,6})\s+(.+?)\s*#*\s*$")
LIST_ITEM = re.compile(r"^\s*(?:[-*+]|\d+[.)])\s+")
"""A markdown list item's first line: the chunker cuts long lists between items and the composer quotes them."""

# A period ends a sentence unless the word before it is a known abbreviation or a single capital
# letter (U.S., P.R.C.); then whitespace and an upper-case letter, digit, quote, bracket or CJK
# character must follow. Chinese sentences end at 。！？； whatever follows.
ABBREVIATIONS = frozenset(
    "e.g i.e etc vs cf al approx no nos fig mr mrs ms dr prof co ltd inc corp dept art para st jr sr "
    "jan feb mar apr jun jul aug sep sept oct nov dec rmb bn mn".split()
)
_BOUNDARY = re.compile(r"(?<=[.!?])[\"')\]]?\s+(?=[A-Z0-9\"'(\[*\u4e00-\u9fff])|(?<=[。！？；])(?!\*\*)")


# libyaml's loader reads the same documents as PyYAML's pure-Python one about ten times faster; the
# knowledge base's front matter, rule tables and glossary are read on every ingest and advisor start.
_YAML_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def load_yaml(text: str):
    """``yaml.safe_load`` through libyaml when it is installed (same result, same ``yaml.YAMLError``s)."""
    return yaml.load(text, Loader=_YAML_LOADER)  # noqa: S506 - a safe loader


def _ends_with_abbreviation(piece: str) -> bool:
    if not piece.endswith("."):
        return False
    word = re.split(r"[\s(]", piece[:-1])[-1].lower()
    return word in ABBREVIATIONS or bool(re.fullmatch(r"(?:[a-z]\.)*[a-z]", word))


def _inside_brackets(text: str) -> bool:
    """A stop inside brackets ends no sentence: "（例如不超过30-40%；示意性）" is one aside, not two sentences."""
    # a stray bracket in a long paragraph must not glue the rest of it into one "sentence"
    return len(text) < 400 and text.count("（") + text.count("(") > text.count("）") + text.count(")")


def split_sentences(text: str) -> list[str]:
    """Sentences line by line; abbreviations (e.g., U.S., No.) and decimals never end one."""
    out: list[str] = []
    for line in text.splitlines():
        line = line.strip()
        if not line:
            continue
        pending = ""
        for piece in (p for p in _BOUNDARY.split(line) if p and p.strip()):
            joint = "" if pending[-1:] in "。！？；" else " "
            pending = f"{pending}{joint}{piece.strip()}".strip() if pending else piece.strip()
            if not _ends_with_abbreviation(pending) and not _inside_brackets(pending):
                out.append(pending)
                pending = ""
        if pending:
            out.append(pending)
    return out


@dataclass
class Section:
    """A heading below the title, as a chunk-style path ("Parent > Child"), with its paragraphs.

    >>> parse_sections("# Title\\n\\nIntro.\\n\\n## Tiers\\n\\n### Mass\\n\\nUnder RMB 50,000.")[-1]
    Section(path='Tiers > Mass', heading='Mass', paragraphs=['Under RMB 50,000.'], level=3)
    """

    path: str
    heading: str
    paragraphs: list[str] = field(default_factory=list)
    level: int = 2

    @property
    def text(self) -> str:
        return "\n\n".join(self.paragraphs)


def parse_sections(body: str) -> list[Section]:
    """Split a markdown body into sections; text before the first sub-heading has path "".

    The level-1 heading is the title, not a section; fenced code never holds headings.
    """
    sections: list[Section] = [Section(path="", heading="", level=1)]
    stack: list[tuple[int, str]] = []
    paragraph: list[str] = []
    in_code = False

    def flush() -> None:
        if paragraph:
            sections[-1].paragraphs.append("\n".join(paragraph).strip())
            paragraph.clear()

    for line in body.splitlines():
        if line.strip().startswith("```"):
            in_code = not in_code
        match = None if in_code else HEADING.match(line)
        if match:
            flush()
            level, title = len(match.group(1)), match.group(2).strip()
            if level == 1:
                stack = []
                sections.append(Section(path="", heading="", level=1))
                continue
            stack = [(lvl, t) for lvl, t in stack if lvl < level] + [(level, title)]
            sections.append(Section(path=" > ".join(t for _, t in stack), heading=title, level=level))
        elif not line.strip():
            flush()
        else:
            paragraph.append(line.rstrip())
    flush()
    return [s for s in sections if s.paragraphs or s.path]


def label(title: str, section: str | None) -> str:
    """How a passage is named to a reader: "Document title > Section path"."""
    return f"{title} > {section}" if section else title


CJK = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")


@lru_cache(maxsize=16384)
def cjk_share(text: str) -> float:
    """Share of letters and digits that are Chinese characters: 0.0 for English, near 1.0 for Chinese.
    Remembered: every answer asks it of the same passages, listed questions and out-of-scope examples (a
    third of a warm ``ask``'s time went to counting them again)."""
    letters = [ch for ch in text if ch.isalnum()]
    if not letters:
        return 0.0
    return sum(1 for ch in letters if CJK.match(ch)) / len(letters)


def is_chinese(text: str, threshold: float = 0.3) -> bool:
    return cjk_share(text) >= threshold


def mmr(relevance: Sequence[float], similarity: Callable[[int, int], float], k: int, lam: float = 0.7) -> list[int]:
    """Maximal marginal relevance: indices of up to ``k`` items, relevant and unlike each other."""
    remaining = list(range(len(relevance)))
    chosen: list[int] = []
    while remaining and len(chosen) < k:
        def gain(i: int) -> float:
            redundancy = max((similarity(i, j) for j in chosen), default=0.0)
            return lam * float(relevance[i]) - (1 - lam) * redundancy
        best = max(remaining, key=gain)
        chosen.append(best)
        remaining.remove(best)
    return chosen


def cosine_matrix(vectors: np.ndarray) -> np.ndarray:
    """Pairwise cosine similarity of row vectors (already normalised or not)."""
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    unit = vectors / np.where(norms == 0, 1.0, norms)
    return unit @ unit.T
