"""Engine, sessions and the column types every domain shares.

SQLite is opened in WAL mode with a busy timeout and foreign keys on. Sessions that will write begin with
`BEGIN IMMEDIATE` on SQLite: a deferred transaction that reads and then writes can fail at once with
SQLITE_BUSY when another writer committed in between, and the busy timeout does not help it. Taking the
write lock up front turns that failure into a short wait.
"""

from __future__ import annotations

import select
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Connection, DateTime, Engine, Integer, MetaData, create_engine, event
from sqlalchemy.exc import DisconnectionError
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker
from sqlalchemy.types import TypeDecorator

from tierline.platform.errors import DomainError
from tierline.settings import get_settings

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


# BIGINT on PostgreSQL, INTEGER (the rowid alias, so autoincrement works) on SQLite.
BigId = BigInteger().with_variant(Integer(), "sqlite")


class UTCDateTime(TypeDecorator):
    """Timezone-aware UTC in, timezone-aware UTC out, on both databases."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        value = value.astimezone(UTC)
        if dialect.name == "sqlite":
            return value.replace(tzinfo=None)
        return value

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


class JSONType(TypeDecorator):
    """JSON on SQLite, JSONB on PostgreSQL (indexable, compact)."""

    impl = JSON
    cache_ok = True

    def load_dialect_impl(self, dialect: Any) -> Any:
        if dialect.name == "postgresql":
            from sqlalchemy.dialects.postgresql import JSONB

            return dialect.type_descriptor(JSONB())
        return dialect.type_descriptor(JSON())


WRITE_LOCK_WAIT_SECONDS = 60


class WriteLockBusy(DomainError):
    """A write that waited its whole turn for SQLite's one write lock: the server is busy, not broken; nothing
    was written, and the same request may be sent again (503)."""

    status = 503
    title = "Service unavailable"


def _configure_sqlite(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        # Let SQLAlchemy's "begin" event issue BEGIN itself, so we can choose IMMEDIATE.
        dbapi_conn.isolation_level = None
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA busy_timeout=30000")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute("PRAGMA synchronous=NORMAL")
        cur.close()

    # Writers in this process queue on a lock before BEGIN IMMEDIATE: SQLite's own busy handler makes
    # waiting writers sleep and poll (up to 100 ms a nap), which turned 8 concurrent clients into a p99 of
    # a second. The busy timeout still covers writers in other processes (the CLI, a separate worker).
    write_lock = threading.Lock()
    held = "tierline.sqlite_write_lock"

    def _release(info: dict) -> None:
        if info.pop(held, False):
            write_lock.release()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Any) -> None:
        mode = conn.get_execution_options().get("sqlite_begin", "DEFERRED")
        if mode == "IMMEDIATE":
            if not write_lock.acquire(timeout=WRITE_LOCK_WAIT_SECONDS):
                raise WriteLockBusy(f"waited {WRITE_LOCK_WAIT_SECONDS} s for the database's write lock; nothing "
                                    "changed, send it again")
            conn.info[held] = True
        try:
            conn.exec_driver_sql(f"BEGIN {mode}")
        except BaseException:
            _release(conn.info)
            raise

    @event.listens_for(engine, "commit")
    def _on_commit(conn: Any) -> None:
        _release(conn.info)

    @event.listens_for(engine, "rollback")
    def _on_rollback(conn: Any) -> None:
        _release(conn.info)

    @event.listens_for(engine.pool, "checkin")
    def _on_checkin(_dbapi_conn: Any, record: Any) -> None:
        _release(record.info)  # a connection never handed back with commit or rollback must not keep it


# PostgreSQL pool. A request holds its connections (its write session's, and a read session's beside it) from
# its first statement to its end, and in between waits for threadpool hops, so the pool must cover the requests
# in flight, not only the threads running: a pool smaller than that opens and closes an overflow connection (a
# new server process each) per request under load. POOL_SIZE is two for each of 16 requests in flight, several
# times the HTTP threadpool (settings.http_threads); the overflow absorbs bursts. `tierline serve` passes settings.db_pool_size and
# settings.db_max_overflow; these are the defaults for everything else.
POOL_SIZE = 32
MAX_OVERFLOW = 8
# Recycle connections after half an hour, well inside any server- or proxy-side idle or lifetime limit.
POOL_RECYCLE_SECONDS = 1800
# A connection back in the pool for less than this is handed out as it is; idle longer, it is checked without
# a round trip; idle past PING_AFTER_IDLE_SECONDS, it is pinged (see _check_on_checkout).
FRESH_SECONDS = 0.1
PING_AFTER_IDLE_SECONDS = 10.0
_IDLE_SINCE = "tierline.idle_since"


def _server_wrote(dbapi_conn: Any) -> bool:
    """Whether an idle connection has something to read: a server that closed it (restart, failover,
    pg_terminate_backend, an idle timeout) sent a FATAL message and an end of file; a live idle connection
    has nothing. One poll(2) with no wait, no round trip."""
    try:
        poller = select.poll()
        poller.register(dbapi_conn.fileno(), select.POLLIN | select.POLLPRI)
        return bool(poller.poll(0))
    except Exception:  # noqa: BLE001  (no usable socket, e.g. closed by the driver: let the ping decide)
        return True


def _check_on_checkout(engine: Engine) -> None:
    """Pessimistic disconnect handling without a round trip per checkout (pool_pre_ping's was one per request).

    A connection that came back less than FRESH_SECONDS ago is handed out as it is: under load that is every
    checkout, and the pool is LIFO, so the same warm connections go round. One idle longer is checked for a
    sign of death without a round trip: the server wrote to it while it sat idle (a server that closes a
    connection, on restart, failover, pg_terminate_backend or an idle timeout, sends a FATAL message and an
    end of file). One idle past PING_AFTER_IDLE_SECONDS is pinged (a middlebox can drop a quiet connection
    without a word). A connection that shows a sign and fails its ping is discarded and the pool hands out a
    fresh one, so no request gets a connection the server closed while it was pooled, short of one closed in
    the last FRESH_SECONDS. (Nor does pre-ping protect a request whose server goes away while it runs; either
    way the pool then replaces every connection older than the failure.) The poll(2) is skipped for fresh
    connections because it releases the GIL, and taking the GIL back under load costs more than the check.
    """

    @event.listens_for(engine, "checkin")
    def _on_checkin(_dbapi_conn: Any, record: Any) -> None:
        if record is not None:
            record.info[_IDLE_SINCE] = time.monotonic()  # a duration's start, not a wall-clock reading

    @event.listens_for(engine, "checkout")
    def _on_checkout(dbapi_conn: Any, record: Any, _proxy: Any) -> None:
        since = record.info.pop(_IDLE_SINCE, None)
        if since is None:
            return  # just opened
        idle = time.monotonic() - since
        if idle < FRESH_SECONDS or (idle < PING_AFTER_IDLE_SECONDS and not _server_wrote(dbapi_conn)):
            return
        try:
            engine.dialect.do_ping(dbapi_conn)
        except Exception as exc:
            raise DisconnectionError("the pooled connection failed its ping") from exc


def make_engine(url: str, **kwargs: Any) -> Engine:
    if url.startswith("sqlite"):
        kwargs.setdefault("connect_args", {"check_same_thread": False, "timeout": 30})
        engine = create_engine(url, **kwargs)
        _configure_sqlite(engine)
        return engine
    if "poolclass" not in kwargs:
        kwargs.setdefault("pool_size", POOL_SIZE)
        kwargs.setdefault("max_overflow", MAX_OVERFLOW)
        # Last in, first out: under light load the same few connections stay warm and the rest idle (and are
        # pinged when they are next needed), instead of every connection aging in turn.
        kwargs.setdefault("pool_use_lifo", True)
    kwargs.setdefault("pool_recycle", POOL_RECYCLE_SECONDS)
    engine = create_engine(url, **kwargs)
    if not kwargs.get("pool_pre_ping"):
        _check_on_checkout(engine)
    return engine


def transaction_memo(session: Session, name: str) -> dict[Any, Any]:
    """A dict named `name` that lasts as long as the session's current (root) transaction: what one request,
    job or command has already looked up. The next transaction gets an empty one; drop it earlier with
    `session.info.pop(name, None)`."""
    transaction = session.get_transaction()
    memo = session.info.get(name)
    if memo is None or memo[0] is not transaction:
        memo = session.info[name] = (transaction, {})
    return memo[1]


_HELD = "tierline.held"  # rows kept loaded until the transaction ends


def hold(session: Session, row: Any) -> None:
    """Keep `row` referenced until the transaction ends. The session's identity map holds rows weakly: a row
    nobody references is dropped and read again by the next session.get; held, it is found in memory."""
    transaction_memo(session, _HELD)[id(row)] = row


def core_connection(session: Session) -> Connection:
    """The session's connection, for a hot read that maps no rows (a count, a few columns): it skips the ORM's
    statement handling, which costs more than such a query. Pending changes are flushed first, as the ORM's
    autoflush would, so the read sees them."""
    if session.autoflush and (session.new or session.dirty or session.deleted):
        session.flush()
    return session.connection()


READ_ONLY = "tierline.read_only"  # session.info: a read session, which must not write


class ReadOnlySession(RuntimeError):
    """A read session (a GET request, a report) tried to write: a bug, never the caller's fault."""


@event.listens_for(Session, "before_flush")
def _refuse_flush(session: Session, _context: Any, _instances: Any) -> None:
    if session.info.get(READ_ONLY) and (session.new or session.dirty or session.deleted):
        raise ReadOnlySession("a read session must not write; open it with write=True")


@event.listens_for(Session, "do_orm_execute")
def _refuse_dml(state: Any) -> None:
    if state.session.info.get(READ_ONLY) and (state.is_insert or state.is_update or state.is_delete):
        raise ReadOnlySession("a read session must not write; open it with write=True")


class Database:
    """One engine and two session factories: read sessions, and write sessions that lock early on SQLite."""

    def __init__(self, url: str, **engine_kwargs: Any) -> None:
        self.url = url
        self.engine = make_engine(url, **engine_kwargs)
        self.is_sqlite = self.engine.dialect.name == "sqlite"
        write_engine = self.engine.execution_options(sqlite_begin="IMMEDIATE") if self.is_sqlite else self.engine
        # PostgreSQL reads run in autocommit: under READ COMMITTED every statement takes its own snapshot
        # anyway, so a read-only transaction bought no consistency, only a BEGIN and a ROLLBACK round trip.
        # (Nothing may stream through a server-side cursor there, which needs a transaction: long reads page,
        # as audit.scan does.) SQLite keeps its deferred transaction: there it holds one snapshot.
        read_engine = self.engine if self.is_sqlite else self.engine.execution_options(isolation_level="AUTOCOMMIT")
        self._read = sessionmaker(bind=read_engine, expire_on_commit=False, info={READ_ONLY: True})
        self._write = sessionmaker(bind=write_engine, expire_on_commit=False)

    def session(self, *, write: bool = True) -> Session:
        return (self._write if write else self._read)()

    @contextmanager
    def unit_of_work(self) -> Iterator[Session]:
        """A write transaction for CLI commands and jobs: commit on success, roll back on error."""
        session = self.session(write=True)
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise
        finally:
            session.close()

    def after_bulk_load(self) -> None:
        """Reclaim the dead rows a bulk load left and refresh the planner's statistics: `VACUUM ANALYZE` on
        PostgreSQL, `ANALYZE` on SQLite. A load that settles a history updates rows many times over; until
        autovacuum comes round (or never, for a database copied from it at once, as the benchmarks do) every
        scan reads the dead versions, and a planner that believes the tables empty picks plans for empty tables
        (the demo's queue statistics took 150 ms instead of 5). VACUUM refuses to run in a transaction: on a
        connection that is in one already (a test's, joined to its outer transaction) only ANALYZE runs."""
        with self.engine.connect() as connection:
            if connection.in_transaction():
                connection.exec_driver_sql("ANALYZE")
            elif self.is_sqlite:
                connection.exec_driver_sql("ANALYZE")
                connection.commit()
            else:
                connection.execution_options(isolation_level="AUTOCOMMIT").exec_driver_sql("VACUUM ANALYZE")

    def dispose(self) -> None:
        self.engine.dispose()


_database: Database | None = None


def get_database() -> Database:
    global _database
    if _database is None:
        settings = get_settings()
        pool = {} if settings.database_url.startswith("sqlite") else {
            "pool_size": settings.db_pool_size, "max_overflow": settings.db_max_overflow}
        _database = Database(settings.database_url, **pool)
    return _database


def set_database(database: Database | None) -> None:
    global _database
    _database = database
