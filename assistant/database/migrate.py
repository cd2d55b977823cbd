"""Bringing a store's schema to its newest version, once per process and under a lock.

Each store (feedback, progress, reviews, audit) has its own migration history in
``migrations/<store>/versions`` and its own version table, ``<store>_schema_version``, so the
stores can share one PostgreSQL database or keep one SQLite file each. Opening a store checks its
version with one query; only a store behind the newest version imports Alembic and upgrades, inside
one transaction that holds the write lock (SQLite) or an advisory lock (PostgreSQL), so app processes
starting together upgrade once and the others wait, then find it done.
"""

from __future__ import annotations

import threading
from pathlib import Path

from pydantic import BaseModel
from sqlalchemy import Connection, inspect, text

from assistant.database.engine import Database

MIGRATIONS = Path(__file__).parent / "migrations"
STORES = ("feedback", "progress", "reviews", "audit")
# The newest revision of each store; a test checks these against the migration scripts, so opening a
# store that is up to date never imports Alembic (about 0.3 s).
HEADS = {"feedback": "feedback_0001", "progress": "progress_0002", "reviews": "reviews_0001", "audit": "audit_0001"}
LOCK_KEY = 7741201   # pg_advisory_xact_lock key of every schema change (release 0.1.0's audit set-up used it too)
_lock = threading.Lock()


class StoreVersion(BaseModel):
    store: str
    database: str
    version: str | None
    newest: str
    upgraded_from: str | None = None
    changed: bool = False

    @property
    def line(self) -> str:
        if self.changed:
            state = f"upgraded {self.upgraded_from or '(new)'} -> {self.version}"
        elif self.version == self.newest:
            state = f"at {self.version}"
        else:
            state = f"{'at ' + self.version if self.version else 'not created yet'}: 'advisor db upgrade' brings it to {self.newest}"
        return f"{self.store:<9} {state}  ({self.database})"


def version_table(store: str) -> str:
    return f"{store}_schema_version"


def _version(conn: Connection, store: str) -> str | None:
    if not inspect(conn).has_table(version_table(store)):
        return None
    return conn.execute(text(f"select version_num from {version_table(store)}")).scalar()


def version(db: Database, store: str) -> StoreVersion:
    """Where a store stands; a SQLite file that does not exist yet is reported, not made."""
    _known(store)
    found = None
    if db.path is None or db.path.exists():
        with db.read() as conn:
            found = _version(conn, store)
    return StoreVersion(store=store, database=db.name, version=found, newest=HEADS[store])


def ensure(db: Database, store: str) -> None:
    """Upgrade the store if it is behind. One read each time a store is opened, never cached: a file
    deleted and made again can come back under the same inode, and must be set up again."""
    if version(db, store).version != HEADS[store]:
        with _lock:
            upgrade(db, store)


def upgrade(db: Database, store: str) -> StoreVersion:
    """Apply every migration the store lacks, in one transaction under the schema lock."""
    _known(store)
    from alembic.config import Config
    from alembic.runtime.environment import EnvironmentContext
    from alembic.script import ScriptDirectory

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS / store))
    script = ScriptDirectory.from_config(config)
    with db.write() as conn:
        if db.dialect == "postgresql":
            conn.execute(text("select pg_advisory_xact_lock(:key)"), {"key": LOCK_KEY})
        before = _version(conn, store)
        with EnvironmentContext(config, script, fn=lambda rev, _: script._upgrade_revs("head", rev),
                                destination_rev="head") as env:
            env.configure(connection=conn, version_table=version_table(store))
            env.run_migrations()
        after = _version(conn, store)
    return StoreVersion(store=store, database=db.name, version=after, newest=HEADS[store],
                        upgraded_from=before if before != after else None, changed=before != after)


def _known(store: str) -> None:
    if store not in STORES:
        raise ValueError(f"unknown store '{store}'; the stores are {', '.join(STORES)}")


def open_store(target: Database | Path | str, store: str, timeout: float | None = None) -> Database:
    """The database a store keeps its rows in, upgraded: a Database, a SQLite file's path, or a URL."""
    if isinstance(target, Database):
        db = target
    elif isinstance(target, Path):
        db = Database.at(target, timeout) if timeout else Database.at(target)
    else:
        db = Database(target, timeout) if timeout else Database(target)
    ensure(db, store)
    return db


def upgrade_all(settings) -> list[StoreVersion]:
    """``advisor db upgrade``: every store to its newest version, wherever the settings put it."""
    return [upgrade(Database(settings.store_url(store)), store) for store in STORES]


def ensure_all(settings) -> list[StoreVersion]:
    """What the app runs as it starts: upgrade the stores that are behind, report where each stands."""
    out = []
    for store in STORES:
        db = Database(settings.store_url(store))
        found = version(db, store)
        out.append(upgrade(db, store) if found.version != HEADS[store] else found)
    return out


def status_all(settings) -> list[StoreVersion]:
    return [version(Database(settings.store_url(store)), store) for store in STORES]
