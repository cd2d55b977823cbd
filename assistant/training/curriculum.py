"""The onboarding curriculum: modules, readings and activities from curriculum.yaml, checked against the documents.

In Chinese (``build_curriculum(settings, "zh")``) the modules read from the file's ``*_zh`` wordings and every
reading, related document and left-over document names its Chinese edition (``<id>-zh``: its title and the
headings at the same places); a wording the file lacks shows the English behind 【待译】, and
``missing_chinese`` lists them.
"""
from __future__ import annotations

from assistant.config import Settings
from assistant.errors import InputError, Language, check_language
from assistant.training.material import TrainingKnowledge, knowledge_for
from assistant.training.models import (
    Curriculum,
    CurriculumFile,
    Module,
    ModuleSpec,
    Phase,
    Reading,
    RelatedDoc,
    SectionRef,
)

# ----------------------------------------------------------------------------------------- curriculum


PHASES = ((30, "Days 1-30", "第1-30天"), (60, "Days 31-60", "第31-60天"), (90, "Days 61-90", "第61-90天"))
AFTER = ("After day 90", "第90天以后")
UNTRANSLATED = "【待译】"  # before the English of a wording curriculum.yaml has no Chinese for


def _phase(last_day: int, zh: bool = False) -> str:
    for end, label, label_zh in PHASES:
        if last_day <= end:
            return label_zh if zh else label
    return AFTER[zh]


def _zh(chinese: str | None, english: str) -> str:
    return chinese if chinese else UNTRANSLATED + english


def _zh_list(chinese: list[str] | None, english: list[str]) -> list[str]:
    return list(chinese) if chinese is not None else [UNTRANSLATED + e for e in english]


def _curriculum_problems(k: TrainingKnowledge) -> list[str]:
    if k.curriculum is None:
        return [k.curriculum_error or "no curriculum"]
    problems: list[str] = []
    known_topics = set(k.topics)
    for module in k.curriculum.modules:
        for topic in module.topics:
            if topic not in known_topics:
                problems.append(f"module '{module.id}': topic '{topic}' is used by no document; known topics: "
                                f"{', '.join(sorted(known_topics))}")
        for reading in module.readings:
            doc = k.docs.get(reading.doc)
            if doc is None:
                problems.append(f"module '{module.id}': no document with id '{reading.doc}' in knowledge/docs")
                continue
            for ref in reading.sections:
                hits = doc.find(ref)
                if not hits:
                    problems.append(f"module '{module.id}': document '{doc.id}' has no heading '{ref}'")
                elif len(hits) > 1:
                    problems.append(f"module '{module.id}': heading '{ref}' appears {len(hits)} times in '{doc.id}'; "
                                    f"write the full path, one of: {'; '.join(h.path for h in hits)}")
    for name, ref in k.curriculum.quiz_sections:
        if ref and not _quiz_section_exists(k, name, ref):
            problems.append(f"quiz_sections.{name}: heading '{ref}' not found in the document its rule table names")
    return problems


def _quiz_section_doc(k: TrainingKnowledge, name: str) -> str | None:
    """Which document a quiz_sections entry refers to: the `doc` field of the rule table behind it."""
    rules = k.rules
    if name.startswith("sme_"):
        return rules.sme.doc
    if name.startswith("retail_"):
        return rules.tiers.tiers[0].doc
    if name == "qualified_investor" and rules.tiers.qualified_investor:
        return rules.tiers.qualified_investor.doc
    return None


def _quiz_section_exists(k: TrainingKnowledge, name: str, ref: str) -> bool:
    doc = k.docs.get(_quiz_section_doc(k, name) or "")
    return doc is not None and len(doc.find(ref)) == 1


def validate_curriculum(settings: Settings) -> list[str]:
    """Every problem with curriculum.yaml against the documents, each naming the module and what to fix."""
    return _curriculum_problems(knowledge_for(settings))


def missing_chinese(settings: Settings) -> list[str]:
    """Every wording of curriculum.yaml that has no Chinese yet (a Chinese curriculum shows it in English
    behind 【待译】), each naming the module and the field to add."""
    spec = knowledge_for(settings).curriculum
    if spec is None:
        return []
    missing = [] if spec.title_zh else ["title_zh (the curriculum's title)"]
    for m in spec.modules:
        missing += [f"module '{m.id}': {field}" for field, english, chinese in (
            ("title_zh", m.title, m.title_zh), ("objectives_zh", m.objectives, m.objectives_zh),
            ("activities_zh", m.activities, m.activities_zh)) if english and not chinese]
        missing += [f"module '{m.id}': reading '{r.doc}': note_zh" for r in m.readings if r.note and not r.note_zh]
    return missing


