"""The one-page segment report (DOCX) and the Markdown tables the app and the README show.

One page because a branch manager reads it in a meeting: who the segments are, what sets each one
apart, what to do for it, the value-potential quadrants, how sure the split is (silhouette and
stability), and the sources, numbered once.
"""

from __future__ import annotations

import io
import re
from datetime import date
from pathlib import Path

from assistant.clients.book_features import money
from assistant.clients.book_models import BookReport
from assistant.clients.chinese import SEGMENT_ZH
from assistant.text import label as source_label

NOTE = ("Draft for discussion: generated from the bank's knowledge base and this book; review before use. "
        "Figures marked illustrative in the sources must be calibrated to the bank.")


LANGUAGES = ("en", "zh")
# The report's own words in Chinese (to_markdown(report, "zh")); the app's status line words the headline alike.
# Data values stay as they are: segment labels, trait words, actions and strategies from book_actions.yaml,
# figures, column and file names.
ZH = {
    "headline": ("读取 {rows} 行，分群 {segmented} 行，无法使用 {rejected} 行 · k = {k} 个行为客群{risk} · 轮廓系数 {silhouette} · "
                 "稳定性 ARI {ari}（重抽样后重新拟合的平均一致度）"),
    "risk": " + 1 个风险复核客群（{clients} 户）",
    "clients": "{count} 户（{share}）",
    "trait": "{words}（{deviation}个标准差）",
    "matrix": "价值—潜力矩阵（潜力依据：{source}）：",
    "column": "“{column}”列",
    "proxy": "由{fields}和年龄推算（book_columns.yaml）",
    "sources": "资料来源：",
}
SEGMENT_HEAD_ZH = ["#", "客群", "客户数", "显著特征", "价值层级构成", "经营策略", "产品组合", "首要行动"]
QUADRANT_HEAD_ZH = ["象限", "客户数", "余额中位数", "本周需联系", "经营策略"]
FIELD_ZH = {"occupation": "职业", "education": "学历"}


def _language(language: str) -> str:
    if language not in LANGUAGES:
        raise ValueError(f"language {language!r} is not supported: use 'en' or 'zh'")
    return language


def _source_zh(source: str) -> str:
    """The matrix's potential source in Chinese where the package worded it (book.py); else as it is."""
    if match := re.fullmatch(r"column '(.*)'", source):
        return ZH["column"].format(column=match.group(1))
    if match := re.fullmatch(r"proxy from (.*) and age \(book_columns\.yaml\)", source):
        return ZH["proxy"].format(fields="、".join(FIELD_ZH.get(f, f) for f in match.group(1).split(", ")))
    return source


def headline(report: BookReport, language: str = "en") -> str:
    c = report.clustering
    if _language(language) == "zh":
        risk = ZH["risk"].format(clients=f"{c.risk_rows:,}") if c.risk_rows else ""
        return ZH["headline"].format(rows=f"{report.rows:,}", segmented=f"{report.segmented:,}", rejected=f"{report.rejected:,}",
                                     k=report.k, risk=risk, silhouette=f"{report.silhouette:.2f}", ari=f"{report.stability_ari:.2f}")
    risk = f" + 1 risk-review segment ({c.risk_rows:,} clients)" if c.risk_rows else ""
    return (f"{report.rows:,} rows read, {report.segmented:,} segmented, {report.rejected:,} rejected · "
            f"k = {report.k} behavioural segments{risk} · silhouette {report.silhouette:.2f} · "
            f"stability ARI {report.stability_ari:.2f} (mean agreement of refits on resamples)")


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
    if language == "zh":
        return ZH["clients"].format(count=f"{count:,}", share=f"{share:.0%}")
    return f"{count:,} ({share:.0%})"


def segment_rows(report: BookReport, numbers: dict | None = None, language: str = "en") -> list[list[str]]:
    numbers = numbers if numbers is not None else _numbering(report)
    zh = _language(language) == "zh"
    items, tiers = ("；", "、") if zh else ("; ", ", ")
    rows = []
    for s in report.segments:
        mix = tiers.join(f"{SEGMENT_ZH.get(t, t) if zh else t} {n / s.clients:.0%}" for t, n in s.tier_mix.items() if n)
        traits = [ZH["trait"].format(words=t.words, deviation=f"{t.deviation:+.1f}") if zh else f"{t.words} ({t.deviation:+.1f} sd)"
                  for t in s.distinguishing]
        rows.append([str(s.segment), ("⚠ " if s.risk else "") + s.label, _clients(s.clients, s.share, language),
                     items.join(traits), mix,
                     f"{s.headline} {_marks(s.service_model.citations, numbers)}".strip(),
                     items.join(b.text.split(" (")[0] + _marks(b.citations, numbers) for b in s.bundle),
                     f"{s.actions[0].text} {_marks(s.actions[0].citations, numbers)}".strip()])
    return rows


