"""Issue 12, "A support manager's first day": one regression per finding, over HTTP, on both databases, and
property tests of clock cancellation under policy and priority changes (no breach ever disappears; consumed
time never goes back) and of the report's units."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from tests.tickets.conftest import create_ticket, get_ticket, patch_ticket, post_message
from tests.triage.assignment_helpers import make_agent, make_component, make_queue, make_team
from tierline.flows import messages as message_flow
from tierline.platform import clock, jobs
from tierline.platform.auth.actor import Actor
from tierline.sla import reports
from tierline.sla.models import SlaEvent
from tierline.tickets.messages import SYSTEM

T0 = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)  # the suite's frozen "now", a Monday


def at(minutes: float) -> datetime:
    clock.freeze(T0 + timedelta(minutes=minutes))
    return clock.now()


def _policy(admin, **over):  # noqa: ANN001, ANN003, ANN202
    body = {"name": over.pop("name", "Standard"), "position": over.pop("position", 10),
            "targets": over.pop("targets", [{"metric": m, "priority": p, "minutes": minutes}
                                            for m, minutes in (("first_response", 60), ("periodic_update", 120),
                                                               ("resolution", 480))
                                            for p in ("P1", "P2", "P3", "P4")]), **over}
    r = admin.post("/api/v1/sla/policies", json=body)
    assert r.status_code == 201, r.text
    return r.json()


def _kinds(db, ticket_id):  # noqa: ANN001, ANN202
    with db.session(write=False) as s:
        return [(e.metric, e.kind) for e in s.scalars(select(SlaEvent).where(SlaEvent.ticket_id == ticket_id)
                                                      .order_by(SlaEvent.id))]


def _sla(api, key):  # noqa: ANN001, ANN202
    return {c["metric"]: c for c in get_ticket(api, key)["sla"]}


# -- finding 1: one breach stopped all intake ------------------------------------------------------------

def test_finding_1_a_breach_and_priority_bump_never_stop_intake(db, admin, agent):
    _policy(admin, name="Walk test", position=1, match={"tags_any": ["walktest"]},
            on_breach={"bump_priority": True, "escalate_tier": True},
            targets=[{"metric": "first_response", "priority": "P3", "minutes": 1}])
    t = create_ticket(agent, priority="P3", tags=["walktest"])
    at(1.02)
    jobs.run_until_idle(db)
    assert get_ticket(agent, t["key"])["priority"] == "P2"
    for n in range(3):  # each answers 201, clocks and jobs keep their keys apart
        create_ticket(agent, priority="P3", tags=["walktest"], subject=f"Another one {n}")
    at(5)
    jobs.run_until_idle(db)
    create_ticket(agent, priority="P3", tags=["walktest"], subject="And after the second round")


def test_finding_1_demoting_a_p1_whose_periodic_update_breached_keeps_the_breach(db, admin, agent):
    _policy(admin, targets=[{"metric": "periodic_update", "priority": "P1", "minutes": 30},
                            {"metric": "resolution", "priority": "P1", "minutes": 240},
                            {"metric": "resolution", "priority": "P3", "minutes": 960}])
    t = create_ticket(agent, priority="P1")
    at(45)
    jobs.run_until_idle(db)
    out = patch_ticket(agent, t["key"], priority="P3")
    sla = {c["metric"]: c for c in out["sla"]}
    assert sla["periodic_update"]["status"] == "cancelled" and sla["periodic_update"]["breached_at"] is not None
    assert sla["resolution"]["target_minutes"] == 960
    create_ticket(agent, priority="P1", subject="Intake still works")


# -- finding 3: breaches vanished from the record ---------------------------------------------------------

def test_finding_3_a_cancelled_breach_still_counts_and_the_clock_resumes_where_it_was(db, admin, agent):
    _policy(admin, targets=[{"metric": "first_response", "priority": "P3", "minutes": 10},
                            *({"metric": "resolution", "priority": p, "minutes": 600} for p in ("P2", "P3"))])
    t = create_ticket(agent, priority="P3")
    at(15)
    jobs.run_until_idle(db)
    patch_ticket(agent, t["key"], priority="P2")  # P2 has no first-response target
    at(20)
    fr = _sla(agent, t["key"])["first_response"]
    assert (fr["status"], fr["elapsed_minutes"]) == ("cancelled", pytest.approx(15))
    report = agent.get("/api/v1/sla/compliance", params={"from": "2026-11-23", "to": "2026-11-23"}).json()
    assert sum(row["breaches"] for row in report["items"]) == 1  # the breach stays a fact
    out = patch_ticket(agent, t["key"], priority="P3")  # it applies again: the same clock, from 15 minutes
    fr = {c["metric"]: c for c in out["sla"]}["first_response"]
    assert fr["status"] == "breached" and fr["elapsed_minutes"] == pytest.approx(15)
    assert ("first_response", "cancelled") in _kinds(db, t["id"]) and ("first_response", "resumed") in \
        _kinds(db, t["id"])


def test_finding_3_moving_to_another_policy_keeps_the_resolution_clock(db, admin, agent):
    _policy(admin)
    _policy(admin, name="Chat", position=1, match={"tags_any": ["chat"]},
            targets=[{"metric": "first_response", "priority": "P2", "minutes": 5}])
    t = create_ticket(agent, priority="P2")
    at(30)
    out = patch_ticket(agent, t["key"], tags=["chat"])
    sla = {c["metric"]: c for c in out["sla"]}
    assert sla["resolution"]["status"] == "cancelled" and sla["resolution"]["elapsed_minutes"] == pytest.approx(30)


def test_finding_3_a_partial_policy_is_accepted_with_warnings_naming_each_uncovered_pair(admin):
    body = _policy(admin, match={"priority": ["P1", "P2"]},
                   targets=[{"metric": "first_response", "priority": "P1", "minutes": 30}])
    pairs = {(w["metric"], w["priority"]) for w in body["warnings"]}
    assert ("first_response", "P2") in pairs and ("resolution", "P1") in pairs
    assert ("first_response", "P1") not in pairs and all(p in ("P1", "P2") for _, p in pairs)
    assert len(pairs) == 7  # 4 metrics x 2 priorities, less the one covered
    full = _policy(admin, name="Full")
    assert {(w["metric"], w["priority"]) for w in full["warnings"]} == {
        ("next_reply", p) for p in ("P1", "P2", "P3", "P4")}


def test_finding_3_a_new_policy_applies_to_open_tickets_by_an_audited_job(db, admin, agent, factory):
    t = create_ticket(agent, priority="P2")
    assert get_ticket(agent, t["key"])["sla"] == []
    policy = _policy(admin)
    at(1)
    jobs.run_until_idle(db)
    after = get_ticket(agent, t["key"])
    assert after["sla_policy"]["id"] == policy["id"]
    assert {c["metric"] for c in after["sla"]} == {"first_response", "periodic_update", "resolution"}
    assert factory.audit_count(action="sla_policies.reapply") == 1


# -- finding 4: an announcement counted as the first response ---------------------------------------------

def test_finding_4_an_automatic_message_is_no_response_but_a_periodic_update(db, admin, agent):
    _policy(admin)
    t = create_ticket(agent, priority="P2")
    at(20)
    with db.unit_of_work() as s:
        message_flow.create(s, actor=Actor.system("problems"), ticket_key=t["key"], public=True,
                            author_type=SYSTEM, body="We fixed the problem behind this ticket.")
    after = get_ticket(agent, t["key"])
    assert after["first_response_at"] is None
    sla = {c["metric"]: c for c in after["sla"]}
    assert sla["first_response"]["status"] == "active"
    assert (sla["periodic_update"]["cycle"], sla["periodic_update"]["elapsed_minutes"]) == (2, 0)
    [shown] = agent.get(f"/api/v1/tickets/{t['key']}/messages").json()["items"]
    assert (shown["author_type"], shown["author_name"], shown["author_email"]) == ("system", "Support team", None)
    r = agent.post(f"/api/v1/tickets/{t['key']}/messages", json={"body": "x", "author_type": "system"})
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "author_type"
    at(30)
    post_message(agent, t["key"], body="A person answers")
    assert _sla(agent, t["key"])["first_response"]["status"] == "achieved"


# -- finding 5: escalation in the wrong queue, unowned, in a burst ------------------------------------------

@pytest.fixture
def mobile_desk(admin, factory):  # noqa: ANN001, ANN201
    l1_agent = make_agent(factory, admin, "agent_l1", skills=("general",))
    dba = make_agent(factory, admin, "agent_l2", skills=("postgres",))
    mobile_dev = make_agent(factory, admin, "agent_l2", skills=("mobile",))
    db_team = make_team(admin, "Database & Data", [dba])
    mobile_team = make_team(admin, "Mobile", [mobile_dev])
    l1 = make_queue(admin, "L1 General", "L1")
    l2_db = make_queue(admin, "L2 Database & Data", "L2", team_id=db_team["id"])
    l2_mobile = make_queue(admin, "L2 Mobile", "L2", team_id=mobile_team["id"])
    ios = make_component(admin, "iOS app", skills=("mobile",))
    return {"l1": l1, "l1_agent": l1_agent, "l2_db": l2_db, "l2_mobile": l2_mobile, "mobile_dev": mobile_dev,
            "ios": ios}


def test_finding_5_escalation_routes_to_a_queue_whose_agents_fit_and_notes_why(agent, mobile_desk):
    t = create_ticket(agent, tier="L1", queue_id=mobile_desk["l1"]["id"], assignee_id=mobile_desk["l1_agent"],
                      component_id=mobile_desk["ios"]["id"], subject="iOS app crashes on launch")
    r = agent.post(f"/api/v1/tickets/{t['key']}/escalate", json={"to_tier": "L2", "reason": "Crash log attached"})
    assert r.status_code == 200, r.text
    moved = r.json()
    assert (moved["queue_id"], moved["assignee_id"]) == (mobile_desk["l2_mobile"]["id"], mobile_desk["mobile_dev"])
    notes = agent.get(f"/api/v1/tickets/{t['key']}/messages", params={"public": "false"}).json()["items"]
    assert notes and notes[-1]["author_type"] == "system" and "Crash log attached" in notes[-1]["body"]
    assert "L2 Mobile" in notes[-1]["body"]


def test_finding_5_the_caller_may_name_the_queue_and_a_wrong_one_is_a_422(agent, mobile_desk):
    t = create_ticket(agent, tier="L1", queue_id=mobile_desk["l1"]["id"], component_id=mobile_desk["ios"]["id"])
    r = agent.post(f"/api/v1/tickets/{t['key']}/escalate",
                   json={"to_tier": "L2", "reason": "x", "to_queue_id": mobile_desk["l1"]["id"]})
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "to_queue_id"
    r = agent.post(f"/api/v1/tickets/{t['key']}/escalate",
                   json={"to_tier": "L2", "reason": "x", "to_queue_id": mobile_desk["l2_db"]["id"]})
    assert r.status_code == 200 and r.json()["queue_id"] == mobile_desk["l2_db"]["id"]


def test_finding_5_a_burst_of_breaches_escalates_one_tier_and_skips_feature_requests(db, admin, agent, factory):
    make_queue(admin, "L1", "L1")
    make_queue(admin, "L2", "L2")
    make_queue(admin, "L3", "L3")
    _policy(admin, on_breach={"escalate_tier": True},
            targets=[{"metric": m, "priority": "P2", "minutes": n}
                     for m, n in (("first_response", 10), ("periodic_update", 15), ("resolution", 20))])
    bug = create_ticket(agent, priority="P2", type="bug")
    wish = create_ticket(agent, priority="P2", type="feature_request", subject="Please add dark mode")
    at(60)  # all three targets of each ticket breach in one worker round
    jobs.run_until_idle(db)
    assert get_ticket(agent, bug["key"])["tier"] == "L2"
    assert get_ticket(agent, wish["key"])["tier"] in (None, "L1")
    assert [k for m, k in _kinds(db, bug["id"]) if k == "escalated"] == ["escalated"]


# -- finding 6: the compliance report misled ----------------------------------------------------------------

def test_finding_6_the_report_names_its_units_labels_every_group_and_exports_csv(db, admin, agent):
    cal = admin.post("/api/v1/sla/calendars", json={"name": "Office", "timezone": "UTC",
                                                    "hours": {d: [["09:00", "17:00"]] for d in
                                                              ("mon", "tue", "wed", "thu", "fri")}}).json()
    _policy(admin, calendar_id=cal["id"],
            targets=[{"metric": "first_response", "priority": "P2", "minutes": 600, "business_hours": True}])
    at(-120)  # 08:00 Monday: an hour before the office opens
    t = create_ticket(agent, priority="P2")
    at(0)  # 10:00: two calendar hours later, one business hour
    post_message(agent, t["key"], body="Looking into it")
    r = agent.get("/api/v1/sla/compliance", params={"group_by": "team"})  # from/to default: the last 30 days
    assert r.status_code == 200, r.text
    [row] = r.json()["items"]
    assert row["label"] == "No team"
    assert row["first_response_median_business_minutes"] == 60.0
    assert row["first_response_median_calendar_minutes"] == 120.0
    for group_by, label in (("assignee", "Unassigned"), ("queue", "No queue"), ("component", "No component")):
        [row] = agent.get("/api/v1/sla/compliance", params={"group_by": group_by}).json()["items"]
        assert row["label"] == label
    naive = agent.get("/api/v1/sla/compliance", params={"from": "2026-11-01T00:00:00"})
    assert naive.status_code == 422 and naive.json()["errors"][0]["field"] == "from"
    exported = agent.get("/api/v1/sla/compliance", params={"from": "2026-11-23", "to": "2026-11-23"},
                         headers={"Accept": "text/csv"})
    assert exported.status_code == 200 and exported.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(exported.text)))
    assert rows[0]["first_response_median_calendar_minutes"] == "120.0"


def test_at_risk_includes_breached_unsolved_tickets_with_customer_and_assignee(db, admin, agent):
    _policy(admin)
    customer = admin.post("/api/v1/customers", json={"name": "Cobalt Software", "external_id": "cobalt",
                                                     "arr": 329500}).json()
    t = create_ticket(agent, priority="P2", customer_id=customer["id"])
    at(70)
    jobs.run_until_idle(db)
    items = agent.get("/api/v1/sla/at-risk", params={"within_minutes": 30}).json()["items"]
    first = [i for i in items if i["ticket_key"] == t["key"] and i["metric"] == "first_response"]
    assert first and first[0]["breached"] is True and first[0]["remaining_minutes"] == -10.0
    assert (first[0]["customer_name"], first[0]["customer_arr"]) == ("Cobalt Software", 329500)


# -- properties -----------------------------------------------------------------------------------------------

@settings(max_examples=12, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(steps=st.lists(st.tuples(st.sampled_from(["P1", "P2", "P3", "P4"]), st.integers(1, 90)),
                      min_size=1, max_size=6))
def test_no_breach_ever_disappears_and_consumed_time_never_goes_back(db, admin, agent, steps):
    """Priorities move a ticket's clocks in and out of the policy (P4 has no first-response target, P1 no
    resolution); whatever the order, a breach once recorded stays, and no clock's consumed time shrinks."""
    clock.freeze(T0)
    admin.post("/api/v1/sla/policies", json={  # once per test: a second example's is a 409
        "name": "Property", "position": 0,
        "targets": [{"metric": "first_response", "priority": p, "minutes": 30} for p in ("P1", "P2", "P3")]
        + [{"metric": "resolution", "priority": p, "minutes": 120} for p in ("P2", "P3", "P4")]})
    t = create_ticket(agent, priority="P2")
    seen_breach: set[str] = set()
    consumed: dict[str, float] = {}
    elapsed = 0
    for priority, minutes in steps:
        elapsed += minutes
        at(elapsed)
        jobs.run_until_idle(db)
        patch_ticket(agent, t["key"], priority=priority)
        for c in get_ticket(agent, t["key"])["sla"]:
            if c["metric"] in seen_breach:
                assert c["breached_at"] is not None, (steps, c)
            if c["breached_at"] is not None:
                seen_breach.add(c["metric"])
            assert c["elapsed_minutes"] >= consumed.get(c["metric"], 0) - 1e-6, (steps, c)
            consumed[c["metric"]] = c["elapsed_minutes"]


