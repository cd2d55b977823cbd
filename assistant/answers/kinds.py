"""What kind of answer a question wants, from its cue words in English or Chinese.

A manager who asks "why" wants reasons, one who asks "how should we" wants the steps, one who asks
"what is" wants the defining sentence first. The kind decides the shape of the answer, not which
document answers it, so a wrong guess costs form, never content; cues are checked in the order below
because "how is RAROC calculated" is a calculation before it is a procedure.

>>> question_kind("How is RAROC calculated?")
'calculation'
>>> question_kind("两增两控是什么？")
'definition'
"""

from __future__ import annotations

import re
from typing import Literal

Kind = Literal["definition", "procedure", "comparison", "reasons", "calculation", "fact"]
KINDS: tuple[Kind, ...] = ("definition", "procedure", "comparison", "reasons", "calculation", "fact")

_EN: list[tuple[Kind, str]] = [
    ("calculation", r"\b(calculat\w*|comput\w*|formula|work(ed)? out (the|a|an|how|what)|how (is|are|do (i|we|you)) \w+ "
                    r"(measured|derived|scored)|what (is|are) the (formula|ratio)|score each|in today's money)\b"),
    ("comparison", r"(\bbetween .+ and .+[,?]|\bwhich .+,? and which\b|\bwhen should .+,? and when\b|"
                   r"\bis it \w[\w\s-]* or \w[\w\s-]*\?$|\bX versus Y\b)"),
    ("comparison", r"\b(versus|vs\.?|compared (to|with)|comparison|differ\w*|difference|distinguish|rather than|"
                   r"which is better|better than|as opposed to|contrast)\b"),
    ("reasons", r"(^why\b|\bwhy (do|does|did|is|are|was|were|should|would|can|not)\b|\breasons?\b|\bwhat (caused|went wrong|"
                r"led to)\b|\blessons?\b|\bwhat can .* learn\b|\bhow come\b|\bexplain why\b)"),
    ("procedure", r"\b(how (should|do|can|would|to|might)|steps?|walk me through|propose|design|set up|roll out|"
                  r"plan (for|to)|outline|what should (i|we|a|an|the|our|my)|checklist|what (do|must) (i|we) (do|check|"
                  r"write|record)|process for|procedure|implement\w*|go about|what (can|must|do) we (change|do|prepare)|"
                  r"what rules|which (steps|phases)|what phases|where should (we|i) (put|start|focus)|give me an? [\w\s-]*plan)\b"),
    ("definition", r"(^what (is|are|does|do) (a |an |the )?[\w\s\-'+]{1,40}(mean|stand for)?\??$|\bwhat does .* mean\b|"
                   r"\bdefin\w*|\bmeaning of\b|\bwhat is meant by\b|\bstand for\b|^what (is|are) (a|an|the)?\s*[\w\-+' ]{1,30}\?$|"
                   r"\brefer to\b|\bwhat kind of (problem|thing|product)\b|^what is [\w\s-]{1,30}, and\b)"),
]
_ZH: list[tuple[Kind, str]] = [
    ("calculation", r"(怎么算|如何计算|怎样计算|计算|公式|算出|测算|折现)"),
    ("comparison", r"(区别|不同|不一样|差别|差异|对比|比较|相比|哪个好|还是.*更|与.*有何|跟.*有什么)"),
    ("reasons", r"(为什么|为何|原因|教训|怎么会|何以)"),
    ("procedure", r"(怎么做|如何做|怎么办|步骤|流程|方案|怎样|如何|应该怎么|该怎么|要怎么|怎么设计|怎么安排|清单|要做什么|做哪些|"
                  r"注意些?什么|准备好|核对|入手|切进去|从哪里|重点盯|怎么一步步|哪几件事|承担哪些)"),
    ("definition", r"(是什么|什么是|指什么|是指|含义|定义|什么意思|意思是)"),
]
_EN_RULES = [(kind, re.compile(pattern, re.I)) for kind, pattern in _EN]
_ZH_RULES = [(kind, re.compile(pattern)) for kind, pattern in _ZH]


FIGURE = re.compile(r"\d+(?:[.,]\d+)*\s*(?:%|‰|bn|billion|million|m\b|万|亿|元)?")
_ASKS_AMOUNT = re.compile(r"\b(how (much|many|far|fast|long)|what (return|share|cap|is (its|the) \w+))\b|多少|多大|几|多快", re.I)


ClientSide = Literal["retail", "business"]
_RETAIL = re.compile(r"\b(?:retail|personal|individual customer|household|depositor|saver|retiree|pensioner|affluent|"
                     r"private[- ]banking client)s?\b|个人客户|零售|储户|老年客户|富裕客户|大众客户|私行客户|退休", re.I)
_BUSINESS = re.compile(r"\b(?:major client|corporate|big client|large client|SOE|group client|key account|company|"
                       r"companies|firm|enterprise|business(?:es)?)s?\b|大客户|对公|国企|集团|企业|公司", re.I)


_PARTS = re.compile(
    r"\bwhat (?:should|must|does|do|would) (?:go|goes) into\b|\bsection by section\b|"
    r"\bwhat (?:should|must|does|do|would) (?:it|they|this|that|(?:the|a|an|our|my|such a) [\w\s-]{1,30}?) (?:contain|cover|include)\b|"
    r"\b(?:what|which) (?:parts|sections|components|elements|headings)\b|"
    r"包含哪|包括哪|写哪些|哪几块|哪几部分|由哪些部分|哪些部分|组成部分", re.I)


def asks_for_parts(question: str) -> bool:
    """Whether the question asks what a document or plan is made of ("what should go into it", "里面应该写哪几块
    内容"): it wants the list of parts, which a section that only says what the thing is for does not give."""
    return bool(_PARTS.search(" ".join(question.split())))


def client_side(question: str) -> ClientSide | None:
    """Whose business the question is about when it says so one way only: persons (retail) or firms; None when it
    names both or neither."""
    retail, business = bool(_RETAIL.search(question)), bool(_BUSINESS.search(question))
    return "retail" if retail and not business else "business" if business and not retail else None


def gives_figures(question: str) -> bool:
    """A question that gives two figures or more and asks for an amount: it wants the working."""
    text = " ".join(question.strip().split())
    return len(FIGURE.findall(text)) >= 2 and bool(_ASKS_AMOUNT.search(text))


def question_kind(question: str) -> Kind:
    """The first kind whose cues occur; a question that gives two figures and asks for an amount
    wants the working (a calculation), whatever its wording."""
    text = " ".join(question.strip().split())
    for kind, pattern in _ZH_RULES:
        if pattern.search(text):
            return kind
    if gives_figures(text):
        return "calculation"
    for kind, pattern in _EN_RULES:
        if pattern.search(text):
            return kind
    return "fact"
