"""Warm in-process question answering against a plain LangChain pipeline on the same Chroma store.

Advisor.ask = hybrid retrieval (dense + BM25, fused) + the extractive composer. The baseline is
``langchain_chroma.Chroma(...).similarity_search(q, k=5)`` on the advisor's own Chroma client and
collection, embedding the question with the same model, and nothing else. Each side has its own
embedder object (same model weights) so neither warms the other's cache.

Three regimes, each with the same cache state on both sides, each question timed on both sides
back to back:
- warm (the headline, as the issue asks): one warm-up pass, then 3 timed passes; every question has
  been seen before, so its vector and its passages' sentence vectors are cached;
- novel question: the question's own vector is dropped from the cache before each call (passage
  sentences stay cached, as in a long-running app);
- cold caches: the embedding cache is emptied before each call (first questions after a start).
p50 and p95 are taken over the questions within a pass; the figure is the median over the passes.
"""

from __future__ import annotations

import time
from collections import OrderedDict

from .common import Ctx, Row, clear_cache, embed_cache, forget, median, pct

SECTION = "qa"
GOAL = ("value", "<", 200.0)


def pipelines(ctx: Ctx):
    from langchain_chroma import Chroma

    from assistant.answers.advisor import AskRequest
    from assistant.search.embeddings import Embedder, LangChainEmbeddings

    advisor = ctx.advisor()
    advisor.store.collection  # connect, so the client exists
    base_embedder = Embedder(advisor.settings.embedding_model, advisor.settings.embedding_batch_size)
    lc = Chroma(client=advisor.store._client, collection_name=advisor.store.collection_name,
                embedding_function=LangChainEmbeddings(base_embedder))
    k = advisor.settings.top_k

    def ask(q: str):
        return advisor.ask(AskRequest(question=q))

    def base(q: str):
        return lc.similarity_search(q, k=k)

    return advisor, base_embedder, ask, base


def one_pass(questions, ask, base, before=None) -> tuple[list[float], list[float]]:
    ask_ms, base_ms = [], []
    for q in questions:
        for fn, out in ((ask, ask_ms), (base, base_ms)):
            if before is not None:
                before(q)
            started = time.perf_counter()
            fn(q)
            out.append((time.perf_counter() - started) * 1000)
    return ask_ms, base_ms


def summarise(passes: list[tuple[list[float], list[float]]]) -> dict:
    return {
        "ask_p50": median([pct(a, 50) for a, _ in passes]), "ask_p95": median([pct(a, 95) for a, _ in passes]),
        "base_p50": median([pct(b, 50) for _, b in passes]), "base_p95": median([pct(b, 95) for _, b in passes]),
        "ask_max": median([max(a) for a, _ in passes]), "base_max": median([max(b) for _, b in passes]),
        "passes": len(passes),
        "runs_ask_p50": [pct(a, 50) for a, _ in passes], "runs_ask_p95": [pct(a, 95) for a, _ in passes],
        "runs_base_p50": [pct(b, 50) for _, b in passes], "runs_base_p95": [pct(b, 95) for _, b in passes],
    }


def rows_for(label: str, s: dict, note: str, goal=GOAL) -> list[Row]:
    baseline = "LangChain Chroma similarity_search k=5"
    details = {k: [round(x, 2) for x in v] if isinstance(v, list) else round(v, 2) if isinstance(v, float) else v
               for k, v in s.items()}
    return [
        Row(SECTION, f"ask p50, {label}", s["ask_p50"], "ms", s["base_p50"], baseline, note=note, details=details),
        Row(SECTION, f"ask p95, {label}", s["ask_p95"], "ms", s["base_p95"], baseline, goal=goal, note=note,
            details=details),
    ]


def run(ctx: Ctx) -> list[Row]:
    questions = ctx.questions()
    advisor, base_embedder, ask, base = pipelines(ctx)
    # every model the question passes through (since 2026-12-04 English questions also reach the e5 list)
    embedders = tuple(e for e in (advisor.embedder, base_embedder, advisor.multilingual_embedder,
                                  advisor.multilingual_scorer) if e is not None)
    has_cache = embed_cache(advisor.embedder) is not None
    n = len(questions)

    # warm-up: code paths (BM25 index build, Chroma segment load) then one pass over every question
    ask("warm-up: what is customer segmentation?")
    base("warm-up: what is customer segmentation?")
    ctx.log(f"qa: warm-up pass over {n} questions (first time each, caches fill)")
    first = one_pass(questions, ask, base)
    ctx.shared["qa_first_pass"] = summarise([first])

    warm = []
    for i in range(ctx.warm_passes):
        warm.append(one_pass(questions, ask, base))
        ctx.log(f"qa: warm pass {i + 1}/{ctx.warm_passes}: ask p95 {pct(warm[-1][0], 95):.1f} ms")
    rows = rows_for("warm (repeat questions)", summarise(warm),
                    f"{n} golden questions, median of {ctx.warm_passes} passes after 1 warm-up pass")
    ctx.shared["ask_warm_p50_ms"] = rows[0].value

    if not has_cache:
        rows[0].note += "; the embedder has no cache any more, so novel/cold regimes are not separated"
        return rows

    def drop_question(q: str) -> None:
        for e in embedders:
            forget(e, [q, q.strip()])

    novel = []
    for i in range(ctx.runs):
        novel.append(one_pass(questions, ask, base, before=drop_question))
        ctx.log(f"qa: novel-question pass {i + 1}/{ctx.runs}: ask p95 {pct(novel[-1][0], 95):.1f} ms")
    rows += rows_for("novel question (sentence cache warm)", summarise(novel),
                     f"question vector dropped before each call; median of {ctx.runs} pass(es)")

    saved = [OrderedDict(embed_cache(e)) for e in embedders]

    def empty(q: str) -> None:
        for e in embedders:
            clear_cache(e)

    cold = []
    for i in range(ctx.runs):
        cold.append(one_pass(questions, ask, base, before=empty))
        ctx.log(f"qa: cold-cache pass {i + 1}/{ctx.runs}: ask p95 {pct(cold[-1][0], 95):.1f} ms")
    for e, cache in zip(embedders, saved):
        clear_cache(e)
        embed_cache(e).update(cache)
    rows += rows_for("cold caches (first question after start)", summarise(cold),
                     f"embedding cache emptied before each call; median of {ctx.runs} pass(es)")
    return rows