def build_curriculum(settings: Settings, language: Language = "en") -> Curriculum:
    """The onboarding path: curriculum.yaml's modules plus, from front matter, related documents and terms;
    in English ("en") or Chinese ("zh"), any other language refused by name."""
    zh = check_language(language) == "zh"
    k = knowledge_for(settings)
    problems = _curriculum_problems(k)
    if problems:
        raise InputError("curriculum.yaml: " + " | ".join(problems))
    spec = k.curriculum
    assert spec is not None
    audience = set(spec.audience)
    # Each document counts once, by its original (an edition is the same material); in Chinese the original is
    # shown as its Chinese edition.
    editions = set(k.chinese_editions.values())
    modules = [_module(k, spec, i + 1, m, audience, editions) for i, m in enumerate(spec.modules)]
    covered = {r.doc_id for m in modules for r in m.readings} | {r.doc_id for m in modules for r in m.related}
    unassigned = [RelatedDoc(doc_id=d.id, title=d.title, shared_topics=[]) for d in sorted(k.docs.values(), key=lambda d: d.id)
                  if d.id not in covered and d.id not in editions and audience & set(d.audience)]
    if zh:
        modules = [_module_zh(k, m, spec.modules[m.order - 1]) for m in modules]
        unassigned = [_related_zh(k, d) for d in unassigned]
    phases: dict[str, list[str]] = {}
    for module in modules:
        phases.setdefault(module.phase, []).append(module.id)
    return Curriculum(title=_zh(spec.title_zh, spec.title) if zh else spec.title, audience=list(spec.audience), modules=modules,
                      phases=[Phase(label=label, modules=ids) for label, ids in phases.items()],
                      unassigned_docs=unassigned)


def _module(k: TrainingKnowledge, spec: CurriculumFile, order: int, m: ModuleSpec, audience: set[str],
            skip: set[str] | frozenset[str] = frozenset()) -> Module:
    """The module in English; ``skip`` leaves documents out of the related ones (the Chinese editions, for the
    Chinese curriculum, which shows each original as its edition)."""
    readings = []
    for r in m.readings:
        doc = k.docs[r.doc]
        refs = [SectionRef(heading=s.heading, path=s.path) for s in (doc.find(ref)[0] for ref in r.sections)]
        readings.append(Reading(doc_id=doc.id, title=doc.title, summary=doc.summary, sections=refs, note=r.note))
    read = {r.doc_id for r in readings}
    related = []
    for doc in k.docs.values():
        shared = [t for t in m.topics if t in doc.topics]
        if doc.id not in read and doc.id not in skip and shared and audience & set(doc.audience):
            related.append(RelatedDoc(doc_id=doc.id, title=doc.title, shared_topics=shared))
    related.sort(key=lambda r: (-len(r.shared_topics), r.doc_id))
    terms = [e.term for i, e in enumerate(k.rules.glossary) if _taught(e.doc, k.glossary_sections.get(i), readings)]
    return Module(order=order, id=m.id, title=m.title, phase=_phase(m.days[1]), first_day=m.days[0], last_day=m.days[1],
                  objectives=m.objectives, topics=m.topics, readings=readings, related=related[:spec.max_related],
                  glossary_terms=terms, activities=m.activities)


def _module_zh(k: TrainingKnowledge, module: Module, m: ModuleSpec) -> Module:
    """The same module in Chinese: the file's Chinese wordings, the documents' Chinese editions, the terms' Chinese;
    ids, days and topics stay as they are."""
    notes = {r.doc: r.note_zh for r in m.readings}
    chinese_terms = {e.term: e.zh for e in k.rules.glossary if e.zh}
    return module.model_copy(update={
        "title": _zh(m.title_zh, m.title), "phase": _phase(m.days[1], zh=True),
        "objectives": _zh_list(m.objectives_zh, m.objectives), "activities": _zh_list(m.activities_zh, m.activities),
        "readings": [_reading_zh(k, r, notes.get(r.doc_id)) for r in module.readings],
        "related": [_related_zh(k, r) for r in module.related],
        "glossary_terms": [chinese_terms.get(t, t) for t in module.glossary_terms],
    })


def _reading_zh(k: TrainingKnowledge, reading: Reading, note_zh: str | None) -> Reading:
    """The reading in the document's Chinese edition: its id, title and summary, and the headings at the same
    places (editions keep the sections in the same order); without an edition, the English document."""
    note = _zh(note_zh, reading.note) if reading.note else None
    twin, own = k.docs.get(k.chinese_editions.get(reading.doc_id, "")), k.docs[reading.doc_id]
    if twin is None or len(twin.sections) != len(own.sections):
        return reading.model_copy(update={"note": note})
    paths = [s.path for s in own.sections]
    places = [twin.sections[paths.index(s.path)] for s in reading.sections]
    return Reading(doc_id=twin.id, title=twin.title, summary=twin.summary, note=note,
                   sections=[SectionRef(heading=s.heading, path=s.path) for s in places])


def _related_zh(k: TrainingKnowledge, related: RelatedDoc) -> RelatedDoc:
    twin = k.docs.get(k.chinese_editions.get(related.doc_id, ""))
    return related if twin is None else related.model_copy(update={"doc_id": twin.id, "title": twin.title})


def _taught(doc_id: str, section: str | None, readings: list[Reading]) -> bool:
    """A term belongs to a module when the module reads the section explaining it (or the whole document)."""
    for reading in readings:
        if reading.doc_id != doc_id:
            continue
        if not reading.sections:
            return True
        if section and any(section == r.path or section.startswith(r.path + " > ") for r in reading.sections):
            return True
    return False
