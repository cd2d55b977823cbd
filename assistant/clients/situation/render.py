"""The chat's words for a client: the recommendation, a plan section, the follow-up question, in the
message's language, with every cited item numbered as the general answers are ("... [2]").

The knowledge base is written in English, so a Chinese answer frames, labels and explains in Chinese and
quotes the cited recommendation text as the knowledge base words it.
"""

from __future__ import annotations

from assistant.answers.answer import Citation
from assistant.clients.chinese import SECTION_TITLES_ZH, SEGMENT_ZH, chinese_text, product_why_zh, rule_zh, segment_name_zh
from assistant.clients.plans import DAYS, SECTION_TITLES, PlanCitation, PlanItem
from assistant.clients.rules import RuleBook
from assistant.clients.segmentation import Classification
from assistant.clients.situation.recommend import Recommendation
from assistant.clients.situation.shown import DEFAULT_NAME
from assistant.search.store import ChromaStore
from assistant.text import cjk_share, split_sentences

SECTION_ZH = dict(zip(SECTION_TITLES, SECTION_TITLES_ZH))
SECTION_ZH["Working with the client's employees"] = "与客户员工的合作（代发工资、员工福利）"
EN_NOTE_ZH = "（引用内容为知识库英文原文）"


class Cites:
    """Numbers citations in order of first use across the whole answer, one number per passage.

    >>> cites = Cites()
    >>> item.text + cites.mark(item.citations)   # "... [1]"; a passage cited again keeps its number
    >>> cites.citations(advisor.store)   # the numbered Citation list, in order of first use
    """

    def __init__(self) -> None:
        self.index: dict[str, int] = {}
        self.order: list[PlanCitation] = []

    def mark(self, citations: list[PlanCitation]) -> str:
        numbers = []
        for c in citations:
            if c.chunk_id not in self.index:
                self.order.append(c)
                self.index[c.chunk_id] = len(self.order)
            numbers.append(self.index[c.chunk_id])
        return "".join(f" [{n}]" for n in dict.fromkeys(numbers))

    def citations(self, store: ChromaStore) -> list[Citation]:
        chunks = store.get_chunks([c.chunk_id for c in self.order])
        out = []
        for n, c in enumerate(self.order, 1):
            chunk = chunks.get(c.chunk_id)
            out.append(Citation(n=n, doc_id=c.doc_id, title=c.title, section=c.section, source=chunk.source if chunk else "general",
                                text=chunk.text if chunk else "", score=c.score, chunk_id=c.chunk_id))
        return out


def first_sentences(text: str, n: int = 2) -> str:
    sentences = split_sentences(text)[:n]
    return ("" if cjk_share(text) > 0 else " ").join(sentences)  # no space between 。 and 对


def segment_name(rec: Recommendation | Classification, zh: bool) -> str:
    label = rec.segment_label
    return segment_name_zh(rec.segment, label) if zh else label


def recommendation_text(rec: Recommendation, read_as: str, profile: dict, cls: Classification, rules: RuleBook,
                        assumptions: list[str], zh: bool, cites: Cites) -> str:
    if zh:
        lines = [f"**识别结果：** {read_as}",
                 f"**客户分层：{segment_name(rec, True)}。** {rule_zh(profile, cls, rules)}{cites.mark([c for i in rec.rule for c in i.citations][:2])}",
                 "**适合的产品：**"]
        for i, p in enumerate(rec.products, 1):
            product = rules.product(p.id)
            why = product_why_zh(product.needs if product else [], rec.need_ids, rules, rec.segment)
            lines.append(f"{i}. **{p.name_zh or p.name}**（{p.name}）：{why}。{cites.mark(p.citations)}")
        service = in_chinese(rec.service_model.text, rules)
        lines.append(f"**服务模式：** {first_sentences(service or rec.service_model.text)}{cites.mark(rec.service_model.citations)}"
                     + ("" if service else EN_NOTE_ZH))
        check = rec.key_check.text_zh or in_chinese(rec.key_check.text, rules) or rec.key_check.text
        lines.append(f"**首要检查：** {check}{cites.mark(rec.key_check.citations)}")
        lines += [f"_假设：{a}_" for a in assumptions]
        lines.append("_可按同一客户信息生成完整的九部分服务方案（“生成完整方案”按钮或 `advisor plan --describe`）。_")
        return "\n\n".join(lines)
    lines = [f"**Read as:** {read_as}",
             f"**Segment: {rec.segment_label}.** " + " ".join(i.text.rstrip(".") + "." for i in rec.rule)
             + cites.mark([c for i in rec.rule for c in i.citations][:2]),
             "**Products that fit:**"]
    for i, p in enumerate(rec.products, 1):
        lines.append(f"{i}. **{p.name}** ({p.name_zh}): {p.why}.{cites.mark(p.citations)}")
    lines.append(f"**Service model:** {first_sentences(rec.service_model.text)}{cites.mark(rec.service_model.citations)}")
    lines.append(f"**Check first:** {rec.key_check.text}{cites.mark(rec.key_check.citations)}")
    lines += [f"_Assumed: {a}_" for a in assumptions]
    lines.append("_The full nine-section plan can be drafted from the same profile (\"Draft full plan\", or "
                 "`advisor plan --describe`)._")
    return "\n\n".join(lines)


def in_chinese(text: str, rules: RuleBook | None) -> str | None:
    """A plan item's Chinese from the playbook tables ("Days 1-30: ..." keeps its day range), or None."""
    if rules is None:
        return None
    direct = chinese_text(text, rules)
    if direct is not None:
        return direct
    for english, chinese in DAYS:
        if text.startswith(english) and (tail := chinese_text(text[len(english):], rules)):
            return chinese + tail
    return None


def section_text(title: str, items: list[PlanItem], name: str, segment: str, segment_label: str, zh: bool, cites: Cites,
                 rules: RuleBook | None = None) -> str:
    if name in (*DEFAULT_NAME.values(), ""):
        name = "该客户" if zh else "this client"
    if zh:
        shown = [i.text_zh or in_chinese(i.text, rules) for i in items]
        note = "" if all(shown) else EN_NOTE_ZH
        head = f"**{SECTION_ZH.get(title, title)}——{name}，{SEGMENT_ZH.get(segment, segment)}**（摘自该客户的服务方案）{note}："
        return "\n\n".join([head, *(f"- {z or i.text}{cites.mark(i.citations)}" for z, i in zip(shown, items))])
    head = f"**{title} for {name}, {segment_label}** (from the client's plan):"
    return "\n\n".join([head, *(f"- {i.text}{cites.mark(i.citations)}" for i in items)])


def question_text(read_as: str, question: str, zh: bool) -> str:
    if zh:
        return f"**识别结果：** {read_as}\n\n还差一项会影响分层的信息：{question}\n\n_直接在对话中回答，或在客户面板中填写。_"
    return (f"**Read as:** {read_as}\n\nOne thing that decides the segment is missing: {question}\n\n"
            "_Answer in the chat, or fill it in the client panel._")
