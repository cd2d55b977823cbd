"""Training's outputs as Markdown, in English or Chinese: the curriculum, glossary hits and a progress report.

The app's Training tab shows these; any other front end may. The language words the frame (labels, headings,
fixed sentences); what comes from data stays as it is: the curriculum's own wordings come in the language it
was built in (``build_curriculum(settings, language)``), and terms, definitions, document ids, topics, names
and figures are shown as stored. English reads exactly as the tab did before it had Chinese; any other
language is refused by name.

>>> curriculum_markdown(build_curriculum(settings, "zh"), "zh")
>>> glossary_markdown(search_glossary(settings, "保理", edition="zh"), "zh")
>>> progress_markdown(progress_report(settings, "Li Wei"), "zh")

May import: training.models, training.progress (its report model).
"""

from __future__ import annotations

from assistant.errors import Language, check_language
from assistant.training.models import Curriculum, GlossarySearch
from assistant.training.progress import ProgressReport

# The frame's words in Chinese; the English ones are written out in each function below.
ZH = {
    "days": "（第{first}-{last}天）",
    "objective": "- 学习目标：{text}",
    "read": "- 阅读：《{title}》（`{doc}`）",
    "activity": "- 实践任务：{text}",
    "no_match": "没有与“{query}”匹配的术语。",
    "explained_in": "_释义见：_ ",
    "cohort": "全体学员",
    "trainee": "学员 {name} ",
    "no_answers": "{who}尚无测验作答记录。",
    "progress": "### {who}的学习进度：答对 {correct}/{attempts} 题（{score}）",
    "topics_head": "| 主题 | 作答题数 | 答对题数 | 正确率 | 薄弱 |",
    "weak": "\n**薄弱主题：** {topics}",
    "none": "无",
    "trainees_head": "| 学员 | 作答题数 | 正确率 | 薄弱主题 |",
}


def curriculum_markdown(curriculum: Curriculum, language: Language = "en") -> str:
    """Phases, then each module: title and days, objectives, readings with their sections, activities."""
    zh = check_language(language) == "zh"
    lines = [f"## {curriculum.title}"]
    for phase in curriculum.phases:
        lines.append(f"### {phase.label}")
        for module in (m for m in curriculum.modules if m.id in phase.modules):
            if zh:
                lines.append(f"**{module.order}. {module.title}**" + ZH["days"].format(first=module.first_day, last=module.last_day))
                lines += [ZH["objective"].format(text=o) for o in module.objectives]
            else:
                lines.append(f"**{module.order}. {module.title}** (days {module.first_day}-{module.last_day})")
                lines += [f"- Objective: {o}" for o in module.objectives]
            for reading in module.readings:
                if zh:
                    sections = "；".join(s.heading for s in reading.sections)
                    lines.append(ZH["read"].format(title=reading.title, doc=reading.doc_id) + (f"：{sections}" if sections else ""))
                else:
                    sections = "; ".join(s.heading for s in reading.sections)
                    lines.append(f"- Read: *{reading.title}* (`{reading.doc_id}`)" + (f": {sections}" if sections else ""))
            lines += [ZH["activity"].format(text=a) if zh else f"- Activity: {a}" for a in module.activities]
            lines.append("")
    return "\n".join(lines)


def glossary_markdown(found: GlossarySearch, language: Language = "en", query: str | None = None) -> str:
    """The hits, best first: in Chinese the Chinese term and definition lead and the English follow. ``query``
    is what the reader typed, shown when nothing matches (default: the search's own, trimmed)."""
    zh = check_language(language) == "zh"
    shown = found.query if query is None else query
    if not found.hits:
        return ZH["no_match"].format(query=shown) if zh else f"No glossary term matches '{shown}'."
    if not zh:
        return "\n\n".join(f"**{h.term}** · {h.zh}  \n{h.definition}" + (f"  \n{h.definition_zh}" if h.definition_zh else "")
                           + f"  \n_Explained in:_ {h.doc_title or h.doc} (`{h.doc}`)" for h in found.hits)
    parts = []
    for h in found.hits:
        head = f"**{h.zh}** · {h.term}" if h.zh else f"**{h.term}**"
        where = f"《{h.doc_title}》（`{h.doc}`）" if h.doc_title else f"`{h.doc}`"
        parts.append(head + (f"  \n{h.definition_zh}" if h.definition_zh else "") + f"  \n{h.definition}  \n"
                     + ZH["explained_in"] + where)
    return "\n\n".join(parts)


def progress_markdown(report: ProgressReport, language: Language = "en") -> str:
    """Score, per-topic table and weak topics; for the cohort, one row per trainee too."""
    if check_language(language) == "zh":
        return _progress_zh(report)
    who = report.trainee or "the cohort"
    if not report.attempts:
        return f"No quiz answers recorded for {who} yet."
    lines = [f"### Progress of {who}: {report.correct}/{report.attempts} correct ({report.score:.0%})",
             "| topic | answered | correct | score | weak |", "|---|---|---|---|---|"]
    lines += [f"| {t.topic} | {t.attempts} | {t.correct} | {t.score:.0%} | {'⚠️' if t.weak else ''} |" for t in report.topics]
    lines.append("\n**Weak topics:** " + (", ".join(report.weak_topics) if report.weak_topics else "none"))
    if report.trainees:
        lines += ["", "| trainee | answered | score | weak topics |", "|---|---|---|---|"]
        lines += [f"| {t.trainee} | {t.attempts} | {t.score:.0%} | {', '.join(t.weak_topics)} |" for t in report.trainees]
    return "\n".join(lines)


def _progress_zh(report: ProgressReport) -> str:
    who = ZH["trainee"].format(name=report.trainee) if report.trainee else ZH["cohort"]
    if not report.attempts:
        return ZH["no_answers"].format(who=who)
    lines = [ZH["progress"].format(who=who, correct=report.correct, attempts=report.attempts, score=f"{report.score:.0%}"),
             ZH["topics_head"], "|---|---|---|---|---|"]
    lines += [f"| {t.topic} | {t.attempts} | {t.correct} | {t.score:.0%} | {'⚠️' if t.weak else ''} |" for t in report.topics]
    lines.append(ZH["weak"].format(topics="、".join(report.weak_topics) if report.weak_topics else ZH["none"]))
    if report.trainees:
        lines += ["", ZH["trainees_head"], "|---|---|---|---|"]
        lines += [f"| {t.trainee} | {t.attempts} | {t.score:.0%} | {'、'.join(t.weak_topics)} |" for t in report.trainees]
    return "\n".join(lines)
