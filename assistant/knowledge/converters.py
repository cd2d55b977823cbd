"""Turn a user's file (md, txt, pdf, docx) into markdown text.

Kept apart from chunking so each parser failure becomes one readable error for one file, and the
rest of an upload still goes in.
"""

from __future__ import annotations

import codecs
import io
import re
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
    text = _decode(name, data)
    return text if name.lower().endswith((".md", ".markdown")) else chinese_headings(text)


def _decode(name: str, data: bytes) -> str:
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
    return chinese_headings(unwrap_cjk_lines("\n\n".join(p.strip() for p in pages if p.strip())))


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
        if style.startswith(("heading", "标题")):
            level = "".join(ch for ch in style if ch.isdigit()) or "1"
            lines.append("#" * min(int(level) + 1, 4) + " " + text)
        elif style == "title":
            lines.append("# " + text)
        else:
            lines.append(text)
    for table in document.tables:
        for row in table.rows:
            lines.append(" | ".join(cell.text.strip() for cell in row.cells))
    return chinese_headings("\n\n".join(lines))


# --- Chinese files: wrapped lines and numbered headings -------------------------------------------

_CJK = "\u3400-\u4dbf\u4e00-\u9fff\uff08\uff09\uff0c\u3001\u201c\u201d"
_SENTENCE_END = "。！？；：!?;:"
_NUMERAL = "[一二三四五六七八九十百零〇两]+"
_CHAPTER = re.compile(rf"^第(?:{_NUMERAL}|\d+)[章编部](?:分)?(?:\s|$)")
_SECTION = re.compile(rf"^第(?:{_NUMERAL}|\d+)节(?:\s|$)")
_ITEM = re.compile(rf"^{_NUMERAL}、")
_SUBITEM = re.compile(rf"^[（(]{_NUMERAL}[）)]")


def unwrap_cjk_lines(text: str) -> str:
    """Join the lines a PDF wrapped inside a Chinese sentence: a line that ends in a Chinese character
    (not 。！？；) and a next line that starts with one are one line, joined without a space, so the
    sentence splitter and the chunker see whole sentences."""
    lines = text.split("\n")
    out: list[str] = []
    for line in lines:
        stripped = line.strip()
        prev = out[-1] if out else ""
        chinese_end = bool(re.search(f"[{_CJK}]$", prev)) and prev[-1] not in _SENTENCE_END
        latin_end = bool(re.search(r"[0-9A-Za-z%]$", prev)) and bool(re.search(f"[{_CJK}]", prev))
        if (prev and stripped and not _is_heading(stripped) and not _is_heading(prev)
                and ((chinese_end and re.match(f"[{_CJK}0-9A-Za-z]", stripped))
                     or (latin_end and re.match(f"[{_CJK}]", stripped)))):
            out[-1] = prev + stripped
        else:
            out.append(stripped)
    return "\n".join(out)


def _is_heading(line: str) -> bool:
    return len(line) <= 40 and line[-1:] not in _SENTENCE_END + "。，," and any(
        p.match(line) for p in (_CHAPTER, _SECTION, _ITEM, _SUBITEM))


def chinese_headings(text: str) -> str:
    """Make a Chinese document's numbered headings (第一章, 第一节, 一、, （一）) markdown headings, so
    its chunks follow its structure and cite "第二章 授信政策 > 一、准入" as an English file's do."""
    lines = text.split("\n")
    if not any(_is_heading(line.strip()) for line in lines):
        return text
    has_chapters = any(_CHAPTER.match(line.strip()) for line in lines)
    levels = [(_CHAPTER, 2), (_SECTION, 3), (_ITEM, 3 if has_chapters else 2), (_SUBITEM, 4 if has_chapters else 3)]
    out = []
    for line in lines:
        stripped = line.strip()
        level = next((lvl for pattern, lvl in levels if pattern.match(stripped)), 0) if _is_heading(stripped) else 0
        out.append(f"\n{'#' * level} {stripped}\n" if level else line)
    return "\n".join(out)
