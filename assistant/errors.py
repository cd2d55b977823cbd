"""Errors users can read: each says what was wrong and how to fix it."""

from __future__ import annotations

from typing import Literal

Language = Literal["en", "zh"]
"""The languages the package words its own outputs in (curriculum, glossary hits, progress, segment reports)."""
LANGUAGES: tuple[str, ...] = ("en", "zh")


class AdvisorError(Exception):
    """Base for every error the CLI and app show as one clear line instead of a traceback."""


class InputError(AdvisorError, ValueError):
    """The user's input (question, profile, file, option) is not acceptable."""


def check_language(language: object) -> Language:
    """The language of an output the package words itself; anything else is refused by name rather than
    read as English."""
    if language not in LANGUAGES:
        raise InputError(f"language {language!r} is not supported: use 'en' or 'zh'")
    return language  # type: ignore[return-value]
