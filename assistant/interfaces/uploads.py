"""The bank's own files, uploaded through the app: checked one by one, kept, and ingested.

Each file is converted before it is kept, so a broken file is rejected with its reason and never
reaches the store; names are reduced to a safe base name so nothing can be written outside the
upload folder. A file whose document id is already taken by another document (or by another file
of the same upload) is rejected too, so an upload never silently replaces someone else's document;
uploading a file under the name it was kept as replaces that file, which is how a new version goes in.

Nothing kept is overwritten before the new version is accepted: files are staged beside the upload
folder, the ingest reads them in place of the kept ones, and only the versions it accepts are moved
in (``os.replace``); the whole check-ingest-keep sequence holds the ingest lock.
"""

from __future__ import annotations

import os
import re
import shutil
import tempfile
from pathlib import Path

from pydantic import BaseModel, ValidationError

from assistant.answers.advisor import Advisor
from assistant.governance.auth import NotAllowed, require_publisher
from assistant.governance.service import Governance
from assistant.knowledge.converters import (
    ConversionError,
    check_size,
    convert_file,
    supported_suffixes,
)
from assistant.knowledge.documents import (
    FRONT_MATTER,
    load_user_file,
    parse_document,
    slugify,
)
from assistant.search.ingest import IngestReport, IngestRequest, Progress

SAFE = re.compile(r"[^A-Za-z0-9._\-\u4e00-\u9fff]+")


class Rejected(BaseModel):
    name: str
    reason: str


class UploadReport(BaseModel):
    accepted: list[str] = []
    rejected: list[Rejected] = []
    ingest: IngestReport | None = None


def safe_name(name: str) -> str:
    """Only the base name survives, stripped of path tricks and odd characters."""
    base = Path(name.replace("\\", "/")).name
    base = SAFE.sub("_", base).strip("._") or "upload"
    stem, dot, suffix = base.rpartition(".")
    return (f"{stem[:80]}.{suffix[:10]}" if dot and stem else base[:90]).lower()


def doc_id_for(name: str, text: str) -> str:
    """The id a kept file has in the store (as knowledge.load_user_file gives it), without converting a PDF again."""
    if Path(name).suffix.lower() in (".md", ".markdown") and FRONT_MATTER.match(text):
        return parse_document(Path(name), text).meta.id
    return "bank-" + slugify(Path(name).stem)


def check_file(path: Path, name: str) -> str:
    """Return the document id the file will get, or raise ConversionError with the reason it cannot
    become knowledge. Size is checked first, so an oversized file is never read or copied."""
    check_size(path, name)
    with tempfile.TemporaryDirectory() as tmp:
        probe = Path(tmp) / name
        shutil.copyfile(path, probe)
        try:
            return load_user_file(probe).meta.id  # exactly what ingest will do with the kept file
        except ConversionError:
            raise
        except ValidationError as exc:
            problems = "; ".join(f"{'.'.join(map(str, e['loc'])) or 'document'}: {e['msg']}" for e in exc.errors())
            raise ConversionError(f"{name}: {problems}") from exc
        except ValueError as exc:
            raise ConversionError(f"{name}: {exc}") from exc


def kept_ids(folder: Path) -> dict[str, str]:
    """File name -> document id of the files already kept in the upload folder."""
    ids: dict[str, str] = {}
    for path in sorted(folder.iterdir()) if folder.is_dir() else []:
        if not path.is_file() or path.suffix.lower() not in supported_suffixes():
            continue
        try:
            text = convert_file(path) if path.suffix.lower() in (".md", ".markdown") else ""
            ids[path.name] = doc_id_for(path.name, text)
        except ValueError:  # a file that no longer converts is reported by ingest, not here
            continue
    return ids


def staging_dir(advisor: Advisor) -> Path:
    """Where new versions wait for the ingest: beside the upload folder (same file system, so the
    final move is an atomic rename) but outside it, so no ingest reads a version not yet accepted."""
    return advisor.settings.data_dir / "uploads.incoming"


