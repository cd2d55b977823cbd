"""Incremental ingest on a real Chroma store with the real model."""

import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

from docx import Document as DocxDocument

from assistant.answers.advisor import Advisor
from assistant.search.ingest import IngestRequest

from .conftest import ROOT
from .pdf_fixture import minimal_pdf


def store_state(advisor: Advisor) -> dict[str, tuple[str, str]]:
    return {c.id: (c.doc_hash, c.text) for c in advisor.store.all_chunks()}


def test_ingest_is_incremental_and_idempotent(make_settings):
    settings = make_settings()
    advisor = Advisor(settings)
    first = advisor.ingest()
    assert first.added == 6 and first.chunks > 20 and first.embedded_chunks == first.chunks
    before = store_state(advisor)

    again = advisor.ingest()
    assert (again.added, again.updated, again.removed, again.unchanged, again.embedded_chunks) == (0, 0, 0, 6, 0)
    assert store_state(advisor) == before

    docs = settings.docs_dir
    changed = docs / "retail-tier-scheme.md"
    changed.write_text(changed.read_text(encoding="utf-8") + "\n\n## New section\n\nA brand-new paragraph about tier reviews.\n", encoding="utf-8")
    (docs / "baoshang-bank-failure.md").unlink()
    third = advisor.ingest()
    assert (third.added, third.updated, third.removed, third.unchanged) == (0, 1, 1, 4)
    assert 0 < third.embedded_chunks < first.chunks
    ids = {c.doc_id for c in advisor.store.all_chunks()}
    assert "baoshang-bank-failure" not in ids
    assert any(c.section == "New section" for c in advisor.store.all_chunks())

    rebuilt = advisor.ingest(IngestRequest(rebuild=True))
    assert rebuilt.added == 5 and rebuilt.unchanged == 0


def test_source_folder_adds_bank_files_and_rejects_bad_ones(make_settings, tmp_path):
    settings = make_settings()
    own = tmp_path / "bank-files"
    own.mkdir()
    (own / "pricing-memo.txt").write_text("Pricing memo\n\nOur loan pricing floor for micro loans is LPR plus 150 basis points.", encoding="utf-8")
    document = DocxDocument()
    document.add_heading("Branch visit policy", level=1)
    document.add_paragraph("Relationship managers visit every strategic client at least once a month.")
    document.save(own / "visit-policy.docx")
    (own / "board-note.pdf").write_bytes(minimal_pdf("Board note: the bank targets 20 percent growth in inclusive loans."))
    (own / "empty.md").write_text("", encoding="utf-8")
    (own / "renamed.pdf").write_bytes(b"\x89PNG\r\n\x1a\nnot really a pdf")
    (own / "corrupt.docx").write_bytes(b"PK\x03\x04 broken zip")
    (own / "image.png").write_bytes(b"\x89PNG")

    advisor = Advisor(settings)
    report = advisor.ingest(IngestRequest(sources=[own]))
    assert report.added == 6 + 3
    rejected = {Path(e.path).name: e.message for e in report.errors}
    assert set(rejected) == {"empty.md", "renamed.pdf", "corrupt.docx", "image.png"}
    assert "empty" in rejected["empty.md"]
    assert "not a PDF" in rejected["renamed.pdf"]
    assert "Word" in rejected["corrupt.docx"]
    assert "unsupported" in rejected["image.png"]

    answer = advisor.ask("How often do relationship managers visit strategic clients?")
    assert answer.grounded and answer.citations[0].doc_id == "bank-visit-policy"
    assert answer.citations[0].source == "bank"
    pdf_hit = advisor.retrieve(__import__("assistant.answers.advisor", fromlist=["AskRequest"]).AskRequest(question="board growth target for inclusive loans", k=3))
    assert pdf_hit[0].chunk.doc_id == "bank-board-note"

    # The folder is remembered: a plain ingest keeps the bank's files.
    plain = advisor.ingest()
    assert plain.removed == 0 and plain.unchanged == 9


def run_ingest(settings, env_extra=None) -> subprocess.Popen:
    env = {**os.environ, "ADVISOR_KNOWLEDGE_DIR": str(settings.knowledge_dir), "ADVISOR_DATA_DIR": str(settings.data_dir),
           "ADVISOR_CHUNK_SIZE": "300", **(env_extra or {})}
    return subprocess.Popen([sys.executable, str(ROOT / "ingest.py")], env=env, cwd=ROOT,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def test_ingest_killed_at_random_points_converges_to_a_clean_run(make_settings, tmp_path):
    """kill -9 during ingest, run again: the same store as one clean run, no duplicates, nothing lost."""
    clean_settings = make_settings(data_dir=tmp_path / "clean", chunk_size=300)
    clean = run_ingest(clean_settings)
    assert clean.wait(timeout=300) == 0, clean.stderr.read()
    expected = store_state(Advisor(clean_settings))

    killed_settings = make_settings(data_dir=tmp_path / "killed", chunk_size=300)
    rng = random.Random(20261127)
    for _ in range(3):
        proc = run_ingest(killed_settings)
        time.sleep(rng.uniform(5.0, 12.0))  # model load is ~5 s; kills land in embedding and writing
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
    final = run_ingest(killed_settings)
    out, err = final.communicate(timeout=300)
    assert final.returncode == 0, err
    assert "0 rejected" in out
    assert store_state(Advisor(killed_settings)) == expected
