"""SLA clocks through the life of a ticket, with a frozen clock: every metric, pauses, reopen, re-targeting,
and the warning and breach sweeps."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from tests.tickets.conftest import create_ticket, get_ticket, patch_ticket, post_message
from tierline.platform import clock, jobs
from tierline.platform.audit import AuditEvent
from tierline.platform.outbox import OutboxMessage
from tierline.sla.models import SlaEvent

T0 = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)  # the suite's frozen "now", a Monday

TARGETS = {"first_response": 60, "next_reply": 30, "periodic_update": 120, "resolution": 480}


@pytest.fixture
def policy(admin):
    def make(**over):
        body = {
            "name": over.pop("name", "Standard"),
            "position": over.pop("position", 10),
            "targets": [{"metric": m, "priority": p, "minutes": minutes * (2 if p == "P3" else 1)}
                        for m, minutes in TARGETS.items() for p in ("P1", "P2", "P3")],
            **over,
        }
        r = admin.post("/api/v1/sla/policies", json=body)
        assert r.status_code == 201, r.text
        return r.json()
    return make


def sla(api, key):
    return {t["metric"]: t for t in get_ticket(api, key)["sla"]}


def at(minutes: float) -> datetime:
    clock.freeze(T0 + timedelta(minutes=minutes))
    return clock.now()


def run_jobs(db):
    return jobs.run_until_idle(db)


def iso(minutes: float) -> str:
    return (T0 + timedelta(minutes=minutes)).isoformat().replace("+00:00", "Z")


def events(db, kind=None):
    with db.session(write=False) as s:
        stmt = select(SlaEvent).order_by(SlaEvent.id)
        if kind:
            stmt = stmt.where(SlaEvent.kind == kind)
        return list(s.scalars(stmt))


def test_a_new_ticket_gets_its_policy_and_first_response_periodic_and_resolution_targets(agent, policy):
    p = policy()
    t = create_ticket(agent, priority="P2")
    assert t["sla_policy"] == {"id": p["id"], "name": "Standard"}
    clocks = {c["metric"]: c for c in t["sla"]}
    assert set(clocks) == {"first_response", "periodic_update", "resolution"}
    assert clocks["first_response"]["due_at"].startswith("2026-11-23T11:00:00")
    assert clocks["resolution"]["remaining_minutes"] == 480
    assert t["sla_due_at"].startswith("2026-11-23T11:00:00")


def test_first_response_is_achieved_by_the_first_public_agent_reply_not_by_a_note(agent, policy):
    policy()
    t = create_ticket(agent, priority="P2")
    at(20)
    post_message(agent, t["key"], body="internal thought", public=False)
    assert sla(agent, t["key"])["first_response"]["status"] == "active"
    at(30)
    post_message(agent, t["key"], body="We are looking into it.")
    fr = sla(agent, t["key"])["first_response"]
    assert fr["status"] == "achieved" and fr["elapsed_minutes"] == pytest.approx(30)
    assert fr["achieved_at"].startswith("2026-11-23T10:30:00")


def test_next_reply_runs_from_the_oldest_unanswered_customer_message(agent, policy):
    policy()
    t = create_ticket(agent, priority="P2")
    at(10)
    post_message(agent, t["key"], body="Hello")
    at(40)
    post_message(agent, t["key"], body="Still broken", author_type="customer")
    at(50)
    post_message(agent, t["key"], body="And now worse", author_type="customer")
    nr = sla(agent, t["key"])["next_reply"]
    assert nr["status"] == "active" and nr["due_at"].startswith("2026-11-23T11:10:00")  # 40 + 30
    at(60)
    post_message(agent, t["key"], body="Fixed")
    nr = sla(agent, t["key"])["next_reply"]
    assert nr["status"] == "achieved" and nr["elapsed_minutes"] == pytest.approx(20)


def test_resolution_pauses_while_pending_and_resumes_with_consumed_time_on_reopen(agent, policy):
    policy()
    t = create_ticket(agent, priority="P2")
    at(30)
    post_message(agent, t["key"], body="Can you send logs?")
    patch_ticket(agent, t["key"], status="pending_customer")
    at(300)  # waiting on the customer does not count
    res = sla(agent, t["key"])["resolution"]
    assert res["status"] == "paused" and res["elapsed_minutes"] == pytest.approx(30) and res["due_at"] is None
    post_message(agent, t["key"], body="Here they are", author_type="customer")  # back to open
    at(330)
    res = sla(agent, t["key"])["resolution"]
    assert res["status"] == "active" and res["elapsed_minutes"] == pytest.approx(60)
    patch_ticket(agent, t["key"], status="solved")
    res = sla(agent, t["key"])["resolution"]
    assert res["status"] == "achieved" and res["elapsed_minutes"] == pytest.approx(60)
    at(400)
    patch_ticket(agent, t["key"], status="open")  # an agent reopens within the window
    at(410)
    res = sla(agent, t["key"])["resolution"]
    assert res["status"] == "active" and res["elapsed_minutes"] == pytest.approx(70)
    assert res["achieved_at"] is None


def test_a_priority_change_retargets_from_consumed_time(agent, policy):
    policy()
    t = create_ticket(agent, priority="P3")  # P3 targets are doubled: resolution 960
    at(100)
    patch_ticket(agent, t["key"], priority="P2")
    res = sla(agent, t["key"])["resolution"]
    assert res["target_minutes"] == 480 and res["elapsed_minutes"] == pytest.approx(100)
    assert res["due_at"].startswith(iso(480)[:19])


def test_a_policy_match_change_moves_the_ticket_to_another_policy(agent, policy):
    policy(name="Default", position=10)
    vip = policy(name="VIP", position=1, match={"tags_any": ["vip"]},
                 targets=[{"metric": "resolution", "priority": "P2", "minutes": 120}])
    t = create_ticket(agent, priority="P2")
    at(30)
    out = patch_ticket(agent, t["key"], tags=["vip"])
    assert out["sla_policy"]["id"] == vip["id"]
    # First response is not a VIP target: that clock is cancelled, not deleted (issue 12, finding 3).
    assert {c["metric"]: c["status"] for c in out["sla"]} == {
        "first_response": "cancelled", "periodic_update": "cancelled", "resolution": "active"}
    resolution = {c["metric"]: c for c in out["sla"]}["resolution"]
    assert resolution["elapsed_minutes"] == pytest.approx(30)
    assert resolution["due_at"].startswith(iso(120)[:19])
    assert out["sla_due_at"].startswith(iso(120)[:19])


def test_a_breach_fires_at_its_instant_from_the_sweep_and_is_recorded(agent, policy, db):
    policy()
    t = create_ticket(agent, priority="P2")
    at(59)
    run_jobs(db)
    assert sla(agent, t["key"])["first_response"]["status"] == "active"
    assert [e.kind for e in events(db, "warning") if e.metric == "first_response"] == ["warning"]  # at 45
    at(61)
    run_jobs(db)
    fr = sla(agent, t["key"])["first_response"]
    assert fr["status"] == "breached" and fr["breached_at"].startswith("2026-11-23T11:00:00")
    assert fr["remaining_minutes"] == pytest.approx(-1)
    breach = [e for e in events(db, "breach")]
    assert [(e.metric, e.at) for e in breach] == [("first_response", T0 + timedelta(minutes=60))]
    with db.session(write=False) as s:
        topics = list(s.scalars(select(OutboxMessage.topic)))
        actions = list(s.scalars(select(AuditEvent.action)))
    assert "sla.breached" in topics and "sla.warning" in topics
    assert "sla_clocks.breach" in actions and "sla_clocks.warning" in actions
    # Answering late keeps the breach on record.
    post_message(agent, t["key"], body="Sorry for the wait")
    fr = sla(agent, t["key"])["first_response"]
    assert fr["status"] == "breached" and fr["elapsed_minutes"] == pytest.approx(61)


def test_a_paused_clock_does_not_breach(agent, policy, db):
    policy()
    t = create_ticket(agent, priority="P2")
    at(10)
    post_message(agent, t["key"], body="Need more info")
    patch_ticket(agent, t["key"], status="on_hold")
    at(10_000)
    run_jobs(db)
    clocks = sla(agent, t["key"])
    assert clocks["resolution"]["status"] == "paused"
    assert clocks["periodic_update"]["status"] == "paused"
    assert not [e for e in events(db, "breach") if e.metric in ("resolution", "periodic_update")]


def test_on_breach_bumps_priority_and_escalates_tier(agent, policy, db):
    policy(on_breach={"bump_priority": True, "escalate_tier": True}, targets=[
        {"metric": m, "priority": p, "minutes": minutes}
        for p, minutes in (("P3", 120), ("P2", 60)) for m in ("first_response",)] + [
        {"metric": "resolution", "priority": p, "minutes": 480} for p in ("P1", "P2", "P3")])
    t = create_ticket(agent, priority="P3", tier="L1")
    at(121)  # first response for P3 is 120
    run_jobs(db)
    after = get_ticket(agent, t["key"])
    assert (after["priority"], after["tier"]) == ("P2", "L2")
    # The new priority's targets apply from consumed time: P2 resolution 480, 121 used.
    res = {c["metric"]: c for c in after["sla"]}["resolution"]
    assert res["target_minutes"] == 480 and res["remaining_minutes"] == pytest.approx(359)


def test_periodic_update_restarts_with_every_public_agent_reply(agent, policy):
    policy()
    t = create_ticket(agent, priority="P2")
    at(100)
    post_message(agent, t["key"], body="Update: still investigating")
    pu = sla(agent, t["key"])["periodic_update"]
    assert pu["cycle"] == 2 and pu["status"] == "active" and pu["due_at"].startswith(iso(220)[:19])


def test_business_hours_targets_count_only_business_minutes(admin, agent, policy):
    cal = admin.post("/api/v1/sla/calendars", json={
        "name": "London office", "timezone": "Europe/London",
        "hours": {d: [["09:00", "17:00"]] for d in ("mon", "tue", "wed", "thu", "fri")}}).json()
    policy(calendar_id=cal["id"], targets=[
        {"metric": "first_response", "priority": "P2", "minutes": 120, "business_hours": True}])
    clock.freeze(datetime(2026, 11, 27, 16, 0, tzinfo=UTC))  # Friday 16:00 in London
    t = create_ticket(agent, priority="P2")
    fr = {c["metric"]: c for c in t["sla"]}["first_response"]
    assert fr["business_hours"] is True
    assert fr["due_at"].startswith("2026-11-30T10:00:00")  # 60 minutes Friday, 60 Monday
    clock.freeze(datetime(2026, 11, 29, 12, 0, tzinfo=UTC))  # Sunday: nothing consumed since Friday 17:00
    assert sla(agent, t["key"])["first_response"]["elapsed_minutes"] == pytest.approx(60)


def test_solving_completes_every_running_target(agent, policy):
    policy()
    t = create_ticket(agent, priority="P2")
    at(20)
    patch_ticket(agent, t["key"], status="solved")
    clocks = sla(agent, t["key"])
    assert {m: c["status"] for m, c in clocks.items()} == {
        "first_response": "achieved", "periodic_update": "achieved", "resolution": "achieved"}


def test_lists_sort_by_the_next_due_target(agent, policy):
    policy()
    slow = create_ticket(agent, priority="P3")
    fast = create_ticket(agent, priority="P1")
    none = create_ticket(agent, priority="P4")  # no P4 targets
    keys = [t["key"] for t in agent.get("/api/v1/tickets", params={"order_by": "sla_due"}).json()["items"]]
    assert keys == [fast["key"], slow["key"], none["key"]]
    page = agent.get("/api/v1/tickets", params={"order_by": "sla_due", "limit": 1}).json()
    second = agent.get("/api/v1/tickets", params={"order_by": "sla_due", "limit": 1,
                                                  "cursor": page["next_cursor"]}).json()
    assert second["items"][0]["key"] == slow["key"]


def test_at_risk_lists_targets_due_soon_in_due_order(agent, policy):
    policy()
    p1 = create_ticket(agent, priority="P1")
    create_ticket(agent, priority="P3")
    at(40)
    r = agent.get("/api/v1/sla/at-risk", params={"within_minutes": 30})
    assert r.status_code == 200, r.text
    items = r.json()["items"]
    assert [(i["ticket_key"], i["metric"]) for i in items] == [(p1["key"], "first_response")]
    assert items[0]["remaining_minutes"] == pytest.approx(20)


def test_compliance_reports_achieved_percent_breaches_and_percentiles(agent, policy, db):
    policy()
    a = create_ticket(agent, priority="P2")
    b = create_ticket(agent, priority="P2")
    at(30)
    post_message(agent, a["key"], body="On it")
    at(90)
    run_jobs(db)  # b's first response breaches at 60
    post_message(agent, b["key"], body="Sorry")
    r = agent.get("/api/v1/sla/compliance", params={"from": iso(-60), "to": iso(600), "group_by": "priority"})
    assert r.status_code == 200, r.text
    row = r.json()["items"][0]
    assert row["group"] == "P2" and row["breaches"] == 1 and row["achieved"] == 1
    assert row["achieved_percent"] == 50.0
    assert row["first_response_median_calendar_minutes"] == pytest.approx(60)  # median of 30 and 90
    assert row["first_response_median_business_minutes"] == pytest.approx(60)  # no calendar: every minute
    assert "first_response_median" not in row  # the unlabelled names are gone
    bad = agent.get("/api/v1/sla/compliance", params={"from": iso(0), "to": iso(10), "group_by": "moon"})
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "group_by"
