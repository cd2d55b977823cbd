"""Plans as documents people hand on: Markdown that reads well alone, a real Word file, JSON.

Citations are numbered once per plan, so "[3]" means the same source everywhere in the document and
the sources list at the end reads like a bibliography.
"""

from __future__ import annotations

import io
import json
from datetime import date

from assistant.clients.chinese import segment_name_zh
from assistant.clients.plans import Plan, PlanCitation
from assistant.text import label

DRAFT_NOTE = ("Draft for discussion: generated from the bank's knowledge base; the relationship manager "
              "reviews and edits it before use. Figures marked illustrative must be calibrated to the bank.")
# A Chinese plan's own words; the font every Chinese Word install has (Word and LibreOffice substitute
# a local CJK face where it is missing, e.g. Noto Sans CJK on Linux).
CJK_FONT = "Microsoft YaHei"
WORDS = {
    "en": {"title": "Client service plan: {name}", "segment": "Segment: {label} ({id})", "status": "Status: {status} · Date: {date}",
           "drafted": "Drafted by {who}", "submitted": "submitted by {who}", "approved": "Approved by {who} on {when}",
           "knowledge": "Knowledge version: {v}", "audit": "Audit id: {v}", "plan": "Plan id: {v}", "blocking": "Blocking: ",
           "sources": "Sources", "warning": "Warning: ", "note": DRAFT_NOTE, "sep": " · "},
    "zh": {"title": "客户服务方案：{name}", "segment": "客户分层：{label}（{id}）", "status": "状态：{status} · 日期：{date}",
           "drafted": "起草人：{who}", "submitted": "提交人：{who}", "approved": "批准人：{who}（{when}）",
           "knowledge": "知识库版本：{v}", "audit": "审计编号：{v}", "plan": "方案编号：{v}", "blocking": "须先处理：",
           "sources": "引用来源", "warning": "提示：",
           "note": "讨论稿：依据本行知识库生成，客户经理使用前须审阅修改；标注为示例的数字须按本行实际校准。", "sep": " · "},
}
STATUS_ZH = {"draft": "草稿", "submitted": "已提交审核", "approved": "已批准", "returned": "已退回"}


def _words(plan: Plan) -> dict[str, str]:
    return WORDS.get(plan.language, WORDS["en"])


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
    return _words(plan)["title"].format(name=plan.client.get("name", "client"))


def meta_lines(plan: Plan, today: date | None = None) -> list[str]:
    """Status, dates and the ids that make the plan traceable (approver, knowledge version, audit id)."""
    w = _words(plan)
    zh = plan.language == "zh"
    segment = segment_name_zh(plan.segment, plan.segment_label) if zh else plan.segment_label
    lines = [w["segment"].format(label=segment, id=plan.segment),
             w["status"].format(status=STATUS_ZH.get(plan.status, plan.status) if zh else plan.status,
                                date=(today or date.today()).isoformat())]
    people = [w["drafted"].format(who=plan.drafted_by) if plan.drafted_by else "",
              w["submitted"].format(who=plan.submitted_by) if plan.submitted_by else ""]
    if any(people):
        text = w["sep"].join(p for p in people if p)
        lines.append(text[0].upper() + text[1:])
    if plan.approved_by:
        lines.append(w["approved"].format(who=plan.approved_by, when=plan.approved_at))
    ids = [w["knowledge"].format(v=plan.knowledge_version) if plan.knowledge_version else "",
           w["audit"].format(v=plan.audit_id) if plan.audit_id else "", w["plan"].format(v=plan.plan_id) if plan.plan_id else ""]
    if any(ids):
        lines.append(" · ".join(i for i in ids if i))
    return lines


def to_markdown(plan: Plan, today: date | None = None) -> str:
    numbers = _numbering(plan)
    w = _words(plan)
    lines = [f"# {plan_title(plan)}", ""]
    lines += [f"{line}  " for line in meta_lines(plan, today)]
    lines += ["", f"> {plan.disclaimer or w['note']}", ""]
    for warning in plan.warnings:
        lines.append(f"> ⚠️ {warning}")
    if plan.warnings:
        lines.append("")
    for section in plan.sections:
        lines += [f"## {section.title}", ""]
        for item in section.items:
            flag = f"**{w['blocking'].strip()}** " if item.blocking else ""
            lines.append(f"- {flag}{item.text} {_marks(item, numbers)}".rstrip())
        lines.append("")
    lines += [f"## {w['sources']}", ""]
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
        "language": plan.language,
        "sections": [{"title": s.title, "key": s.key, "items": [i.model_dump() for i in s.items]} for s in plan.sections],
    }
    return json.dumps(data, ensure_ascii=False)


def to_docx(plan: Plan, today: date | None = None) -> bytes:
    from docx import Document
    from docx.shared import Pt, RGBColor

    numbers = _numbering(plan)
    w = _words(plan)
    doc = Document()
    if plan.language == "zh":
        use_cjk_font(doc)
    doc.core_properties.title = plan_title(plan)
    doc.add_heading(plan_title(plan), level=0)
    for line in meta_lines(plan, today):
        doc.add_paragraph(line)
    note = doc.add_paragraph().add_run(plan.disclaimer or w["note"])
    note.italic = True
    note.font.size = Pt(9)
    for warning in plan.warnings:
        doc.add_paragraph(f"{w['warning']}{warning}").runs[0].font.color.rgb = RGBColor(0xB0, 0x60, 0x00)
    for section in plan.sections:
        doc.add_heading(section.title, level=1)
        for item in section.items:
            paragraph = doc.add_paragraph(style="List Bullet")
            if item.blocking:
                run = paragraph.add_run(w["blocking"])
                run.bold = True
                run.font.color.rgb = RGBColor(0xB0, 0x00, 0x20)
            paragraph.add_run(item.text)
            marks = _marks(item, numbers)
            if marks:
                paragraph.add_run(" " + marks).font.size = Pt(8)
    doc.add_heading(w["sources"], level=1)
    for number, c in numbers.values():
        where = label(c.title, c.section)
        doc.add_paragraph(f"[{number}] {where} ({c.doc_id})")
    buffer = io.BytesIO()
    doc.save(buffer)
    return buffer.getvalue()


def use_cjk_font(doc, font: str = CJK_FONT) -> None:
    """Give every style a Chinese (East Asian) face: Word otherwise renders Chinese in whatever its Latin
    font falls back to, which on some installs is boxes. Used by the plan's and the segment report's DOCX.
    A style's theme font (``w:eastAsiaTheme``, on the headings and the title) outranks a named face in Word,
    so it is dropped where the face is set."""
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn

    for style in doc.styles:
        element = getattr(style, "element", None)
        if element is None or style.type not in (1, 2):  # paragraph and character styles
            continue
        rpr = element.get_or_add_rPr()
        fonts = rpr.find(qn("w:rFonts"))
        if fonts is None:
            fonts = OxmlElement("w:rFonts")
            rpr.append(fonts)
        fonts.attrib.pop(qn("w:eastAsiaTheme"), None)
        fonts.set(qn("w:eastAsia"), font)
