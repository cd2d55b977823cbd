"""The shipped knowledge base: every document, data file and golden question is consistent."""

import json
import re

import pytest
import yaml

from assistant.knowledge.chunking import chunk_document
from assistant.knowledge.documents import load_documents
from assistant.knowledge.editions import figure_mismatch, glossary_mismatch, headings
from assistant.clients.profiles import example_profiles
from assistant.clients.rules import INDUSTRIES, load_rules

from .conftest import KNOWLEDGE

REPORT = load_documents(KNOWLEDGE / "docs")
DOCS = {d.meta.id: d for d in REPORT.docs}
ENGLISH = sorted(i for i, d in DOCS.items() if d.meta.edition_of is None)
EDITIONS = sorted(i for i, d in DOCS.items() if d.meta.edition_of is not None)
GLOSSARY = [(g["term"], g["zh"], g["doc"]) for g in yaml.safe_load((KNOWLEDGE / "data" / "glossary.yaml").read_text(encoding="utf-8"))]
RULES = load_rules(KNOWLEDGE / "data")
HEADINGS = {doc_id: {m.group(1).strip() for m in re.finditer(r"^#{2,6}\s+(.+?)\s*$", doc.body, re.M)}
            | {c.section for c in chunk_document(doc)} for doc_id, doc in DOCS.items()}


def words(text: str) -> int:
    return len(re.findall(r"[A-Za-z0-9][\w'’.-]*|[\u4e00-\u9fff]", text))


def test_every_document_parses_and_validates():
    assert REPORT.errors == []
    assert 28 <= len(DOCS) <= 120


@pytest.mark.parametrize("doc_id", ENGLISH)
def test_document_length_and_front_matter(doc_id):
    doc = DOCS[doc_id]
    assert 500 <= words(doc.body) <= 1600, words(doc.body)
    assert doc.path.endswith(f"{doc_id}.md")
    assert doc.meta.source in ("thesis-a", "thesis-b", "general")
    assert doc.meta.summary
    assert len(HEADINGS[doc_id]) >= 4


@pytest.mark.parametrize("doc_id", EDITIONS)
def test_edition_is_in_step_with_its_english_document(doc_id):
    """Same sections in the same order, the same figures and dates (5万 = 50,000; 2019年5月 = May 2019),
    the glossary's Chinese name for every term the document explains."""
    edition = DOCS[doc_id]
    original = DOCS[edition.meta.edition_of]
    assert edition.path.endswith(f"{original.meta.id}.zh.md") and doc_id == f"{original.meta.id}-zh"
    assert edition.meta.language == "zh" and edition.meta.summary
    assert len(headings(edition)) == len(headings(original)), (headings(original), headings(edition))
    only_english, only_chinese = figure_mismatch(original, edition)
    assert not only_english and not only_chinese, f"figures only in English {sorted(only_english)}, only in Chinese {sorted(only_chinese)}"
    assert glossary_mismatch(original, edition, GLOSSARY) == []
    for item in edition.meta.faq:
        assert item.section in HEADINGS[doc_id], item.section


def test_both_theses_and_all_audiences_are_covered():
    sources = {d.meta.source for d in DOCS.values()}
    assert sources == {"thesis-a", "thesis-b", "general"}
    audiences = {a for d in DOCS.values() for a in d.meta.audience}
    assert audiences == {"manager", "relationship-manager", "trainer"}


def test_glossary_has_60_terms_each_explained_by_a_real_document():
    assert len(RULES.glossary) >= 60
    terms = [g.term.lower() for g in RULES.glossary]
    assert len(terms) == len(set(terms))
    for entry in RULES.glossary:
        assert entry.zh and entry.definition
        assert entry.doc in DOCS, entry.term
        assert entry.term.lower() in DOCS[entry.doc].body.lower(), f"{entry.term} not in {entry.doc}"