SEGMENT_HEAD = ["#", "Segment", "Clients", "What sets it apart", "Tier mix", "What to do", "Bundle", "First action"]
QUADRANT_HEAD = ["Quadrant", "Clients", "Median balance", "Call this week", "Strategy"]


def quadrant_rows(report: BookReport, numbers: dict | None = None, language: str = "en") -> list[list[str]]:
    numbers = numbers if numbers is not None else _numbering(report)
    _language(language)
    return [[q.name or q.quadrant, _clients(q.clients, q.share, language), money(q.median_value_rmb), f"{q.call_this_week:,}",
             f"{q.strategy} {_marks(q.citations, numbers)}".strip()] for q in report.rfm.quadrants]


def to_markdown(report: BookReport, language: str = "en", with_actions: bool = True) -> str:
    """The segment and quadrant tables as Markdown (the app's summary, the README's sample), in English
    ("en") or Chinese ("zh"): the report's own words follow the language, the data's values do not."""
    zh = _language(language) == "zh"

    def table(head, rows):
        escape = [[cell.replace("|", "/") for cell in row] for row in rows]
        return "\n".join(["| " + " | ".join(head) + " |", "|" + "---|" * len(head)] + ["| " + " | ".join(r) + " |" for r in escape])

    numbers = _numbering(report)
    segment_head, quadrant_head = (SEGMENT_HEAD_ZH, QUADRANT_HEAD_ZH) if zh else (SEGMENT_HEAD, QUADRANT_HEAD)
    head = segment_head if with_actions else segment_head[:5]
    rows = [r if with_actions else r[:5] for r in segment_rows(report, numbers, language)]
    parts = [headline(report, language), "", table(head, rows)]
    if report.rfm.quadrants:
        source = report.rfm.potential_source
        matrix = ZH["matrix"].format(source=_source_zh(source)) if zh else f"Value-potential matrix (potential: {source}):"
        parts += ["", matrix, "", table(quadrant_head, quadrant_rows(report, numbers, language))]
    if numbers and with_actions:
        parts += ["", (ZH["sources"] if zh else "Sources: ")
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


def to_docx(report: BookReport, today: date | None = None) -> bytes:
    from docx import Document
    from docx.enum.section import WD_ORIENT
    from docx.shared import Cm, Pt

    numbers = _numbering(report)
    doc = Document()
    section = doc.sections[0]
    section.orientation = WD_ORIENT.LANDSCAPE
    section.page_width, section.page_height = Cm(29.7), Cm(21.0)
    for side in ("left_margin", "right_margin", "top_margin", "bottom_margin"):
        setattr(section, side, Cm(1.0))
    doc.styles["Normal"].font.size = Pt(8)
    doc.core_properties.title = "Client book segments"
    doc.add_heading(f"Client book: {len(report.segments)} segments · {(today or date.today()).isoformat()}", level=1)
    doc.add_paragraph(headline(report))
    _table(doc, SEGMENT_HEAD, segment_rows(report, numbers), [0.6, 3.6, 1.8, 4.6, 2.6, 4.0, 4.4, 6.0])
    if report.rfm.quadrants:
        doc.add_paragraph(f"Value-potential matrix: current value = balance, potential = {report.rfm.potential_source}; "
                          f"cut at the median ({money(report.rfm.value_cut_rmb or 0)}).")
        _table(doc, QUADRANT_HEAD, quadrant_rows(report, numbers), [4.6, 2.0, 2.0, 1.6, 17.4])
    chart = report.files.get("profile_chart")
    if chart and Path(chart).exists():
        doc.add_picture(chart, height=Cm(min(6.0, 1.5 + 0.8 * len(report.segments))))
    sources = "  ".join(f"[{n}] {source_label(c.title, c.section)}" for n, c in numbers.values())
    tail = doc.add_paragraph()
    run = tail.add_run((f"Sources: {sources}  " if sources else "") + NOTE)
    run.font.size = Pt(6.5)
    buffer = io.BytesIO()
    doc.save(buffer)
    return buffer.getvalue()
