"""Sections, not stray sentences: retrieved chunks grown back into the sections they came from.

Retrieval works on chunks of at most ~900 characters, but a manager's answer is a section: the whole
table of tiers, all five steps, the formula with the lines that define its terms. The library groups
the store's chunks by document and section path (in order, without the sentence each chunk repeats
from the one before), so a hit on the second half of a section still shows its first half. It also
knows how often each word occurs in the knowledge base, which the relevance gate and the scoring of
sentences use to weigh rare words over common ones.

>>> library = Library(store.all_chunks())
>>> passages = section_passages(hits, library)
>>> passages[0].text   # the whole section of the best hit
"""

from __future__ import annotations

import math
import re
import threading
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Protocol

from assistant.answers.blocks import Block, answer_words, parse_blocks
from assistant.knowledge.chunking import Chunk
from assistant.knowledge.documents import FaqItem
from assistant.search.retrieval import ScoredChunk
from assistant.search.keywords import token_set
from assistant.text import CJK, LIST_ITEM, is_chinese, label

class Corpus(Protocol):
    """The store's chunks and how many of them hold each keyword: the retriever's keyword index
    (``BM25Index``) is one, and follows every ingest.

    >>> corpus = advisor.retriever.keyword_index()
    >>> Library(corpus.chunks, corpus.keyword_counts()).idf("raroc")
    """

    chunks: list[Chunk]

    def keyword_counts(self) -> Mapping[str, int]: ...


CorpusSource = Callable[[], Corpus]
"""Where the library reads the current corpus from (the advisor passes its retriever's keyword index)."""


@dataclass
class SectionText:
    """One section of one document, whole: what a citation points at.

    >>> section = Library(store.all_chunks()).section(hits[0].chunk)
    >>> section.label, section.text   # the document and heading, and the section's whole text
    """

    doc_id: str
    title: str
    section: str
    source: str
    text: str
    chunk_ids: list[str]
    faq: list[FaqItem] = field(default_factory=list)
    review_by: date | None = None
    superseded_by: str | None = None

    @property
    def key(self) -> tuple[str, str]:
        return (self.doc_id, self.section)

    @property
    def label(self) -> str:
        return label(self.title, self.section)


def join_chunks(chunks: list[Chunk]) -> str:
    """Chunk texts in order, dropping the sentence a chunk repeats from the end of the one before; a table
    cut between chunks (each piece under its header, see chunking) or a list becomes one again."""
    text = ""
    for chunk in sorted(chunks, key=lambda c: c.position):
        body = chunk.text.strip()
        first, _, rest = body.partition("\n\n")
        if text and rest and text.rstrip().endswith(first.strip()):
            body = rest
        last = text.rsplit("\n\n", 1)[-1]
        head = "\n".join(body.splitlines()[:2])
        if text and body.startswith("|") and last.startswith(head + "\n"):
            text = f"{text}\n{body[len(head) + 1:]}"
        elif text and LIST_ITEM.match(body) and LIST_ITEM.match(last):
            text = f"{text}\n{body}"
        else:
            text = f"{text}\n\n{body}" if text else body
    return text


def section_from_chunks(chunks: list[Chunk]) -> SectionText:
    head = min(chunks, key=lambda c: c.position)
    return SectionText(doc_id=head.doc_id, title=head.title, section=head.section, source=head.source,
                       text=join_chunks(chunks), chunk_ids=[c.id for c in sorted(chunks, key=lambda c: c.position)],
                       faq=[f for c in chunks for f in c.faq], review_by=head.review_by, superseded_by=head.superseded_by)


LEAD_IN_WORDS = 45
"""A section whose own text is at most this long, over sub-sections, only introduces them ..."""
STEP_WORDS = 90
"""... and is shown with them as a list when each is one paragraph of at most this many words."""


