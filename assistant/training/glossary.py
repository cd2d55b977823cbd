"""Bilingual glossary search: English and Chinese terms, prefixes and definitions, best match first.
"""
from __future__ import annotations

import re
from typing import Literal

from assistant.clients.rules import GlossaryEntry
from assistant.config import Settings
from assistant.errors import InputError, Language, check_language
from assistant.text import CJK
from assistant.training.material import knowledge_for
from assistant.training.models import GlossaryHit, GlossarySearch

# ----------------------------------------------------------------------------------------- glossary


RANK = {"exact": 0, "prefix": 1, "term": 2, "definition": 3}


def search_glossary(settings: Settings, query: str, limit: int = 20, edition: Language = "en") -> GlossarySearch:
    """English: exact term > term prefix > term substring > definition; Chinese: the same on the zh field.
    ``edition="zh"``: each hit names where it is explained in the document's Chinese edition (``<id>-zh`` and its
    title) when there is one, for a Chinese page; the terms and definitions are the glossary's either way."""
    check_language(edition)
    text = (query or "").strip()
    if not text:
        raise InputError("the glossary query is empty: type an English or Chinese term, e.g. 'factoring' or '保理'")
    if not 1 <= limit <= 500:
        raise InputError(f"limit must be between 1 and 500, got {limit}")
    k = knowledge_for(settings)
    language: Literal["en", "zh"] = "zh" if CJK.search(text) else "en"
    needle = text.casefold()
    ranked: list[tuple[int, str, GlossaryHit]] = []
    for entry in k.rules.glossary:
        match = _glossary_match(entry, needle, language)
        if match is None:
            continue
        doc_id = k.chinese_editions.get(entry.doc, entry.doc) if edition == "zh" else entry.doc
        doc = k.docs.get(doc_id)
        hit = GlossaryHit(term=entry.term, zh=entry.zh, definition=entry.definition, definition_zh=entry.definition_zh, doc=doc_id,
                          doc_title=doc.title if doc else None, match=match)
        ranked.append((RANK[match], entry.term.casefold(), hit))
    ranked.sort(key=lambda r: (r[0], r[1]))
    return GlossarySearch(query=text, language=language, total=len(ranked), hits=[h for _, _, h in ranked[:limit]])


def _glossary_match(entry: GlossaryEntry, needle: str, language: str) -> str | None:
    name = (entry.zh if language == "zh" else entry.term).casefold()
    if name == needle:
        return "exact"
    if name.startswith(needle):
        return "prefix"
    if language == "zh":
        if needle in name:
            return "term"
        return "definition" if len(needle) >= 2 and needle in entry.definition_zh else None
    # English matches start at a word, so "NIM" finds "net interest margin (NIM)", not "animal".
    word = re.compile(r"(?<![a-z0-9])" + re.escape(needle))
    if word.search(name):
        return "term"
    if word.search(entry.definition.casefold()):
        return "definition"
    return None