def test_golden_questions_point_at_existing_documents_and_sections():
    rows = [json.loads(l) for l in (KNOWLEDGE / "eval" / "golden.jsonl").read_text(encoding="utf-8").splitlines() if l.strip()]
    assert len(rows) >= 60
    voices = [r["voice"] for r in rows]
    for voice in ("manager", "relationship-manager", "trainer"):
        assert voices.count(voice) >= len(rows) / 4
    assert sum(r["language"] == "zh" for r in rows) >= 6
    assert len({r["id"] for r in rows}) == len(rows)
    for row in rows:
        for expected in row["expected"]:
            assert expected["doc_id"] in DOCS, row["id"]
            if expected.get("section"):
                assert expected["section"] in HEADINGS[expected["doc_id"]], (row["id"], expected["section"])


def test_sme_table_is_complete_and_ordered():
    assert set(RULES.sme.industries) == set(INDUSTRIES) and len(INDUSTRIES) == 16
    for industry, bounds in RULES.sme.industries.items():
        for measure, medium in bounds.medium_from.items():
            assert bounds.small_from[measure] <= medium, industry
        assert set(bounds.medium_from) == set(bounds.small_from), industry


def test_catalogue_covers_every_segment_and_need():
    segments = {p.id for p in RULES.playbook.segments}
    assert segments == {"micro-business", "small-business", "medium-enterprise", "supply-chain-supplier", "major-client",
                        "mass-retail", "affluent", "wealth", "private-banking"}
    for segment in segments:
        assert sum(segment in p.segments for p in RULES.products) >= 4, segment
    for need in RULES.needs:
        assert any(need.id in p.needs for p in RULES.products), need.id
    for product in RULES.products:
        assert product.doc in DOCS, product.id
    for play in RULES.playbook.segments:
        assert all(d in DOCS for d in play.docs), play.id


def test_twelve_example_profiles_across_the_segments():
    profiles = example_profiles(KNOWLEDGE / "profiles")
    assert len(profiles) >= 12
    assert {p.client_type for p in profiles.values()} == {"enterprise", "individual"}


def test_tier_table_matches_the_segment_vocabulary():
    data = yaml.safe_load((KNOWLEDGE / "data" / "retail_tiers.yaml").read_text(encoding="utf-8"))
    assert [t["id"] for t in data["tiers"]] == ["mass-retail", "affluent", "wealth", "private-banking"]


# --- knowledge base v2: dated, current, one source of truth --------------------------------------

def test_every_document_is_dated_and_none_is_overdue_today():
    from datetime import date

    for doc in DOCS.values():
        meta = doc.meta
        assert meta.effective_date is not None and meta.review_by is not None, f"{meta.id}: give it effective_date and review_by"
        assert meta.review_by > date.today(), f"{meta.id}: review_by {meta.review_by} has passed; review it"
        assert meta.effective_date <= meta.review_by, meta.id


def test_glossary_has_no_duplicate_terms_in_either_language():
    import collections

    entries = yaml.safe_load((KNOWLEDGE / "data" / "glossary.yaml").read_text(encoding="utf-8"))
    for field in ("term", "zh"):
        counts = collections.Counter(e[field].strip().casefold() for e in entries)
        assert not [t for t, n in counts.items() if n > 1], f"duplicate {field}: {[t for t, n in counts.items() if n > 1]}"


def test_life_stage_document_states_the_rule_table_bounds():
    """The classifier's table is the one source of truth: the document that explains it states its bounds."""
    table = yaml.safe_load((KNOWLEDGE / "data" / "life_stages.yaml").read_text(encoding="utf-8"))
    text = DOCS[table["doc"]].body
    for stage in table["stages"]:
        assert stage["name"] in text, f"the document does not name the stage {stage['name']!r}"
        for bound in ("min_age", "max_age"):
            if bound in stage["when"]:
                assert str(stage["when"][bound]) in text, f"{stage['name']}: {bound} {stage['when'][bound]} is not in the document"


