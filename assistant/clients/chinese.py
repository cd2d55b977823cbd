"""The Chinese the client side writes: segment and section names, amounts in 万元/亿元, the rule that
decided a segment, why a product fits. One place, so the chat and the Chinese plan say it alike.

May import: assistant.clients.rules and assistant.clients.segmentation (never plans or the chat, which
import this).

>>> rmb(900_000, "zh"), SEGMENT_ZH["wealth"]
('90万元', '财富客户')
"""

from __future__ import annotations

from assistant.clients.rules import RuleBook
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
