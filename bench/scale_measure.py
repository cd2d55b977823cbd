"""One step of the cost curve, run in its own process: grow the collection, or measure it.

Why separate processes: the resident memory of a fresh process that opens the store, builds the keyword
index and answers questions is what an app process pays at that size; a process that also grew the
collection would carry the growth's leftovers. ``bench.scale`` drives these steps.

    python -m bench.scale_measure grow    --target 100000 --chroma-path DIR --out grow.json
    python -m bench.scale_measure measure --queries 100   --chroma-path DIR --out measure.json
    (--host H --port P instead of --chroma-path: a Chroma server)

Each step writes its JSON on success; a step stopped by the memory guard writes what it has and exits 3.
Nothing asserts on a time.
"""

from __future__ import annotations

import argparse
import json
import os
import threading
import time
from pathlib import Path
from typing import Any, Callable

import numpy as np

from bench.scale_data import BATCH, FILTER, QueryVectors, SciFactText, SyntheticCorpus

COLLECTION = "scale"
DEPTH = 30          # the retriever's candidate depth (settings.candidates), used by the baselines too
K = 5


def status() -> dict[str, float]:
    """VmRSS / VmHWM of this process and MemAvailable of the machine, in MiB."""
    out: dict[str, float] = {}
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(("VmRSS", "VmHWM")):
            out[line.split(":")[0]] = int(line.split()[1]) / 1024
    for line in Path("/proc/meminfo").read_text().splitlines():
        if line.startswith("MemAvailable"):
            out["MemAvailable"] = int(line.split()[1]) / 1024
    return out


class MemoryGuard:
    """Stops the step before the machine runs out of memory (it is shared with other work)."""

    def __init__(self, out: Path, floor_gib: float, partial: dict[str, Any]) -> None:
        self.out, self.floor_mib, self.partial = out, floor_gib * 1024, partial
        threading.Thread(target=self._watch, daemon=True, name="memory-guard").start()

    def _watch(self) -> None:
        while True:
            now = status()
            if now["MemAvailable"] < self.floor_mib:
                self.partial["stopped"] = (f"memory guard: MemAvailable fell to {now['MemAvailable'] / 1024:.1f} GiB "
                                           f"(floor {self.floor_mib / 1024:.1f} GiB) with this process at "
                                           f"{now['VmRSS'] / 1024:.1f} GiB resident")
                self.partial["memory"] = now
                try:
                    self.out.write_text(json.dumps(dict(self.partial), indent=1, default=str))
                finally:
                    os._exit(3)
            time.sleep(0.5)


def open_store(args: argparse.Namespace):
    from assistant.config import Settings
    from assistant.search.store import ChromaStore

    data = Path(args.chroma_path or args.out.parent)
    extra = {"chroma_host": args.host, "chroma_port": args.port} if args.host else {"chroma_path": Path(args.chroma_path)}
    settings = Settings(_env_file=None, knowledge_dir=Path("knowledge"), data_dir=data, candidates=DEPTH, **extra)
    return settings, ChromaStore(settings, collection=COLLECTION)


def corpus_of(args: argparse.Namespace) -> SyntheticCorpus:
    return SyntheticCorpus(SciFactText(Path(args.scifact)), seed=args.seed)


