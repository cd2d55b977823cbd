"""The one-page segment report (DOCX) and the Markdown tables the app and the README show.

One page because a branch manager reads it in a meeting: who the segments are, what sets each one
apart, what to do for it, the value-potential quadrants, how sure the split is (silhouette and
stability), and the sources, numbered once.
"""

from __future__ import annotations

import io
from datetime import date
from pathlib import Path

from assistant.clients.book_features import money
from assistant.clients.book_models import BookReport
from assistant.clients.book_rfm import RfmResult
from assistant.clients.chinese import SEGMENT_ZH
from assistant.errors import Language, check_language
from assistant.text import label as source_label

NOTE = ("Draft for discussion: generated from the bank's knowledge base and this book; review before use. "
        "Figures marked illustrative in the sources must be calibrated to the bank.")

SEGMENT_HEAD = ["#", "Segment", "Clients", "What sets it apart", "Tier mix", "What to do", "Bundle", "First action"]
QUADRANT_HEAD = ["Quadrant", "Clients", "Median balance", "Call this week", "Strategy"]
# The report's own words, one table for the Markdown (the app, the README, /segment) and the DOCX; the app's
# status line words the headline alike. Data values stay as they are in both languages: segment labels,
# trait words, actions and strategies from book_actions.yaml, figures, amounts, column and file names.
WORDS: dict[str, dict] = {
    "en": {
        "headline": ("{rows} rows read, {segmented} segmented, {rejected} rejected · k = {k} behavioural segments{risk} · "
                     "silhouette {silhouette} · stability ARI {ari} (mean agreement of refits on resamples)"),
        "risk": " + 1 risk-review segment ({clients} clients)",
        "clients": "{count} ({share})",
        "trait": "{words} ({deviation} sd)",
        "items": "; ", "tiers": ", ",
        "segment_head": SEGMENT_HEAD, "quadrant_head": QUADRANT_HEAD,
        "matrix": "Value-potential matrix (potential: {source}):",
        "sources": "Sources: ",
        # the DOCX's own lines
        "title": "Client book segments",
        "heading": "Client book: {count} segments · {date}",
        "matrix_docx": "Value-potential matrix: current value = balance, potential = {source}; {cut}.",
        "cut_median": "cut at the median ({value})",
        "cut_top20": "cut at the top 20% of each axis ({value})",
        "note": NOTE,
    },
    "zh": {
        "headline": ("读取 {rows} 行，分群 {segmented} 行，无法使用 {rejected} 行 · k = {k} 个行为客群{risk} · 轮廓系数 {silhouette} · "
                     "稳定性 ARI {ari}（重抽样后重新拟合的平均一致度）"),
        "risk": " + 1 个风险复核客群（{clients} 户）",
        "clients": "{count} 户（{share}）",
        "trait": "{words}（{deviation}个标准差）",
        "items": "；", "tiers": "、",
        "segment_head": ["#", "客群", "客户数", "显著特征", "价值层级构成", "经营策略", "产品组合", "首要行动"],
        "quadrant_head": ["象限", "客户数", "余额中位数", "本周需联系", "经营策略"],
        "matrix": "价值—潜力矩阵（潜力依据：{source}）：",
        "sources": "资料来源：",
        "title": "客户名单分群报告",
        "heading": "客户名单分群：共 {count} 个客群 · {date}",
        "matrix_docx": "价值—潜力矩阵（潜力依据：{source}）：当前价值按余额计，{cut}。",
        "cut_median": "以中位数（{value}）为界划分高低",
        "cut_top20": "以各轴前 20%（{value}）为界划分高低",
        "note": "讨论稿：依据本行知识库和本客户名单生成，使用前须审阅；资料中标注为示例的数字须按本行实际校准。",
        # the potential's source, as book.py words it in English
        "column": "“{column}”列",
        "proxy": "由{fields}和年龄推算（book_columns.yaml）",
    },
}
FIELD_ZH = {"occupation": "职业", "education": "学历"}


