"""The rule tables the advisor reasons with, loaded from knowledge/data and validated.

Thresholds are data a bank edits (a revised SME standard, its own AUM tiers), so they are read
from YAML here and checked for consistency at load time, not written into the classifier.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from assistant.errors import AdvisorError
from assistant.text import load_yaml

Measure = Literal["employees", "operating_revenue", "total_assets"]
FamilySituation = Literal["single", "couple", "young-children", "older-children", "empty-nest", "retired"]
INDUSTRIES = (
    "agriculture", "industry", "construction", "wholesale", "retail", "transport", "warehousing",
    "postal", "accommodation", "catering", "information_transmission", "software_it",
    "real_estate_development", "property_management", "leasing_business_services", "other",
)


class RulesError(AdvisorError):
    """A rule table in knowledge/data is missing or inconsistent."""


class IndustryBounds(BaseModel):
    label: str
    label_zh: str = ""
    sme_below: dict[Measure, float] = Field(min_length=1)
    medium_from: dict[Measure, float] = Field(min_length=1)
    small_from: dict[Measure, float] = Field(min_length=1)

    @model_validator(mode="after")
    def _ordered(self) -> "IndustryBounds":
        for measure, medium in self.medium_from.items():
            small = self.small_from.get(measure)
            if small is not None and small > medium:
                raise ValueError(f"small bound {small} for {measure} is above the medium bound {medium}")
        return self

    @property
    def measures(self) -> list[Measure]:
        return list(dict.fromkeys([*self.sme_below, *self.medium_from, *self.small_from]))


class SmeStandard(BaseModel):
    name: str
    reference: str = ""
    doc: str = "sme-size-classification"
    industries: dict[str, IndustryBounds]

    @model_validator(mode="after")
    def _complete(self) -> "SmeStandard":
        missing = [i for i in INDUSTRIES if i not in self.industries]
        if missing:
            raise ValueError(f"industries missing from the table: {missing}")
        return self


class Tier(BaseModel):
    id: str
    name: str
    name_zh: str = ""
    min_aum_rmb: float = Field(ge=0)
    max_aum_rmb: float | None = None
    customer_share: str = ""
    service_model: str
    coverage: str = ""
    service_model_zh: str = ""
    coverage_zh: str = ""
    doc: str


class QualifiedInvestor(BaseModel):
    household_financial_net_assets_rmb: float
    household_financial_assets_rmb: float
    average_annual_income_rmb: float
    doc: str


class TierTable(BaseModel):
    basis: str
    tiers: list[Tier] = Field(min_length=1)
    qualified_investor: QualifiedInvestor | None = None

    @model_validator(mode="after")
    def _contiguous(self) -> "TierTable":
        tiers = self.tiers
        if tiers[0].min_aum_rmb != 0:
            raise ValueError("the first tier must start at 0")
        for low, high in zip(tiers, tiers[1:]):
            if low.max_aum_rmb is None or low.max_aum_rmb != high.min_aum_rmb or low.min_aum_rmb >= low.max_aum_rmb:
                raise ValueError(f"tiers '{low.id}' and '{high.id}' are not ordered and contiguous")
        if tiers[-1].max_aum_rmb is not None:
            raise ValueError("the last tier must be open-ended (max_aum_rmb: null)")
        return self

    def tier_for(self, aum: float) -> Tier:
        for tier in self.tiers:
            if aum >= tier.min_aum_rmb and (tier.max_aum_rmb is None or aum < tier.max_aum_rmb):
                return tier
        raise ValueError(f"no tier for AUM {aum}")


class StageCondition(BaseModel):
    min_age: int | None = None
    max_age: int | None = None
    family: list[str] | None = None
    occupation_keywords: list[str] | None = None


class LifeStage(BaseModel):
    id: str
    name: str
    when: StageCondition


class LifeStageTable(BaseModel):
    doc: str
    stages: list[LifeStage] = Field(min_length=1)


class Need(BaseModel):
    id: str
    label: str
    label_zh: str = ""
    client_types: list[Literal["enterprise", "individual"]]
    keywords: list[str] = Field(min_length=1)


class Product(BaseModel):
    id: str
    name: str
    name_zh: str = ""
    description: str
    description_zh: str = ""
    client_types: list[Literal["enterprise", "individual"]]
    segments: list[str] = Field(min_length=1)
    needs: list[str] = Field(min_length=1)
    risk_level: Literal["R1", "R2", "R3", "R4", "R5"] | None = None
    risks: str = ""
    doc: str
    industries: list[str] = Field(default_factory=list, description=(
        "For enterprises: the industries (sme_standard_2011.yaml ids) the product is made for; empty: any. A "
        "merchant-flow loan is sized on card and QR takings, which a shop has and a workshop does not."))
    not_for_life_stages: list[str] = Field(default_factory=list, description=(
        "Life stages (life_stages.yaml ids) this product is never put in a bundle for, even for a need it serves: "
        "a personal pension account for a retiree, a long annuity policy for a 72-year-old saver."))


class GlossaryEntry(BaseModel):
    term: str
    zh: str
    definition: str
    doc: str
    definition_zh: str = ""


class NextSteps(BaseModel):
    d30: list[str] = Field(min_length=1)
    d60: list[str] = Field(min_length=1)
    d90: list[str] = Field(min_length=1)


class SegmentPlay(BaseModel):
    """What the bank does for one segment: the backbone of a draft service plan."""

    id: str
    label: str
    client_type: Literal["enterprise", "individual"]
    expected_needs: list[str] = Field(min_length=1)
    service_model: str
    team: str
    cadence: list[str] = Field(min_length=1)
    pricing: list[str] = Field(min_length=1)
    risks: list[str] = Field(min_length=1)
    kpis: list[str] = Field(min_length=1)
    next_steps: NextSteps
    docs: list[str] = Field(min_length=1)


class SegmentWords(BaseModel):
    """A segment's playbook in another language (segments.zh.yaml): the same items in the same order, so
    item n of the Chinese plan is item n of the English one and carries the same citation."""

    label: str
    service_model: str
    team: str
    cadence: list[str]
    pricing: list[str]
    risks: list[str]
    kpis: list[str]
    next_steps: NextSteps

    def differs_from(self, play: SegmentPlay) -> list[str]:
        """The lists whose length differs from the English playbook's (empty when in step)."""
        pairs = {"cadence": (self.cadence, play.cadence), "pricing": (self.pricing, play.pricing),
                 "risks": (self.risks, play.risks), "kpis": (self.kpis, play.kpis),
                 **{f"next_steps.{d}": (getattr(self.next_steps, d), getattr(play.next_steps, d)) for d in ("d30", "d60", "d90")}}
        return [f"{name} has {len(mine)} items, the English {len(theirs)}" for name, (mine, theirs) in pairs.items()
                if len(mine) != len(theirs)]


