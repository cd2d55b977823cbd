"""Trim a section to what answers the question, in the shape the question's kind wants.

The best unit (sentence, list item or table row) anchors the answer; the kind decides what the
anchor may be (a defining sentence, a formula, a list of steps or reasons) and what comes with it.
Lists and tables are shown whole when they fit, and always in their own order; a lead-in sentence
("The five steps:") comes with its list; a sentence that leans on the one before it comes with it or
not at all; sentences about the document itself are never chosen. Then the next best units are added
while they still answer and the answer stays within about 60-180 words.

>>> chosen = select_units(passage, scores, "procedure")
>>> render(passage, chosen, 1)
"""

from __future__ import annotations

import re

import numpy as np

from assistant.answers.blocks import Unit, is_dependent, is_formula, is_meta, whole_sentences, without_meta
from assistant.answers.kinds import Kind
from assistant.answers.sections import Passage
from assistant.text import is_chinese

MIN_WORDS = 110
AIM_WORDS = 140
MAX_WORDS = 180
WHOLE_BLOCK_WORDS = 150
"""A list or table up to this length is shown whole; a longer one keeps its best items, in order."""
RELEVANT_MARGIN = 0.12
"""Units scoring within this of the best one still answer; below it they are added only to reach MIN_WORDS."""

DEFINING = re.compile(r"\b(is|are|means|mean|refers? to|is defined as|stands? for|denotes)\b|是指|即|指的是|是一种|是")
WARNING_HEADING = re.compile(r"\b(?:mistakes?|pitfalls?|misreadings?|errors?|avoid)\b|误区|错误|陷阱|避免", re.I)
"""A section that lists what not to do: quoted without its heading, "第二周就下达存款任务……" reads as advice."""
REASONING = re.compile(r"\b(because|so that|reason|caused|led to|due to|result|why|since|lesson)\b|因为|原因|导致|由于", re.I)


EXAMPLE_LEAD = re.compile(r"^\*{1,2}(?:worked example|example|算例|示例|举例)", re.I)
"""A paragraph that opens with an example's label: every later sentence works on the figures its first one sets
up ("**Worked example (illustrative).** A bank has RMB 100 billion of loans ... With a 130% coverage requirement
it needs RMB 2.34 billion ..."), so none is shown without that first sentence."""


def prefers(kind: Kind, unit: Unit, passage: Passage) -> bool:
    """Whether a unit has the shape the kind of question asks for."""
    if unit.kind == "sentence" and unit.text.rstrip().endswith((":", "：")):
        return False
    if kind == "definition":
        return unit.kind == "sentence" and bool(DEFINING.search(unit.plain))
    if kind == "calculation":
        return is_formula(unit.plain)
    if kind in ("procedure", "comparison"):
        return unit.kind in ("item", "row")
    if kind == "reasons":
        return unit.kind == "item" or bool(REASONING.search(unit.plain))
    return False


def usable(unit: Unit) -> bool:
    """Not about the document itself. A list item is judged as ``render`` shows it, its sentences about the
    document taken out: the two meanings of "1+N" each end on one ("See supply-chain-finance.", "This is
    the meaning used in the rest of this document"), and judged whole neither could be quoted, so a
    question asking what "1+N" means got the sentence after the list and not the list."""
    if not unit.plain:
        return False
    return not is_meta(without_meta(unit.text) if unit.kind == "item" else unit.text)


def anchor(passage: Passage, scores: np.ndarray, kind: Kind, picker: "Picker | None" = None) -> int | None:
    """The unit the answer is built around: the best one, or a nearly-as-good one of the right shape; with a
    picker, only one that can be shown with what it leans on ("Their needs are ..." after a table, whose
    "Most of these clients ..." leans on the table in turn, cannot)."""
    units = passage.units
    margin = 0.15 if kind in ("procedure", "reasons", "calculation") else 0.08
    first = None
    for i in np.argsort(-scores, kind="stable"):  # best first; what it leans on is worked out only this far
        i = int(i)
        if first is not None and scores[i] < scores[first] - margin:
            break
        if not usable(units[i]) or (picker is not None and picker.with_context(i, scores, kind) is None):
            continue
        if first is None:
            first = i
        if prefers(kind, units[i], passage):
            return i
    return first


