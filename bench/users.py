"""Many users at once: 20 gradio_client users ask 5 questions each through the app's ``/ask``.

The app (``python app.py`` over a private copy of the store whose sentence vectors a previous process
filled, as after the background warm-up) is started once. Each user is a thread with its own
``gradio_client.Client`` (created before timing); all start together behind a barrier and ask their
five golden questions one after another. A request's latency is ``predict()`` call to return, as the
user waits. Value: p50/p95 over the 100 requests and the wall time of the whole load, for users
arriving (new clients), users in a conversation (the same clients again), users arriving with
questions the app has never seen, and stock gradio_client. Baselines, in the same run: the same load
against ``bench/echo_app.py`` (Gradio's own cost, no answer), programs arriving at the API-only address
``/api/`` against the same at the app page's address, and one user asking the same questions
alone (what one request costs without a queue). The clients share the two cores with the server, as
a load generator on the same machine does.
"""

from __future__ import annotations

import json
import os
import threading
import time

from .common import PYTHON, REPO, Ctx, Row, app_process, child_env, free_port, median, pct, run_process
from .restart import FILL

SECTION = "users"
USERS = 20
PER_USER = 5


def client_for(url: str, shared_tls: bool):
    """A gradio_client.Client; with ``shared_tls`` its requests reuse one TLS context. gradio_client opens
    two httpx connections per predict() and passes ``ssl_verify`` to each as ``verify``: with the default
    (True) every connection loads the certificate store again, about 60 ms of CPU, 120 ms per request on
    this machine. A context made once verifies the same way and costs nothing per request."""
    import ssl

    from gradio_client import Client

    return Client(url, verbose=False, **({"ssl_verify": ssl.create_default_context()} if shared_tls else {}))


def load(url: str, questions: list[str], users: int = USERS, per_user: int = PER_USER, shared_tls: bool = True,
         clients: list | None = None) -> dict:
    """Run the load against one server; returns every latency (ms), the wall time (s) and the failures.
    New clients (the default) are users arriving: Gradio builds each one's session state on its first
    request. Clients passed in that have asked before are users already in a conversation."""
    own = clients is None
    clients = clients if clients is not None else [client_for(url, shared_tls) for _ in range(users)]
    users = len(clients)
    barrier = threading.Barrier(users + 1)
    latencies: list[float] = []
    failures: list[str] = []
    lock = threading.Lock()

    def user(i: int) -> None:
        mine = [questions[(i * per_user + j) % len(questions)] for j in range(per_user)]
        barrier.wait()
        for q in mine:
            started = time.perf_counter()
            try:
                result = clients[i].predict(q, 5, None, api_name="/ask")
                ok = bool(result.get("answer"))
            except Exception as exc:  # a failure is counted, never hidden
                ok, result = False, repr(exc)
            elapsed = (time.perf_counter() - started) * 1000
            with lock:
                latencies.append(elapsed)
                if not ok:
                    failures.append(str(result)[:200])

    threads = [threading.Thread(target=user, args=(i,)) for i in range(users)]
    for t in threads:
        t.start()
    barrier.wait()
    started = time.perf_counter()
    for t in threads:
        t.join()
    wall = time.perf_counter() - started
    for c in clients if own else []:
        try:
            c.close()
        except Exception:
            pass
    return {"latencies": latencies, "wall_s": wall, "failures": failures}


def wait_for_warm_up(log_path, timeout: float = 900) -> float:
    """Wait until the app logs the end of its background warm-up (it reads the filled vectors back), so
    the load meets a warm app as users meet it a minute after a start; returns the seconds waited."""
    started = time.perf_counter()
    while "warm-up:" not in log_path.read_text(errors="replace"):
        if time.perf_counter() - started > timeout:
            raise TimeoutError(f"the app did not finish its warm-up in {timeout:.0f} s; log: {log_path}")
        time.sleep(1)
    return time.perf_counter() - started


def alone(url: str, questions: list[str], shared_tls: bool = True) -> list[float]:
    client = client_for(url, shared_tls)
    out = []
    for q in questions:
        started = time.perf_counter()
        client.predict(q, 5, None, api_name="/ask")
        out.append((time.perf_counter() - started) * 1000)
    return out


