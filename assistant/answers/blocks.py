"""A section's text as a reader sees it: paragraphs of sentences, lists, tables and formulas.

The composer chooses among units (a sentence, a list item, a table row) but shows them inside their
blocks, so a list keeps its order, a table keeps its header and a formula keeps the lines that define
its terms. This module also knows two things about single sentences: whether one leans on the
sentence before it ("These ...", "Its team:", "该...") and whether one talks about the document
instead of the subject ("This document turns that idea into ...").

>>> [b.kind for b in parse_blocks("Tiers:\\n\\n- Mass\\n- Affluent\\n\\n| a | b |\\n|---|---|\\n| 1 | 2 |")]
['paragraph', 'list', 'table']
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import cached_property, lru_cache
from typing import Literal

from assistant.text import LIST_ITEM, split_sentences

MARKUP = re.compile(r"^\s*(?:[-*+]\s+|\d+[.)]\s+|>\s*)|\*\*|__|`")
FLATTENED_ITEM = re.compile(r"(?<=[.!?:;)\]。])\s+(?=(?:[-*+]|\d{1,2}[.)])\s+\S)")
"""Where a list that was flattened onto one line (a long paragraph cut by sentences) starts its next item."""
TABLE_RULE = re.compile(r"^\s*\|?\s*:?-{2,}")
FORMULA = re.compile(r"(?<![<>=!])=(?!=)|[×÷]|\bdivided by\b|\bmultiplied by\b")

# A sentence that cannot stand alone: it points back at something the reader has not seen.
DEPENDENT = re.compile(
    r"^(?:\(?\s*)(?:these|this|those|that|it|its|it's|they|them|their|theirs|such|"
    r"here|he|she|his|her|hers|the latter|the former|the same|the rest|the other|others|another|"
    r"also|however|but|so|thus|hence|therefore|then|instead|otherwise|likewise|similarly|meanwhile|"
    r"in (?:this|that|these|those|such) (?:case|cases|way|sense)|as a result|for (?:this|that) reason|"
    r"on the other hand|in addition|in turn|by contrast|in contrast|even so|at the same time|"
    r"after (?:this|that)|before (?:this|that)|the (?:two|three|four|five|six) of them|"
    # "The two meet in practice": a number standing for the things just named ("The two banks" names them)
    r"the (?:two|three|four|both)\s+(?![\w\-]+s\b)(?=[a-z])|"
    # a quantifier standing for a noun said before: "Many were tiny ...", "Most of them ..." (not "Many banks")
    r"(?:many|most|some|few|all|both|each|none|several|neither|either|one)\s+(?:of\s+(?:them|these|those)|"
    r"were|are|was|is|have|had|has|did|do|does|can|could|would|will|may|might|must|should|still|also|then))\b",
    re.I,
)
# "A borrower's credit report therefore matters ...": the inference word inside the opening clause points back too.
INFERENCE = re.compile(r"^(?:[\w'’\-]+,?\s+){1,5}(?:therefore|thus|hence|consequently|accordingly)\b", re.I)
# "Always say which one you mean." / 使用时要说明是哪种用法。: the choices it means are in the sentences before.
WHICH_MEANT = re.compile(r"\bwhich (?:one|sense|meaning|use) (?:you |is )?(?:mean|meant|intended)\b|哪种用法|哪一种用法|哪种含义|哪种意思", re.I)
ZH_DEPENDENT = re.compile(r"^(?:这些|这种|这类|这个|这是|这|那些|那种|其|该|此|它们?|他们|她们|上述|前者|后者|两者|因此|所以|但是?|不过|同时|此外|另外|而且)")
LABEL_LEAD = re.compile(r"^(?:its|their|his|her)\s+[\w\- ]{1,20}:", re.I)
# The rest of a sentence a list interrupted ("... covers loans to: - ...; - ...; where the credit line is no
# more than RMB 10 million."): lower case, so "Where a borrower defaults, ..." still stands alone.
CONTINUATION = re.compile(r"^(?:where|which|whose|whom|while|whereas|and|or|nor|unless|provided|except|"
                          r"including|excluding|plus|as well as|together with|rather than)\b")

# A sentence about the knowledge base or the thesis as a text, not about banking.
META = re.compile(
    r"^(?:this|the present|the following|the next) (?:document|note|section|page|summary|chapter|table|list|"
    r"guide|paper|file)\b|\b(?:this|the) (?:document|knowledge base|summary|note) (?:turns|describes|covers|sets out|"
    r"explains|summari[sz]es|gives|lists|shows|collects|is|does not)\b|\bthesis [ab] (?:ends|begins|opens|closes|starts|"
    r"argues|proposes|describes|concludes|reports|sets out|discusses)\b|^(?:see|cf\.)\s|\bsee (?:the )?(?:section|"
    r"document|table) (?:below|above)\b|\bin this knowledge base\b|^(?:below|above|as (?:shown|noted|discussed) "
    r"(?:below|above))\b|\b(?:this|the present) (?:document|note|knowledge base|summary)\b|"
    r"\bour summary of\b|\bis always written out\b|^note on abbreviations\b|本知识库中|一律写全称|\b(?:is|are) not (?:reproduced|repeated|covered) here\b|未在此转载|此处不再(?:重复|赘述)|\b(?:are|is|see|in) (?:in )?[a-z0-9]+(?:-[a-z0-9]+){2,}\)?\.?$|^[\w\u4e00-\u9fff]{1,12}\s?[:：]\s*[a-z0-9]+(?:-[a-z0-9]+)+[.。]?$|\bthesis [ab]'s (?:chapter|author|section)\b|^(?:本文|本节|本文件|以下|下表|如下)|本篇",
    re.I,
)


# A pointer to another document by its id at the end of a sentence ("... payment records (see
# supply-chain-finance)."; "……（参见npl-disposal）。"): the reader cannot follow an id, and the sentence
# stands without it. Taken out when a passage is cut into units, in both languages alike; until
# 2026-12-04 an English sentence carrying one was dropped as a whole (a county-lending list showed
# "1." and "5." with nothing after them), while a Chinese one was shown with the id.
CROSS_REFERENCE = re.compile(r"\s*[(（](?:see|cf\.|参见|详见|见)\s*[a-z0-9]+(?:-[a-z0-9]+)+[^()（）]{0,80}[)）]"
                             r"(?=\s*(?:[.。!?！？;；:：,，]|$)|\s+[A-Za-z\u4e00-\u9fff])"
                             r"|\s*[;；,，]\s*(?:see|参见|详见)\s*[a-z0-9]+(?:-[a-z0-9]+)+(?=\s*[)）])", re.I)
"""... and in the middle of one ("size class under the 2011 SME standard (see sme-size-classification), industry";
"（对包商银行而言仅供参考；参见 credit-factory）", since 2026-12-04, evening); a table cell keeps what it says."""


CJK_GAP = re.compile(r"(?<=[。：；，！？）、])\s+(?=[\u4e00-\u9fff0-9A-Za-z（《“])")
"""A space after Chinese punctuation: a folded line of front matter ("据接管组披露，\\n2005年") or a list mark."""


def clean_sentence(sentence: str) -> str:
    """A sentence without markdown list marks, emphasis or table pipes."""
    text = MARKUP.sub("", sentence).strip()
    return CJK_GAP.sub("", text.strip("|").strip())  # "**目标。** 了解" reads 目标。了解, not 目标。 了解


def whole_sentences(pieces: list[str]) -> list[str]:
    """Clauses a semicolon ended, joined to the sentence they belong to: a sentence cited once, not a "[1]"
    per clause ("大众客户5万元以下……； [1] 富裕客户…… [1]"). Pieces must follow each other in the source."""
    out: list[str] = []
    for piece in pieces:
        if out and out[-1].rstrip().endswith((";", "；")):
            out[-1] = out[-1].rstrip() + ("" if out[-1].rstrip().endswith("；") else " ") + piece.strip()
        else:
            out.append(piece)
    return out


def is_dependent(text: str) -> bool:
    """True when the sentence opens with a word that needs the sentence before it."""
    text = clean_sentence(text)
    return bool(DEPENDENT.match(text) or ZH_DEPENDENT.match(text) or LABEL_LEAD.match(text) or CONTINUATION.match(text)
                or INFERENCE.match(text) or WHICH_MEANT.search(text))


@lru_cache(maxsize=65536)
def is_meta(text: str) -> bool:
    """Remembered: every answer asks it of the same few thousand units of the knowledge base."""
    return bool(META.search(clean_sentence(text)))


def without_meta(item: str) -> str:
    """A list item without its sentences about the document ("See supply-chain-finance."). The marker is
    not a sentence: split with the item, "1." was kept alone when the one sentence after it ended on a
    pointer ("... (thresholds in retail-tier-scheme)."), and the answer showed an empty first step."""
    marker = LIST_ITEM.match(item)
    head, body = (item[:marker.end()], item[marker.end():]) if marker else ("", item)
    sentences = split_sentences(body)
    kept = [s for s in sentences if not is_meta(s)]
    return head + " ".join(kept) if kept and len(kept) < len(sentences) else item


def is_formula(text: str) -> bool:
    return bool(FORMULA.search(text))


def table_cells(line: str) -> list[str]:
    """A table line's cells, trimmed: "| Mass | under RMB 50,000 |" -> ["Mass", "under RMB 50,000"]."""
    return [c.strip() for c in line.strip().strip("|").split("|")]