def with_steps(sections: dict[tuple[str, str], SectionText]) -> dict[tuple[str, str], SectionText]:
    """Sections that only introduce their sub-sections, each with them as a list under their headings.

    "Kotler popularised the three steps known as STP." is the whole text of its section; the three steps are
    its sub-sections, one paragraph each. Retrieval finds the introduction for "What are the three steps of
    STP?", and an answer from it alone, or with the one step retrieval ranked next, named three steps and
    explained one. Only when every sub-section is one short paragraph: a longer one keeps its own section,
    and the answer takes it as it would any other."""
    under: dict[tuple[str, str], list[SectionText]] = {}
    for (doc, path), section in sections.items():
        if " > " in path:
            under.setdefault((doc, path.rsplit(" > ", 1)[0]), []).append(section)
    out: dict[tuple[str, str], SectionText] = {}
    for (doc, path), parent in sections.items():
        children = under.get((doc, path), [])
        if not 2 <= len(children) <= 6:
            continue
        own = answer_words(parent.text)
        # two paragraphs of its own past 30 words say something of their own, not only what follows
        if own > LEAD_IN_WORDS or "\n\n" in parent.text.strip() and own > 30:
            continue
        if any("\n" in c.text.strip() or answer_words(c.text) > STEP_WORDS or c.text.lstrip().startswith(("|", "-", "*", "1."))
               for c in children):
            continue
        chinese = is_chinese(parent.text)
        steps = "\n".join(f"- **{c.section.split(' > ')[-1]}{'：' if chinese else ':'}** {c.text.strip()}" for c in children)
        out[(doc, path)] = SectionText(
            doc_id=parent.doc_id, title=parent.title, section=parent.section, source=parent.source,
            text=f"{parent.text.rstrip()}\n\n{steps}", chunk_ids=parent.chunk_ids + [i for c in children for i in c.chunk_ids],
            faq=parent.faq, review_by=parent.review_by, superseded_by=parent.superseded_by)
    return out


POINTER_WORD = r"(\b(?i:in|see|from)\s+|[见用]\s*)"
"""The words after which a document id points at the document (see ``Library.named``)."""


class Library:
    """Every section of the knowledge base, and how rare each word is in it.

    >>> library = Library(store.all_chunks())
    >>> library.knows("raroc"), library.idf("raroc") > library.idf("bank")
    """

    def __init__(self, chunks: list[Chunk], counts: Mapping[str, int] | None = None) -> None:
        """``counts``: in how many chunks each keyword occurs, when the keyword index already knows
        (counting again means cutting every chunk's text, jieba included: about 1.3 s at start)."""
        groups: dict[tuple[str, str], list[Chunk]] = {}
        for chunk in chunks:
            groups.setdefault((chunk.doc_id, chunk.section), []).append(chunk)
        if counts is None:
            counts = Counter(token for chunk in chunks for token in token_set(chunk.embedding_text))
        self.frequency: Mapping[str, int] = counts
        self.sections = {key: section_from_chunks(group) for key, group in groups.items()}
        self.steps = with_steps(self.sections)   # sections that only introduce their steps, with them
        self.heads = {key: min(group, key=lambda c: c.position) for key, group in groups.items()}
        self.with_faq: dict[str, list[tuple[str, str]]] = {}  # a document's sections that carry vetted answers
        for key, section in self.sections.items():
            if section.faq:
                self.with_faq.setdefault(key[0], []).append(key)
        self.size = max(len(chunks), 1)
        self.titles: dict[tuple[str, str], str] = {}   # (document, language) -> the title its edition gives
        for chunk in chunks:
            self.titles.setdefault((chunk.family, chunk.language), chunk.title)
        ids = sorted({doc for doc, _ in self.titles}, key=len, reverse=True)
        self._pointer = re.compile(POINTER_WORD + "(" + "|".join(map(re.escape, ids)) + r")(?![\w-])( ?)") if ids else None

    def named(self, text: str) -> str:
        """Pointers to another document by its id ("as defined in client-profitability-raroc-eva", "参见
        npl-disposal") name it by its title, in the language of the words around it: the id is a file name
        that no reader knows, and in a Chinese sentence it is English besides. Only after a pointing word
        (in, see, from, 见, 用): "credit-factory processing" is a phrase, not a pointer."""
        if self._pointer is None:
            return text

        def title(match: re.Match) -> str:
            lead, doc, space = match.groups()
            chinese = bool(CJK.search(text, max(0, match.start() - 12), match.start() + len(lead)))
            name = self.titles.get((doc, "zh" if chinese else "en")) or self.titles.get((doc, "en"))
            if name is None:
                return match.group(0)
            return f"{lead.rstrip()}《{name}》" if chinese else f"{lead}“{name}”{space}"

        return self._pointer.sub(title, text)

    def section(self, chunk: Chunk) -> SectionText | None:
        return self.sections.get((chunk.doc_id, chunk.section))

    def idf(self, token: str) -> float:
        return math.log((self.size + 1) / (self.frequency.get(token, 0) + 0.5))

    def knows(self, token: str) -> bool:
        return token in self.frequency


