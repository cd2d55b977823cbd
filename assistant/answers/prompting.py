"""The prompts a language model sees: files under answers/prompts/, passages fenced, personal data masked.

Prompts live in files a bank can review, never in code; their hash is recorded with every answer.
"""

from __future__ import annotations

import json
import logging
from functools import lru_cache
from importlib import resources
from typing import Any

from langchain_core.messages import BaseMessage, HumanMessage, SystemMessage
from pydantic import BaseModel

from assistant.answers.privacy import mask_identifiers, mask_profile
from assistant.search.retrieval import ScoredChunk
from assistant.text import label

log = logging.getLogger(__name__)

ProfileData = dict[str, Any] | BaseModel | None
"""A structured client profile for plan writing: a dict or a profiles.py model."""


# --- prompts -------------------------------------------------------------------------------------

@lru_cache(maxsize=None)
def load_prompt(name: str) -> str:
    """Prompts ship as package data so reviewers can read and change them without touching code."""
    return resources.files("assistant.answers").joinpath("prompts", name).read_text(encoding="utf-8")


def prompt_version() -> str:
    """A short hash of every prompt file: the audit trail records which prompts produced an answer."""
    import hashlib

    folder = resources.files("assistant.answers").joinpath("prompts")
    digest = hashlib.sha256()
    for entry in sorted(folder.iterdir(), key=lambda e: e.name):
        if entry.is_file():
            digest.update(entry.name.encode() + b"\0" + entry.read_bytes())
    return digest.hexdigest()[:12]


def not_found_sentence() -> str:
    return load_prompt("not_found.txt").strip()


def system_prompt() -> str:
    return load_prompt("system.md").format(not_found=not_found_sentence()).strip()


def passage_label(hit: ScoredChunk) -> str:
    c = hit.chunk
    return label(c.title, c.section)


def fence(text: str) -> str:
    """Passage text must not be able to close its own fence and speak as the user."""
    for tag in ("passage", "profile"):
        text = text.replace(f"</{tag}", f"&lt;/{tag}").replace(f"<{tag}", f"&lt;{tag}")
    return text


def format_passages(hits: list[ScoredChunk]) -> str:
    template = load_prompt("passage.md").strip()
    return "\n\n".join(
        template.format(n=i + 1, label=fence(" ".join(passage_label(h).split())), text=fence(h.chunk.text.strip()))
        for i, h in enumerate(hits)
    )


def model_safe_profile(profile: ProfileData) -> dict[str, Any]:
    """The profile as the model sees it: masked exactly as the audit trail masks it (privacy.py), since
    personal identifiers must not leave the bank for a model endpoint that may be outside it."""
    if isinstance(profile, BaseModel):
        profile = profile.model_dump(mode="json", exclude_none=True)
    return {k: v for k, v in mask_profile(profile or {}).items() if v not in (None, "", [])}


def format_profile(profile: ProfileData) -> str:
    profile = model_safe_profile(profile)
    if not profile:
        return ""
    as_json = json.dumps(profile, ensure_ascii=False, indent=2, sort_keys=True, default=str)
    return load_prompt("profile.md").format(profile_json=fence(as_json))


def build_messages(question: str, hits: list[ScoredChunk], profile: ProfileData = None) -> list[BaseMessage]:
    """System rules, then one user turn with the fenced passages, the optional profile and the
    question: the question is the only text in the prompt that the user, not a document, wrote."""
    user = load_prompt("answer.md").format(passages=format_passages(hits), profile=format_profile(profile),
                                           question=mask_identifiers(question.strip()))
    return [SystemMessage(content=system_prompt()), HumanMessage(content=user)]


def prompt_secrets() -> list[str]:
    """Texts a model must never repeat to the user: the system prompt above all."""
    return [system_prompt()]
