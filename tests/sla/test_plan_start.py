"""Planning a new ticket's clocks before its write (`plan_start`): it writes nothing, it plans exactly the rows
the general path (`reconcile` of a ticket with no clocks) starts and `start` inserts, its instants are the
business-time maths of its targets, and its `targets` are what the ticket then shows."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from types import SimpleNamespace

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import event, select

from tests.tickets.conftest import create_ticket, get_ticket
from tierline.platform import clock
from tierline.platform.auth.actor import Actor
from tierline.sla import calendars, policies
from tierline.sla import clocks as ck
from tierline.sla import service as sla_service
from tierline.sla.business_time import add_business_minutes, business_minutes_between
from tierline.sla.models import METRICS, SlaClock
from tierline.tickets.models import Ticket

ACTOR = Actor.system("test")
T0 = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)  # the suite's frozen "now", a Monday
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri")
ZONES = ("Europe/London", "America/New_York", "Asia/Kathmandu", "Australia/Lord_Howe", "UTC")
HOURS = {
    "office": {d: [["09:00", "17:00"]] for d in WEEKDAYS},
    "split": {d: [["08:30", "12:00"], ["13:00", "17:30"]] for d in WEEKDAYS},
    "overnight": {d: [["22:00", "06:00"]] for d in WEEKDAYS},
    "always": "24/7",
}
PRIORITIES = ("P1", "P2", "P3", "P4")


def _ticket(real: Ticket, **fields) -> SimpleNamespace:
    """A ticket-like object: the real ticket's id and fields, with those a case varies."""
    base = {"id": real.id, "priority": real.priority, "type": real.type, "channel": real.channel,
            "customer_id": real.customer_id, "component_id": real.component_id, "tags": list(real.tags or []),
            "status": real.status, "created_at": real.created_at, "first_response_at": None,
            "sla_policy_id": None, "sla_due_at": None}
    return SimpleNamespace(**{**base, **fields})


def _policy(session, *, calendar: dict | None, targets: list[dict], warning_percent: int,
            pause_statuses: list[str], name: str = "Planned"):
    calendar_id = None
    if calendar is not None:
        calendar_id = calendars.create_calendar(session, actor=ACTOR, name=f"{name} hours", **calendar).id
    return policies.create_policy(session, actor=ACTOR, values={
        "name": name, "description": "", "position": 0, "active": True, "match": {}, "calendar_id": calendar_id,
        "targets": targets, "warning_percent": warning_percent, "pause_statuses": pause_statuses,
        "on_breach": {}})


@pytest.fixture
def real_ticket(db, agent) -> Ticket:
    """A stored ticket (no policy applied when it was created) whose id the planned clocks can point at."""
    ticket_id = create_ticket(agent, priority="P2")["id"]
    with db.session(write=False) as s:
        ticket = s.get(Ticket, ticket_id)
        s.expunge(ticket)
    return ticket


targets_strategy = st.lists(
    st.tuples(st.sampled_from(METRICS), st.sampled_from(PRIORITIES),
              st.floats(min_value=1, max_value=5 * 24 * 60, allow_nan=False), st.booleans()),
    min_size=1, max_size=10, unique_by=lambda t: (t[0], t[1]))


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(targets=targets_strategy,
       shape=st.sampled_from(sorted(HOURS)), zone=st.sampled_from(ZONES),
       holiday=st.booleans(),
       warning_percent=st.integers(min_value=1, max_value=99),
       pause_statuses=st.sampled_from([[], ["pending_customer"], ["pending_customer", "on_hold"]]),
       priority=st.sampled_from(PRIORITIES),
       status=st.sampled_from(["new", "open", "pending_customer", "on_hold", "solved"]),
       offset_minutes=st.integers(min_value=0, max_value=60 * 24 * 14),
       answered=st.booleans())
def test_the_plan_is_what_reconcile_starts_and_its_instants_are_business_time_maths(
        db, real_ticket, targets, shape, zone, holiday, warning_percent, pause_statuses, priority, status,
        offset_minutes, answered):
    created = T0 + timedelta(minutes=offset_minutes)
    calendar = {"timezone": zone, "hours": HOURS[shape],
                "holidays": [(created + timedelta(days=1)).date().isoformat()] if holiday else []}
    session = db.session()
    try:
        policy = _policy(session, calendar=calendar, warning_percent=warning_percent, pause_statuses=pause_statuses,
                         targets=[{"metric": m, "priority": p, "minutes": minutes, "business_hours": bh}
                                  for m, p, minutes, bh in targets])
        fields = {"priority": priority, "status": status, "created_at": created,
                  "first_response_at": created if answered else None}
        plan = sla_service.plan_start(session, ticket=_ticket(real_ticket, **fields), at=created)
        assert not session.new and not session.dirty  # planning wrote nothing

        # The general path, on the stored ticket's id: the same rows, the same policy and due instant.
        ticket = _ticket(real_ticket, **fields)
        sla_service.reconcile(session, actor=ACTOR, ticket=ticket, at=created, existing={})
        started = sorted(ck.clocks_of(session, real_ticket.id).values(), key=lambda c: METRICS.index(c.metric))
        assert plan.clocks == [ck.values(c) for c in started]
        assert (plan.policy_id, plan.policy_name) == (policy.id, "Planned")
        assert plan.due_at == ticket.sla_due_at

        # The instants are the targets' maths in the policy's calendar.
        cal = calendars.compiled_by_id(session, calendar_id=policy.calendar_id)
        for row in plan.clocks:
            target = policies.target_for(policy, row["metric"], priority)
            unit = cal if target["business_hours"] else None

            def add(start, minutes, unit=unit):
                return add_business_minutes(unit, start, minutes) if unit else start + timedelta(minutes=minutes)

            assert row["started_at"] == created
            if row["running_since"] is None:  # a resolution clock that starts paused
                assert row["metric"] == "resolution" and status in pause_statuses
                assert row["due_at"] is None and row["warning_at"] is None and row["status"] == "paused"
                continue
            assert row["due_at"] == add(created, target["minutes"])
            assert row["warning_at"] == add(created, target["minutes"] * warning_percent / 100)
            later = created + timedelta(hours=30)
            spent = business_minutes_between(unit, created, later) if unit else 30 * 60.0
            (shown,) = [t for t in plan.targets(later) if t["metric"] == row["metric"]]
            assert shown["elapsed_minutes"] == pytest.approx(spent, abs=1e-5)
        expected = {m for m, p, _, _ in targets if p == priority}
        if answered or status == "solved":
            expected.discard("first_response")
        if status == "solved":
            expected.discard("resolution")
        if status not in ("new", "open"):
            expected.discard("periodic_update")
        expected.discard("next_reply")  # starts with a customer's message after a first response
        assert {row["metric"] for row in plan.clocks} == expected
    finally:
        session.rollback()
        session.close()


