"""Issue 12, finding 7: "a clock showed `breached` with a 30-minute target and 1.17 minutes elapsed after a
priority bump", and "minutes as raw floats (68.43789)". A clock whose target changes is judged against the new
target from the time it consumed: a breach that truly happened stays a fact (its event, `breached_at`, the
compliance report), one that never happened is never shown; minutes in answers are rounded to 0.1."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from tests.tickets.conftest import create_ticket, get_ticket, patch_ticket
from tierline.platform import clock, jobs
from tierline.sla.models import SlaEvent

T0 = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)  # the suite's frozen "now", a Monday


def at(minutes: float) -> datetime:
    clock.freeze(T0 + timedelta(minutes=minutes))
    return clock.now()


def _policy(admin, targets, **over):  # noqa: ANN001, ANN003, ANN202
    r = admin.post("/api/v1/sla/policies", json={"name": over.pop("name", "Standard"), "position": 1,
                                                 "targets": targets, **over})
    assert r.status_code == 201, r.text
    return r.json()


def _instant(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def _sla(api, key):  # noqa: ANN001, ANN202
    return {c["metric"]: c for c in get_ticket(api, key)["sla"]}


def _breaches(db, ticket_id: int) -> int:  # noqa: ANN001
    with db.session(write=False) as s:
        return s.scalar(select(func.count()).select_from(SlaEvent).where(
            SlaEvent.ticket_id == ticket_id, SlaEvent.kind == "breach")) or 0


def _report_breaches(api) -> int:  # noqa: ANN001
    r = api.get("/api/v1/sla/compliance", params={"from": "2026-11-23", "to": "2026-11-24"})
    assert r.status_code == 200, r.text
    return sum(row["breaches"] for row in r.json()["items"])


def test_a_bumped_priority_s_longer_target_is_not_shown_as_breached(db, admin, agent):
    _policy(admin, [{"metric": "first_response", "priority": "P3", "minutes": 1},
                    {"metric": "first_response", "priority": "P2", "minutes": 30}],
            on_breach={"bump_priority": True})
    t = create_ticket(agent, priority="P3")
    at(1.17)
    jobs.run_until_idle(db)  # breached at 1 minute, and the policy bumps the ticket to P2
    ticket = get_ticket(agent, t["key"])
    fr = {c["metric"]: c for c in ticket["sla"]}["first_response"]
    assert ticket["priority"] == "P2"
    assert (fr["target_minutes"], fr["status"], fr["elapsed_minutes"], fr["remaining_minutes"]) == (
        30, "active", 1.2, 28.8)
    assert _instant(fr["breached_at"]) == T0 + timedelta(minutes=1)
    assert _breaches(db, t["id"]) == 1 and _report_breaches(agent) == 1  # the 1-minute breach is a fact
    at(31)
    jobs.run_until_idle(db)  # it can miss the 30 minutes too (and P1, where it goes, has no such target)
    fr = _sla(agent, t["key"])["first_response"]
    assert (fr["status"], _instant(fr["breached_at"])) == ("cancelled", T0 + timedelta(minutes=30))
    assert _breaches(db, t["id"]) == 2


def test_a_tighter_target_past_its_time_breaches_when_it_changes_not_before(db, admin, agent):
    _policy(admin, [{"metric": "resolution", "priority": "P3", "minutes": 60},
                    {"metric": "resolution", "priority": "P1", "minutes": 30}])
    t = create_ticket(agent, priority="P3")
    at(45)
    out = patch_ticket(agent, t["key"], priority="P1")
    res = {c["metric"]: c for c in out["sla"]}["resolution"]
    assert (res["target_minutes"], res["status"], res["elapsed_minutes"]) == (30, "breached", 45)
    # Breached at the change: at 30 minutes the ticket was a P3 with an hour to go.
    assert _instant(res["breached_at"]) == T0 + timedelta(minutes=45)
    assert _breaches(db, t["id"]) == 1


def test_a_demoted_ticket_is_judged_against_the_target_it_has(db, admin, agent):
    _policy(admin, [{"metric": "resolution", "priority": "P1", "minutes": 30},
                    {"metric": "resolution", "priority": "P3", "minutes": 480}])
    t = create_ticket(agent, priority="P1")
    at(40)
    jobs.run_until_idle(db)
    assert _sla(agent, t["key"])["resolution"]["status"] == "breached"
    res = {c["metric"]: c for c in patch_ticket(agent, t["key"], priority="P3")["sla"]}["resolution"]
    assert (res["status"], res["target_minutes"], res["remaining_minutes"]) == ("active", 480, 440)
    assert res["breached_at"] is not None and _report_breaches(agent) == 1  # the P1 breach stays a fact
    back = {c["metric"]: c for c in patch_ticket(agent, t["key"], priority="P1")["sla"]}["resolution"]
    assert back["status"] == "breached" and _breaches(db, t["id"]) == 1  # the same breach, not a second


def test_an_answered_target_keeps_the_target_it_was_decided_against(db, admin, agent):
    _policy(admin, [{"metric": "first_response", "priority": p, "minutes": m} for p, m in (("P3", 60), ("P1", 5))])
    t = create_ticket(agent, priority="P3")
    at(20)
    r = agent.post(f"/api/v1/tickets/{t['key']}/messages", json={"body": "Looking into it.", "public": True})
    assert r.status_code == 201, r.text
    fr = {c["metric"]: c for c in patch_ticket(agent, t["key"], priority="P1")["sla"]}["first_response"]
    assert (fr["status"], fr["target_minutes"], fr["elapsed_minutes"]) == ("achieved", 60, 20)


def test_minutes_in_the_ticket_s_sla_list_are_rounded_to_a_tenth(db, admin, agent):
    _policy(admin, [{"metric": "resolution", "priority": "P3", "minutes": 120.43789}])
    t = create_ticket(agent, priority="P3")
    at(68.43789)
    res = _sla(agent, t["key"])["resolution"]
    assert (res["target_minutes"], res["elapsed_minutes"], res["remaining_minutes"]) == (120.4, 68.4, 52.0)
    risk = agent.get("/api/v1/sla/at-risk", params={"within_minutes": 600}).json()["items"]
    assert [(i["target_minutes"], i["remaining_minutes"]) for i in risk] == [(120.4, 52.0)]
    patched = patch_ticket(agent, t["key"], priority="P3", subject="Still on it")
    assert {c["metric"]: c for c in patched["sla"]}["resolution"]["elapsed_minutes"] == 68.4
    cal = admin.post("/api/v1/sla/calendars", json={"name": "24/7", "timezone": "UTC", "hours": "24/7"}).json()
    r = agent.get(f"/api/v1/sla/calendars/{cal['id']}/business-time",
                  params={"start": "2026-11-23T10:00:00Z", "end": "2026-11-23T11:08:26.27334Z"})
    assert r.status_code == 200 and r.json()["business_minutes"] == 68.4, r.text


@settings(max_examples=12, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(steps=st.lists(st.tuples(st.sampled_from(["P1", "P2", "P3", "P4"]), st.integers(1, 90)),
                      min_size=1, max_size=6))
def test_no_breach_is_ever_lost_and_none_is_shown_that_never_happened(db, admin, agent, steps):
    """Priorities move a ticket between targets of different lengths (P4 has no first-response target, P1 no
    resolution); whatever the order: the recorded breaches never decrease, a clock shows `breached` only when
    it is past its target, and one past its target (the sweeps having run) shows `breached`."""
    clock.freeze(T0)
    admin.post("/api/v1/sla/policies", json={  # once per test: a second example's is a 409
        "name": "Lengths", "position": 0,
        "targets": [{"metric": "first_response", "priority": p, "minutes": m} for p, m in
                    (("P1", 15), ("P2", 45), ("P3", 120))]
        + [{"metric": "resolution", "priority": p, "minutes": m} for p, m in (("P2", 60), ("P3", 150), ("P4", 240))]})
    t = create_ticket(agent, priority="P2")
    recorded, elapsed = 0, 0
    for priority, minutes in steps:
        elapsed += minutes
        at(elapsed)
        jobs.run_until_idle(db)
        patch_ticket(agent, t["key"], priority=priority)
        jobs.run_until_idle(db)
        for c in get_ticket(agent, t["key"])["sla"]:
            if c["status"] == "breached":
                assert c["elapsed_minutes"] > c["target_minutes"] - 0.05, (steps, c)
            if c["status"] in ("active", "paused"):
                assert c["elapsed_minutes"] <= c["target_minutes"] + 0.05, (steps, c)
        now_recorded = _breaches(db, t["id"])
        assert now_recorded >= recorded, steps
        recorded = now_recorded