class StageRisk(BaseModel):
    """A risk every client of one life stage carries, whatever the segment (the retiree's fraud exposure)."""

    model_config = ConfigDict(extra="forbid")

    en: str = Field(min_length=10)
    zh: str = Field(min_length=4)
    doc: str = Field(description="The document the citation is looked up in first.")


class OwnerNeeds(BaseModel):
    """Business credit is a need of the shopkeeper, not of the salaried engineer beside him in the same tier.

    >>> OwnerNeeds(needs=["business-credit"], occupation_keywords=["owner", "老板"]).runs_business("shop owner")
    True
    """

    needs: list[str] = Field(min_length=1)
    occupation_keywords: list[str] = Field(min_length=1)

    def runs_business(self, occupation: str | None) -> bool | None:
        """None when the occupation is not known: then the needs stay."""
        if not occupation or not occupation.strip():
            return None
        low = occupation.lower()
        return any(k.lower() in low for k in self.occupation_keywords)


class Playbook(BaseModel):
    segments: list[SegmentPlay] = Field(min_length=1)
    life_stage_needs: dict[str, list[str]] = Field(default_factory=dict)
    life_stage_excluded_needs: dict[str, list[str]] = Field(default_factory=dict)
    family_excluded_needs: dict[FamilySituation, list[str]] = Field(default_factory=dict, description=(
        "Needs dropped from the expected ones (and the bundle) for a family situation, unless stated: "
        "education funding for a single client or a couple without children."))
    owner_needs: OwnerNeeds | None = Field(None, description=(
        "Needs only an individual who runs a business has, dropped when the known occupation names none."))
    life_stage_risks: dict[str, list[StageRisk]] = Field(default_factory=dict, description=(
        "Risks added to the plan of every individual at that life stage, before the segment's own."))

    def segment(self, segment_id: str) -> SegmentPlay:
        for play in self.segments:
            if play.id == segment_id:
                return play
        raise RulesError(f"segments.yaml has no entry for segment '{segment_id}'")


