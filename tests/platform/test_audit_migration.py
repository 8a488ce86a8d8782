"""Migration 0016: a trail written before hash version 2 keeps verifying, and new events continue it as v2.

Each test migrates its own scratch database (a SQLite file, or a sibling of the PostgreSQL test database)
to 0015, writes a trail as the code of that revision wrote it, and upgrades to 0016 only, so the migrations
after it (other parts of the schema) play no part here.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from alembic import command
from sqlalchemy import text
from sqlalchemy.engine import make_url

from tests.helpers import SYSTEM
from tierline.platform import audit, clock
from tierline.platform.db import Database
from tierline.platform.migrate import alembic_config

PG_URL = os.environ.get("TIERLINE_TEST_DATABASE_URL", "")
BEFORE, V2 = "0015_sla_clock_sweep", "0016_audit_hash_v2"


@pytest.fixture(params=["sqlite", "postgresql"])
def scratch(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Database]:
    if request.param == "sqlite":
        db = Database(f"sqlite:///{tmp_path / 'audit_migration.db'}")
        yield db
        db.dispose()
        return
    if not PG_URL.startswith("postgresql"):
        pytest.skip("TIERLINE_TEST_DATABASE_URL does not name a PostgreSQL database")
    base = make_url(PG_URL)
    name = f"{base.database}_audit_migration"
    admin = Database(PG_URL)
    with admin.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    db = Database(base.set(database=name).render_as_string(hide_password=False))
    try:
        yield db
    finally:
        db.dispose()
        with admin.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def _alembic(db: Database, action: str, revision: str) -> None:
    cfg = alembic_config(db.url)
    with db.engine.begin() as conn:
        cfg.attributes["connection"] = conn
        getattr(command, action)(cfg, revision)


def _v1_trail(db: Database, n: int) -> str:
    """`n` events and the head, as the code of 0015 wrote them (no hash_version column yet); the last hash."""
    prev, at = audit.GENESIS_HASH, clock.now() - timedelta(days=3)
    with db.engine.begin() as conn:
        for seq in range(1, n + 1):
            fields = {"seq": seq, "occurred_at": audit.iso(at), "actor_id": 1, "actor_label": "a@example.com",
                      "action": "tickets.update", "entity_type": "tickets", "entity_id": str(seq),
                      "changes": {"status": ["open", "solved"], "points": [None, 2.0]}, "request_id": None,
                      "note": None}
            digest = audit.compute_hash(fields, prev)
            conn.execute(text("INSERT INTO audit_events (seq, occurred_at, actor_id, actor_label, action, "
                              "entity_type, entity_id, changes, request_id, prev_hash, hash, note) VALUES (:seq, "
                              ":at, 1, 'a@example.com', 'tickets.update', 'tickets', :eid, :changes, NULL, :prev, "
                              ":hash, NULL)"),
                         {"seq": seq, "at": at if not db.is_sqlite else at.replace(tzinfo=None).isoformat(" "),
                          "eid": str(seq), "changes": '{"status": ["open", "solved"], "points": [null, 2.0]}',
                          "prev": prev, "hash": digest})
            prev = digest
        conn.execute(text("INSERT INTO audit_chain_head (id, seq, hash, updated_at) VALUES (1, :seq, :hash, :at)"),
                     {"seq": n, "hash": prev, "at": at if not db.is_sqlite else at.replace(tzinfo=None).isoformat(" ")})
    return prev


def _verify(db: Database) -> audit.VerifyResult:
    with db.session(write=False) as session:
        return audit.verify(session)


def test_a_trail_written_before_0016_is_version_1_and_continues_as_version_2(scratch):
    _alembic(scratch, "upgrade", BEFORE)
    last = _v1_trail(scratch, 3)
    _alembic(scratch, "upgrade", V2)
    with scratch.engine.connect() as conn:
        assert conn.execute(text("SELECT seq, hash_version FROM audit_events ORDER BY seq")).all() == [
            (1, 1), (2, 1), (3, 1)]
        assert conn.execute(text("SELECT seq, hash FROM audit_chain_head")).one() == (3, last)
    assert _verify(scratch).ok
    _alembic(scratch, "upgrade", "head")  # the code that records now needs the later migrations
    with scratch.unit_of_work() as session:
        audit.record(session, SYSTEM, "tickets.update", entity_type="tickets", entity_id="1",
                     changes={"status": ["solved", "open"]})
    with scratch.engine.connect() as conn:
        assert conn.execute(text("SELECT seq, hash_version, prev_hash FROM audit_events WHERE seq = 4")).one() == (
            4, 2, last)
    result = _verify(scratch)
    assert result.ok and result.checked == 4


def test_0016_creates_the_head_row_of_a_trail_still_empty(scratch):
    _alembic(scratch, "upgrade", BEFORE)
    _alembic(scratch, "upgrade", V2)
    with scratch.engine.connect() as conn:
        assert conn.execute(text("SELECT id, seq, hash FROM audit_chain_head")).all() == [
            (1, 0, audit.GENESIS_HASH)]
    assert _verify(scratch).ok
    _alembic(scratch, "upgrade", "head")
    with scratch.unit_of_work() as session:
        audit.record(session, SYSTEM, "thing.create", entity_type="thing", entity_id="1", changes={})
    assert _verify(scratch).ok


def test_downgrading_0016_refuses_to_drop_the_versions_of_a_trail_holding_version_2(scratch):
    _alembic(scratch, "upgrade", BEFORE)
    _v1_trail(scratch, 2)
    _alembic(scratch, "upgrade", V2)
    _alembic(scratch, "downgrade", BEFORE)  # only version-1 events: nothing is lost
    _alembic(scratch, "upgrade", "head")
    with scratch.unit_of_work() as session:
        audit.record(session, SYSTEM, "thing.create", entity_type="thing", entity_id="1", changes={})
    with pytest.raises(RuntimeError, match="version 2"):
        _alembic(scratch, "downgrade", BEFORE)
    assert _verify(scratch).ok
