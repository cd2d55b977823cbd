"""Opening a state database: one engine per URL, SQLite made safe for many writers.

SQLite: WAL so readers never wait for a writer, a busy timeout so writers queue instead of failing,
and write transactions that take the write lock when they begin (``BEGIN IMMEDIATE``); a
transaction that reads and then writes would otherwise fail at once when another process wrote in
between. A pooled connection is dropped when its file is no longer the one it opened (deleted,
moved, restored from a backup), so a write never lands in a file nobody reads.

PostgreSQL: ``postgresql://`` URLs are served by psycopg 3 (the driver the package ships).
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import Connection, Engine, create_engine, event, exc
from sqlalchemy.engine import make_url

from assistant.errors import AdvisorError

BUSY_TIMEOUT_S = 30.0
_engines: dict[tuple[str, float], Engine] = {}
_engines_lock = threading.Lock()


class DatabaseUnavailable(AdvisorError, RuntimeError):
    """A state database cannot be opened, read or written; the message names it and the cause."""


def sqlite_url(path: Path) -> str:
    return f"sqlite:///{Path(path).resolve()}"


def _driver_url(url: str) -> str:
    """Plain postgresql:// means psycopg 3 here (SQLAlchemy's default driver, psycopg2, is not shipped)."""
    for plain in ("postgresql://", "postgres://"):
        if url.startswith(plain):
            return "postgresql+psycopg://" + url[len(plain):]
    return url


def safe_url(url: str) -> str:
    """The URL as it may be shown and logged: without its password."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except exc.ArgumentError:
        return "<unreadable database URL>"


def _identity(path: str) -> tuple[int, int] | None:
    try:
        st = os.stat(path)
    except OSError:
        return None
    return st.st_dev, st.st_ino


def _wal(dbapi_conn, timeout: float) -> None:
    """Switching a new file to WAL does not always wait on the busy timeout (it answers "database is
    locked" at once when processes start together), so retry until the winner is done."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            dbapi_conn.execute("pragma journal_mode=wal")
            return
        except Exception as error:  # sqlite3.OperationalError; the module is not imported here
            if ("locked" not in str(error) and "busy" not in str(error)) or time.monotonic() > deadline:
                raise
        time.sleep(0.05)


def _sqlite_engine(url: str, timeout: float) -> Engine:
    path = make_url(url).database or ""
    if path and path != ":memory:":
        try:
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        except OSError as error:
            raise DatabaseUnavailable(f"cannot make the folder for {path}: {error}; check ADVISOR_DATA_DIR") from error
    engine = create_engine(url, connect_args={"timeout": timeout, "check_same_thread": False},
                           pool_size=8, max_overflow=56, pool_timeout=timeout)

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn, record) -> None:
        dbapi_conn.isolation_level = None   # SQLAlchemy emits BEGIN itself (below), so it can be IMMEDIATE
        dbapi_conn.execute(f"pragma busy_timeout={int(timeout * 1000)}")
        _wal(dbapi_conn, timeout)
        record.info["identity"] = _identity(path)

    @event.listens_for(engine, "checkout")
    def _on_checkout(dbapi_conn, record, proxy) -> None:
        if record.info.get("identity") != _identity(path):
            raise exc.DisconnectionError(f"{path} is no longer the file this connection opened")

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Connection) -> None:
        conn.exec_driver_sql("BEGIN IMMEDIATE" if conn.get_execution_options().get("write") else "BEGIN")

    return engine


def engine_for(url: str, timeout: float = BUSY_TIMEOUT_S) -> Engine:
    """The process's engine for a URL (engines pool connections and are meant to be shared)."""
    url = _driver_url(url)
    key = (url, timeout)
    with _engines_lock:
        engine = _engines.get(key)
        if engine is None:
            try:
                backend = make_url(url).get_backend_name()
            except exc.ArgumentError as error:
                raise DatabaseUnavailable(f"cannot read the database URL {safe_url(url)}: {error}; use "
                                          "sqlite:///PATH or postgresql://user:password@host:5432/db") from error
            if backend not in ("sqlite", "postgresql"):
                raise DatabaseUnavailable(f"the database URL {safe_url(url)} names {backend}; the stores' migrations "
                                          "are written for sqlite and postgresql")
            if backend == "sqlite":
                engine = _sqlite_engine(url, timeout)
            else:
                engine = create_engine(url, pool_pre_ping=True, pool_size=5, max_overflow=20,
                                       connect_args={"connect_timeout": int(min(timeout, 30))})
            _engines[key] = engine
        return engine


class Database:
    """One state database: where a store's rows live and how to reach them.

    >>> db = Database("postgresql://advisor@db:5432/advisor")       # or Database.at(Path("data/feedback.sqlite3"))
    >>> with db.write() as conn:
    ...     conn.execute(feedback.insert().values(...))

    ``read()`` and ``write()`` open one transaction each; ``write()`` holds the write lock from its
    start on SQLite. Errors of the driver reach callers as ``DatabaseUnavailable`` naming the database.
    """

    def __init__(self, url: str, timeout: float = BUSY_TIMEOUT_S) -> None:
        self.url = _driver_url(url)
        self.timeout = timeout
        self.engine = engine_for(self.url, timeout)
        self.name = safe_url(self.url)

    @classmethod
    def at(cls, path: Path, timeout: float = BUSY_TIMEOUT_S) -> "Database":
        return cls(sqlite_url(path), timeout)

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    @property
    def path(self) -> Path | None:
        """The SQLite file, or None for a server database."""
        database = make_url(self.url).database
        return Path(database) if self.dialect == "sqlite" and database else None

    @contextmanager
    def read(self) -> Iterator[Connection]:
        with self._errors():
            with self.engine.connect() as conn, conn.begin():
                yield conn

    @contextmanager
    def write(self) -> Iterator[Connection]:
        with self._errors():
            with self.engine.connect() as conn:
                conn.execution_options(write=True)
                with conn.begin():
                    yield conn

    @contextmanager
    def _errors(self) -> Iterator[None]:
        try:
            yield
        except exc.DBAPIError as error:
            first = str(error.orig if error.orig is not None else error).strip().splitlines()
            raise DatabaseUnavailable(f"{self.name}: {first[0] if first else type(error).__name__}") from error
        except exc.TimeoutError as error:
            raise DatabaseUnavailable(f"{self.name}: every connection is busy ({error})") from error
