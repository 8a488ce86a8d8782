"""The warning and breach sweeps: clocks are found by their own instants, acted on once each, in their own
transactions; a late worker still breaches at the due instant; a failing breach is held back, never lost;
nothing about a clock lives in job rows any more."""

from __future__ import annotations

import os
import threading
import time
from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from tests.tickets.conftest import create_ticket, get_ticket, patch_ticket, post_message
from tierline.app import create_app
from tierline.flows import sla_breach
from tierline.platform import clock, jobs
from tierline.platform.audit import AuditEvent
from tierline.platform.jobs import Job
from tierline.platform.outbox import OutboxMessage
from tierline.settings import Settings
from tierline.sla import timers
from tierline.sla.models import SlaClock, SlaEvent
from tierline.sla.policies import REAPPLY_JOB

IS_POSTGRES = os.environ.get("TIERLINE_TEST_DATABASE_URL", "").startswith("postgresql")
T0 = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)  # the suite's frozen "now", a Monday


def at(minutes: float) -> datetime:
    clock.freeze(T0 + timedelta(minutes=minutes))
    return clock.now()


def _policy(admin, **over):
    body = {"name": over.pop("name", "Standard"), "position": over.pop("position", 10),
            "targets": over.pop("targets", [
                {"metric": m, "priority": "P2", "minutes": minutes}
                for m, minutes in (("first_response", 60), ("periodic_update", 120), ("resolution", 480))]),
            **over}
    r = admin.post("/api/v1/sla/policies", json=body)
    assert r.status_code == 201, r.text
    return r.json()


def _events(db, ticket_id=None):
    with db.session(write=False) as s:
        stmt = select(SlaEvent).order_by(SlaEvent.id)
        if ticket_id is not None:
            stmt = stmt.where(SlaEvent.ticket_id == ticket_id)
        return [(e.metric, e.kind, e.at) for e in s.scalars(stmt)]


def _count(db, model, *where) -> int:
    with db.session(write=False) as s:
        return s.scalar(select(func.count()).select_from(model).where(*where)) or 0


def _clock(db, ticket_id: int, metric: str) -> SlaClock:
    with db.session(write=False) as s:
        return s.scalar(select(SlaClock).where(SlaClock.ticket_id == ticket_id, SlaClock.metric == metric))


def test_a_late_worker_warns_then_breaches_each_clock_once_at_its_own_instants(db, admin, agent):
    _policy(admin)
    t = create_ticket(agent, priority="P2")
    assert _count(db, Job, Job.kind != REAPPLY_JOB) == 0  # no timer rows per clock
    at(300)  # the worker was down: every instant up to now has passed
    jobs.run_until_idle(db)
    jobs.run_until_idle(db)  # a second pass finds nothing
    assert _events(db, t["id"]) == [
        ("first_response", "warning", T0 + timedelta(minutes=45)),
        ("periodic_update", "warning", T0 + timedelta(minutes=90)),
        ("first_response", "breach", T0 + timedelta(minutes=60)),
        ("periodic_update", "breach", T0 + timedelta(minutes=120)),
    ]
    assert _count(db, OutboxMessage, OutboxMessage.topic == "sla.warning") == 2
    assert _count(db, OutboxMessage, OutboxMessage.topic == "sla.breached") == 2
    assert _count(db, AuditEvent, AuditEvent.action == "sla_clocks.warning") == 2
    assert _count(db, AuditEvent, AuditEvent.action == "sla_clocks.breach") == 2
    fr = {c["metric"]: c for c in get_ticket(agent, t["key"])["sla"]}["first_response"]
    assert fr["status"] == "breached" and fr["breached_at"].startswith("2026-11-23T11:00:00")


def test_a_clock_answered_paused_or_solved_before_its_instant_is_left_alone(db, admin, agent):
    _policy(admin)
    answered = create_ticket(agent, priority="P2")
    solved = create_ticket(agent, priority="P2")
    at(30)
    post_message(agent, answered["key"], body="On it")
    patch_ticket(agent, answered["key"], status="on_hold")  # resolution and periodic update pause
    patch_ticket(agent, solved["key"], status="solved")
    at(10_000)
    jobs.run_until_idle(db)
    assert _events(db, answered["id"]) == [("first_response", "achieved", T0 + timedelta(minutes=30)),
                                           ("periodic_update", "achieved", T0 + timedelta(minutes=30)),
                                           ("periodic_update", "started", T0 + timedelta(minutes=30))]
    assert {kind for _, kind, _ in _events(db, solved["id"])} == {"achieved"}


