"""Numbers as relationship managers write them, in English and Chinese.

Amounts: 900,000 · RMB 900k · 0.9 million · RMB 40 billion · 40bn · 90万元 · 3.2亿 · 4000万 · 九十万 · 两百万; about:
30来万 (300,000) · 三十多万 (350,000) · 十几万 (150,000) · 100多万 (1.5 million).
Headcounts: 6 employees · six staff · employs 120 · 员工6人 · 6名员工 · 雇了十二个人. Ages: 45-year-old · aged 45 ·
45岁 · 今年45 · in her fifties. Every hit keeps its span, so the reader can show the words it came from.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

NUM = r"\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?"
CN_NUM = r"[零〇一二两三四五六七八九十百千]+"
EN_WORDS = {w: i for i, w in enumerate(
    "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen sixteen "
    "seventeen eighteen nineteen".split())}
EN_WORDS.update({"twenty": 20, "thirty": 30, "forty": 40, "fifty": 50, "sixty": 60, "seventy": 70, "eighty": 80,
                 "ninety": 90, "a dozen": 12, "a hundred": 100, "hundred": 100})
WORD_NUM = r"(?:twenty|thirty|forty|fifty|sixty|seventy|eighty|ninety)(?:[- ](?:one|two|three|four|five|six|seven|eight|nine))?" \
           r"|a dozen|a hundred|zero|one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|thirteen|fourteen" \
           r"|fifteen|sixteen|seventeen|eighteen|nineteen"
UNITS = {"万亿": 1e12, "亿": 1e8, "千万": 1e7, "百万": 1e6, "十万": 1e5, "万": 1e4, "千": 1e3, "k": 1e3, "thousand": 1e3,
         "m": 1e6, "mn": 1e6, "mln": 1e6, "million": 1e6, "b": 1e9, "bn": 1e9, "billion": 1e9}
MONEY = re.compile(
    rf"(?P<cur1>rmb|cny|¥|￥|人民币|yuan)?\s*(?P<num>{NUM}|{CN_NUM})\s*(?P<approx>来|多|几|余)?\s*"
    r"(?P<unit>万亿|亿|千万|百万|十万|万|千|k\b|thousand\b|mn\b|mln\b|million\b|m\b|bn\b|billion\b|b\b)?"
    r"\s*(?P<cur2>元|块钱|块|yuan\b|rmb\b|cny\b)?", re.I)
HEADCOUNT = [
    re.compile(rf"(?P<n>{NUM}|{WORD_NUM})\s+(?:full[- ]time\s+|permanent\s+|part[- ]time\s+|regular\s+)?"
               r"(?:employees|employee|staff|workers|people|persons|staffers|hands|drivers|cooks|waiters|waitresses|"
               r"technicians|mechanics|operators|labourers|laborers|clerks|salespeople|nurses|teachers)\b", re.I),
    re.compile(rf"\b(?:employs|employing|headcount of|staff of|team of|workforce of|headcount)\s+"
               rf"(?:about\s+|around\s+|some\s+|roughly\s+|nearly\s+|over\s+|is\s+)?(?P<n>{NUM}|{WORD_NUM})\b", re.I),
    re.compile(r"(?:员工|职工|工人|从业人员|雇员)(?:人数)?(?:约|大约|共|有|共有|总数|一共)?\s*(?P<n>\d+(?:\.\d+)?)(?P<wan>万)\s*(?:人|名|余人|多人)"),
    re.compile(rf"(?:员工|职工|工人|从业人员|雇员|员工人数|员工数)(?:人数)?(?:约|大约|共|有|共有|总数|一共)?\s*(?P<n>\d+|{CN_NUM})\s*(?:人|名|个|位)?"),
    re.compile(rf"(?P<n>\d+|{CN_NUM})\s*(?:名|个|位)?\s*(?:员工|职工|工人|雇员|伙计|司机|厨师|服务员|技工|师傅|帮工|店员|营业员)"),
    re.compile(rf"(?:雇了|雇用|雇佣|请了|招了)\s*(?P<n>\d+|{CN_NUM})\s*(?:个|名)?"),
]
KID_WORDS = re.compile(r"kids?|children|child|sons?|daughters?|grand\w+|boys?|girls?|twins|teen\w*|baby|孩子|小孩|儿子|女儿|孙|子女|宝宝", re.I)
AGE = [
    re.compile(r"\b(?P<n>\d{2})[- ]years?[- ]old(?P<after>\s+[a-z]+)?", re.I),
    re.compile(r"\baged?\s+(?P<n>\d{2})\b", re.I),
    re.compile(r"\b(?:he|she)(?:'s| is)\s+(?P<n>\d{2})\b", re.I),
    re.compile(r"\b(?:[A-Z][a-z]+|[Hh]e|[Ss]he|client|customer|wife|husband)\s+is\s+(?P<n>\d{2})\b(?!\d|[,.]\d|\s*(?:%|万|亿|k\b|m\b|"
               r"mn\b|million|billion|thousand|employees|staff|people|workers|years? (?:with|in|of|at)|months?|days?))"),
    re.compile(r"\bboth\s+(?P<n>\d{2})\b(?!\s*(?:%|employees|staff|people|years? (?:with|in|of|at)))", re.I),
    re.compile(r"\b(?P<n>\d{2}),\s+(?:married|single|divorced|retired|widowed|a\s|an\s|works|working|with|has|lives)", re.I),
    re.compile(r"(?<=[a-zA-Z], )(?P<n>\d{2})(?=,\s)"),
    re.compile(rf"(?:今年|年龄|年纪)\s*(?P<n>\d{{2}}|{CN_NUM})"),
    re.compile(rf"(?P<n>\d{{2}}|{CN_NUM})\s*(?P<about>多)?\s*岁"),
]
DECADE = re.compile(r"\bin (?:his|her|their) (?:early |mid[- ]|late )?(?P<d>twenties|thirties|forties|fifties|sixties|seventies|eighties"
                    r"|[2-8]0s)\b", re.I)
ZH_DECADE = re.compile(r"(?P<n>[二三四五六七八]十)\s*(?:岁)?\s*(?P<part>出头|来岁|左右)")
"""三十出头 (early thirties), 四十来岁 (about forty); 五十多岁 is read by AGE's 多."""
PERSON_AFTER = re.compile(r"\s+(?:manager|owner|boss|director|worker|engineer|employee|foreman|supervisor|accountant)\b", re.I)
DECADES = {"twenties": 20, "thirties": 30, "forties": 40, "fifties": 50, "sixties": 60, "seventies": 70, "eighties": 80}


