"""Starting a new ticket's clocks: what it reads and writes, and the shortcuts it takes staying exact (the
customer's plan from the customer's profile, calendars read with the policies and compiled once per
transaction, new clocks inserted with their instants)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import event, select

from tests.tickets.conftest import create_ticket, get_ticket, patch_ticket, post_message
from tierline.platform import clock, jobs
from tierline.platform.auth.actor import Actor
from tierline.platform.jobs import Job
from tierline.sla.policies import REAPPLY_JOB
from tierline.sla import calendars
from tierline.sla import service as sla_service
from tierline.sla.business_time import add_business_minutes
from tierline.sla.models import SlaClock, SlaEvent

T0 = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)  # the suite's frozen "now", a Monday
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri")
OFFICE = {"name": "Office", "timezone": "Europe/London", "hours": {d: [["09:00", "17:00"]] for d in WEEKDAYS}}


def _post(api, url, body):
    r = api.post(url, json=body)
    assert r.status_code == 201, r.text
    return r.json()


@pytest.fixture
def plans(admin):
    """Acme (enterprise, acme.example) and two policies: enterprise in business hours, everyone else on the
    clock."""
    cal = _post(admin, "/api/v1/sla/calendars", OFFICE)
    customer = _post(admin, "/api/v1/customers", {"name": "Acme", "external_id": "crm-1", "plan": "enterprise",
                                                   "email_domains": ["acme.example"]})
    enterprise = _post(admin, "/api/v1/sla/policies", {
        "name": "Enterprise", "position": 1, "calendar_id": cal["id"], "match": {"customer_plan": ["enterprise"]},
        "targets": [{"metric": m, "priority": "P2", "minutes": minutes, "business_hours": True}
                    for m, minutes in (("first_response", 120), ("resolution", 960))]})
    standard = _post(admin, "/api/v1/sla/policies", {
        "name": "Standard", "position": 10,
        "targets": [{"metric": m, "priority": "P2", "minutes": minutes}
                    for m, minutes in (("first_response", 240), ("resolution", 2880))]})
    return {"calendar": cal, "customer": customer, "enterprise": enterprise, "standard": standard}


def test_a_ticket_s_policy_follows_its_customer_s_plan_across_plan_changes(admin, agent, plans):
    t = create_ticket(agent, priority="P2")  # jane@acme.example: Acme
    assert t["customer_id"] == plans["customer"]["id"]
    assert t["sla_policy"]["name"] == "Enterprise"
    r = admin.patch(f"/api/v1/customers/{plans['customer']['id']}", json={"plan": "pro"})
    assert r.status_code == 200, r.text
    assert patch_ticket(agent, t["key"], tags=["billing"])["sla_policy"]["name"] == "Standard"
    other = create_ticket(agent, priority="P2", requester_email="joe@acme.example")
    assert other["sla_policy"]["name"] == "Standard"


def test_starting_a_ticket_reads_no_clock_customer_or_calendar_row_and_writes_each_clock_once(
        db, agent, plans, monkeypatch):
    statements: list[tuple[bool, str]] = []
    inside = [False]

    def capture(conn, cursor, statement, parameters, context, executemany):
        statements.append((inside[0], " ".join(statement.split())))

    start = sla_service.start

    def watched_start(session, *, actor, ticket):
        inside[0] = True
        try:
            start(session, actor=actor, ticket=ticket)
        finally:
            inside[0] = False

    create_ticket(agent, priority="P2")  # the requester is known and the customer's profile is in memory
    monkeypatch.setattr(sla_service, "start", watched_start)
    event.listen(db.engine, "before_cursor_execute", capture)
    try:
        t = create_ticket(agent, priority="P2")
    finally:
        event.remove(db.engine, "before_cursor_execute", capture)

    in_start = [s for inside_start, s in statements if inside_start]
    reads = [s for s in in_start if s.startswith("SELECT")]
    assert not [s for s in reads if "FROM sla_clocks" in s or "FROM customers" in s]
    assert [s for s in reads if "sla_calendars" in s] == [s for s in reads if "FROM sla_policies" in s]
    assert not [s for _, s in statements if s.startswith("UPDATE sla_clocks")]

    # What was written in one go is what the clocks say: instants in business minutes of the office calendar.
    assert t["sla_policy"]["name"] == "Enterprise"
    due = {c["metric"]: c["due_at"] for c in t["sla"]}
    assert due["first_response"].startswith("2026-11-23T12:00:00")  # 10:00 Monday London + 120 minutes
    assert due["resolution"].startswith("2026-11-25T10:00:00")  # 7 h Monday, 8 h Tuesday, 1 h Wednesday
    with db.session(write=False) as s:
        clocks = {c.metric: c for c in s.scalars(select(SlaClock).where(SlaClock.ticket_id == t["id"]))}
        assert clocks["first_response"].warning_at == datetime(2026, 11, 23, 11, 30, tzinfo=UTC)  # 75 % of 120
        # The clocks are swept by their instants: no timer rows (the policies' reapply job is not one).
        assert not s.scalars(select(Job).where(Job.kind != REAPPLY_JOB)).all()

    # The instants written are the ones the sweeps act on: the warning at 11:30, the breach at 12:00.
    def kinds():
        with db.session(write=False) as s:
            return [(e.metric, e.kind, e.at) for e in s.scalars(
                select(SlaEvent).where(SlaEvent.ticket_id == t["id"]).order_by(SlaEvent.id))]

    clock.freeze(datetime(2026, 11, 23, 11, 29, 59, tzinfo=UTC))
    jobs.run_until_idle(db)
    assert kinds() == []
    clock.freeze(datetime(2026, 11, 23, 12, 0, tzinfo=UTC))
    jobs.run_until_idle(db)
    jobs.run_until_idle(db)
    assert kinds() == [("first_response", "warning", datetime(2026, 11, 23, 11, 30, tzinfo=UTC)),
                       ("first_response", "breach", datetime(2026, 11, 23, 12, 0, tzinfo=UTC))]


def test_a_target_that_appears_and_completes_in_one_change_keeps_its_events_on_its_clock(db, admin, agent):
    policy = _post(admin, "/api/v1/sla/policies", {
        "name": "Standard", "position": 10,
        "targets": [{"metric": "first_response", "priority": "P2", "minutes": 60}]})
    t = create_ticket(agent, priority="P2")
    r = admin.patch(f"/api/v1/sla/policies/{policy['id']}", json={"targets": [
        {"metric": "first_response", "priority": "P2", "minutes": 60},
        {"metric": "periodic_update", "priority": "P2", "minutes": 120}]})
    assert r.status_code == 200, r.text
    clock.freeze(T0 + timedelta(minutes=10))
    post_message(agent, t["key"], body="Looking into it")  # the new clock starts, is answered, starts again
    pu = {c["metric"]: c for c in get_ticket(agent, t["key"])["sla"]}["periodic_update"]
    assert pu["cycle"] == 2 and pu["status"] == "active"
    with db.session(write=False) as s:
        clk = s.scalar(select(SlaClock).where(SlaClock.ticket_id == t["id"], SlaClock.metric == "periodic_update"))
        kinds = [(e.kind, e.cycle, e.clock_id) for e in s.scalars(
            select(SlaEvent).where(SlaEvent.metric == "periodic_update").order_by(SlaEvent.id))]
    assert kinds == [("achieved", 1, clk.id), ("started", 2, clk.id)]


def test_a_calendar_changed_earlier_in_the_transaction_is_the_one_clocks_use(db):
    actor = Actor.system("test")
    with db.unit_of_work() as session:
        record = calendars.create_calendar(session, actor=actor, **OFFICE)
        before = calendars.compiled_by_id(session, calendar_id=record.id)
        assert add_business_minutes(before, T0, 60) == datetime(2026, 11, 23, 11, 0, tzinfo=UTC)
        calendars.update_calendar(session, actor=actor, calendar_id=record.id,
                                  hours={d: [["12:00", "17:00"]] for d in WEEKDAYS})
        after = calendars.compiled_by_id(session, calendar_id=record.id)
        assert add_business_minutes(after, T0, 60) == datetime(2026, 11, 23, 13, 0, tzinfo=UTC)
        assert calendars.compiled_by_id(session, calendar_id=record.id) is after