def test_a_ticket_no_policy_matches_plans_no_clocks(db, real_ticket):
    with db.session(write=False) as session:
        plan = sla_service.plan_start(session, ticket=_ticket(real_ticket, id=None), at=T0)
    assert (plan.policy_id, plan.policy_name, plan.due_at, plan.clocks, plan.targets(T0)) == (None, None, None, [], [])


def test_planning_reads_no_clock_and_writes_nothing(db, real_ticket):
    with db.unit_of_work() as session:
        _policy(session, calendar={"timezone": "Europe/London", "hours": HOURS["office"]}, warning_percent=75,
                pause_statuses=[], targets=[{"metric": "first_response", "priority": "P2", "minutes": 120,
                                             "business_hours": True}])
    statements: list[str] = []

    def capture(conn, cursor, statement, parameters, context, executemany):
        statements.append(" ".join(statement.split()))

    event.listen(db.engine, "before_cursor_execute", capture)
    try:
        with db.session(write=False) as session:
            plan = sla_service.plan_start(session, ticket=_ticket(real_ticket, id=None), at=T0)
    finally:
        event.remove(db.engine, "before_cursor_execute", capture)
    assert [row["due_at"] for row in plan.clocks] == [datetime(2026, 11, 23, 12, 0, tzinfo=UTC)]
    assert not [s for s in statements if "sla_clocks" in s]
    assert not [s for s in statements if s.split()[0] in ("INSERT", "UPDATE", "DELETE")]


def test_start_inserts_the_planned_rows_and_the_ticket_shows_the_planned_targets(db, admin, agent):
    r = admin.post("/api/v1/sla/calendars", json={"name": "Office", "timezone": "Europe/London",
                                                  "hours": HOURS["office"]})
    assert r.status_code == 201, r.text
    r = admin.post("/api/v1/sla/policies", json={
        "name": "Standard", "position": 1, "calendar_id": r.json()["id"],
        "targets": [{"metric": "first_response", "priority": "P2", "minutes": 120, "business_hours": True},
                    {"metric": "periodic_update", "priority": "P2", "minutes": 240},
                    {"metric": "resolution", "priority": "P2", "minutes": 960, "business_hours": True}]})
    assert r.status_code == 201, r.text
    t = create_ticket(agent, priority="P2")
    with db.session(write=False) as session:
        ticket = session.get(Ticket, t["id"])
        stored = sorted(ck.clocks_of(session, ticket.id).values(), key=lambda c: METRICS.index(c.metric))
        plan = sla_service.plan_start(session, ticket=_ticket(ticket, sla_policy_id=None), at=ticket.created_at)
        assert plan.clocks == [ck.values(c) for c in stored]
        assert (plan.policy_id, plan.due_at) == (ticket.sla_policy_id, ticket.sla_due_at)
    clock.freeze(T0 + timedelta(hours=5))
    with db.session(write=False) as session:
        shown = sla_service.ticket_sla(session, ticket=session.get(Ticket, t["id"]))[1]
    assert plan.targets(clock.now()) == shown
    api_view = get_ticket(agent, t["key"])["sla"]
    assert [(x["metric"], x["elapsed_minutes"]) for x in api_view] == [
        (x["metric"], x["elapsed_minutes"]) for x in shown]


def test_ticket_sla_takes_the_clocks_in_hand(db, admin, agent):
    r = admin.post("/api/v1/sla/policies", json={"name": "Standard", "position": 1, "targets": [
        {"metric": "first_response", "priority": "P2", "minutes": 60}]})
    assert r.status_code == 201, r.text
    t = create_ticket(agent, priority="P2")
    with db.session(write=False) as session:
        ticket = session.get(Ticket, t["id"])
        clocks = list(session.scalars(select(SlaClock).where(SlaClock.ticket_id == ticket.id)))
        assert sla_service.ticket_sla(session, ticket=ticket, clocks=clocks) == sla_service.ticket_sla(
            session, ticket=ticket)
