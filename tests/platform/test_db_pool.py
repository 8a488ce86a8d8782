"""The PostgreSQL pool hands out connections without a round trip per checkout, yet never one the server closed
while it sat in the pool."""

from __future__ import annotations

import os
import time
from collections.abc import Iterator

import pytest
from sqlalchemy import Connection, create_engine, text
from sqlalchemy.pool import NullPool

from tierline.platform import db as db_module
from tierline.platform.db import Database
from tierline.settings import Settings

URL = os.environ.get("TIERLINE_TEST_DATABASE_URL", "")

pytestmark = pytest.mark.skipif(not URL.startswith("postgresql"), reason="the PostgreSQL connection pool")


@pytest.fixture
def pooled() -> Iterator[Database]:
    """A Database of its own (its own engine and pool), beside the one the suite's tests run in."""
    database = Database(URL)
    yield database
    database.dispose()


@pytest.fixture
def pings(pooled: Database, monkeypatch: pytest.MonkeyPatch) -> list[object]:
    seen: list[object] = []
    real = pooled.engine.dialect.do_ping

    def counting(dbapi_conn: object) -> bool:
        seen.append(dbapi_conn)
        return real(dbapi_conn)

    monkeypatch.setattr(pooled.engine.dialect, "do_ping", counting)
    return seen


def _backend_pid(database: Database) -> int:
    with database.engine.connect() as conn:
        return conn.execute(text("SELECT pg_backend_pid()")).scalar_one()


def _wait_until_gone(conn: Connection, pid: int) -> None:
    for _ in range(100):
        if conn.execute(text("SELECT count(*) FROM pg_stat_activity WHERE pid = :pid"), {"pid": pid}).scalar_one() == 0:
            return
        time.sleep(0.05)
    raise AssertionError(f"backend {pid} did not exit")


def test_a_connection_back_from_a_request_is_handed_out_again_without_a_ping_or_a_poll(pooled, pings, monkeypatch):
    polls: list[object] = []
    monkeypatch.setattr(db_module, "_server_wrote", lambda conn: polls.append(conn) or False)
    first = _backend_pid(pooled)
    assert _backend_pid(pooled) == first
    assert pings == [] and polls == []


def test_a_connection_idle_a_moment_is_polled_and_handed_out_without_a_ping(pooled, pings, monkeypatch):
    first = _backend_pid(pooled)
    monkeypatch.setattr(db_module, "FRESH_SECONDS", 0.0)
    assert _backend_pid(pooled) == first
    assert pings == []


def test_a_connection_idle_past_the_threshold_is_pinged_before_it_is_handed_out(pooled, pings, monkeypatch):
    first = _backend_pid(pooled)
    monkeypatch.setattr(db_module, "FRESH_SECONDS", 0.0)
    monkeypatch.setattr(db_module, "PING_AFTER_IDLE_SECONDS", 0.0)
    assert _backend_pid(pooled) == first
    assert len(pings) == 1


def test_a_connection_the_server_closed_while_pooled_is_replaced_without_an_error(pooled, pings, monkeypatch):
    monkeypatch.setattr(db_module, "FRESH_SECONDS", 0.0)
    victim = _backend_pid(pooled)
    admin = create_engine(URL, poolclass=NullPool, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            assert conn.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": victim}).scalar_one()
            _wait_until_gone(conn, victim)  # its FATAL message and end of file are on our socket by then
    finally:
        admin.dispose()
    assert _backend_pid(pooled) != victim  # no error: the pool saw the dead connection and made a new one
    assert len(pings) == 1


def test_the_pool_covers_more_requests_in_flight_than_threads_by_default(pooled):
    defaults = Settings()
    assert defaults.db_pool_size >= 4 * defaults.http_threads  # requests wait for threads holding connections
    assert pooled.engine.pool.size() == db_module.POOL_SIZE == defaults.db_pool_size
