"""Profiles and explained segmentation against an independent transcription of the 2011 table."""

import json

import pytest

from assistant.clients.profiles import ProfileError, load_profiles, validate_profile
from assistant.clients.rules import rules_for
from assistant.clients.segmentation import classify

from .conftest import KNOWLEDGE

RULES = rules_for(KNOWLEDGE / "data")

# Transcribed by hand from ../shared/sme_standard_2011.md (units: persons and 万元), written
# independently of knowledge/data/sme_standard_2011.yaml so each checks the other.
# industry: (sme_below {measure: bound}, medium_from, small_from)
E, R, A = "employees", "operating_revenue_rmb", "total_assets_rmb"
TABLE = {
    "agriculture": ({R: 20000}, {R: 500}, {R: 50}),
    "industry": ({E: 1000, R: 40000}, {E: 300, R: 2000}, {E: 20, R: 300}),
    "construction": ({R: 80000, A: 80000}, {R: 6000, A: 5000}, {R: 300, A: 300}),
    "wholesale": ({E: 200, R: 40000}, {E: 20, R: 5000}, {E: 5, R: 1000}),
    "retail": ({E: 300, R: 20000}, {E: 50, R: 500}, {E: 10, R: 100}),
    "transport": ({E: 1000, R: 30000}, {E: 300, R: 3000}, {E: 20, R: 200}),
    "warehousing": ({E: 200, R: 30000}, {E: 100, R: 1000}, {E: 20, R: 100}),
    "postal": ({E: 1000, R: 30000}, {E: 300, R: 2000}, {E: 20, R: 100}),
    "accommodation": ({E: 300, R: 10000}, {E: 100, R: 2000}, {E: 10, R: 100}),
    "catering": ({E: 300, R: 10000}, {E: 100, R: 2000}, {E: 10, R: 100}),
    "information_transmission": ({E: 2000, R: 100000}, {E: 100, R: 1000}, {E: 10, R: 100}),
    "software_it": ({E: 300, R: 10000}, {E: 100, R: 1000}, {E: 10, R: 50}),
    "real_estate_development": ({R: 200000, A: 10000}, {R: 1000, A: 5000}, {R: 100, A: 2000}),
    "property_management": ({E: 1000, R: 5000}, {E: 300, R: 1000}, {E: 100, R: 500}),
    "leasing_business_services": ({E: 300, A: 120000}, {E: 100, A: 8000}, {E: 10, A: 100}),
    "other": ({E: 300}, {E: 100}, {E: 10}),
}


def oracle(industry: str, values: dict[str, float]) -> str:
    below, medium, small = TABLE[industry]
    if not any(values[m] < b for m, b in below.items()):
        return "large"
    if all(values[m] >= b for m, b in medium.items()):
        return "medium"
    if all(values[m] >= b for m, b in small.items()):
        return "small"
    return "micro"


def enterprise(industry: str, values: dict[str, float]) -> dict:
    """Values in persons and 万元, as in the table; the profile takes yuan."""
    return {"client_type": "enterprise", "name": "Test Co", "industry": industry,
            "employees": int(values.get(E, 50)),
            "operating_revenue_rmb": values.get(R, 1000) * 10_000,
            "total_assets_rmb": values.get(A, 1000) * 10_000}


def boundary_cases():
    """For every industry and every bound: a point just below, at and just above it, holding the
    other measures at values that make that bound decisive."""
    for industry, (below, medium, small) in TABLE.items():
        measures = sorted({*below, *medium, *small})
        for table in (below, medium, small):
            for measure, bound in table.items():
                for delta in (-1, 0, 1):
                    for base_from in (below, medium, small):
                        values = {m: (base_from.get(m, bound) if m != measure else bound + delta) for m in measures}
                        values = {m: max(v, 0) for m, v in values.items()}
                        yield industry, values


CASES = list(dict.fromkeys((i, tuple(sorted(v.items()))) for i, v in boundary_cases()))


def test_there_are_boundary_cases_for_all_16_industries():
    assert {i for i, _ in CASES} == set(TABLE) and len(TABLE) == 16
    assert len(CASES) > 300
    for industry in TABLE:  # the cases reach every class, so each boundary is really crossed
        outcomes = {oracle(i, dict(v)) for i, v in CASES if i == industry}
        assert outcomes == {"large", "medium", "small", "micro"}, industry


@pytest.mark.parametrize("industry, values", CASES, ids=[f"{i}-{'-'.join(f'{v:g}' for _, v in vals)}" for i, vals in CASES])
def test_size_class_at_and_around_every_threshold(industry, values):
    values = dict(values)
    result = classify(validate_profile(enterprise(industry, values)), RULES)
    assert result.size_class == oracle(industry, values), result.reasons


