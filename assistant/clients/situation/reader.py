"""Read a relationship manager's message about a client into facts, each with the words it came from.

Amounts are paired with the nearest money word of their clause ("RMB 900,000 revenue", "营业收入90万元",
"has 800k with us"), each word used once; whether "income" is a firm's revenue or a person's pay, and
"assets" a balance sheet or money held at the bank, is settled after the client type is.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from assistant.clients.rules import RuleBook
from assistant.clients.situation.facts import ClientFacts, ReadItem, SituationRead
from assistant.clients.situation.numbers import Hit, find_age, find_amounts, find_headcount
from assistant.clients.situation.shown import show_fact, stated_need
from assistant.clients.situation.vocabulary import Vocabulary
from assistant.clients.situation import words as W
from assistant.text import is_chinese

CUES = {
    "revenue": r"annual revenues?|revenues?|turnover|annual sales|sales|takings|营收|营业收入|营业额|销售额|销售收入|年销售|流水",
    "aum": r"\baum\b|assets under management|balance|with us|at our bank|at the bank|in our bank|with the bank|in deposits|deposits?|savings|"
           r"saved|financial assets|invested|wealth products|在我行|在本行|在我们行|我行|存款|理财|金融资产|存了|余额",
    "assets": r"total assets|net assets|assets|总资产|资产总额|资产",
    "salary": r"salary|salaries|earns|earning|take-home|年薪|月薪|工资",
    "income": r"household income|annual income|income|年收入|收入",
    "loan": r"loans?|borrow\w*|credit line|financing|facility|贷款|借款|融资|授信|借",
    "other": r"mortgage|outstanding|debt|owes|房贷|负债|欠",
}
CUE_RES = {k: re.compile(v, re.I) for k, v in CUES.items()}
MONTHLY = re.compile(r"每月|月收入|月薪|月流水|月营业额|月销售|月均|monthly|a month|per month|/month|each month|一个月", re.I)
CLAUSE = re.compile(r"[;；。!?！？\n]|\.(?=\s|$)|,(?!\d{3}\b)|，")
WEAK_CUE = re.compile(r"\b(?:client|customer|our|we have|he|she|his|her|owner|company|firm|business|runs|owns|they)\b|客户|企业主|老板|他|她|公司|企业|这家|我行", re.I)
STRONG_CUE = re.compile(r"\b(?:our|a|my|this|the|new|another) (?:client|customer)\b|客户|企业主|老板", re.I)
# A question that names a client is a request for advice on that client only when it asks what to offer or
# how to serve them. "A client assessed as C3 wants an R4 fund. Am I allowed to sell it?" and "我国企业债券市场
# 有哪些关键节点？" (国企 is not a client) ask what the knowledge base says: read as clients, they were answered
# with a question back (README, "Questions that name a client").
QUESTION = re.compile(r"[?？]|(?:吗|呢|多少|什么|哪些|哪个|哪种|怎么|怎样|如何|是否|能否|能不能|可不可以|为什么)[。.!！]?\s*$")
KEEP_EN = "win|keep|retain|grow"
KEEP_ZH = "留住|挽留|守住|拿下|赢得|争取"
"""Keeping or winning a client: advice when a client is described, strategy when only a kind of client is (STRATEGY)."""
ADVICE = re.compile(
    r"\b(?:offer|offers|offering|offered|recommend\w*|propos\w*|suggest\w*|suits?|suitable|fits?|put in front of|set-?up|package|bundle|cross-sell|"
    r"pitch|serve|approach|open the door|in the door|what (?:kind of |type of |sort of )?(?:loan|financing|products?|services?|"
    r"accounts?)|which (?:loans?|financing|products?|services?|accounts?)|what should (?:we|I) do|how (?:should|do|can|could) "
    rf"(?:we|I) (?:help|serve|approach|{KEEP_EN}|bank))\b|推荐|配什么|配置|配一套|适合|(?:什么|哪些|哪种|哪类)(?:贷款|产品|服务|业务|融资)|"
    rf"(?:怎么|怎样|如何)(?:服务|经营|维护|营销|切入|跟进|帮|{KEEP_ZH})|拿什么|打开局面|从哪里切|从哪切|"
    r"(?:能|可以|该)(?:给|提供|帮)(?:他|她|他们|它|客户|对方)?(?:点)?(?:什么|哪些)", re.I)
# Keeping or winning a *kind* of client is strategy; what to offer one needs its facts. "How do we keep a large SOE
# client from moving its payroll to another bank?" names no client of the asker's: read as one, it was answered with
# "What does the company do?". With a fact only a real client has (an amount, an age, a name) it is that client's.
STRATEGY = re.compile(rf"\bhow (?:should|do|can|could) (?:we|I) (?:{KEEP_EN}|hold on to)\b|(?:怎么|怎样|如何)(?:{KEEP_ZH}|维护)", re.I)
KIND_FIELDS = frozenset({"client_type", "industry", "ownership", "occupation", "supply_chain_role", "stated_needs"})
"""What a message can say of a kind of client as well as of one client ("a large SOE client", "restaurant owners")."""
PERSON = re.compile(r"\b(?:individual|personal|private client|retail client|retiree|pensioner|housewife|years? old|aged|widow\w*)\b|"
                    r"个人客户|私人|退休|岁|月薪|年薪", re.I)
FIRM = re.compile(r"\b(?:company|firm|corporate|enterprise|co\.|ltd|group|employees|staff|revenue|turnover)\b|企业(?!主)|公司|集团|有限|员工|营收|营业收入", re.I)
OWNER = re.compile(r"\b(?:owns|runs|business owner|entrepreneur|owner of|self-employed)\b|老板|企业主|开了一家|开了个|经营", re.I)
SURNAMES = ("王李张刘陈杨黄赵周吴徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆"
            "汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤常温康施文牛樊葛邢安齐易乔伍庞颜倪庄聂章鲁岳翟")
NAME = re.compile(r"\b(?:Mr|Mrs|Ms|Miss|Dr)\.?\s+[A-Z][a-z]+|[" + SURNAMES + r"](?:先生|女士|小姐|老板|总|阿姨|大爷|师傅)")


def _asks_advice(text: str, items: list[ReadItem]) -> bool:
    """Whether a question asks for advice on the client it describes, not for a strategy towards a kind of client."""
    if not ADVICE.search(text):
        return False
    if all(i.field in KIND_FIELDS for i in items) and STRATEGY.search(text):
        return bool(ADVICE.search(STRATEGY.sub(" ", text)))  # only the strategy words asked for advice: a kind of client
    return True


@dataclass
class Cue:
    """Where a money word ("revenue", "存款") sits in a message: amounts pair with the nearest cue of their clause.

    >>> [Cue(kind, m.start(), m.end()) for kind, p in CUE_RES.items() for m in p.finditer("revenue of rmb 900k")]
    [Cue(kind='revenue', start=0, end=7)]
    """

    kind: str
    start: int
    end: int


class SituationReader:
    """Facts from one message; no state, no model, the same message always reads the same.

    >>> reader = SituationReader(rules, vocabulary_for(settings.rules_dir, rules))
    >>> reader.read("A noodle restaurant with 6 employees and RMB 900,000 revenue wants a small loan to renovate").facts.industry
    'catering'
    """

    def __init__(self, rules: RuleBook, vocab: Vocabulary) -> None:
        self.rules = rules
        self.vocab = vocab

    def read(self, message: str, client_type: str | None = None) -> SituationRead:
        """``client_type``: the conversation's client, used when the message alone does not say ("revenue is 2 million")."""
        text = W.blank(" ".join((message or "").split()), self.vocab.bank_roles)
        lang = "zh" if is_chinese(text) else "en"
        low = text.lower()
        found: dict[str, W.Found] = {}
        self._read_words(text, low, found)
        amounts = self._pair_amounts(text, low, found)
        client_type = self._client_type(text, found, amounts) or client_type
        facts, items, unread = self._facts(text, client_type, found, amounts, lang)
        clauses = _clauses(text)
        starts = [f.start if f.start >= 0 else _located(f.words, low) for f in found.values()]
        # "married with one child in middle school" tells the family, not a wish for education funding
        fact_clauses = {i for i, (s, e) in enumerate(clauses) for start in starts if start >= 0 and s <= start < e}
        fact_clauses |= {i for i, (s, e) in enumerate(clauses) for a, _ in amounts if s <= a.start < e}
        self._needs(text, clauses, fact_clauses, facts, items, lang)
        n_facts = len([i for i in items if i.field not in ("stated_needs", "name", "client_type")])
        is_situation = (n_facts >= 3 or (n_facts >= 1 and bool(WEAK_CUE.search(text))) or (n_facts >= 2 and bool(facts.need_ids))
                        or (bool(facts.need_ids) and bool(STRONG_CUE.search(text)))) \
            and (not QUESTION.search(text) or _asks_advice(text, items))
        return SituationRead(language=lang, is_situation=is_situation, facts=facts, read_as=items, unread=unread)

    # ---------------------------------------------------------------- words
    def _read_words(self, text: str, low: str, found: dict[str, W.Found]) -> None:
        chain = W.read_supply_chain(text)
        if chain:
            found["supply_chain"] = chain
        scrubbed = low if not chain or chain.start < 0 else low[:chain.start] + " " * (chain.end - chain.start) + low[chain.end:]
        readers = {"industry": lambda: W.read_industry(scrubbed, self.vocab), "ownership": lambda: W.read_ownership(low, self.vocab),
                   "risk_appetite": lambda: W.read_risk(low, self.vocab), "occupation": lambda: W.read_occupation(low, self.vocab)}
        for key, reader in readers.items():
            hit = reader()
            if hit:
                found[key] = hit
        head = find_headcount(text)
        if head:
            found["employees"] = W.Found(int(head.value), head.words, head.start, head.end)
        age = find_age(text)
        if age:
            found["age"] = W.Found(int(age.value), age.words, age.start, age.end, "approximate" if age.note else "")
        family, dependents = W.read_family(text, age.value if age else None)
        if family:
            found["family_situation"] = family
        if dependents:
            found["dependents"] = dependents
        name = NAME.search(text)
        if name:
            found["name"] = W.Found(name.group(0), name.group(0), name.start(), name.end())

    def _pair_amounts(self, text: str, low: str, found: dict[str, W.Found]) -> list[tuple[Hit, str | None]]:
        """Each amount with the kind of money word nearest to it in its clause (None when there is none)."""
        taken = [(f.start, f.end) for k, f in found.items() if k in ("employees", "age") and f.start >= 0]
        amounts = [a for a in find_amounts(text) if not any(s <= a.start < e or a.start <= s < a.end for s, e in taken)
                   and not (a.bare and 1900 <= a.value <= 2100)]
        cues = [Cue(kind, m.start(), m.end()) for kind, pattern in CUE_RES.items() for m in pattern.finditer(low)]
        cues = [c for c in cues if not any(o is not c and o.start <= c.start and c.end <= o.end and (o.end - o.start) > (c.end - c.start) for o in cues)]
        clause_of = _clause_index(text)
        pairs = []
        for i, a in enumerate(amounts):
            for j, c in enumerate(cues):
                if clause_of(a.start) != clause_of(c.start) or (c.start < a.end and c.end > a.start):
                    continue
                before = c.end <= a.start
                gap = a.start - c.end if before else c.start - a.end + 0.5
                if gap <= 40 and (not a.bare or (before and gap <= 12)):
                    pairs.append((gap, i, j))
        kinds: dict[int, str] = {}
        used: set[int] = set()
        for gap, i, j in sorted(pairs):
            if i not in kinds and j not in used:
                kinds[i] = cues[j].kind
                used.add(j)
                if MONTHLY.search(low[max(0, min(cues[j].start, amounts[i].start) - 8):max(cues[j].end, amounts[i].end) + 12]):
                    amounts[i].note = "monthly"
        return [(a, kinds.get(i)) for i, a in enumerate(amounts) if not a.bare or i in kinds]

    def _client_type(self, text: str, found: dict, amounts: list[tuple[Hit, str | None]]) -> str | None:
        kinds = [k for _, k in amounts]
        person = sum(k in found for k in ("age", "family_situation", "risk_appetite")) + kinds.count("aum") + kinds.count("salary")
        person += bool(PERSON.search(text)) + ("occupation" in found and "industry" not in found)
        firm = sum(k in found for k in ("employees", "ownership", "supply_chain", "industry")) + kinds.count("revenue")
        firm += bool(FIRM.search(text))
        if person == firm:
            return None
        return "individual" if person > firm else "enterprise"

    # ---------------------------------------------------------------- facts
    def _facts(self, text: str, client_type: str | None, found: dict, amounts: list, lang: str) -> tuple[ClientFacts, list[ReadItem], list[str]]:
        data: dict = {"client_type": client_type}
        words: dict[str, tuple[str, str]] = {}
        own = {"enterprise": ("industry", "ownership", "employees"), "individual": ("age", "family_situation", "dependents",
                                                                                 "risk_appetite", "occupation")}
        for key in own.get(client_type or "", ("industry", "employees", "age")) + ("name",):
            if key in found:
                data[key] = found[key].value
                words[key] = (found[key].words, found[key].note)
        if client_type == "enterprise" and "supply_chain" in found:
            role, anchor = found["supply_chain"].value
            data["supply_chain_role"] = role
            words["supply_chain_role"] = (found["supply_chain"].words, "")
            if anchor:
                data["anchor_firm"] = anchor
                words["anchor_firm"] = (found["supply_chain"].words, "")
        owner = OWNER.search(text)
        if client_type == "individual" and owner:
            data["business_owner"] = True
            words["business_owner"] = (owner.group(0), "")
        unread = self._place_amounts(client_type, amounts, data, words)
        facts = ClientFacts.model_validate(data)
        items = [ReadItem(field=k, value=data[k], shown=show_fact(k, data[k], lang, self.rules), words=w, note=n)
                 for k, (w, n) in words.items() if data.get(k) is not None]
        if client_type:
            items.insert(0, ReadItem(field="client_type", value=client_type, shown=show_fact("client_type", client_type, lang, self.rules), words=""))
        return facts, items, unread

    def _place_amounts(self, client_type: str | None, amounts: list, data: dict, words: dict) -> list[str]:
        fields = {"enterprise": {"revenue": "operating_revenue_rmb", "income": "operating_revenue_rmb", "assets": "total_assets_rmb"},
                  "individual": {"aum": "aum_rmb", "assets": "aum_rmb", "income": "annual_income_rmb", "salary": "annual_income_rmb"}}
        unread = []
        for amount, kind in amounts:
            field = fields.get(client_type or "", {}).get(kind or "")
            if kind == "loan":
                continue  # the amount asked for: part of the stated need
            if field is None or field in data:
                unread.append(amount.words)
                continue
            value, note = amount.value, ""
            if amount.note == "monthly" and field in ("operating_revenue_rmb", "annual_income_rmb"):
                value, note = value * 12, "monthly figure × 12"
            elif kind == "assets" and field == "aum_rmb":
                note = "read as assets held at the bank"
            data[field] = round(value, 2)
            words[field] = (amount.words, note)
        return unread

    def _needs(self, text: str, clauses: list[tuple[int, int]], fact_clauses: set[int], facts: ClientFacts,
               items: list[ReadItem], lang: str) -> None:
        pieces = W.need_text([text[s:e] for s, e in clauses], fact_clauses, self.vocab.not_wanting)
        for piece, ids in W.read_needs(pieces, self.rules.needs, self.vocab, facts.client_type):
            phrase = stated_need(piece, ids, self.rules, facts.client_type, lang)
            facts.stated_needs.append(phrase)
            facts.need_ids = list(dict.fromkeys([*facts.need_ids, *ids]))
            items.append(ReadItem(field="stated_needs", value=ids, shown=show_fact("stated_needs", _short(piece), lang), words=piece))


def _short(piece: str, limit: int = 60) -> str:
    piece = piece.strip(" .。")
    return piece if len(piece) <= limit else piece[:limit].rsplit(" ", 1)[0] + "…"


def _clauses(text: str) -> list[tuple[int, int]]:
    spans, start = [], 0
    for m in CLAUSE.finditer(text):
        if m.start() > start:
            spans.append((start, m.start()))
        start = m.end()
    if start < len(text):
        spans.append((start, len(text)))
    return spans


def _clause_index(text: str):
    bounds = [m.start() for m in CLAUSE.finditer(text)]

    def index(pos: int) -> int:
        return sum(1 for b in bounds if b < pos)
    return index


def _located(words: object, low: str) -> int:
    """Where a fact read without its position (the family, the children) was said: its words' first place."""
    phrase = str(words).split(" (")[0].strip().lower()
    return low.find(phrase) if phrase else -1
