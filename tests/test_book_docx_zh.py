"""The segment report's DOCX and the /segment API in Chinese (issue 19): to_docx(report, today, "zh") words
the page as to_markdown(report, "zh") does, with a Chinese face for every style; the Book tab's download
follows the page's language; /segment takes language "en" (default) or "zh" and refuses anything else by
name. English reads byte for byte as before."""

import io
import re
import string
import zipfile
from collections import Counter
from datetime import date
from pathlib import Path

import pytest
from docx import Document
from docx.oxml.ns import qn
from gradio_client import Client, handle_file

from assistant.clients.book import segment_book
from assistant.clients.book_actions import BookCiter
from assistant.clients.book_features import money
from assistant.clients.book_report import NOTE, WORDS, headline, to_docx, to_markdown
from assistant.clients.exports import CJK_FONT
from assistant.interfaces.app.book_tab import BookTab
from assistant.interfaces.app.common import AppContext
from assistant.text import label as source_label

from .appserver import running_app
from .conftest import make_knowledge
from .test_app import small_book
from .test_book import ACTIONS, COLUMNS, RULES, SMALL, small_columns
from .test_page_language import EN, NO_PROGRESS, ZH, mapped

TODAY = date(2026, 12, 3)
CHINESE = re.compile(r"[\u4e00-\u9fff]")
FIGURE = re.compile(r"[-+]?\d[\d,]*(?:\.\d+)?%?")
SEGMENT_HEAD_ZH = ["#", "客群", "客户数", "显著特征", "价值层级构成", "经营策略", "产品组合", "首要行动"]
QUADRANT_HEAD_ZH = ["象限", "客户数", "余额中位数", "本周需联系", "经营策略"]
NOTE_ZH = "讨论稿：依据本行知识库和本客户名单生成，使用前须审阅；资料中标注为示例的数字须按本行实际校准。"
# The English DOCX's own words: none may be left in the Chinese one.
ENGLISH_WORDS = ("Client book", "rows read", "segmented, ", "behavioural segments", "risk-review", "silhouette ", "mean agreement",
                 "What sets it apart", "Tier mix", "What to do", "First action", "Median balance", "Call this week",
                 "Value-potential matrix", "current value", "potential =", "cut at the median", "proxy from", "Sources:",
                 "Draft for discussion", " sd)", " clients)")


@pytest.fixture(scope="module")
def reports(advisor, tmp_path_factory):
    """Two real segmentations cited from the corpus: the app tests' 201-row book (a risk segment, a bad row,
    the potential from the occupation and education proxy) and ten hand-checked clients with an income
    column as the potential."""
    folder = tmp_path_factory.mktemp("book_docx_zh")
    (folder / "small.csv").write_text(SMALL, encoding="utf-8")
    proxy = segment_book(Path(small_book(folder / "book.csv")), RULES, COLUMNS, folder / "out", actions=ACTIONS,
                         citer=BookCiter(advisor))
    column = segment_book(folder / "small.csv", RULES, small_columns(), folder / "out2", actions=ACTIONS,
                          citer=BookCiter(advisor), k=2)
    assert proxy.rfm.potential_source.startswith("proxy from") and column.rfm.potential_source == "column 'income'"
    return proxy, column


def read(data: bytes):
    return Document(io.BytesIO(data))


def texts(doc) -> tuple[list[str], list[list[list[str]]]]:
    return [p.text for p in doc.paragraphs], [[[c.text for c in row.cells] for row in t.rows] for t in doc.tables]


def all_text(doc) -> str:
    paragraphs, tables = texts(doc)
    return "\n".join(paragraphs + [cell for t in tables for row in t for cell in row])


def east_asian_font(doc, style: str) -> str | None:
    rpr = doc.styles[style].element.rPr
    fonts = rpr.find(qn("w:rFonts")) if rpr is not None else None
    if fonts is None or fonts.get(qn("w:eastAsiaTheme")):  # Word takes a theme font over a named one
        return None
    return fonts.get(qn("w:eastAsia"))


