"""Every state store on both engines: SQLite files and a real PostgreSQL server (started here).

The same behaviour tests run against each engine; the migration tests upgrade files written by
release 0.1.0 (``fixtures/stores_0_1_0``, made by its own code) and a PostgreSQL audit trail set up
as that release did, and check that every row is still there and still readable.
"""

from __future__ import annotations

import shutil
import sqlite3
import threading
import uuid
from pathlib import Path

import pytest
from sqlalchemy import inspect, text

from assistant.config import Settings
from assistant.database import migrate
from assistant.database.engine import Database, DatabaseUnavailable
from assistant.database.tables import TABLES
from assistant.governance.audit import AuditRecord, AuditStore, AuditUnavailable, ChunkRef
from assistant.governance.feedback import FeedbackIn, FeedbackStore
from assistant.governance.reviews import ReviewError, ReviewStore
from assistant.clients.plans import Plan
from assistant.errors import InputError
from assistant.training.progress import Attempt, ProgressStore, ReportRequest

from .pgserver import pg_bin, running_postgres

FIXTURES = Path(__file__).parent / "fixtures" / "stores_0_1_0"
NO_PG = pg_bin() is None


@pytest.fixture(scope="module")
def pg_server():
    if NO_PG:
        pytest.skip("PostgreSQL is not installed (scripts/install.sh --browser)")
    with running_postgres() as url:
        yield url


def fresh_pg_database(server_url: str) -> str:
    import psycopg

    name = "t_" + uuid.uuid4().hex[:12]
    with psycopg.connect(server_url, autocommit=True) as conn:
        conn.execute(f"create database {name}")
    return server_url.rsplit("/", 1)[0] + "/" + name


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.slow)])
def db(request, tmp_path) -> Database:
    if request.param == "sqlite":
        return Database.at(tmp_path / "state.sqlite3")
    return Database(fresh_pg_database(request.getfixturevalue("pg_server")))


def a_plan() -> Plan:
    """The plan release 0.1.0 stored in its review fixture: a real drafted plan."""
    with sqlite3.connect(FIXTURES / "reviews.sqlite3") as conn:
        return Plan.model_validate_json(conn.execute("select plan from plans order by created_at limit 1").fetchone()[0])


def record(i: int, status: str = "completed") -> AuditRecord:
    return AuditRecord(kind="answer", status=status, inputs={"q": i}, settings={}, knowledge_version="v",
                       composer="extractive", chunks=[ChunkRef(chunk_id="c", doc_id="d", content_hash="h")],
                       output_hash="x", output_summary=f"s{i}")


# ------------------------------------------------------------------------------ behaviour, both engines


def test_feedback_keeps_votes_in_order_with_their_citations(db):
    store = FeedbackStore(db)
    first = store.add(FeedbackIn(rating=1, question="What is RAROC?", answer="a", user="li.wei",
                                 citations=[{"chunk_id": "x#0", "doc_id": "x"}]))
    second = store.add(FeedbackIn(rating=-1, question="包商银行的教训？", answer="答", comment="太短"))
    assert second > first and store.count() == 2
    rows = store.list(limit=10)
    assert [r.question for r in rows] == ["包商银行的教训？", "What is RAROC?"]
    assert rows[1].citations == [{"chunk_id": "x#0", "doc_id": "x"}] and rows[1].user == "li.wei"
    assert rows[0].comment == "太短" and rows[0].created_at


def test_progress_finds_a_trainee_whatever_the_case_and_shows_the_first_spelling(db):
    store = ProgressStore(db)
    store.record("Li.Wei", [Attempt(question_id="q1", topic="crm", correct=True),
                            Attempt(question_id="q2", topic="crm", correct=False)])
    store.record("li.wei", [Attempt(question_id="q3", topic="crm", correct=True)])
    store.record("Bo", [Attempt(question_id="q1", topic="crm", correct=False)])
    assert store.count() == 4 and store.count("LI.WEI") == 3
    assert store.trainees() == ["Bo", "Li.Wei"]
    mine = store.report(ReportRequest(trainee="li.WEI", min_attempts=1))
    assert mine.trainee == "Li.Wei" and (mine.attempts, mine.correct) == (3, 2)
    cohort = store.report()
    assert [(t.trainee, t.attempts) for t in cohort.trainees] == [("Bo", 1), ("Li.Wei", 3)]
    with pytest.raises(InputError, match="no results recorded for trainee 'nobody'; trainees with results: Bo, Li.Wei"):
        store.report(ReportRequest(trainee="nobody"))


