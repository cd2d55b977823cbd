"""Scale past one process: the advisor against a real Chroma server on loopback.

`chroma run` (the CLI the chromadb wheel ships) serves a temporary folder on a free port. Ingest, ask and
plan go through ``Settings(chroma_host=..., chroma_port=...)`` and the CLI through ``ADVISOR_CHROMA_HOST``;
two advisors with separate data folders stand for two app processes (or machines) sharing the server.
The last test stops the server mid-session and starts it again on the same port and folder.
The tests in this module share one server and run in order.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from assistant.answers.advisor import Advisor, AskRequest
from assistant.config import Settings
from assistant.search.ingest import Ingestor, IngestRequest
from assistant.clients.plans import PlanDrafter
from assistant.clients.profiles import load_profiles
from assistant.search.store import StoreUnavailable

from .appserver import free_port
from .conftest import KNOWLEDGE, ROOT, assert_consistent, make_knowledge

CHROMA = Path(sys.executable).with_name("chroma")
DOCS = ["coverage-team-models", "client-profitability-raroc-eva"]
RAROC = "How is RAROC calculated?"
PROFILE = KNOWLEDGE / "profiles" / "p06-listed-private-group.json"


class ChromaServer:
    """``chroma run`` in a subprocess; stop() and start() again keep the port and the folder."""

    def __init__(self, path: Path, port: int, log: Path) -> None:
        self.path, self.port, self.log = path, port, log
        self.proc: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 60) -> None:
        with open(self.log, "a") as log:
            self.proc = subprocess.Popen([str(CHROMA), "run", "--path", str(self.path), "--host", "127.0.0.1",
                                          "--port", str(self.port)], stdout=log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + timeout
        while True:
            if self.proc.poll() is not None:
                raise RuntimeError(f"chroma run exited with {self.proc.returncode}: {self.log.read_text()[-2000:]}")
            try:
                with urllib.request.urlopen(self.url + "/api/v2/heartbeat", timeout=2) as reply:
                    if reply.status == 200:
                        return
            except OSError:
                pass
            if time.monotonic() > deadline:
                raise TimeoutError(f"chroma run did not answer in {timeout} s")
            time.sleep(0.2)

    def stop(self) -> None:
        if self.proc is None:
            return
        self.proc.terminate()
        try:
            self.proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(timeout=20)
        self.proc = None


def server_settings(server: ChromaServer, knowledge: Path, data: Path, **overrides) -> Settings:
    return Settings(_env_file=None, knowledge_dir=knowledge, data_dir=data, chroma_host="127.0.0.1",
                    chroma_port=server.port, **overrides)


def cli(server: ChromaServer, knowledge: Path, data: Path, *args: str) -> subprocess.Popen:
    env = {**os.environ, "ADVISOR_CHROMA_HOST": "127.0.0.1", "ADVISOR_CHROMA_PORT": str(server.port),
           "ADVISOR_KNOWLEDGE_DIR": str(knowledge), "ADVISOR_DATA_DIR": str(data)}
    return subprocess.Popen([sys.executable, "-m", "assistant.interfaces.cli", *args], env=env, cwd=ROOT, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def finish(proc: subprocess.Popen, timeout: float = 300) -> tuple[int, str, str]:
    out, err = proc.communicate(timeout=timeout)
    return proc.returncode, out, err


@pytest.fixture(scope="module")
def base(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("server-mode")


@pytest.fixture(scope="module")
def server(base):
    srv = ChromaServer(base / "chroma-server", free_port(), base / "chroma.log")
    srv.start()
    yield srv
    srv.stop()


@pytest.fixture(scope="module")
def knowledge(base) -> Path:
    return make_knowledge(base / "knowledge", DOCS)


@pytest.fixture(scope="module")
def first(server, knowledge, base) -> Advisor:
    """App process one: ingests the shared knowledge folder into the server."""
    advisor = Advisor(server_settings(server, knowledge, base / "app-1"))
    report = advisor.ingest()
    assert report.added == len(DOCS) and not report.errors, report
    return advisor


def test_ingest_ask_and_plan_run_against_the_server(first, server, base):
    assert first.store.location == f"Chroma server {server.url}"
    assert not (base / "app-1" / "chroma").exists(), "server mode must not open an embedded store"
    assert any((base / "chroma-server").iterdir()), "the server keeps the data"
    assert_consistent(first)

    answer = first.ask(RAROC)
    assert answer.grounded and answer.citations[0].doc_id == "client-profitability-raroc-eva"

    plan = PlanDrafter(first).run(load_profiles(PROFILE)[0])
    assert len(plan.sections) == 9 and plan.cited_chunk_ids
    assert plan.knowledge_version == first.stats().knowledge_version
    assert set(first.store.get_chunks(plan.cited_chunk_ids)) == set(plan.cited_chunk_ids)


def test_two_app_processes_share_one_server(first, server, knowledge, base):
    second = Advisor(server_settings(server, knowledge, base / "app-2"))
    assert second.stats().model_dump(exclude={"last_ingest"}) == first.stats().model_dump(exclude={"last_ingest"})
    one, two = first.ask(RAROC), second.ask(RAROC)
    assert [c.chunk_id for c in one.citations] == [c.chunk_id for c in two.citations]

    again = second.ingest()  # the second process recognises every document: nothing is embedded twice
    assert (again.unchanged, again.added, again.embedded_chunks) == (len(DOCS), 0, 0)

    # A document the second process ingests is answered by the first at once (dense) and after the
    # keyword index notices the new store revision (one refresh period).
    note = knowledge / "docs" / "harbour-branch-pilot.md"
    note.write_text("---\nid: harbour-branch-pilot\ntitle: Harbour branch pilot\nsource: bank\ntopics: [branch-network]\n"
                    "audience: [manager]\nsegments: [all]\n---\n# Harbour branch pilot\n\nThe harbour branch pilot opens "
                    "a cross-border trade desk for dock logistics firms, staffed by two relationship managers.\n",
                    encoding="utf-8")
    try:
        added = second.ingest()
        assert (added.added, added.unchanged) == (1, len(DOCS))
        time.sleep(first.retriever.refresh_seconds + 0.1)
        seen = first.ask("What does the harbour branch pilot open for dock logistics firms?")
        assert seen.grounded and seen.citations[0].doc_id == "harbour-branch-pilot"
    finally:
        note.unlink()
    removed = first.ingest(IngestRequest(prune=True))  # the only bank document: all of a source needs prune
    assert removed.removed == 1
    assert second.stats().documents == len(DOCS)


def test_cli_reads_the_server_from_the_environment(first, server, knowledge, base):
    data = base / "cli"  # an empty data folder: everything the CLI needs is on the server
    stats = finish(cli(server, knowledge, data, "stats"))
    assert stats[0] == 0, stats[2]
    assert json.loads(stats[1])["location"] == f"Chroma server {server.url}"
    ask = cli(server, knowledge, data, "ask", RAROC, "--json")
    plan = cli(server, knowledge, data, "plan", str(PROFILE), "--format", "json")
    code, out, err = finish(ask)
    assert code == 0, err
    answer = json.loads(out.strip().splitlines()[-1])
    assert answer["grounded"] and answer["citations"][0]["doc_id"] == "client-profitability-raroc-eva"
    code, out, err = finish(plan)
    assert code == 0, err
    assert json.loads(out)["segment"] and "Traceback" not in err
    assert not (data / "chroma").exists()


def test_server_outage_is_a_clear_error_and_the_advisor_recovers(first, server, knowledge, base):
    """Runs last: stops the shared server mid-session, then brings it back on the same port and folder."""
    before = first.ask(RAROC)
    counts = assert_consistent(first)
    server.stop()
    try:
        with pytest.raises(StoreUnavailable) as lost:
            first.ask(RAROC)
        message = str(lost.value)
        assert server.url in message and "running" in message and "Traceback" not in message
        with pytest.raises(StoreUnavailable):
            first.ask(AskRequest(question="What is a coverage team?", mode="dense"))
        with pytest.raises(StoreUnavailable):
            first.stats()
        with pytest.raises(StoreUnavailable):
            first.ingest()
        with pytest.raises(StoreUnavailable):
            PlanDrafter(first).run(load_profiles(PROFILE)[0])
        down_ask = cli(server, knowledge, base / "cli-down", "ask", RAROC)
        down_stats = cli(server, knowledge, base / "cli-down", "stats")
        for code, out, err in (finish(down_ask), finish(down_stats)):
            assert code == 2, (out, err)
            assert err.strip().splitlines()[-1].startswith("error:") and server.url in err
            assert "Traceback" not in err + out
    finally:
        server.start()

    # Recovery without restarting the app: the same advisor answers again, and nothing was lost.
    after = first.ask(RAROC)
    assert [c.chunk_id for c in after.citations] == [c.chunk_id for c in before.citations]
    assert assert_consistent(first) == counts

    # The server also goes away in the middle of an ingest: the ingest fails clearly, and the next one,
    # once the server is back, completes the documents the first did not write.
    for i, topic in enumerate(("deposit campaign", "payroll onboarding")):
        (knowledge / "docs" / f"outage-note-{i}.md").write_text(
            f"---\nid: outage-note-{i}\ntitle: Outage note {i}\nsource: bank\ntopics: [operations]\naudience: [manager]\n"
            f"segments: [all]\n---\n# Outage note {i}\n\nThe {topic} runs in the second quarter and is reviewed monthly "
            "by the branch manager.\n", encoding="utf-8")

    def stop_after_first_document(done: int, total: int, doc_id: str) -> None:
        server.stop()

    try:
        with pytest.raises(StoreUnavailable):
            Ingestor(first.settings, first.store, first.embedder, group_chunks=1).run(progress=stop_after_first_document)
    finally:
        if server.proc is None:
            server.start()
    assert set(first.store.manifest()) == set(counts) | {"outage-note-0"}
    healed = first.ingest()
    # The server can go before its last write is kept: outage-note-0 may lack its multilingual vectors,
    # and this run completes them (an update of a document the store already held).
    assert (healed.added, healed.updated + healed.unchanged, healed.errors) == (1, len(counts) + 1, [])
    final = assert_consistent(first)
    assert {k: v for k, v in final.items() if k in counts} == counts
