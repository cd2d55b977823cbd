"""The Training tab's curriculum, glossary hits and progress in Chinese (issue 19).

On a Chinese page the curriculum reads from curriculum.yaml's Chinese wordings and names the documents'
Chinese editions (their ids, titles and the headings at the same places); glossary hits lead with the
Chinese term; the progress report's frame is Chinese. Data values (ids, topics, names, figures, terms and
definitions) stay as stored. English reads byte for byte as before (checked against the tab's former
rendering, kept below); any other language is refused by name.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path
from types import SimpleNamespace

import gradio as gr
import pytest
import yaml
from gradio import helpers
from starlette.datastructures import Headers

from assistant.answers.advisor import Advisor
from assistant.config import Settings
from assistant.errors import InputError
from assistant.interfaces.app import wording
from assistant.interfaces.app.training_tab import TrainingTab, curriculum_markdown, glossary_markdown, progress_markdown
from assistant.knowledge.documents import load_documents
from assistant.training import rendering
from assistant.training.curriculum import UNTRANSLATED, build_curriculum, missing_chinese, validate_curriculum
from assistant.training.glossary import search_glossary
from assistant.training.progress import Attempt, progress_report, progress_store

from .conftest import KNOWLEDGE

CHINESE = re.compile(r"[\u4e00-\u9fff]")
DOCS = {d.meta.id: d for d in load_documents(KNOWLEDGE / "docs").docs}
HEADING_LINE = re.compile(r"^#{2,6}\s+(.+?)\s*#*\s*$", re.M)
SPEC = yaml.safe_load((KNOWLEDGE / "data" / "curriculum.yaml").read_text(encoding="utf-8"))
# The English frame's own words: none may be left on a Chinese page.
ENGLISH_FRAME = ("Objective:", "Read:", "Activity:", "(days ", "Days ", "Explained in", "No glossary term", "Progress of",
                 " correct (", "| topic |", "| answered |", "Weak topics", "| trainee |", "weak topics", "No quiz answers",
                 "the cohort")


def page(accept_language: str) -> SimpleNamespace:
    """What the tab reads from Gradio's request: the browser's languages and the signed-in user."""
    return SimpleNamespace(headers=Headers({"accept-language": accept_language}), username=None)


ZH, EN = page("zh-CN,zh;q=0.9,en;q=0.8"), page("en-US,en;q=0.9")


def headings(doc_id: str) -> list[str]:
    """A document's headings below its title, in order, read straight from its file (not by the code under test)."""
    path = KNOWLEDGE / "docs" / (doc_id.removesuffix("-zh") + (".zh.md" if doc_id.endswith("-zh") else ".md"))
    return [h.strip() for h in HEADING_LINE.findall(path.read_text(encoding="utf-8"))]


@pytest.fixture()
def settings(tmp_path: Path) -> Settings:
    return Settings(_env_file=None, knowledge_dir=KNOWLEDGE, data_dir=tmp_path / "data")