def _potential_source(rfm: RfmResult, language: str) -> str:
    """The matrix's potential source: as the package worded it (book.py) in English; in Chinese from the
    fields it names (the book's column, or the proxy's fields)."""
    if language != "zh":
        return rfm.potential_source
    words = WORDS["zh"]
    if rfm.potential_column:
        return words["column"].format(column=rfm.potential_column)
    if rfm.potential_proxy:
        return words["proxy"].format(fields="、".join(FIELD_ZH.get(f, f) for f in rfm.potential_proxy))
    return rfm.potential_source


def headline(report: BookReport, language: Language = "en") -> str:
    c = report.clustering
    words = WORDS[check_language(language)]
    risk = words["risk"].format(clients=f"{c.risk_rows:,}") if c.risk_rows else ""
    return words["headline"].format(rows=f"{report.rows:,}", segmented=f"{report.segmented:,}", rejected=f"{report.rejected:,}",
                                    k=report.k, risk=risk, silhouette=f"{report.silhouette:.2f}", ari=f"{report.stability_ari:.2f}")


def _numbering(report: BookReport) -> dict[str, tuple[int, object]]:
    numbers: dict[str, tuple[int, object]] = {}
    items = [x for s in report.segments for x in (s.service_model, *s.bundle, *s.actions)]
    cites = [c for x in items for c in x.citations] + [c for q in report.rfm.quadrants for c in q.citations]
    for c in cites:
        numbers.setdefault(c.chunk_id, (len(numbers) + 1, c))
    return numbers


def _marks(citations, numbers) -> str:
    return "".join(f"[{numbers[c.chunk_id][0]}]" for c in citations)


def _clients(count: int, share: float, language: str) -> str:
    return WORDS[language]["clients"].format(count=f"{count:,}", share=f"{share:.0%}")


def segment_rows(report: BookReport, numbers: dict | None = None, language: Language = "en") -> list[list[str]]:
    numbers = numbers if numbers is not None else _numbering(report)
    words = WORDS[check_language(language)]
    tier_name = (lambda t: SEGMENT_ZH.get(t, t)) if language == "zh" else (lambda t: t)
    rows = []
    for s in report.segments:
        mix = words["tiers"].join(f"{tier_name(t)} {n / s.clients:.0%}" for t, n in s.tier_mix.items() if n)
        traits = [words["trait"].format(words=t.words, deviation=f"{t.deviation:+.1f}") for t in s.distinguishing]
        rows.append([str(s.segment), ("⚠ " if s.risk else "") + s.label, _clients(s.clients, s.share, language),
                     words["items"].join(traits), mix,
                     f"{s.headline} {_marks(s.service_model.citations, numbers)}".strip(),
                     words["items"].join(b.text.split(" (")[0] + _marks(b.citations, numbers) for b in s.bundle),
                     f"{s.actions[0].text} {_marks(s.actions[0].citations, numbers)}".strip()])
    return rows


def quadrant_rows(report: BookReport, numbers: dict | None = None, language: Language = "en") -> list[list[str]]:
    numbers = numbers if numbers is not None else _numbering(report)
    check_language(language)
    return [[q.name or q.quadrant, _clients(q.clients, q.share, language), money(q.median_value_rmb), f"{q.call_this_week:,}",
             f"{q.strategy} {_marks(q.citations, numbers)}".strip()] for q in report.rfm.quadrants]


