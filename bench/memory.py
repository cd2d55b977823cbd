"""Peak memory (VmHWM, the kernel's resident high-water mark) of the app process.

The app (``python app.py`` over a copy of the ingested store) answers the golden questions through
gradio_client, then its /proc/<pid>/status is read before it is stopped. Baselines, each a fresh
process that reports its own VmHWM on exit:
- ``import sentence_transformers, chromadb, gradio`` (the libraries the app cannot do without);
- the embedding model alone (load all-MiniLM-L6-v2 from the same folder, encode one sentence).
"""

from __future__ import annotations

import time

from .common import PYTHON, REPO, Ctx, Row, app_process, child_env, free_port, kib_to_mib, median, pct, proc_status, run_process

SECTION = "memory"
REPORT = "import sys; print([l for l in open('/proc/self/status') if l.startswith('VmHWM')][0].split(':')[1].strip())"
IMPORTS = "import sentence_transformers, chromadb, gradio\n" + REPORT
MODEL_ALONE = (
    "import sys\n"
    "from sentence_transformers import SentenceTransformer\n"
    "SentenceTransformer(sys.argv[1], device='cpu').encode(['one sentence to embed'])\n" + REPORT
)


def peak_of(ctx: Ctx, code: str, *args: str) -> list[float]:
    env = child_env()
    cmd = [PYTHON, "-c", code, *args]
    run_process(cmd, env, REPO)  # warm-up, as for the app
    return [kib_to_mib(run_process(cmd, env, REPO)[1].stdout.strip()) for _ in range(ctx.runs)]


def run(ctx: Ctx) -> list[Row]:
    from gradio_client import Client

    from assistant.search.embeddings import resolve_model

    questions = ctx.questions()
    data = ctx.store_copy("memory-app")
    env = child_env(knowledge_dir=str(ctx.knowledge), data_dir=str(data), port=str(free_port()), host="127.0.0.1")
    latencies = []
    with app_process([PYTHON, str(REPO / "app.py")], env, ctx.tmp / "memory-app.log") as app:
        client = Client(app.url, verbose=False)
        after_start = kib_to_mib(proc_status(app.proc.pid)["VmHWM"])
        for q in questions:
            started = time.perf_counter()
            client.predict(q, 5, None, api_name="/ask")
            latencies.append((time.perf_counter() - started) * 1000)
        status = proc_status(app.proc.pid)
    hwm, rss = kib_to_mib(status["VmHWM"]), kib_to_mib(status["VmRSS"])
    ctx.log(f"memory: app VmHWM {hwm:.0f} MiB after {len(questions)} questions (at start {after_start:.0f} MiB)")
    imports = median(peak_of(ctx, IMPORTS))
    model = median(peak_of(ctx, MODEL_ALONE, resolve_model(ctx.settings(ctx.tmp / "unused").embedding_model)))
    note = (f"after {len(questions)} golden questions via /ask (k=5); VmHWM after start {after_start:.0f} MiB, "
            f"VmRSS at end {rss:.0f} MiB; API latency p50 {pct(latencies, 50):.0f} ms, p95 {pct(latencies, 95):.0f} ms "
            "(first time each question)")
    details = {"vmhwm_after_start_mib": after_start, "vmrss_end_mib": rss, "api_p50_ms": pct(latencies, 50),
               "api_p95_ms": pct(latencies, 95), "questions": len(questions)}
    return [
        Row(SECTION, "app peak RSS (VmHWM)", hwm, "MiB", imports, "import sentence_transformers, chromadb, gradio",
            note=note, details=details),
        Row(SECTION, "app peak RSS vs the model alone", hwm, "MiB", model, "all-MiniLM-L6-v2 loaded + 1 encode",
            note=f"baselines: median of {ctx.runs} process(es) each after 1 untimed"),
    ]