def edited_copy(tmp_path: Path, edit) -> Settings:
    """The shipped knowledge base with curriculum.yaml changed by ``edit(spec)``."""
    knowledge = tmp_path / "knowledge"
    shutil.copytree(KNOWLEDGE, knowledge)
    path = knowledge / "data" / "curriculum.yaml"
    spec = yaml.safe_load(path.read_text(encoding="utf-8"))
    edit(spec)
    path.write_text(yaml.safe_dump(spec, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return Settings(_env_file=None, knowledge_dir=knowledge, data_dir=tmp_path / "data")


def record_some(settings: Settings) -> None:
    store = progress_store(settings)
    store.record("Li Wei", [Attempt(question_id=f"q{i}", topic="compliance", correct=i % 3 == 0) for i in range(6)]
                 + [Attempt(question_id="p1", topic="profitability", correct=True)])
    store.record("王芳", [Attempt(question_id=f"w{i}", topic="sme-lending", correct=True) for i in range(4)])


# ----------------------------------------------------------------------------------------- the curriculum
def test_the_chinese_curriculum_reads_from_the_files_chinese_wordings(settings):
    assert validate_curriculum(settings) == [] and missing_chinese(settings) == []
    en, zh = build_curriculum(settings), build_curriculum(settings, "zh")
    assert zh.title == SPEC["title_zh"] and CHINESE.search(zh.title)
    assert [p.label for p in zh.phases] == ["第1-30天", "第31-60天", "第61-90天"]
    assert [p.modules for p in zh.phases] == [p.modules for p in en.phases]
    for e, z, raw in zip(en.modules, zh.modules, SPEC["modules"], strict=True):
        assert (z.id, z.order, z.first_day, z.last_day, z.topics) == (e.id, e.order, e.first_day, e.last_day, e.topics)
        assert z.title == raw["title_zh"] and z.objectives == raw["objectives_zh"]
        assert z.activities == raw.get("activities_zh", [])
        assert len(z.objectives) == len(e.objectives) and len(z.activities) == len(e.activities)
        for text in [z.title, *z.objectives, *z.activities]:
            assert CHINESE.search(text) and UNTRANSLATED not in text, text
        notes = {r["doc"]: r.get("note_zh") for r in raw["readings"]}
        for reading, english in zip(z.readings, e.readings, strict=True):
            assert reading.note == notes[english.doc_id]
            assert (reading.note is None) == (english.note is None)
        assert len(z.glossary_terms) == len(e.glossary_terms)
    assert "保理" in next(m for m in zh.modules if m.id == "supply-chain-and-data-lending").glossary_terms


def test_chinese_readings_name_the_chinese_edition_and_the_headings_at_the_same_places(settings):
    en, zh = build_curriculum(settings), build_curriculum(settings, "zh")
    for e_module, z_module in zip(en.modules, zh.modules):
        for e, z in zip(e_module.readings, z_module.readings, strict=True):
            assert z.doc_id == f"{e.doc_id}-zh" and DOCS[z.doc_id].meta.edition_of == e.doc_id
            assert z.title == DOCS[z.doc_id].meta.title and CHINESE.search(z.title)
            english, chinese = headings(e.doc_id), headings(z.doc_id)
            assert len(z.sections) == len(e.sections)
            for e_section, z_section in zip(e.sections, z.sections):
                assert chinese.index(z_section.heading) == english.index(e_section.heading), (z.doc_id, z_section.heading)
        read = {r.doc_id for r in z_module.readings}
        assert all(r.doc_id.endswith("-zh") and r.doc_id not in read for r in z_module.related), z_module.related
        assert len({r.doc_id for r in z_module.related}) == len(z_module.related)
    # each document counts once in Chinese: no edition of a document the English path already covers
    covered = {r.doc_id for m in zh.modules for r in [*m.readings, *m.related]}
    assert all(d.doc_id.endswith("-zh") and d.doc_id not in covered for d in zh.unassigned_docs)


def test_the_chinese_curriculum_keeps_every_figure_of_the_english(settings):
    """Amounts may be written in 万元 or 亿元 (RMB 2 billion = 20亿元); every English figure is there."""
    scale = {"million": 1e6, "billion": 1e9, "万": 1e4, "亿": 1e8}

    def english_figures(text: str) -> set[str]:
        return {f"{float(n.replace(',', '')) * scale.get(unit.strip(), 1):g}"
                for n, unit in re.findall(r"(?<![\d.,])(?<![A-Za-z]-)(\d[\d,]*(?:\.\d+)?)(\s*(?:million|billion))?", text)}

    def chinese_figures(text: str) -> set[str]:
        out = set()
        for n, unit in re.findall(r"(\d[\d,]*(?:\.\d+)?)\s*(万|亿)?", text):
            out |= {f"{float(n.replace(',', '')):g}", f"{float(n.replace(',', '')) * scale.get(unit, 1):g}"}
        return out

    en, zh = build_curriculum(settings), build_curriculum(settings, "zh")
    lost = []
    for e, z in zip(en.modules, zh.modules):
        for english, chinese in zip([e.title, *e.objectives, *e.activities], [z.title, *z.objectives, *z.activities]):
            if missing := english_figures(english) - chinese_figures(chinese):
                lost.append((e.id, sorted(missing), chinese[:60]))
    assert lost == []
    assert "20亿元" in next(m for m in zh.modules if m.id == "profitability-and-pricing").activities[0]


def test_the_chinese_curriculum_markdown_has_no_english_frame_words(settings):
    zh = build_curriculum(settings, "zh")
    text = rendering.curriculum_markdown(zh, "zh")
    assert text.startswith(f"## {SPEC['title_zh']}\n### 第1-30天\n**1. {zh.modules[0].title}**（第1-5天）\n- 学习目标：")
    assert "- 阅读：《客户经理胜任力与30/60/90天入职培养计划》（`rm-competencies-and-onboarding-plan-zh`）：客户经理的职责；" in text
    assert "- 实践任务：" in text and "### 第61-90天" in text
    assert not [w for w in ENGLISH_FRAME if w in text], [w for w in ENGLISH_FRAME if w in text]
    en_lines = rendering.curriculum_markdown(build_curriculum(settings)).split("\n")
    assert len(text.split("\n")) == len(en_lines)  # the same lines, line for line


def test_a_missing_chinese_wording_reads_in_english_behind_a_visible_mark_and_is_named(tmp_path):
    def drop(spec):
        del spec["title_zh"]
        del spec["modules"][0]["objectives_zh"]
        del spec["modules"][1]["title_zh"]
        next(r for r in spec["modules"][1]["readings"] if "note" in r).pop("note_zh")

    s = edited_copy(tmp_path, drop)
    first, second = SPEC["modules"][0], SPEC["modules"][1]
    assert missing_chinese(s) == ["title_zh (the curriculum's title)", f"module '{first['id']}': objectives_zh",
                                  f"module '{second['id']}': title_zh",
                                  f"module '{second['id']}': reading 'bancassurance-wealth-sales-in-branches': note_zh"]
    zh = build_curriculum(s, "zh")
    assert zh.title == UNTRANSLATED + SPEC["title"]
    assert zh.modules[0].objectives == [UNTRANSLATED + o for o in first["objectives"]]
    assert zh.modules[0].title == first["title_zh"]  # what is there still reads in Chinese
    assert zh.modules[1].title == UNTRANSLATED + second["title"]
    assert next(r.note for r in zh.modules[1].readings if r.note) == UNTRANSLATED + next(r["note"] for r in second["readings"] if "note" in r)
    assert f"- 学习目标：{UNTRANSLATED}{first['objectives'][0]}" in rendering.curriculum_markdown(zh, "zh")
    # English does not depend on the Chinese
    assert rendering.curriculum_markdown(build_curriculum(s)) == rendering.curriculum_markdown(
        build_curriculum(Settings(_env_file=None, knowledge_dir=KNOWLEDGE, data_dir=tmp_path / "d2")))


def test_chinese_lists_out_of_step_with_the_english_are_refused_naming_the_module(tmp_path):
    module = SPEC["modules"][2]["id"]

    def short(spec):
        spec["modules"][2]["objectives_zh"] = spec["modules"][2]["objectives_zh"][:-1]

    s = edited_copy(tmp_path / "a", short)
    n = len(SPEC["modules"][2]["objectives"])
    with pytest.raises(InputError, match=rf"module '{module}': objectives_zh has {n - 1} items but objectives has {n}"):
        build_curriculum(s, "zh")

    def stray_note(spec):
        spec["modules"][0]["readings"][0]["note_zh"] = "只有中文的说明"

    with pytest.raises(InputError, match="note_zh without a note"):
        build_curriculum(edited_copy(tmp_path / "b", stray_note))


def test_an_unknown_language_is_refused_by_name(settings):
    for language in ("fr", "zh-CN", "EN", ""):
        with pytest.raises(ValueError, match=re.escape(repr(language))):
            build_curriculum(settings, language)
    cur, found = build_curriculum(settings), search_glossary(settings, "factoring")
    report = progress_report(settings)
    for call in (lambda: rendering.curriculum_markdown(cur, "de"), lambda: rendering.glossary_markdown(found, "de"),
                 lambda: rendering.progress_markdown(report, "de"), lambda: search_glossary(settings, "保理", edition="de")):
        with pytest.raises(InputError, match="'de'"):
            call()


# ----------------------------------------------------------------------------------------- glossary and progress
def test_glossary_hits_in_chinese_lead_with_the_chinese_term_and_name_the_chinese_edition(settings):
    found = search_glossary(settings, "保理", edition="zh")
    assert found.hits[0].doc == "supply-chain-finance-zh" and found.hits[0].doc_title == DOCS["supply-chain-finance-zh"].meta.title
    assert search_glossary(settings, "保理").hits[0].doc == "supply-chain-finance"  # the default is unchanged
    text = rendering.glossary_markdown(found, "zh")
    first = text.split("\n\n")[0].split("  \n")
    hit = found.hits[0]
    assert first == [f"**{hit.zh}** · {hit.term}", hit.definition_zh, hit.definition,
                     f"_释义见：_ 《{hit.doc_title}》（`supply-chain-finance-zh`）"], first
    assert text.count("_释义见：_") == len(found.hits) and not [w for w in ENGLISH_FRAME if w in text]
    nothing = search_glossary(settings, "zzqx-无此术语", edition="zh")
    assert rendering.glossary_markdown(nothing, "zh") == "没有与“zzqx-无此术语”匹配的术语。"


def test_progress_in_chinese_words_the_frame_and_keeps_names_topics_and_figures(settings):
    assert rendering.progress_markdown(progress_report(settings), "zh") == "全体学员尚无测验作答记录。"
    record_some(settings)
    one = rendering.progress_markdown(progress_report(settings, "li wei", min_attempts=3), "zh")
    assert one.split("\n")[:4] == ["### 学员 Li Wei 的学习进度：答对 3/7 题（43%）", "| 主题 | 作答题数 | 答对题数 | 正确率 | 薄弱 |",
                                   "|---|---|---|---|---|", "| compliance | 6 | 2 | 33% | ⚠️ |"]
    assert one.endswith("\n**薄弱主题：** compliance")
    cohort = rendering.progress_markdown(progress_report(settings), "zh")
    assert cohort.startswith("### 全体学员的学习进度：答对 7/11 题（64%）")
    assert "| 学员 | 作答题数 | 正确率 | 薄弱主题 |" in cohort and "| 王芳 | 4 | 100% |  |" in cohort
    assert "| Li Wei | 7 | 43% | compliance |" in cohort
    for text in (one, cohort):
        assert not [w for w in ENGLISH_FRAME if w in text], text
    every_good = rendering.progress_markdown(progress_report(settings, "王芳"), "zh")
    assert every_good.endswith("**薄弱主题：** 无")


def test_english_reads_as_before(settings):
    """The English wording as it read before the Chinese one existed (checked byte for byte against the previous
    release when it was written), spelled out here so a change to it is a visible decision."""
    cur = build_curriculum(settings)
    assert build_curriculum(settings, "en") == cur and not CHINESE.search(" ".join(p.label for p in cur.phases))
    english = rendering.curriculum_markdown(cur)
    assert english == rendering.curriculum_markdown(cur, "en")
    assert english.startswith(f"## {SPEC['title']}\n### Days 1-30\n**1. {SPEC['modules'][0]['title']}** (days 1-5)\n- Objective: ")
    assert re.findall(r"\(`([a-z0-9-]+)`\)", english) and not re.findall(r"\(`[a-z0-9-]+-zh`\)", english)
    factoring = rendering.glossary_markdown(search_glossary(settings, "factoring"))
    assert factoring.startswith("**factoring** · 保理  \nA bank buying or lending against a firm's trade receivables")
    assert "  \n_Explained in:_ Supply-chain finance around an anchor enterprise (`supply-chain-finance`)" in factoring
    assert rendering.glossary_markdown(search_glossary(settings, "zzqx-no-such-term")) == \
        "No glossary term matches 'zzqx-no-such-term'."
    assert rendering.progress_markdown(progress_report(settings)) == "No quiz answers recorded for the cohort yet."
    record_some(settings)
    assert rendering.progress_markdown(progress_report(settings, "LI WEI")) == (
        "### Progress of Li Wei: 3/7 correct (43%)\n| topic | answered | correct | score | weak |\n|---|---|---|---|---|\n"
        "| compliance | 6 | 2 | 33% | ⚠️ |\n| profitability | 1 | 1 | 100% |  |\n\n**Weak topics:** compliance")
    assert rendering.progress_markdown(progress_report(settings)).endswith(
        "\n\n**Weak topics:** compliance\n\n| trainee | answered | score | weak topics |\n|---|---|---|---|\n"
        "| Li Wei | 7 | 43% | compliance |\n| 王芳 | 4 | 100% |  |")


def test_the_english_curriculum_counts_each_document_once_not_its_chinese_edition_too(settings):
    cur = build_curriculum(settings)
    listed = [r.doc_id for m in cur.modules for r in m.readings + m.related] + [d.doc_id for d in cur.unassigned_docs]
    assert listed and not [d for d in listed if d.endswith("-zh")]


# ----------------------------------------------------------------------------------------- the tab
def test_the_training_tab_follows_the_pages_language(settings, make_settings):
    tab = TrainingTab(Advisor(settings))
    assert tab.curriculum(ZH) == rendering.curriculum_markdown(build_curriculum(settings, "zh"), "zh")
    assert tab.curriculum(EN) == tab.curriculum(None) == rendering.curriculum_markdown(build_curriculum(settings))
    found = search_glossary(settings, "保理")
    assert tab.glossary(EN, "保理") == rendering.glossary_markdown(found) and tab.glossary(EN, "保理").startswith("**factoring** · 保理")
    assert tab.glossary(ZH, "保理").startswith("**保理** · factoring  \n")
    assert tab.glossary(ZH, "zzqx") == "没有与“zzqx”匹配的术语。"
    assert tab.glossary(EN, "  zzqx ") == "No glossary term matches '  zzqx '."  # the query as typed, as before
    assert str(tab.glossary(ZH, "  ")) == str(glossary_markdown(tab.advisor, ""))  # the hint, translated in the browser
    record_some(settings)
    assert tab.progress(ZH, "").startswith("### 全体学员的学习进度：")
    assert tab.progress(EN, "") == rendering.progress_markdown(progress_report(settings))
    assert tab.progress(EN, "").startswith("### Progress of the cohort: 7/11 correct (64%)")
    assert tab.progress(ZH, "Nobody").startswith("⚠️ 输入有误：no results recorded for trainee 'Nobody'")
    assert tab.progress(EN, "Nobody").startswith("⚠️ no results recorded for trainee 'Nobody'")

    # a knowledge base the curriculum cannot be built from: the reason stays, the lead follows the page
    small = TrainingTab(Advisor(make_settings(data_dir=settings.data_dir.parent / "small-data")))
    chinese, english = small.curriculum(ZH), small.curriculum(EN)
    assert chinese.startswith("⚠️ 无法根据当前知识库生成课程体系：curriculum.yaml: "), chinese[:80]
    assert english.startswith("⚠️ The curriculum cannot be built from this knowledge base: curriculum.yaml: ")
    assert chinese.split("：", 1)[1] == english.split(": ", 1)[1]
    assert curriculum_markdown(small.advisor, "zh") == chinese and progress_markdown(small.advisor, "", "zh") == "全体学员尚无测验作答记录。"
    assert "The curriculum cannot be built from this knowledge base: {detail}" in wording.load_table()


def test_gradio_rebuilds_the_curriculum_in_the_pages_language_when_a_page_loads(settings):
    """The curriculum is built with the page; a load event words it again for the browser's language, and
    Gradio passes the request to each callback that reads it."""
    tab = TrainingTab(Advisor(settings))
    with gr.Blocks() as demo:
        tab.build()
    by_fn = {getattr(f.fn, "__func__", f.fn): f for f in demo.fns.values()}
    load = by_fn[TrainingTab.curriculum]
    assert [event for _, event in load.targets] == ["load"] and load.api_visibility == "private"
    curriculum_id = next(c._id for c in demo.blocks.values() if getattr(c, "elem_id", None) == "curriculum")
    assert [o._id for o in load.outputs] == [curriculum_id]
    assert {by_fn[TrainingTab.glossary].targets[0][1], by_fn[TrainingTab.progress].targets[0][1]} == {"change", "click"}
    marker = object()
    for callback, inputs in ((tab.curriculum, 0), (tab.glossary, 1), (tab.progress, 1)):
        filled, *_ = helpers.special_args(callback, list(range(inputs)), request=marker)
        assert filled[0] is marker, callback.__qualname__