def test_a_clock_moved_later_is_swept_at_its_new_instant(db, admin, agent):
    _policy(admin, targets=[{"metric": "resolution", "priority": p, "minutes": m}
                            for p, m in (("P2", 60), ("P3", 240))])
    t = create_ticket(agent, priority="P2")
    at(30)
    patch_ticket(agent, t["key"], priority="P3")  # resolution now due at 240
    at(100)  # past the old warning (45) and due (60) instants
    jobs.run_until_idle(db)
    assert _events(db, t["id"]) == []
    at(240)
    jobs.run_until_idle(db)
    assert _events(db, t["id"]) == [("resolution", "warning", T0 + timedelta(minutes=180)),
                                    ("resolution", "breach", T0 + timedelta(minutes=240))]


def test_a_clock_whose_calendar_changed_is_placed_again_not_breached_early(db, admin, agent):
    cal = admin.post("/api/v1/sla/calendars", json={
        "name": "Office", "timezone": "UTC", "hours": {d: [["09:00", "17:00"]] for d in ("mon", "tue", "wed", "thu",
                                                                                         "fri")}}).json()
    _policy(admin, calendar_id=cal["id"], warning_percent=99,
            targets=[{"metric": "first_response", "priority": "P2", "minutes": 60, "business_hours": True}])
    t = create_ticket(agent, priority="P2")
    assert _clock(db, t["id"], "first_response").due_at == T0 + timedelta(minutes=60)
    # The office now opens at noon: the clock has used nothing yet, and is due at 13:00.
    r = admin.patch(f"/api/v1/sla/calendars/{cal['id']}",
                    json={"hours": {d: [["12:00", "17:00"]] for d in ("mon", "tue", "wed", "thu", "fri")}})
    assert r.status_code == 200, r.text
    at(60)
    jobs.run_until_idle(db)
    clk = _clock(db, t["id"], "first_response")
    assert clk.status == "active" and clk.due_at == datetime(2026, 11, 23, 13, 0, tzinfo=UTC)
    assert [k for _, k, _ in _events(db, t["id"])] == []
    at(180)
    jobs.run_until_idle(db)
    assert _events(db, t["id"]) == [("first_response", "warning", datetime(2026, 11, 23, 12, 59, 24, tzinfo=UTC)),
                                    ("first_response", "breach", datetime(2026, 11, 23, 13, 0, tzinfo=UTC))]


def test_a_failing_breach_is_held_back_with_growing_intervals_and_breached_at_its_instant_later(
        db, admin, agent, monkeypatch):
    _policy(admin, on_breach={"bump_priority": True}, targets=[
        {"metric": "first_response", "priority": p, "minutes": 60} for p in ("P1", "P2")])
    failing = create_ticket(agent, priority="P2")
    fine = create_ticket(agent, priority="P2")
    apply = sla_breach.apply

    def flaky(session, on_breach):
        if on_breach.ticket_id == failing["id"]:
            raise RuntimeError("the escalation service is down")
        apply(session, on_breach)

    monkeypatch.setattr(sla_breach, "apply", flaky)
    now = at(61)
    jobs.run_until_idle(db)
    jobs.run_until_idle(db)  # no hot loop: the failed clock waits its interval
    assert get_ticket(agent, fine["key"])["priority"] == "P1"  # the other clock went on
    clk = _clock(db, failing["id"], "first_response")
    assert (clk.status, clk.sweep_attempts, clk.sweep_retry_at) == ("active", 1, now + timedelta(seconds=15))
    assert [k for _, k, _ in _events(db, failing["id"])] == ["warning"]  # the breach rolled back
    now = at(61.25)
    jobs.run_until_idle(db)
    clk = _clock(db, failing["id"], "first_response")
    assert (clk.sweep_attempts, clk.sweep_retry_at) == (2, now + timedelta(seconds=30))
    assert _count(db, AuditEvent, AuditEvent.action == "sla_clocks.sweep_failed") == 2

    monkeypatch.setattr(sla_breach, "apply", apply)  # the service is back
    at(70)
    jobs.run_until_idle(db)
    clk = _clock(db, failing["id"], "first_response")
    assert (clk.status, clk.breached_at) == ("breached", T0 + timedelta(minutes=60))
    assert (clk.sweep_attempts, clk.sweep_retry_at) == (0, None)
    assert get_ticket(agent, failing["key"])["priority"] == "P1"
    assert [k for m, k, _ in _events(db, failing["id"]) if m == "first_response"] == ["warning", "breach"]