@dataclass
class Unit:
    """The smallest thing an answer can quote: a sentence, a list item or a table row.

    >>> Unit("| Mass | under RMB 50,000 |", block=0, index=0, kind="row").plain
    'Mass; under RMB 50,000'
    """

    text: str
    block: int
    index: int
    kind: Literal["sentence", "item", "row"]
    columns: tuple[str, ...] = ()

    @cached_property
    def plain(self) -> str:
        """What is shown and counted: no markup, table cells joined by semicolons."""
        if self.kind == "row":
            return "; ".join(clean_sentence(c) for c in table_cells(self.text) if c)
        return clean_sentence(self.text)

    @cached_property
    def matched(self) -> str:
        """What is compared with the question: a table row names its columns ("industry: retail; small
        from: 10 and 100"), or "retail; staff, revenue; 300 or 20,000" says nothing of what it bounds and loses
        to the table's caption."""
        cells = table_cells(self.text) if self.kind == "row" else []
        if not self.columns or len(cells) != len(self.columns):
            return self.plain
        return "; ".join(f"{name}: {clean_sentence(c)}" if name else clean_sentence(c)
                         for name, c in zip(self.columns, cells) if c)

    @cached_property
    def words(self) -> int:
        return answer_words(self.plain)


@dataclass
class Block:
    """Units a reader sees together: a paragraph, a list or a table (with its header lines).

    >>> block = parse_blocks("Three tiers serve retail clients:\\n\\n- Mass\\n- Affluent")[0]
    >>> block.kind, block.lead_in
    ('paragraph', True)
    """

    kind: Literal["paragraph", "list", "table"]
    units: list[Unit] = field(default_factory=list)
    header: list[str] = field(default_factory=list, metadata={"doc": "A table's header and rule lines."})

    @property
    def lead_in(self) -> bool:
        """A paragraph whose last sentence ends with a colon introduces the next block."""
        return self.kind == "paragraph" and bool(self.units) and self.units[-1].text.rstrip().endswith((":", "："))