def to_markdown(report: BookReport, language: Language = "en", with_actions: bool = True) -> str:
    """The segment and quadrant tables as Markdown (the app's summary, the README's sample, /segment), in
    English ("en") or Chinese ("zh"): the report's own words follow the language, the data's values do not."""
    words = WORDS[check_language(language)]

    def table(head, rows):
        escape = [[cell.replace("|", "/") for cell in row] for row in rows]
        return "\n".join(["| " + " | ".join(head) + " |", "|" + "---|" * len(head)] + ["| " + " | ".join(r) + " |" for r in escape])

    numbers = _numbering(report)
    head = words["segment_head"] if with_actions else words["segment_head"][:5]
    rows = [r if with_actions else r[:5] for r in segment_rows(report, numbers, language)]
    parts = [headline(report, language), "", table(head, rows)]
    if report.rfm.quadrants:
        matrix = words["matrix"].format(source=_potential_source(report.rfm, language))
        parts += ["", matrix, "", table(words["quadrant_head"], quadrant_rows(report, numbers, language))]
    if numbers and with_actions:
        parts += ["", words["sources"]
                  + " · ".join(f"[{n}] {source_label(c.title, c.section)} (`{c.doc_id}`)" for n, c in numbers.values())]
    return "\n".join(parts) + "\n"


def _table(doc, head: list[str], rows: list[list[str]], widths_cm: list[float]) -> None:
    from docx.shared import Cm, Pt

    table = doc.add_table(rows=1, cols=len(head))
    table.style = "Light Grid Accent 1"
    table.autofit = False  # fixed layout: Word and LibreOffice keep the widths below
    for cell, text in zip(table.rows[0].cells, head):
        cell.text = text
    for row in rows:
        cells = table.add_row().cells
        for cell, text in zip(cells, row):
            cell.text = text
    for column, width in zip(table.columns, widths_cm):
        column.width = Cm(width)
    for row in table.rows:
        for cell, width in zip(row.cells, widths_cm):
            cell.width = Cm(width)
            for paragraph in cell.paragraphs:
                paragraph.paragraph_format.space_after = Pt(0)
                for run in paragraph.runs:
                    run.font.size = Pt(7)


def to_docx(report: BookReport, today: date | None = None, language: Language = "en") -> bytes:
    """The one-page segment report as a Word file, in English ("en") or Chinese ("zh", with a Chinese face
    for every style): the same words as to_markdown in that language; the data's values stay as they are."""
    from docx import Document
    from docx.enum.section import WD_ORIENT
    from docx.shared import Cm, Pt

    words = WORDS[check_language(language)]
    numbers = _numbering(report)
    doc = Document()
    if language == "zh":
        from assistant.clients.exports import use_cjk_font

        use_cjk_font(doc)
    section = doc.sections[0]
    section.orientation = WD_ORIENT.LANDSCAPE
    section.page_width, section.page_height = Cm(29.7), Cm(21.0)
    for side in ("left_margin", "right_margin", "top_margin", "bottom_margin"):
        setattr(section, side, Cm(1.0))
    doc.styles["Normal"].font.size = Pt(8)
    doc.core_properties.title = words["title"]
    doc.add_heading(words["heading"].format(count=len(report.segments), date=(today or date.today()).isoformat()), level=1)
    doc.add_paragraph(headline(report, language))
    _table(doc, words["segment_head"], segment_rows(report, numbers, language), [0.6, 3.6, 1.8, 4.6, 2.6, 4.0, 4.4, 6.0])
    if report.rfm.quadrants:
        cut = words[f"cut_{report.rfm.value_cut}"].format(value=money(report.rfm.value_cut_rmb or 0))
        doc.add_paragraph(words["matrix_docx"].format(source=_potential_source(report.rfm, language), cut=cut))
        _table(doc, words["quadrant_head"], quadrant_rows(report, numbers, language), [4.6, 2.0, 2.0, 1.6, 17.4])
    chart = report.files.get("profile_chart")
    if chart and Path(chart).exists():
        doc.add_picture(chart, height=Cm(min(6.0, 1.5 + 0.8 * len(report.segments))))
    sources = "  ".join(f"[{n}] {source_label(c.title, c.section)}" for n, c in numbers.values())
    tail = doc.add_paragraph()
    run = tail.add_run((f"{words['sources']}{sources}  " if sources else "") + words["note"])
    run.font.size = Pt(6.5)
    buffer = io.BytesIO()
    doc.save(buffer)
    return buffer.getvalue()