def markdown_rows(markdown: str, head: list[str]) -> list[list[str]]:
    """The rows of the Markdown table under ``head``."""
    lines = markdown.split("\n")
    start = lines.index("| " + " | ".join(head) + " |") + 2
    rows = []
    for line in lines[start:]:
        if not line.startswith("| "):
            break
        rows.append(line[2:-2].split(" | "))
    return rows


# ------------------------------------------------------------------ the English report as it read before issue 19
def numbers_before(report) -> dict:
    numbers: dict = {}
    items = [x for s in report.segments for x in (s.service_model, *s.bundle, *s.actions)]
    for c in [c for x in items for c in x.citations] + [c for q in report.rfm.quadrants for c in q.citations]:
        numbers.setdefault(c.chunk_id, (len(numbers) + 1, c))
    return numbers


def english_before(report, today: date) -> tuple[list[str], list[list[list[str]]], str]:
    """The English DOCX's paragraphs and tables and the English Markdown, restated from the code before issue 19."""
    numbers = numbers_before(report)

    def marks(citations):
        return "".join(f"[{numbers[c.chunk_id][0]}]" for c in citations)

    c = report.clustering
    risk = f" + 1 risk-review segment ({c.risk_rows:,} clients)" if c.risk_rows else ""
    head = (f"{report.rows:,} rows read, {report.segmented:,} segmented, {report.rejected:,} rejected · "
            f"k = {report.k} behavioural segments{risk} · silhouette {report.silhouette:.2f} · "
            f"stability ARI {report.stability_ari:.2f} (mean agreement of refits on resamples)")
    segments = [[str(s.segment), ("⚠ " if s.risk else "") + s.label, f"{s.clients:,} ({s.share:.0%})",
                 "; ".join(f"{t.words} ({t.deviation:+.1f} sd)" for t in s.distinguishing),
                 ", ".join(f"{t} {n / s.clients:.0%}" for t, n in s.tier_mix.items() if n),
                 f"{s.headline} {marks(s.service_model.citations)}".strip(),
                 "; ".join(b.text.split(" (")[0] + marks(b.citations) for b in s.bundle),
                 f"{s.actions[0].text} {marks(s.actions[0].citations)}".strip()] for s in report.segments]
    quadrants = [[q.name or q.quadrant, f"{q.clients:,} ({q.share:.0%})", money(q.median_value_rmb), f"{q.call_this_week:,}",
                  f"{q.strategy} {marks(q.citations)}".strip()] for q in report.rfm.quadrants]
    segment_head = ["#", "Segment", "Clients", "What sets it apart", "Tier mix", "What to do", "Bundle", "First action"]
    quadrant_head = ["Quadrant", "Clients", "Median balance", "Call this week", "Strategy"]
    source = report.rfm.potential_source
    paragraphs = [f"Client book: {len(report.segments)} segments · {today.isoformat()}", head]
    tables = [[segment_head] + segments]
    if report.rfm.quadrants:
        paragraphs.append(f"Value-potential matrix: current value = balance, potential = {source}; "
                          f"cut at the median ({money(report.rfm.value_cut_rmb or 0)}).")
        tables.append([quadrant_head] + quadrants)
    paragraphs.append("")  # the profile chart
    cited = "  ".join(f"[{n}] {source_label(c.title, c.section)}" for n, c in numbers.values())
    paragraphs.append((f"Sources: {cited}  " if cited else "") + NOTE)

    def table(head, rows):
        rows = [[cell.replace("|", "/") for cell in row] for row in rows]
        return "\n".join(["| " + " | ".join(head) + " |", "|" + "---|" * len(head)] + ["| " + " | ".join(r) + " |" for r in rows])

    parts = [head, "", table(segment_head, segments)]
    if report.rfm.quadrants:
        parts += ["", f"Value-potential matrix (potential: {source}):", "", table(quadrant_head, quadrants)]
    if numbers:
        parts += ["", "Sources: " + " · ".join(f"[{n}] {source_label(c.title, c.section)} (`{c.doc_id}`)" for n, c in numbers.values())]
    return paragraphs, tables, "\n".join(parts) + "\n"


