"""Explained segmentation: every decision comes with the rule and the numbers that made it.

Relationship staff have to defend a segment to a credit committee, so ``reasons`` reads like the
working a banker would write, e.g. "wholesale: employees 30 >= 20 but revenue 800 万元 < 5000".
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

from assistant.clients.profiles import EnterpriseProfile, IndividualProfile
from assistant.clients.rules import IndustryBounds, RuleBook
from assistant.errors import InputError

SizeClass = Literal["micro", "small", "medium", "large"]
FIELD_OF = {"employees": "employees", "operating_revenue": "operating_revenue_rmb", "total_assets": "total_assets_rmb"}
MEASURE_LABEL = {"employees": "employees", "operating_revenue": "operating revenue", "total_assets": "total assets"}

SEGMENT_LABELS = {
    "micro-business": "Micro business",
    "small-business": "Small business",
    "medium-enterprise": "Medium enterprise",
    "supply-chain-supplier": "Supply-chain supplier",
    "major-client": "Major client",
}


class Classification(BaseModel):
    client_type: Literal["enterprise", "individual"]
    name: str
    size_class: SizeClass | None = None
    value_tier: str | None = None
    life_stage: str | None = None
    segment: str = Field(description="Segment id the plan is built for (the knowledge base's segment vocabulary).")
    segment_label: str
    reasons: list[str]
    readings: list[str] = Field(default_factory=list, description="How free words in the profile were read "
                                "(risk words, family descriptions), each with the value read and the rule.")


def _fmt(measure: str, value: float) -> str:
    if measure == "employees":
        return f"{value:g}"
    return f"{value:,.2f}".rstrip("0").rstrip(".") + " 万元"


def measure_values(profile: EnterpriseProfile, bounds: IndustryBounds, industry: str) -> dict[str, float]:
    values: dict[str, float] = {}
    for measure in bounds.measures:
        raw = getattr(profile, FIELD_OF[measure])
        if raw is None:
            raise InputError(f"{FIELD_OF[measure]}: required to size a '{industry}' enterprise under the 2011 standard")
        values[measure] = raw if measure == "employees" else raw / 10_000  # yuan -> 万元
    return values


def size_class(profile: EnterpriseProfile, rules: RuleBook) -> tuple[SizeClass, list[str]]:
    """The 2011 reading rule: SME when below ANY SME bound; medium/small need ALL lower bounds."""
    bounds = rules.sme.industries[profile.industry]
    values = measure_values(profile, bounds, profile.industry)
    label = f"{bounds.label} (2011 standard)"
    below = [m for m, bound in bounds.sme_below.items() if values[m] < bound]
    if not below:
        shown = " and ".join(f"{MEASURE_LABEL[m]} {_fmt(m, values[m])} >= {_fmt(m, b)}" for m, b in bounds.sme_below.items())
        return "large", [f"{label}: {shown}, so not an SME: large"]
    reasons = [f"{label}: SME because " + " or ".join(
        f"{MEASURE_LABEL[m]} {_fmt(m, values[m])} < {_fmt(m, bounds.sme_below[m])}" for m in below)]
    for cls, table in (("medium", bounds.medium_from), ("small", bounds.small_from)):
        short = [m for m, b in table.items() if values[m] < b]
        if not short:
            met = " and ".join(f"{MEASURE_LABEL[m]} {_fmt(m, values[m])} >= {_fmt(m, b)}" for m, b in table.items())
            reasons.append(f"{cls}: {met}")
            return cls, reasons  # type: ignore[return-value]
        missed = ", ".join(f"{MEASURE_LABEL[m]} {_fmt(m, values[m])} < {_fmt(m, table[m])}" for m in short)
        reasons.append(f"not {cls}: {missed}")
    reasons.append("micro: below the small-enterprise lower bounds")
    return "micro", reasons


def classify_enterprise(profile: EnterpriseProfile, rules: RuleBook) -> Classification:
    size, reasons = size_class(profile, rules)
    if size == "large":
        segment = "major-client"
        kind = {"state-owned": "large state-owned enterprise", "listed-private": "listed private group",
                "local-government-platform": "local government platform company"}.get(profile.ownership, "large corporate")
        reasons.append(f"segment: major client, as a {kind} (large under the 2011 standard)")
        label = f"Major client ({kind})"
    elif profile.ownership == "local-government-platform":
        segment, label = "major-client", "Major client (local government platform company)"
        reasons.append("segment: major client, because local government platform companies are covered as "
                       "strategic clients whatever their size class (watch concentration and hidden-debt rules)")
    elif profile.supply_chain_role in ("supplier", "dealer") and profile.anchor_firm:
        segment, label = "supply-chain-supplier", f"Supply-chain {profile.supply_chain_role} of {profile.anchor_firm}"
        reasons.append(f"segment: supply-chain {profile.supply_chain_role}, because it sells to or buys from the anchor "
                       f"firm {profile.anchor_firm} and can be financed on the anchor's credit (1+N)")
    else:
        segment = {"micro": "micro-business", "small": "small-business", "medium": "medium-enterprise"}[size]
        label = SEGMENT_LABELS[segment]
        reasons.append(f"segment: {label.lower()}, from the size class")
        if profile.supply_chain_role == "anchor":
            reasons.append("note: an anchor firm; its suppliers and dealers are a supply-chain finance opportunity")
    return Classification(client_type="enterprise", name=profile.name, size_class=size, segment=segment,
                          segment_label=label, reasons=reasons)


def life_stage(profile: IndividualProfile, rules: RuleBook) -> tuple[str, str]:
    occupation = (profile.occupation or "").lower()
    for stage in rules.life_stages.stages:
        w = stage.when
        if w.min_age is not None and profile.age < w.min_age:
            continue
        if w.max_age is not None and profile.age > w.max_age:
            continue
        if w.family is not None and profile.family_situation not in w.family:
            continue
        if w.occupation_keywords is not None and not any(k in occupation for k in w.occupation_keywords):
            continue
        return stage.id, stage.name
    return "adult", "Adult"


def classify_individual(profile: IndividualProfile, rules: RuleBook) -> Classification:
    table = rules.tiers
    tier = table.tier_for(profile.aum_rmb)
    upper = f"< {tier.max_aum_rmb:,.0f}" if tier.max_aum_rmb is not None else "and above"
    reasons = [f"value tier: {tier.name} ({tier.name_zh}), because AUM RMB {profile.aum_rmb:,.0f} is in "
               f"[{tier.min_aum_rmb:,.0f}, {upper.lstrip('< ') if tier.max_aum_rmb is None else tier.max_aum_rmb:,.0f}) "
               f"of the tier table ({table.basis})" if tier.max_aum_rmb is not None else
               f"value tier: {tier.name} ({tier.name_zh}), because AUM RMB {profile.aum_rmb:,.0f} >= {tier.min_aum_rmb:,.0f}"]
    stage_id, stage_name = life_stage(profile, rules)
    reasons.append(f"life stage: {stage_name.lower()} (age {profile.age}, family '{profile.family_situation}'"
                   + (f", occupation '{profile.occupation}'" if profile.occupation else "") + ")")
    index = table.tiers.index(tier)
    if index + 1 < len(table.tiers):
        nxt = table.tiers[index + 1]
        if profile.aum_rmb >= 0.8 * nxt.min_aum_rmb:
            reasons.append(f"migration: within 20% of the {nxt.name} threshold (RMB {nxt.min_aum_rmb:,.0f}); an upgrade candidate")
    qi = table.qualified_investor
    if qi and (profile.aum_rmb >= qi.household_financial_net_assets_rmb or profile.annual_income_rmb >= qi.average_annual_income_rmb):
        reasons.append("qualified investor: may qualify under the 2018 asset-management rules (AUM or income above the "
                       "threshold); verify two years' investment experience and household assets before selling private products")
    if profile.business_owner:
        reasons.append("business owner: link personal and company service (公私联动)")
    return Classification(client_type="individual", name=profile.name, value_tier=tier.id, life_stage=stage_id,
                          segment=tier.id, segment_label=f"{tier.name} · {stage_name.lower()}", reasons=reasons,
                          readings=profile.readings)


def classify(profile: EnterpriseProfile | IndividualProfile, rules: RuleBook) -> Classification:
    if isinstance(profile, EnterpriseProfile):
        return classify_enterprise(profile, rules)
    return classify_individual(profile, rules)
