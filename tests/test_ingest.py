"""Incremental ingest on a real Chroma store with the real model."""

import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from docx import Document as DocxDocument
from typer.testing import CliRunner

from assistant.answers.advisor import Advisor
from assistant.errors import InputError
from assistant.interfaces.cli import app as cli_app
from assistant.search.ingest import IngestRequest

from .conftest import ROOT, SMALL_DOCS, make_knowledge
from .pdf_fixture import minimal_pdf


def everything(result) -> str:
    """What a CLI run printed on stdout and stderr."""
    try:
        return result.output + (result.stderr or "")
    except ValueError:
        return result.output


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
    with pytest.raises(InputError, match=r"thesis-a: 1 of 2.*baoshang-bank-failure"):
        advisor.ingest()  # half of thesis-a's documents would go: more than the 20% allowed
    assert store_state(advisor) == before
    third = advisor.ingest(IngestRequest(prune=True))
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


def run_ingest(settings, env_extra=None, command=None) -> subprocess.Popen:
    env = {**os.environ, "ADVISOR_KNOWLEDGE_DIR": str(settings.knowledge_dir), "ADVISOR_DATA_DIR": str(settings.data_dir),
           "ADVISOR_CHUNK_SIZE": "300", **(env_extra or {})}
    return subprocess.Popen([sys.executable, *(command or [str(ROOT / "ingest.py")])], env=env, cwd=ROOT,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


KILL_AFTER_CHUNKS = (7, 45, 0)  # mid-document; several documents later; at the first write of the next run


@pytest.mark.slow
def test_ingest_killed_at_counted_points_converges_to_a_clean_run(make_settings, tmp_path):
    """kill -9 after N chunks written, three times, then run again: the same store as one clean run,
    no duplicates, nothing lost. Each kill must land (SIGKILL exit) and leave the store incomplete."""
    clean_settings = make_settings(data_dir=tmp_path / "clean", chunk_size=300)
    clean = run_ingest(clean_settings)
    assert clean.wait(timeout=300) == 0, clean.stderr.read()
    expected = store_state(Advisor(clean_settings))
    assert len(expected) > sum(KILL_AFTER_CHUNKS) + 20, "the corpus must be larger than the kill points"

    killed_settings = make_settings(data_dir=tmp_path / "killed", chunk_size=300)
    for after in KILL_AFTER_CHUNKS:
        proc = run_ingest(killed_settings, command=["-m", "tests.kill_ingest", str(after)])
        _, err = proc.communicate(timeout=300)
        assert proc.returncode == -signal.SIGKILL, (after, proc.returncode, err[-2000:])
        assert store_state(Advisor(killed_settings)) != expected, f"the kill after {after} chunks left a complete store"
    final = run_ingest(killed_settings)
    out, err = final.communicate(timeout=300)
    assert final.returncode == 0, err
    assert "0 rejected" in out
    assert store_state(Advisor(killed_settings)) == expected


# ----------------------------------------------------------------------------------- nothing lost by a wrong folder


def test_a_missing_knowledge_folder_is_an_error_naming_it_and_changes_nothing(make_settings, tmp_path):
    settings = make_settings()
    advisor = Advisor(settings)
    advisor.ingest()
    before = store_state(advisor)
    nowhere = tmp_path / "not-mounted"
    wrong = Advisor(settings.model_copy(update={"knowledge_dir": nowhere}), store=advisor.store, embedder=advisor.embedder)
    with pytest.raises(InputError, match=f"{nowhere / 'docs'} does not exist"):
        wrong.ingest(IngestRequest(prune=True))  # not even prune empties the store from a missing folder
    assert store_state(advisor) == before

    env = {"ADVISOR_KNOWLEDGE_DIR": str(nowhere), "ADVISOR_DATA_DIR": str(settings.data_dir)}
    result = CliRunner().invoke(cli_app, ["ingest"], env=env)
    assert result.exit_code == 2 and str(nowhere / "docs") in everything(result), everything(result)
    assert store_state(advisor) == before


def test_an_empty_knowledge_folder_stops_the_ingest_unless_pruned(make_settings):
    """An unmounted share reads as an empty folder: it must not empty the store."""
    settings = make_settings()
    advisor = Advisor(settings)
    advisor.ingest()
    before = store_state(advisor)
    parked = settings.data_dir.parent / "parked"
    shutil.move(str(settings.docs_dir), parked)
    settings.docs_dir.mkdir()
    with pytest.raises(InputError) as info:
        advisor.ingest()
    message = str(info.value)
    assert "would remove 6 of 6 stored documents" in message and "--prune" in message
    assert all(doc in message for doc in SMALL_DOCS)
    assert store_state(advisor) == before

    env = {"ADVISOR_KNOWLEDGE_DIR": str(settings.knowledge_dir), "ADVISOR_DATA_DIR": str(settings.data_dir)}
    refused = CliRunner().invoke(cli_app, ["ingest"], env=env)
    assert refused.exit_code == 2 and "would remove 6 of 6" in everything(refused), everything(refused)
    assert store_state(advisor) == before

    heard: list[tuple[str, int]] = []
    report = advisor.ingest(IngestRequest(prune=True), notice=lambda line: heard.append((line, advisor.store.count())))
    assert report.removed == 6 and sorted(report.removed_ids) == sorted(SMALL_DOCS)
    assert heard and heard[0][0].startswith("removing 6 of 6 stored documents")
    assert heard[0][1] == len(before), "the count is shown before anything is removed"
    assert advisor.store.count() == 0


def test_a_small_removal_goes_through_and_a_larger_share_stops(make_settings, tmp_path):
    general = ["sme-size-classification", "inclusive-finance-policy", "segmentation-fundamentals", "supply-chain-finance",
               "npl-disposal", "deposit-strategy-cost-of-funds"]
    settings = make_settings(knowledge_dir=make_knowledge(tmp_path / "kb", general))
    advisor = Advisor(settings)
    advisor.ingest()
    (settings.docs_dir / "npl-disposal.md").unlink()
    assert advisor.ingest().removed_ids == ["npl-disposal"]  # 1 of 6 general documents: within 20%
    (settings.docs_dir / "supply-chain-finance.md").unlink()
    (settings.docs_dir / "deposit-strategy-cost-of-funds.md").unlink()
    with pytest.raises(InputError, match=r"remove 2 of 5 .*general: 2 of 5.*limit is 20%"):
        advisor.ingest()
    strict = Advisor(settings.model_copy(update={"max_removal_share": 0.5}), store=advisor.store, embedder=advisor.embedder)
    assert strict.ingest().removed == 2  # the share is a setting (ADVISOR_MAX_REMOVAL_SHARE)


def test_a_vanished_source_folder_is_an_error_until_pruned(make_settings, tmp_path):
    settings = make_settings()
    own = tmp_path / "share"
    own.mkdir()
    (own / "pricing-memo.txt").write_text("Pricing memo\n\nThe floor for micro loans is LPR plus 150 basis points.", encoding="utf-8")
    (own / "visit-note.txt").write_text("Visit note\n\nStrategic clients are visited at least once a month.", encoding="utf-8")
    advisor = Advisor(settings)
    assert advisor.ingest(IngestRequest(sources=[own])).added == 8
    before = store_state(advisor)

    with pytest.raises(InputError, match="--source folder not found: .*typo"):
        advisor.ingest(IngestRequest(sources=[tmp_path / "typo"]))
    shutil.rmtree(own)
    with pytest.raises(InputError, match=f"remembered source folder {own} is missing"):
        advisor.ingest()
    assert store_state(advisor) == before
    env = {"ADVISOR_KNOWLEDGE_DIR": str(settings.knowledge_dir), "ADVISOR_DATA_DIR": str(settings.data_dir)}
    result = CliRunner().invoke(cli_app, ["ingest"], env=env)
    assert result.exit_code == 2 and str(own) in everything(result)

    pruned = CliRunner().invoke(cli_app, ["ingest", "--prune"], env=env)
    assert pruned.exit_code == 0, everything(pruned)
    assert "removing 2 of 8 stored documents" in everything(pruned) and "bank-pricing-memo" in everything(pruned)
    assert {c.doc_id for c in advisor.store.all_chunks()} == set(SMALL_DOCS)
    assert advisor.ingest().unchanged == 6  # forgotten: a plain ingest no longer asks for the folder