# ------------------------------------------------------------------ the DOCX
def test_the_chinese_docx_has_chinese_headings_and_cells_in_a_chinese_face(reports):
    report = reports[0]
    doc = read(to_docx(report, TODAY, "zh"))
    paragraphs, (segments, quadrants) = texts(doc)
    assert doc.core_properties.title == "客户名单分群报告"
    assert doc.paragraphs[0].style.name == "Heading 1" and paragraphs[0] == f"客户名单分群：共 {len(report.segments)} 个客群 · 2026-12-03"
    assert paragraphs[1] == headline(report, "zh") and paragraphs[1].startswith("读取 201 行，分群 200 行，无法使用 1 行 · k = ")
    assert "个风险复核客群" in paragraphs[1] and "轮廓系数" in paragraphs[1]
    assert paragraphs[2] == ("价值—潜力矩阵（潜力依据：由职业、学历和年龄推算（book_columns.yaml））：当前价值按余额计，"
                             f"以中位数（{money(report.rfm.value_cut_rmb)}）为界划分高低。")
    assert segments[0] == SEGMENT_HEAD_ZH and quadrants[0] == QUADRANT_HEAD_ZH
    clients = [row[2] for row in segments[1:]] + [row[1] for row in quadrants[1:]]
    assert all(re.fullmatch(r"[\d,]+ 户（\d+%）", cell) for cell in clients), clients
    assert all("个标准差）" in row[3] for row in segments[1:])
    assert segments[1][1].startswith("⚠ ") and any(re.search(r"(大众|贵宾|财富|私人银行)客户 \d+%", row[4]) for row in segments[1:])
    assert paragraphs[-1].startswith("资料来源：[1] ") and paragraphs[-1].endswith(NOTE_ZH)
    left = [w for w in ENGLISH_WORDS if w in all_text(doc)]
    assert not left, left
    for style in ("Normal", "Heading 1", "Title"):
        assert east_asian_font(doc, style) == CJK_FONT, style
    runs = [r for p in doc.paragraphs for r in p.runs] + [r for t in doc.tables for row in t.rows for c in row.cells
                                                          for p in c.paragraphs for r in p.runs]
    assert not [r.text for r in runs if r._element.rPr is not None and r._element.rPr.find(qn("w:rFonts")) is not None]  # styles decide


def test_the_chinese_docx_says_what_the_chinese_markdown_says(reports):
    """One table of wordings: the DOCX's cells are the Chinese Markdown's cells, and the potential's source
    reads the same in both (a column here: “income”列)."""
    for report in reports:
        markdown = to_markdown(report, "zh")
        _, (segments, quadrants) = texts(read(to_docx(report, TODAY, "zh")))
        assert [[c.replace("|", "/") for c in row] for row in segments[1:]] == markdown_rows(markdown, SEGMENT_HEAD_ZH)
        assert [[c.replace("|", "/") for c in row] for row in quadrants[1:]] == markdown_rows(markdown, QUADRANT_HEAD_ZH)
    column = reports[1]
    paragraphs, _ = texts(read(to_docx(column, TODAY, "zh")))
    assert "价值—潜力矩阵（潜力依据：“income”列）：" in to_markdown(column, "zh").split("\n")
    assert paragraphs[2] == f"价值—潜力矩阵（潜力依据：“income”列）：当前价值按余额计，以中位数（{money(column.rfm.value_cut_rmb)}）为界划分高低。"
    assert paragraphs[0] == "客户名单分群：共 2 个客群 · 2026-12-03" and "风险复核" not in paragraphs[1]


def test_the_chinese_docx_keeps_every_figure_and_value_of_the_english_one(reports):
    for report in reports:
        en, zh = all_text(read(to_docx(report, TODAY))), all_text(read(to_docx(report, TODAY, "zh")))
        missing = Counter(FIGURE.findall(en)) - Counter(FIGURE.findall(zh))
        assert not missing, missing
        for s in report.segments:
            assert s.label in zh and s.actions[0].text in zh and all(t.words in zh for t in s.distinguishing)
        for q in report.rfm.quadrants:
            assert (q.name or q.quadrant) in zh and q.strategy in zh