class LibraryCache:
    """One Library per version of the chunk list: rebuilt only when an ingest changed the store.

    >>> cache = LibraryCache(advisor.retriever.keyword_index)
    >>> cache.get() is cache.get()   # the same Library until an ingest changes the chunks
    True
    """

    def __init__(self, source: CorpusSource) -> None:
        self.source = source
        self._key: tuple[int, int] | None = None
        self._library: Library | None = None
        self._lock = threading.Lock()

    def get(self) -> Library:
        corpus = self.source()
        chunks = corpus.chunks
        key = (id(chunks), len(chunks))
        with self._lock:
            if self._library is None or key != self._key:
                self._library, self._key = Library(chunks, corpus.keyword_counts()), key
            return self._library


@dataclass
class Passage:
    """A retrieved section: its whole text, the hits that found it and their best rank.

    >>> passage = section_passages(hits, library)[0]
    >>> passage.text, [u.kind for u in passage.units], passage.best_hit.similarity
    """

    section: SectionText
    hits: list[ScoredChunk]
    rank: int
    blocks: list[Block] = field(default_factory=list)

    def __post_init__(self) -> None:
        if not self.blocks:
            self.blocks = parse_blocks(self.section.text)

    @property
    def text(self) -> str:
        return self.section.text

    @property
    def best_hit(self) -> ScoredChunk:
        return self.hits[0]

    @property
    def units(self):
        return [u for b in self.blocks for u in b.units]

    @property
    def has_list_or_table(self) -> bool:
        return any(u.kind in ("item", "row") for u in self.units)


def section_passages(hits: list[ScoredChunk], library: Library | None = None) -> list[Passage]:
    """One passage per distinct section, in the order retrieval ranked their best chunk."""
    grouped: dict[tuple[str, str], list[ScoredChunk]] = {}
    for hit in hits:
        grouped.setdefault((hit.chunk.doc_id, hit.chunk.section), []).append(hit)
    passages: list[Passage] = []
    for key, group in grouped.items():
        steps = library.steps.get(key) if library is not None else None
        # A section that only introduces its steps leads with them (``with_steps``), and a step found after it
        # is not shown again; found after one of its steps, it would add only its lead-in ("Farm borrowers
        # rarely own urban property.") and is not shown. Further down it is shown as written: with its steps
        # a second section or a "see also" took 200 words beside a first that had answered.
        home = next((p for p in passages if all(h.chunk.id in p.section.chunk_ids for h in group)
                     or steps is not None and set(p.section.chunk_ids) < set(steps.chunk_ids)), None)
        if home is not None:
            home.hits.extend(group)
            continue
        whole = steps if steps is not None and not passages else library.sections.get(key) if library is not None else None
        if whole is None or not all(h.chunk.id in whole.chunk_ids for h in group):
            whole = section_from_chunks([h.chunk for h in group])
        passages.append(Passage(section=whole, hits=group, rank=len(passages)))
    return passages


AGREEMENT_DEPTH = 5
"""How many of retrieval's first sections are read for ``agreeing_order``."""
AGREEMENT_RATIO = 0.8
"""... and the least share of the second section's fused score the first section's sibling must have."""


