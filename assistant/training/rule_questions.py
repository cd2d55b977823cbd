"""Questions answered by the rule tables (2011 SME standard, retail tiers, qualified investors) and by the classifier on the example profiles.
"""
from __future__ import annotations

import math
import random
import re
from collections.abc import Sequence
from functools import partial
from itertools import combinations

from assistant.clients.profiles import EnterpriseProfile, IndividualProfile
from assistant.clients.rules import IndustryBounds, Tier, TierTable
from assistant.clients.segmentation import MEASURE_LABEL, classify
from assistant.training.material import TrainingKnowledge, _word
from assistant.training.models import OPTIONS, Citation, Question, QuizSections
from assistant.training.questions import _assemble, _Draft, _flat, _Stem, _stem, _topics

# --- rule-table questions (the 2011 SME standard, retail tiers, qualified investors)


MEASURE_ORDER = ("employees", "operating_revenue", "total_assets")
BOUND_TABLES = ("sme_below", "medium_from", "small_from")
BOUND_PROMPTS = {
    "sme_below": "Under the 2011 SME standard, in the industry “{industry}”, below what {measure} is an enterprise "
                 "an SME (being below the ceiling on any one measure is enough)?",
    "medium_from": "Under the 2011 SME standard, in the industry “{industry}”, what {measure} must an SME reach "
                   "(together with its other lower bounds) to be medium rather than small?",
    "small_from": "Under the 2011 SME standard, in the industry “{industry}”, what {measure} must an SME reach "
                  "(together with its other lower bounds) to be small rather than micro?",
}
PROMPT_MEASURE = {"employees": "number of employees", "operating_revenue": "operating revenue", "total_assets": "total assets"}
QI_LABELS = {
    "household_financial_net_assets_rmb": "household financial net assets",
    "household_financial_assets_rmb": "household financial assets",
    "average_annual_income_rmb": "average annual income over the last three years",
}
FACTORS = (0.5, 2.0, 0.2, 5.0, 0.1, 10.0, 0.3, 3.0)
SIZE_OPTIONS = {"micro": "Micro", "small": "Small", "medium": "Medium", "large": "Large (not an SME)"}


def _quiz_sections(k: TrainingKnowledge) -> QuizSections:
    return k.curriculum.quiz_sections if k.curriculum else QuizSections()


def _measure_set(measures: Sequence[str]) -> str:
    labels = [MEASURE_LABEL[m] for m in MEASURE_ORDER if m in measures]
    return f"{labels[0]} only" if len(labels) == 1 else ", ".join(labels[:-1]) + f" and {labels[-1]}"


def _amount(unit: str, value: float) -> str:
    if unit == "employees":
        return f"{value:,.0f} employee" + ("" if value == 1 else "s")
    if unit == "rmb":
        return f"RMB {value:,.0f}"
    return f"{value:,.0f} 万元 (RMB {value * 10_000:,.0f})"


def _unit(measure: str) -> str:
    return "employees" if measure == "employees" else "wan"


def _nice(value: float, integer: bool) -> float:
    """Two significant digits, so distractors look like numbers a regulator would write."""
    nice = float(f"{value:.2g}")
    return float(max(1, round(nice))) if integer else nice


def _nearby(answer: float, pool: Sequence[float], rng: random.Random, integer: bool) -> list[float]:
    """Three plausible wrong numbers: other values of the same table first, then simple multiples."""
    candidates = {_nice(v, integer) for v in pool} | {_nice(answer * f, integer) for f in FACTORS}
    ranked = sorted(c for c in candidates if c > 0 and c != answer)
    ranked.sort(key=lambda c: (abs(math.log(c / answer)), c))
    near = ranked[:6]
    return rng.sample(near, OPTIONS - 1) if len(near) >= OPTIONS - 1 else []


def _numeric_question(draft: _Draft, value: float, pool: tuple[float, ...], unit: str, rng: random.Random) -> Question | None:
    """Numbers as options, in ascending order as on a paper test; the answer is never rounded away."""
    wrong = _nearby(value, pool, rng, integer=unit == "employees")
    by_text = {_amount(unit, v): v for v in (value, *wrong)}
    return _assemble(draft, [_amount(unit, v) for v in wrong], rng,
                     arrange=lambda options: sorted(options, key=by_text.__getitem__))


def _numeric_stem(draft: _Draft, value: float, pool: Sequence[float], unit: str) -> _Stem | None:
    if not draft.sources:
        return None
    return _Stem(draft.family, draft.key, draft.topics, partial(_numeric_question, draft, value, tuple(pool), unit))


def _industry_summary(bounds: IndustryBounds) -> str:
    def part(table: dict) -> str:
        return " and ".join(_amount(_unit(m), v) for m, v in table.items())
    return (f"SME when below {' or '.join(_amount(_unit(m), v) for m, v in bounds.sme_below.items())}; "
            f"medium from {part(bounds.medium_from)}; small from {part(bounds.small_from)}; otherwise micro")


