"""Quizzes in Chinese: the same questions (same ids, same options in the same order, the same correct
one), worded from the Chinese side of the tables and cited from the Chinese editions of the documents.

Why a second wording of the same question rather than a second generator: a trainee's progress counts
question ids, so a question taken in Chinese and in English is one question; and the distractors drawn
by a seed stay the same, so a trainer can hand out one quiz in both languages.

May import: training.material, training.models, training.questions, training.rule_questions, and the
client side's Chinese wording (assistant.clients.chinese).
"""

from __future__ import annotations

import re
from itertools import combinations

from assistant.clients.chinese import MEASURE_ZH, SEGMENT_ZH, SIZE_ZH, profile_line_zh, rmb, rule_zh
from assistant.clients.profiles import EnterpriseProfile
from assistant.clients.rules import GlossaryEntry, IndustryBounds, Tier
from assistant.clients.segmentation import classify
from assistant.training.material import TrainingKnowledge
from assistant.training.models import Citation, Question
from assistant.training.questions import glossary_option
from assistant.training.rule_questions import (BOUND_TABLES, MEASURE_ORDER, QI_LABELS, SIZE_OPTIONS, _measure_set,
                                               _tier_name)

STANDARD = "按2011年《中小企业划型标准规定》"
TIERS = "按本行零售客户分层方案（示例门槛，以本行校准为准）"
AUM = "在本行的月日均金融资产"
BOUND_ZH = {
    "sme_below": "{std}，“{industry}”行业的企业{measure}低于多少即属于中小企业（任一指标低于上限即可）？",
    "medium_from": "{std}，“{industry}”行业的中小企业{measure}须达到多少（同时达到其他下限），才划为中型而非小型？",
    "small_from": "{std}，“{industry}”行业的中小企业{measure}须达到多少（同时达到其他下限），才划为小型而非微型？",
}
QI_ZH = {"household_financial_net_assets_rmb": "家庭金融净资产", "household_financial_assets_rmb": "家庭金融资产",
         "average_annual_income_rmb": "近三年本人年均收入"}
SIZE_OPTION_ZH = {SIZE_OPTIONS[k]: (SIZE_ZH[k] if k != "large" else "大型（不属于中小企业）") for k in SIZE_OPTIONS}
_EMPLOYEES = re.compile(r"^([\d,]+) employees?$")
_RMB = re.compile(r"^RMB ([\d,]+)$")
_WAN = re.compile(r"^([\d,.]+) 万元 \(RMB [\d,]+\)$")


def in_chinese(questions: list[Question], k: TrainingKnowledge) -> list[Question]:
    """The questions worded in Chinese; a part with no Chinese source stays as it is, never guessed."""
    words = _words(k)
    return [_reworded(q, k, words) for q in questions]


def _reworded(question: Question, k: TrainingKnowledge, words: dict[str, str]) -> Question:
    build = _PROMPTS.get(question.family)
    prompt, explanation = build(k, question.key) if build else (None, None)
    sources = [counterpart(k, c) for c in question.sources]
    return question.model_copy(update={
        "prompt": prompt or question.prompt,
        "options": [option_zh(o, words) for o in question.options],
        "explanation": ((explanation or question.explanation.rsplit(" Source", 1)[0]) + " 出处："
                        + "；".join(c.label for c in sources) + "。"),
        "sources": sources,
    })


def counterpart(k: TrainingKnowledge, citation: Citation) -> Citation:
    """The same place in the document's Chinese edition (same sections in the same order), else itself."""
    twin = k.docs.get(k.chinese_editions.get(citation.doc_id, ""))
    own = k.docs.get(citation.doc_id)
    if twin is None or own is None:
        return citation
    section = None
    if citation.section is not None:
        paths = [s.path for s in own.sections]
        if citation.section in paths and len(twin.sections) == len(own.sections):
            section = twin.sections[paths.index(citation.section)].path
    return Citation(doc_id=twin.id, title=twin.title, section=section)


def option_zh(option: str, words: dict[str, str]) -> str:
    if option in words:
        return words[option]
    if m := _EMPLOYEES.match(option):
        return f"{m.group(1)}人"
    if m := _RMB.match(option):
        return rmb(float(m.group(1).replace(",", "")), "zh")
    if m := _WAN.match(option):
        return rmb(float(m.group(1).replace(",", "")) * 1e4, "zh")
    return option


def _words(k: TrainingKnowledge) -> dict[str, str]:
    """Every option text the generators write, with its Chinese (amounts are converted by pattern)."""
    rules = k.rules
    words = {glossary_option(e): f"{e.zh}（{e.term}）" for e in rules.glossary}
    words.update({_tier_name(t): f"{t.name_zh}（{t.name}）" for t in rules.tiers.tiers if t.name_zh})
    words.update({p.label: SEGMENT_ZH.get(p.id, p.label) for p in rules.playbook.segments})
    words.update(SIZE_OPTION_ZH)
    for size in (1, 2, 3):
        for measures in combinations(MEASURE_ORDER, size):
            words[_measure_set(measures)] = "、".join(MEASURE_ZH[m] for m in measures) + ("（仅此一项）" if size == 1 else "")
    return words


def _entry(k: TrainingKnowledge, term: str) -> GlossaryEntry | None:
    return next((e for e in k.rules.glossary if e.term == term), None)


def _glossary_definition(k: TrainingKnowledge, key: str) -> tuple[str | None, str | None]:
    e = _entry(k, key)
    if e is None or not e.definition_zh:
        return None, None
    return f"以下定义说的是哪个术语？“{e.definition_zh}”", f"{e.zh}（{e.term}）：{e.definition_zh}"


