from pathlib import Path

import pytest

from assistant.knowledge.chunking import chunk_document
from assistant.knowledge.documents import load_documents, parse_document

GOOD = """---
id: test-doc
title: Test document
source: thesis-a
topics: [retail-banking]
audience: [manager]
segments: [affluent]
---
# Test document

Intro paragraph about tiers.

## Retail tiers

Tier text one. More text here.

### Service model

Service model text for affluent clients.
"""


def write(folder: Path, name: str, text: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


def test_sections_keep_their_heading_path(tmp_path):
    doc = parse_document(tmp_path / "x.md", GOOD)
    chunks = chunk_document(doc, chunk_size=900)
    sections = [c.section for c in chunks]
    assert sections == ["", "Retail tiers", "Retail tiers > Service model"]
    assert chunks[2].embedding_text.startswith("Test document > Retail tiers > Service model\n")
    assert all(c.doc_chunks == 3 for c in chunks)


def test_chunk_ids_are_stable_and_content_derived(tmp_path):
    first = chunk_document(parse_document(tmp_path / "x.md", GOOD))
    again = chunk_document(parse_document(tmp_path / "x.md", GOOD))
    assert [c.id for c in first] == [c.id for c in again]
    changed = chunk_document(parse_document(tmp_path / "x.md", GOOD.replace("Tier text one", "Tier text two")))
    assert first[0].id == changed[0].id and first[2].id == changed[2].id
    assert first[1].id != changed[1].id
    assert all(c.id.startswith("test-doc:") for c in first)


def test_chunks_respect_the_size_limit(tmp_path):
    long_section = "## Long\n\n" + " ".join(f"Sentence number {i} says something useful." for i in range(300))
    doc = parse_document(tmp_path / "x.md", GOOD + long_section)
    chunks = chunk_document(doc, chunk_size=400)
    assert max(len(c.text) for c in chunks) <= 400
    assert len([c for c in chunks if c.section == "Long"]) > 5


def test_a_malformed_document_is_reported_and_stops_nothing_else(tmp_path):
    folder = tmp_path / "docs"
    write(folder, "good.md", GOOD)
    write(folder, "no-front-matter.md", "# Just text\n\nNo metadata.")
    write(folder, "bad-source.md", GOOD.replace("id: test-doc", "id: other").replace("thesis-a", "thesis-z"))
    write(folder, "bad-yaml.md", "---\nid: [unclosed\n---\ntext")
    write(folder, "zz-dup.md", GOOD)
    report = load_documents(folder)
    assert [d.meta.id for d in report.docs] == ["test-doc"]
    errors = {Path(e.path).name: e.message for e in report.errors}
    assert set(errors) == {"no-front-matter.md", "bad-source.md", "bad-yaml.md", "zz-dup.md"}
    assert "missing front matter" in errors["no-front-matter.md"]
    assert "source" in errors["bad-source.md"] and "thesis-a" in errors["bad-source.md"]
    assert "YAML" in errors["bad-yaml.md"]
    assert "duplicate id" in errors["zz-dup.md"]


@pytest.mark.parametrize("field", ["id", "title", "source", "topics", "audience", "segments"])
def test_every_required_field_is_named_when_missing(tmp_path, field):
    lines = [l for l in GOOD.splitlines() if not l.startswith(f"{field}:")]
    with pytest.raises(ValueError, match=field):
        parse_document(tmp_path / "x.md", "\n".join(lines))


def test_a_long_table_is_cut_between_rows_under_its_header_and_joins_back_whole(tmp_path):
    """Cut by sentences, the 16-row SME size table became one line and no row of it could be quoted."""
    from assistant.answers.blocks import parse_blocks
    from assistant.answers.sections import join_chunks

    rows = "\n".join(f"| industry {i} | staff, revenue | {i * 100} or {i * 1000} | {i} and {i * 10} |" for i in range(40))
    items = "\n".join(f"- Step {i}: check the borrower's cash flow and collateral again." for i in range(30))
    body = f"## Table\n\nBounds in persons.\n\n| industry | measures | SME when below | medium from |\n|---|---|---|---|\n{rows}\n\n## List\n\n{items}\n"
    chunks = chunk_document(parse_document(tmp_path / "x.md", GOOD + body), chunk_size=500)
    table = [c for c in chunks if c.section == "Table"]
    assert len(table) > 2 and all(len(c.text) <= 500 for c in table)
    for chunk in table:
        lines = [line for line in chunk.text.splitlines() if line.startswith("|")]
        assert lines[0] == "| industry | measures | SME when below | medium from |" and lines[1] == "|---|---|---|---|"
    blocks = parse_blocks(join_chunks(table))
    assert [b.kind for b in blocks] == ["paragraph", "table"] and len(blocks[1].units) == 40
    assert blocks[1].units[7].matched == "industry: industry 7; measures: staff, revenue; SME when below: 700 or 7000; medium from: 7 and 70"
    listed = [c for c in chunks if c.section == "List"]
    assert len(listed) > 1 and all(c.text.count("\n- ") + 1 == len(c.text.splitlines()) for c in listed)
    assert [b.kind for b in parse_blocks(join_chunks(listed))] == ["list"]


def test_a_list_that_interrupts_a_long_paragraph_keeps_its_first_item(tmp_path):
    """Markdown lets a list start on the line after prose ("Features worth noting:\n- **Two routes** ...");
    cut by sentences, such a paragraph put the first item inside the prose, where an answer quoted it as
    "Features worth noting: - Two routes to qualify: ..." and the list lost its first item."""
    from assistant.answers.blocks import parse_blocks
    from assistant.answers.sections import join_chunks

    prose = " ".join(f"HSBC runs tier {i} of a ladder of retail propositions for affluent customers." for i in range(3))
    items = "\n".join(f"- **Feature {i}**: customers qualify by balances held or by income paid in, as the bank reports." for i in range(4))
    body = f"## Ladder\n\n{prose} Features worth noting:\n{items}\n"
    chunks = [c for c in chunk_document(parse_document(tmp_path / "x.md", GOOD + body), chunk_size=500) if c.section == "Ladder"]
    assert all("noting: -" not in c.text for c in chunks)
    blocks = parse_blocks(join_chunks(chunks))
    assert [b.kind for b in blocks][-1] == "list" and [u.text for u in blocks[-1].units][0].startswith("- **Feature 0**")
    assert len(blocks[-1].units) == 4 and blocks[-2].units[-1].text.endswith("Features worth noting:")