def _sme_stems(k: TrainingKnowledge) -> list[_Stem | None]:
    sme = k.rules.sme
    sections = _quiz_sections(k)
    topics = _topics(k, [sme.doc])
    sources = tuple(c for c in [k.cite(sme.doc, sections.sme_measures)] if c)
    used = list(dict.fromkeys(tuple(m for m in MEASURE_ORDER if m in b.measures) for b in sme.industries.values()))
    every = [c for size in (1, 2, 3) for c in combinations(MEASURE_ORDER, size)]
    values = {unit: [v for b in sme.industries.values() for t in BOUND_TABLES for m, v in getattr(b, t).items()
                     if _unit(m) == unit] for unit in ("employees", "wan")}
    stems: list[_Stem | None] = []
    for industry, bounds in sme.industries.items():
        answer = tuple(m for m in MEASURE_ORDER if m in bounds.measures)
        explanation = f"{bounds.label} ({bounds.label_zh}): {_industry_summary(bounds)}."
        prompt = f"Under the 2011 SME standard, which measures decide the size class of an enterprise in the industry “{bounds.label}”?"
        stems.append(_stem(_Draft("sme-measures", industry, "fact", topics, prompt, _measure_set(answer), explanation, sources),
                           [_measure_set(s) for s in used if s != answer],
                           [_measure_set(s) for s in every if s != answer and s not in used]))
        for table in BOUND_TABLES:
            for measure, value in getattr(bounds, table).items():
                prompt = BOUND_PROMPTS[table].format(industry=bounds.label, measure=PROMPT_MEASURE[measure])
                draft = _Draft("sme-bound", f"{industry}/{table}/{measure}", "fact", topics, prompt,
                               _amount(_unit(measure), value), explanation, sources)
                stems.append(_numeric_stem(draft, value, values[_unit(measure)], _unit(measure)))
    return stems


def _basis(basis: str) -> str:
    return re.sub(r",?\s*RMB\s*$", "", basis).strip() or "AUM"


def _tier_range(tier: Tier) -> str:
    if tier.max_aum_rmb is None:
        return f"{tier.name} from RMB {tier.min_aum_rmb:,.0f}"
    return f"{tier.name} RMB {tier.min_aum_rmb:,.0f} to below {tier.max_aum_rmb:,.0f}"


def _tier_name(tier: Tier) -> str:
    return f"{tier.name} ({tier.name_zh})" if tier.name_zh else tier.name


def _tier_stems(k: TrainingKnowledge) -> list[_Stem | None]:
    table = k.rules.tiers
    sections = _quiz_sections(k)
    qi = table.qualified_investor
    pool = [t.min_aum_rmb for t in table.tiers if t.min_aum_rmb > 0] + ([getattr(qi, f) for f in QI_LABELS] if qi else [])
    explanation = f"The tiers ({table.basis}; illustrative bounds the bank calibrates): {'; '.join(map(_tier_range, table.tiers))}."
    stems: list[_Stem | None] = []
    for tier in table.tiers:
        topics = _topics(k, [tier.doc])
        sources = tuple(c for c in [k.cite(tier.doc, sections.retail_tiers)] if c)
        others = [_tier_name(t) for t in table.tiers if t.id != tier.id]
        if tier.min_aum_rmb > 0:
            prompt = f"In the bank's retail tier scheme, from what {_basis(table.basis)} does a client enter the {_tier_name(tier)} tier?"
            stems.append(_numeric_stem(_Draft("tier-threshold", tier.id, "fact", topics, prompt, _amount("rmb", tier.min_aum_rmb),
                                              explanation, sources), tier.min_aum_rmb, pool, "rmb"))
        stems.append(_service_stem(k, tier, others, topics))
        if sources and len(others) >= OPTIONS - 1:
            stems.append(_Stem("tier-aum", tier.id, topics, partial(_aum_question, tier, table, others, topics, sources, explanation)))
    if qi:
        topics = _topics(k, [qi.doc])
        sources = tuple(c for c in [k.cite(qi.doc, sections.qualified_investor)] if c)
        rule = "; ".join(f"{label} of at least RMB {getattr(qi, f):,.0f}" for f, label in QI_LABELS.items())
        explanation = f"A natural person needs two years' investment experience and one of: {rule}."
        for name, label in QI_LABELS.items():
            prompt = (f"Under the 2018 asset-management rules, what {label} (at least) makes a natural person with two "
                      f"years' investment experience a qualified investor?")
            value = getattr(qi, name)
            stems.append(_numeric_stem(_Draft("qualified-investor", name, "fact", topics, prompt, _amount("rmb", value),
                                              explanation, sources), value, pool, "rmb"))
    return stems


def _service_stem(k: TrainingKnowledge, tier: Tier, others: list[str], topics: tuple[str, ...]) -> _Stem | None:
    """Which tier gets this service model; the tier's own name is masked so the text does not give it away."""
    base = _quiz_sections(k).retail_service
    cite = k.cite(tier.doc, f"{base} > {tier.name}") if base else None
    if cite is None or cite.section is None:
        cite = k.cite(tier.doc, base)
    masked = _word(tier.name).sub("…", _flat(tier.service_model))
    draft = _Draft("tier-service", tier.id, "fact", topics,
                   f"In the bank's retail tier scheme, which tier is served this way: “{masked}”?", _tier_name(tier),
                   f"{_tier_name(tier)}: {_flat(tier.service_model)}", tuple(c for c in [cite] if c))
    return _stem(draft, others)


