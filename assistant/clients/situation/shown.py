"""How a read fact reads to a banker, in the message's language: "revenue RMB 900,000", "营业收入90万元"."""

from __future__ import annotations

from assistant.clients.chinese import rmb
from assistant.clients.plans import map_needs
from assistant.clients.rules import RuleBook

FAMILY = {"single": ("single", "单身"), "couple": ("married, no children", "已婚无子女"),
          "young-children": ("young children", "有年幼子女"), "older-children": ("older children", "子女已长大"),
          "empty-nest": ("children grown up and gone", "子女已独立"), "retired": ("retired", "已退休")}
RISK = {"C1": ("conservative", "保守型"), "C2": ("cautious", "稳健型"), "C3": ("balanced", "平衡型"), "C4": ("growth", "成长型"),
        "C5": ("aggressive", "进取型")}
OWNERSHIP = {"state-owned": "国有企业", "private": "民营企业", "listed-private": "上市民营企业", "local-government-platform": "地方政府融资平台",
             "foreign": "外资企业", "collective": "集体企业", "individual-business": "个体工商户"}
ROLE = {"supplier": ("supply-chain supplier", "供应链上游供应商"), "dealer": ("supply-chain dealer", "供应链下游经销商"),
        "anchor": ("anchor (core) firm", "核心企业"), "none": ("no supply-chain role", "无供应链角色")}


DEFAULT_NAME = {"en": "Client from the chat", "zh": "对话中的客户"}
INDUSTRY_EN = {"industry": "industry (manufacturing)", "software_it": "software and IT", "leasing_business_services": "leasing and business services",
               "real_estate_development": "real-estate development", "other": "other industries"}


def show_fact(field: str, value, lang: str, rules: RuleBook | None = None) -> str:
    zh = lang == "zh"
    if field == "client_type":
        return ("企业客户" if value == "enterprise" else "个人客户") if zh else f"{value} client"
    if field == "industry":
        bounds = rules.sme.industries.get(value) if rules else None
        if zh and bounds and bounds.label_zh:
            return bounds.label_zh
        return INDUSTRY_EN.get(value, str(value).replace("_", " "))
    money = {"operating_revenue_rmb": ("revenue", "营业收入"), "total_assets_rmb": ("total assets", "资产总额"),
             "aum_rmb": ("AUM at the bank", "在我行资产"), "annual_income_rmb": ("annual income", "年收入")}
    if field in money:
        en, cn = money[field]
        return f"{cn}{rmb(value, lang)}" if zh else f"{en} {rmb(value, lang)}"
    simple = {
        "employees": lambda v: (f"{v:,} employees" if v != 1 else "1 employee", f"员工{v}人"),
        "age": lambda v: (f"age {v}", f"{v}岁"),
        "dependents": lambda v: (f"{v} child" + ("ren" if v != 1 else ""), f"{v}个孩子"),
        "family_situation": lambda v: FAMILY.get(v, (v, v)),
        "risk_appetite": lambda v: (f"risk appetite {v} ({RISK.get(v, ('', ''))[0]})", f"风险偏好{v}（{RISK.get(v, ('', ''))[1]}）"),
        "ownership": lambda v: (str(v), OWNERSHIP.get(v, str(v))),
        "supply_chain_role": lambda v: ROLE.get(v, (v, v)),
        "anchor_firm": lambda v: (f"anchor {v}", f"核心企业{v}"),
        "business_owner": lambda v: ("business owner", "企业主"),
        "stated_needs": lambda v: (f"need: {v}", f"需求：{v}"),
    }
    en, cn = simple[field](value) if field in simple else (str(value), str(value))
    return cn if zh else en


def stated_need(piece: str, need_ids: list[str], rules: RuleBook, client_type: str | None, lang: str) -> str:
    """The need as the profile keeps it: the words written, plus the needs vocabulary's own keyword when the
    plan drafter would not map the words to the same need (so chat and plan agree)."""
    text = piece.strip(" .。？?")[:400]
    mapped = {n.id for n in map_needs([text], rules.needs, client_type or "enterprise")[text]}
    extra = []
    for need_id in need_ids:
        need = rules.need(need_id)
        if need and need_id not in mapped:
            zh_words = [k for k in need.keywords if not k.isascii()]
            extra.append((zh_words[0] if lang == "zh" and zh_words else need.keywords[0]))
    return f"{text} ({', '.join(extra)})" if extra else text


ORDER = ("name", "industry", "ownership", "employees", "operating_revenue_rmb", "total_assets_rmb", "supply_chain_role",
         "anchor_firm", "age", "occupation", "family_situation", "dependents", "aum_rmb", "annual_income_rmb", "risk_appetite",
         "business_owner")


def facts_summary(facts: dict, lang: str, rules: RuleBook | None = None) -> str:
    """The whole client as read so far, for the "Read as:" line: "catering, 6 employees, revenue RMB 900,000, need: ..."."""
    parts = [show_fact(k, facts[k], lang, rules) for k in ORDER
             if facts.get(k) not in (None, "", False) and not (k == "supply_chain_role" and facts[k] == "none")
             and not (k == "name" and facts[k] in DEFAULT_NAME.values())]
    if not parts and facts.get("client_type"):
        parts.append(show_fact("client_type", facts["client_type"], lang, rules))
    parts += [show_fact("stated_needs", n, lang, rules) for n in facts.get("stated_needs") or []]
    sep = "，" if lang == "zh" else ", "
    return sep.join(parts) or ("（未读到客户信息）" if lang == "zh" else "(nothing read yet)")
