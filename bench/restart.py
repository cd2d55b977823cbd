"""New questions right after a restart: with the sentence vectors kept on disk, against without.

One process warms up over a private copy of the store (``warm_app``, what the app runs in the
background after it starts; untimed) and so fills ``data/vectors/``. Then restarted processes, each a
fresh interpreter over that folder, load the advisor, answer one untimed question (model loads, keyword
index) and answer the golden questions (every third with --quick) one by one, timed in-process. Value:
``vector_cache`` on (what a restarted app does now). Baseline: the same with ``ADVISOR_VECTOR_CACHE=false``
(what a restarted app did before, until its ~50 s background warm-up was over). The two kinds alternate.
"""

from __future__ import annotations

import json

from .common import PYTHON, REPO, Ctx, Row, child_env, median, pct, run_process

SECTION = "restart"
WARM = "warm-up: what is a service plan?"

FILL = """
from assistant.answers.advisor import Advisor
from assistant.config import Settings
from assistant.interfaces.server import warm_app
print(warm_app(Advisor.from_settings(Settings())))
"""

ASK = """
import json, sys, time
from assistant.answers.advisor import Advisor, AskRequest
from assistant.config import Settings
advisor = Advisor.from_settings(Settings())
advisor.ask(AskRequest(question=sys.argv[1]))
times = []
for q in json.loads(sys.argv[2]):
    started = time.perf_counter()
    advisor.ask(AskRequest(question=q))
    times.append((time.perf_counter() - started) * 1000)
print(json.dumps(times))
"""


def run(ctx: Ctx) -> list[Row]:
    data = ctx.store_copy("restart")
    questions = json.dumps(ctx.questions())
    on = child_env(knowledge_dir=str(ctx.knowledge), data_dir=str(data))
    off = dict(on, ADVISOR_VECTOR_CACHE="false")
    seconds, done = run_process([PYTHON, "-c", FILL], on, REPO, timeout=1800)
    if done.returncode != 0:
        raise RuntimeError(f"warm-up failed: {done.stderr[-500:]}")
    ctx.log(f"restart: warm-up embedded {done.stdout.strip()} units in {seconds:.0f} s (untimed)")
    runs: dict[str, list[list[float]]] = {"on": [], "off": []}
    for i in range(ctx.runs):
        order = [("on", on), ("off", off)]
        for name, env in (order if i % 2 == 0 else order[::-1]):
            _, done = run_process([PYTHON, "-c", ASK, WARM, questions], env, REPO)
            if done.returncode != 0:
                raise RuntimeError(f"restarted process failed: {done.stderr[-500:]}")
            runs[name].append(json.loads(done.stdout.strip().splitlines()[-1]))
        ctx.log(f"restart: run {i + 1}/{ctx.runs}: p95 {pct(runs['on'][-1], 95):.0f} ms with kept vectors, "
                f"{pct(runs['off'][-1], 95):.0f} ms without")
    details = {name: {"p50_ms": [pct(r, 50) for r in rs], "p95_ms": [pct(r, 95) for r in rs]} for name, rs in runs.items()}
    note = (f"{len(json.loads(questions))} new questions per restarted process, median of {ctx.runs} process(es) "
            "each; the baseline process has ADVISOR_VECTOR_CACHE=false")
    return [
        Row(SECTION, "restarted app, new question p50", median([pct(r, 50) for r in runs["on"]]), "ms",
            median([pct(r, 50) for r in runs["off"]]), "the same without vectors kept on disk", note=note, details=details),
        Row(SECTION, "restarted app, new question p95", median([pct(r, 95) for r in runs["on"]]), "ms",
            median([pct(r, 95) for r in runs["off"]]), "the same without vectors kept on disk", goal=("value", "<", 200.0),
            note=note),
    ]
