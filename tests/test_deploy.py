"""The loopback deployment (deploy/loopback.sh): PostgreSQL, a Chroma server, two app processes, nginx.

The script starts everything on 127.0.0.1 over a small corpus; questions go through the proxy with
gradio_client, one client per "user". Which app process answered is read from the proxy's
``X-Advisor-Upstream`` header for the client's sticky cookie and from nginx's access log. Then one app
process is killed with SIGKILL while a burst of questions is in flight: every answer any client got must
be in the PostgreSQL audit trail, every interrupted question must be answered on a retry through the
proxy (by the other process), and the other process must keep answering throughout. The tests in this
module share one deployment and run in order; the last one stops it.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
import pytest

from assistant.governance.audit import AuditStore

from .conftest import ROOT, make_knowledge
from .pgserver import pg_bin

NGINX = shutil.which("nginx") or ("/usr/sbin/nginx" if Path("/usr/sbin/nginx").exists() else None)
pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(pg_bin() is None, reason="PostgreSQL is not installed (scripts/install.sh --browser)"),
    pytest.mark.skipif(NGINX is None, reason="nginx is not installed (deploy/loopback.sh start installs it as root)"),
]

SCRIPT = ROOT / "deploy" / "loopback.sh"
DOCS = ["coverage-team-models", "client-profitability-raroc-eva"]
TOPICS = ["RAROC", "economic capital", "EVA", "client profitability", "coverage teams", "one client, one policy",
          "relationship managers", "product specialists", "risk-adjusted pricing", "cost allocation",
          "the head office team", "branch coverage"]


def script(base: Path, *args: str, timeout: float = 600) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHON": sys.executable}
    env = {k: v for k, v in env.items() if not k.startswith("ADVISOR_")}
    return subprocess.run(["bash", str(SCRIPT), *args, "--base", str(base)], env=env, cwd=ROOT, text=True,
                          capture_output=True, timeout=timeout)


def read_env(base: Path) -> dict[str, str]:
    pairs = (line.split("=", 1) for line in (base / "deploy.env").read_text().splitlines() if "=" in line)
    return {k: v.strip('"') for k, v in pairs}


class Deployment:
    def __init__(self, base: Path) -> None:
        self.base = base
        self.env = read_env(base)
        self.url = self.env["PROXY_URL"]
        self.ports = self.env["APP_PORTS"].split()
        self.audit = AuditStore(self.env["DATABASE_URL"])

    def pid(self, name: str) -> int:
        return int((self.base / "run" / f"{name}.pid").read_text())

    def app_of_port(self, port: str) -> str:
        return f"app-{self.ports.index(port) + 1}"

    def upstream(self, client) -> str:
        """The app port the proxy routes this client's sticky cookie to (its X-Advisor-Upstream header)."""
        reply = httpx.get(self.url + "gradio_api/info", cookies=client.cookies, timeout=30)
        return reply.headers["x-advisor-upstream"].rsplit(":", 1)[1]

    def access_log(self) -> str:
        return (self.base / "logs" / "nginx-access.log").read_text()


@pytest.fixture(scope="module")
def deployment():
    base = Path(tempfile.mkdtemp(prefix="advisor-deploy-test-"))
    base.chmod(0o755)  # the postgres user must be able to enter it
    knowledge = make_knowledge(base / "knowledge", DOCS)
    started = script(base, "start", "--knowledge", str(knowledge), "--proxy-port", "0")
    if started.returncode != 0:
        logs = "\n".join(f"--- {p.name}\n{p.read_text()[-1500:]}" for p in sorted((base / "logs").glob("*.log")))
        shutil.rmtree(base, ignore_errors=True)
        pytest.fail(f"deploy/loopback.sh start failed ({started.returncode}):\n{started.stdout}\n{started.stderr}\n{logs}")
    try:
        yield Deployment(base)
    finally:
        if (base / "deploy.env").exists():
            script(base, "stop", "--clean")
        shutil.rmtree(base, ignore_errors=True)