def run(ctx: Ctx) -> list[Row]:
    from assistant.evaluation.golden import load_golden

    asked = [q.question for q in ctx.golden()][:USERS * PER_USER]  # asked once untimed: their vectors are cached
    novel = [q.question for q in load_golden(ctx.knowledge / "eval" / "golden_v2.jsonl")][:USERS * PER_USER]
    data = ctx.store_copy("users-app")
    app = {"embedder": os.environ["BENCH_APP_EMBEDDER"]} if os.environ.get("BENCH_APP_EMBEDDER") else {}   # to pair backends
    env = child_env(knowledge_dir=str(ctx.knowledge), data_dir=str(data), port=str(free_port()), host="127.0.0.1", **app)
    seconds, _ = run_process([PYTHON, "-c", FILL], env, REPO, timeout=1800)
    ctx.log(f"users: sentence vectors filled in {seconds:.0f} s (untimed)")
    kinds = ("app", "api", "app-conversation", "echo", "app-stock", "echo-stock")
    runs: dict[str, list[dict]] = {k: [] for k in kinds}
    single: list[list[float]] = []
    with app_process([PYTHON, str(REPO / "app.py")], env, ctx.tmp / "users-app.log") as app:
        echo_env = dict(env, ADVISOR_PORT=str(free_port()))
        with app_process([PYTHON, str(REPO / "bench" / "echo_app.py")], echo_env, ctx.tmp / "users-echo.log") as echo:
            urls = {"app": app.url, "api": app.url + "api/", "echo": echo.url}
            waited = wait_for_warm_up(app.log_path)
            ctx.log(f"users: the app's background warm-up was over {waited:.0f} s after it served")
            fresh = load(app.url, novel)  # new users with questions the app has never seen: once, first
            ctx.log(f"users: new questions p95 {pct(fresh['latencies'], 95):.0f} ms")
            alone(app.url, asked)  # untimed: every question once
            load(echo.url, asked[:USERS], per_user=1)
            talking = [client_for(app.url, True) for _ in range(USERS)]
            load(app.url, asked[:USERS], per_user=1, clients=talking)  # their sessions exist from now on
            for i in range(ctx.runs):
                for kind in kinds if i % 2 == 0 else kinds[::-1]:
                    runs[kind].append(load(urls[kind.split("-")[0]], asked, shared_tls=not kind.endswith("stock"),
                                           clients=talking if kind == "app-conversation" else None))
                single.append(alone(app.url, asked[:USERS]))
                ctx.log(f"users: run {i + 1}/{ctx.runs}: p95 " + ", ".join(f"{k} {pct(runs[k][-1]['latencies'], 95):.0f} ms" for k in kinds)
                        + f"; one user alone p95 {pct(single[-1], 95):.0f} ms")

    def p(kind: str, q: float) -> float:
        return median([pct(r["latencies"], q) for r in runs[kind]])

    def wall(kind: str) -> float:
        return median([r["wall_s"] for r in runs[kind]])

    failures = sum(len(r["failures"]) for k in kinds for r in [*runs[k], fresh])
    note = (f"{USERS} users x {PER_USER} golden questions each, all at once, {ctx.runs} run(s), clients on the same 2 cores; "
            f"wall per load: app {wall('app'):.1f} s, echo {wall('echo'):.1f} s; failed requests {failures}; "
            f"one user alone p50 {median([pct(s, 50) for s in single]):.0f} ms")
    details = {k: [{"p50_ms": pct(r["latencies"], 50), "p95_ms": pct(r["latencies"], 95), "wall_s": r["wall_s"],
                    "failures": r["failures"][:5]} for r in rs] for k, rs in runs.items()}
    details["alone"] = [{"p50_ms": pct(s, 50), "p95_ms": pct(s, 95)} for s in single]
    details["new_questions"] = {"p50_ms": pct(fresh["latencies"], 50), "p95_ms": pct(fresh["latencies"], 95), "wall_s": fresh["wall_s"]}
    return [
        Row(SECTION, f"{USERS} users at once, /ask p50", p("app", 50), "ms",
            median([pct(s, 50) for s in single]), "one user alone, same app", note=note, details=details),
        Row(SECTION, f"{USERS} programs arriving at once, /api/ /ask p95", p("api", 95), "ms", p("echo", 95),
            "the same load on a Gradio app that only echoes", goal=("value", "<", 1000.0),
            note="gradio_client at the API-only address: each user's first request makes a session of a few components"),
        Row(SECTION, f"{USERS} users arriving at once, app page's /ask p95", p("app", 95), "ms", p("api", 95),
            "the same at /api/", note="programs connecting at the app's own address: each first request makes a "
            "session of the app's ~240 components (a browser pays that when the page loads, not on its first question)"),
        Row(SECTION, f"{USERS} users in a conversation, /ask p95", p("app-conversation", 95), "ms", p("echo", 95),
            "the echo app, users arriving", goal=("value", "<", 1000.0), note="the same users again: sessions exist"),
        Row(SECTION, f"{USERS} users arriving, new questions, /ask p95", pct(fresh["latencies"], 95), "ms", p("app", 95),
            "the same with questions asked before", note="golden v2's first 100 questions, once per run of the bench"),
        Row(SECTION, f"{USERS} users at once, /ask p95, stock gradio_client", p("app-stock", 95), "ms", p("echo-stock", 95),
            "the same on the echo app", note="gradio_client with ssl_verify=True: each request loads the certificate "
            "store twice (~120 ms of client CPU)"),
    ]


if __name__ == "__main__":  # a probe against a running server: python -m bench.users URL
    import sys

    from assistant.evaluation.golden import load_golden

    qs = [q.question for q in load_golden(REPO / "knowledge" / "eval" / "golden.jsonl")][:USERS * PER_USER]   # URL: the app's, or its /api/
    out = load(sys.argv[1], qs)
    lat = out["latencies"]
    print(json.dumps({"p50": pct(lat, 50), "p95": pct(lat, 95), "wall_s": out["wall_s"], "failures": len(out["failures"])}))