def test_the_matrix_line_names_the_cut_used_and_the_chinese_source_comes_from_fields(reports, advisor, tmp_path):
    """A book cut at the top 20% must not say "the median" in either language; the Chinese source is
    worded from the fields the segmentation kept, not parsed back out of the English sentence."""
    from assistant.clients.book_models import BookSettings
    from assistant.clients.book_rfm import RfmSettings

    (tmp_path / "small.csv").write_text(SMALL, encoding="utf-8")
    top = segment_book(tmp_path / "small.csv", RULES, small_columns(), tmp_path / "out", actions=ACTIONS,
                       citer=BookCiter(advisor), k=2, settings=BookSettings(rfm=RfmSettings(cut="top20")))
    assert top.rfm.value_cut == "top20" and top.rfm.potential_column == "income"
    english, chinese = (texts(read(to_docx(top, TODAY, language)))[0][2] for language in ("en", "zh"))
    assert english.endswith(f"cut at the top 20% of each axis ({money(top.rfm.value_cut_rmb)}).") and "median" not in english
    assert f"以各轴前 20%（{money(top.rfm.value_cut_rmb)}）为界划分高低" in chinese and "中位数" not in chinese
    proxy = reports[0]
    assert proxy.rfm.value_cut == "median" and proxy.rfm.potential_proxy == ["occupation", "education"]
    reworded = proxy.model_copy(update={"rfm": proxy.rfm.model_copy(update={"potential_source": "estimated from job and schooling"})})
    assert "潜力依据：由职业、学历和年龄推算（book_columns.yaml）" in texts(read(to_docx(reworded, TODAY, "zh")))[0][2]


def test_english_reads_byte_for_byte_as_before(reports):
    for report in reports:
        paragraphs, tables, markdown = english_before(report, TODAY)
        default, explicit = to_docx(report, TODAY), to_docx(report, TODAY, "en")
        doc = read(default)
        assert texts(doc) == (paragraphs, tables)
        assert doc.core_properties.title == "Client book segments" and not CHINESE.search(all_text(doc))
        assert all(east_asian_font(doc, style) != CJK_FONT for style in ("Normal", "Heading 1"))
        for part in ("word/document.xml", "word/styles.xml"):   # the default is English, part for part
            assert _part(default, part) == _part(explicit, part), part
        assert to_markdown(report) == markdown == to_markdown(report, "en")


def _part(data: bytes, name: str) -> bytes:
    return zipfile.ZipFile(io.BytesIO(data)).read(name)


def test_an_unknown_language_is_refused_by_name(reports):
    for language in ("fr", "zh-CN", "EN", "", None):
        with pytest.raises(ValueError, match=re.escape(repr(language))):
            to_docx(reports[1], TODAY, language)


def test_both_languages_word_the_same_things_with_the_same_fields():
    """A wording added in one language only, or with other {fields}, would fail here, not in a user's report."""
    assert set(WORDS["zh"]) - set(WORDS["en"]) == {"column", "proxy"}  # the potential's source, worded from its fields
    assert set(WORDS["en"]) <= set(WORDS["zh"])
    for key, english in WORDS["en"].items():
        if isinstance(english, str):
            fields = {f for _, f, _, _ in string.Formatter().parse(english) if f}
            assert fields == {f for _, f, _, _ in string.Formatter().parse(WORDS["zh"][key]) if f}, key
        else:
            assert len(english) == len(WORDS["zh"][key]), key