def test_the_second_blind_set_names_real_sections_whose_text_holds_its_key_points():
    """blind_v2 to blind_v9 were written outside the repository; a renamed heading or an edited figure must not
    silently turn one of its questions into a miss that no answer could avoid."""
    from assistant.knowledge.documents import faq_section_matches
    from assistant.text import parse_sections

    def section_texts(doc_id: str, wanted: str) -> list[str]:
        out = []
        english = [s for s in parse_sections(DOCS[doc_id].body) if s.heading]
        twin = next((d for d in DOCS.values() if d.meta.edition_of == doc_id), None)
        chinese = [s for s in parse_sections(twin.body) if s.heading] if twin else []
        for i, sec in enumerate(english):
            if faq_section_matches(wanted, sec.path):
                out.append(" ".join(sec.paragraphs))
                if i < len(chinese):
                    out.append(" ".join(chinese[i].paragraphs))
        return out

    def load(name: str) -> list[dict]:
        return [json.loads(l) for l in (KNOWLEDGE / "eval" / name).read_text(encoding="utf-8").splitlines() if l.strip()]

    rows = load("blind_v2.jsonl")
    assert len(rows) == 80 and sum(r["language"] == "zh" for r in rows) == 30
    answerable = []
    documents = sum(d.meta.edition_of is None for d in DOCS.values())
    for name in ("blind_v3.jsonl", "blind_v4.jsonl", "blind_v5.jsonl", "blind_v6.jsonl", "blind_v7.jsonl", "blind_v8.jsonl", "blind_v9.jsonl"):
        written = load(name)
        these = [r for r in written if r["answerable"]]
        assert len(written) == 80 and len(these) == 60 and sum(r["language"] == "zh" for r in these) == 30, name
        if name in ("blind_v4.jsonl", "blind_v6.jsonl", "blind_v7.jsonl", "blind_v8.jsonl", "blind_v9.jsonl"):
            assert len({r["expected"][0]["doc_id"] for r in these}) == documents, f"{name} asks about every document"
        answerable += these
    for row in rows + answerable:
        texts = []
        for expected in row["expected"]:   # one section, or (b5-078) two that hold the points between them
            found = section_texts(expected["doc_id"], expected["section"])
            assert found, (row["id"], expected)
            texts += found
        text = " ".join(texts).casefold()
        for point in row["key_points"]:
            assert any(p.casefold() in text for p in point), (row["id"], point)


def test_the_rate_probes_name_real_sections_whose_text_holds_their_key_points():
    """rate_probes.jsonl was written outside the repository too; a question the documents answer in two places
    names both sections, and each key point must be in one of them (the English section for an English question,
    the same section of the Chinese edition for a Chinese one)."""
    from assistant.knowledge.documents import faq_section_matches
    from assistant.text import parse_sections

    rows = [json.loads(l) for l in (KNOWLEDGE / "eval" / "rate_probes.jsonl").read_text(encoding="utf-8").splitlines() if l.strip()]
    assert len(rows) == 40 and sum(r["answerable"] for r in rows) == 24
    for row in (r for r in rows if r["answerable"]):
        texts = []
        for expected in row["expected"]:
            doc = DOCS[expected["doc_id"]]
            english = [s for s in parse_sections(doc.body) if s.heading]
            index = next(i for i, sec in enumerate(english) if faq_section_matches(expected["section"], sec.path))
            if row["language"] == "zh":
                twin = next(d for d in DOCS.values() if d.meta.edition_of == expected["doc_id"])
                texts.append(" ".join([s for s in parse_sections(twin.body) if s.heading][index].paragraphs))
            else:
                texts.append(" ".join(english[index].paragraphs))
        text = " ".join(texts).casefold()
        for point in row["key_points"]:
            assert any(p.casefold() in text for p in point), (row["id"], point)


@pytest.mark.parametrize("framed, plain", [("framed_holdout_v2.jsonl", "holdout_v2.jsonl"),
                                           ("framed_blind_v2.jsonl", "blind_v2.jsonl")])
def test_the_framed_sets_ask_their_source_questions_with_only_the_askers_setting_added(framed, plain):
    """The framed sets measure one thing, the asker's setting in the wording: everything else must be the
    source set's, or a changed expectation would pass for a framing effect."""
    def rows(name: str) -> list[dict]:
        return [json.loads(l) for l in (KNOWLEDGE / "eval" / name).read_text(encoding="utf-8").splitlines() if l.strip()]

    framed_rows, plain_rows = rows(framed), rows(plain)
    assert [r["id"] for r in framed_rows] == [r["id"] for r in plain_rows]
    for f, p in zip(framed_rows, plain_rows):
        assert {k: v for k, v in f.items() if k != "question"} == {k: v for k, v in p.items() if k != "question"}
        assert f["question"] != p["question"], f["id"]