CJK_CHAR = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
CITATION_MARK = re.compile(r"\[\d+(?:[,\s\d]*)\]")


def answer_words(text: str) -> float:
    """Words as a reader counts them: Latin words, plus one word for every two Chinese characters."""
    text = CITATION_MARK.sub(" ", text)
    cjk = len(CJK_CHAR.findall(text))
    latin = [w for w in re.split(r"\s+", CJK_CHAR.sub(" ", text)) if re.search(r"\w", w)]
    return len(latin) + cjk / 2


def parse_blocks(text: str) -> list[Block]:
    """Cut section text into blocks; list items absorb their indented continuation lines."""
    blocks: list[Block] = []
    current: Block | None = None

    def start(kind: str) -> Block:
        nonlocal current
        current = Block(kind=kind)  # type: ignore[arg-type]
        blocks.append(current)
        return current

    lines = []
    for raw in text.splitlines():
        lines.extend(FLATTENED_ITEM.split(raw) if LIST_ITEM.match(raw) else [raw])
    for raw in lines:
        line = raw.rstrip()
        if not line.strip():
            current = None
            continue
        stripped = line.strip()
        if stripped.startswith("|"):
            block = current if current is not None and current.kind == "table" else start("table")
            if TABLE_RULE.match(stripped) or (not block.header and not block.units):
                block.header.append(stripped)
            else:
                block.units.append(Unit(stripped, len(blocks) - 1, len(block.units), "row",
                                        tuple(clean_sentence(c) for c in table_cells(block.header[0]))))
        elif LIST_ITEM.match(line):
            block = current if current is not None and current.kind == "list" else start("list")
            block.units.append(Unit(stripped, len(blocks) - 1, len(block.units), "item"))
        elif current is not None and current.kind == "list" and raw[:1].isspace() and current.units:
            current.units[-1].text += " " + stripped
        else:
            block = current if current is not None and current.kind == "paragraph" else start("paragraph")
            for sentence in split_sentences(stripped):
                block.units.append(Unit(sentence, len(blocks) - 1, len(block.units), "sentence"))
    kept = [b for b in blocks if b.units]
    for number, block in enumerate(kept):
        for unit in block.units:
            unit.block = number
            if unit.kind != "row":
                unit.text = CROSS_REFERENCE.sub("", unit.text)
    return kept
