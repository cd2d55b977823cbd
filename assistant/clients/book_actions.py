"""What a segment is called and what the bank does for it, from what distinguishes it from the book.

The 2-4 features furthest from the book's average name the segment ("overdrawn, young"); the
plays in knowledge/data/book_actions.yaml, the tier's playbook and the product catalogue turn them
into a service model, a bundle and next actions, each cited like a plan. Risk plays come first,
so an overdrawn segment gets a credit-risk review and no wealth product; two segments never leave
with the same bundle.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd
import yaml
from pydantic import BaseModel, Field, ValidationError, model_validator

from assistant.clients.citing import CitationQueue, CiteRequest, PlanCitation, cite
from assistant.clients.rules import Product, RuleBook, RulesError
from assistant.text import load_yaml


class Play(BaseModel):
    when: str = Field(pattern=r"^[a-z_]+:(high|low)$")
    risk: bool = False
    headline: str
    service: str
    needs: list[str] = Field(min_length=1)
    exclude_needs: list[str] = Field(default_factory=list)
    rated_products: bool = Field(True, description="False: no product with a risk rating (R1-R5) in the bundle.")
    bundle_size: int = Field(3, ge=1, le=6)
    actions: list[str] = Field(min_length=1)
    doc: str


class QuadrantPlay(BaseModel):
    name: str
    strategy: str


class BookActions(BaseModel):
    """The words and plays for segments, and the quadrant strategies.

    >>> actions = load_actions(Path("knowledge/data/book_actions.yaml"))
    >>> actions.play("overdrawn:high").headline
    'Credit-risk and cash-flow review'
    """

    min_deviation: float = Field(0.25, gt=0)
    max_traits: int = Field(4, ge=2, le=6)
    words: dict[str, dict[str, str]]
    plays: list[Play]
    quadrants: dict[str, QuadrantPlay]
    quadrant_doc: str

    @model_validator(mode="after")
    def _plays_have_words(self) -> "BookActions":
        for play in self.plays:
            feature, direction = play.when.split(":")
            if direction not in self.words.get(feature, {}):
                raise ValueError(f"play '{play.when}' has no words under words.{feature}.{direction}")
        return self

    def play(self, trait: str) -> Play | None:
        return next((p for p in self.plays if p.when == trait), None)


class Trait(BaseModel):
    feature: str
    direction: str
    deviation: float
    words: str

    @property
    def key(self) -> str:
        return f"{self.feature}:{self.direction}"


class CitedText(BaseModel):
    text: str
    citations: list[PlanCitation] = Field(default_factory=list)


class Recommendation(BaseModel):
    headline: str
    risk: bool
    service_model: CitedText
    bundle: list[CitedText]
    actions: list[CitedText]
    candidates: list[str] = Field(default_factory=list, exclude=True)

    def signature(self) -> str:
        return " | ".join([self.headline, self.service_model.text, *(b.text for b in self.bundle), *(a.text for a in self.actions)])


def load_actions(path: Path) -> BookActions:
    if not path.exists():
        raise RulesError(f"rule file missing: {path}")
    try:
        return BookActions.model_validate(load_yaml(path.read_text(encoding="utf-8")))
    except (yaml.YAMLError, ValidationError) as exc:
        raise RulesError(f"{path}: not a valid segment action table ({str(exc).splitlines()[0]})") from exc


def traits_for(deviation: pd.Series, actions: BookActions) -> list[Trait]:
    """The features furthest from the book average that have words: at least 2, at most max_traits."""
    ranked = []
    for feature, value in deviation.items():
        direction = "high" if value > 0 else "low"
        words = actions.words.get(str(feature), {}).get(direction)
        if words and value != 0:
            ranked.append(Trait(feature=str(feature), direction=direction, deviation=round(float(value), 3), words=words))
    ranked.sort(key=lambda t: -abs(t.deviation))
    strong = [t for t in ranked if abs(t.deviation) >= actions.min_deviation]
    return (strong if len(strong) >= 2 else ranked[:2])[: actions.max_traits]


def unique_labels(trait_lists: list[list[Trait]]) -> list[str]:
    """Labels from the first 2-3 trait words, lengthened (then numbered) until no two are alike."""
    labels = [", ".join(t.words for t in traits[:3]) for traits in trait_lists]
    for _ in range(2):
        for label in {x for x in labels if labels.count(x) > 1}:
            for i, traits in enumerate(trait_lists):
                if labels[i] == label and len(traits) > label.count(",") + 1:
                    labels[i] = ", ".join(t.words for t in traits[: label.count(",") + 2])
    seen: dict[str, int] = {}
    out = []
    for label in labels:
        seen[label] = seen.get(label, 0) + 1
        out.append(label if labels.count(label) == 1 else f"{label} (group {seen[label]})")
    return [o[0].upper() + o[1:] if o else "Segment" for o in out]


def life_stage_of(age: float) -> str:
    return "retiree" if age >= 60 else "pre-retiree" if age >= 50 else "established-family" if age >= 35 else "young-professional"


def _ranked_products(rules: RuleBook, tier: str, needs: list[str], excluded: set[str], rated: bool) -> list[Product]:
    """Each need in priority order first gets the product made for it (its first need), then products
    that also serve it: so a segment's lead need decides the first product, not the busiest product."""
    fits = [p for p in rules.products if tier in p.segments and "individual" in p.client_types
            and p.needs[0] not in excluded and (rated or p.risk_level is None)]
    order: list[Product] = []
    for primary in (True, False):
        for need in dict.fromkeys(needs):
            if need in excluded:
                continue
            pick = next((p for p in fits if p not in order and (p.needs[0] == need if primary else need in p.needs)), None)
            if pick is not None:
                order.append(pick)
    return order + [p for p in fits if p not in order]


