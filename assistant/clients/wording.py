"""Words relationship staff write, read into the profile's strict values, saying how each was read.

Staff write "moderate" or "稳健型" for a risk appetite and "married, two children aged 5 and 8" for a
family; the rules need C1-C5 and one of six family situations. Each reading is a small, fixed rule
(no guessing from context), and the classification reports which value was read and how. Text
that no rule reads is left as it is, so validation rejects it with the accepted values.

Risk words (the five-level scale Chinese banks use for investor suitability, C1 lowest):

    C1  conservative, 保守型          C4  growth, 成长型
    C2  cautious, 稳健型              C5  aggressive, 进取型
    C3  moderate, balanced, 平衡型

Family text, first rule that applies: retired (退休) -> retired; children mentioned with ages ->
youngest under 12: young-children, 12 to 22: older-children, 23 or over: empty-nest; children
without ages -> young-children if the client is under 45, else older-children; grown-up, adult or
"left home" children -> empty-nest; married, spouse, couple (已婚, 夫妻) -> couple; single,
unmarried, divorced, widowed (单身, 未婚, 离异, 丧偶) -> single.
"""

from __future__ import annotations

import re
from typing import Any

RISK_WORDS: dict[str, str] = {
    "conservative": "C1", "保守型": "C1", "保守": "C1",
    "cautious": "C2", "稳健型": "C2", "稳健": "C2",
    "moderate": "C3", "balanced": "C3", "平衡型": "C3", "平衡": "C3",
    "growth": "C4", "成长型": "C4", "成长": "C4",
    "aggressive": "C5", "进取型": "C5", "进取": "C5",
}
RISK_HINT = ("C1-C5 or a risk word: conservative/保守型 (C1), cautious/稳健型 (C2), moderate or balanced/平衡型 (C3), "
             "growth/成长型 (C4), aggressive/进取型 (C5)")
FAMILY_VALUES = ("single", "couple", "young-children", "older-children", "empty-nest", "retired")
FAMILY_HINT = ("one of " + ", ".join(FAMILY_VALUES) + ", or a description such as 'married, two children aged 5 and 8', "
               "'single', 'retired' (children are read with their ages)")

RETIRED = re.compile(r"\bretire|退休")
NO_CHILDREN = re.compile(r"\b(?:no|without|zero|0)\s+(?:children|child|kids?)\b|无子女|没有孩子|没有子女|丁克")
GROWN = re.compile(r"\b(?:grown[- ]?up|adult|grown)\s+(?:children|child|kids?|sons?|daughters?)\b"
                   r"|\b(?:children|kids)\s+(?:have\s+)?(?:left|moved out)|empty[- ]?nest|子女已成年|孩子已工作|空巢")
CHILDREN = re.compile(r"\b(?:child|children|kids?|sons?|daughters?|baby|babies|toddlers?)\b|孩子|子女|儿子|女儿|小孩")
COUPLE = re.compile(r"\b(?:married|spouse|husband|wife|couple|partner)\b|已婚|夫妻|配偶|老公|老婆")
SINGLE = re.compile(r"\b(?:single|unmarried|divorced|widow(?:ed|er)?|alone)\b|单身|未婚|离异|离婚|丧偶")
COUNT = re.compile(r"\b\d+\s*(?=(?:children|child|kids?|sons?|daughters?)\b)|\d+\s*(?=个)")
AGE = re.compile(r"(?<![\d.])(\d{1,2})(?![\d.])")


def read_risk(value: Any) -> tuple[Any, str | None]:
    """("C3", "risk_appetite 'moderate' read as C3 (moderate -> C3)") or the value unchanged with no note."""
    if not isinstance(value, str):
        return value, None
    text = value.strip()
    if re.fullmatch(r"[cC][1-5]", text):
        return text.upper(), None if text.isupper() else f"risk_appetite '{value}' read as {text.upper()}"
    level = RISK_WORDS.get(text.lower())
    if level is None:
        return value, None
    return level, f"risk_appetite '{value}' read as {level} (the word {text.lower()!r} is level {level} of C1-C5)"


def read_family(value: Any, age: Any = None) -> tuple[Any, str | None]:
    """("young-children", "family_situation '...' read as young-children (children aged 5, 8: youngest under 12)")."""
    if not isinstance(value, str):
        return value, None
    text = value.strip().lower()
    canonical = re.sub(r"[\s_]+", "-", text)
    if canonical in FAMILY_VALUES:
        return canonical, None if canonical == value else f"family_situation '{value}' read as {canonical}"
    read = _family_rule(text, age)
    if read is None:
        return value, None
    situation, why = read
    return situation, f"family_situation '{value}' read as {situation} ({why})"


def _family_rule(text: str, age: Any) -> tuple[str, str] | None:
    if RETIRED.search(text):
        return "retired", "says retired"
    has_children = bool(CHILDREN.search(text)) and not NO_CHILDREN.search(text)
    if has_children and GROWN.search(text):
        return "empty-nest", "grown-up children"
    if has_children:
        ages = sorted(int(a) for a in AGE.findall(COUNT.sub(" ", text)) if int(a) <= 60)
        if ages:
            youngest = ages[0]
            stage = "young-children" if youngest < 12 else "older-children" if youngest <= 22 else "empty-nest"
            return stage, f"children aged {', '.join(map(str, ages))}: youngest {youngest}"
        if isinstance(age, (int, float)) and not isinstance(age, bool) and 0 < age < 150:
            stage = "young-children" if age < 45 else "older-children"
            return stage, f"children without ages; client aged {age:g} is {'under' if age < 45 else 'at least'} 45"
        return "young-children", "children without ages"
    if GROWN.search(text):
        return "empty-nest", "children have left home"
    if COUPLE.search(text):
        return "couple", "married or living as a couple, no children mentioned"
    if SINGLE.search(text):
        return "single", "single, unmarried, divorced or widowed, no children mentioned"
    return None


def read_individual(data: dict) -> tuple[dict, list[str]]:
    """The profile data with risk and family words read, and a note for each value read."""
    notes: list[str] = []
    out = dict(data)
    if "risk_appetite" in out:
        out["risk_appetite"], note = read_risk(out["risk_appetite"])
        notes += [note] if note else []
    if "family_situation" in out:
        out["family_situation"], note = read_family(out["family_situation"], out.get("age"))
        notes += [note] if note else []
    return out, notes
