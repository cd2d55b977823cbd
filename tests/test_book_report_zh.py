"""The segment report in Chinese (issue 19): to_markdown(report, "zh") words its headings, labels, table
headers and fixed sentences in Chinese and keeps the data's values (labels, figures, names); English is
the default and reads as before; any other language is refused by name."""

import re
from collections import Counter
from pathlib import Path

import pytest

from assistant.clients.book import segment_book
from assistant.clients.book_actions import BookCiter
from assistant.clients.book_report import headline, to_markdown
from assistant.interfaces.app.book_tab import BookTab
from assistant.interfaces.app.common import AppContext

from .test_app import small_book
from .test_book import ACTIONS, COLUMNS, RULES

CHINESE = re.compile(r"[\u4e00-\u9fff]")
FIGURE = re.compile(r"[-+]?\d[\d,]*(?:\.\d+)?%?")
SEGMENT_HEAD_EN = "| # | Segment | Clients | What sets it apart | Tier mix | What to do | Bundle | First action |"
SEGMENT_HEAD_ZH = "| # | 客群 | 客户数 | 显著特征 | 价值层级构成 | 经营策略 | 产品组合 | 首要行动 |"
QUADRANT_HEAD_EN = "| Quadrant | Clients | Median balance | Call this week | Strategy |"
QUADRANT_HEAD_ZH = "| 象限 | 客户数 | 余额中位数 | 本周需联系 | 经营策略 |"
# The English version's own words: none may be left in the Chinese one.
ENGLISH_PHRASES = ("rows read", " segmented, ", " rejected · ", "behavioural segments", "risk-review segment", "silhouette",
                   "stability ARI", "mean agreement of refits", " clients)", "What sets it apart", "Tier mix", "First action",
                   "| Segment |", "| Clients |", "Median balance", "Call this week", "| Strategy |", "Value-potential matrix",
                   "potential:", "proxy from", " and age (", "Sources:", " sd)")


@pytest.fixture(scope="module")
def report(advisor, tmp_path_factory):
    """A real segmentation of the app tests' 201-row book (overdrawn clients, one bad row), cited from the corpus."""
    folder = tmp_path_factory.mktemp("book_zh")
    return segment_book(Path(small_book(folder / "book.csv")), RULES, COLUMNS, folder / "out", actions=ACTIONS,
                        citer=BookCiter(advisor))


def test_the_chinese_report_has_chinese_headings_and_none_of_the_english_words(report):
    zh = to_markdown(report, "zh")
    assert report.rfm.quadrants and report.clustering.risk_rows  # the matrix and the risk segment are both worded
    assert zh.startswith(f"读取 201 行，分群 200 行，无法使用 1 行 · k = {report.k} 个行为客群 + 1 个风险复核客群（"), zh[:200]
    assert f"轮廓系数 {report.silhouette:.2f} · 稳定性 ARI {report.stability_ari:.2f}（重抽样后重新拟合的平均一致度）" in zh
    assert headline(report, "zh") == zh.split("\n")[0]
    lines = zh.split("\n")
    assert SEGMENT_HEAD_ZH in lines and QUADRANT_HEAD_ZH in lines
    assert "价值—潜力矩阵（潜力依据：由职业、学历和年龄推算（book_columns.yaml））：" in lines, lines
    assert "个标准差）" in zh and " 户（" in zh
    assert not [p for p in ENGLISH_PHRASES if p in zh], [p for p in ENGLISH_PHRASES if p in zh]
    assert not re.search(r"\b(?:mass-retail|affluent|wealth|private-banking) \d", zh)  # tier names in Chinese: 大众客户 40%
    sources = [line for line in lines if line.startswith("资料来源：")]
    cited = any(c for s in report.segments for c in s.service_model.citations)
    assert len(sources) == (1 if cited else 0) and (not cited or sources[0].startswith("资料来源：[1] "))


def test_the_chinese_report_keeps_every_figure_and_value_of_the_english_one(report):
    en, zh = to_markdown(report), to_markdown(report, "zh")
    missing = Counter(FIGURE.findall(en)) - Counter(FIGURE.findall(zh))
    assert not missing, missing
    for s in report.segments:  # the data's own words stay as they are
        assert s.label in zh and s.actions[0].text in zh and all(t.words in zh for t in s.distinguishing)
    for q in report.rfm.quadrants:
        assert (q.name or q.quadrant) in zh
    for doc_id in {c.doc_id for s in report.segments for c in s.service_model.citations}:
        assert f"(`{doc_id}`)" in zh
    assert len(zh.split("\n")) == len(en.split("\n"))  # the same rows, row for row


def test_english_stays_the_default_and_reads_as_before(report):
    en = to_markdown(report)
    assert to_markdown(report, "en") == en and to_markdown(report, language="en") == en
    lines = en.split("\n")
    assert lines[0] == headline(report) and lines[0].startswith("201 rows read, 200 segmented, 1 rejected · k = ")
    assert SEGMENT_HEAD_EN in lines and QUADRANT_HEAD_EN in lines
    assert "Value-potential matrix (potential: proxy from occupation, education and age (book_columns.yaml)):" in lines
    assert " sd)" in en and not CHINESE.search(en)
    short = to_markdown(report, with_actions=False)
    assert SEGMENT_HEAD_EN.rsplit(" | What to do", 1)[0] + " |" in short.split("\n") and "Sources:" not in short


def test_an_unknown_language_is_refused_by_name(report):
    for language in ("fr", "zh-CN", "EN", ""):
        with pytest.raises(ValueError, match=re.escape(repr(language))):
            to_markdown(report, language)
    with pytest.raises(ValueError, match="'de'"):
        headline(report, "de")


def test_the_book_tab_shows_the_report_in_the_pages_language(report, advisor):
    book = BookTab(AppContext(advisor))
    assert book._views(report, "zh")[0] == to_markdown(report, "zh")
    assert book._views(report, "en")[0] == to_markdown(report)
