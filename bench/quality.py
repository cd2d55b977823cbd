"""Retrieval quality: the golden set against plain LangChain dense search, SciFact against published figures.

Golden: ``assistant.evaluation.evaluate_golden`` (hybrid retrieval, k=10, documents de-duplicated)
beside the same metrics for ``similarity_search(q, k=10)`` on the same store.

SciFact (skipped with --quick): one index (the one the ingest section built, or built here), three
modes over the 809 train queries. Published figures are on the *test* split (300 queries), which is
the only one they exist for; train is what ships here, so compare the level, not the third decimal.
"""

from __future__ import annotations

from .common import SCIFACT, Ctx, Row

SECTION = "quality"
PUBLISHED = {
    "dense": (0.645, "all-MiniLM-L6-v2, MTEB SciFact test"),
    "bm25": (0.665, "BM25, BEIR paper, SciFact test"),
    "hybrid": (0.688, "BM25+CE rerank, BEIR paper, SciFact test"),
}


def golden_rows(ctx: Ctx) -> list[Row]:
    from langchain_chroma import Chroma

    from assistant.search.embeddings import Embedder, LangChainEmbeddings
    from assistant.evaluation.golden import evaluate_golden
    from assistant.evaluation.metrics import mrr_at, recall_at

    advisor = ctx.advisor()
    path = ctx.knowledge / "eval" / "golden.jsonl"
    report = evaluate_golden(advisor, path, "v1")
    ours = report.overall
    advisor.store.collection
    lc = Chroma(client=advisor.store._client, collection_name=advisor.store.collection_name,
                embedding_function=LangChainEmbeddings(Embedder(advisor.settings.embedding_model,
                                                                advisor.settings.embedding_batch_size)))
    golden = ctx.golden()
    r5 = mrr = 0.0
    for q in golden:
        docs = lc.similarity_search(q.question, k=10)
        ranked = list(dict.fromkeys(d.metadata["doc_id"] for d in docs))
        r5 += recall_at(ranked, q.expected_docs, 5)
        mrr += mrr_at(ranked, q.expected_docs, 10)
    n = len(golden)
    base = "LangChain similarity_search k=10, same store"
    by_language = {k: v.doc_recall_at_5 for k, v in report.by_language.items()}
    note = f"{ours.questions} questions; grounded share {ours.grounded_share:.3f}; by language {by_language}"
    details = {"by_voice": {k: v.doc_recall_at_5 for k, v in report.by_voice.items()}, "by_language": by_language,
               "misses": [r.id for r in report.questions if (r.doc_recall_at_5 or 0.0) < 1.0]}
    return [
        Row(SECTION, "golden recall@5 (hybrid)", ours.doc_recall_at_5, "", r5 / n, base, note=note, details=details),
        Row(SECTION, "golden MRR@10 (hybrid)", ours.doc_mrr_at_10, "", mrr / n, base),
    ]


def scifact_rows(ctx: Ctx) -> list[Row]:
    if ctx.scifact is None:
        from assistant.evaluation.beir import BeirEvaluator, load_beir

        ctx.log("quality: indexing SciFact (no ingest section ran)")
        evaluator = BeirEvaluator(ctx.settings(ctx.tmp / "beir-data"), load_beir(SCIFACT, "train"), name="scifact",
                                  embedder=ctx.embedder())
        ctx.scifact = (evaluator, evaluator.index())
    evaluator = ctx.scifact[0]
    rows = []
    for mode in ("dense", "bm25", "hybrid"):
        result = evaluator.evaluate(mode)
        published, source = PUBLISHED[mode]
        ctx.log(f"quality: SciFact {mode} nDCG@10 {result.ndcg_at_10:.4f} ({result.search_seconds:.0f} s)")
        rows.append(Row(SECTION, f"SciFact train nDCG@10, {mode}", result.ndcg_at_10, "", published, source,
                        note=f"{result.queries} train queries; recall@100 {result.recall_at_100:.3f}, "
                             f"MRR@10 {result.mrr_at_10:.3f}; published figure is on test",
                        details=result.model_dump()))
    evaluator.close()
    ctx.scifact = None
    return rows


def run(ctx: Ctx) -> list[Row]:
    rows = golden_rows(ctx)
    if not ctx.quick:
        rows += scifact_rows(ctx)
    return rows
