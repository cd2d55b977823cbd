"""Retrieval on public benchmarks in the BEIR format, in a temporary collection of its own, so
evaluating never touches the advisor's store.
"""

from __future__ import annotations

import json
import tempfile
import time
import uuid
from collections import defaultdict
from pathlib import Path

from pydantic import BaseModel

from assistant.config import Settings
from assistant.errors import InputError
from assistant.evaluation.metrics import mrr_at, ndcg_at, recall_at
from assistant.knowledge.chunking import Chunk
from assistant.search.embeddings import Embedder
from assistant.search.retrieval import HybridRetriever, Mode, RetrievalQuery
from assistant.search.store import ChromaStore


class BeirDoc(BaseModel):
    id: str
    title: str = ""
    text: str = ""


class BeirData(BaseModel):
    corpus: list[BeirDoc]
    queries: dict[str, str]
    qrels: dict[str, dict[str, int]]


def read_jsonl(path: Path) -> list[dict]:
    rows = []
    with path.open(encoding="utf-8", newline="") as handle:
        for number, line in enumerate(handle, 1):
            line = line.strip()
            if not line:
                continue
            try:
                rows.append(json.loads(line))
            except json.JSONDecodeError as exc:
                raise InputError(f"{path.name} line {number}: not valid JSON ({exc.msg})") from exc
    return rows


def load_beir(folder: Path, split: str = "test", limit_corpus: int | None = None) -> BeirData:
    """Read a BEIR folder; CRLF line endings and a header row in the qrels are tolerated."""
    needed = [folder / "corpus.jsonl", folder / "queries.jsonl", folder / "qrels" / f"{split}.tsv"]
    missing = [str(p) for p in needed if not p.exists()]
    if missing:
        raise InputError(f"not a BEIR folder for split '{split}': missing {', '.join(missing)}")
    qrels: dict[str, dict[str, int]] = defaultdict(dict)
    for line in needed[2].read_text(encoding="utf-8").splitlines():
        parts = line.strip().split("\t")
        if len(parts) < 3 or not parts[2].strip().lstrip("-").isdigit():
            continue  # header or blank
        qrels[parts[0].strip()][parts[1].strip()] = int(parts[2])
    corpus = [BeirDoc(id=str(r["_id"]), title=r.get("title") or "", text=r.get("text") or "") for r in read_jsonl(needed[0])]
    if limit_corpus:
        corpus = corpus[:limit_corpus]
    queries = {str(r["_id"]): r["text"] for r in read_jsonl(needed[1]) if str(r["_id"]) in qrels}
    return BeirData(corpus=corpus, queries=queries, qrels=dict(qrels))


class BeirResult(BaseModel):
    dataset: str
    split: str
    mode: Mode
    ndcg_at_10: float
    recall_at_100: float
    mrr_at_10: float
    queries: int
    documents: int
    index_seconds: float
    search_seconds: float


def _beir_chunk(doc: BeirDoc) -> Chunk:
    return Chunk(id=doc.id, doc_id=doc.id, title=doc.title or doc.id, section="", text=doc.text or doc.title,
                 position=0, doc_hash="beir", doc_chunks=1, source="general", topics=["beir"],
                 audience=["manager"], segments=["all"])


class BeirEvaluator:
    """Index a BEIR corpus once, then score any retrieval mode over its queries.

    >>> evaluator = BeirEvaluator(settings, load_beir(Path("beir/scifact")), name="scifact")
    >>> evaluator.index(); evaluator.evaluate("hybrid").ndcg_at_10
    >>> evaluator.close()   # drops the temporary collection
    """

    def __init__(self, settings: Settings, data: BeirData, name: str = "beir", embedder: Embedder | None = None) -> None:
        self.data = data
        self.name = name
        self._tmp = tempfile.TemporaryDirectory(prefix="advisor-beir-")
        overrides = {"collection": f"beir-{uuid.uuid4().hex[:12]}", "candidates": 100}
        if not settings.server_mode:
            overrides["chroma_path"] = Path(self._tmp.name) / "chroma"
        self.settings = settings.model_copy(update=overrides)
        self.embedder = embedder or Embedder(settings.embedding_model, settings.embedding_batch_size)
        self.store = ChromaStore(self.settings)
        self.retriever = HybridRetriever(self.settings, self.store, self.embedder, refresh_seconds=1e9)
        self.index_seconds = 0.0

    def index(self, progress: bool = False, batch: int = 256) -> float:
        started = time.perf_counter()
        chunks = [_beir_chunk(d) for d in self.data.corpus]
        for start in range(0, len(chunks), batch):
            part = chunks[start:start + batch]
            self.store.upsert(part, self.embedder.encode([c.embedding_text for c in part], progress=progress))
        self.index_seconds = time.perf_counter() - started
        return self.index_seconds

    def evaluate(self, mode: Mode) -> BeirResult:
        started = time.perf_counter()
        ndcg = recall = mrr = 0.0
        for qid, text in self.data.queries.items():
            hits = self.retriever.run(RetrievalQuery(query=text, k=100, mode=mode))
            ranked = [h.chunk.doc_id for h in hits]
            rel = self.data.qrels.get(qid, {})
            ndcg += ndcg_at(ranked, rel, 10)
            recall += recall_at(ranked, rel, 100)
            mrr += mrr_at(ranked, rel, 10)
        n = max(len(self.data.queries), 1)
        return BeirResult(dataset=self.name, split="", mode=mode, ndcg_at_10=round(ndcg / n, 4),
                          recall_at_100=round(recall / n, 4), mrr_at_10=round(mrr / n, 4),
                          queries=len(self.data.queries), documents=len(self.data.corpus),
                          index_seconds=round(self.index_seconds, 2), search_seconds=round(time.perf_counter() - started, 2))

    def close(self) -> None:
        try:
            self.store.reset()
        finally:
            self._tmp.cleanup()


def evaluate_beir(settings: Settings, folder: Path, split: str = "test", modes: list[Mode] | None = None,
                  progress: bool = False) -> list[BeirResult]:
    data = load_beir(folder, split)
    evaluator = BeirEvaluator(settings, data, name=folder.name)
    try:
        evaluator.index(progress=progress)
        results = []
        for mode in modes or ["hybrid"]:
            result = evaluator.evaluate(mode)
            result.split = split
            results.append(result)
        return results
    finally:
        evaluator.close()