# ------------------------------------------------------------------ the Book tab's download
def test_the_book_tabs_docx_download_is_in_the_pages_language(advisor, tmp_path):
    book = BookTab(AppContext(advisor))
    path = small_book(tmp_path / "book.csv")
    chinese = book.run(ZH, path, "auto", 1.0, "auto", NO_PROGRESS, *mapped(book, path))
    english = book.run(EN, path, "auto", 1.0, "auto", NO_PROGRESS, *mapped(book, path))
    assert chinese[0] == "" and english[0] == ""
    zh_file, en_file = Path(chinese[9]["value"]), Path(english[9]["value"])
    assert zh_file.name == en_file.name == "segment_report.docx" and zh_file != en_file
    zh_paragraphs, zh_tables = texts(read(zh_file.read_bytes()))
    en_paragraphs, en_tables = texts(read(en_file.read_bytes()))
    assert zh_paragraphs[0].startswith("客户名单分群：共 ") and zh_tables[0][0] == SEGMENT_HEAD_ZH
    assert read(zh_file.read_bytes()).styles["Normal"].element.rPr.find(qn("w:rFonts")).get(qn("w:eastAsia")) == CJK_FONT
    assert en_paragraphs[0].startswith("Client book: ") and en_tables[0][0][1] == "Segment" and not CHINESE.search("".join(en_paragraphs))
    assert chinese[2].startswith("读取 201 行") and english[2].startswith("201 rows read")   # the summary, as before


# ------------------------------------------------------------------ /segment on a real server
def test_the_segment_endpoint_takes_a_language(tmp_path):
    temp = tmp_path / "tmp"
    temp.mkdir()
    with running_app(make_knowledge(tmp_path / "knowledge"), tmp_path / "data", {"TMPDIR": str(temp)}) as (url, _, _):
        client = Client(url, verbose=False)
        book = small_book(tmp_path / "book.csv")
        chinese = client.predict(handle_file(book), None, None, "zh", api_name="/segment")
        assert chinese["rows"] == 201 and chinese["files"]["report"] == "segment_report.docx"
        lines = chinese["markdown"].split("\n")
        assert lines[0].startswith("读取 201 行，分群 200 行，无法使用 1 行 · k = ") and "| # | 客群 | 客户数 |" in lines[2]
        assert "价值—潜力矩阵（潜力依据：由职业、学历和年龄推算（book_columns.yaml））：" in lines
        assert not [w for w in ("rows read", "| Segment |", "Sources:", " sd)") if w in chinese["markdown"]]
        assert chinese["segments"][0]["label"] in chinese["markdown"]   # the data stays as it is
        written = list(temp.glob("advisor-downloads-*/**/segment_report.docx"))
        assert len(written) == 1 and read(written[0].read_bytes()).paragraphs[0].text.startswith("客户名单分群：共 ")

        english = client.predict(handle_file(book), None, None, api_name="/segment")   # no language: English
        assert english["markdown"].startswith("201 rows read, 200 segmented, 1 rejected · k = ")
        assert "| # | Segment | Clients |" in english["markdown"] and not CHINESE.search(english["markdown"])
        assert english["k"] == chinese["k"] and [s["clients"] for s in english["segments"]] == [s["clients"] for s in chinese["segments"]]
        assert client.predict(handle_file(book), None, None, "en", api_name="/segment")["markdown"] == english["markdown"]

        for bad in ("fr", "zh-CN"):
            with pytest.raises(Exception, match=re.escape(f"language {bad!r} is not supported: use 'en' or 'zh'")):
                client.predict(handle_file(book), None, None, bad, api_name="/segment")


def test_segment_book_writes_its_docx_in_the_language_asked_and_refuses_another_before_any_work(tmp_path, advisor):
    (tmp_path / "small.csv").write_text(SMALL, encoding="utf-8")
    with pytest.raises(ValueError, match="'fr'"):
        segment_book(tmp_path / "small.csv", RULES, small_columns(), tmp_path / "never", actions=ACTIONS, k=2, language="fr")
    assert not (tmp_path / "never").exists()
    report = segment_book(tmp_path / "small.csv", RULES, small_columns(), tmp_path / "out", actions=ACTIONS,
                          citer=BookCiter(advisor), k=2, language="zh")
    assert all_text(read(Path(report.files["report"]).read_bytes())).startswith("客户名单分群：共 2 个客群")
