"""Do the facts decide the segment? If so, the profile (saying what was assumed); if not, one question.

A missing figure matters only when it could change the segment: the classifier is run at the extremes of
every missing measure (0 and the largest allowed value; each class bound is monotone in each measure), and
the facts decide the segment when every corner gives the same one. So "catering, 6 employees" needs no
revenue (micro whatever it is), while "construction, revenue 5,000 万元" needs total assets.
"""

from __future__ import annotations

from itertools import product

from pydantic import BaseModel, Field

from assistant.clients.profiles import EnterpriseProfile, validate_profile
from assistant.clients.chinese import SEGMENT_EN, SEGMENT_ZH, rmb
from assistant.clients.rules import INDUSTRIES, RuleBook
from assistant.clients.segmentation import FIELD_OF, classify
from assistant.clients.situation.facts import ClientFacts, Missing
from assistant.clients.situation.shown import DEFAULT_NAME

HIGH = {"employees": 10_000_000, "operating_revenue_rmb": 1e15, "total_assets_rmb": 1e15}
ASK_ORDER = ("operating_revenue_rmb", "employees", "total_assets_rmb")
LABEL = {"operating_revenue_rmb": ("annual operating revenue", "年营业收入"), "employees": ("number of employees", "员工人数"),
         "total_assets_rmb": ("total assets", "资产总额")}
class Settled(BaseModel):
    """The strict profile when the facts decide the segment, else the one question that would."""

    profile: dict | None = None
    missing: list[Missing] = Field(default_factory=list)
    question: str | None = None
    assumptions: list[str] = Field(default_factory=list)


def settle(facts: ClientFacts, rules: RuleBook, lang: str = "en") -> Settled:
    zh = lang == "zh"
    if facts.client_type is None:
        return Settled(missing=[Missing(field="client_type", why="enterprise and individual clients are segmented differently")],
                       question="这位客户是企业还是个人？企业按2011年中小企业划型标准分层，个人按在我行资产分层。" if zh else
                       "Is the client a company or a person? Companies are sized under the 2011 SME standard, "
                       "individuals by the assets they hold at the bank.")
    if facts.client_type == "individual":
        return _individual(facts, rules, zh)
    return _enterprise(facts, rules, zh)


def _segments(facts: ClientFacts, rules: RuleBook, industry: str, missing: list[str]) -> set[str]:
    segments = set()
    for corner in product((0, 1), repeat=len(missing)):
        data = facts.to_data("x") | {"industry": industry}
        for field, high in zip(missing, corner):
            data[field] = HIGH[field] if high else 0
        data.setdefault("employees", 0)
        data.setdefault("operating_revenue_rmb", 0)
        segments.add(classify(EnterpriseProfile.model_validate(data), rules).segment)
    return segments


