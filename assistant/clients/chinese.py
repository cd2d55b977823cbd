"""The Chinese the client side writes: segment and section names, amounts in 万元/亿元, the rule that
decided a segment, why a product fits. One place, so the chat and the Chinese plan say it alike.

May import: assistant.clients.profiles, rules and segmentation (never plans or the chat, which import
this).

>>> rmb(900_000, "zh"), SEGMENT_ZH["wealth"]
('90万元', '财富客户')
"""

from __future__ import annotations

from assistant.clients.profiles import EnterpriseProfile, IndividualProfile
from assistant.clients.rules import RuleBook, Tier
from assistant.clients.segmentation import FIELD_OF, Classification

SEGMENT_ZH = {"micro-business": "微型企业", "small-business": "小型企业", "medium-enterprise": "中型企业",
              "supply-chain-supplier": "供应链客户", "major-client": "大客户", "mass-retail": "大众客户", "affluent": "贵宾客户",
              "wealth": "财富客户", "private-banking": "私人银行客户"}
SEGMENT_EN = {"micro-business": "Micro business", "small-business": "Small business", "medium-enterprise": "Medium enterprise",
              "supply-chain-supplier": "Supply-chain", "major-client": "Major client", "mass-retail": "Mass", "affluent": "Affluent",
              "wealth": "Wealth", "private-banking": "Private banking"}
# The nine plan section titles in Chinese, in the order of plans.SECTION_TITLES.
SECTION_TITLES_ZH = ("客户概况与分层诊断", "需求分析", "推荐产品组合", "服务模式与团队", "客户维护节奏与CRM动作",
                     "定价与盈利", "风险与合规检查", "考核指标", "下一步（30/60/90天）")
STAGE_ZH = {"retiree": "退休", "pre-retiree": "临近退休", "young-family": "年轻家庭", "established-family": "成熟家庭",
            "young-professional": "年轻职场人士", "student": "学生", "adult": "成年人"}
SIZE_ZH = {"micro": "微型", "small": "小型", "medium": "中型", "large": "大型"}
MEASURE_ZH = {"employees": "从业人员", "operating_revenue": "营业收入", "total_assets": "资产总额"}


def segment_name_zh(segment: str, label: str) -> str:
    """大客户（Major client ...）: the Chinese segment name with the classifier's English label beside it."""
    return f"{SEGMENT_ZH.get(segment, segment)}（{label}）"


def rmb(value: float, lang: str) -> str:
    """RMB 900,000 / 90万元 / 3.2亿元: amounts as each reader writes them."""
    if lang != "zh":
        return f"RMB {value:,.0f}"
    if value >= 1e8:
        return f"{value / 1e8:.4g}亿元"
    if value >= 1e4:
        return f"{value / 1e4:.6g}万元"
    return f"{value:,.0f}元"


def rule_zh(profile: dict, cls: Classification, rules: RuleBook) -> str:
    """The deciding rule in Chinese, from the same tables the classifier read."""
    if cls.client_type == "individual":
        tier = next(t for t in rules.tiers.tiers if t.id == cls.value_tier)
        return (f"在我行资产{rmb(profile['aum_rmb'], 'zh')}，属于{tier.name_zh}（{rmb(tier.min_aum_rmb, 'zh')}起）；"
                f"生命周期阶段：{STAGE_ZH.get(cls.life_stage or '', cls.life_stage)}。")
    bounds = rules.sme.industries[profile["industry"]]

    def fmt(measure: str, value: float) -> str:  # bounds are in 万元; 6,800,000万元 reads 680亿元
        return f"{value:,.0f}人" if measure == "employees" else rmb(value * 1e4, "zh")
    have = "、".join(f"{MEASURE_ZH[m]}{fmt(m, (profile.get(FIELD_OF[m]) or 0) / (1 if m == 'employees' else 1e4))}" for m in bounds.measures)
    table = {"large": bounds.sme_below, "medium": bounds.medium_from, "small": bounds.small_from, "micro": bounds.small_from}[cls.size_class]
    limits = "、".join(f"{MEASURE_ZH[m]}{fmt(m, b)}" for m, b in table.items())
    verdict = {"large": f"均不低于中小企业上限（{limits}），为大型企业", "medium": f"达到中型企业下限（{limits}），为中型企业",
               "small": f"达到小型企业下限（{limits}）、未达到中型企业下限，为小型企业",
               "micro": f"未全部达到小型企业下限（{limits}），为微型企业"}[cls.size_class]
    text = f"{bounds.label_zh}（2011年标准）：{have}，{verdict}"
    if cls.segment == "supply-chain-supplier":
        role = "供应商" if profile.get("supply_chain_role") == "supplier" else "经销商"
        text += f"；作为{profile.get('anchor_firm')}的{role}，可依托核心企业信用开展供应链融资（1+N），归入供应链客户"
    elif cls.segment == "major-client":
        text += "；按大客户（战略客户）覆盖" if cls.size_class != "large" else "；大型企业归入大客户"
    return text + "。"


