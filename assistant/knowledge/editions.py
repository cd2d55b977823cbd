"""Chinese editions of English documents: which are out of date, stamping them, and keeping them in step.

An edition is a file ``<stem>.zh.md`` with ``edition_of: <stem>``. Translators cannot see when the
English changes, so the edition carries the hash of the English body it was written from
(``edition_hash``); ``advisor knowledge stamp-editions`` fills it, ``advisor knowledge status`` lists
editions whose hash is missing or no longer matches. The parity checks (sections, figures, glossary
terms) are what the knowledge-base tests run over every pair.

    states = edition_states(load_documents(Path("knowledge/docs")).docs)
    [s.doc_id for s in states if s.needs_update]          # ['retail-tier-scheme-zh']
    stamp_editions(Path("knowledge/docs"), ["retail-tier-scheme-zh"])
"""

from __future__ import annotations

import hashlib
import re
from decimal import Decimal, InvalidOperation
from pathlib import Path

from pydantic import BaseModel

from assistant.errors import InputError
from assistant.knowledge.documents import FRONT_MATTER, KnowledgeDoc, load_documents
from assistant.text import parse_sections


def body_hash(doc: KnowledgeDoc) -> str:
    """The English text an edition translates: the body (title and sections), not the front matter,
    so moving a review date does not send a document back to the translators."""
    text = "\n".join(line.rstrip() for line in doc.body.replace("\r\n", "\n").strip().splitlines())
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


class EditionState(BaseModel):
    """Whether one edition still matches the English text it was written from.

    >>> state = edition_states(docs)[0]
    >>> state.needs_update, state.status     # (True, "zh edition needs update: ...")
    """

    doc_id: str
    edition_of: str
    language: str
    path: str
    expected_hash: str
    stamped_hash: str | None

    @property
    def needs_update(self) -> bool:
        return self.stamped_hash != self.expected_hash

    @property
    def status(self) -> str:
        if self.stamped_hash is None:
            return (f"{self.language} edition needs update: it has no edition_hash (run `advisor knowledge "
                    f"stamp-editions {self.doc_id}` once it matches '{self.edition_of}')")
        if self.needs_update:
            return f"{self.language} edition needs update: '{self.edition_of}' changed after the edition was written"
        return "current"


def edition_states(docs: list[KnowledgeDoc]) -> list[EditionState]:
    by_id = {d.meta.id: d for d in docs}
    out = []
    for doc in docs:
        original = by_id.get(doc.meta.edition_of or "")
        if original is None:
            continue
        out.append(EditionState(doc_id=doc.meta.id, edition_of=original.meta.id, language=doc.meta.language,
                                path=doc.path, expected_hash=body_hash(original), stamped_hash=doc.meta.edition_hash))
    return sorted(out, key=lambda s: s.doc_id)


_HASH_LINE = re.compile(r"^edition_hash:.*$", re.M)
_OF_LINE = re.compile(r"^edition_of:.*$", re.M)


def _stamp_text(text: str, value: str) -> str:
    match = FRONT_MATTER.match(text)
    if match is None:  # load_documents accepted it, so this cannot happen; say so if it does
        raise InputError("the edition has no front matter to stamp")
    front = match.group(1)
    line = f"edition_hash: {value}"
    if _HASH_LINE.search(front):
        front = _HASH_LINE.sub(line, front, count=1)
    else:
        front = _OF_LINE.sub(lambda m: f"{m.group(0)}\n{line}", front, count=1)
    start, end = match.span(1)
    return text[:start] + front + text[end:]


def stamp_editions(docs_dir: Path, ids: list[str] | None = None) -> list[EditionState]:
    """Record the current English hash in editions: the named ones, or (no names) only those with no
    hash yet, so a blanket run never marks a stale translation as current."""
    report = load_documents(docs_dir)
    states = {s.doc_id: s for s in edition_states(report.docs)}
    if ids:
        unknown = [i for i in ids if i not in states]
        if unknown:
            raise InputError(f"not an edition: {', '.join(unknown)}; editions are {', '.join(states) or 'none'}")
        chosen = [states[i] for i in ids]
    else:
        chosen = [s for s in states.values() if s.stamped_hash is None]
    for state in chosen:
        path = Path(state.path)
        path.write_text(_stamp_text(path.read_text(encoding="utf-8"), state.expected_hash), encoding="utf-8")
        state.stamped_hash = state.expected_hash
    return chosen


# --- parity: what the tests hold every edition to ------------------------------------------------

def headings(doc: KnowledgeDoc) -> list[str]:
    return [s.heading for s in parse_sections(doc.body) if s.heading]


_SCALE_EN = {"thousand": 3, "million": 6, "mn": 6, "m": 6, "billion": 9, "bn": 9, "trillion": 12}
_SCALE_ZH = {"千": 3, "万": 4, "十万": 5, "百万": 6, "千万": 7, "亿": 8, "万亿": 12}
_NUMBER = re.compile(r"(?<![0-9A-Za-z_.,])(\d{1,3}(?:,\d{3})+|\d+)(?:\.(\d+))?")
_EN_SCALE = re.compile(r"\s*(thousand|million|billion|trillion|bn|mn|m)\b", re.I)
_ZH_SCALE = re.compile(r"\s*(万亿|十万|百万|千万|亿|万|千)")
MONTHS = {name: i + 1 for i, names in enumerate(
    "january|jan february|feb march|mar april|apr may june|jun july|jul august|aug september|sept|sep "
    "october|oct november|nov december|dec".split()) for name in names.split("|")}