def _enterprise(facts: ClientFacts, rules: RuleBook, zh: bool) -> Settled:
    assumptions: list[str] = []
    industry = facts.industry
    if industry is None:
        options = {i: _segments(facts, rules, i, _missing_measures(facts, rules, i)) for i in INDUSTRIES}
        found = set().union(*options.values())
        if len(found) > 1:
            return Settled(missing=[Missing(field="industry", why="the 2011 size bounds differ by industry")],
                           question=("这家企业属于什么行业（如餐饮、批发、零售、制造）？按2011年标准，不同行业的规模划分界限不同。" if zh else
                                     "What does the company do (catering, wholesale, retail, manufacturing ...)? The 2011 size "
                                     "bounds differ by industry, and these figures give different segments in different industries."))
        industry = "other"
        seg = next(iter(found))
        assumptions.append(f"未说明行业：在2011年标准的所有行业中结果相同（{SEGMENT_ZH.get(seg, seg)}），按“其他行业”处理。" if zh else
                           f"Industry not stated: every industry of the 2011 standard gives the same segment ({seg}), so it is "
                           "treated as 'other industries'.")
    missing = _missing_measures(facts, rules, industry)
    segments = _segments(facts, rules, industry, missing)
    label = rules.sme.industries[industry]
    if len(segments) > 1:
        ask = next(f for f in ASK_ORDER if f in missing)
        name_en, name_zh = LABEL[ask]
        known = _known_text(facts, zh)
        options = "或".join(SEGMENT_ZH.get(s, s) for s in sorted(segments)) if zh else \
            " or ".join(f"a {SEGMENT_EN.get(s, s).lower()}" for s in sorted(segments))
        return Settled(missing=[Missing(field=ask, why=f"decides the segment: {' or '.join(sorted(segments))}")],
                       question=(f"请问其{name_zh}是多少？按2011年标准，{label.label_zh}企业（{known}）可能属于{options}，取决于{name_zh}。" if zh else
                                 f"What {'are' if ask == 'total_assets_rmb' else 'is'} its {name_en}? Under the 2011 standard a {label.label.lower()} firm with {known} could be "
                                 f"{options}, depending on its {name_en}."))
    data = facts.to_data(DEFAULT_NAME["zh" if zh else "en"]) | {"industry": industry}
    seg = next(iter(segments))
    for field in ("employees", "operating_revenue_rmb", *missing):
        if data.get(field) is None:
            data[field] = 0
            name_en, name_zh = LABEL[field]
            assumptions.append(f"未提供{name_zh}：不影响分层（无论多少均为{SEGMENT_ZH.get(seg, seg)}），按0记录。" if zh else
                               f"{name_en.capitalize()} not stated: it does not change the segment ({seg} whatever it is); recorded as 0.")
    return Settled(profile=validate_profile(data).model_dump(mode="json", exclude_none=True), assumptions=assumptions,
                   missing=[Missing(field=f, why="not stated; did not change the segment") for f in missing])


def _missing_measures(facts: ClientFacts, rules: RuleBook, industry: str) -> list[str]:
    fields = [FIELD_OF[m] for m in rules.sme.industries[industry].measures]
    return [f for f in fields if getattr(facts, f) is None]


def _known_text(facts: ClientFacts, zh: bool) -> str:
    parts = []
    if facts.employees is not None:
        parts.append(f"员工{facts.employees}人" if zh else f"{facts.employees} employees")
    for field in ("operating_revenue_rmb", "total_assets_rmb"):
        value = getattr(facts, field)
        if value is not None:
            parts.append(f"{LABEL[field][1]}{rmb(value, 'zh')}" if zh else f"{LABEL[field][0]} {rmb(value, 'en')}")
    return ("，".join(parts) if zh else " and ".join(parts)) or ("其他信息未知" if zh else "no figures yet")


def _individual(facts: ClientFacts, rules: RuleBook, zh: bool) -> Settled:
    if facts.aum_rmb is None:
        bounds = rules.tiers.tiers
        steps = "，".join(f"{t.name_zh or t.name}{rmb(t.min_aum_rmb, 'zh')}起" for t in bounds[1:]) if zh else \
            ", ".join(f"{t.name.lower()} from {rmb(t.min_aum_rmb, 'en')}" for t in bounds[1:])
        return Settled(missing=[Missing(field="aum_rmb", why="the value tier is set by assets held at the bank")],
                       question=(f"客户在我行的金融资产（存款、理财、基金等，AUM）大约多少？客户层级由此决定：{steps}。" if zh else
                                 f"How much does the client hold at our bank (AUM: deposits, wealth products, funds)? The value "
                                 f"tier is set by it: {steps}."))
    data = facts.to_data(DEFAULT_NAME["zh" if zh else "en"])
    assumptions: list[str] = []
    missing: list[Missing] = []
    if facts.age is None:
        age = 65 if facts.family_situation == "retired" else (22 if "student" in (facts.occupation or "") or "学生" in (facts.occupation or "") else 40)
        data["age"] = age
        missing.append(Missing(field="age", why="refines the life stage, not the value tier"))
        assumptions.append(f"未提供年龄：按{age}岁估计生命周期阶段，请补充实际年龄。" if zh else
                           f"Age not stated: the life stage assumes {age}; give the age to refine it.")
    if facts.risk_appetite is None:
        missing.append(Missing(field="risk_appetite", why="no investment product may be recommended before a risk assessment"))
    return Settled(profile=validate_profile(data).model_dump(mode="json", exclude_none=True), assumptions=assumptions, missing=missing)
