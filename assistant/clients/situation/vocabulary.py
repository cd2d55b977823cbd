"""The reader's word lists, loaded from knowledge/data/situation_words.yaml and checked against the rules.

A bank adds "砂锅店" to catering or "prudent" to C2 in the YAML; a typo in an industry or need id is an
error at load time, not a silently unread word.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, Field, ValidationError, model_validator

from assistant.clients.rules import INDUSTRIES, RuleBook, RulesError
from assistant.text import load_yaml

FILE = "situation_words.yaml"


class NeedPhrases(BaseModel):
    need: str
    client_types: list[Literal["enterprise", "individual"]] = Field(min_length=1)
    phrases: list[str] = Field(min_length=1)
    generic: bool = Field(False, description="Read only when no more specific need is named.")


class Vocabulary(BaseModel):
    """What each word means; every list is matched lower-case.

    >>> vocab = vocabulary_for(settings.rules_dir, rules)
    >>> vocab.industries["catering"][:2]
    ['noodle restaurant', 'noodle shop']
    """

    industries: dict[str, list[str]]
    ignore_phrases: list[str] = Field(default_factory=list)
    ownership: dict[str, list[str]] = Field(default_factory=dict)
    risk: dict[Literal["C1", "C2", "C3", "C4", "C5"], list[str]] = Field(default_factory=dict)
    occupations: list[str] = Field(default_factory=list)
    bank_roles: list[str] = Field(default_factory=list, description="The bank's own staff roles, blanked before "
                                  "occupations are read: a question about a relationship manager is not a client.")
    need_phrases: list[NeedPhrases] = Field(default_factory=list)
    not_wanting: list[str] = Field(default_factory=list, description="Phrases of a clause that tells what happens "
                                   "to the client or what they already have with us (cold calls pushing high yields, "
                                   "a pension paid here), not what they want: without a verb of wanting in the "
                                   "message such a clause is not read for needs.")

    @model_validator(mode="after")
    def _known_industries(self) -> "Vocabulary":
        unknown = [i for i in self.industries if i not in INDUSTRIES]
        if unknown:
            raise ValueError(f"unknown industries {unknown}; use ids of sme_standard_2011.yaml")
        self.industries = {k: [w.lower() for w in v] for k, v in self.industries.items()}
        self.ignore_phrases = [w.lower() for w in self.ignore_phrases]
        self.not_wanting = [w.lower() for w in self.not_wanting]
        self.bank_roles = sorted((w.lower() for w in self.bank_roles), key=len, reverse=True)
        return self

    def industry_words(self) -> list[tuple[str, str]]:
        """(word, industry), longest first, so "noodle restaurant" is tried before "restaurant"."""
        pairs = [(w, industry) for industry, words in self.industries.items() for w in words]
        return sorted(pairs, key=lambda p: -len(p[0]))


def load_vocabulary(folder: Path) -> Vocabulary:
    path = folder / FILE
    if not path.exists():
        raise RulesError(f"rule file missing: {path} (the chat's client-reading words)")
    try:
        return Vocabulary.model_validate(load_yaml(path.read_text(encoding="utf-8")) or {})
    except yaml.YAMLError as exc:
        raise RulesError(f"{path}: not valid YAML ({str(exc).splitlines()[0]})") from exc
    except ValidationError as exc:
        first = exc.errors()[0]
        raise RulesError(f"{path}: {'.'.join(map(str, first['loc']))}: {first['msg']}") from exc


@lru_cache(maxsize=8)
def _cached(folder: str, stamp: float) -> Vocabulary:
    return load_vocabulary(Path(folder))


def vocabulary_for(folder: Path, rules: RuleBook) -> Vocabulary:
    """Load once per change of the file (its mtime is the cache key); need ids are checked against the rules."""
    path = folder / FILE
    vocab = _cached(str(folder), path.stat().st_mtime if path.exists() else 0.0)
    unknown = sorted({p.need for p in vocab.need_phrases} - {n.id for n in rules.needs})
    if unknown:
        raise RulesError(f"{path}: need_phrases name unknown needs {unknown}; use ids of needs.yaml")
    return vocab
