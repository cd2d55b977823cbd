"""A rebuild after an upgrade (a store schema bump re-chunks and rewrites every document): with the
vector cache, against without it.

A store written by an older release is rebuilt whole on the first ingest after the upgrade. Most
passages come out with the same text, and a vector depends only on the model and the text, so with the
cache (``ADVISOR_VECTOR_CACHE``, on by default) the rebuild reads their vectors back instead of
embedding them. Both sides run in this process over the same store, after one untimed ingest that
fills the cache; runs alternate cache-first and cache-off-first. The corpus is every fourth document of
the knowledge base (every eighth with --quick): the cache-off side embeds each passage with e5, which
takes minutes per hundred passages on 2 cores.
"""

from __future__ import annotations

import shutil

from .common import Ctx, Row, median, timed

SECTION = "reingest"


def corpus(ctx: Ctx, step: int):
    """A knowledge folder with every ``step``-th document and all data files."""
    target = ctx.tmp / "reingest-knowledge"
    if target.exists():
        shutil.rmtree(target)
    (target / "docs").mkdir(parents=True)
    docs = sorted((ctx.knowledge / "docs").glob("*.md"))[::step]
    for doc in docs:
        shutil.copy(doc, target / "docs" / doc.name)
    for folder in ("data", "profiles"):
        shutil.copytree(ctx.knowledge / folder, target / folder)
    return target, len(docs)


def run(ctx: Ctx) -> list[Row]:
    from assistant.answers.advisor import Advisor
    from assistant.config import Settings
    from assistant.search.ingest import IngestRequest

    knowledge, documents = corpus(ctx, 8 if ctx.quick else 4)
    data = ctx.tmp / "reingest-data"

    def settings(cache: bool) -> Settings:
        return Settings(_env_file=None, knowledge_dir=knowledge, data_dir=data, vector_cache=cache, vectors_dir=None)

    ctx.embedder()
    first = Advisor(settings(True)).ingest(progress=lambda *a: None)   # fills the cache, as the older release's
    ctx.log(f"reingest: first ingest {first.seconds:.0f} s, {first.chunks} chunks of {documents} documents (untimed)")
    times: dict[bool, list[float]] = {True: [], False: []}
    reused = 0
    for i in range(ctx.runs):
        for cache in ((True, False) if i % 2 == 0 else (False, True)):
            advisor = Advisor(settings(cache))
            advisor.embedder.encode(["warm-up: loading the model"])   # model loads are not what is compared
            if advisor.multilingual_embedder is not None:
                advisor.multilingual_embedder.encode(["预热：加载模型"])
            seconds, report = timed(lambda: advisor.ingest(IngestRequest(rebuild=True), progress=lambda *a: None))
            times[cache].append(seconds)
            reused = report.reused_vectors if cache else reused
            ctx.log(f"reingest: run {i + 1}/{ctx.runs}, cache {'on' if cache else 'off'}: {seconds:.1f} s, "
                    f"{report.reused_vectors} vectors read back")
    on, off = median(times[True]), median(times[False])
    return [Row(SECTION, f"rebuild after an upgrade ({first.chunks} chunks, {documents} documents, both lists)", on, "s",
                off, "the same rebuild with ADVISOR_VECTOR_CACHE=false (every passage embedded again)",
                goal=("ratio", "<=", 0.2), note=f"median of {ctx.runs} run(s); {reused} vectors read back of "
                f"{2 * first.chunks}", details={"on_s": times[True], "off_s": times[False], "reused": reused})]
