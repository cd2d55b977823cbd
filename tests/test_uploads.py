"""Uploads and remembered folders lose nothing: a refused new version leaves the old one in force,
and the list of remembered folders is changed under the ingest lock, atomically."""

from __future__ import annotations

import json
import threading
from pathlib import Path

import pytest

from assistant.answers.advisor import Advisor
from assistant.errors import InputError
from assistant.governance.auth import NotAllowed
from assistant.governance.service import Governance
from assistant.interfaces.uploads import publish_uploads, staging_dir, store_uploads
from assistant.search.ingest import IngestRequest

from .conftest import assert_consistent

OLD = "---\nid: bank-branch-notes\ntitle: Branch notes\nsource: bank\ntopics: [operations]\naudience: [manager]\n" \
      "segments: [all]\n---\n# Branch notes\n\nThe branch opens its vault at eight and closes the counters at five.\n"


def doc_text(advisor: Advisor, doc_id: str) -> str:
    return " ".join(c.text for c in advisor.store.all_chunks(where={"doc_id": doc_id}))


@pytest.fixture()
def uploaded(make_settings, tmp_path) -> tuple[Advisor, Path]:
    advisor = Advisor(make_settings())
    advisor.ingest()
    first = tmp_path / "notes-v1.md"
    first.write_text(OLD, encoding="utf-8")
    report = store_uploads(advisor, [(first, "notes.md")])
    assert report.accepted == ["notes.md"] and not report.rejected
    return advisor, tmp_path


def test_an_accepted_new_version_replaces_the_old_one(uploaded):
    advisor, tmp = uploaded
    new = tmp / "notes-v2.md"
    new.write_text(OLD.replace("at eight", "at half past seven"), encoding="utf-8")
    report = store_uploads(advisor, [(new, "notes.md")])
    assert report.accepted == ["notes.md"] and report.ingest.updated == 1
    kept = advisor.settings.uploads_dir / "notes.md"
    assert "half past seven" in kept.read_text(encoding="utf-8") and "half past seven" in doc_text(advisor, "bank-branch-notes")
    assert not staging_dir(advisor).exists()
    assert_consistent(advisor)


def test_a_new_version_the_ingest_refuses_leaves_the_old_one_on_disk_and_in_the_store(uploaded):
    """The new version takes an id that a knowledge document, written but not yet ingested, also has:
    the upload check cannot see it, the ingest refuses it. The kept version must survive."""
    advisor, tmp = uploaded
    kept = advisor.settings.uploads_dir / "notes.md"
    (advisor.settings.docs_dir / "vault-rota.md").write_text(
        OLD.replace("bank-branch-notes", "vault-rota").replace("Branch notes", "Vault rota"), encoding="utf-8")
    new = tmp / "notes-v2.md"
    new.write_text(OLD.replace("bank-branch-notes", "vault-rota").replace("at eight", "at nine"), encoding="utf-8")
    report = store_uploads(advisor, [(new, "notes.md")])
    assert report.accepted == [] and "already used by another document" in report.rejected[0].reason
    assert kept.read_text(encoding="utf-8") == OLD
    assert "at eight" in doc_text(advisor, "bank-branch-notes")
    assert not staging_dir(advisor).exists()
    assert_consistent(advisor)


def test_an_ingest_that_stops_keeps_the_old_version_and_changes_nothing(uploaded):
    advisor, tmp = uploaded
    for path in list(advisor.settings.docs_dir.glob("*.md"))[:3]:
        path.unlink()  # half the knowledge base gone from disk: the ingest under the upload stops
    before = {c.id: c.text for c in advisor.store.all_chunks()}
    new = tmp / "notes-v2.md"
    new.write_text(OLD.replace("at eight", "at nine"), encoding="utf-8")
    with pytest.raises(InputError, match="stopped before changing anything"):
        store_uploads(advisor, [(new, "notes.md")])
    assert (advisor.settings.uploads_dir / "notes.md").read_text(encoding="utf-8") == OLD
    assert {c.id: c.text for c in advisor.store.all_chunks()} == before
    assert not staging_dir(advisor).exists()


def test_concurrent_ingests_adding_folders_lose_no_remembered_folder(make_settings, tmp_path):
    """Six advisors (six locks on one file, as six processes would hold) each add their own folder."""
    settings = make_settings()
    first = Advisor(settings)
    first.ingest()
    folders = []
    for i in range(6):
        folder = tmp_path / f"share-{i}"
        folder.mkdir()
        (folder / f"memo-{i}.txt").write_text(f"Memo {i}\n\nBranch {i} reviews its cash limits every week.", encoding="utf-8")
        folders.append(folder)
    errors: list[BaseException] = []

    def add(folder: Path) -> None:
        try:
            Advisor(settings, embedder=first.embedder).ingest(IngestRequest(sources=[folder]))
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=add, args=(f,)) for f in folders]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors
    saved = json.loads((settings.data_dir / "sources.json").read_text(encoding="utf-8"))
    assert sorted(saved) == sorted(str(f.resolve()) for f in folders)
    assert not [p.name for p in settings.data_dir.iterdir() if p.name.endswith(".tmp")]
    assert {f"bank-memo-{i}" for i in range(6)} <= set(first.store.manifest())
    assert_consistent(first)


def test_a_damaged_sources_file_is_named(make_settings):
    settings = make_settings()
    settings.data_dir.mkdir(parents=True)
    (settings.data_dir / "sources.json").write_text("{not json", encoding="utf-8")
    with pytest.raises(InputError, match="sources.json is not a JSON list of folders"):
        Advisor(settings).ingest()


def test_with_login_on_only_a_publishing_role_may_upload_and_every_upload_is_audited(uploaded):
    advisor, tmp = uploaded
    governance = Governance(advisor)
    memo = tmp / "memo.txt"
    memo.write_text("Branch memo\n\nThe branch closes its counters at five on Saturdays.", encoding="utf-8")
    before = governance.audit.count()
    for role in ("relationship-manager", "trainer", None):
        with pytest.raises(NotAllowed, match="may not add documents to the knowledge base: ask a manager or a knowledge-editor"):
            publish_uploads(governance, [(memo, "memo.txt")], login=True, user="zhang.min", role=role)
    assert not (advisor.settings.uploads_dir / "memo.txt").exists() and "bank-memo" not in advisor.store.manifest()
    assert governance.audit.count() == before + 3  # each refusal is recorded, before any file is looked at
    refused = governance.audit.recent(1)[0]
    assert (refused.kind, refused.user, refused.inputs["files"]) == ("upload", "zhang.min", ["memo.txt"])
    assert refused.output_summary.startswith("refused: zhang.min (no role) may not add documents")

    report = publish_uploads(governance, [(memo, "memo.txt"), (tmp / "gone.txt", "gone.txt")], login=True,
                             user="wang.fang", role="knowledge-editor")
    assert report.accepted == ["memo.txt"] and "bank-memo" in advisor.store.manifest()
    record = governance.audit.recent(1)[0]
    assert (record.kind, record.user, record.status) == ("upload", "wang.fang", "completed")
    assert record.inputs["files"] == ["memo.txt", "gone.txt"] and record.inputs["accepted"] == ["memo.txt"]
    assert record.inputs["rejected"][0].startswith("gone.txt: the uploaded file cannot be read")
    assert publish_uploads(governance, [(memo, "memo.txt")], login=True, user="li.wei", role="manager").accepted
    assert governance.audit.recent(1)[0].user == "li.wei"
    with pytest.raises(InputError, match="not replayed"):
        governance.replay(record.id)
