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
from assistant.text import label as source_label

NOTE = ("Draft for discussion: generated from the bank's knowledge base and this book; review before use. "
        "Figures marked illustrative in the sources must be calibrated to the bank.")


def headline(report: BookReport) -> str:
    c = report.clustering
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


def segment_rows(report: BookReport, numbers: dict | None = None) -> list[list[str]]:
    numbers = numbers if numbers is not None else _numbering(report)
    rows = []
    for s in report.segments:
        mix = ", ".join(f"{t} {n / s.clients:.0%}" for t, n in s.tier_mix.items() if n)
        rows.append([str(s.segment), ("⚠ " if s.risk else "") + s.label, f"{s.clients:,} ({s.share:.0%})",
                     "; ".join(f"{t.words} ({t.deviation:+.1f} sd)" for t in s.distinguishing), mix,
                     f"{s.headline} {_marks(s.service_model.citations, numbers)}".strip(),
                     "; ".join(b.text.split(" (")[0] + _marks(b.citations, numbers) for b in s.bundle),
                     f"{s.actions[0].text} {_marks(s.actions[0].citations, numbers)}".strip()])
    return rows


SEGMENT_HEAD = ["#", "Segment", "Clients", "What sets it apart", "Tier mix", "What to do", "Bundle", "First action"]
QUADRANT_HEAD = ["Quadrant", "Clients", "Median balance", "Call this week", "Strategy"]


def quadrant_rows(report: BookReport, numbers: dict | None = None) -> list[list[str]]:
    numbers = numbers if numbers is not None else _numbering(report)
    return [[q.name or q.quadrant, f"{q.clients:,} ({q.share:.0%})", money(q.median_value_rmb), f"{q.call_this_week:,}",
             f"{q.strategy} {_marks(q.citations, numbers)}".strip()] for q in report.rfm.quadrants]


def to_markdown(report: BookReport, with_actions: bool = True) -> str:
    """The segment and quadrant tables as Markdown (the app's summary, the README's sample)."""
    def table(head, rows):
        escape = [[cell.replace("|", "/") for cell in row] for row in rows]
        return "\n".join(["| " + " | ".join(head) + " |", "|" + "---|" * len(head)] + ["| " + " | ".join(r) + " |" for r in escape])

    numbers = _numbering(report)
    head = SEGMENT_HEAD if with_actions else SEGMENT_HEAD[:5]
    rows = [r if with_actions else r[:5] for r in segment_rows(report, numbers)]
    parts = [headline(report), "", table(head, rows)]
    if report.rfm.quadrants:
        parts += ["", f"Value-potential matrix (potential: {report.rfm.potential_source}):", "",
                  table(QUADRANT_HEAD, quadrant_rows(report, numbers))]
    if numbers and with_actions:
        parts += ["", "Sources: " + " · ".join(f"[{n}] {source_label(c.title, c.section)} (`{c.doc_id}`)" for n, c in numbers.values())]
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
