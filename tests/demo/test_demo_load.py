"""`tierline demo`: a small load through the real services, deterministic, idempotent, audited, usable."""

from __future__ import annotations

import re

from sqlalchemy import func, select, text
from typer.testing import CliRunner

from tierline.cli import app as cli
from tierline.demo import architecture as arch
from tierline.demo.command import load, mint_credentials
from tierline.demo.loader import MARKER
from tierline.platform import audit
from tierline.platform.app_settings import AppSetting
from tierline.platform.audit import AuditEvent
from tierline.tickets.models import Message, Ticket

SMALL = {"customers": 5, "tickets": 40, "seed": 11}


def _snapshot(db):  # noqa: ANN001, ANN202
    with db.session(write=False) as session:
        tickets = session.execute(select(Ticket.id, Ticket.subject, Ticket.status, Ticket.priority,
                                         Ticket.created_at).order_by(Ticket.id)).all()
        n_messages = session.scalar(select(func.count()).select_from(Message))
        n_audit = session.scalar(select(func.count()).select_from(AuditEvent))
    return [tuple(t) for t in tickets], n_messages, n_audit


def _empty(db) -> None:  # noqa: ANN001
    """What the `db` fixture does between tests, here between two loads of one test."""
    from tierline.models import metadata

    keep = ("alembic_version", "app_settings")
    names = [t.name for t in reversed(metadata.sorted_tables) if t.name not in keep]
    with db.engine.begin() as conn:
        if db.is_sqlite:
            for name in names:
                conn.execute(text(f'DELETE FROM "{name}"'))
            if conn.execute(text("SELECT 1 FROM sqlite_master WHERE name='sqlite_sequence'")).first():
                conn.execute(text("DELETE FROM sqlite_sequence"))
        else:
            # The first load's deferred foreign-key checks are still pending in the test's transaction: run them
            # now, or PostgreSQL refuses to TRUNCATE the tables they are queued on; then defer them again, as
            # they are declared (the second load inserts a ticket's children before the ticket).
            conn.execute(text("SET CONSTRAINTS ALL IMMEDIATE"))
            conn.execute(text("TRUNCATE " + ", ".join(f'"{n}"' for n in names) + " RESTART IDENTITY CASCADE"))
            conn.execute(text("SET CONSTRAINTS ALL DEFERRED"))
        conn.execute(text("DELETE FROM app_settings WHERE key = :k"), {"k": MARKER})


def test_a_small_demo_loads_through_the_services_with_an_intact_audit_chain(db):
    result = load(db, **SMALL)
    assert result.loaded and result.skipped_events == []
    c = result.counts
    assert c["tickets"] >= SMALL["tickets"] and c["customers"] == SMALL["customers"]
    assert c["messages"] > 2 * SMALL["tickets"] and c["components"] == len(arch.COMPONENTS)
    with db.session(write=False) as session:
        verdict = audit.verify(session)
        actions = set(session.scalars(select(AuditEvent.action).distinct()))
        statuses = set(session.scalars(select(Ticket.status).distinct()))
        keys = [f"T-{i}" for i in session.scalars(select(Ticket.id).order_by(Ticket.id))]
    assert verdict.ok and verdict.checked > 10 * SMALL["tickets"]
    assert {"tickets.create", "tickets.update", "tickets.auto_close", "demo.load"} <= actions
    assert "closed" in statuses and statuses & {"new", "open", "pending_customer", "on_hold", "solved"}
    assert keys[:3] == ["T-1", "T-2", "T-3"]


def test_the_same_seed_loads_the_same_tickets(db):
    load(db, **SMALL)
    first = _snapshot(db)
    _empty(db)
    load(db, **SMALL)
    assert _snapshot(db) == first


def test_a_second_run_adds_no_domain_data(db):
    load(db, **SMALL)
    before = _snapshot(db)
    again = load(db, **SMALL)
    assert not again.loaded and again.marker["seed"] == SMALL["seed"]
    assert _snapshot(db) == before
    with db.session(write=False) as session:
        assert session.get(AppSetting, MARKER) is not None


def test_every_run_sets_a_fresh_audited_password_and_a_working_token(db, client):
    load(db, **SMALL)
    first, second = mint_credentials(db), mint_credentials(db)
    assert first.password != second.password and first.token != second.token
    with db.session(write=False) as session:
        changes = session.scalar(select(func.count()).select_from(AuditEvent)
                                 .where(AuditEvent.action == "users.password_change"))
    assert changes == 2
    old = client.post("/api/v1/auth/login", json={"email": arch.ADMIN_EMAIL, "password": first.password})
    assert old.status_code == 401
    login = client.post("/api/v1/auth/login", json={"email": arch.ADMIN_EMAIL, "password": second.password})
    assert login.status_code == 200, login.text
    r = client.get("/api/v1/tickets?limit=5", headers={"Authorization": f"Bearer {second.token}"})
    assert r.status_code == 200, r.text
    assert len(r.json()["items"]) == 5


def test_the_demo_command_prints_a_login_and_a_token_that_work(db, client):
    result = CliRunner().invoke(cli, ["demo", "--customers", "3", "--tickets", "20", "--seed", "4"],
                                terminal_width=200)
    assert result.exit_code == 0, result.output
    assert arch.ADMIN_EMAIL in result.output and "curl" in result.output
    token = re.search(r"\b(tl_[A-Za-z0-9_\-]+)", result.output).group(1)
    r = client.get("/api/v1/tickets?limit=3", headers={"Authorization": f"Bearer {token}"})
    assert r.status_code == 200 and r.json()["items"]
    again = CliRunner().invoke(cli, ["demo", "--customers", "3", "--tickets", "20", "--seed", "4"],
                               terminal_width=200)
    assert again.exit_code == 0 and "already loaded" in again.output
    new_token = re.search(r"\b(tl_[A-Za-z0-9_\-]+)", again.output).group(1)
    assert new_token != token
    me = client.get("/api/v1/auth/me", headers={"Authorization": f"Bearer {new_token}"})
    assert me.status_code == 200 and me.json()["email"] == arch.ADMIN_EMAIL
