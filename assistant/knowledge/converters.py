"""Turn a user's file (md, txt, pdf, docx) into markdown text.

Kept apart from chunking so each parser failure becomes one readable error for one file, and the
rest of an upload still goes in.
"""

from __future__ import annotations

import codecs
import io
from pathlib import Path

from assistant.plugins import Registry, default_registry

MAX_FILE_BYTES = 20 * 1024 * 1024


class ConversionError(ValueError):
    """A file that cannot become knowledge; the message says why and what to do."""


def check_size(path: Path, name: str | None = None) -> int:
    """Reject an empty or oversized file from its size alone, before anything reads or copies it."""
    name = name or path.name
    size = path.stat().st_size
    if size == 0:
        raise ConversionError(f"{name}: the file is empty")
    if size > MAX_FILE_BYTES:
        raise ConversionError(
            f"{name}: {size / 1e6:.1f} MB is over the {MAX_FILE_BYTES // 2**20} MiB limit; split it into smaller files"
        )
    return size


def register(registry: Registry) -> None:
    """The built-in converters, registered through the same seam as a bank's own (see plugins.py)."""
    for suffix in (".md", ".markdown", ".txt"):
        registry.register("converter", suffix, _decode_text)
    registry.register("converter", ".pdf", _pdf_text)
    registry.register("converter", ".docx", _docx_text)


def supported_suffixes() -> tuple[str, ...]:
    """Every file type some converter reads: the built-ins plus installed plug-ins."""
    return tuple(default_registry().names("converter"))


def convert_file(path: Path) -> str:
    """Return the text of ``path`` as markdown, or raise ConversionError with the reason."""
    suffix = path.suffix.lower()
    registry = default_registry()
    if suffix not in registry.names("converter"):
        raise ConversionError(
            f"{path.name}: unsupported file type '{suffix or '(none)'}'; use one of {', '.join(supported_suffixes())}"
        )
    check_size(path)
    try:
        text = registry.get("converter", suffix)(path.name, path.read_bytes())
    except ConversionError:
        raise
    except Exception as exc:  # a plug-in converter's own failure still names the file
        raise ConversionError(f"{path.name}: could not be read ({type(exc).__name__}: {exc})") from exc
    if not text.strip():
        raise ConversionError(f"{path.name}: no text could be read from the file")
    return text


def _decode_text(name: str, data: bytes) -> str:
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):  # Windows "Unicode" text files
        try:
            return data.decode("utf-16")
        except UnicodeDecodeError as exc:
            raise ConversionError(f"{name}: starts like UTF-16 text but does not decode ({exc.reason}); save it as UTF-8") from exc
    if b"\x00" in data[:8192]:
        raise ConversionError(f"{name}: looks like a binary file, not text")
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise ConversionError(f"{name}: not valid UTF-8 or GB18030 text; save it as UTF-8")


def _pdf_text(name: str, data: bytes) -> str:
    if not data.startswith(b"%PDF"):
        raise ConversionError(f"{name}: not a PDF (the file does not start with %PDF); is it renamed?")
    from pypdf import PdfReader
    from pypdf.errors import PdfReadError

    try:
        reader = PdfReader(io.BytesIO(data))
        pages = [page.extract_text() or "" for page in reader.pages]
    except (PdfReadError, ValueError, KeyError, TypeError, OSError) as exc:
        raise ConversionError(f"{name}: the PDF could not be read ({exc}); re-export it from the source") from exc
    except Exception as exc:  # pypdf raises many kinds on a damaged file (IndexError, AttributeError, RecursionError, ...)
        raise ConversionError(f"{name}: the PDF is damaged ({exc.__class__.__name__}); re-export it from the source") from exc
    return "\n\n".join(p.strip() for p in pages if p.strip())


def _docx_text(name: str, data: bytes) -> str:
    import zipfile

    from docx import Document

    try:
        return _docx_markdown(Document(io.BytesIO(data)))
    except (zipfile.BadZipFile, KeyError, ValueError, OSError) as exc:
        raise ConversionError(f"{name}: not a readable Word document ({exc}); open and re-save it in Word") from exc
    except Exception as exc:  # damaged XML inside the zip (lxml), missing parts (python-docx), ...
        raise ConversionError(f"{name}: not a readable Word document ({exc.__class__.__name__}: {exc}); "
                              "open and re-save it in Word") from exc


def _docx_markdown(document) -> str:
    lines: list[str] = []
    for paragraph in document.paragraphs:
        text = paragraph.text.strip()
        if not text:
            continue
        style = (paragraph.style.name or "").lower() if paragraph.style is not None else ""
        if style.startswith("heading"):
            level = "".join(ch for ch in style if ch.isdigit()) or "1"
            lines.append("#" * min(int(level) + 1, 4) + " " + text)
        elif style == "title":
            lines.append("# " + text)
        else:
            lines.append(text)
    for table in document.tables:
        for row in table.rows:
            lines.append(" | ".join(cell.text.strip() for cell in row.cells))
    return "\n\n".join(lines)