def agreeing_order(passages: list[Passage]) -> list[Passage]:
    """Retrieval's order, except that the second place goes to another section of the first section's
    document when the second is the only section of its own document among the first five, and the
    sibling ranks close behind it (not the document's opening, which only introduces).

    Why: two sections of one document near the top say what the question is about more reliably than
    one section of another document that happens to score between them. "Walk me through turning
    recency, frequency and monetary data ... into 1-to-5 points" had the RFM definitions first, a
    transformation roadmap second and "How to score RFM with quintiles" third; the answer showed the
    roadmap. A second section whose document is itself found twice is left where it is: then the two
    documents agree equally, and retrieval's order decides (README, "Documents that agree").

    >>> [p.section.section for p in agreeing_order(section_passages(hits, library))][:2]
    """
    if len(passages) < 3:
        return passages
    first, second = passages[0], passages[1]
    top = passages[:AGREEMENT_DEPTH]
    if second.section.doc_id == first.section.doc_id or sum(p.section.doc_id == second.section.doc_id for p in top) > 1:
        return passages
    for candidate in top[2:]:
        if (candidate.section.doc_id == first.section.doc_id and candidate.section.section
                and candidate.best_hit.score >= AGREEMENT_RATIO * second.best_hit.score):
            return [first, candidate] + [p for p in passages[1:] if p is not candidate]
    return passages


THIN_CHILD_WORDS = 45
"""A sub-section of at most this many words leads no answer when its parent was found close behind it
(``parent_first``)."""


def parent_first(passages: list[Passage]) -> list[Passage]:
    """Retrieval's order, except that a thin sub-section (at most THIN_CHILD_WORDS words) found first gives the
    lead to its parent section when the parent is among the first AGREEMENT_DEPTH with at least AGREEMENT_RATIO
    of its score, and holds a table or a list.

    Why: a tier's one-line sub-section ("A named RM owns the relationship ...") matched "How many customers
    should a wealth RM look after?" by its heading and its listed questions, while the answer is the wealth row of
    the parent's table ("about 1 : 150-300"), found third; the answer showed the line and its sibling's, and no
    ratio.
    """
    if len(passages) < 2:
        return passages
    first = passages[0]
    path = first.section.section
    if " > " not in path or sum(u.words for u in first.units) > THIN_CHILD_WORDS:
        return passages
    parent = path.rsplit(" > ", 1)[0]
    return _led_by(passages, lambda c: c.section.section == parent and c.has_list_or_table
                   and c.best_hit.score >= AGREEMENT_RATIO * first.best_hit.score)


PARTS_ITEMS = 3
"""The fewest list items that make a section the list of a thing's parts (``parts_first``)."""


def parts_first(passages: list[Passage]) -> list[Passage]:
    """For a question asking what a thing is made of: when retrieval's first section has no list or table and
    another section of its document among the first AGREEMENT_DEPTH has a list (at least PARTS_ITEMS items), that
    list leads. A first section with a table is left first: "what did the 2024 debt programme consist of" is
    answered by its table of parts, and the 2023 package's list beside it is another programme.

    Why: "What should go into a plan for a large group client?" meets the section saying what such a plan is
    for (the plan, the client, one to three years) more closely than the numbered list of the plan's nine
    parts, whose words are the parts' names. Six questions of six unseen sets asked this of the key-account plan;
    five lost key points for it (README, "A thing's parts").
    """
    if len(passages) < 2 or passages[0].has_list_or_table:
        return passages
    return _led_by(passages, lambda c: bool(c.section.section)
                   and sum(u.kind == "item" for u in c.units) >= PARTS_ITEMS)


def _led_by(passages: list[Passage], fits: Callable[[Passage], bool]) -> list[Passage]:
    """The passages with the first section of the first passage's document, among the first AGREEMENT_DEPTH after
    it, that ``fits`` moved to the front; as they were when none does."""
    doc = passages[0].section.doc_id
    for candidate in passages[1:AGREEMENT_DEPTH]:
        if candidate.section.doc_id == doc and fits(candidate):
            return [candidate] + [p for p in passages if p is not candidate]
    return passages


def shaped_hits(passages: list[Passage]) -> list[ScoredChunk]:
    """The passages as hits whose text is the whole section: what a language model is shown."""
    out = []
    for passage in passages:
        best = passage.best_hit
        chunk = best.chunk.model_copy(update={"text": passage.text})
        out.append(best.model_copy(update={"chunk": chunk}))
    return out