def test_the_documented_example_and_its_reasons():
    # 200 employees and revenue 50,000 万元: SME (employees < 1000), not medium (< 300), small.
    result = classify(validate_profile(enterprise("industry", {E: 200, R: 50000})), RULES)
    assert result.size_class == "small" and result.segment == "small-business"
    text = " | ".join(result.reasons)
    assert "employees 200 < 1000" in text and "not medium: employees 200 < 300" in text
    assert "operating revenue 50,000 万元 >= 300 万元" in text


def test_large_soe_is_a_major_client_and_platforms_are_too():
    soe = classify(validate_profile({**enterprise("industry", {E: 5000, R: 900000}), "ownership": "state-owned"}), RULES)
    assert (soe.size_class, soe.segment) == ("large", "major-client")
    platform = classify(validate_profile({**enterprise("construction", {R: 5000, A: 4000}), "ownership": "local-government-platform"}), RULES)
    assert platform.segment == "major-client" and platform.size_class != "large"


def test_supply_chain_supplier_segment_names_the_anchor():
    result = classify(validate_profile({**enterprise("industry", {E: 80, R: 5000}), "supply_chain_role": "supplier",
                                        "anchor_firm": "Anchor Group"}), RULES)
    assert result.segment == "supply-chain-supplier" and "Anchor Group" in result.segment_label


def individual(aum: float, **extra) -> dict:
    return {"client_type": "individual", "name": "Client", "age": 40, "aum_rmb": aum, **extra}


@pytest.mark.parametrize("aum, tier", [
    (0, "mass-retail"), (49_999.99, "mass-retail"), (50_000, "affluent"), (499_999, "affluent"),
    (500_000, "wealth"), (5_999_999, "wealth"), (6_000_000, "private-banking"), (1e9, "private-banking"),
])
def test_value_tier_bounds(aum, tier):
    result = classify(validate_profile(individual(aum)), RULES)
    assert result.value_tier == tier == result.segment
    assert any("value tier" in r for r in result.reasons)


def test_tier_table_is_ordered_and_contiguous():
    tiers = RULES.tiers.tiers
    assert [t.min_aum_rmb for t in tiers] == sorted(t.min_aum_rmb for t in tiers)
    assert all(a.max_aum_rmb == b.min_aum_rmb for a, b in zip(tiers, tiers[1:]))


@pytest.mark.parametrize("extra, stage", [
    ({"age": 67}, "retiree"), ({"age": 55, "family_situation": "retired"}, "retiree"),
    ({"age": 22, "occupation": "university student"}, "student"), ({"age": 52}, "pre-retiree"),
    ({"age": 33, "family_situation": "young-children"}, "young-family"), ({"age": 28}, "young-professional"),
])
def test_life_stages(extra, stage):
    assert classify(validate_profile(individual(100_000, **extra)), RULES).life_stage == stage


def test_near_threshold_client_is_flagged_for_migration():
    result = classify(validate_profile(individual(450_000)), RULES)
    assert any("upgrade candidate" in r for r in result.reasons)


@pytest.mark.parametrize("data, fragments", [
    ({**enterprise("industry", {E: 10, R: 10}), "operating_revenue_rmb": -5}, ["operating_revenue_rmb", "greater than or equal to 0"]),
    ({**enterprise("industry", {E: 10, R: 10}), "industry": "mining"}, ["industry", "one of agriculture", "'mining'"]),
    ({"client_type": "enterprise", "name": "X", "industry": "retail", "operating_revenue_rmb": 1}, ["employees", "required"]),
    ({**enterprise("industry", {E: 10, R: 10}), "employees": "many"}, ["employees", "valid integer"]),
    ({"name": "X"}, ["client_type", "'enterprise' or 'individual'"]),
    ({**individual(10), "aum": 5}, ["aum", "unknown field"]),
    ({**individual(10), "risk_appetite": "C9"}, ["risk_appetite"]),
])
def test_bad_profiles_name_the_field_and_what_is_allowed(data, fragments):
    with pytest.raises(ProfileError) as info:
        validate_profile(data)
    message = str(info.value)
    for fragment in fragments:
        assert fragment in message


def test_profile_files_json_yaml_and_lists(tmp_path):
    one = tmp_path / "one.yaml"
    one.write_text("client_type: individual\nname: Wang\nage: 30\naum_rmb: 80000\n", encoding="utf-8")
    assert load_profiles(one)[0].name == "Wang"
    many = tmp_path / "many.json"
    many.write_text(json.dumps([individual(1), enterprise("retail", {E: 5, R: 50})]), encoding="utf-8")
    assert [p.client_type for p in load_profiles(many)] == ["individual", "enterprise"]
    broken = tmp_path / "broken.json"
    broken.write_text("{\"client_type\": ", encoding="utf-8")
    with pytest.raises(ValueError, match="not valid JSON at line 1"):
        load_profiles(broken)
    bad_second = tmp_path / "bad.json"
    bad_second.write_text(json.dumps([individual(1), {"client_type": "individual"}]), encoding="utf-8")
    with pytest.raises(ProfileError, match="#2"):
        load_profiles(bad_second)