@dataclass
class Hit:
    """One number read from a message, with the span of the words it came from.

    >>> find_amounts("revenue of RMB 900k")
    [Hit(value=900000.0, start=11, end=19, words='RMB 900k', note='', bare=False)]
    """

    value: float
    start: int
    end: int
    words: str
    note: str = ""
    bare: bool = False


def cn_number(text: str) -> float | None:
    """一百五十 → 150, 十二 → 12, 两 → 2 (up to 9,999; 万 and 亿 are units of the amount)."""
    digits = {"零": 0, "〇": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9}
    units = {"十": 10, "百": 100, "千": 1000}
    total, current = 0, 0
    for ch in text:
        if ch in digits:
            current = digits[ch]
        elif ch in units:
            total += (current or 1) * units[ch]
            current = 0
        else:
            return None
    return float(total + current)


def to_number(text: str) -> float | None:
    text = text.strip().lower()
    if re.fullmatch(NUM, text):
        return float(text.replace(",", ""))
    if text in EN_WORDS:
        return float(EN_WORDS[text])
    parts = re.split(r"[- ]", text)
    if len(parts) == 2 and parts[0] in EN_WORDS and parts[1] in EN_WORDS:
        return float(EN_WORDS[parts[0]] + EN_WORDS[parts[1]])
    return cn_number(text)


def without_amounts(text: str) -> str:
    """The text with its amounts taken out (not bare numbers: a year, "1+N" stay), for searching the knowledge
    base with what a message asks rather than the client's figures."""
    for hit in sorted((h for h in find_amounts(text) if not h.bare), key=lambda h: -h.start):
        text = text[:hit.start] + text[hit.end:]
    return re.sub(r"\s{2,}", " ", text).strip()


def find_amounts(text: str) -> list[Hit]:
    """Every amount with a currency or a magnitude word, plus bare numbers of 1,000 or more (kept as
    ``bare``: they count only right after a money word such as "revenue")."""
    hits: list[Hit] = []
    for m in MONEY.finditer(text):
        value = to_number(m.group("num"))
        if value is None:
            continue
        unit = (m.group("unit") or "").lower()
        if m.group("approx"):   # 30来万 about 30; 三十多万, 十几万, 100余万: past it, by half a step of its last place
            if not unit:
                continue
            value += 0 if m.group("approx") == "来" else _step(value) / 2
        marked = bool(m.group("cur1") or m.group("cur2") or unit)
        if unit:
            value *= UNITS[unit]
        if not marked and (value < 1000 or not re.fullmatch(NUM, m.group("num"))):
            continue
        if unit in ("m", "b") and not (m.group("cur1") or re.search(r"\d", m.group("num"))):
            continue
        words = m.group(0).strip()
        start = m.start() + (len(m.group(0)) - len(m.group(0).lstrip()))
        hits.append(Hit(value=value, start=start, end=start + len(words), words=words, bare=not marked,
                        note="approximate" if m.group("approx") else ""))
    return hits


