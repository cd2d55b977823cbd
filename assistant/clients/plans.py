"""Draft client service plans: the segment's playbook, the client's needs and the product catalogue,
with every recommendation traced to a passage of the knowledge base.

Deterministic by design (no LLM needed): the same profile and knowledge give the same plan, which is
what lets a reviewer approve a plan and an auditor replay it.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Literal

from pydantic import BaseModel, Field, model_validator

from assistant.answers.advisor import Advisor
from assistant.answers.answer import chunk_warnings
from assistant.clients.chinese import (SECTION_TITLES_ZH, SEGMENT_ZH, product_why_zh, profile_line_zh, rule_zh,
                                       segment_name_zh, tier_service)
from assistant.clients.citing import CitationQueue, CiteRequest, PlanCitation
from assistant.clients.profiles import EnterpriseProfile, IndividualProfile
from assistant.clients.rules import Need, Product, RuleBook, SegmentPlay, SegmentWords, rules_for
from assistant.clients.segmentation import Classification, classify
from assistant.errors import Language, check_language

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
# The day ranges that open each next step, in each language (the chat maps an English step to Chinese by them).
DAYS = (("Days 1-30: ", "第1-30天："), ("Days 31-60: ", "第31-60天："), ("Days 61-90: ", "第61-90天："))
NO_CHINESE_PLAYBOOK = "该分层的服务手册尚无中文版：服务模式、维护节奏、定价、风险、考核指标和下一步条目为知识库英文原文。"
RISK_RANK = {"R1": 1, "R2": 2, "R3": 3, "R4": 4, "R5": 5}
APPETITE_RANK = {"C1": 1, "C2": 2, "C3": 3, "C4": 4, "C5": 5}


class PlanItem(BaseModel):
    text: str
    citations: list[PlanCitation] = Field(default_factory=list)
    blocking: bool = Field(False, description="A compliance finding that must be resolved before acting.")
    text_zh: str | None = Field(None, exclude=True, description="The Chinese of a generated English item (a suitability "
                                "finding), for the chat, which quotes an English plan to a Chinese asker.")


class PlanSection(BaseModel):
    title: str
    items: list[PlanItem]
    key: str = Field("", description="The English title: how code and tests name the section in any language.")

    @model_validator(mode="after")
    def _default_key(self) -> "PlanSection":
        self.key = self.key or self.title
        return self


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
    language: Language = "en"

    @property
    def cited_chunk_ids(self) -> list[str]:
        return list(dict.fromkeys(c.chunk_id for s in self.sections for i in s.items for c in i.citations))

    def section(self, title: str) -> PlanSection:
        return next(s for s in self.sections if title in (s.key, s.title))

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


class PlanDrafter:
    """One ``run(profile)`` in, a cited ``Plan`` out, in English or Chinese.

    >>> profile = load_profiles(Path("knowledge/profiles/p01-micro-business.json"))[0]
    >>> plan = PlanDrafter(Advisor.from_settings(settings)).run(profile)          # run(profile, "zh") in Chinese
    >>> plan.segment_label, plan.blocking_issues

    A Chinese plan has the same sections, items and citations as the English one, in the same order: each
    item is written from the Chinese playbook (segments.zh.yaml) and the catalogue's ``*_zh`` fields, but
    cited by its English wording, and the cited passage is the Chinese edition's counterpart.
    """

    def __init__(self, advisor: Advisor, rules: RuleBook | None = None, min_support: float = 0.3, bundle_size: int = 6) -> None:
        self.advisor = advisor
        self.rules = rules or rules_for(advisor.settings.rules_dir)
        self.min_support = min_support
        self.bundle_size = bundle_size
        self.language: Language = "en"
        self._queue = CitationQueue()

    @property
    def zh(self) -> bool:
        return self.language == "zh"

    # ---------------------------------------------------------------- citations
    def _item(self, text: str, segment: str, prefer_doc: str | None = None, blocking: bool = False, query: str | None = None,
              text_zh: str | None = None) -> PlanItem:
        """An item whose citation is looked up with the rest of the plan's, in one batch (``_resolve``)."""
        item = PlanItem(text=text, blocking=blocking, text_zh=text_zh)
        self._queue.add(item, CiteRequest(text=query or text, segment=segment, prefer_doc=prefer_doc))
        return item

    def _resolve(self) -> None:
        self._queue.resolve(self.advisor.retriever, self.min_support, self.language)

    def _generated(self, en: str, zh: str, segment: str, prefer_doc: str | None = None, blocking: bool = False,
                   query: str | None = None) -> PlanItem:
        """An item the drafter writes in both languages (a suitability finding, a life-stage risk): shown in the
        plan's language, carrying its Chinese for the chat, which quotes an English plan to a Chinese asker."""
        return self._item(zh if self.zh else en, segment, prefer_doc, blocking, query, text_zh=zh)

    def _items(self, english: list[str], chinese: list[str] | None, segment: str, prefer_doc: str | None = None,
               prefix: tuple[str, str] = ("", "")) -> list[PlanItem]:
        """Playbook items in the plan's language, each cited by its English wording."""
        shown = chinese if self.zh and chinese else english
        lead = prefix[1] if self.zh else prefix[0]
        return [self._item(lead + text, segment, prefer_doc, query=source) for text, source in zip(shown, english)]

    def cited_item(self, text: str, segment: str, prefer_doc: str | None = None, query: str | None = None) -> PlanItem:
        """One recommendation cited the way plan items are (for answers cut from a client's plan)."""
        item = self._item(text, segment, prefer_doc, query=query)
        self._resolve()
        return item

    # ---------------------------------------------------------------- sections
    def run(self, profile: EnterpriseProfile | IndividualProfile, language: Language = "en") -> Plan:
        self.language, self._queue = check_language(language), CitationQueue()
        rules = self.rules
        cls = classify(profile, rules)
        play = rules.playbook.segment(cls.segment)
        words = rules.playbook_zh.get(cls.segment) if self.zh else None
        seg = cls.segment
        stated = map_needs(profile.stated_needs, rules.needs, profile.client_type)
        stated_ids = list(dict.fromkeys(n.id for ns in stated.values() for n in ns))
        # the life stage's needs first: they say more about this client than the tier's usual ones (a retiree's
        # deposits before an affluent client's wealth management)
        expected_ids = [*rules.playbook.life_stage_needs.get(cls.life_stage or "", []), *play.expected_needs]
        excluded = set(rules.playbook.life_stage_excluded_needs.get(cls.life_stage or "", []))
        if isinstance(profile, IndividualProfile):  # no education plan for a single client without children
            excluded |= set(rules.playbook.family_excluded_needs.get(profile.family_situation, []))
            owner = rules.playbook.owner_needs
            if owner is not None and owner.runs_business(profile.occupation) is False:
                excluded |= set(owner.needs)  # a salaried engineer is not offered a business-owner loan
        excluded -= set(stated_ids)
        expected_ids = [n for n in dict.fromkeys(expected_ids) if n not in stated_ids and n not in excluded]

        bundle, suitability = self._bundle(profile, cls, stated_ids, expected_ids, excluded)
        steps = play.next_steps
        zsteps = words.next_steps if words else None
        items = [
            self._summary(profile, cls),
            self._needs(stated, expected_ids, cls, play),
            bundle,
            self._service(profile, cls, play, words),
            self._items(play.cadence, words.cadence if words else None, seg, play.docs[0]),
            self._items(play.pricing, words.pricing if words else None, seg),
            self._stage_risks(profile, cls) + suitability + self._risks(profile, cls, play, words),
            self._items(play.kpis, words.kpis if words else None, seg),
            [item for day, en, zh in zip(DAYS, (steps.d30, steps.d60, steps.d90),
                                         (zsteps.d30, zsteps.d60, zsteps.d90) if zsteps else (None, None, None))
             for item in self._items(en, zh, seg, prefix=day)],
        ]
        self._resolve()
        titles = SECTION_TITLES_ZH if self.zh else SECTION_TITLES
        sections = [PlanSection(title=titles[i], key=SECTION_TITLES[i], items=items[i]) for i in range(len(SECTION_TITLES))]
        plan = Plan(client=profile.model_dump(mode="json", exclude_none=True), segment=seg, segment_label=cls.segment_label,
                    classification=cls, sections=sections, language=language,
                    knowledge_version=self.advisor.store.info().get("knowledge_version"))
        cited = self.advisor.store.get_chunks(plan.cited_chunk_ids)
        plan.warnings = chunk_warnings([cited[c] for c in plan.cited_chunk_ids if c in cited])
        if self.zh and words is None:
            plan.warnings.insert(0, NO_CHINESE_PLAYBOOK)
        return plan

    def _summary(self, profile, cls: Classification) -> list[PlanItem]:
        if isinstance(profile, EnterpriseProfile):
            industry = self.rules.sme.industries[profile.industry]
            if self.zh:
                fact = profile_line_zh(profile, industry.label_zh or industry.label)
            else:
                fact = (f"{profile.name}: {industry.label.lower()} enterprise" + (f" in {profile.region}" if profile.region else "")
                        + f", {profile.employees:,} employees, operating revenue RMB {profile.operating_revenue_rmb:,.0f}"
                        + (f", total assets RMB {profile.total_assets_rmb:,.0f}" if profile.total_assets_rmb is not None else "")
                        + (f", rated {profile.credit_rating}" if profile.credit_rating else "")
                        + f"; {profile.relationship_years:g} years with the bank.")
            rule_doc = self.rules.sme.doc
        else:
            if self.zh:
                fact = profile_line_zh(profile)
            else:
                fact = (f"{profile.name}: age {profile.age}" + (f", {profile.occupation}" if profile.occupation else "")
                        + (f", {profile.region}" if profile.region else "")
                        + f"; AUM at the bank RMB {profile.aum_rmb:,.0f}, annual income RMB {profile.annual_income_rmb:,.0f}"
                        + (f", risk appetite {profile.risk_appetite}" if profile.risk_appetite else ", risk appetite not assessed")
                        + f"; {profile.relationship_years:g} years with the bank.")
            rule_doc = self.rules.tiers.tier_for(profile.aum_rmb).doc
        items = [self._item(fact, cls.segment, rule_doc, query=f"segment {cls.segment_label} client profile")]
        query = f"{cls.segment_label} segment definition and service"
        if self.zh:
            items.append(self._item(f"客户分层：{segment_name_zh(cls.segment, cls.segment_label.rstrip('.'))}。",
                                    cls.segment, rule_doc, query=query))
            items.append(self._item(rule_zh(profile.model_dump(mode="json"), cls, self.rules), cls.segment, rule_doc,
                                    query=" ".join(cls.reasons) or query))
            return items
        items.append(self._item(f"Segment: {cls.segment_label.rstrip('.')}.", cls.segment, rule_doc, query=query))
        for reason in cls.reasons:
            items.append(self._item(reason[0].upper() + reason[1:], cls.segment, rule_doc))
        return items

    def _needs(self, stated: dict[str, list[Need]], expected_ids: list[str], cls: Classification, play: SegmentPlay) -> list[PlanItem]:
        items: list[PlanItem] = []
        for text, needs in stated.items():
            labels = ", ".join(n.label.lower() for n in needs) or "not matched to the needs list; clarify with the client"
            shown = (f"客户提出的需求：“{text}”（{'、'.join(n.label_zh or n.label for n in needs) or '未能对应到需求清单，请与客户确认'}）。"
                     if self.zh else f"Stated need: \"{text}\" ({labels}).")
            items.append(self._item(shown, cls.segment, query=f"{text} {labels}"))
        for need_id in expected_ids:
            need = self.rules.need(need_id)
            if need is None:
                continue
            shown = (f"{SEGMENT_ZH.get(play.id, play.label)}通常有、客户尚未提出的需求：{need.label_zh or need.label}；"
                     "在下次需求沟通中提出。" if self.zh else
                     f"Expected for {play.label.lower()} clients, not yet stated: {need.label.lower()} ({need.label_zh}); "
                     "raise it in the next needs conversation.")
            items.append(self._item(shown, cls.segment, query=f"{need.label} needs of {play.label} clients"))
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
            if product.industries and getattr(profile, "industry", None) not in product.industries:
                continue  # sized on card and QR takings: a shop's product, not a workshop's
            if product.id in held or product.name.lower() in held:
                continue
            if product.needs[0] in excluded or (cls.life_stage and cls.life_stage in product.not_for_life_stages):
                continue  # its main purpose does not fit the life stage (education savings for a retiree)
            score = 3 * len(set(product.needs) & set(stated_ids)) + len(set(product.needs) & set(expected_ids))
            if score and any(product.name.lower() in t.lower() or (product.name_zh and product.name_zh in t) for t in profile.stated_needs):
                score += 10  # the client asked for this very product
            if score:
                scored.append((score, index, product))
        scored.sort(key=lambda t: (-t[0], t[1]))
        order: list[Product] = []
        for need_id in [*stated_ids, *expected_ids]:
            # a product made for this need before one that also serves it (a time deposit for deposits, not a WMP)
            fits = [p for _, _, p in scored if need_id in p.needs and self._suitable(profile, p) and p not in order]
            # and of those, the one with fewest other purposes: a factory short of working capital is offered the
            # working-capital loan before the tax-data loan that also serves business credit and digital banking
            made = [p for p in fits if p.needs[0] == need_id]
            pick = min(made, key=lambda p: len(p.needs)) if made else (fits[0] if fits else None)
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
                    zh = (f"适当性：{product.name_zh or product.name}的风险等级为{product.risk_level}，高于客户"
                          + (f"的风险偏好{profile.risk_appetite}" if appetite else "（尚无风险测评记录）")
                          + "；不纳入产品组合，除非新的风险测评支持，否则不得销售。")
                    en = (f"Suitability: {product.name} is rated {product.risk_level}, above the client's {reason}; "
                          "it is left out of the bundle and must not be sold unless a new assessment supports it.")
                    blocked.append(self._generated(en, zh, cls.segment,
                                                   query=f"suitability product risk level {product.risk_level} investor risk tolerance"))
                continue
            if len(bundle) == self.bundle_size:
                continue
            said = [self.rules.need(n).label.lower() for n in product.needs if n in stated_ids]
            expected = [self.rules.need(n).label.lower() for n in product.needs if n in expected_ids]
            why = "; ".join(part for part in (
                f"the client asked for {', '.join(said)}" if said else "",
                f"{cls.segment_label.lower()} clients typically need {', '.join(expected)}" if expected else "") if part)
            if self.zh:
                text = (f"{product.name_zh or product.name}（{product.name}）：{product.description_zh or product.description}"
                        f"推荐理由：{product_why_zh(product.needs, stated_ids, self.rules, cls.segment)}"
                        + (f"；产品风险等级{product.risk_level}。" if product.risk_level else "。"))
            else:
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
                zh = (f"适当性不匹配（须先处理）：客户持有{product.name_zh or product.name}（风险等级{product.risk_level}），"
                      f"但风险测评为{profile.risk_appetite}；再次销售前须重新评估风险承受能力并记录结果。")
                en = (f"Suitability mismatch (blocking): the client holds {product.name} rated {product.risk_level} "
                      f"but is assessed {profile.risk_appetite}; reassess risk tolerance and record the outcome before any further sale.")
                items.append(self._generated(en, zh, cls.segment, blocking=True,
                                             query="suitability mismatch product risk above client risk tolerance reassess"))
        if not appetite:
            zh = "适当性（须先处理）：尚无风险承受能力测评记录；推荐任何投资产品前须先完成测评。"
            en = "Suitability (blocking): no risk-tolerance assessment on file; complete it before recommending any investment product."
            items.append(self._generated(en, zh, cls.segment, blocking=True,
                                         query="risk tolerance assessment before selling investment products suitability"))
        return items

    def _service(self, profile, cls: Classification, play: SegmentPlay, words: SegmentWords | None = None) -> list[PlanItem]:
        items = self._items([play.service_model, play.team], [words.service_model, words.team] if words else None,
                            cls.segment, play.docs[0])
        if cls.value_tier:
            tier = next(t for t in self.rules.tiers.tiers if t.id == cls.value_tier)
            items.append(self._item(tier_service(tier, self.language), cls.segment, tier.doc, query=tier_service(tier, "en")))
        return items

    def _stage_risks(self, profile, cls: Classification) -> list[PlanItem]:
        """The life stage's own risks lead the section (a retiree's fraud exposure is the check to make first
        unless a blocking suitability finding outranks it)."""
        if not isinstance(profile, IndividualProfile):
            return []
        staged = self.rules.playbook.life_stage_risks.get(cls.life_stage or "", [])
        return [self._generated(r.en, r.zh, cls.segment, r.doc, query=r.en) for r in staged]

    def _risks(self, profile, cls: Classification, play: SegmentPlay, words: SegmentWords | None = None) -> list[PlanItem]:
        items = self._items(play.risks, words.risks if words else None, cls.segment)
        if isinstance(profile, EnterpriseProfile) and profile.supply_chain_role in ("supplier", "dealer") and profile.anchor_firm:
            zh = f"核心企业依赖：核查客户销售收入对{profile.anchor_firm}的依赖程度，并将敞口控制在该核心企业的供应链额度之内。"
            en = (f"Anchor dependence: check how much of the client's sales depend on {profile.anchor_firm} "
                  "and keep the exposure inside the anchor's supply-chain limit.")
            items.append(self._generated(en, zh, cls.segment, query="anchor dependence concentration supply-chain finance limit"))
        return items


def draft_plan(advisor: Advisor, profile: EnterpriseProfile | IndividualProfile, language: Language = "en") -> Plan:
    return PlanDrafter(advisor).run(profile, language)


def warm_plans(advisor: Advisor, profiles: Iterable[EnterpriseProfile | IndividualProfile]) -> int:
    """Draft each example profile once, untimed (the app does this in its background warm-up).

    A plan's citation questions (the segment's needs, products, service model and risks) are largely the
    same for every client of a segment, so the vectors embedded here, kept on disk with the others,
    make the chat's first recommendation for a new client cost about 300 ms instead of about a second.
    """
    drafter = PlanDrafter(advisor)
    count = 0
    for profile in profiles:
        drafter.run(profile)
        count += 1
    return count