def _aum_question(tier: Tier, table: TierTable, others: list[str], topics: tuple[str, ...], sources: tuple[Citation, ...],
                  explanation: str, rng: random.Random) -> Question | None:
    """A drawn balance inside the tier (never on a bound), so the tier is unambiguous."""
    low = tier.min_aum_rmb
    high = tier.max_aum_rmb if tier.max_aum_rmb is not None else max(low * 4, 1.0)
    amount = _nice(rng.uniform(low + (high - low) * 0.1, low + (high - low) * 0.9), integer=True)
    if table.tier_for(amount).id != tier.id:
        return None
    draft = _Draft("tier-aum", f"{tier.id}/{amount:.0f}", "fact", topics,
                   f"A client's {_basis(table.basis)} is RMB {amount:,.0f}. Which value tier of the bank's retail tier "
                   f"scheme is the client in?", _tier_name(tier),
                   f"RMB {amount:,.0f} falls in {_tier_range(tier)}. {explanation}", sources)
    return _assemble(draft, rng.sample(others, OPTIONS - 1), rng)


# --- scenario questions from the example profiles


def describe_profile(profile: EnterpriseProfile | IndividualProfile, k: TrainingKnowledge) -> str:
    """The facts the classifier uses, in a sentence a trainee can reason from."""
    if isinstance(profile, EnterpriseProfile):
        industry = k.rules.sme.industries[profile.industry].label
        text = (f"{profile.name}: an enterprise in the industry “{industry}” (ownership: {profile.ownership.replace('-', ' ')}) "
                f"with {profile.employees:,} employees and operating revenue of RMB {profile.operating_revenue_rmb:,.0f}")
        if profile.total_assets_rmb is not None:
            text += f", total assets RMB {profile.total_assets_rmb:,.0f}"
        if profile.supply_chain_role in ("supplier", "dealer") and profile.anchor_firm:
            text += f"; it is a {profile.supply_chain_role} of the anchor firm {profile.anchor_firm}"
        elif profile.supply_chain_role == "anchor":
            text += "; it is the anchor firm of its own supply chain"
        return text + "."
    text = (f"{profile.name}: aged {profile.age}, {profile.occupation or 'occupation not given'}, family situation "
            f"“{profile.family_situation.replace('-', ' ')}”, RMB {profile.aum_rmb:,.0f} of AUM at the bank "
            f"(monthly average daily balance) and annual income of RMB {profile.annual_income_rmb:,.0f}")
    return text + ("; owns a business." if profile.business_owner else ".")


def _scenario_stems(k: TrainingKnowledge) -> list[_Stem | None]:
    sections = _quiz_sections(k)
    plays = {p.id: p for p in k.rules.playbook.segments}
    stems: list[_Stem | None] = []
    for name, profile in k.profiles.items():
        result = classify(profile, k.rules)
        play = plays.get(result.segment)
        if play is None:
            continue
        enterprise = isinstance(profile, EnterpriseProfile)
        rule_doc = k.rules.sme.doc if enterprise else k.rules.tiers.tier_for(profile.aum_rmb).doc
        rule_cite = k.cite(rule_doc, sections.sme_reading_rule if enterprise else sections.retail_tiers)
        play_doc = next((d for d in play.docs if d in k.docs), None)
        play_cite = k.cite(play_doc) if play_doc and play_doc != rule_doc else None
        described = describe_profile(profile, k)
        reasons = "; ".join(result.reasons)
        # a supply-chain or platform client is also "true" to its size-class segment: never offer that as wrong
        size_segment = {"micro": "micro-business", "small": "small-business", "medium": "medium-enterprise"}.get(result.size_class or "")
        others = [p.label for p in plays.values() if p.client_type == play.client_type and p.id not in (play.id, size_segment)]
        stems.append(_stem(_Draft("scenario-segment", name, "scenario", _topics(k, [play_doc, rule_doc]),
                                  f"Under the bank's segmentation rules, which segment is this client served as? {described}",
                                  play.label, f"The classifier places the client in {result.segment_label} [{result.segment}]: {reasons}.",
                                  tuple(c for c in (rule_cite, play_cite) if c)), others))
        if enterprise and result.size_class and rule_cite is not None:
            draft = _Draft("scenario-size", name, "scenario", _topics(k, [rule_doc]),
                           f"Under the 2011 SME standard, what is this enterprise's size class? {described}",
                           SIZE_OPTIONS[result.size_class], f"{reasons}.", (rule_cite,))
            order = list(SIZE_OPTIONS.values())
            stems.append(_Stem(draft.family, draft.key, draft.topics, partial(
                _assemble, draft, [v for v in order if v != draft.answer], arrange=lambda _o, order=order: list(order))))
    return stems
