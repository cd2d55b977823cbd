"""What the knowledge base is not for: topics the bank declares out of scope, with example requests.

Relevance to the passages cannot tell "What's the weather in Lanzhou this weekend?" from a strategy
question about Lanzhou: the place name makes a passage look close (cosine 0.41 with MiniLM, more than
some answerable questions score). What tells them apart is what the question asks for, so the bank
lists the kinds of request the assistant does not serve (weather, travel, live prices, programming
help ...), each with a few example requests in English and Chinese, in
``knowledge/data/out_of_scope.yaml``. A question is out of scope when it is closer in meaning to one
of those examples than to any retrieved passage (across languages, or any question those passages'
sections list as answering), and close enough to it in absolute terms: a topical
rail, as guardrail frameworks call it, that the bank edits without code.

May import pydantic, numpy, yaml, assistant.text and assistant.search.embeddings (answers floor); the
gate uses it.

>>> scope = OutOfScope.load(settings.rules_dir / "out_of_scope.yaml")
>>> scope.nearest("Will it rain in Baotou tomorrow?", embedder).topic
'weather'
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import numpy as np
import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from assistant.search.embeddings import Embeds
from assistant.text import is_chinese, load_yaml

OFF_TOPIC_MIN = 0.4
"""Cosine with the nearest out-of-scope example from which a question can be out of scope (it must also
be at least as close as the best passage). Calibrated on golden v2 with MiniLM for English and the
multilingual model for Chinese; checked on the holdout and on 100 questions written afresh (README)."""


class ScopeTopic(BaseModel):
    """One kind of request the assistant does not serve."""

    model_config = ConfigDict(extra="forbid")

    topic: str = Field(min_length=2, description="What users see: 'This question is about <topic> ...'.")
    topic_zh: str = Field(min_length=1, description="The same in Chinese, for Chinese questions.")
    examples: list[str] = Field(min_length=2, description="Requests of this kind, in the users' words (both languages).")
    margin: float = Field(0.0, ge=0.0, le=1.0, description="How much closer to an example than to the best passage a "
                          "question must be, on top of its language's margin: a topic that shares its words with the "
                          "knowledge base ('rate', 'fee', 'NPL ratio') needs room, or questions the base answers about "
                          "rates in general are declined with it.")

    @field_validator("examples")
    @classmethod
    def _no_blank(cls, examples: list[str]) -> list[str]:
        cleaned = [" ".join(e.split()) for e in examples]
        if not all(cleaned):
            raise ValueError("an example is empty")
        return cleaned


class NearestTopic(BaseModel):
    topic: str
    topic_zh: str
    similarity: float
    example: str
    margin: float = 0.0


class OutOfScope(BaseModel):
    """The bank's out-of-scope topics; empty when the file is absent (nothing is declined for scope).

    >>> scope = OutOfScope.load(Path("knowledge/data/out_of_scope.yaml"))
    >>> [t.topic for t in scope.topics][:2]
    ['weather', 'travel and transport']
    """

    topics: list[ScopeTopic] = Field(default_factory=list)

    @classmethod
    def load(cls, path: Path) -> "OutOfScope":
        """A missing file means no scope rail; a broken one stops with the file and the entry named."""
        if not path.exists():
            return cls()
        try:
            data = load_yaml(path.read_text(encoding="utf-8")) or []
            return cls(topics=data)
        except yaml.YAMLError as exc:
            raise ValueError(f"{path}: not valid YAML ({exc})") from exc
        except ValidationError as exc:
            where = "; ".join(f"entry {'.'.join(map(str, e['loc'][1:]))}: {e['msg']}" for e in exc.errors())
            raise ValueError(f"{path}: {where}") from exc

    def examples(self, language: str | None = None) -> list[tuple[int, str]]:
        """(topic index, example), only those in ``language`` ('zh' or 'en') when it is given and has any."""
        every = [(i, e) for i, t in enumerate(self.topics) for e in t.examples]
        if language is None:
            return every
        same = [(i, e) for i, e in every if is_chinese(e) == (language == "zh")]
        return same or every

    def nearest(self, question: str, embedder: Embeds, language: str | None = None) -> NearestTopic | None:
        """The out-of-scope example closest in meaning to the question, by the embedder that reads it.
        ``language``: compare only with examples in the language of the passages the question is weighed
        against. A multilingual model scores a question higher against text in its own language, so a
        Chinese question weighed against English passages would otherwise lose to any short Chinese
        example (包商银行为什么会倒闭？ came out nearer a crypto example than the Baoshang passages)."""
        ranked = self.by_topic(question, embedder, language)
        return ranked[0] if ranked else None

    def by_topic(self, question: str, embedder: Embeds, language: str | None = None) -> list[NearestTopic]:
        """Each topic's example closest to the question, nearest topic first: a topic with a wider margin
        may be nearest and yet not decline a question that the next topic does."""
        examples = self.examples(language)
        if not examples:
            return []
        vectors = embedder.encode_cached([question] + [e for _, e in examples])
        sims = vectors[1:] @ vectors[0]
        best: dict[int, int] = {}
        for row, (topic, _) in enumerate(examples):
            if topic not in best or sims[row] > sims[best[topic]]:
                best[topic] = row
        out = [NearestTopic(topic=self.topics[t].topic, topic_zh=self.topics[t].topic_zh,
                            similarity=round(float(sims[row]), 4), example=examples[row][1], margin=self.topics[t].margin)
               for t, row in best.items()]
        return sorted(out, key=lambda n: -n.similarity)


def out_of_scope(nearest: NearestTopic | None, passage_similarity: float, margin: float = 0.0,
                 floor: float = OFF_TOPIC_MIN) -> bool:
    """Out of scope: at least ``floor`` close to an out-of-scope example and closer to it than to the
    best passage by ``margin`` (the language's) plus the topic's own (a strategy question about Lanzhou
    is closer to the Lanzhou passage)."""
    if nearest is None:
        return False
    return nearest.similarity >= floor and nearest.similarity >= passage_similarity + margin + nearest.margin


@lru_cache(maxsize=8)
def _cached(path: str, stamp: tuple[float, int]) -> OutOfScope:
    return OutOfScope.load(Path(path))


def scope_for(path: Path) -> OutOfScope:
    """Load once per change of the file (its mtime and size are the cache key, as for the rule tables),
    so a bank edits it while the app runs; no topics when it is absent.

    >>> scope_for(settings.rules_dir / "out_of_scope.yaml") is scope_for(settings.rules_dir / "out_of_scope.yaml")
    True
    """
    try:
        stat = path.stat()
    except FileNotFoundError:
        return OutOfScope()
    return _cached(str(path), (stat.st_mtime, stat.st_size))
