"""Quizzes in Chinese: the same questions as in English (ids, options, correct answer), worded in Chinese,
with the same numbers, cited from the Chinese editions; the glossary's Chinese definitions behind them.
Runs on the real knowledge base (no model needed)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from assistant.config import Settings
from assistant.interfaces.training_cli import quiz_app, train_app
from assistant.training.material import knowledge_for
from assistant.training.models import QuizRequest
from assistant.training.progress import progress_report
from assistant.training.quizzes import grade, make_quiz, question_bank, record_result

from .conftest import KNOWLEDGE

CJK = re.compile(r"[\u4e00-\u9fff]")


@pytest.fixture()
def settings(tmp_path: Path) -> Settings:
    return Settings(_env_file=None, knowledge_dir=KNOWLEDGE, data_dir=tmp_path / "data")


def amount(text: str) -> float | None:
    """An option's amount in RMB or people, read from either wording (RMB 5,000,000 / 500万元 / 3亿元 / 300人)."""
    if m := re.fullmatch(r"RMB ([\d,]+)", text):
        return float(m.group(1).replace(",", ""))
    if m := re.fullmatch(r"([\d,.]+) 万元 \(RMB ([\d,]+)\)", text):
        return float(m.group(2).replace(",", ""))
    if m := re.fullmatch(r"([\d,]+) employees?", text):
        return float(m.group(1).replace(",", ""))
    if m := re.fullmatch(r"([\d,.]+)(亿元|万元|元|人)", text):
        return float(m.group(1).replace(",", "")) * {"亿元": 1e8, "万元": 1e4, "元": 1, "人": 1}[m.group(2)]
    return None


def test_every_question_has_a_chinese_twin_with_the_same_answer_and_numbers(settings):
    english = question_bank(settings, seed=3)
    chinese = question_bank(settings, seed=3, language="zh")
    k = knowledge_for(settings)
    assert len(chinese) == len(english) > 400
    for en, zh in zip(english, chinese):
        assert (zh.id, zh.answer, zh.family, zh.topic) == (en.id, en.answer, en.family, en.topic)
        assert CJK.search(zh.prompt), f"{zh.family} {zh.key}: prompt not in Chinese: {zh.prompt}"
        assert "出处：" in zh.explanation and CJK.search(zh.explanation.split("出处：")[0])
        for e_opt, z_opt in zip(en.options, zh.options):
            if amount(e_opt) is not None:  # numbers survive the rewording exactly
                assert amount(z_opt) == amount(e_opt), (zh.family, e_opt, z_opt)
            elif zh.family != "glossary-translation":  # that family's options are the English terms
                assert CJK.search(z_opt), (zh.family, e_opt, z_opt)
        for source in zh.sources:  # cited from the Chinese edition, at a section it really has
            doc = k.docs[source.doc_id]
            assert source.doc_id.endswith("-zh") and (source.section is None or source.section in {s.path for s in doc.sections})
        # the answer is not given away: a definition's own Chinese term is not in the prompt
        if zh.family == "glossary-definition":
            entry = next(e for e in k.rules.glossary if e.term == zh.key)
            assert entry.zh not in zh.prompt


def test_a_chinese_quiz_is_the_english_quiz_and_counts_towards_the_same_progress(settings):
    english = make_quiz(settings, QuizRequest(n=8, seed=11))
    chinese = make_quiz(settings, QuizRequest(n=8, seed=11, language="zh"))
    assert chinese.language == "zh" and chinese.id == english.id
    assert [q.id for q in chinese.questions] == [q.id for q in english.questions]
    result = grade(chinese, [q.answer for q in chinese.questions])
    assert result.score == 1.0 and "出处" in result.items[0].explanation
    record_result(settings, "王芳", result)
    report = progress_report(settings, "王芳")
    assert report.attempts == 8 and report.correct == 8


def test_quiz_cli_speaks_chinese_and_names_a_bad_language(settings, tmp_path):
    env = {"ADVISOR_KNOWLEDGE_DIR": str(KNOWLEDGE), "ADVISOR_DATA_DIR": str(tmp_path / "data")}
    done = CliRunner().invoke(quiz_app, ["--n", "3", "--seed", "4", "--lang", "zh"], env=env)
    assert done.exit_code == 0, done.output
    assert "1/3." in done.output and len(CJK.findall(done.output)) > 40
    bad = CliRunner().invoke(quiz_app, ["--lang", "fr"], env=env)
    assert bad.exit_code == 2 and "--lang must be en or zh, got 'fr'" in bad.output


def test_the_glossary_has_a_chinese_definition_for_every_term_that_does_not_name_it():
    entries = yaml.safe_load((KNOWLEDGE / "data" / "glossary.yaml").read_text(encoding="utf-8"))
    for entry in entries:
        zh = entry.get("definition_zh", "").strip()
        assert zh.endswith("。") and CJK.search(zh), entry["term"]
        assert entry["zh"] not in zh, f"{entry['term']}: the Chinese definition gives the term away"
        # every figure of the English definition is in the Chinese (whole numbers may move to 万/亿)
        for number in re.findall(r"\d[\d,]*(?:\.\d+)?", entry["definition"]):
            value = float(number.replace(",", ""))
            forms = {number, f"{value:g}", f"{value / 1e4:g}", f"{value / 1e8:g}", f"{value / 1e6 * 100:g}"}
            if value >= 1e6:
                forms |= {f"{value / 1e4:g}", f"{value / 1e8:g}"}
            assert any(f in zh.replace(",", "") for f in forms) or value in (1, 2) or 1900 < value < 2100 and \
                f"{str(int(value))[2:4]}" in zh, (entry["term"], number, zh)


def test_glossary_search_shows_and_finds_the_chinese_definition(settings, tmp_path):
    env = {"ADVISOR_KNOWLEDGE_DIR": str(KNOWLEDGE), "ADVISOR_DATA_DIR": str(tmp_path / "data")}
    done = CliRunner().invoke(train_app, ["glossary", "保理", "--json"], env=env)
    assert done.exit_code == 0, done.output
    assert "应收账款" in done.output  # factoring's Chinese definition
    from assistant.training.glossary import search_glossary
    hits = search_glossary(settings, "应收账款")
    assert any(h.term == "factoring" and h.match == "definition" for h in hits.hits)
