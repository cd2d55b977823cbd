"""The multilingual list's model, e5 against USE, in one script: answers and latency on the same machine.

Run from the repository root (ingests the full knowledge base twice into temporary folders, about 5 min
on 2 cores, unless given stores already ingested with each model):

    .venv/bin/python -m bench.chinese_list [--use-data DIR] [--e5-data DIR] [--sets v2,holdout,blind2,blind3]

For each list model (the scorer is USE in both runs, as shipped) it reports, per golden set and
language: key points in the answer text, section MRR@10, unanswerable questions declined; then Chinese
question latency through ``Advisor.ask``: warm (every vector cached) and new (the question's own vectors
dropped from every model's cache and the on-disk vector file unused), p50 and p95 over golden v2's
Chinese questions, median of three rounds, and e5's figures as ratios of USE's.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from .common import KNOWLEDGE, forget, median, pct

LISTS = {"use": "use-multilingual-v3", "e5": "multilingual-e5-small"}


def advisor_for(model: str, data: Path | None, log):
    from assistant.answers.advisor import Advisor
    from assistant.config import Settings

    folder = data or Path(tempfile.mkdtemp(prefix=f"chinese-list-{model}-"))
    advisor = Advisor(Settings(_env_file=None, knowledge_dir=KNOWLEDGE, data_dir=folder, multilingual_embedder=model))
    started = time.perf_counter()
    report = advisor.ensure_ingested()
    if report is not None:
        log(f"{model}: ingested {report.chunks} chunks in {time.perf_counter() - started:.0f} s")
    advisor.warm_up()
    return advisor


def answers(advisor, sets: list[str]) -> dict:
    from assistant.evaluation.golden import evaluate_golden, golden_path

    out = {}
    for name in sets:
        report = evaluate_golden(advisor, golden_path(advisor.settings, name), name=name)
        for language, b in [("all", report.overall), *report.by_language.items()]:
            out[(name, language)] = (b.key_point_coverage, b.section_mrr_at_10, b.unanswerable_declined if b.unanswerable else None)
    return out


def latency(advisor, questions: list[str]) -> tuple[float, float, float, float]:
    from assistant.answers.advisor import AskRequest

    models = [e for e in (advisor.embedder, advisor.multilingual_embedder, advisor.multilingual_scorer) if e is not None]
    for model in models:
        model.disk = None   # a new question must be embedded, not read back from the vector file
    for q in questions:
        advisor.ask(AskRequest(question=q))
    rounds = []
    for _ in range(3):
        warm, new = [], []
        for q in questions:
            started = time.perf_counter()
            advisor.ask(AskRequest(question=q))
            warm.append((time.perf_counter() - started) * 1000)
            for model in models:
                forget(model, [q])
            started = time.perf_counter()
            advisor.ask(AskRequest(question=q))
            new.append((time.perf_counter() - started) * 1000)
        rounds.append((pct(warm, 50), pct(warm, 95), pct(new, 50), pct(new, 95)))
    return tuple(median([r[i] for r in rounds]) for i in range(4))


def main() -> None:
    from assistant.evaluation.golden import golden_path, load_golden
    from assistant.text import is_chinese

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--use-data", type=Path)
    parser.add_argument("--e5-data", type=Path)
    parser.add_argument("--sets", default="v2,holdout,blind2,blind3")
    args = parser.parse_args()
    log = lambda message: print(message, flush=True)  # noqa: E731
    advisors = {tag: advisor_for(LISTS[tag], getattr(args, f"{tag}_data"), log) for tag in LISTS}
    sets = args.sets.split(",")
    scores = {tag: answers(advisor, sets) for tag, advisor in advisors.items()}
    print(f"{'set':16s}{'lang':5s} {'key points use -> e5':>22s} {'section MRR@10':>18s} {'unanswerable declined':>24s}")
    for key in scores["use"]:
        u, e = scores["use"][key], scores["e5"][key]
        cells = [f"{'-' if a is None else f'{a:.3f}'} -> {'-' if b is None else f'{b:.3f}'}" for a, b in zip(u, e)]
        print(f"{key[0]:16s}{key[1]:5s} {cells[0]:>22s} {cells[1]:>18s} {cells[2]:>24s}")
    questions = [q.question for q in load_golden(golden_path(advisors["use"].settings, "v2")) if is_chinese(q.question)]
    times = {tag: latency(advisor, questions) for tag, advisor in advisors.items()}
    print(f"\nChinese questions of golden v2 ({len(questions)}), Advisor.ask in ms, median of 3 rounds")
    for label, i in (("warm p50", 0), ("warm p95", 1), ("new question p50", 2), ("new question p95", 3)):
        print(f"{label:18s} USE list {times['use'][i]:7.1f}   e5 list {times['e5'][i]:7.1f}   {times['e5'][i] / times['use'][i]:.2f}x")


if __name__ == "__main__":
    main()
