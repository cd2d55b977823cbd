"""Cold start, measured as whole processes from spawn to answer, over an existing store.

- ``advisor ask "..."`` (the console script) until it exits with the answer printed, against
  ``python -c "import assistant"`` (interpreter start plus the package's import floor).
- ``python app.py`` until gradio_client's ``/ask`` returns the first answer (client construction
  included), against the smallest Gradio app with the same endpoint (bench/echo_app.py) timed the
  same way.
Each process kind runs once untimed first (page cache, .pyc files), then the timed runs alternate.
Every subprocess gets its own copy of the store and ADVISOR_* variables only from this bench.
"""

from __future__ import annotations

import time
from pathlib import Path

from .common import PYTHON, REPO, Ctx, Row, app_process, child_env, free_port, median, run_process

SECTION = "coldstart"
QUESTION = "How is RAROC calculated?"


def advisor_command() -> list[str]:
    script = Path(PYTHON).parent / "advisor"
    return [str(script)] if script.exists() else [PYTHON, "-m", "assistant.interfaces.cli"]


def one_shot_rows(ctx: Ctx) -> list[Row]:
    data = ctx.store_copy("coldstart-cli")
    env = child_env(knowledge_dir=str(ctx.knowledge), data_dir=str(data))
    torch_env = {**env, "ADVISOR_EMBEDDER": "sentence-transformers"}
    ask_cmd = advisor_command() + ["ask", QUESTION]
    import_cmd = [PYTHON, "-c", "import assistant"]
    lc_cmd = [PYTHON, str(Path(__file__).with_name("lc_oneshot.py")), QUESTION]
    _, done = run_process(ask_cmd, env, REPO)        # warm-up (also the store's first open)
    _, torch_done = run_process(ask_cmd, torch_env, REPO)
    run_process(import_cmd, env, REPO)
    run_process(lc_cmd, env, REPO)
    for name, out in (("default", done), ("sentence-transformers", torch_done)):
        if "[1]" not in out.stdout:
            ctx.log(f"coldstart: warning, the one-shot answer ({name}) has no citation: {out.stdout[:200]!r}")
    ask_s, torch_s, import_s, lc_s = [], [], [], []
    for i in range(ctx.runs):
        order = [(ask_cmd, env, ask_s), (ask_cmd, torch_env, torch_s), (import_cmd, env, import_s), (lc_cmd, env, lc_s)]
        for cmd, environment, out in (order if i % 2 == 0 else order[::-1]):
            out.append(run_process(cmd, environment, REPO)[0])
        ctx.log(f"coldstart: advisor ask run {i + 1}/{ctx.runs}: {ask_s[-1]:.1f} s, with sentence-transformers {torch_s[-1]:.1f} s "
                f"(import {import_s[-1]:.2f} s, LangChain one-shot {lc_s[-1]:.1f} s)")
    details = {"runs_ask_s": ask_s, "runs_sentence_transformers_s": torch_s, "runs_import_s": import_s, "runs_langchain_s": lc_s,
               "command": " ".join(ask_cmd)}
    return [Row(SECTION, "one-shot `advisor ask` to answer", median(ask_s), "s", median(import_s),
                'python -c "import assistant"', note=f"median of {ctx.runs} run(s) after 1 untimed; existing store",
                details=details),
            Row(SECTION, "one-shot `advisor ask` vs one-shot LangChain", median(ask_s), "s", median(lc_s),
                "bench/lc_oneshot.py: load model (sentence-transformers), open store, similarity_search",
                goal=("ratio", "<=", 1.1),
                note="the default embedder (onnx: the same model through onnxruntime, no torch); the LangChain script "
                     "pays a model load and store open, without BM25 or the composer"),
            Row(SECTION, "one-shot `advisor ask`, ADVISOR_EMBEDDER=sentence-transformers, vs one-shot LangChain",
                median(torch_s), "s", median(lc_s), "bench/lc_oneshot.py", note="the same model through torch")]


def first_answer(cmd: list[str], env: dict[str, str], log: Path) -> tuple[float, float, dict]:
    """(seconds from spawn to first /ask answer, seconds from spawn to serving, the answer)."""
    from gradio_client import Client

    with app_process(cmd, env, log) as app:
        answer = Client(app.url, verbose=False).predict(QUESTION, 3, None, api_name="/ask")
        done = time.perf_counter()
    return done - app.started, app.ready - app.started, answer


def app_rows(ctx: Ctx) -> list[Row]:
    import gradio_client  # noqa: F401  (imported before timing)

    data = ctx.store_copy("coldstart-app")
    app_cmd = [PYTHON, str(REPO / "app.py")]
    echo_cmd = [PYTHON, str(Path(__file__).with_name("echo_app.py"))]

    def env() -> dict[str, str]:
        return child_env(knowledge_dir=str(ctx.knowledge), data_dir=str(data), port=str(free_port()), host="127.0.0.1")

    _, _, answer = first_answer(app_cmd, env(), ctx.tmp / "app-warmup.log")
    first_answer(echo_cmd, env(), ctx.tmp / "echo-warmup.log")
    if not answer.get("grounded"):
        ctx.log(f"coldstart: warning, the app's first answer is not grounded: {str(answer)[:200]}")
    app_total, app_ready, echo_total, echo_ready = [], [], [], []
    for i in range(ctx.runs):
        jobs = [(app_cmd, app_total, app_ready, "app"), (echo_cmd, echo_total, echo_ready, "echo")]
        for cmd, total, ready, name in (jobs if i % 2 == 0 else jobs[::-1]):
            t, r, _ = first_answer(cmd, env(), ctx.tmp / f"{name}-{i}.log")
            total.append(t)
            ready.append(r)
        ctx.log(f"coldstart: app run {i + 1}/{ctx.runs}: first answer {app_total[-1]:.1f} s "
                f"(serving at {app_ready[-1]:.1f} s; echo app {echo_total[-1]:.1f} s)")
    return [Row(SECTION, "app start to first /ask answer", median(app_total), "s", median(echo_total),
                "minimal Gradio app, same endpoint",
                note=f"median of {ctx.runs} run(s) after 1 untimed; serving after {median(app_ready):.1f} s "
                     f"(echo app {median(echo_ready):.1f} s); gradio_client Client() + predict included",
                details={"runs_app_s": app_total, "runs_app_ready_s": app_ready, "runs_echo_s": echo_total,
                         "runs_echo_ready_s": echo_ready})]


def run(ctx: Ctx) -> list[Row]:
    return one_shot_rows(ctx) + app_rows(ctx)
