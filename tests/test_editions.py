"""Chinese editions: validation, stamping, the status report, and the parity rules that keep them in step."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from assistant.answers.advisor import Advisor
from assistant.config import Settings
from assistant.errors import InputError
from assistant.governance.service import knowledge_status
from assistant.interfaces.cli import app
from assistant.knowledge.documents import load_documents, parse_document
from assistant.knowledge.editions import edition_states, figure_mismatch, figures, headings, stamp_editions

from .conftest import KNOWLEDGE

STEM = "retail-tier-scheme"


def unstamped(text: str) -> str:
    return re.sub(r"^edition_hash:.*\n", "", text, flags=re.M)


@pytest.fixture()
def docs(tmp_path: Path) -> Path:
    folder = tmp_path / "docs"
    folder.mkdir()
    shutil.copy(KNOWLEDGE / "docs" / f"{STEM}.md", folder)
    (folder / f"{STEM}.zh.md").write_text(unstamped((KNOWLEDGE / "docs" / f"{STEM}.zh.md").read_text(encoding="utf-8")),
                                          encoding="utf-8")
    return folder


def states(folder: Path) -> dict:
    return {s.doc_id: s for s in edition_states(load_documents(folder).docs)}


def test_figures_read_chinese_units_and_dates_as_english_ones():
    chinese = figures("大众客户5万元以下，私行600万元及以上，资本3亿元，占比3.5%，2019年5月24日接管，约0.5–10百万")
    english = figures("below RMB 50,000; RMB 6 million and above; RMB 300 million; 3.5%; taken over on 24 May 2019")
    assert {"50000", "6000000", "300000000", "3.5", "2019-05", "24"} <= chinese & english
    assert figures("RMB 0.5–10 million") == {"500000", "10000000"} == figures("50万—1000万元")


def test_a_changed_figure_or_a_lost_section_is_caught():
    original = load_documents(KNOWLEDGE / "docs").docs
    by_id = {d.meta.id: d for d in original}
    english, chinese = by_id[STEM], by_id[f"{STEM}-zh"]
    assert figure_mismatch(english, chinese) == (set(), set())
    wrong = chinese.model_copy(update={"body": chinese.body.replace("600万元", "700万元")})
    assert "7000000" in figure_mismatch(english, wrong)[1]
    cut = chinese.model_copy(update={"body": re.sub(r"\n## [^\n]+\n", "\n", chinese.body, count=1)})
    assert len(headings(cut)) == len(headings(english)) - 1


@pytest.mark.parametrize("front, message", [
    ("edition_of: no-such-doc", "no document has that id"),
    ("edition_of: retail-tier-scheme\nlanguage: en", "both documents are in language 'en'"),
])
def test_an_edition_of_nothing_or_in_the_same_language_is_rejected(docs, front, message):
    text = (KNOWLEDGE / "docs" / f"{STEM}.zh.md").read_text(encoding="utf-8")
    text = re.sub(r"^language: zh\n", "", text, flags=re.M).replace(f"edition_of: {STEM}", front)
    (docs / f"{STEM}.zh.md").write_text(text, encoding="utf-8")
    report = load_documents(docs)
    assert [d.meta.id for d in report.docs] == [STEM]
    assert len(report.errors) == 1 and message in report.errors[0].message


def test_an_edition_of_an_edition_is_rejected(docs):
    text = (docs / f"{STEM}.zh.md").read_text(encoding="utf-8")
    (docs / "again.zh.md").write_text(text.replace(f"id: {STEM}-zh", "id: again-zh")
                                      .replace(f"edition_of: {STEM}", f"edition_of: {STEM}-zh")
                                      .replace("language: zh", "language: en"), encoding="utf-8")
    report = load_documents(docs)
    assert any("is itself an edition" in e.message for e in report.errors)


def test_unknown_language_is_named():
    with pytest.raises(ValueError, match="language"):
        parse_document(Path("x.md"), "---\nid: x-doc\ntitle: A doc\nsource: general\ntopics: [strategy]\n"
                       "audience: [manager]\nsegments: [all]\nlanguage: fr\n---\n# A doc\n\nText.\n")


def test_stamp_fills_missing_hashes_and_status_follows_the_english_text(docs, tmp_path):
    assert states(docs)[f"{STEM}-zh"].needs_update
    advisor = Advisor(Settings(_env_file=None, knowledge_dir=docs.parent, data_dir=tmp_path / "data"))
    flagged = {d.doc_id: d.status for d in knowledge_status(advisor).attention}
    assert "no edition_hash" in flagged[f"{STEM}-zh"]

    assert [s.doc_id for s in stamp_editions(docs)] == [f"{STEM}-zh"]
    assert not states(docs)[f"{STEM}-zh"].needs_update
    assert f"{STEM}-zh" not in {d.doc_id for d in knowledge_status(advisor).attention}
    before = (docs / f"{STEM}.zh.md").read_text(encoding="utf-8")
    assert unstamped(before) == unstamped((KNOWLEDGE / "docs" / f"{STEM}.zh.md").read_text(encoding="utf-8"))

    english = docs / f"{STEM}.md"
    english.write_text(english.read_text(encoding="utf-8") + "\n\n## Reviews\n\nTiers are reviewed each year.\n", encoding="utf-8")
    flagged = {d.doc_id: d.status for d in knowledge_status(advisor).attention}
    assert "changed after the edition was written" in flagged[f"{STEM}-zh"]
    assert stamp_editions(docs) == []  # a blanket run never blesses a stale translation
    assert states(docs)[f"{STEM}-zh"].needs_update
    assert [s.doc_id for s in stamp_editions(docs, [f"{STEM}-zh"])] == [f"{STEM}-zh"]
    assert not states(docs)[f"{STEM}-zh"].needs_update


def test_a_review_date_change_does_not_send_the_edition_back(docs):
    stamp_editions(docs)
    english = docs / f"{STEM}.md"
    english.write_text(re.sub(r"^review_by: .*$", "review_by: 2031-01-31", english.read_text(encoding="utf-8"),
                              count=1, flags=re.M), encoding="utf-8")
    assert not states(docs)[f"{STEM}-zh"].needs_update


def test_stamping_an_unknown_edition_is_a_clear_error(docs):
    with pytest.raises(InputError, match="not an edition: retail-tier-scheme; editions are retail-tier-scheme-zh"):
        stamp_editions(docs, [STEM])


def test_stamp_editions_command(docs, tmp_path):
    env = {"ADVISOR_KNOWLEDGE_DIR": str(docs.parent), "ADVISOR_DATA_DIR": str(tmp_path / "data")}
    runner = CliRunner()
    result = runner.invoke(app, ["knowledge", "stamp-editions"], env=env)
    assert result.exit_code == 0 and f"stamped {STEM}-zh" in result.output
    result = runner.invoke(app, ["knowledge", "stamp-editions"], env=env)
    assert result.exit_code == 0 and "no edition without a hash" in result.output
    result = runner.invoke(app, ["knowledge", "stamp-editions", "nope-zh"], env=env)
    assert result.exit_code == 2 and "not an edition: nope-zh" in result.output


def test_every_shipped_edition_matches_the_english_text_it_translates():
    """An English fix (a year, a figure) that is not carried into the Chinese edition leaves Chinese readers with the
    old fact: the shipped base has no edition waiting for an update (baoshang-bank-failure-zh was, unnoticed,
    from 2026-12-04 until this test)."""
    stale = [f"{s.doc_id}: {s.status}" for s in edition_states(load_documents(KNOWLEDGE / "docs").docs) if s.needs_update]
    assert stale == []