def test_progress_batch_is_all_or_nothing(db):
    store = ProgressStore(db)
    with pytest.raises(DatabaseUnavailable):
        store.record("ana", [Attempt(question_id="q1", topic="crm", correct=True),
                             Attempt.model_construct(question_id=None, topic="crm", kind="", correct=True, quiz_id="")])
    assert store.count() == 0


def test_review_state_machine_and_four_eyes(db):
    store = ReviewStore(db)
    stored = store.create(a_plan(), "rm1", "relationship-manager")
    store.transition(stored.plan_id, "submit", "rm1", "relationship-manager")
    with pytest.raises(ReviewError, match="you submitted plan .* four eyes"):
        store.transition(stored.plan_id, "approve", "rm1", "manager")
    returned = store.transition(stored.plan_id, "return", "boss", "manager", "请补充外汇避险需求。")
    store.edit(stored.plan_id, returned.plan, "rm1", "relationship-manager")
    store.transition(stored.plan_id, "submit", "rm1", "relationship-manager")
    approved = store.transition(stored.plan_id, "approve", "boss", "manager")
    assert approved.status == "approved" and approved.plan.approved_by == "boss"
    assert [e.action for e in approved.events] == ["create", "submit", "return", "edit", "submit", "approve"]
    assert approved.events[2].comment == "请补充外汇避险需求。"
    with pytest.raises(ReviewError, match="only draft or returned"):
        store.edit(stored.plan_id, approved.plan, "rm1", "relationship-manager")
    assert store.get(stored.plan_id).status == "approved"   # the refused edit changed nothing
    assert [p.plan_id for p in store.list("approved")] == [stored.plan_id]
    with pytest.raises(ReviewError, match="no plan with id 'nope'"):
        store.transition("nope", "submit", "rm1", "relationship-manager")