def test_every_example_profile_lands_in_its_intended_segment():
    expected = {
        "p01-micro-business": "micro-business", "p02-small-manufacturer": "small-business",
        "p03-medium-wholesaler": "supply-chain-supplier", "p04-supply-chain-supplier": "supply-chain-supplier",
        "p05-large-soe": "major-client", "p06-listed-private-group": "major-client",
        "p07-local-platform-company": "major-client", "p08-mass-retail": "mass-retail",
        "p09-young-professional": "affluent", "p10-affluent-family": "affluent", "p11-retiree": "wealth",
        "p12-private-banking-entrepreneur": "private-banking",
    }
    for stem, segment in expected.items():
        profile = load_profiles(KNOWLEDGE / "profiles" / f"{stem}.json")[0]
        assert classify(profile, RULES).segment == segment, stem
    assert classify(load_profiles(KNOWLEDGE / "profiles" / "p03-medium-wholesaler.json")[0], RULES).size_class == "medium"


# ----------------------------------------------------------------------------------- words staff write


@pytest.mark.parametrize("word, level", [
    ("conservative", "C1"), ("保守型", "C1"), ("cautious", "C2"), ("稳健型", "C2"), ("moderate", "C3"),
    ("Balanced", "C3"), ("平衡型", "C3"), ("growth", "C4"), ("成长型", "C4"), ("aggressive", "C5"), ("进取型", "C5"),
    (" c4 ", "C4"),
])
def test_risk_words_are_read_as_the_five_levels_and_the_classification_says_so(word, level):
    profile = validate_profile({**individual(300_000), "risk_appetite": word})
    assert profile.risk_appetite == level
    readings = classify(profile, RULES).readings
    how = "" if word == " c4 " else f" (the word {word.strip().lower()!r} is level {level} of C1-C5)"
    assert readings == [f"risk_appetite '{word}' read as {level}{how}"]


@pytest.mark.parametrize("text, situation, why", [
    ("married, two children aged 5 and 8", "young-children", "children aged 5, 8: youngest 5"),
    ("已婚，两个孩子，3岁和15岁", "young-children", "children aged 3, 15: youngest 3"),
    ("2 kids (14 and 17)", "older-children", "children aged 14, 17: youngest 14"),
    ("widowed, one son of 31", "empty-nest", "children aged 31: youngest 31"),
    ("married with children", "young-children", "children without ages; client aged 38 is under 45"),
    ("adult children who have left home", "empty-nest", "grown-up children"),
    ("retired, lives with his wife", "retired", "says retired"),
    ("married, no children", "couple", "married or living as a couple, no children mentioned"),
    ("单身", "single", "single, unmarried, divorced or widowed, no children mentioned"),
])
def test_family_descriptions_are_read_by_a_small_rule_that_is_reported(text, situation, why):
    profile = validate_profile({**individual(300_000, age=38), "family_situation": text})
    assert profile.family_situation == situation
    assert classify(profile, RULES).readings == [f"family_situation '{text}' read as {situation} ({why})"]


def test_a_read_family_drives_the_life_stage_and_canonical_values_need_no_note():
    read = classify(validate_profile({**individual(300_000, age=36), "family_situation": "married, two children aged 5 and 8",
                                      "risk_appetite": "moderate"}), RULES)
    assert read.life_stage == "young-family" and len(read.readings) == 2
    plain = classify(validate_profile({**individual(300_000, age=36), "family_situation": "young-children",
                                       "risk_appetite": "C3"}), RULES)
    assert plain.readings == [] and plain.life_stage == "young-family" and plain.reasons == read.reasons


@pytest.mark.parametrize("field, value, accepted", [
    ("risk_appetite", "bold", ["C1-C5", "conservative/保守型 (C1)", "moderate or balanced/平衡型 (C3)", "aggressive/进取型 (C5)"]),
    ("risk_appetite", "C6", ["C1-C5", "growth/成长型 (C4)"]),
    ("family_situation", "it's complicated", ["single, couple, young-children, older-children, empty-nest, retired",
                                              "married, two children aged 5 and 8"]),
])
def test_words_no_rule_reads_still_fail_listing_what_is_accepted(field, value, accepted):
    with pytest.raises(ProfileError) as info:
        validate_profile({**individual(300_000), field: value})
    message = str(info.value)
    assert message.startswith(f"profile: {field}: must be ") and f"(got {value!r})" in message
    assert all(a in message for a in accepted), message
