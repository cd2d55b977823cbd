"""The short recommendation for a client situation, cut from the client's full plan so the two never disagree.

Segment with the rule that decided it, the 2-4 products that fit the stated needs (with why), the service
model and the one check to make first: each is an item of the plan the drafter wrote for the same
profile, with the plan's citations; "Draft full plan" then shows the other items around them.
"""

from __future__ import annotations

from pydantic import BaseModel, Field

from assistant.clients.plans import SECTION_TITLES, Plan, PlanCitation, PlanItem
from assistant.clients.rules import Product, RuleBook

DECIDING = ("medium:", "small:", "not small", "micro:", "segment:", "value tier:", "life stage:")


class RecommendedProduct(BaseModel):
    id: str
    name: str
    name_zh: str = ""
    why: str
    fits_stated_need: bool
    text: str
    citations: list[PlanCitation] = Field(default_factory=list)


class Recommendation(BaseModel):
    """What a relationship manager needs first; ``plan`` holds the rest."""

    segment: str
    segment_label: str
    rule: list[PlanItem] = Field(description="The reasons that decided the segment, each cited.")
    products: list[RecommendedProduct]
    service_model: PlanItem
    key_check: PlanItem
    need_ids: list[str] = Field(default_factory=list)
    plan: Plan | None = Field(None, exclude=True)


def _product_of(item: PlanItem, rules: RuleBook) -> Product | None:
    return next((p for p in rules.products if item.text.startswith(f"{p.name} (")), None)


def pick_products(plan: Plan, need_ids: list[str], rules: RuleBook, most: int = 4, least: int = 3) -> list[RecommendedProduct]:
    """Bundle items that answer a stated need first (up to four), then the segment's and life stage's usual needs
    to reach three: a young family buying a home hears of the protection and the education plan beside the
    mortgage, as the bundle tables pair them."""
    picked: list[RecommendedProduct] = []
    for item in plan.section(SECTION_TITLES[2]).items:
        product = _product_of(item, rules)
        if product is None:
            continue
        why = item.text.split("Why it fits: ", 1)[-1].rstrip(".")
        picked.append(RecommendedProduct(id=product.id, name=product.name, name_zh=product.name_zh, why=why,
                                         fits_stated_need=bool(set(product.needs) & set(need_ids)), text=item.text,
                                         citations=item.citations))
    stated = [p for p in picked if p.fits_stated_need][:most]
    others = [p for p in picked if not p.fits_stated_need]
    return stated + others[:max(0, least - len(stated))]


def key_check(plan: Plan) -> PlanItem:
    """A blocking suitability finding first, then anchor dependence, then the segment's first risk."""
    items = plan.section(SECTION_TITLES[6]).items
    return next((i for i in items if i.blocking), None) or next((i for i in items if i.text.startswith("Anchor dependence")), None) \
        or items[0]


def recommend(plan: Plan, need_ids: list[str], rules: RuleBook) -> Recommendation:
    summary = plan.section(SECTION_TITLES[0]).items
    rule = [i for i in summary[2:] if (i.text.lower().startswith(DECIDING) or "so not an sme" in i.text.lower())
            and not i.text.lower().endswith("from the size class.") and not i.text.lower().endswith("from the size class")] or summary[1:2]
    service = plan.section(SECTION_TITLES[3]).items
    tier_item = next((i for i in service if " tier service: " in i.text), None)
    return Recommendation(segment=plan.segment, segment_label=plan.segment_label, rule=rule,
                          products=pick_products(plan, need_ids, rules), service_model=tier_item or service[0],
                          key_check=key_check(plan), need_ids=need_ids, plan=plan)
