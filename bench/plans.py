"""Plan drafting against a single ask, and book segmentation against reading the same CSV.

Plans: ``PlanDrafter(advisor).run(profile)`` over the 12 example profiles, interleaved with one
``Advisor.ask`` of 12 golden questions (evenly spaced) under the same cache state, so the ratio reads
"one plan costs N asks". Warm: one warm-up pass then 3 timed passes. Cold: the embedding cache is
emptied before every plan and every ask.

Segment: ``assistant.clients.book.segment_book`` on 50,000 rows sampled with replacement (seed 7) from the
UCI bank.csv into a temp CSV, against ``pandas.read_csv`` of that same file. Both are warmed on the
original 4,521-row file first.
"""

from __future__ import annotations

import time

from .common import BANK_CSV, Ctx, Row, clear_cache, embed_cache, median, pct, timed

SECTION = "plans"
SEGMENT_ROWS = 50_000
SEED = 7


def profiles(ctx: Ctx):
    from assistant.clients.profiles import load_profiles

    folder = ctx.knowledge / "profiles"
    return [(p.stem, load_profiles(p)[0]) for p in sorted(folder.glob("*.json"))]


def plan_rows(ctx: Ctx) -> list[Row]:
    from assistant.answers.advisor import AskRequest
    from assistant.clients.plans import PlanDrafter

    advisor = ctx.advisor()
    items = profiles(ctx)
    golden = [q.question for q in ctx.golden()]
    step = max(len(golden) // len(items), 1)
    questions = golden[::step][: len(items)]

    def plan(profile):
        return PlanDrafter(advisor).run(profile)

    def ask(q):
        return advisor.ask(AskRequest(question=q))

    def one_pass(before=None) -> tuple[list[float], list[float]]:
        plan_s, ask_s = [], []
        for (_, profile), q in zip(items, questions):
            for fn, arg, out in ((plan, profile, plan_s), (ask, q, ask_s)):
                if before is not None:
                    before()
                started = time.perf_counter()
                fn(arg)
                out.append((time.perf_counter() - started) * 1000)
        return plan_s, ask_s

    # warm-up of the code paths (rules, BM25 index), then the cold passes
    plan(items[0][1])
    ask("warm-up: what is a service plan?")
    rows: list[Row] = []
    has_cache = embed_cache(advisor.embedder) is not None
    if has_cache:
        cold = []
        for i in range(ctx.runs):
            cold.append(one_pass(before=lambda: clear_cache(advisor.embedder)))
            ctx.log(f"plans: cold pass {i + 1}/{ctx.runs}: plan p95 {pct(cold[-1][0], 95):.0f} ms")
        cold_plan = median([pct(p, 95) for p, _ in cold])
        cold_ask = median([pct(a, 50) for _, a in cold])

    # warm-up pass (fills caches), counting retrievals (questions, and the batches they go in) per plan
    retriever = advisor.retriever
    calls = {"n": 0, "batches": 0}
    original = retriever.run_many

    def counting(queries):
        calls["n"] += len(queries)
        calls["batches"] += 1
        return original(queries)

    per_plan: dict[str, int] = {}
    batches: dict[str, int] = {}
    try:
        retriever.run_many = counting
        for stem, profile in items:
            calls["n"] = calls["batches"] = 0
            plan(profile)
            per_plan[stem], batches[stem] = calls["n"], calls["batches"]
    finally:
        try:
            del retriever.run_many
        except AttributeError:
            pass
    for q in questions:
        ask(q)
    warm = []
    for i in range(ctx.warm_passes):
        warm.append(one_pass())
        ctx.log(f"plans: warm pass {i + 1}/{ctx.warm_passes}: plan p95 {pct(warm[-1][0], 95):.0f} ms")
    warm_plan = median([pct(p, 95) for p, _ in warm])
    warm_ask = median([pct(a, 50) for _, a in warm])
    retrievals = sorted(per_plan.values())
    details = {"retrievals_per_plan": per_plan, "batches_per_plan": batches, "plan_p50_ms": median([pct(p, 50) for p, _ in warm]),
               "runs_plan_p95_ms": [pct(p, 95) for p, _ in warm], "runs_ask_p50_ms": [pct(a, 50) for _, a in warm]}
    rows.append(Row(SECTION, "plan draft p95, warm (12 profiles)", warm_plan, "ms", warm_ask, "Advisor.ask p50, warm",
                    note=f"median of {ctx.warm_passes} passes after 1 warm-up; {retrievals[0]}-{retrievals[-1]} "
                         f"retrievals per plan (median {median(retrievals):.0f}) in {max(batches.values())} batches at most; "
                         "ratio = asks per plan",
                    details=details))
    if has_cache:
        rows.append(Row(SECTION, "plan draft p95, cold caches", cold_plan, "ms", cold_ask, "Advisor.ask p50, cold caches",
                        note=f"embedding cache emptied before each plan and ask; median of {ctx.runs} pass(es)",
                        details={"runs_plan_p95_ms": [pct(p, 95) for p, _ in cold],
                                 "runs_ask_p50_ms": [pct(a, 50) for _, a in cold]}))
    return rows


def make_book(path) -> None:
    import pandas as pd

    raw = pd.read_csv(BANK_CSV, sep=";", dtype=str, keep_default_na=False)
    raw.sample(n=SEGMENT_ROWS, replace=True, random_state=SEED).to_csv(path, sep=";", index=False)


def segment_rows(ctx: Ctx) -> list[Row]:
    import pandas as pd

    from assistant.clients.book import segment_book
    from assistant.clients.book_actions import load_actions
    from assistant.clients.book_io import load_columns
    from assistant.clients.rules import rules_for

    s = ctx.settings(ctx.tmp / "unused")
    rules = rules_for(s.rules_dir)
    columns = load_columns(s.rules_dir / "book_columns.yaml")
    actions = load_actions(s.rules_dir / "book_actions.yaml")
    book = ctx.tmp / "book-50k.csv"
    make_book(book)

    def segment(path, out):
        return segment_book(path, rules, columns, out, SEED, actions=actions)

    def read(path):
        return pd.read_csv(path, sep=columns.delimiter)

    segment(BANK_CSV, ctx.tmp / "segment-warmup")
    read(BANK_CSV)
    seg_s, read_s = [], []
    report = None
    for i in range(ctx.runs):
        order = ["segment", "read"] if i % 2 == 0 else ["read", "segment"]
        for what in order:
            if what == "segment":
                seconds, report = timed(lambda: segment(book, ctx.tmp / f"segment-{i}"))
                seg_s.append(seconds)
            else:
                seconds, _ = timed(lambda: read(book))
                read_s.append(seconds)
        ctx.log(f"plans: segment run {i + 1}/{ctx.runs}: {seg_s[-1]:.1f} s (read_csv {read_s[-1]:.3f} s)")
    return [Row(SECTION, f"segment_book, {SEGMENT_ROWS:,} rows", median(seg_s), "s", median(read_s),
                "pandas.read_csv of the same file",
                note=f"median of {ctx.runs} run(s); k={report.k}, silhouette {report.silhouette:.3f}, "
                     f"{report.rejected} rejected",
                details={"runs_segment_s": seg_s, "runs_read_s": read_s, "k": report.k, "rows": report.rows})]


def run(ctx: Ctx) -> list[Row]:
    return plan_rows(ctx) + segment_rows(ctx)