def _glossary_translation(k: TrainingKnowledge, key: str) -> tuple[str | None, str | None]:
    e = _entry(k, key)
    if e is None:
        return None, None
    return f"“{e.zh}”对应的英文术语是哪一个？", f"{e.zh}即“{e.term}”" + (f"：{e.definition_zh}" if e.definition_zh else "。")


def _amount_zh(measure: str, value: float) -> str:
    """The tables keep money in 万元; 120,000万元 reads 12亿元."""
    return f"{value:,.0f}人" if measure == "employees" else rmb(value * 1e4, "zh")


def _industry_zh(bounds: IndustryBounds) -> str:
    def part(table: dict) -> str:
        return "且".join(f"{MEASURE_ZH[m]}{_amount_zh(m, v)}" for m, v in table.items())
    below = "或".join(f"{MEASURE_ZH[m]}低于{_amount_zh(m, v)}" for m, v in bounds.sme_below.items())
    return (f"{bounds.label_zh or bounds.label}：{below}即为中小企业；{part(bounds.medium_from)}起为中型；"
            f"{part(bounds.small_from)}起为小型；其余为微型。")


def _sme_measures(k: TrainingKnowledge, key: str) -> tuple[str | None, str | None]:
    bounds = k.rules.sme.industries.get(key)
    if bounds is None:
        return None, None
    return f"{STANDARD}，“{bounds.label_zh or bounds.label}”行业的企业规模由哪些指标决定？", _industry_zh(bounds)


def _sme_bound(k: TrainingKnowledge, key: str) -> tuple[str | None, str | None]:
    industry, table, measure = (key.split("/") + ["", "", ""])[:3]
    bounds = k.rules.sme.industries.get(industry)
    if bounds is None or table not in BOUND_TABLES or measure not in MEASURE_ZH:
        return None, None
    prompt = BOUND_ZH[table].format(std=STANDARD, industry=bounds.label_zh or bounds.label, measure=MEASURE_ZH[measure])
    return prompt, _industry_zh(bounds)


def _tier(k: TrainingKnowledge, tier_id: str) -> Tier | None:
    return next((t for t in k.rules.tiers.tiers if t.id == tier_id), None)


def _tiers_zh(k: TrainingKnowledge) -> str:
    parts = [f"{t.name_zh or t.name}{rmb(t.min_aum_rmb, 'zh')}起" + (f"、低于{rmb(t.max_aum_rmb, 'zh')}" if t.max_aum_rmb else "")
             for t in k.rules.tiers.tiers]
    return f"各层（{AUM}）：" + "；".join(parts) + "。"


def _tier_threshold(k: TrainingKnowledge, key: str) -> tuple[str | None, str | None]:
    tier = _tier(k, key)
    if tier is None or not tier.name_zh:
        return None, None
    return f"{TIERS}，客户{AUM}达到多少即进入{tier.name_zh}？", _tiers_zh(k)


def _tier_service(k: TrainingKnowledge, key: str) -> tuple[str | None, str | None]:
    tier = _tier(k, key)
    if tier is None or not tier.service_model_zh or not tier.name_zh:
        return None, None
    masked = tier.service_model_zh.replace(tier.name_zh, "…").replace(tier.name_zh.removesuffix("客户"), "…")
    return f"{TIERS}，哪一层客户按以下方式服务：“{masked}”？", f"{tier.name_zh}：{tier.service_model_zh}"


def _tier_aum(k: TrainingKnowledge, key: str) -> tuple[str | None, str | None]:
    tier_id, _, amount = key.partition("/")
    tier = _tier(k, tier_id)
    if tier is None or not amount.isdigit():
        return None, None
    return (f"某客户{AUM}为{rmb(float(amount), 'zh')}。{TIERS}，该客户属于哪一层？",
            f"{rmb(float(amount), 'zh')}属于{tier.name_zh or tier.name}。{_tiers_zh(k)}")


def _qualified_investor(k: TrainingKnowledge, key: str) -> tuple[str | None, str | None]:
    qi = k.rules.tiers.qualified_investor
    if qi is None or key not in QI_ZH:
        return None, None
    rule = "；".join(f"{QI_ZH[f]}不低于{rmb(getattr(qi, f), 'zh')}" for f in QI_LABELS)
    return (f"按2018年资管新规，具有2年以上投资经历的自然人，{QI_ZH[key]}至少达到多少才是合格投资者？",
            f"自然人须具有2年以上投资经历，且满足以下之一：{rule}。")


def _scenario(k: TrainingKnowledge, key: str, ask: str) -> tuple[str | None, str | None]:
    profile = k.profiles.get(key)
    if profile is None:
        return None, None
    industry = ""
    if isinstance(profile, EnterpriseProfile):
        bounds = k.rules.sme.industries[profile.industry]
        industry = bounds.label_zh or bounds.label
    result = classify(profile, k.rules)
    return f"{ask}{profile_line_zh(profile, industry)}", rule_zh(profile.model_dump(mode="json"), result, k.rules)


_PROMPTS = {
    "glossary-definition": _glossary_definition,
    "glossary-translation": _glossary_translation,
    "sme-measures": _sme_measures,
    "sme-bound": _sme_bound,
    "tier-threshold": _tier_threshold,
    "tier-service": _tier_service,
    "tier-aum": _tier_aum,
    "qualified-investor": _qualified_investor,
    "scenario-segment": lambda k, key: _scenario(k, key, "按本行客户分层规则，该客户应作为哪一类客户服务？"),
    "scenario-size": lambda k, key: _scenario(k, key, f"{STANDARD}，该企业属于哪一规模？"),
}
