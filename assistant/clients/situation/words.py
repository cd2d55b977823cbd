"""Facts read from words: industry, ownership, supply-chain role and anchor, risk, family, occupation, needs.

Each reader returns the value and the words it came from (or None), so the chat can show "catering ←
'noodle restaurant'" and the relationship manager can correct a wrong reading in one click.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from assistant.clients.rules import Need
from assistant.clients.situation.numbers import child_ages
from assistant.clients.situation.vocabulary import Vocabulary


@dataclass
class Found:
    """A fact read from words, with the words it came from, so the chat can show what was read.

    >>> read_industry("a noodle restaurant with 6 staff", vocabulary_for(settings.rules_dir, rules))
    Found(value='catering', words='noodle restaurant', start=2, end=19, note='')
    """

    value: object
    words: str
    start: int = -1
    end: int = -1
    note: str = ""


NAME = r"(?:the\s+)?(?P<name>[A-Z][\w&'.-]*(?:\s+(?:[A-Z][\w&'.-]*|&|of|and)){0,5})"
SUPPLIER = re.compile(r"\b(?:supplies|supplying|supplier (?:to|of|for)|sells (?:mainly |mostly |its \w+ )?to|delivers to|"
                      r"makes parts for|is a supplier to|subcontractor (?:to|for|of)|provides \w+ to)\s+" + NAME)
SUPPLIER_UNNAMED = re.compile(r"\b(?:supplies|supplying|supplier (?:to|of|for)|sells (?:mainly |mostly )?to|delivers to|"
                              r"(?:makes|produces|manufactures) (?:[\w-]+ ){0,3}?(?:for)|subcontractor (?:to|for))\s+"
                              r"(?P<name>(?:a|an|one|the)\s+(?:[a-z][\w-]*\s+){0,3}?(?:manufacturer|maker|producer|carmaker|automaker|"
                              r"factory|plant|brewery|mill|group|company|enterprise|soe|chain|retailer|contractor))\b", re.I)
"""An anchor named by what it is ("makes hydraulic parts for a big excavator manufacturer"), read after the named forms."""
DEALER = re.compile(r"\b(?:dealer (?:for|of)|distributor (?:for|of)|reseller (?:for|of)|distributes|sells\s+(?P<goods>\w+\s+)?"
                    r"(?:made by|from)|agent (?:for|of))\s+" + NAME)
ZH_NAME = r"(?P<name>[\u4e00-\u9fffA-Za-z0-9（）()]{2,20}?)"
ZH_SUPPLIER = [re.compile(r"(?:为|给|向)" + ZH_NAME + r"(?:长期|主要|稳定)?(?:供货|供应|配套|提供(?:原料|零部件|配件|包装|产品))"),
               re.compile(ZH_NAME + r"的(?:供应商|配套商|上游供应商|上游企业|上游)")]
ZH_DEALER = [re.compile(ZH_NAME + r"的(?:经销商|代理商|分销商|下游经销商)"), re.compile(r"(?:经销|代理|分销)" + ZH_NAME + r"(?:的产品|产品)")]
ZH_NAME_CUT = re.compile(r".*(?:是|为|作为|一家|家|，|,|：|:)")
ANCHOR_SELF = re.compile(r"\b(?:is|as) (?:an? |the )?(?:anchor|core enterprise)\b|\bits (?:suppliers|dealers)\b|"
                         r"(?:是|作为)(?:当地)?(?:核心企业|龙头企业)|(?:它|其)的(?:供应商|经销商)", re.I)
RETIRED = re.compile(r"\bretired\b|\bretiree\b|\bpensioner\b|退休", re.I)
MARRIED = re.compile(r"\bmarried\b|\bwife\b|\bhusband\b|\bspouse\b|\bcouple\b|已婚|夫妻|爱人|丈夫|妻子|老婆|老公|两口子", re.I)
SINGLE = re.compile(r"\bsingle\b|\bunmarried\b|\bnot married\b|未婚|单身", re.I)
EMPTY_NEST = re.compile(r"empty[- ]nest|grown[- ]up (?:children|kids|son|daughter)|adult (?:children|son|daughter)|children (?:have )?"
                        r"(?:left|moved out)|(?:子女|孩子|儿子|女儿)(?:都)?已?(?:经)?(?:成家|工作|独立)", re.I)
YOUNG_KIDS = re.compile(r"young (?:children|kids)|little|toddler|baby|kindergarten|primary school|幼儿园|小学|宝宝", re.I)
OLDER_KIDS = re.compile(r"teen|high school|university|college|高中|初中|大学|读研", re.I)
KIDS_EN = re.compile(r"\b(?P<n>one|two|three|four|five|a|an|his|her|their|\d)\s+(?:young\s+|little\s+|small\s+|grown(?:-up)?\s+|adult\s+|"
                     r"teenage\s+)?(?P<w>kids?|children|child|sons?|daughters?|twins|teenagers?|teens?|toddlers?)\b", re.I)
KIDS_ZH = re.compile(r"(?P<n>[一两二三四1-4])\s*个\s*(?:孩子|小孩|儿子|女儿|子女)|一儿一女|儿女双全|(?:儿子|女儿|孩子)")
COUNT = {"a": 1, "an": 1, "his": 1, "her": 1, "their": 1, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "一": 1, "两": 2, "二": 2, "三": 3, "四": 4}
NEED_VERB = re.compile(r"\b(?:wants?|wanting|needs?|needing|would like|looking for|asks? (?:for|about)|asking (?:for|about)|"
                       r"interested in|plans?(?: to)?|planning(?: to)?|hopes? to|worried about|concerned about|requests?|requesting|"
                       r"applying for|applied for|seeks?|seeking|is after|priorit(?:y|ies) (?:is|are)|cares? (?:most )?about)\b|想要|想|需要|希望|打算|计划|咨询|申请|担心|要求", re.I)
ASKING_US = re.compile(r"^\s*(?:what|which|how|should|can|could|do|does|any|is there|我们|应该|推荐|怎么|如何|请问|有什么|有哪些)", re.I)


LATIN = re.compile(r"[a-z]")
RISK_GRADE = re.compile(r"\b(?:risk (?:grade|level|rating|profile|appetite|tolerance)\s*(?:is|of|:)?\s*)?(?P<c>c[1-5])\b"
                        r"|风险(?:承受能力|承受度|测评结果|测评|评估结果|评估|等级|评级|偏好|类型)?\s*(?:为|是|：|:)?\s*(?P<z>c[1-5])(?![0-9a-z])")
ANCHOR_TAIL = re.compile(r"\s+(?:and|of|with|that|which|who)$")


@lru_cache(maxsize=None)
def _word_pattern(word: str, whole: bool) -> re.Pattern:
    """One compiled pattern per vocabulary word: compiling thousands per message overflowed re's own cache
    and cost a chat turn ~80 ms before any answer was looked up."""
    return re.compile(r"(?<![a-z])" + re.escape(word) if whole and LATIN.match(word) else re.escape(word))


def _first(text: str, words: list[str]) -> tuple[int, str] | None:
    best = None
    for word in words:
        i = text.find(word)
        if i >= 0 and (best is None or i < best[0] or (i == best[0] and len(word) > len(best[1]))):
            best = (i, word)
    return best


def read_industry(low: str, vocab: Vocabulary) -> Found | None:
    """Longest word first, blanked once found, so "noodle restaurant" is catering once and "retail client" never retail."""
    low = blank(low, vocab.ignore_phrases)
    hits: list[Found] = []
    for word, industry in vocab.industry_words():
        if word not in low:
            continue
        for m in _word_pattern(word, False).finditer(low):
            if LATIN.match(word) and (low[m.start() - 1:m.start()].isalpha() or low[m.end():m.end() + 1].isalpha()
                                              and not (low[m.end():m.end() + 1] == "s" and not low[m.end() + 1:m.end() + 2].isalpha())):
                continue  # a whole word ("mine" is not in "determine"), plural allowed
            hits.append(Found(industry, word, m.start(), m.end()))
            low = low[:m.start()] + " " * len(word) + low[m.end():]
    return min(hits, key=lambda f: f.start) if hits else None


def read_ownership(low: str, vocab: Vocabulary) -> Found | None:
    hits = [(hit, own) for own, words in vocab.ownership.items() if (hit := _first(low, words))]
    if not hits:
        return None
    if any(own == "listed-private" for _, own in hits):   # 民营上市公司: listed says more than private
        hits = [h for h in hits if h[1] != "private"]
    (start, word), own = min(hits, key=lambda h: h[0][0])
    return Found(own, word, start, start + len(word))


def read_risk(low: str, vocab: Vocabulary) -> Found | None:
    m = RISK_GRADE.search(low)
    if m:
        return Found((m.group("c") or m.group("z")).upper(), m.group(0), m.start(), m.end())
    hits = [(hit, grade) for grade, words in vocab.risk.items() if (hit := _first(low, [w.lower() for w in words]))]
    if not hits:
        return None
    (start, word), grade = max(hits, key=lambda h: (len(h[0][1]), -h[0][0]))
    return Found(grade, word, start, start + len(word))


def blank(text: str, phrases: list[str]) -> str:
    """The text with every phrase (lower-case, matched in any case) replaced by as many spaces, so positions
    hold: "retail clients" is not a shop, and "理财经理一个人管多少客户" asks about the bank's staff, its 经理 no
    client's job and its 理财 no client's need (Vocabulary.ignore_phrases, Vocabulary.bank_roles)."""
    for phrase in phrases:
        text = re.sub(re.escape(phrase), " " * len(phrase), text, flags=re.I)
    return text


def read_occupation(low: str, vocab: Vocabulary) -> Found | None:
    hit = _first(low, [w.lower() for w in sorted(vocab.occupations, key=len, reverse=True)])
    return Found(hit[1], hit[1], hit[0], hit[0] + len(hit[1])) if hit else None


def _clean_anchor(name: str) -> str:
    name = ANCHOR_TAIL.sub("", name.strip(" .,;"))
    return name.strip()


def read_supply_chain(text: str) -> Found | None:
    """Role and anchor: "supplies Huaxi Beverage Group", "dealer for ...", "为华西饮料供货", "...的经销商"."""
    for role, patterns in (("supplier", [SUPPLIER, *ZH_SUPPLIER, SUPPLIER_UNNAMED]), ("dealer", [DEALER, *ZH_DEALER])):
        for pattern in patterns:
            m = pattern.search(text)
            if m:
                name = m.group("name")
                if pattern not in (SUPPLIER, DEALER, SUPPLIER_UNNAMED):
                    name = ZH_NAME_CUT.sub("", name)
                name = _clean_anchor(name)
                if len(name) >= 2:
                    return Found((role, name), m.group(0).strip(), m.start(), m.end())
    m = ANCHOR_SELF.search(text)
    return Found(("anchor", None), m.group(0), m.start(), m.end()) if m else None


def read_family(text: str, client_age: float | None) -> tuple[Found | None, Found | None]:
    """(family situation, number of dependent children)."""
    kids, kid_words = _count_children(text)
    ages = child_ages(text) if kids else []
    dependents = Found(kids, " ".join(kid_words)) if kids else None
    retired = RETIRED.search(text)
    if retired:
        return Found("retired", retired.group(0)), None
    if kids:
        return _with_children(text, kids, ages, client_age, " ".join(kid_words)), dependents
    for pattern, value in ((EMPTY_NEST, "empty-nest"), (MARRIED, "couple"), (SINGLE, "single")):
        m = pattern.search(text)
        if m:
            return Found(value, m.group(0)), None
    return None, None


def _count_children(text: str) -> tuple[int, list[str]]:
    kids, words = 0, []
    found = list(KIDS_EN.finditer(text))
    counted = [m for m in found if m.group("n").lower() not in ("his", "her", "their")]
    for m in counted or found:  # "two teenagers ... their kids' university" is two children, not three
        w, n = m.group("w").lower(), m.group("n").lower()
        kids += 2 if w == "twins" else (int(n) if n.isdigit() else COUNT.get(n, 0))
        words.append(m.group(0))
    if kids:
        return kids, words
    counted = [m for m in KIDS_ZH.finditer(text) if m.group("n") or m.group(0) in ("一儿一女", "儿女双全")]
    for m in counted or list(KIDS_ZH.finditer(text)):
        n = m.group("n")
        kids += 2 if not n and m.group(0) in ("一儿一女", "儿女双全") else (int(n) if n and n.isdigit() else COUNT.get(n or "", 1))
        words.append(m.group(0))
    return kids, words


def _with_children(text: str, kids: int, ages: list[int], client_age: float | None, words: str) -> Found:
    if EMPTY_NEST.search(text):
        return Found("empty-nest", EMPTY_NEST.search(text).group(0))
    if ages:
        stage = "young-children" if min(ages) < 12 else ("older-children" if min(ages) <= 25 else "empty-nest")
        return Found(stage, f"{words} (aged {', '.join(map(str, ages))})")
    if YOUNG_KIDS.search(text):
        return Found("young-children", YOUNG_KIDS.search(text).group(0))
    if OLDER_KIDS.search(text):
        return Found("older-children", OLDER_KIDS.search(text).group(0))
    stage = "young-children" if (client_age or 40) < 45 else "older-children"
    return Found(stage, words, note="children's ages not given; read from the client's age")


def need_text(clauses: list[str], fact_clauses: set[int], not_wanting: list[str] | tuple[str, ...] = ()) -> list[str]:
    """What the client wants: the words after a verb of wanting; without one, the clauses that hold no fact,
    are not our own question ("What should we offer?") and do not tell what befalls the client or what they
    already have (``not_wanting``: "最近总接到电话推销高收益产品" is a warning sign, not a wish for yield)."""
    tails = []
    for clause in clauses:
        m = NEED_VERB.search(clause)
        if m:
            tails.append(clause[m.end():].strip(" :：,，"))
    if tails:
        return [t for t in tails if t]
    return [c.strip() for i, c in enumerate(clauses) if i not in fact_clauses and not ASKING_US.match(c) and c.strip()
            and not any(_word_in(w, c.lower()) for w in not_wanting)]


def read_needs(texts: list[str], needs: list[Need], vocab: Vocabulary, client_type: str | None) -> list[tuple[str, list[str]]]:
    """(need text, need ids) for each piece of text that names a need; generic phrases ("a loan") only when
    nothing more specific is named anywhere. A word overlapping a longer one of another need does not count
    ("bond" in "bid bond" is trade finance, not bond issuance)."""
    types = [client_type] if client_type else ["enterprise", "individual"]
    specific = [(n.id, k.lower()) for n in needs if any(t in n.client_types for t in types) for k in n.keywords]
    specific += [(p.need, w.lower()) for p in vocab.need_phrases if not p.generic and any(t in p.client_types for t in types)
                 for w in p.phrases]
    generic = [(p.need, w.lower()) for p in vocab.need_phrases if p.generic and any(t in p.client_types for t in types) for w in p.phrases]
    found = [(text, _matched(text.lower(), specific)) for text in texts]
    if not any(ids for _, ids in found):
        found = [(text, _matched(text.lower(), generic)) for text in texts]
    return [(t, ids) for t, ids in found if ids]


def _matched(low: str, pairs: list[tuple[str, str]]) -> list[str]:
    spans = []
    for need, word in pairs:
        if word in low:  # a cheap test first: most of the vocabulary is absent from any one message
            spans += [(m.start(), m.end(), need) for m in _word_pattern(word, True).finditer(low)]
    kept = [need for s, e, need in spans
            if not any(s2 < e and s < e2 and e2 - s2 > e - s and n2 != need for s2, e2, n2 in spans)]
    return list(dict.fromkeys(kept))


def _word_in(word: str, low: str) -> bool:
    if not LATIN.match(word):
        return word in low
    return word in low and _word_pattern(word, True).search(low) is not None
