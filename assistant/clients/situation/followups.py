"""Which part of the client's plan a follow-up asks about: "what pricing?", "how often should we visit?",
"what risks?", "和他的员工怎么合作？". Questions that match none are answered by retrieval filtered to the
client's segment, as the plan's own citations are.
"""

from __future__ import annotations

import re

from assistant.clients.plans import SECTION_TITLES, Plan, PlanDrafter, PlanItem
from assistant.clients.rules import RuleBook

EMPLOYEES = "employees"
EMPLOYEE_NEEDS = ("payroll", "employee-benefits", "pension")
INTENTS = [
    (EMPLOYEES, r"employee|staff|payroll|workers|workforce|salar|员工|工资|代发|职工|工人|雇员"),
    (SECTION_TITLES[5], r"pric|\brates?\b|interest|\bfees?\b|margin|raroc|cost of|定价|利率|价格|费用|收费|利息|报价"),
    (SECTION_TITLES[4], r"visit|how often|contact|cadence|\bmeet|\bcall|follow[- ]up|touch base|crm|拜访|多久|频率|联系|走访|回访|多长时间"),
    (SECTION_TITLES[6], r"risk|complian|suitab|watch out|careful|red flag|danger|风险|合规|适当性|注意什么|注意事项"),
    (SECTION_TITLES[8], r"next step|first step|30 days|90 days|timeline|what now|where do we start|下一步|步骤|接下来|先做什么|怎么开始"),
    (SECTION_TITLES[7], r"\bkpis?\b|measure success|track|targets?|indicator|metric|指标|考核|目标"),
    (SECTION_TITLES[3], r"\bteam\b|who should|service model|coverage|relationship manager|\bserve\b|团队|服务模式|谁来|谁负责|怎么服务"),
    (SECTION_TITLES[2], r"product|offer|recommend|sell|bundle|cross-sell|产品|推荐|提供什么|卖什么"),
    (SECTION_TITLES[1], r"\bneeds?\b|需求"),
    (SECTION_TITLES[0], r"segment|classif|size class|\btier\b|why (?:is|micro|small|medium)|分层|规模|类型|层级|为什么"),
]
INTENT_RES = [(name, re.compile(pattern, re.I)) for name, pattern in INTENTS]


def match_intent(question: str) -> str | None:
    return next((name for name, pattern in INTENT_RES if pattern.search(question)), None)


def section_items(plan: Plan, title: str, limit: int = 5) -> list[PlanItem]:
    items = plan.section(title).items
    if title == SECTION_TITLES[0]:
        return items[1:limit + 1]
    return items[:limit]


def employee_items(plan: Plan, drafter: PlanDrafter, rules: RuleBook, limit: int = 4) -> list[PlanItem]:
    """Working with the client's staff: payroll, benefits and pension products that fit the segment, and any
    plan step that already mentions them."""
    items: list[PlanItem] = []
    for product in rules.products:
        if plan.classification.client_type in product.client_types and plan.segment in product.segments \
                and set(product.needs) & set(EMPLOYEE_NEEDS):
            items.append(drafter.cited_item(f"{product.name} ({product.name_zh}): {product.description}", plan.segment,
                                            product.doc, query=f"{product.name} {product.description}"))
    for section in plan.sections[3:]:
        items += [i for i in section.items if re.search(r"payroll|employee|staff", i.text, re.I)]
    return items[:limit]