def gone(pid: int) -> bool:
    """No such process, or a zombie waiting to be reaped (it holds no port and runs no code)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, ProcessLookupError):
        return True
    return state in ("Z", "X")


def clients_on_every_app(dep: Deployment, most: int = 24) -> dict[str, object]:
    """One gradio_client per app process: new clients get a random sticky cookie until both are hit."""
    from gradio_client import Client

    by_port: dict[str, object] = {}
    for _ in range(most):
        client = Client(dep.url, verbose=False)
        by_port.setdefault(dep.upstream(client), client)
        if len(by_port) == len(dep.ports):
            return by_port
    raise AssertionError(f"{most} clients all landed on {sorted(by_port)}; the proxy does not spread clients")


def assert_audited(dep: Deployment, answers: list[dict]) -> None:
    for answer in answers:
        record = dep.audit.get(answer["audit_id"])  # raises if the answer is not in the trail
        assert record.kind == "answer" and record.inputs["question"] == answer["question"]


def test_both_app_processes_answer_through_the_proxy_and_every_answer_is_audited(deployment):
    dep = deployment
    assert dep.url.startswith("http://127.0.0.1:") and len(dep.ports) == 2
    by_port = clients_on_every_app(dep)
    answers = []
    for port, client in by_port.items():
        for topic in TOPICS[:3]:
            answer = client.predict(f"What does the knowledge base say about {topic}?", 3, None, api_name="/ask")
            assert answer["citations"] and answer["audit_id"]
            answers.append(answer)
        assert dep.upstream(client) == port  # sticky: the client stayed on its process
    from gradio_client import Client

    programs = Client(dep.url + "api/", verbose=False)   # the API-only address, through the same proxy
    answers.append(programs.predict(f"What does the knowledge base say about {TOPICS[0]}?", 3, None, api_name="/ask"))
    joins = [line for line in dep.access_log().splitlines() if "POST /gradio_api/queue/join" in line]
    for port in dep.ports:  # nginx's own record of who answered
        assert any(f"upstream=127.0.0.1:{port} " in line for line in joins), f"no question reached app port {port}"
    assert len({a["audit_id"] for a in answers}) == len(answers)
    assert_audited(dep, answers)
    from assistant.database import migrate
    from assistant.database.engine import Database

    shared = Database(dep.env["DATABASE_URL"])   # both processes set up every store in the one server database
    assert [migrate.version(shared, s).version for s in migrate.STORES] == [migrate.HEADS[s] for s in migrate.STORES]


def test_killing_one_app_mid_request_loses_nothing_and_the_other_keeps_answering(deployment):
    dep = deployment
    by_port = clients_on_every_app(dep)
    victim_port, survivor_port = dep.ports[0], dep.ports[1]
    victim, survivor = by_port[victim_port], by_port[survivor_port]
    # Every burst question is one the two-document base answers (checked by asserting citations on the
    # answered ones too), so which of them the kill interrupts cannot decide the test. A phrasing like
    # "How do product specialists matter for a city commercial bank?" sits within 0.01-0.09 of an
    # out-of-scope example in this small base and is declined (the full base answers it).
    questions = [f"What should a branch know about {topic}?" for topic in TOPICS]
    burst = [victim.submit(q, 3, None, api_name="/ask") for q in questions]
    steady = [survivor.submit(f"Explain {topic} briefly.", 3, None, api_name="/ask") for topic in TOPICS[:6]]
    while not any(job.done() for job in burst):
        time.sleep(0.01)
    os.kill(dep.pid(dep.app_of_port(victim_port)), signal.SIGKILL)  # mid-burst: others are queued or running

    answered, interrupted = [], []
    for question, job in zip(questions, burst):
        try:
            answered.append(job.result(timeout=120))
        except Exception:  # the connection died with the process (gradio_client reports it as cancelled)
            interrupted.append(question)
    assert answered, "no answer came back before the kill"
    assert all(a["citations"] for a in answered), [a["question"] for a in answered if not a["citations"]]
    assert interrupted, "the kill landed after the whole burst was answered: not mid-request"
    kept = [job.result(timeout=120) for job in steady]  # the survivor's own users never noticed

    assert gone(dep.pid(dep.app_of_port(victim_port)))
    assert dep.upstream(victim) == survivor_port  # the proxy moved the victim's users over
    retried = [victim.predict(q, 3, None, api_name="/ask") for q in interrupted]
    assert [a["question"] for a in retried] == interrupted and all(a["citations"] for a in retried)
    after = [survivor.predict("What is RAROC?", 3, None, api_name="/ask")]

    delivered = answered + kept + retried + after
    assert len({a["audit_id"] for a in delivered}) == len(delivered)
    assert_audited(dep, delivered)
    every_question = {a["question"] for a in answered + retried}
    assert every_question == set(questions)  # each question of the burst got exactly the answer it asked for


def test_stop_ends_every_process(deployment):
    dep = deployment
    pids = [dep.pid(name) for name in ("nginx", "chroma", dep.app_of_port(dep.ports[1]))]
    stopped = script(dep.base, "stop")
    assert stopped.returncode == 0, stopped.stderr
    assert all(gone(pid) for pid in pids)
    assert not (dep.base / "postgres" / "data" / "postmaster.pid").exists()
    assert not list((dep.base / "run").glob("*.pid"))