def store_uploads(advisor: Advisor, files: list[tuple[Path, str]], progress: Progress | None = None) -> UploadReport:
    """``files`` are (temporary path, original name) pairs; returns what went in and what did not."""
    folder = advisor.settings.uploads_dir
    with advisor.ingest_lock:
        folder.mkdir(parents=True, exist_ok=True)
        staging = staging_dir(advisor)
        shutil.rmtree(staging, ignore_errors=True)  # left by a process that died before settling
        staging.mkdir(parents=True)
        report = UploadReport()
        kept = kept_ids(folder)
        others = set(advisor.store.manifest()) - set(kept.values())  # the knowledge base and --source folders
        batch: dict[str, tuple[str, str]] = {}  # kept name -> (document id, original name)
        for path, original in files:
            name = _admit(Path(path), original, folder, kept, others, batch, report)
            if name is not None:
                shutil.copyfile(path, staging / name)
        try:
            if batch:
                replacing = {folder / name: staging / name for name in batch}
                report.ingest = advisor.ingest(IngestRequest(replacing=replacing), progress=progress)
                _settle(report, folder, staging, batch)
        finally:
            shutil.rmtree(staging, ignore_errors=True)
    return report


def publish_uploads(governance: Governance, files: list[tuple[Path, str]], *, login: bool, user: str | None,
                    role: str | None, progress: Progress | None = None) -> UploadReport:
    """The app's upload: refused unless the role may publish (when login is on), recorded in the audit
    trail with the user before any file is looked at, and completed with what went in. A refusal is
    recorded as well (no file is looked at)."""
    try:
        require_publisher(login, user, role)
    except NotAllowed as exc:
        governance.refused_upload([original for _, original in files], user, str(exc))
        raise
    outcome: dict[str, UploadReport] = {}

    def run() -> tuple[list[str], list[str], str]:
        report = outcome["report"] = store_uploads(governance.advisor, files, progress)
        summary = report.ingest.summary() if report.ingest else "nothing accepted"
        return report.accepted, [f"{r.name}: {r.reason}" for r in report.rejected], summary

    governance.upload([original for _, original in files], user, run)
    return outcome["report"]


def _admit(path: Path, original: str, folder: Path, kept: dict[str, str], others: set[str],
           batch: dict[str, tuple[str, str]], report: UploadReport) -> str | None:
    """The name a file will be kept under, or None after recording why it is rejected."""
    name = safe_name(original)
    reason = None
    if Path(name).suffix not in supported_suffixes():
        reason = f"unsupported file type; use {', '.join(supported_suffixes())}"
    elif name in batch:
        reason = f"another file of this upload is also kept as '{name}'; rename one of them"
    elif (folder / name).resolve().parent != folder.resolve():
        reason = "file name points outside the upload folder"
    else:
        try:
            doc_id = check_file(path, name)
            reason = _clash(doc_id, name, others, kept, batch)
        except ConversionError as exc:
            reason = str(exc)
        except OSError as exc:
            reason = f"the uploaded file cannot be read ({exc.strerror or exc}); upload it again"
    if reason:
        report.rejected.append(Rejected(name=original, reason=reason))
        return None
    batch[name] = (doc_id, original)
    return name


def _clash(doc_id: str, name: str, others: set[str], kept: dict[str, str], batch: dict[str, tuple[str, str]]) -> str | None:
    """Why ``doc_id`` cannot be taken by the file kept as ``name``, or None when it is free."""
    if doc_id in others:
        return f"the knowledge base already has a document '{doc_id}'; rename the file (or change its id)"
    holder = next((n for n, i in kept.items() if i == doc_id and n != name), None)
    if holder:
        return (f"document '{doc_id}' is already taken by the uploaded file '{holder}'; upload the new version as "
                f"'{holder}' to replace it, or rename the file")
    twin = next((original for i, original in batch.values() if i == doc_id), None)
    if twin:
        return f"'{twin}' in this upload already becomes document '{doc_id}'; rename one of them"
    return None


def _settle(report: UploadReport, folder: Path, staging: Path, batch: dict[str, tuple[str, str]]) -> None:
    """Move each version the ingest accepted into place; a refused one is dropped and the kept file
    it would have replaced stays as it was, on disk and in the store."""
    refused = {Path(e.path).resolve(): e.message for e in (report.ingest.errors if report.ingest else [])}
    for name, (_, original) in batch.items():
        staged = staging / name
        reason = refused.get(staged.resolve())
        if reason is not None:
            report.rejected.append(Rejected(name=original, reason=reason))
            continue
        os.replace(staged, folder / name)
        report.accepted.append(name)