# ------------------------------------------------------------------ grow
def grow(args: argparse.Namespace, result: dict[str, Any]) -> None:
    """Add batches up to --target; half of each through ChromaStore.upsert, half through bare Chroma.

    Both kinds go into the same collection in turn (which goes first alternates), so the baseline meets
    the same collection size and machine load as the value. A batch half-written by a killed run is
    simply upserted again.
    """
    _, store = open_store(args)
    corpus = corpus_of(args)
    collection = store.collection
    start = store.count() // BATCH * BATCH
    result.update(start=start, target=args.target, batches=[])
    for at in range(start, args.target, BATCH):
        if time.time() > args.deadline:
            result["stopped"] = f"time budget: stopped at {at:,} of {args.target:,} chunks"
            break
        chunks, vectors = corpus.batch(at)
        half = BATCH // 2
        halves = [("advisor", slice(0, half)), ("bare", slice(half, BATCH))]
        for kind, part in (halves if (at // BATCH) % 2 == 0 else halves[::-1]):
            seconds = add_part(store, collection, kind, chunks[part], vectors[part])
            result["batches"].append({"start": at + part.start, "kind": kind, "seconds": seconds})
        result["reached"] = at + BATCH
    result["reached"] = store.count()
    for kind in ("advisor", "bare"):
        rows = [b["seconds"] for b in result["batches"] if b["kind"] == kind]
        result[f"{kind}_chunks_per_s"] = BATCH // 2 * len(rows) / sum(rows) if rows else None
    result["memory"] = status()


def add_part(store, collection, kind: str, chunks: list, vectors: np.ndarray) -> float:
    """Seconds to add these chunks the advisor's way (ChromaStore.upsert) or the bare chromadb way."""
    from assistant.search.store import _chunk_metadata

    if kind == "advisor":
        return _timed(lambda: store.upsert(chunks, vectors))
    ids, docs, metas = [c.id for c in chunks], [c.text for c in chunks], [_chunk_metadata(c) for c in chunks]
    return _timed(lambda: collection.upsert(ids=ids, embeddings=vectors, documents=docs, metadatas=metas))


def _timed(fn: Callable[[], Any]) -> float:
    started = time.perf_counter()
    fn()
    return time.perf_counter() - started


# ------------------------------------------------------------------ measure
def build_keyword_index(store, retriever, result: dict[str, Any]) -> Any:
    """The project's keyword index as an app process builds it: fetch every chunk, tokenise, index."""
    fetch: list[float] = []
    original = store.all_chunks

    def timed_fetch(*a, **kw):
        started = time.perf_counter()
        try:
            return original(*a, **kw)
        finally:
            fetch.append(time.perf_counter() - started)

    store.all_chunks = timed_fetch
    total = _timed(retriever.keyword_index)
    store.all_chunks = original
    index = retriever.keyword_index()
    result["bm25_fetch_s"] = fetch[0]
    result["bm25_build_s"] = total - fetch[0]
    result["bm25_total_s"] = total
    result["chunks"] = len(index.chunks)
    return index


class Bare:
    """The same-run baselines: chromadb's own query and bm25s on the very same texts."""

    def __init__(self, collection, index, result: dict[str, Any]) -> None:
        import bm25s
        import Stemmer

        self.collection = collection
        self.stemmer = Stemmer.Stemmer("english")
        texts = [c.embedding_text for c in index.chunks]
        started = time.perf_counter()
        tokens = bm25s.tokenize(texts, stopwords="en", stemmer=self.stemmer, show_progress=False)
        self.bm25 = bm25s.BM25()
        self.bm25.index(tokens, show_progress=False)
        result["bare_bm25_build_s"] = time.perf_counter() - started
        del texts, tokens
        key, value = next(iter(FILTER.items()))
        self.mask = np.array([value in getattr(c, key) for c in index.chunks], dtype=np.float32)
        result["filter_share"] = float(self.mask.mean())
        self.where = {f"topic:{value}": True}

    def dense(self, vector: np.ndarray, where: dict | None = None) -> list[str]:
        got = self.collection.query(query_embeddings=[vector.tolist()], n_results=DEPTH, where=where,
                                    include=["documents", "metadatas", "distances"])
        return got["ids"][0]

    def keyword(self, query: str, mask: np.ndarray | None = None) -> Any:
        import bm25s

        tokens = bm25s.tokenize([query], stopwords="en", stemmer=self.stemmer, return_ids=False, show_progress=False)
        if not tokens[0]:
            return None
        return self.bm25.retrieve(tokens, k=DEPTH, show_progress=False, weight_mask=mask, n_threads=0)


def query_plan(retriever, bare: Bare, vectors: QueryVectors) -> dict[str, tuple[Callable, Callable]]:
    """Per mode: (the advisor's call, the bare call doing the same job), each taking the question."""
    from assistant.search.retrieval import RetrievalQuery

    def ours(mode: str, filters: dict | None = None) -> Callable[[str], Any]:
        return lambda q: retriever.run(RetrievalQuery(query=q, k=K, mode=mode, filters=filters or {}))

    vec = lambda q: vectors.encode_cached([q])[0]  # noqa: E731 - a dictionary lookup, as in the retriever
    return {
        "dense": (ours("dense"), lambda q: bare.dense(vec(q))),
        "bm25": (ours("bm25"), lambda q: bare.keyword(q)),
        "hybrid": (ours("hybrid"), lambda q: (bare.dense(vec(q)), bare.keyword(q))),
        "dense+filter": (ours("dense", FILTER), lambda q: bare.dense(vec(q), bare.where)),
        "hybrid+filter": (ours("hybrid", FILTER), lambda q: (bare.dense(vec(q), bare.where), bare.keyword(q, bare.mask))),
    }


def run_queries(plan: dict[str, tuple[Callable, Callable]], questions: list[str]) -> dict[str, Any]:
    """Interleaved per question, the order alternating (A-B, B-A), so a burst of load hits both sides."""
    times: dict[str, dict[str, list[float]]] = {mode: {"value": [], "baseline": []} for mode in plan}
    for n, q in enumerate(questions):
        for mode, (value, baseline) in plan.items():
            order = [("value", value), ("baseline", baseline)]
            for side, fn in (order if n % 2 == 0 else order[::-1]):
                times[mode][side].append(_timed(lambda: fn(q)) * 1000)
    out: dict[str, Any] = {}
    for mode, sides in times.items():
        out[mode] = {f"{side}_p{p}_ms": float(np.percentile(v, p)) for side, v in sides.items() for p in (50, 95)}
        out[mode]["ratio_p50"] = out[mode]["value_p50_ms"] / out[mode]["baseline_p50_ms"]
    return out


def dense_agreement(retriever, bare: Bare, vectors: QueryVectors, questions: list[str]) -> float:
    """Share of questions whose dense top-5 equals chromadb's: the figures compare the same work."""
    from assistant.search.retrieval import RetrievalQuery

    same = 0
    for q in questions:
        ours = [h.chunk.id for h in retriever.run(RetrievalQuery(query=q, k=K, mode="dense"))]
        same += ours == bare.dense(vectors.encode_cached([q])[0])[:K]
    return same / max(1, len(questions))


def measure(args: argparse.Namespace, result: dict[str, Any]) -> None:
    from assistant.search.retrieval import HybridRetriever, RetrievalQuery

    settings, store = open_store(args)
    corpus = corpus_of(args)
    vectors = QueryVectors(corpus)
    retriever = HybridRetriever(settings, store, vectors, refresh_seconds=3600.0)
    result["count"] = store.count()
    result["memory_open"] = status()
    index = build_keyword_index(store, retriever, result)
    questions = corpus.queries(args.queries + 5)
    warm, questions = questions[:5], questions[5:]
    for q in warm:
        for mode, filters in (("hybrid", {}), ("hybrid", FILTER)):
            retriever.run(RetrievalQuery(query=q, k=K, mode=mode, filters=filters))
    result["memory_app"] = status()   # what an app process holds for retrieval at this size (no model)
    bare = Bare(store.collection, index, result)
    result["queries"] = len(questions)
    result["modes"] = run_queries(query_plan(retriever, bare, vectors), questions)
    result["dense_top5_agreement"] = dense_agreement(retriever, bare, vectors, questions[:20])
    result["memory_end"] = status()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("step", choices=("grow", "measure"))
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--chroma-path")
    parser.add_argument("--host")
    parser.add_argument("--port", type=int, default=8000)
    parser.add_argument("--scifact", required=True)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--target", type=int, default=0)
    parser.add_argument("--deadline", type=float, default=float("inf"), help="epoch seconds; grow stops after it")
    parser.add_argument("--queries", type=int, default=100)
    parser.add_argument("--min-free-gib", type=float, default=3.0)
    args = parser.parse_args()
    result: dict[str, Any] = {"step": args.step, "mode": "server" if args.host else "embedded"}
    MemoryGuard(args.out, args.min_free_gib, result)
    (grow if args.step == "grow" else measure)(args, result)
    args.out.write_text(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
