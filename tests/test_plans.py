"""Draft plans: structure, citations that point at real chunks, determinism, exports."""

import io
import json
import subprocess
import sys

import pytest
from docx import Document

from assistant.clients.exports import to_docx, to_json, to_markdown
from assistant.clients.plans import SECTION_TITLES, PlanDrafter
from assistant.clients.profiles import load_profiles

from .conftest import KNOWLEDGE, ROOT

PLAN_DOCS = ["sme-size-classification", "retail-tier-scheme", "supply-chain-finance", "major-clients-and-their-needs",
             "coverage-team-models", "compliance-basics-for-rms", "retail-bundles-channels-pricing",
             "customer-life-cycle-and-life-stages", "key-account-planning", "client-profitability-raroc-eva"]


@pytest.fixture(scope="module")
def plan_advisor(tmp_path_factory):
    from assistant.answers.advisor import Advisor
    from assistant.config import Settings

    from .conftest import make_knowledge
    base = tmp_path_factory.mktemp("plans")
    adv = Advisor(Settings(_env_file=None, knowledge_dir=make_knowledge(base / "knowledge", PLAN_DOCS), data_dir=base / "data"))
    adv.ingest()
    return adv


def profile(stem):
    return load_profiles(KNOWLEDGE / "profiles" / f"{stem}.json")[0]


@pytest.fixture(scope="module")
def plans(plan_advisor):
    drafter = PlanDrafter(plan_advisor)
    return {stem: drafter.run(profile(stem)) for stem in ("p05-large-soe", "p04-supply-chain-supplier", "p09-young-professional")}


def test_every_plan_has_all_sections_and_cited_items(plans, plan_advisor):
    chunk_ids = {c.id for c in plan_advisor.store.all_chunks()}
    for plan in plans.values():
        assert [s.title for s in plan.sections] == list(SECTION_TITLES)
        items = [i for s in plan.sections for i in s.items]
        assert all(s.items for s in plan.sections)
        cited = [i for i in items if i.citations]
        assert len(cited) / len(items) >= 0.95
        assert all(c.chunk_id in chunk_ids for i in cited for c in i.citations)


def test_recommendations_follow_the_segment(plans):
    soe = plans["p05-large-soe"]
    assert soe.segment == "major-client"
    soe_text = json.dumps(soe.model_dump(), ensure_ascii=False).lower()
    assert "one client, one policy" in soe_text or "一户一策" in soe_text
    supplier = plans["p04-supply-chain-supplier"]
    bundle = [i.text for i in supplier.section("Recommended product bundle").items]
    assert any("factoring" in t.lower() for t in bundle)
    assert any("Anchor dependence" in i.text for i in supplier.section("Risks and compliance checks").items)
    retail = plans["p09-young-professional"]
    retail_bundle = " ".join(i.text for i in retail.section("Recommended product bundle").items)
    assert "Personal pension account" in retail_bundle and "mortgage" in retail_bundle.lower()
    assert "working-capital" not in retail_bundle.lower()


def test_two_profiles_give_visibly_different_plans(plans):
    a = {i.text for s in plans["p05-large-soe"].sections for i in s.items}
    b = {i.text for s in plans["p09-young-professional"].sections for i in s.items}
    assert len(a & b) / len(a | b) < 0.1


def test_same_profile_same_plan(plan_advisor, plans):
    again = PlanDrafter(plan_advisor).run(profile("p05-large-soe"))
    assert to_json(again) == to_json(plans["p05-large-soe"])


def test_suitability_mismatch_is_blocking_for_individuals(plans):
    retail = plans["p09-young-professional"]  # holds an R4 equity fund, assessed C3
    assert any("R4" in issue and "C3" in issue for issue in retail.blocking_issues)
    bundle = " ".join(i.text for i in retail.section("Recommended product bundle").items)
    assert "product risk R4" not in bundle and "product risk R5" not in bundle


def test_markdown_reads_on_its_own(plans):
    md = to_markdown(plans["p04-supply-chain-supplier"])
    assert md.startswith("# Client service plan:")
    for title in SECTION_TITLES:
        assert f"## {title}" in md
    assert "## Sources" in md and "[1]" in md and "1. " in md


def test_docx_opens_and_holds_every_section(plans):
    data = to_docx(plans["p05-large-soe"])
    document = Document(io.BytesIO(data))
    headings = [p.text for p in document.paragraphs if p.style.name.startswith("Heading")]
    for title in SECTION_TITLES + ("Sources",):
        assert title in headings
    bullets = [p.text for p in document.paragraphs if p.style.name == "List Bullet"]
    assert len(bullets) >= 25 and all("[" in b for b in bullets[:5])