def test_a_breach_that_drops_the_ticket_s_clocks_does_not_stop_intake(db, admin, agent):
    """Issue 12, finding 1: a breach bumps the priority to one the policy has no target for, so the clock goes;
    on SQLite the next clock may get its id, which a finished timer job's key used to block (500)."""
    _policy(admin, name="Walk test", position=1, match={"tags_any": ["walktest"]},
            on_breach={"bump_priority": True, "escalate_tier": True},
            targets=[{"metric": "first_response", "priority": "P3", "minutes": 1}])
    t = create_ticket(agent, priority="P3", tags=["walktest"])
    at(2)
    jobs.run_until_idle(db)
    after = get_ticket(agent, t["key"])
    # The clock stops applying (no P2 target) but stays, cancelled, its breach kept (issue 12, finding 3).
    assert after["priority"] == "P2"
    assert [(c["metric"], c["status"], c["breached_at"] is not None) for c in after["sla"]] == [
        ("first_response", "cancelled", True)]
    assert [k for _, k, _ in _events(db, t["id"])] == ["warning", "breach", "cancelled", "escalated"]
    for _ in range(3):
        create_ticket(agent, priority="P3", tags=["walktest"])
    at(4)
    jobs.run_until_idle(db)
    assert _count(db, SlaEvent, SlaEvent.kind == "breach") == 4


@pytest.mark.committing
def test_concurrent_workers_breach_each_clock_once(db, admin, agent):
    _policy(admin, warning_percent=99, targets=[{"metric": "first_response", "priority": "P2", "minutes": 60}])
    tickets = [create_ticket(agent, priority="P2") for _ in range(12)]
    at(61)
    barrier, failures = threading.Barrier(3), []

    def due() -> list[int]:
        with db.session(write=False) as s:
            return timers.due_breaches(s, clock.now(), 100) + timers.due_warnings(s, clock.now(), 100)

    def work() -> None:
        try:
            barrier.wait()
            while jobs.run_sweeps(db, limit=5) or due():
                pass
        except BaseException as exc:  # surfaced below
            failures.append(exc)

    threads = [threading.Thread(target=work) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not failures, failures
    breaches = [(m, k) for m, k, _ in _events(db) if k == "breach"]
    assert len(breaches) == len(tickets)
    assert _count(db, AuditEvent, AuditEvent.action == "sla_clocks.breach") == len(tickets)


@pytest.mark.committing
@pytest.mark.skipif(not IS_POSTGRES, reason="FOR UPDATE SKIP LOCKED is PostgreSQL's")
def test_a_clock_another_worker_holds_is_skipped_not_waited_for(db, admin, agent):
    _policy(admin, targets=[{"metric": "first_response", "priority": "P2", "minutes": 60}])
    create_ticket(agent, priority="P2")
    now = at(61)
    with db.session(write=False) as s:
        (clock_id,) = timers.due_breaches(s, now, 10)
    first, second = db.session(), db.session()
    try:
        assert timers.fire_breach(first, clock_id, now) is not None  # holds the row until it commits
        assert timers.fire_breach(second, clock_id, now) is None  # skipped at once
        first.commit()
        second.rollback()
        assert timers.fire_breach(second, clock_id, now) is None  # and now no longer due
        second.rollback()
    finally:
        first.close()
        second.close()
    assert _count(db, SlaEvent, SlaEvent.kind == "breach") == 1


@pytest.mark.committing
@pytest.mark.skipif(IS_POSTGRES, reason="`tierline serve` runs its own worker on SQLite only")
def test_the_embedded_worker_of_serve_breaches_due_clocks(db, factory):
    settings = Settings(log_json=True, log_level="WARNING", embedded_worker=True, worker_poll_seconds=0.05)
    with TestClient(create_app(db, settings), raise_server_exceptions=False) as client:
        admin = factory.api(client, roles=["admin"], email="admin@example.com")
        _policy(admin, targets=[{"metric": "first_response", "priority": "P2", "minutes": 60}])
        t = create_ticket(admin, priority="P2")
        at(61)
        deadline = time.monotonic() + 10  # a duration, not the application's clock
        while time.monotonic() < deadline and ("first_response", "breach") not in [
                (m, k) for m, k, _ in _events(db, t["id"])]:
            time.sleep(0.05)
    assert ("first_response", "breach", T0 + timedelta(minutes=60)) in _events(db, t["id"])