def test_only_one_of_ten_racing_reviewers_wins(db):
    store = ReviewStore(db)
    stored = store.create(a_plan(), "rm", "relationship-manager")
    store.transition(stored.plan_id, "submit", "rm", "relationship-manager")
    outcomes: list[str] = []

    def act(action: str, who: str) -> None:
        try:
            ReviewStore(db).transition(stored.plan_id, action, who, "manager", "please revise")
            outcomes.append(action)
        except ReviewError:
            outcomes.append("refused")

    threads = [threading.Thread(target=act, args=(a, f"m{i}")) for i, a in enumerate(["approve", "return"] * 5)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert outcomes.count("refused") == 9
    assert len(store.get(stored.plan_id).events) == 3


def test_audit_trail_is_append_only(db):
    store = AuditStore(db)
    audit_id = store.add(record(0, "started"))
    store.complete(store.get(audit_id).model_copy(update={"status": "completed", "output_summary": "done"}))
    assert store.get(audit_id).status == "completed" and store.get(audit_id).output_summary == "done"
    for statement in ("update audit set record = 'x'", "delete from audit", "update audit_completion set record = 'x'",
                      "delete from audit_completion"):
        with pytest.raises(DatabaseUnavailable, match="append-only"):
            with db.write() as conn:
                conn.execute(text(statement))
    if db.dialect == "postgresql":   # TRUNCATE bypasses row triggers; a statement trigger refuses it
        with pytest.raises(DatabaseUnavailable, match="append-only"):
            with db.write() as conn:
                conn.execute(text("truncate audit_completion"))
    with pytest.raises(AuditUnavailable):   # a second completion is refused
        store.complete(store.get(audit_id))
    with pytest.raises(AuditUnavailable, match="no started audit record 'ghost'"):
        store.complete(record(1).model_copy(update={"id": "ghost"}))
    assert store.count() == 1 and [r.id for r in store.recent(5)] == [audit_id]


def test_twenty_threads_opening_and_writing_at_once_lose_nothing(db):
    def work(n: int) -> None:
        audit, votes = AuditStore(db), FeedbackStore(db)   # every "process" opens its stores (and checks the schema)
        for i in range(5):
            audit.add(record(n * 100 + i))
            votes.add(FeedbackIn(rating=1, question=f"q{n}", answer="a", comment=f"{n}-{i}"))

    threads = [threading.Thread(target=work, args=(n,)) for n in range(20)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert AuditStore(db).count() == 100
    assert sorted(r.comment for r in FeedbackStore(db).list(200)) == sorted(f"{n}-{i}" for n in range(20) for i in range(5))


def test_tables_used_by_the_queries_match_the_migrated_schema(db):
    for store in migrate.STORES:
        migrate.ensure(db, store)
    with db.read() as conn:
        found = inspect(conn)
        for store, tables in TABLES.items():
            for table in tables:
                columns = {c["name"]: c for c in found.get_columns(table.name)}
                assert list(columns) == [c.name for c in table.columns], (store, table.name)
                for column in table.columns:
                    if column.primary_key:   # SQLite reports its rowid key as nullable
                        continue
                    assert columns[column.name]["nullable"] == column.nullable, (table.name, column.name)


def test_every_store_reports_its_schema_version(db):
    for store in migrate.STORES:
        assert migrate.version(db, store).version is None
        done = migrate.upgrade(db, store)
        assert done.changed and done.version == migrate.HEADS[store] and done.upgraded_from is None
        again = migrate.upgrade(db, store)
        assert not again.changed and again.version == migrate.HEADS[store]


# ------------------------------------------------------------------------------------------- migrations


def test_heads_named_in_code_are_the_newest_migrations():
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    for store in migrate.STORES:
        config = Config()
        config.set_main_option("script_location", str(migrate.MIGRATIONS / store))
        assert ScriptDirectory.from_config(config).get_heads() == [migrate.HEADS[store]], store


def test_upgrade_of_release_0_1_0_files_keeps_every_row(tmp_path):
    """Files the previous release wrote (made by its own code, see fixtures/stores_0_1_0/make.py)."""
    data = tmp_path / "data"
    data.mkdir()
    for store in migrate.STORES:
        shutil.copy(FIXTURES / f"{store}.sqlite3", data / f"{store}.sqlite3")
    before = {store: _rows(data / f"{store}.sqlite3") for store in migrate.STORES}
    settings = Settings(_env_file=None, data_dir=data)
    assert all(v.version is None for v in migrate.status_all(settings))
    done = migrate.upgrade_all(settings)
    assert [(v.store, v.upgraded_from, v.version) for v in done] == [(s, None, migrate.HEADS[s]) for s in migrate.STORES]
    for store in migrate.STORES:
        after = _rows(data / f"{store}.sqlite3")
        for table, rows in before[store].items():
            assert after[table] == rows, (store, table)

    from assistant.governance.audit import audit_store
    from assistant.governance.feedback import feedback_store
    from assistant.governance.reviews import review_store
    from assistant.training.progress import progress_store

    votes = feedback_store(settings)
    assert votes.count() == 3 and votes.list(1)[0].question == "How are SMEs sized?"
    assert votes.list(3)[1].comment == "太短"
    assert progress_store(settings).report(ReportRequest(trainee="LI.WEI", min_attempts=1)).attempts == 4
    assert progress_store(settings).trainees() == ["Li.Wei", "张敏"]
    plans = review_store(settings).list()
    assert sorted(p.status for p in plans) == ["approved", "draft"]
    approved = next(p for p in plans if p.status == "approved")
    assert approved.plan.approved_by == "boss" and approved.events[2].comment == "请补充外汇避险需求。"
    trail = audit_store(settings)
    assert [trail.get(f"legacy{i:010d}").status for i in range(3)] == ["completed", "interrupted", "started"]
    trail.add(record(9))   # the adopted trail takes new rows and still refuses changes
    with sqlite3.connect(data / "audit.sqlite3") as conn, pytest.raises(sqlite3.IntegrityError, match="append-only"):
        conn.execute("delete from audit")
    assert progress_store(settings).record("new", [Attempt(question_id="q", topic="t", correct=True)]) == 1


def _rows(path: Path) -> dict[str, list[tuple]]:
    with sqlite3.connect(path) as conn:
        tables = [r[0] for r in conn.execute("select name from sqlite_master where type = 'table' "
                                             "and name not like 'sqlite_%' and name not like '%_schema_version'")]
        return {t: conn.execute(f"select * from {t} order by 1").fetchall() for t in tables}


RELEASE_0_1_0_PG_AUDIT = [   # how release 0.1.0 set up the trail in PostgreSQL (ADVISOR_AUDIT_URL)
    """create table if not exists audit (
        seq bigserial primary key, id text unique not null, created_at text not null, kind text not null,
        "user" text, record text not null)""",
    """create or replace function audit_append_only() returns trigger language plpgsql as $$
       begin raise exception 'the audit trail is append-only'; end $$""",
    """create trigger audit_no_change before update or delete on audit
       for each row execute function audit_append_only()""",
    """create table if not exists audit_completion (
        seq bigserial primary key, id text unique not null, completed_at text not null, status text not null,
        record text not null)""",
    """create trigger audit_completion_no_change before update or delete on audit_completion
       for each row execute function audit_append_only()""",
]


@pytest.mark.slow
def test_upgrade_of_a_release_0_1_0_postgres_trail_keeps_every_record(pg_server):
    import psycopg

    url = fresh_pg_database(pg_server)
    with psycopg.connect(url) as conn:
        for statement in RELEASE_0_1_0_PG_AUDIT:
            conn.execute(statement)
        for i in range(3):
            r = record(i, "started").model_copy(update={"id": f"old{i}"})
            conn.execute('insert into audit (id, created_at, kind, "user", record) values (%s, %s, %s, %s, %s)',
                         (r.id, r.created_at, r.kind, r.user, r.model_dump_json()))
    settings = Settings(_env_file=None, data_dir=Path("/nonexistent"), audit_url=url)
    assert migrate.version(Database(url), "audit").version is None
    trail = AuditStore(settings.store_url("audit"))
    assert trail.count() == 3 and trail.get("old1").inputs == {"q": 1}
    trail.complete(trail.get("old1").model_copy(update={"status": "completed"}))
    assert trail.get("old1").status == "completed"
    with psycopg.connect(url) as conn, pytest.raises(psycopg.errors.RaiseException, match="append-only"):
        conn.execute("delete from audit")
    assert migrate.version(Database(url), "audit").version == migrate.HEADS["audit"]


@pytest.mark.slow
def test_one_database_url_holds_every_store(pg_server, tmp_path):
    url = fresh_pg_database(pg_server)
    settings = Settings(_env_file=None, data_dir=tmp_path / "data", database_url=url)
    assert {settings.store_url(s) for s in migrate.STORES} == {url}
    done = migrate.ensure_all(settings)
    assert all(v.version == migrate.HEADS[v.store] for v in done)
    assert "postgresql" in done[0].database and "password" not in done[0].database
    assert not (tmp_path / "data").exists() or not list((tmp_path / "data").glob("*.sqlite3"))


def test_two_names_for_two_databases_are_refused(tmp_path):
    with pytest.raises(ValueError, match="unset ADVISOR_AUDIT_URL"):
        Settings(_env_file=None, data_dir=tmp_path, database_url="postgresql://a@h/one", audit_url="postgresql://a@h/two")


def test_a_database_the_stores_cannot_use_is_named_in_the_error(tmp_path):
    with pytest.raises(DatabaseUnavailable, match="names mysql; the stores' migrations are written for sqlite and postgresql"):
        FeedbackStore("mysql://u:secret@h/db")
    with pytest.raises(DatabaseUnavailable, match="127.0.0.1:1") as caught:
        FeedbackStore("postgresql://u:secret@127.0.0.1:1/db")
    assert "secret" not in str(caught.value)
    blocked = tmp_path / "a-file"
    blocked.write_text("not a folder")
    with pytest.raises(DatabaseUnavailable, match="cannot make the folder"):
        ProgressStore(blocked / "progress.sqlite3")