@given(segments=st.lists(st.tuples(st.integers(0, 60 * 24 * 14), st.integers(1, 60 * 24 * 3)), max_size=6))
def test_business_minutes_never_exceed_calendar_minutes_and_24_7_equals_them(segments):
    from types import SimpleNamespace

    from tierline.sla.business_time import BusinessCalendar

    office = BusinessCalendar.from_dict({"timezone": "Europe/London", "hours": {d: [["09:00", "17:00"]] for d in
                                                                      ("mon", "tue", "wed", "thu", "fri")}})
    spans, cursor = [], T0
    for gap, length in segments:
        start = cursor + timedelta(minutes=gap)
        cursor = start + timedelta(minutes=length)
        spans.append([start.isoformat(), cursor.isoformat()])
    clk = SimpleNamespace(segments=spans)
    business, calendar = reports.durations(clk, office)
    assert 0 <= business <= calendar + 1e-6
    assert calendar == pytest.approx(sum(length for _, length in segments))
    assert reports.durations(clk, None) == (calendar, calendar)


@given(values=st.lists(st.floats(0, 1e6, allow_nan=False), min_size=1, max_size=40))
def test_report_statistics_lie_between_the_extremes(values):
    ordered = sorted(values)
    median, p90 = reports._median(ordered), reports._percentile(ordered, 0.9)
    assert ordered[0] - 1e-6 <= median <= ordered[-1] + 1e-6
    assert ordered[0] - 1e-6 <= p90 <= ordered[-1] + 1e-6
    assert p90 >= median - 1e-6


def test_finding_5_tickets_that_find_nobody_appear_in_their_queue_s_waiting_list(admin, agent, factory):
    l1 = make_queue(admin, "L1 General", "L1")
    make_queue(admin, "L2 Nobody", "L2")
    t = create_ticket(agent, tier="L1", queue_id=l1["id"])
    r = agent.post(f"/api/v1/tickets/{t['key']}/escalate", json={"to_tier": "L2", "reason": "Needs L2"})
    assert r.status_code == 200 and r.json()["assignee_id"] is None
    waiting = agent.get(f"/api/v1/queues/{r.json()['queue_id']}/waiting")
    assert waiting.status_code == 200, waiting.text
    [item] = waiting.json()["items"]
    assert item["key"] == t["key"] and item["waiting_reason"]
    assert agent.get("/api/v1/queues/999999/waiting").status_code == 404
