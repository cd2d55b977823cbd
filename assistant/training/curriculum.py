"""The onboarding curriculum: modules, readings and activities from curriculum.yaml, checked against the documents.
"""
from __future__ import annotations

from assistant.config import Settings
from assistant.errors import InputError
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


def _phase(last_day: int) -> str:
    for end, label in ((30, "Days 1-30"), (60, "Days 31-60"), (90, "Days 61-90")):
        if last_day <= end:
            return label
    return "After day 90"


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


def build_curriculum(settings: Settings) -> Curriculum:
    """The onboarding path: curriculum.yaml's modules plus, from front matter, related documents and terms."""
    k = knowledge_for(settings)
    problems = _curriculum_problems(k)
    if problems:
        raise InputError("curriculum.yaml: " + " | ".join(problems))
    spec = k.curriculum
    assert spec is not None
    audience = set(spec.audience)
    modules = [_module(k, spec, i + 1, m, audience) for i, m in enumerate(spec.modules)]
    covered = {r.doc_id for m in modules for r in m.readings} | {r.doc_id for m in modules for r in m.related}
    unassigned = [RelatedDoc(doc_id=d.id, title=d.title, shared_topics=[]) for d in sorted(k.docs.values(), key=lambda d: d.id)
                  if d.id not in covered and audience & set(d.audience)]
    phases: dict[str, list[str]] = {}
    for module in modules:
        phases.setdefault(module.phase, []).append(module.id)
    return Curriculum(title=spec.title, audience=list(spec.audience), modules=modules,
                      phases=[Phase(label=label, modules=ids) for label, ids in phases.items()],
                      unassigned_docs=unassigned)


def _module(k: TrainingKnowledge, spec: CurriculumFile, order: int, m: ModuleSpec, audience: set[str]) -> Module:
    readings = []
    for r in m.readings:
        doc = k.docs[r.doc]
        refs = [SectionRef(heading=s.heading, path=s.path) for s in (doc.find(ref)[0] for ref in r.sections)]
        readings.append(Reading(doc_id=doc.id, title=doc.title, summary=doc.summary, sections=refs, note=r.note))
    read = {r.doc_id for r in readings}
    related = []
    for doc in k.docs.values():
        shared = [t for t in m.topics if t in doc.topics]
        if doc.id not in read and shared and audience & set(doc.audience):
            related.append(RelatedDoc(doc_id=doc.id, title=doc.title, shared_topics=shared))
    related.sort(key=lambda r: (-len(r.shared_topics), r.doc_id))
    terms = [e.term for i, e in enumerate(k.rules.glossary) if _taught(e.doc, k.glossary_sections.get(i), readings)]
    return Module(order=order, id=m.id, title=m.title, phase=_phase(m.days[1]), first_day=m.days[0], last_day=m.days[1],
                  objectives=m.objectives, topics=m.topics, readings=readings, related=related[:spec.max_related],
                  glossary_terms=terms, activities=m.activities)


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