def test_plan_cli_json_contract_and_docx(plan_advisor, tmp_path):
    from .test_cli import advisor_cmd  # in this process (the CLI's own tests also run it as a real process)

    settings = plan_advisor.settings
    path = KNOWLEDGE / "profiles" / "p01-micro-business.json"
    done = advisor_cmd(settings, "plan", str(path), "--format", "json")
    assert done.returncode == 0, done.stderr
    data = json.loads(done.stdout)
    assert {"client", "segment", "sections"} <= set(data)
    assert data["segment"] == "micro-business"
    first = data["sections"][2]["items"][0]
    assert set(first) >= {"text", "citations"} and first["citations"][0]["doc_id"]
    out = tmp_path / "plan.docx"
    done = advisor_cmd(settings, "plan", str(path), "--format", "docx", "--out", str(out))
    assert done.returncode == 0 and Document(str(out)).paragraphs
    bad = tmp_path / "bad.json"
    bad.write_text('{"client_type": "enterprise", "name": "X", "industry": "banking", "employees": -1, "operating_revenue_rmb": 1}')
    done = advisor_cmd(settings, "classify", str(bad))
    assert done.returncode == 2 and "industry" in done.stderr and "employees" in done.stderr and "Traceback" not in done.stderr


def test_classify_json_prints_one_object_per_profile(tmp_path):
    many = tmp_path / "many.json"
    many.write_text(json.dumps([json.loads((KNOWLEDGE / "profiles" / f"{s}.json").read_text()) for s in
                                ("p01-micro-business", "p12-private-banking-entrepreneur")]))
    done = subprocess.run([sys.executable, "-m", "assistant.interfaces.cli", "classify", str(many), "--json"], cwd=ROOT,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    rows = [json.loads(l) for l in done.stdout.strip().splitlines()]
    assert [r["segment"] for r in rows] == ["micro-business", "private-banking"]
    assert rows[0]["size_class"] == "micro" and rows[1]["value_tier"] == "private-banking"
    assert all(r["reasons"] for r in rows)


# ---------------------------------------------------------------- plans in Chinese
ZH_EDITIONS = ["retail-tier-scheme", "sme-size-classification"]


def has_chinese(text: str) -> bool:
    return any("\u4e00" <= ch <= "\u9fff" for ch in text)


@pytest.fixture(scope="module")
def zh_plans(plan_advisor):
    """The same three clients drafted in Chinese, over the same store plus two Chinese editions."""
    import shutil

    for stem in ZH_EDITIONS:
        shutil.copy(KNOWLEDGE / "docs" / f"{stem}.zh.md", plan_advisor.settings.docs_dir / f"{stem}.zh.md")
    report = plan_advisor.ingest()
    assert report.added == len(ZH_EDITIONS) and not report.errors
    drafter = PlanDrafter(plan_advisor)
    english = {stem: drafter.run(profile(stem)) for stem in ("p05-large-soe", "p04-supply-chain-supplier", "p09-young-professional")}
    return english, {stem: drafter.run(profile(stem), "zh") for stem in english}


def test_a_chinese_plan_mirrors_the_english_one_item_for_item(zh_plans):
    from assistant.clients.chinese import SECTION_TITLES_ZH

    english, chinese = zh_plans
    for stem, zh in chinese.items():
        en = english[stem]
        assert zh.language == "zh" and [s.title for s in zh.sections] == list(SECTION_TITLES_ZH)
        assert [s.key for s in zh.sections] == list(SECTION_TITLES) and zh.section("Recommended product bundle").items
        # The summary states the deciding rule in one Chinese sentence where the English lists its reasons.
        assert len(zh.sections[0].items) == 3 and all(has_chinese(i.text) for i in zh.sections[0].items)
        assert [len(s.items) for s in zh.sections[1:]] == [len(s.items) for s in en.sections[1:]], stem
        for zs, es in zip(zh.sections[1:], en.sections[1:]):
            for zi, ei in zip(zs.items, es.items):
                assert has_chinese(zi.text), (stem, zi.text)  # no English item left in a Chinese plan
                assert zi.blocking == ei.blocking
                # the same passage cited, in its Chinese edition where there is one
                assert [c.doc_id.removesuffix("-zh") for c in zi.citations] == [c.doc_id for c in ei.citations], zi.text
        assert not any("尚无中文版" in w for w in zh.warnings)
    young = chinese["p09-young-professional"]
    assert any(c.doc_id == "retail-tier-scheme-zh" for i in young.section("Service model and team").items for c in i.citations)
    assert young.blocking_issues and all(has_chinese(b) for b in young.blocking_issues)


def test_a_chinese_plan_exports_in_chinese_with_a_chinese_font_in_word(zh_plans):
    from docx.oxml.ns import qn

    from assistant.clients.exports import CJK_FONT

    plan = zh_plans[1]["p05-large-soe"]
    markdown = to_markdown(plan)
    assert markdown.startswith("# 客户服务方案：") and "\n## 推荐产品组合\n" in markdown and "\n## 引用来源\n" in markdown
    assert "客户分层：大客户" in markdown
    assert json.loads(to_json(plan))["language"] == "zh"
    doc = Document(io.BytesIO(to_docx(plan)))
    fonts = doc.styles["Normal"].element.rPr.find(qn("w:rFonts"))
    assert fonts is not None and fonts.get(qn("w:eastAsia")) == CJK_FONT
    assert any(p.text == "推荐产品组合" for p in doc.paragraphs)
    english = Document(io.BytesIO(to_docx(zh_plans[0]["p05-large-soe"])))
    rpr = english.styles["Normal"].element.rPr
    english_fonts = rpr.find(qn("w:rFonts")) if rpr is not None else None
    assert english_fonts is None or english_fonts.get(qn("w:eastAsia")) != CJK_FONT


def test_the_chinese_playbook_keeps_every_figure_of_the_english(plan_advisor):
    """Each Chinese item states the figures of its English item (RMB millions may be written in 万元)."""
    import re

    from assistant.clients.rules import rules_for

    rules = rules_for(KNOWLEDGE / "data")
    assert set(rules.playbook_zh) == {p.id for p in rules.playbook.segments}

    def figures(text: str) -> set[str]:
        out = set()
        for number, million in re.findall(r"(?<![A-Za-z]-)(\d[\d,]*(?:\.\d+)?)(\s*million)?", text):  # not tier-1
            value = float(number.replace(",", "")) * (1e6 if million else 1)
            out.add(f"{value:g}")
        return out

    def chinese_figures(text: str) -> set[str]:
        out = set()
        for number, unit in re.findall(r"(\d[\d,]*(?:\.\d+)?)\s*(万|亿)?", text):
            value = float(number.replace(",", ""))
            out |= {f"{value:g}", f"{value * {'万': 1e4, '亿': 1e8}.get(unit, 1):g}"}
        return out

    missing = []
    for play in rules.playbook.segments:
        words = rules.playbook_zh[play.id]
        pairs = [(play.service_model, words.service_model), (play.team, words.team)]
        for field in ("cadence", "pricing", "risks", "kpis"):
            pairs += list(zip(getattr(play, field), getattr(words, field)))
        for day in ("d30", "d60", "d90"):
            pairs += list(zip(getattr(play.next_steps, day), getattr(words.next_steps, day)))
        for english, chinese in pairs:
            lost = figures(english) - chinese_figures(chinese)
            if lost:
                missing.append((play.id, sorted(lost), chinese[:60]))
    assert missing == []
    for product in rules.products:
        assert product.description_zh and has_chinese(product.description_zh), product.id


def test_a_chinese_playbook_out_of_step_with_the_english_is_named(tmp_path):
    import shutil

    import yaml

    from assistant.clients.rules import RulesError, load_rules

    data = tmp_path / "data"
    shutil.copytree(KNOWLEDGE / "data", data)
    edition = yaml.safe_load((data / "segments.zh.yaml").read_text(encoding="utf-8"))
    edition["segments"]["wealth"]["kpis"].pop()
    (data / "segments.zh.yaml").write_text(yaml.safe_dump(edition, allow_unicode=True), encoding="utf-8")
    with pytest.raises(RulesError, match=r"wealth.*kpis has 3 items, the English 4"):
        load_rules(data)


def test_plan_cli_drafts_in_chinese_and_names_a_bad_language(plan_advisor, tmp_path):
    from .test_cli import advisor_cmd

    path = KNOWLEDGE / "profiles" / "p01-micro-business.json"
    done = advisor_cmd(plan_advisor.settings, "plan", str(path), "--lang", "zh")
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("# 客户服务方案：") and "仅供" not in done.stdout and "内部使用的客户服务方案草稿" in done.stdout
    done = advisor_cmd(plan_advisor.settings, "plan", str(path), "--lang", "fr")
    assert done.returncode == 2 and "--lang must be en or zh, got 'fr'" in done.stderr


def test_the_drafter_refuses_an_unknown_language_by_name_before_drafting(plan_advisor):
    """The package's callers (the API, the chat) get the same refusal as every other worded output."""
    from assistant.errors import InputError

    drafter = PlanDrafter(plan_advisor)
    for bad in ("fr", "ZH", ""):
        with pytest.raises(InputError, match=f"language {bad!r} is not supported: use 'en' or 'zh'"):
            drafter.run(profile("p01-micro-business"), bad)
    assert drafter.run(profile("p01-micro-business"), "zh").language == "zh"


def test_a_life_stage_names_its_own_risks_and_the_products_it_never_gets(tmp_path):
    """segments.yaml life_stage_risks and products.yaml not_for_life_stages are checked against life_stages.yaml."""
    import shutil

    import yaml

    from assistant.clients.rules import RulesError, load_rules

    rules = load_rules(KNOWLEDGE / "data")
    assert "retiree" in rules.product("personal-pension-account").not_for_life_stages
    assert any("fraud" in r.en for r in rules.playbook.life_stage_risks["retiree"])
    folder = tmp_path / "data"
    shutil.copytree(KNOWLEDGE / "data", folder)
    products = yaml.safe_load((folder / "products.yaml").read_text(encoding="utf-8"))
    products[0]["not_for_life_stages"] = ["pensioner"]
    (folder / "products.yaml").write_text(yaml.safe_dump(products, allow_unicode=True), encoding="utf-8")
    with pytest.raises(RulesError, match="unknown life stage 'pensioner'"):
        load_rules(folder)
