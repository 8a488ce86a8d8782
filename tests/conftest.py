"""Shared fixtures: a real database (SQLite by default, PostgreSQL when TIERLINE_TEST_DATABASE_URL is set),
migrated once per run with Alembic; a frozen clock; HTTP through FastAPI's client.

Isolation: each test runs inside one transaction on one connection, rolled back at teardown. For the test, the
Database's session factories are bound to that connection. A write session joins it through a savepoint
(`join_transaction_mode="create_savepoint"`): a commit in the code under test releases its savepoint (the
audit chain's `before_commit` hook runs as on any commit) and a rollback undoes only its own work. A read
session (which refuses to write) shares the transaction without a savepoint and never ends it: a request may
end its read session after its write session, and PostgreSQL's read sessions, normally in autocommit, see the
test's data and run the statements they run in production, no more. `db.engine.begin()` and `.connect()` hand
out the same connection inside a savepoint. This replaced emptying every table after each test (a TRUNCATE of
some 60 tables on PostgreSQL), which was most of the suite's time.

A test whose work needs several connections (threads, concurrent writers, one worker skipping the rows another
holds) is marked `@pytest.mark.committing`: its sessions commit for real and every table is emptied
afterwards, as before. A rolled-back test that asks the pool for a second connection, or commits the outer
transaction, fails and says to mark it.

Under pytest-xdist each worker has a database of its own: SQLite, a file in the worker's temporary directory;
PostgreSQL, `<database>_<worker>` created beside the database TIERLINE_TEST_DATABASE_URL names and dropped at
the end. The variable is pointed at the worker's database before any test module reads it.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, ClassVar

import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck
from hypothesis import settings as hypothesis_settings
from sqlalchemy import Connection, Engine, create_engine, event, exc, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.pool import NullPool

from tests.helpers import Api, Factory
from tierline.app import create_app
from tierline.platform import clock, reference_cache
from tierline.platform.db import Database, set_database
from tierline.platform.migrate import upgrade
from tierline.settings import Settings

FROZEN_AT = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)
KEEP_TABLES = {"alembic_version", "app_settings", "reference_revisions"}
COMMITTING = "committing"

# No deadline: a busy machine, or two xdist workers on two cores, must not turn a slow example into a failure.
hypothesis_settings.register_profile("tierline", deadline=None, suppress_health_check=[HealthCheck.too_slow])
hypothesis_settings.load_profile("tierline")

_WORKER = os.environ.get("PYTEST_XDIST_WORKER", "")  # "gw0", "gw1", ... under xdist; empty otherwise
_BASE_URL = os.environ.get("TIERLINE_TEST_DATABASE_URL", "")


def _worker_url(base: str) -> str:
    url = make_url(base)
    if url.get_backend_name() == "sqlite" and url.database:
        path = Path(url.database)
        return url.set(database=str(path.with_name(f"{path.stem}_{_WORKER}{path.suffix}"))).render_as_string(
            hide_password=False)
    return url.set(database=f"{url.database}_{_WORKER}").render_as_string(hide_password=False)


if _BASE_URL and _WORKER:
    # Before the test modules are imported: those that read the variable (which database, a scratch database
    # beside it) must see this worker's, not the one every worker shares.
    os.environ["TIERLINE_TEST_DATABASE_URL"] = _worker_url(_BASE_URL)


# -- the session's database ----------------------------------------------------------------------------------

def _admin_engine(url: str) -> Engine:
    return create_engine(url, poolclass=NullPool, isolation_level="AUTOCOMMIT")


def _worker_database(action: str) -> None:
    """Create (before the session) or drop (after it) this xdist worker's PostgreSQL database. Made in a hook,
    not in the `database` fixture: tests that make a scratch database beside it (test_migrations) connect to
    it without asking for that fixture."""
    url = os.environ["TIERLINE_TEST_DATABASE_URL"]
    name = make_url(url).database
    admin = _admin_engine(_BASE_URL)
    try:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            if action == "create":
                conn.execute(text(f'CREATE DATABASE "{name}"'))
    finally:
        admin.dispose()


_OWN_POSTGRES_DATABASE = bool(_WORKER) and _BASE_URL.startswith("postgresql")


def pytest_sessionstart(session: pytest.Session) -> None:
    if _OWN_POSTGRES_DATABASE:
        _worker_database("create")


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    if _OWN_POSTGRES_DATABASE:
        _worker_database("drop")


def _reset_postgres_schema(url: str) -> None:
    admin = _admin_engine(url)
    try:
        with admin.connect() as conn:
            conn.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
            conn.execute(text("CREATE SCHEMA public"))
    finally:
        admin.dispose()


@pytest.fixture(scope="session")
def database() -> Iterator[Database]:
    with tempfile.TemporaryDirectory(prefix="tierline-test-") as tmp:
        url = os.environ.get("TIERLINE_TEST_DATABASE_URL") or f"sqlite:///{Path(tmp) / 'test.db'}"
        if url.startswith("postgresql") and not _OWN_POSTGRES_DATABASE:
            _reset_postgres_schema(url)  # (a worker's own database was created empty)
        db = Database(url)
        upgrade(db)
        event.listen(db.engine, "checkout", _refuse_a_second_connection)
        set_database(db)
        yield db
        set_database(None)
        db.dispose()


# -- one test's isolation ------------------------------------------------------------------------------------

class SecondConnection(RuntimeError):
    """A rolled-back test asked the pool for a connection beside the one its transaction runs on."""


class _Guard:
    """The connection a rolled-back test runs on, and what it did that only a committing test may do."""

    connection: Connection | None = None
    complaints: ClassVar[list[str]] = []


def _refuse_a_second_connection(_dbapi_conn: Any, _record: Any, _proxy: Any) -> None:
    if _Guard.connection is not None:
        message = ("a second database connection was opened while the test runs in a rolled-back "
                   "transaction: work on several connections (threads, a second engine) needs "
                   f"@pytest.mark.{COMMITTING}")
        _Guard.complaints.append(message)
        raise SecondConnection(message)


def _on_outer_commit(conn: Connection) -> None:
    if conn is not _Guard.connection:
        return  # the fixture's own work after the test (restarting sequences)
    _Guard.complaints.append("the test committed its outer transaction (Connection.commit() on the "
                             "connection db.engine handed out): its writes were kept; mark it "
                             f"@pytest.mark.{COMMITTING}")


def _joined(factory: sessionmaker, connection: Connection) -> sessionmaker:
    """The same factory (class, info, expire_on_commit...) bound to `connection`, joining its transaction
    through a savepoint of its own."""
    kw = {**factory.kw, "bind": connection, "join_transaction_mode": "create_savepoint"}
    return sessionmaker(class_=factory.class_, **kw)


class _SharedReadSession(Session):
    """A read session sharing the test's connection without a savepoint of its own. A request may hold one
    beside its write session (authentication, intake's compute phase) and end it after or before the write
    session's savepoint: with a savepoint of its own, rolling that back would undo the write. It never writes
    (read sessions refuse to), so it has nothing to keep apart: ending it only lets go of the connection."""

    def rollback(self) -> None:
        self.close()


def _joined_reads(factory: sessionmaker, connection: Connection) -> sessionmaker:
    """The read factory bound to `connection`; its sessions neither commit nor roll back the test's
    transaction (`rollback_only` leaves a close alone, and `_SharedReadSession` turns a rollback into one)."""
    kw = {**factory.kw, "bind": connection, "join_transaction_mode": "rollback_only"}
    return sessionmaker(class_=_SharedReadSession, **kw)


class _JoinedEngine:
    """`Database.engine` during a rolled-back test. `begin()` and `connect()` hand out the test's connection
    inside a savepoint, released at the end of `begin()` and rolled back at the end of `connect()` as on a
    real engine, so code and tests using the engine directly share the sessions' data; the rest is the real
    engine."""

    def __init__(self, engine: Engine, connection: Connection) -> None:
        self._engine, self._connection = engine, connection

    @contextmanager
    def begin(self) -> Iterator[Connection]:
        with self._connection.begin_nested():
            yield self._connection

    @contextmanager
    def connect(self) -> Iterator[Connection]:
        savepoint = self._connection.begin_nested()
        try:
            yield self._connection
        finally:
            if savepoint.is_active:
                savepoint.rollback()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._engine, name)


@contextmanager
def _rolled_back(database: Database) -> Iterator[None]:
    """Run the block with every session and engine entry point of `database` inside one transaction that is
    rolled back at the end."""
    connection = database.engine.connect()
    outer = connection.begin()
    event.listen(connection, "commit", _on_outer_commit)
    saved = database.engine, database._read, database._write
    database._read = _joined_reads(database._read, connection)
    database._write = _joined(database._write, connection)
    database.engine = _JoinedEngine(database.engine, connection)  # type: ignore[assignment]
    _Guard.connection, _Guard.complaints = connection, []
    try:
        yield
    finally:
        _Guard.connection = None
        database.engine, database._read, database._write = saved
        if not database.is_sqlite:  # SQLite's rollback takes its AUTOINCREMENT counters back by itself
            _restart_sequences(database, connection, outer)
        if outer.is_active:
            outer.rollback()
        connection.close()
    if _Guard.complaints:
        _empty(database)
        pytest.fail(_Guard.complaints[0], pytrace=False)


_SEQUENCES: dict[str, list[int]] = {}  # database URL -> the oids of the sequences of the emptied tables
_RESTART = text("SELECT setval(oid, 1, false) FROM unnest(CAST(:oids AS oid[])) AS s(oid) "
                "WHERE pg_sequence_last_value(oid) IS NOT NULL")


def _restart_sequences(database: Database, connection: Connection, outer: Any) -> None:
    """Start the next test's ids at 1 again, as TRUNCATE ... RESTART IDENTITY did: sequences are not
    transactional, so the rollback keeps every id the test drew (and keys like T-1 would depend on which tests
    ran before, on which xdist worker). Only the sequences the test drew from are reset, inside its
    transaction while that is usable: the ROLLBACK that follows does not undo a setval and, unlike a COMMIT,
    waits for no WAL flush."""
    try:
        if not outer.is_active:
            raise exc.InvalidRequestError("the test's transaction is gone")
        _restart_in(database, connection)
    except (exc.DBAPIError, exc.InvalidRequestError):  # aborted by a failed statement, or ended by the test
        if outer.is_active:
            outer.rollback()
        with connection.begin():
            _restart_in(database, connection)


def _restart_in(database: Database, connection: Connection) -> None:
    oids = _SEQUENCES.get(database.url)
    if oids is None:
        oids = _SEQUENCES[database.url] = list(connection.execute(text(
            "SELECT DISTINCT s.oid FROM pg_class s JOIN pg_depend d ON d.objid = s.oid "
            "AND d.classid = 'pg_class'::regclass AND d.deptype IN ('a', 'i') "
            "JOIN pg_class t ON t.oid = d.refobjid WHERE s.relkind = 'S' AND t.relname = ANY(:tables)"),
            {"tables": _table_names(database)}).scalars())
    connection.execute(_RESTART, {"oids": oids})


def _table_names(db: Database) -> list[str]:
    from tierline.models import metadata

    return [t.name for t in reversed(metadata.sorted_tables) if t.name not in KEEP_TABLES]


def _empty(database: Database) -> None:
    """Empty every table but the secret key, the schema version and the reference tokens; ids restart at 1."""
    tables = _table_names(database)
    with database.engine.begin() as conn:
        if database.is_sqlite:
            for name in tables:
                conn.execute(text(f'DELETE FROM "{name}"'))
            conn.execute(text("DELETE FROM sqlite_sequence")) if _has_sqlite_sequence(conn) else None
        else:
            names = ", ".join(f'"{n}"' for n in tables)
            conn.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))


def _has_sqlite_sequence(conn) -> bool:  # noqa: ANN001
    return conn.execute(text("SELECT 1 FROM sqlite_master WHERE name='sqlite_sequence'")).first() is not None


@pytest.fixture
def db(request: pytest.FixtureRequest, database: Database) -> Iterator[Database]:
    """The database, as the test left it for no other test: its transaction rolled back, or (tests marked
    `committing`) every table emptied, only the secret key and schema version surviving."""
    if request.node.get_closest_marker(COMMITTING):
        try:
            yield database
        finally:
            _empty(database)
            reference_cache.forget_all()
        return
    try:
        with _rolled_back(database):
            yield database
    finally:
        # The copies built from the test's data carry tokens no committed state has; dropping them keeps a
        # later test from ever depending on that, and costs what emptying the tables always cost: a rebuild.
        reference_cache.forget_all()


@pytest.fixture(autouse=True)
def frozen_clock() -> Iterator[datetime]:
    clock.freeze(FROZEN_AT)
    yield FROZEN_AT
    clock.unfreeze()


@pytest.fixture
def settings() -> Settings:
    return Settings(log_json=True, log_level="WARNING", embedded_worker=False)


_APPS: dict[tuple[int, str], Any] = {}


@pytest.fixture
def app(db: Database, settings: Settings):  # noqa: ANN201
    """One application per database and settings for the whole run: FastAPI works out each included route's
    dependencies when an application first matches a request, which cost every test about a tenth of a second
    when each built its own. The application holds no state of its own between requests (the test's database
    binding lives in the `Database` object, the caches are forgotten after each test)."""
    key = (id(db), settings.model_dump_json())
    if key not in _APPS:
        _APPS[key] = create_app(db, settings, embedded_worker=False)
    return _APPS[key]


@pytest.fixture
def client(app) -> Iterator[TestClient]:  # noqa: ANN001
    with TestClient(app, raise_server_exceptions=False) as c:
        yield c


@pytest.fixture
def factory(db: Database) -> Factory:
    return Factory(db)


@pytest.fixture
def admin(factory: Factory, client: TestClient) -> Api:
    """An API client authenticated as an admin."""
    return factory.api(client, roles=["admin"], email="admin@example.com")


@pytest.fixture
def agent(factory: Factory, client: TestClient) -> Api:
    """An API client authenticated as an L1 agent."""
    return factory.api(client, roles=["agent_l1"], email="agent@example.com")