def product_why_zh(needs: list[str], stated: list[str], rules: RuleBook, segment: str) -> str:
    said = [rules.need(n).label_zh for n in needs if n in stated and rules.need(n)]
    usual = [rules.need(n).label_zh for n in needs if n not in stated and rules.need(n)]
    if said:
        return f"客户提出了{'、'.join(said)}需求"
    name = SEGMENT_ZH.get(segment, segment)
    return f"{name if name.endswith('客户') else name + '客户'}通常需要{'、'.join(usual)}"  # 财富客户, not 财富客户客户


def profile_line_zh(profile: EnterpriseProfile | IndividualProfile, industry: str = "") -> str:
    """The client in one Chinese line, as the plan's summary opens."""
    if isinstance(profile, EnterpriseProfile):
        return (f"{profile.name}：{industry}企业" + (f"，位于{profile.region}" if profile.region else "")
                + f"，从业人员{profile.employees:,}人，营业收入{rmb(profile.operating_revenue_rmb, 'zh')}"
                + (f"，资产总额{rmb(profile.total_assets_rmb, 'zh')}" if profile.total_assets_rmb is not None else "")
                + (f"，信用评级{profile.credit_rating}" if profile.credit_rating else "")
                + f"；与本行合作{profile.relationship_years:g}年。")
    return (f"{profile.name}：{profile.age}岁" + (f"，{profile.occupation}" if profile.occupation else "")
            + (f"，{profile.region}" if profile.region else "")
            + f"；在我行资产{rmb(profile.aum_rmb, 'zh')}，年收入{rmb(profile.annual_income_rmb, 'zh')}"
            + (f"，风险偏好{profile.risk_appetite}" if profile.risk_appetite else "，尚未做风险测评")
            + f"；与本行合作{profile.relationship_years:g}年。")


def tier_service(tier: Tier, language: str) -> str:
    """A value tier's service promise as a plan item (Chinese where the tier table has it)."""
    if language == "zh":
        return (f"{tier.name_zh or tier.name}服务：{tier.service_model_zh or tier.service_model}"
                f"覆盖：{tier.coverage_zh or tier.coverage}（示例）。")
    return f"{tier.name} tier service: {tier.service_model} Coverage: {tier.coverage} (illustrative)."


def chinese_text(text: str, rules: RuleBook) -> str | None:
    """The Chinese of an English playbook or tier-service sentence, for the chat, which quotes items of an
    English plan; None when the tables have no Chinese for it."""
    table: dict[str, str] = {tier_service(t, "en"): tier_service(t, "zh") for t in rules.tiers.tiers if t.service_model_zh}
    for play in rules.playbook.segments:
        words = rules.playbook_zh.get(play.id)
        if words is None:
            continue
        table[play.service_model], table[play.team] = words.service_model, words.team
        for field in ("cadence", "pricing", "risks", "kpis"):
            table.update(zip(getattr(play, field), getattr(words, field)))
        for day in ("d30", "d60", "d90"):
            table.update(zip(getattr(play.next_steps, day), getattr(words.next_steps, day)))
    return table.get(text)
