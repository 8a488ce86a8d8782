"""Migration 0015 on a database with running clocks: the timer job rows go, the clocks are swept at the instants
they hold; going back down gives each running clock its timer jobs again."""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from alembic import command
from sqlalchemy import text
from sqlalchemy.engine import make_url

from tierline.flows import intake
from tierline.platform import clock, jobs
from tierline.platform.auth.actor import Actor
from tierline.platform.db import Database
from tierline.platform.migrate import alembic_config, upgrade
from tierline.sla import policies
from tierline.tickets.schemas import TicketCreate

PG_URL = os.environ.get("TIERLINE_TEST_DATABASE_URL", "")
ACTOR = Actor.system("test")


@pytest.fixture(params=["sqlite", "postgresql"])
def scratch(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Database]:
    """An empty database of each kind for this test alone (PostgreSQL: a sibling of the test database)."""
    if request.param == "sqlite":
        db = Database(f"sqlite:///{tmp_path / 'sweep.db'}")
        yield db
        db.dispose()
        return
    if not PG_URL.startswith("postgresql"):
        pytest.skip("TIERLINE_TEST_DATABASE_URL does not name a PostgreSQL database")
    name = f"{make_url(PG_URL).database}_sweep_migration"
    admin = Database(PG_URL)
    with admin.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    db = Database(make_url(PG_URL).set(database=name).render_as_string(hide_password=False))
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


def _rows(db: Database, sql: str) -> list[tuple]:
    with db.engine.connect() as conn:
        return [tuple(r) for r in conn.execute(text(sql))]


def test_timer_jobs_become_sweeps_and_come_back_on_downgrade(scratch):
    upgrade(scratch)
    with scratch.unit_of_work() as session:
        policies.create_policy(session, actor=ACTOR, values={
            "name": "Standard", "description": "", "position": 0, "active": True, "match": {},
            "calendar_id": None, "warning_percent": 50, "pause_statuses": [], "on_breach": {},
            "targets": [{"metric": m, "priority": "P2", "minutes": minutes}
                        for m, minutes in (("first_response", 60), ("resolution", 480))]})
        for n in range(2):
            intake.create_ticket(session, actor=ACTOR, data=TicketCreate(
                subject=f"Cannot log in {n}", description="The login page spins forever.",
                requester_email=f"jane{n}@example.org", priority="P2"))
    clocks = _rows(scratch, "SELECT id, due_at, warning_at FROM sla_clocks ORDER BY id")
    assert len(clocks) == 4

    # 0016 refuses to go down past events hashed by its version 2: this scratch trail is not what is tested here.
    with scratch.engine.begin() as conn:
        conn.execute(text("DELETE FROM audit_events"))
    _alembic(scratch, "downgrade", "0014_audit_chain_head")
    timers = _rows(scratch, "SELECT dedupe_key, status FROM jobs WHERE kind IN ('sla.breach', 'sla.warning') "
                                   "ORDER BY dedupe_key")
    assert timers == sorted((f"{kind}:{clock_id}", "pending") for clock_id, _, _ in clocks
                            for kind in ("sla.breach", "sla.warning"))

    _alembic(scratch, "upgrade", "0015_sla_clock_sweep")
    assert _rows(scratch, "SELECT count(*) FROM jobs WHERE kind IN ('sla.breach', 'sla.warning')") == [(0,)]
    assert _rows(scratch, "SELECT DISTINCT sweep_attempts FROM sla_clocks") == [(0,)]
    upgrade(scratch)
    clock.advance(timedelta(minutes=61))
    jobs.run_until_idle(scratch)  # the sweeps registered by tierline.jobs_registry (the app imports it)
    assert sorted(_rows(scratch, "SELECT metric, kind FROM sla_events")) == (
        [("first_response", "breach")] * 2 + [("first_response", "warning")] * 2)
