"""The bank's own files, uploaded through the app: checked one by one, kept, and ingested.

Each file is converted before it is kept, so a broken file is rejected with its reason and never
reaches the store; names are reduced to a safe base name so nothing can be written outside the
upload folder.
"""

from __future__ import annotations

import re
import shutil
import tempfile
from pathlib import Path

from pydantic import BaseModel

from .advisor import Advisor
from .converters import SUPPORTED_SUFFIXES, ConversionError, convert_file
from .ingest import IngestReport, Progress
from .knowledge import FRONT_MATTER, parse_document

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


def check_file(path: Path, name: str) -> None:
    """Raise ConversionError with the reason a file cannot become knowledge."""
    with tempfile.TemporaryDirectory() as tmp:
        probe = Path(tmp) / name
        shutil.copyfile(path, probe)
        text = convert_file(probe)
        if probe.suffix.lower() in (".md", ".markdown") and FRONT_MATTER.match(text):
            try:
                parse_document(probe, text)
            except ValueError as exc:
                raise ConversionError(f"{name}: {exc}") from exc


def store_uploads(advisor: Advisor, files: list[tuple[Path, str]], progress: Progress | None = None) -> UploadReport:
    """``files`` are (temporary path, original name) pairs; returns what went in and what did not."""
    folder = advisor.settings.uploads_dir
    folder.mkdir(parents=True, exist_ok=True)
    report = UploadReport()
    for path, original in files:
        name = safe_name(original)
        if Path(name).suffix not in SUPPORTED_SUFFIXES:
            report.rejected.append(Rejected(name=original, reason=f"unsupported file type; use {', '.join(SUPPORTED_SUFFIXES)}"))
            continue
        try:
            check_file(path, name)
        except ConversionError as exc:
            report.rejected.append(Rejected(name=original, reason=str(exc)))
            continue
        target = (folder / name).resolve()
        if folder.resolve() not in target.parents:
            report.rejected.append(Rejected(name=original, reason="file name points outside the upload folder"))
            continue
        shutil.copyfile(path, target)
        report.accepted.append(name)
    if report.accepted:
        report.ingest = advisor.ingest(progress=progress)
    return report
