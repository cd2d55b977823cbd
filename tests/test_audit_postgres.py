"""The audit trail in a server database (PostgreSQL), for app processes on several machines."""

import threading

import psycopg
import pytest

from assistant.answers.advisor import Advisor, AskRequest
from assistant.governance.audit import AuditRecord, AuditUnavailable, ChunkRef, AuditStore
from assistant.governance.service import Governance
from assistant.clients.profiles import load_profiles

from .conftest import KNOWLEDGE, make_knowledge
from .pgserver import pg_bin, running_postgres

pytestmark = pytest.mark.skipif(pg_bin() is None, reason="PostgreSQL is not installed (scripts/install.sh --browser)")


@pytest.fixture(scope="module")
def pg_url():
    with running_postgres() as url:
        yield url


def record(i: int) -> AuditRecord:
    return AuditRecord(kind="answer", inputs={"q": i}, settings={}, knowledge_version="v", composer="extractive",
                       chunks=[ChunkRef(chunk_id="c", doc_id="d", content_hash="h")], output_hash="x", output_summary="s")


def test_answers_and_plans_are_audited_in_postgres_and_replay(pg_url, make_settings, tmp_path):
    settings = make_settings(knowledge_dir=make_knowledge(tmp_path / "kb", ["coverage-team-models", "retail-tier-scheme"]),
                             audit_url=pg_url)
    governance = Governance(Advisor(settings))
    governance.advisor.ingest()
    assert isinstance(governance.audit, AuditStore)
    answer = governance.ask(AskRequest(question="What does one client, one policy mean?"), user="li")
    plan = governance.plan(load_profiles(KNOWLEDGE / "profiles" / "p10-affluent-family.json")[0], user="rm")
    assert governance.show(answer.audit_id).user == "li"
    assert governance.show(plan.audit_id).inputs["profile"]["name"].startswith("[masked]")
    assert governance.replay(answer.audit_id).same and governance.replay(plan.audit_id).same
    with psycopg.connect(pg_url) as conn:
        started = conn.execute("select record from audit where id = %s", (answer.audit_id,)).fetchone()[0]
        completed = conn.execute("select status from audit_completion where id = %s", (answer.audit_id,)).fetchone()[0]
    assert '"status":"started"' in started and completed == "completed"
    assert governance.show(answer.audit_id).status == "completed"
    stream = governance.ask_stream(AskRequest(question="What does one client, one policy mean?"), user="li")
    next(stream)
    pending = governance.audit.recent(1)[0]
    assert pending.status == "started"
    stream.close()
    assert governance.show(pending.id).status == "interrupted"
    assert not settings.audit_path.exists()  # nothing went to SQLite


def test_postgres_trail_is_append_only(pg_url):
    store = AuditStore(pg_url)
    audit_id = store.add(record(0).model_copy(update={"status": "started"}))
    store.complete(store.get(audit_id).model_copy(update={"status": "completed"}))
    for table in ("audit", "audit_completion"):
        with psycopg.connect(pg_url) as conn:
            with pytest.raises(psycopg.errors.RaiseException, match="append-only"):
                conn.execute(f"update {table} set record = 'x' where id = %s", (audit_id,))
        with psycopg.connect(pg_url) as conn:
            with pytest.raises(psycopg.errors.RaiseException, match="append-only"):
                conn.execute(f"delete from {table}")
    assert store.get(audit_id).kind == "answer" and store.get(audit_id).status == "completed"
    with pytest.raises(AuditUnavailable):  # a second completion is refused too
        store.complete(store.get(audit_id))


def test_concurrent_writers_and_starters_lose_nothing(pg_url):
    before = AuditStore(pg_url).count()

    def work(n: int) -> None:
        store = AuditStore(pg_url)  # every "process" runs the schema set-up at start
        for i in range(10):
            store.add(record(n * 100 + i))

    threads = [threading.Thread(target=work, args=(n,)) for n in range(20)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert AuditStore(pg_url).count() == before + 200


def test_unreachable_database_is_a_clear_error():
    with pytest.raises(AuditUnavailable, match="cannot open the audit trail .*127.0.0.1:1"):
        AuditStore("postgresql://nobody@127.0.0.1:1/none")