def _step(value: float) -> float:
    """The place of a round number's last non-zero digit: 30 -> 10, 100 -> 100, 15 -> 1."""
    step = 1.0
    while value >= step * 10 and value % (step * 10) == 0:
        step *= 10
    return step


COUNTED_TOGETHER = re.compile(r"\s*(?:,|，|、|and|plus|as well as|和|与|跟|及|加上?|还有)\s*$", re.I)
"""What joins two counts of staff into one headcount: "3个厨师和4个服务员" is 7, "two drivers and three
cooks" is 5; counts further apart ("12 staff; last year 9 staff") are not added."""


def find_headcount(text: str) -> Hit | None:
    for pattern in HEADCOUNT:
        found: Hit | None = None
        for m in pattern.finditer(text):
            value = to_number(m.group("n"))
            if value is not None and m.groupdict().get("wan"):
                value *= 10_000
            elif value is not None and _is_money_or_age(text, m):
                continue
            if value is None or value != int(value):
                continue
            if found is None:
                found = Hit(value=value, start=m.start(), end=m.end(), words=m.group(0).strip())
            elif COUNTED_TOGETHER.fullmatch(text[found.end:m.start()]):
                found = Hit(value=found.value + value, start=found.start, end=m.end(), words=text[found.start:m.end()].strip())
            else:
                break
        if found is not None:
            return found
    return None


def _is_money_or_age(text: str, m: re.Match) -> bool:
    tail = text[m.end("n"):m.end("n") + 3]
    return bool(re.match(r"\s*(?:万|亿|千|岁|k\b|%)", tail))


def _is_child(text: str, m: re.Match) -> bool:
    """A kid word in the same clause just before the age ("kids aged 12 and 15", "儿子12岁"), or right after it."""
    if re.match(r"(?:he|she)\b", m.group(0), re.I):
        return False
    before = re.split(r"[,;，；。.!?]", text[max(0, m.start() - 28):m.start()])[-1]
    after = (m.groupdict().get("after") or "") + text[m.end():m.end() + 3]
    return bool(KID_WORDS.search(before) or KID_WORDS.match(after.strip()))


def find_age(text: str) -> Hit | None:
    """The client's own age: ages of children ("two kids aged 5 and 8", "儿子12岁") are not it."""
    for pattern in AGE:
        for m in pattern.finditer(text):
            value = to_number(m.group("n"))
            if value is None or not 18 <= value <= 110 or _is_child(text, m):
                continue
            if "after" in m.groupdict() and m.group("after") and re.match(r"\s+(company|firm|business|shop|restaurant|factory)", m.group("after"), re.I) \
                    and not PERSON_AFTER.match(text[m.end():]):  # "a 58-year-old factory manager" is a person
                continue
            note = "about" if m.groupdict().get("about") else ""
            return Hit(value=value + (5 if note else 0), start=m.start(), end=m.end(), words=m.group(0).strip(), note=note)
    m = DECADE.search(text)
    if m:
        d = m.group("d").lower()
        base = DECADES.get(d) or int(d[:2])
        return Hit(value=base + 5, start=m.start(), end=m.end(), words=m.group(0), note="about")
    for m in ZH_DECADE.finditer(text):
        if not _is_child(text, m):
            value = to_number(m.group("n")) + (2 if m.group("part") == "出头" else 0)
            return Hit(value=value, start=m.start(), end=m.end(), words=m.group(0), note="about")
    return None


def child_ages(text: str) -> list[int]:
    """Ages written after a word for children, e.g. "two kids aged 5 and 8", "孩子5岁和8岁", "a 3-year-old son"."""
    ages: list[int] = []
    for m in re.finditer(r"(\d{1,2})[- ]years?[- ]old\s+(?:son|daughter|child|kid|boy|girl)", text, re.I):
        ages.append(int(m.group(1)))
    for m in KID_WORDS.finditer(text):
        window = re.split(r"[;；。.!?！？]|[,，]\s*(?!\d|分别|aged|ages|age\b|both|大的|小的|老大|老二)", text[m.end():m.end() + 40])[0]
        for n in re.finditer(r"(?<![\d.,])(\d{1,2})(?![\d.,万亿kK%])(?!\s*(?:employees|staff|people|人|名))", window):
            ages.append(int(n.group(1)))
        if ages:
            break
    return sorted(set(a for a in ages if a < 40))