class Picker:
    """Chosen unit positions (indices into passage.units) with their running word count.

    >>> picker = Picker(passage)
    >>> picker.chosen |= picker.with_context(0, scores, "procedure") or {0}
    >>> [picker.units[i].text for i in sorted(picker.chosen)], picker.words
    """

    def __init__(self, passage: Passage) -> None:
        self.passage = passage
        self.units = passage.units
        self.position = {(u.block, u.index): i for i, u in enumerate(self.units)}
        self.chosen: set[int] = set()

    @property
    def words(self) -> float:
        return sum(self.units[i].words for i in self.chosen)

    def cost(self, wanted: set[int]) -> float:
        return sum(self.units[i].words for i in wanted - self.chosen)

    def with_context(self, i: int, scores: np.ndarray, kind: Kind) -> set[int] | None:
        """The unit plus what it cannot be shown without; None when that cannot be had."""
        unit = self.units[i]
        block = self.passage.blocks[unit.block]
        if not usable(unit):
            return None
        if unit.kind == "sentence":
            wanted = {i}
            j = i
            while is_dependent(self.units[j].text):
                if self.on_heading(j):
                    break  # "It started in 1993 ..." under "Zhejiang Tailong Commercial Bank": shown under its heading
                if self.units[j].index == 0 and (unit.block == 0 or self.passage.blocks[unit.block - 1].kind != "paragraph"):
                    return None
                j -= 1
                if not usable(self.units[j]) or len(wanted) >= 3:
                    return None
                wanted.add(j)
            if self.units[i].text.rstrip().endswith((":", "：")) and unit.index == len(block.units) - 1:
                return None  # a lead-in comes only with its block
            if unit.index > 0 and block.kind == "paragraph" and EXAMPLE_LEAD.match(block.units[0].text):
                setup = self.position[(unit.block, 0)]
                if not usable(self.units[setup]):
                    return None
                wanted.add(setup)  # "it needs RMB 2.34 billion" is about the bank the example set up
            return wanted
        members = [self.position[(unit.block, k)] for k in range(len(block.units))]
        whole = sum(self.units[m].words for m in members)
        if whole <= WHOLE_BLOCK_WORDS or kind in ("procedure", "reasons") and whole <= MAX_WORDS:
            wanted = set(members)
        else:
            floor = scores[i] - RELEVANT_MARGIN
            wanted = {m for m in members if scores[m] >= floor} | {i}
        lead = self.lead_in(unit.block)
        return wanted | ({lead} if lead is not None else set())

    def lead_in(self, block: int) -> int | None:
        if block == 0:
            return None
        before = self.passage.blocks[block - 1]
        last = self.position[(block - 1, len(before.units) - 1)]
        if before.lead_in and usable(before.units[-1]) and (not is_dependent(before.units[-1].text) or self.on_heading(last)):
            return last
        return None

    def on_heading(self, i: int) -> bool:
        return opens_section(self.passage, self.units[i])


def select_units(passage: Passage, scores: np.ndarray, kind: Kind, budget: float = MAX_WORDS,
                 floor_words: float = MIN_WORDS, aim: float = AIM_WORDS) -> list[Unit]:
    """The units of one section that answer, in document order, within the word budget; past ``aim``
    words nothing more is added, though the anchor's own block may take the answer beyond it."""
    picker = Picker(passage)
    first = anchor(passage, scores, kind, picker)
    if first is None:
        return []
    wanted = picker.with_context(first, scores, kind)
    picker.chosen |= wanted
    best = float(scores[first])
    for i in np.argsort(-scores, kind="stable"):
        i = int(i)
        if i in picker.chosen:
            continue
        relevant = scores[i] >= best - RELEVANT_MARGIN
        if picker.words >= aim or (not relevant and picker.words >= floor_words):
            continue
        extra = picker.with_context(i, scores, kind)
        if extra is None or picker.words + picker.cost(extra) > budget:
            continue
        picker.chosen |= extra
    return [picker.units[i] for i in sorted(picker.chosen)]


def render(passage: Passage, chosen: list[Unit], n: int) -> str:
    """Markdown: prose sentences each cited, lists and tables whole lines with one citation."""
    mark = f"[{n}]"
    parts: list[str] = []
    prose: list[str] = []
    by_block: dict[int, list[Unit]] = {}
    for unit in chosen:
        by_block.setdefault(unit.block, []).append(unit)

    def flush() -> None:
        if prose:
            parts.append(" ".join(prose))
            prose.clear()

    for number in sorted(by_block):
        units = by_block[number]
        block = passage.blocks[number]
        if block.kind == "paragraph":
            prose.extend(_cited_sentences(units, mark))
            continue
        flush()
        if block.kind == "list":
            lines = [without_meta(u.text) for u in units]
            lines[-1] = f"{lines[-1]} {mark}"
        else:
            lines = list(block.header) + [u.text for u in units]
            last = lines[-1].rstrip()
            lines[-1] = f"{last[:-1].rstrip()} {mark} |" if last.endswith("|") else f"{last} {mark}"
        parts.append("\n".join(lines))
    flush()
    return heading_label(passage, chosen) + "\n\n".join(parts)


def _cited_sentences(units: list[Unit], mark: str) -> list[str]:
    """One citation per sentence: clauses of one Chinese sentence cut at "；" and quoted together (units that
    follow each other) are joined again by ``whole_sentences``."""
    runs: list[list[str]] = []
    for k, unit in enumerate(units):
        if k and unit.index == units[k - 1].index + 1:
            runs[-1].append(unit.plain)
        else:
            runs.append([unit.plain])
    return [f"{sentence} {mark}" for run in runs for sentence in whole_sentences(run)]


def heading_of(passage: Passage) -> str:
    return passage.section.section.split(" > ")[-1].strip()


def opens_section(passage: Passage, unit: Unit) -> bool:
    """Whether the unit opens a section that has a heading, so the heading is what it points back at ("It",
    "Its", 其): the picker shows it without the sentence before, and ``heading_label`` shows the heading over it."""
    return unit.block == 0 and unit.index == 0 and bool(heading_of(passage))


def heading_label(passage: Passage, chosen: list[Unit]) -> str:
    """The heading over what is quoted, when the first quoted sentence opens the section and points back at
    the heading ("It started in 1993 as an urban credit cooperative ..." under Zhejiang Tailong Commercial
    Bank; 其前身是…… under 台州银行), or when the section lists what not to do (``warning_label``)."""
    if chosen and opens_section(passage, chosen[0]) and is_dependent(chosen[0].text):
        return _label(heading_of(passage))
    return warning_label(passage)


def _label(heading: str) -> str:
    return f"**{heading}{'：' if is_chinese(heading) else ':'}**\n\n"


def warning_label(passage: Passage) -> str:
    """The section's own heading over what is quoted from it, when the heading says these are mistakes or
    pitfalls (入职培养的常见错误, "Pitfalls of the credit factory"); no label for any other section."""
    heading = heading_of(passage)
    if not heading or not WARNING_HEADING.search(heading):
        return ""
    return _label(heading)