class RuleBook(BaseModel):
    """Everything under knowledge/data in one validated object."""

    sme: SmeStandard
    tiers: TierTable
    life_stages: LifeStageTable
    needs: list[Need]
    products: list[Product]
    playbook: Playbook
    playbook_zh: dict[str, SegmentWords] = Field(default_factory=dict, description="segments.zh.yaml, by segment id.")
    glossary: list[GlossaryEntry] = Field(default_factory=list)

    @model_validator(mode="after")
    def _cross_refs(self) -> "RuleBook":
        need_ids = {n.id for n in self.needs}
        for product in self.products:
            unknown = [n for n in product.needs if n not in need_ids]
            if unknown:
                raise ValueError(f"product '{product.id}' names unknown needs {unknown}")
            unknown = [i for i in product.industries if i not in INDUSTRIES]
            if unknown:
                raise ValueError(f"product '{product.id}' names unknown industries {unknown}; use ids of sme_standard_2011.yaml")
        for play in self.playbook.segments:
            unknown = [n for n in play.expected_needs if n not in need_ids]
            if unknown:
                raise ValueError(f"segment '{play.id}' expects unknown needs {unknown}")
        plays = {play.id: play for play in self.playbook.segments}
        for segment_id, words in self.playbook_zh.items():
            if segment_id not in plays:
                raise ValueError(f"segments.zh.yaml names unknown segment '{segment_id}'")
            differs = words.differs_from(plays[segment_id])
            if differs:
                raise ValueError(f"segments.zh.yaml, segment '{segment_id}': {'; '.join(differs)}")
        owner = [("owner_needs", self.playbook.owner_needs.needs)] if self.playbook.owner_needs else []
        for stage, needs in [*self.playbook.life_stage_needs.items(), *self.playbook.family_excluded_needs.items(), *owner]:
            unknown = [n for n in needs if n not in need_ids]
            if unknown:
                raise ValueError(f"life stage or family situation '{stage}' names unknown needs {unknown}")
        stages = {s.id for s in self.life_stages.stages}
        named = [(f"product '{p.id}' (not_for_life_stages)", st) for p in self.products for st in p.not_for_life_stages]
        named += [(f"segments.yaml {key}", st) for key in ("life_stage_needs", "life_stage_excluded_needs", "life_stage_risks")
                  for st in getattr(self.playbook, key)]
        for where, stage in named:
            if stage not in stages:
                raise ValueError(f"{where} names unknown life stage '{stage}'; life_stages.yaml has {sorted(stages)}")
        return self

    def need(self, need_id: str) -> Need | None:
        return next((n for n in self.needs if n.id == need_id), None)

    def product(self, product_id: str) -> Product | None:
        return next((p for p in self.products if p.id == product_id), None)


def _read(path: Path):
    if not path.exists():
        raise RulesError(f"rule file missing: {path}")
    try:
        return load_yaml(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise RulesError(f"{path}: not valid YAML ({str(exc).splitlines()[0]})") from exc


def _read_glossary(folder: Path) -> list:
    single = folder / "glossary.yaml"
    if single.exists():
        return _read(single) or []
    parts = sorted((folder / "glossary_parts").glob("*.yaml")) if (folder / "glossary_parts").is_dir() else []
    return [entry for part in parts for entry in (_read(part) or [])]


def load_rules(folder: Path) -> RuleBook:
    try:
        return RuleBook(
            sme=_read(folder / "sme_standard_2011.yaml"),
            tiers=_read(folder / "retail_tiers.yaml"),
            life_stages=_read(folder / "life_stages.yaml"),
            needs=_read(folder / "needs.yaml"),
            products=_read(folder / "products.yaml"),
            playbook=_read(folder / "segments.yaml"),
            playbook_zh=(_read(folder / "segments.zh.yaml") or {}).get("segments", {}) if (folder / "segments.zh.yaml").exists() else {},
            glossary=_read_glossary(folder),
        )
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise RulesError(f"rule tables in {folder} are inconsistent: {where}: {first['msg']} "
                         f"({exc.error_count()} problem(s))") from exc


@lru_cache(maxsize=8)
def cached_rules(folder: str, stamp: float) -> RuleBook:
    return load_rules(Path(folder))


def rules_for(folder: Path) -> RuleBook:
    """Load once per change of the folder's files (their newest mtime is the cache key)."""
    stamp = max((p.stat().st_mtime for p in folder.rglob("*.yaml")), default=0.0)
    return cached_rules(str(folder), stamp)