def recommend(traits: list[Trait], tier: str, mean_age: float, rules: RuleBook, actions: BookActions) -> Recommendation:
    """Lead play (risk first, else the strongest trait), a second play, the tier and the life stage."""
    plays = [actions.play(t.key) for t in traits]
    plays = [p for p in plays if p is not None]
    plays.sort(key=lambda p: not p.risk)  # stable: risk plays first, the rest by trait strength
    if not plays:  # nothing sets the segment apart (a tiny or uniform book): the tier's own play
        tier_play = rules.playbook.segment(tier)
        plays = [Play(when="balance:high", headline=f"Serve as {tier_play.label.lower()}", service=tier_play.service_model,
                      needs=tier_play.expected_needs, actions=tier_play.next_steps.d30[:2], doc=tier_play.docs[0])]
    lead, second = plays[0], (plays[1] if len(plays) > 1 else None)
    used = [lead] + ([second] if second else [])
    stage = life_stage_of(mean_age)
    tier_play = rules.playbook.segment(tier)
    tier_row = next(t for t in rules.tiers.tiers if t.id == tier)
    needs = lead.needs + (second.needs if second else []) + rules.playbook.life_stage_needs.get(stage, []) + tier_play.expected_needs
    excluded = {n for p in used for n in p.exclude_needs} | set(rules.playbook.life_stage_excluded_needs.get(stage, []))
    ranked = _ranked_products(rules, tier, needs, excluded, all(p.rated_products for p in used))
    bundle = [CitedText(text=_product_text(p)) for p in ranked[: lead.bundle_size]]
    steps = lead.actions + (second.actions[:1] if second else [])
    if not lead.risk:
        steps.append(tier_play.next_steps.d30[0])
    service = f"{lead.service.strip()} Tier ({tier_row.name}): {tier_row.service_model}"
    headline = lead.headline + (f"; then {second.headline[0].lower()}{second.headline[1:]}" if second else "")
    return Recommendation(headline=headline, risk=lead.risk, service_model=CitedText(text=service),
                          bundle=bundle, actions=[CitedText(text=s) for s in steps], candidates=[_product_text(p) for p in ranked])


def _product_text(product: Product) -> str:
    return f"{product.name} ({product.name_zh})" if product.name_zh else product.name


def make_distinct(recs: list[Recommendation]) -> None:
    """No two segments leave with the same bundle: a later one swaps its last product for its next candidate."""
    seen: list[frozenset[str]] = []
    for rec in recs:
        names = [b.text for b in rec.bundle]
        spare = [c for c in rec.candidates if c not in names]
        while frozenset(names) in seen and spare and names:
            names[-1] = spare.pop(0)
        rec.bundle = [CitedText(text=n) for n in names]
        seen.append(frozenset(names))


class BookCiter:
    """Cites segment recommendations through the Advisor's retriever, the way plans are cited.

    >>> citer = BookCiter(advisor)
    >>> citer.cite("Credit-risk review of overdrawn accounts", "mass-retail", "loan-risk-classification-provisioning")
    """

    def __init__(self, advisor, min_support: float = 0.3) -> None:
        self.advisor = advisor
        self.min_support = min_support
        self._queue = CitationQueue()

    def cite(self, text: str, segment: str, prefer_doc: str | None = None) -> list[PlanCitation]:
        return cite(self.advisor.retriever, text, segment, prefer_doc, 1, self.min_support)

    def later(self, target: Any, text: str, segment: str, prefer_doc: str | None = None) -> None:
        """Queue a citation for ``target.citations``; ``resolve()`` looks every queued one up in one batch."""
        self._queue.add(target, CiteRequest(text=text, segment=segment, prefer_doc=prefer_doc))

    def resolve(self) -> None:
        self._queue.resolve(self.advisor.retriever, self.min_support)


def cite_recommendation(rec: Recommendation, traits: list[Trait], tier: str, rules: RuleBook,
                        actions: BookActions, citer: BookCiter) -> None:
    """Queue the citations of a segment's recommendation; the caller's ``citer.resolve()`` fills them in."""
    lead = next((p for p in sorted(filter(None, (actions.play(t.key) for t in traits)), key=lambda p: not p.risk)), None)
    doc = lead.doc if lead else None
    citer.later(rec.service_model, rec.service_model.text, tier, doc)
    by_text = {_product_text(p): p for p in rules.products}
    for item in rec.bundle:
        product = by_text.get(item.text)
        query = f"{product.name} {product.description}" if product else item.text
        citer.later(item, query, tier, product.doc if product else None)
    for item in rec.actions:
        citer.later(item, item.text, tier, doc)