_MONTH = r"(" + "|".join(sorted(MONTHS, key=len, reverse=True)) + r")\.?"
_DAYS = r"(\d{1,2}(?:\s*[-–]\s*\d{1,2})?)"
_EN_DATE = re.compile(r"\b(?:" + _DAYS + r"\s+)?" + _MONTH + r"\s+(?:" + _DAYS + r",?\s+)?(\d{4})\b", re.I)
_ZH_DATE = re.compile(r"(\d{4})\s*年\s*(\d{1,2})\s*月(?:\s*" + _DAYS + r"\s*日)?")


def _dates(text: str, found: set[str]) -> str:
    """Add 'YYYY-MM' for every date and return the text with the dates cut down to their days, so
    '11-13 November 2020' and '2020年11月11-13日' leave the same figures: 2020-11, 11, 13."""
    def english(m: re.Match) -> str:
        found.add(f"{m.group(4)}-{MONTHS[m.group(2).lower()]:02d}")
        return f" {m.group(1) or m.group(3) or ''} "

    def chinese(m: re.Match) -> str:
        found.add(f"{m.group(1)}-{int(m.group(2)):02d}")
        return f" {m.group(3) or ''} "
    return _ZH_DATE.sub(chinese, _EN_DATE.sub(english, text))


def _canonical(whole: str, fraction: str | None, power: int) -> str:
    try:
        value = Decimal(whole.replace(",", "") + ("." + fraction if fraction else "")).scaleb(power)
    except InvalidOperation:  # pragma: no cover - the pattern only matches digits
        return whole
    text = format(value.normalize(), "f")
    return text.rstrip("0").rstrip(".") if "." in text else text


_RANGE_TAIL = re.compile(r"\s*[-–—~至到]\s*(?:RMB\s*)?\d[\d,]*(?:\.\d+)?")
_WORDS = {w: i + 1 for i, w in enumerate("one two three four five six seven eight nine ten eleven twelve thirteen "
                                          "fourteen fifteen sixteen seventeen eighteen nineteen twenty".split())}
_WORDS |= {w: 10 * (i + 3) for i, w in enumerate("thirty forty fifty sixty seventy eighty ninety".split())}
_WORDS |= {"hundred": 100, "dozen": 12}
_ZH_DIGITS = {ch: i for i, ch in enumerate("零一二三四五六七八九十")} | {"两": 2}


def _scale(rest: str) -> int:
    """The power of ten a number's unit word adds: 万 4, 亿 8, million 6; 0 for none."""
    scale = _ZH_SCALE.match(rest) or _EN_SCALE.match(rest)
    if not scale:
        return 0
    word = scale.group(1)
    return _SCALE_ZH.get(word) or _SCALE_EN.get(word.lower(), 0)


def _figure_pairs(text: str) -> set[tuple[str, str]]:
    """(figure, the bare number it was written with) for every number and date in the text."""
    found: set[str] = set()
    text = _dates(text, found)
    pairs = {(date, date) for date in found}
    for m in _NUMBER.finditer(text):
        rest = text[m.end():m.end() + 40]
        power = _scale(rest)
        tail = _RANGE_TAIL.match(rest)
        if not power and tail:
            power = _scale(rest[tail.end():])
        pairs.add((_canonical(m.group(1), m.group(2), power), _canonical(m.group(1), m.group(2), 0)))
    return pairs


def figures(text: str) -> set[str]:
    """Every number and date, in one notation for both languages: 5万 and 50,000 are both '50000',
    'May 2019' and '2019年5月' are both '2019-05'; percentages and years stand as written. The first
    number of a range takes the unit of the second ('0.5–10 million', '300–500万')."""
    return {figure for figure, _ in _figure_pairs(text)}


def figure_forms(text: str) -> set[str]:
    """What may match a figure of the other edition: the figures, the bare numbers before their unit,
    and numbers written as words (three, 三) or month names (Sep/Dec 2018 against 2018年9月/12月)."""
    forms: set[str] = set()
    for figure, bare in _figure_pairs(text):
        forms.update((figure, bare))
    lowered = text.lower()
    forms.update(str(n) for w, n in _WORDS.items() if re.search(rf"\b{w}\b", lowered))
    forms.update(str(n) for name, n in MONTHS.items() if re.search(rf"\b{name}\b", lowered))
    forms.update(str(n) for ch, n in _ZH_DIGITS.items() if ch in text)
    return forms


def _missing(text: str, other: str) -> set[str]:
    """Figures of ``text`` the other edition has in no form; '100万元' passes against a table that
    counts in 万元 ('100'), because the bare number is accepted too."""
    forms = figure_forms(other)
    return {figure for figure, bare in _figure_pairs(text) if figure not in forms and bare not in forms}


def figure_mismatch(original: KnowledgeDoc, edition: KnowledgeDoc) -> tuple[set[str], set[str]]:
    """Figures of the original the edition lacks, and figures of the edition the original lacks."""
    return _missing(original.body, edition.body), _missing(edition.body, original.body)


def glossary_mismatch(original: KnowledgeDoc, edition: KnowledgeDoc, glossary: list[tuple[str, str, str]]) -> list[str]:
    """Terms this document explains (glossary ``doc``) whose Chinese name the edition does not use."""
    family = original.meta.id
    body = edition.body
    return [f"{en} -> {zh}" for en, zh, doc in glossary
            if doc == family and en.lower() in original.body.lower() and not _uses(body, zh)]


def _uses(body: str, zh: str) -> bool:
    """A glossary name counts when its Chinese core appears ('1+N 模式' is used by '1+N模式')."""
    squeezed = re.sub(r"\s+", "", body)
    return any(re.sub(r"\s+", "", alt) in squeezed for alt in re.split(r"[/／、]", zh) if alt.strip())
