"""Draft client service plans: the segment's playbook, the client's needs and the product catalogue,
with every recommendation traced to a passage of the knowledge base.

Deterministic by design (no LLM needed): the same profile and knowledge give the same plan, which is
what lets a reviewer approve a plan and an auditor replay it.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

from assistant.answers.advisor import Advisor
from assistant.answers.compose import chunk_warnings
from assistant.clients.profiles import EnterpriseProfile, IndividualProfile
from assistant.clients.rules import Need, Product, RuleBook, SegmentPlay, rules_for
from assistant.clients.segmentation import Classification, classify
from assistant.search.retrieval import RetrievalQuery, ScoredChunk

SECTION_TITLES = (
    "Client summary and segment diagnosis",
    "Needs analysis",
    "Recommended product bundle",
    "Service model and team",
    "Relationship cadence and CRM actions",
    "Pricing and profitability notes",
    "Risks and compliance checks",
    "KPIs",
    "Next steps (30/60/90 days)",
)
RISK_RANK = {"R1": 1, "R2": 2, "R3": 3, "R4": 4, "R5": 5}
APPETITE_RANK = {"C1": 1, "C2": 2, "C3": 3, "C4": 4, "C5": 5}


class PlanCitation(BaseModel):
    doc_id: str
    title: str
    section: str
    chunk_id: str
    score: float


class PlanItem(BaseModel):
    text: str
    citations: list[PlanCitation] = Field(default_factory=list)
    blocking: bool = Field(False, description="A compliance finding that must be resolved before acting.")


class PlanSection(BaseModel):
    title: str
    items: list[PlanItem]


class Plan(BaseModel):
    client: dict
    segment: str
    segment_label: str
    classification: Classification
    sections: list[PlanSection]
    knowledge_version: str | None = None
    status: Literal["draft", "submitted", "approved", "returned"] = "draft"
    warnings: list[str] = Field(default_factory=list, description="Cited documents past review or superseded.")
    audit_id: str | None = None
    plan_id: str | None = None
    disclaimer: str | None = None
    drafted_by: str | None = None
    submitted_by: str | None = None
    approved_by: str | None = None
    approved_at: str | None = None

    @property
    def cited_chunk_ids(self) -> list[str]:
        return list(dict.fromkeys(c.chunk_id for s in self.sections for i in s.items for c in i.citations))

    def section(self, title: str) -> PlanSection:
        return next(s for s in self.sections if s.title == title)

    @property
    def blocking_issues(self) -> list[str]:
        return [i.text for s in self.sections for i in s.items if i.blocking]


def map_needs(texts: list[str], needs: list[Need], client_type: str) -> dict[str, list[Need]]:
    """Free-text stated needs to need ids by the keywords in needs.yaml (English and Chinese)."""
    mapped: dict[str, list[Need]] = {}
    for text in texts:
        low = text.lower()
        mapped[text] = [n for n in needs if client_type in n.client_types and any(k.lower() in low for k in n.keywords)]
    return mapped


def cite(retriever, text: str, segment: str, prefer_doc: str | None = None, k: int = 1,
         min_support: float = 0.3) -> list[PlanCitation]:
    """Find the passage that supports a recommendation: first in the document the rule names,
    then among passages for the client's segment, then anywhere. Shared by plans and client books,
    so a recommendation is cited the same way wherever it appears."""
    attempts: list[dict[str, str]] = []
    if prefer_doc:
        attempts.append({"doc_id": prefer_doc})
    attempts += [{"segments": segment}, {}]
    best: list[ScoredChunk] = []
    for filters in attempts:
        hits = retriever.run(RetrievalQuery(query=text[:1500], k=3, filters=filters))
        hits = [h for h in hits if h.similarity >= min_support]
        if hits:
            best = sorted(hits, key=lambda h: -h.similarity)[:k]
            break
    return [PlanCitation(doc_id=h.chunk.doc_id, title=h.chunk.title, section=h.chunk.section,
                         chunk_id=h.chunk.id, score=round(h.similarity, 4)) for h in best]


class PlanDrafter:
    """One ``run(profile)`` in, a cited ``Plan`` out.

    >>> profile = load_profiles(Path("knowledge/profiles/p01-micro-business.json"))[0]
    >>> plan = PlanDrafter(Advisor.from_settings(settings)).run(profile)
    >>> plan.segment_label, plan.blocking_issues
    """

    def __init__(self, advisor: Advisor, rules: RuleBook | None = None, min_support: float = 0.3, bundle_size: int = 6) -> None:
        self.advisor = advisor
        self.rules = rules or rules_for(advisor.settings.rules_dir)
        self.min_support = min_support
        self.bundle_size = bundle_size

    # ---------------------------------------------------------------- citations
    def _cite(self, text: str, segment: str, prefer_doc: str | None = None, k: int = 1) -> list[PlanCitation]:
        return cite(self.advisor.retriever, text, segment, prefer_doc, k, self.min_support)

    def _item(self, text: str, segment: str, prefer_doc: str | None = None, blocking: bool = False, query: str | None = None) -> PlanItem:
        return PlanItem(text=text, citations=self._cite(query or text, segment, prefer_doc), blocking=blocking)

    def cited_item(self, text: str, segment: str, prefer_doc: str | None = None, query: str | None = None) -> PlanItem:
        """One recommendation cited the way plan items are (for answers cut from a client's plan)."""
        return self._item(text, segment, prefer_doc, query=query)

    # ---------------------------------------------------------------- sections
    def run(self, profile: EnterpriseProfile | IndividualProfile) -> Plan:
        rules = self.rules
        cls = classify(profile, rules)
        play = rules.playbook.segment(cls.segment)
        seg = cls.segment
        stated = map_needs(profile.stated_needs, rules.needs, profile.client_type)
        stated_ids = list(dict.fromkeys(n.id for ns in stated.values() for n in ns))
        expected_ids = list(play.expected_needs)
        if cls.life_stage:
            expected_ids += rules.playbook.life_stage_needs.get(cls.life_stage, [])
        excluded = set(rules.playbook.life_stage_excluded_needs.get(cls.life_stage or "", [])) - set(stated_ids)
        expected_ids = [n for n in dict.fromkeys(expected_ids) if n not in stated_ids and n not in excluded]
        self.advisor.embedder.encode_cached(self._all_texts(play))  # one batch instead of one call per item

        sections = [
            PlanSection(title=SECTION_TITLES[0], items=self._summary(profile, cls)),
            PlanSection(title=SECTION_TITLES[1], items=self._needs(stated, expected_ids, cls, play)),
        ]
        bundle, suitability = self._bundle(profile, cls, stated_ids, expected_ids, excluded)
        sections.append(PlanSection(title=SECTION_TITLES[2], items=bundle))
        sections.append(PlanSection(title=SECTION_TITLES[3], items=self._service(profile, cls, play)))
        sections.append(PlanSection(title=SECTION_TITLES[4], items=[self._item(t, seg, play.docs[0]) for t in play.cadence]))
        sections.append(PlanSection(title=SECTION_TITLES[5], items=[self._item(t, seg) for t in play.pricing]))
        sections.append(PlanSection(title=SECTION_TITLES[6], items=suitability + self._risks(profile, cls, play)))
        sections.append(PlanSection(title=SECTION_TITLES[7], items=[self._item(t, seg) for t in play.kpis]))
        steps = ([f"Days 1-30: {t}" for t in play.next_steps.d30] + [f"Days 31-60: {t}" for t in play.next_steps.d60]
                 + [f"Days 61-90: {t}" for t in play.next_steps.d90])
        sections.append(PlanSection(title=SECTION_TITLES[8], items=[self._item(t, seg, query=t.split(": ", 1)[1]) for t in steps]))
        plan = Plan(client=profile.model_dump(mode="json", exclude_none=True), segment=seg, segment_label=cls.segment_label,
                    classification=cls, sections=sections,
                    knowledge_version=self.advisor.store.info().get("knowledge_version"))
        cited = self.advisor.store.get_chunks(plan.cited_chunk_ids)
        plan.warnings = chunk_warnings([cited[c] for c in plan.cited_chunk_ids if c in cited])
        return plan

    def _all_texts(self, play: SegmentPlay) -> list[str]:
        steps = play.next_steps
        return [*play.cadence, *play.pricing, *play.risks, *play.kpis, *steps.d30, *steps.d60, *steps.d90,
                play.service_model, play.team]

    def _summary(self, profile, cls: Classification) -> list[PlanItem]:
        if isinstance(profile, EnterpriseProfile):
            facts = [f"{profile.name}: {self.rules.sme.industries[profile.industry].label.lower()} enterprise"
                     + (f" in {profile.region}" if profile.region else "")
                     + f", {profile.employees:,} employees, operating revenue RMB {profile.operating_revenue_rmb:,.0f}"
                     + (f", total assets RMB {profile.total_assets_rmb:,.0f}" if profile.total_assets_rmb is not None else "")
                     + (f", rated {profile.credit_rating}" if profile.credit_rating else "")
                     + f"; {profile.relationship_years:g} years with the bank."]
            rule_doc = self.rules.sme.doc
        else:
            facts = [f"{profile.name}: age {profile.age}" + (f", {profile.occupation}" if profile.occupation else "")
                     + (f", {profile.region}" if profile.region else "")
                     + f"; AUM at the bank RMB {profile.aum_rmb:,.0f}, annual income RMB {profile.annual_income_rmb:,.0f}"
                     + (f", risk appetite {profile.risk_appetite}" if profile.risk_appetite else ", risk appetite not assessed")
                     + f"; {profile.relationship_years:g} years with the bank."]
            rule_doc = self.rules.tiers.tier_for(profile.aum_rmb).doc
        items = [PlanItem(text=facts[0], citations=self._cite(f"segment {cls.segment_label} client profile", cls.segment, rule_doc))]
        items.append(self._item(f"Segment: {cls.segment_label.rstrip('.')}.", cls.segment, rule_doc,
                                query=f"{cls.segment_label} segment definition and service"))
        for reason in cls.reasons:
            items.append(self._item(reason[0].upper() + reason[1:], cls.segment, rule_doc))
        return items

    def _needs(self, stated: dict[str, list[Need]], expected_ids: list[str], cls: Classification, play: SegmentPlay) -> list[PlanItem]:
        items: list[PlanItem] = []
        for text, needs in stated.items():
            labels = ", ".join(n.label.lower() for n in needs) or "not matched to the needs list; clarify with the client"
            items.append(self._item(f"Stated need: \"{text}\" ({labels}).", cls.segment, query=f"{text} {labels}"))
        for need_id in expected_ids:
            need = self.rules.need(need_id)
            if need is None:
                continue
            items.append(self._item(f"Expected for {play.label.lower()} clients, not yet stated: {need.label.lower()} "
                                    f"({need.label_zh}); raise it in the next needs conversation.", cls.segment,
                                    query=f"{need.label} needs of {play.label} clients"))
        return items

    def _suitable(self, profile, product: Product) -> bool:
        appetite = APPETITE_RANK.get(getattr(profile, "risk_appetite", None) or "", 0)
        individual = isinstance(profile, IndividualProfile)
        return not (individual and product.risk_level and RISK_RANK[product.risk_level] > appetite)

    def _ranked_products(self, profile, cls: Classification, stated_ids: list[str], expected_ids: list[str],
                         excluded: set[str]) -> list[Product]:
        """Products that fit the segment, best first: every stated need first gets its best suitable
        product, then expected needs fill the rest, so one multi-purpose line cannot crowd out a need
        the client actually named."""
        held = {p.lower() for p in profile.products_held}
        scored: list[tuple[int, int, Product]] = []
        for index, product in enumerate(self.rules.products):
            if profile.client_type not in product.client_types or cls.segment not in product.segments:
                continue
            if product.id in held or product.name.lower() in held:
                continue
            if product.needs[0] in excluded:
                continue  # its main purpose does not fit the life stage (education savings for a retiree)
            score = 3 * len(set(product.needs) & set(stated_ids)) + len(set(product.needs) & set(expected_ids))
            if score and any(product.name.lower() in t.lower() or (product.name_zh and product.name_zh in t) for t in profile.stated_needs):
                score += 10  # the client asked for this very product
            if score:
                scored.append((score, index, product))
        scored.sort(key=lambda t: (-t[0], t[1]))
        order: list[Product] = []
        for need_id in [*stated_ids, *expected_ids]:
            pick = next((p for _, _, p in scored if need_id in p.needs and self._suitable(profile, p) and p not in order), None)
            if pick is not None:
                order.append(pick)
        return order + [p for _, _, p in scored if p not in order]

    def _bundle(self, profile, cls: Classification, stated_ids: list[str], expected_ids: list[str],
                excluded: set[str] = frozenset()) -> tuple[list[PlanItem], list[PlanItem]]:
        appetite = APPETITE_RANK.get(getattr(profile, "risk_appetite", None) or "", 0)
        bundle: list[PlanItem] = []
        blocked: list[PlanItem] = []
        for product in self._ranked_products(profile, cls, stated_ids, expected_ids, excluded):
            if not self._suitable(profile, product):
                reason = (f"risk appetite {profile.risk_appetite}" if appetite else "no risk assessment on file")
                if len(blocked) < 3:
                    blocked.append(self._item(
                        f"Suitability: {product.name} is rated {product.risk_level}, above the client's {reason}; "
                        "it is left out of the bundle and must not be sold unless a new assessment supports it.",
                        cls.segment, query=f"suitability product risk level {product.risk_level} investor risk tolerance"))
                continue
            if len(bundle) == self.bundle_size:
                continue
            said = [self.rules.need(n).label.lower() for n in product.needs if n in stated_ids]
            expected = [self.rules.need(n).label.lower() for n in product.needs if n in expected_ids]
            why = "; ".join(part for part in (
                f"the client asked for {', '.join(said)}" if said else "",
                f"{cls.segment_label.lower()} clients typically need {', '.join(expected)}" if expected else "") if part)
            text = (f"{product.name} ({product.name_zh}): {product.description} Why it fits: {why}"
                    + (f"; product risk {product.risk_level}." if product.risk_level else "."))
            bundle.append(self._item(text, cls.segment, product.doc, query=f"{product.name} {product.description}"))
        return bundle, self._held_suitability(profile, cls) + blocked

    def _held_suitability(self, profile, cls: Classification) -> list[PlanItem]:
        """Blocking checks on what an individual already holds, and on a missing risk assessment."""
        if not isinstance(profile, IndividualProfile):
            return []
        appetite = APPETITE_RANK.get(profile.risk_appetite or "", 0)
        items: list[PlanItem] = []
        for name in profile.products_held:
            product = self.rules.product(name) or next((p for p in self.rules.products if p.name.lower() == name.lower()), None)
            if product and product.risk_level and appetite and RISK_RANK[product.risk_level] > appetite:
                items.append(self._item(
                    f"Suitability mismatch (blocking): the client holds {product.name} rated {product.risk_level} "
                    f"but is assessed {profile.risk_appetite}; reassess risk tolerance and record the outcome before any further sale.",
                    cls.segment, query="suitability mismatch product risk above client risk tolerance reassess", blocking=True))
        if not appetite:
            items.append(self._item(
                "Suitability (blocking): no risk-tolerance assessment on file; complete it before recommending any investment product.",
                cls.segment, query="risk tolerance assessment before selling investment products suitability", blocking=True))
        return items

    def _service(self, profile, cls: Classification, play: SegmentPlay) -> list[PlanItem]:
        items = [self._item(play.service_model, cls.segment, play.docs[0]), self._item(play.team, cls.segment, play.docs[0])]
        if cls.value_tier:
            tier = next(t for t in self.rules.tiers.tiers if t.id == cls.value_tier)
            items.append(self._item(f"{tier.name} tier service: {tier.service_model} Coverage: {tier.coverage} (illustrative).",
                                    cls.segment, tier.doc))
        return items

    def _risks(self, profile, cls: Classification, play: SegmentPlay) -> list[PlanItem]:
        items = [self._item(t, cls.segment) for t in play.risks]
        if isinstance(profile, EnterpriseProfile) and profile.supply_chain_role in ("supplier", "dealer") and profile.anchor_firm:
            items.append(self._item(f"Anchor dependence: check how much of the client's sales depend on {profile.anchor_firm} "
                                    "and keep the exposure inside the anchor's supply-chain limit.", cls.segment,
                                    query="anchor dependence concentration supply-chain finance limit"))
        return items


def draft_plan(advisor: Advisor, profile: EnterpriseProfile | IndividualProfile) -> Plan:
    return PlanDrafter(advisor).run(profile)
