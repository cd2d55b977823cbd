"""Plans as documents people hand on: Markdown that reads well alone, a real Word file, JSON.

Citations are numbered once per plan, so "[3]" means the same source everywhere in the document and
the sources list at the end reads like a bibliography.
"""

from __future__ import annotations

import io
import json
from datetime import date

from assistant.clients.plans import Plan, PlanCitation
from assistant.text import label

DRAFT_NOTE = ("Draft for discussion: generated from the bank's knowledge base; the relationship manager "
              "reviews and edits it before use. Figures marked illustrative must be calibrated to the bank.")


def _numbering(plan: Plan) -> dict[str, tuple[int, PlanCitation]]:
    numbers: dict[str, tuple[int, PlanCitation]] = {}
    for section in plan.sections:
        for item in section.items:
            for c in item.citations:
                if c.chunk_id not in numbers:
                    numbers[c.chunk_id] = (len(numbers) + 1, c)
    return numbers


def _marks(item, numbers) -> str:
    return "".join(f"[{numbers[c.chunk_id][0]}]" for c in item.citations)


def plan_title(plan: Plan) -> str:
    return f"Client service plan: {plan.client.get('name', 'client')}"


def meta_lines(plan: Plan, today: date | None = None) -> list[str]:
    """Status, dates and the ids that make the plan traceable (approver, knowledge version, audit id)."""
    lines = [f"Segment: {plan.segment_label} ({plan.segment})",
             f"Status: {plan.status} · Date: {(today or date.today()).isoformat()}"]
    people = [f"Drafted by {plan.drafted_by}" if plan.drafted_by else "",
              f"submitted by {plan.submitted_by}" if plan.submitted_by else ""]
    if any(people):
        text = " · ".join(p for p in people if p)
        lines.append(text[0].upper() + text[1:])
    if plan.approved_by:
        lines.append(f"Approved by {plan.approved_by} on {plan.approved_at}")
    ids = [f"Knowledge version: {plan.knowledge_version}" if plan.knowledge_version else "",
           f"Audit id: {plan.audit_id}" if plan.audit_id else "", f"Plan id: {plan.plan_id}" if plan.plan_id else ""]
    if any(ids):
        lines.append(" · ".join(i for i in ids if i))
    return lines


def to_markdown(plan: Plan, today: date | None = None) -> str:
    numbers = _numbering(plan)
    lines = [f"# {plan_title(plan)}", ""]
    lines += [f"{line}  " for line in meta_lines(plan, today)]
    lines += ["", f"> {plan.disclaimer or DRAFT_NOTE}", ""]
    for warning in plan.warnings:
        lines.append(f"> ⚠️ {warning}")
    if plan.warnings:
        lines.append("")
    for section in plan.sections:
        lines += [f"## {section.title}", ""]
        for item in section.items:
            flag = "**Blocking:** " if item.blocking else ""
            lines.append(f"- {flag}{item.text} {_marks(item, numbers)}".rstrip())
        lines.append("")
    lines += ["## Sources", ""]
    for number, c in numbers.values():
        where = label(c.title, c.section)
        lines.append(f"{number}. {where} (`{c.doc_id}`)")
    return "\n".join(lines).rstrip() + "\n"


def to_json(plan: Plan) -> str:
    data = {
        "client": plan.client, "segment": plan.segment, "segment_label": plan.segment_label,
        "classification": plan.classification.model_dump(), "knowledge_version": plan.knowledge_version,
        "status": plan.status, "warnings": plan.warnings, "audit_id": plan.audit_id, "plan_id": plan.plan_id,
        "drafted_by": plan.drafted_by, "submitted_by": plan.submitted_by,
        "approved_by": plan.approved_by, "approved_at": plan.approved_at, "disclaimer": plan.disclaimer,
        "sections": [{"title": s.title, "items": [i.model_dump() for i in s.items]} for s in plan.sections],
    }
    return json.dumps(data, ensure_ascii=False)


def to_docx(plan: Plan, today: date | None = None) -> bytes:
    from docx import Document
    from docx.shared import Pt, RGBColor

    numbers = _numbering(plan)
    doc = Document()
    doc.core_properties.title = plan_title(plan)
    doc.add_heading(plan_title(plan), level=0)
    for line in meta_lines(plan, today):
        doc.add_paragraph(line)
    note = doc.add_paragraph().add_run(plan.disclaimer or DRAFT_NOTE)
    note.italic = True
    note.font.size = Pt(9)
    for warning in plan.warnings:
        doc.add_paragraph(f"Warning: {warning}").runs[0].font.color.rgb = RGBColor(0xB0, 0x60, 0x00)
    for section in plan.sections:
        doc.add_heading(section.title, level=1)
        for item in section.items:
            paragraph = doc.add_paragraph(style="List Bullet")
            if item.blocking:
                run = paragraph.add_run("Blocking: ")
                run.bold = True
                run.font.color.rgb = RGBColor(0xB0, 0x00, 0x20)
            paragraph.add_run(item.text)
            marks = _marks(item, numbers)
            if marks:
                paragraph.add_run(" " + marks).font.size = Pt(8)
    doc.add_heading("Sources", level=1)
    for number, c in numbers.values():
        where = label(c.title, c.section)
        doc.add_paragraph(f"[{number}] {where} ({c.doc_id})")
    buffer = io.BytesIO()
    doc.save(buffer)
    return buffer.getvalue()
