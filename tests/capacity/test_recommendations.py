"""Capacity-based SLA targets: a quarter of seeded tickets, the Erlang C recommendation, staffing halved,
applying one to its policy (audited, once), bad input, the CLI."""

from __future__ import annotations

import json
import math
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from tests.helpers import SYSTEM
from tierline.capacity import erlang
from tierline.capacity import targets as capacity_targets
from tierline.capacity.inputs import Capacity, Staffing, TicketSample, Unit, parse_quarter
from tierline.capacity.models import SlaRecommendation
from tierline.cli import app as cli
from tierline.flows import intake, messages, ticket_update
from tierline.platform import clock
from tierline.platform.auth import service as auth_service
from tierline.sla.models import SlaPolicy
from tierline.tickets.schemas import TicketCreate

LONDON = ZoneInfo("Europe/London")
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri")
# Open one hour a weekday, so one ticket a weekday is an arrival rate of exactly 1 per open hour.
CALENDAR = {"name": "Morning desk", "timezone": "Europe/London",
            "hours": {d: [["09:00", "10:00"]] for d in WEEKDAYS}}
# A ticket created at 09:05, answered at 09:06, solved at 09:50 the next business day:
FIRST_RESPONSE = 1.0           # business minutes
HANDLE = 54.0 + 50.0           # first touch 09:06 -> 10:00, then 09:00 -> 09:50
RESOLUTION = 55.0 + 50.0       # created 09:05 -> 10:00, then 09:00 -> 09:50


def _at(day: date, hh: int, mm: int) -> datetime:
    return datetime.combine(day, time(hh, mm), tzinfo=LONDON)


def _next_weekday(day: date) -> date:
    day += timedelta(days=1)
    while day.weekday() >= 5:
        day += timedelta(days=1)
    return day


def _quarter_weekdays(label: str) -> list[date]:
    q = parse_quarter(label)
    day, out = q.start.date(), []
    while day < q.end.date():
        if day.weekday() < 5:
            out.append(day)
        day += timedelta(days=1)
    return out


def seed_quarter(db, *, agent_id: int, team_id: int, label: str = "2026Q3", priority: str = "P3") -> int:
    """One ticket per weekday of the quarter, through the intake and message services under a frozen clock."""
    days = _quarter_weekdays(label)
    with db.unit_of_work() as session:
        agent = auth_service.actor_for(auth_service.get_user(session, user_id=agent_id), via="token")
        for day in days:
            with clock.frozen(_at(day, 9, 5)):
                ticket = intake.create_ticket(session, actor=SYSTEM, data=TicketCreate(
                    subject="Export fails", description="The nightly export fails with E42.",
                    requester_email="ops@customer.example", priority=priority, team_id=team_id))
            with clock.frozen(_at(day, 9, 6)):
                messages.create(session, actor=agent, ticket_key=ticket.key, body="Looking into it now.")
            with clock.frozen(_at(_next_weekday(day), 9, 50)):
                ticket_update.update(session, actor=agent, ticket=ticket, changes={"status": "solved"})
    return len(days)


@pytest.fixture
def desk(admin):
    """A team of two L1 agents (two tickets at once each), a one-hour-a-day calendar and a policy."""
    agents = []
    for i in range(2):
        r = admin.post("/api/v1/users", json={"email": f"l1-{i}@example.com", "name": f"Agent {i}",
                                              "roles": ["agent_l1"], "max_open_tickets": 2})
        assert r.status_code == 201, r.text
        agents.append(r.json()["id"])
    team = admin.post("/api/v1/teams", json={"name": "Desk", "kind": "support", "member_ids": agents}).json()
    cal = admin.post("/api/v1/sla/calendars", json=CALENDAR).json()
    policy = admin.post("/api/v1/sla/policies", json={
        "name": "Standard", "position": 1, "calendar_id": cal["id"],
        "targets": [{"metric": "first_response", "priority": "P3", "minutes": 60, "business_hours": True},
                    {"metric": "resolution", "priority": "P3", "minutes": 600, "business_hours": True}],
    })
    assert policy.status_code == 201, policy.text
    return {"agents": agents, "team_id": team["id"], "calendar_id": cal["id"],
            "policy_id": policy.json()["id"]}


def _compute(api, expect: int = 201, **body):
    r = api.post("/api/v1/sla/recommendations", json={"quarter": "2026Q4", **body})
    assert r.status_code == expect, r.text
    return r.json()


def _row(run: dict, priority: str, metric: str) -> dict:
    return next(i for i in run["items"] if (i["priority"], i["metric"]) == (priority, metric))


def test_it_recommends_from_last_quarter_and_the_target_grows_when_staffing_halves(db, admin, desk):
    n = seed_quarter(db, agent_id=desk["agents"][0], team_id=desk["team_id"])
    run = _compute(admin, team_id=desk["team_id"], service_level=0.9)
    assert run["quarter"] == "2026Q4" and run["observed_quarter"] == "2026Q3"
    assert len(run["items"]) == 8
    fr, res = _row(run, "P3", "first_response"), _row(run, "P3", "resolution")

    # Beside the current target and the rate achieved last quarter, with the inputs that drove it.
    assert (fr["policy_id"], fr["current_minutes"]) == (desk["policy_id"], 60)
    assert fr["current_business_hours"] is True
    assert fr["business_hours"] is True and fr["calendar_id"] == desk["calendar_id"]
    assert fr["achieved_percent"] == 100.0 and res["achieved_percent"] == 100.0
    inputs = fr["inputs"]
    assert inputs["tickets"] == n and inputs["arrivals_by_priority"]["P3"] == n
    assert inputs["staffing"]["agents_by_tier"] == {"L1": 2, "L2": 0, "L3": 0}
    assert inputs["servers"] == 4 and inputs["handle_time"]["estimate"] is True
    assert inputs["busy_hour"]["arrivals_per_hour"] == pytest.approx(1.0)
    assert inputs["busy_hour"]["label"].endswith("09:00")
    assert inputs["busy_hour"]["timezone"] == "Europe/London"
    assert inputs["aht_minutes"] == pytest.approx(HANDLE)
    # Erlang C on the busy hour, recomputed independently: capacity, not reaction time, sets this target.
    expected = erlang.answer_time(4, HANDLE / 60.0, HANDLE, 0.9)
    assert inputs["binding"] == "capacity (Erlang C)"
    assert fr["recommended_minutes"] == math.ceil(expected)
    assert inputs["observed_first_response"]["quantile_minutes"] == pytest.approx(FIRST_RESPONSE)
    assert res["recommended_minutes"] == math.ceil(RESOLUTION - 1e-9)
    assert res["inputs"]["sources"] == {"sla_clock": n}

    # Priorities without tickets recommend nothing, and say why.
    p1 = _row(run, "P1", "first_response")
    assert p1["recommended_minutes"] is None and "too few P1 tickets" in p1["inputs"]["reason"]

    # Half the staff: the same load on two slots takes far longer to answer.
    r = admin.patch(f"/api/v1/users/{desk['agents'][1]}", json={"available": False})
    assert r.status_code == 200, r.text
    halved = _compute(admin, team_id=desk["team_id"], service_level=0.9)
    fr2 = _row(halved, "P3", "first_response")
    assert fr2["inputs"]["servers"] == 2
    assert fr2["recommended_minutes"] == math.ceil(erlang.answer_time(2, HANDLE / 60.0, HANDLE, 0.9))
    assert fr2["recommended_minutes"] > fr["recommended_minutes"]
    assert _row(halved, "P3", "resolution")["recommended_minutes"] == res["recommended_minutes"]

    # A stricter service level asks for a longer target from the same staffing.
    strict = _row(_compute(admin, team_id=desk["team_id"], service_level=0.95), "P3", "first_response")
    assert strict["recommended_minutes"] > fr2["recommended_minutes"]


def test_reaction_time_binds_when_slots_are_plentiful(db, admin, desk):
    for agent_id in desk["agents"]:
        assert admin.patch(f"/api/v1/users/{agent_id}", json={"max_open_tickets": 200}).status_code == 200
    seed_quarter(db, agent_id=desk["agents"][0], team_id=desk["team_id"])
    fr = _row(_compute(admin, team_id=desk["team_id"]), "P3", "first_response")
    assert fr["inputs"]["answer_time_minutes"] == 0.0
    assert fr["inputs"]["binding"] == "observed first response"
    assert fr["recommended_minutes"] == FIRST_RESPONSE


def test_an_overloaded_team_gets_no_first_response_target_and_is_told_why(db, admin, desk):
    for agent_id in desk["agents"]:
        assert admin.patch(f"/api/v1/users/{agent_id}", json={"max_open_tickets": 0}).status_code == 200
    seed_quarter(db, agent_id=desk["agents"][0], team_id=desk["team_id"])
    fr = _row(_compute(admin, team_id=desk["team_id"]), "P3", "first_response")
    assert fr["recommended_minutes"] is None and "no active, available agent" in fr["inputs"]["reason"]


def test_applying_a_recommendation_changes_the_policy_once_and_is_audited(db, admin, agent, desk, factory):
    seed_quarter(db, agent_id=desk["agents"][0], team_id=desk["team_id"])
    run = _compute(admin, team_id=desk["team_id"])
    fr = _row(run, "P3", "first_response")
    assert factory.audit_count(entity_type="sla_recommendations") == 8

    assert agent.post(f"/api/v1/sla/recommendations/{fr['id']}/apply").status_code == 403
    policy_events = factory.audit_count(entity_type="sla_policies")
    r = admin.post(f"/api/v1/sla/recommendations/{fr['id']}/apply")
    assert r.status_code == 200, r.text
    assert r.json()["applied_at"] is not None and r.json()["applied_by"] == admin.user_id

    policy = admin.get(f"/api/v1/sla/policies/{desk['policy_id']}").json()
    targets = {(t["metric"], t["priority"]): t for t in policy["targets"]}
    assert targets[("first_response", "P3")] == {"metric": "first_response", "priority": "P3",
                                                 "minutes": fr["recommended_minutes"], "business_hours": True}
    assert targets[("resolution", "P3")]["minutes"] == 600
    assert factory.audit_count(entity_type="sla_policies") == policy_events + 1
    assert factory.audit_count(action="sla_recommendations.apply", entity_id=str(fr["id"])) == 1

    # Twice is a conflict that changes nothing.
    events = factory.audit_count()
    again = admin.post(f"/api/v1/sla/recommendations/{fr['id']}/apply")
    assert again.status_code == 409 and again.headers["content-type"].startswith("application/problem+json")
    assert factory.audit_count() == events

    # Nothing to apply (no P1 tickets) is a conflict too; an unknown id is a 404.
    p1 = _row(run, "P1", "first_response")
    assert admin.post(f"/api/v1/sla/recommendations/{p1['id']}/apply").status_code == 409
    assert admin.post("/api/v1/sla/recommendations/999999/apply").status_code == 404
    assert factory.audit_count() == events

    listed = admin.get("/api/v1/sla/recommendations", params={"quarter": "2026Q4", "applied": "true"}).json()
    assert [i["id"] for i in listed["items"]] == [fr["id"]]
    pending = admin.get("/api/v1/sla/recommendations",
                        params={"quarter": "2026q4", "priority": "P3", "applied": "false"}).json()
    assert [(i["priority"], i["metric"]) for i in pending["items"]] == [("P3", "resolution")]


def test_a_resolution_target_added_where_the_policy_had_none(db, admin, desk):
    r = admin.patch(f"/api/v1/sla/policies/{desk['policy_id']}", json={"targets": [
        {"metric": "first_response", "priority": "P3", "minutes": 60, "business_hours": True}]})
    assert r.status_code == 200, r.text
    seed_quarter(db, agent_id=desk["agents"][0], team_id=desk["team_id"])
    res = _row(_compute(admin, team_id=desk["team_id"]), "P3", "resolution")
    assert res["current_minutes"] is None and res["business_hours"] is True
    assert admin.post(f"/api/v1/sla/recommendations/{res['id']}/apply").status_code == 200
    targets = admin.get(f"/api/v1/sla/policies/{desk['policy_id']}").json()["targets"]
    assert {"metric": "resolution", "priority": "P3", "minutes": res["recommended_minutes"],
            "business_hours": True} in targets


def test_without_history_or_policies_it_explains_instead_of_guessing(admin):
    run = _compute(admin)
    assert all(i["recommended_minutes"] is None and i["policy_id"] is None for i in run["items"])
    assert all(i["inputs"]["reason"] for i in run["items"])
    first = run["items"][0]["id"]
    assert admin.post(f"/api/v1/sla/recommendations/{first}/apply").status_code == 409


def test_listing_pages_newest_first_and_reading_computes_nothing(admin, factory):
    first, second = _compute(admin), _compute(admin, quarter="2027Q1")
    assert factory.count(SlaRecommendation) == 16
    seen, cursor = [], None
    while True:
        params = {"limit": 5} if cursor is None else {"limit": 5, "cursor": cursor}
        page = admin.get("/api/v1/sla/recommendations", params=params).json()
        seen += [i["id"] for i in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == sorted({i["id"] for i in first["items"] + second["items"]}, reverse=True)
    only = admin.get("/api/v1/sla/recommendations",
                     params={"quarter": "2027Q1", "metric": "resolution"}).json()
    assert {(i["quarter"], i["metric"]) for i in only["items"]} == {("2027Q1", "resolution")}
    assert len(only["items"]) == 4
    assert second["observed_quarter"] == "2026Q4"
    assert factory.count(SlaRecommendation) == 16
    assert admin.get("/api/v1/sla/recommendations/999999").status_code == 404


def test_a_policy_or_calendar_a_recommendation_names_can_still_be_deleted(admin, desk):
    run = _compute(admin, team_id=desk["team_id"])
    fr = _row(run, "P3", "first_response")
    assert (fr["policy_id"], fr["calendar_id"]) == (desk["policy_id"], desk["calendar_id"])
    assert admin.delete(f"/api/v1/sla/policies/{desk['policy_id']}").status_code == 204
    assert admin.delete(f"/api/v1/sla/calendars/{desk['calendar_id']}").status_code == 204
    kept = admin.get(f"/api/v1/sla/recommendations/{fr['id']}").json()
    assert (kept["policy_id"], kept["calendar_id"]) == (None, None)
    assert kept["inputs"]["policy"]["id"] == desk["policy_id"]  # what drove it stays on record


@pytest.mark.parametrize(("body", "field"), [
    ({"quarter": "2026Q5"}, "quarter"),
    ({"quarter": "26Q4"}, "quarter"),
    ({"quarter": "2026-Q4"}, "quarter"),
    ({"quarter": "0001Q1"}, "quarter"),
    ({"quarter": "2026Q4", "service_level": 0}, "service_level"),
    ({"quarter": "2026Q4", "service_level": 1}, "service_level"),
    ({"quarter": "2026Q4", "service_level": 1.5}, "service_level"),
    ({"quarter": "2026Q4", "service_level": -0.1}, "service_level"),
    ({"quarter": "2026Q4", "team_id": 999}, "team_id"),
    ({"quarter": "2026Q4", "calendar_id": 999}, "calendar_id"),
    ({"quarter": "2026Q4", "colour": "red"}, "colour"),
])
def test_bad_input_is_a_422_naming_the_field_and_stores_nothing(admin, factory, body, field):
    events = factory.audit_count()
    r = admin.post("/api/v1/sla/recommendations", json=body)
    assert r.status_code == 422, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    assert field in [e["field"] for e in r.json()["errors"]]
    assert factory.count(SlaRecommendation) == 0 and factory.audit_count() == events


def test_listing_with_a_bad_quarter_is_a_422_naming_it(admin):
    r = admin.get("/api/v1/sla/recommendations", params={"quarter": "Q4-2026"})
    assert r.status_code == 422 and [e["field"] for e in r.json()["errors"]] == ["quarter"]


def test_reading_needs_sla_read_and_computing_needs_sla_write(agent, factory, client):
    assert agent.get("/api/v1/sla/recommendations").status_code == 200
    assert agent.post("/api/v1/sla/recommendations", json={"quarter": "2026Q4"}).status_code == 403
    assert factory.count(SlaRecommendation) == 0
    outsider = factory.api(client, roles=["customer"], email="someone@customer.example")
    assert outsider.get("/api/v1/sla/recommendations").status_code == 403


def _run_cli(*args: str):
    return CliRunner().invoke(cli, list(args), terminal_width=200, env={"COLUMNS": "200"})


def test_the_cli_prints_a_table_or_the_same_as_json(db, admin, desk):
    seed_quarter(db, agent_id=desk["agents"][0], team_id=desk["team_id"])
    r = _run_cli("sla", "recommend", "--quarter", "2026Q4", "--team-id", str(desk["team_id"]), "--json")
    assert r.exit_code == 0, r.output
    run = json.loads(r.output)
    fr = _row(run, "P3", "first_response")
    assert fr["current_minutes"] == 60 and fr["recommended_minutes"] >= 1
    assert fr["inputs"]["handle_time"]["estimate"] is True
    listed = admin.get("/api/v1/sla/recommendations", params={"run_id": run["run_id"]}).json()["items"]
    assert sorted(i["id"] for i in listed) == sorted(i["id"] for i in run["items"])

    table = _run_cli("sla", "recommend", "--quarter", "2026Q4", "--service-level", "0.8",
                     "--team-id", str(desk["team_id"]))
    assert table.exit_code == 0, table.output
    for text in ("first_response", "resolution", "P3", "achieved %", "key inputs", "estimate",
                 "1h (business)"):
        assert text in table.output, text


def test_the_cli_refuses_a_bad_quarter_or_level_with_exit_2(db, factory):
    assert _run_cli("sla", "recommend", "--quarter", "2026Q7").exit_code == 2
    assert _run_cli("sla", "recommend", "--quarter", "2026Q4", "--service-level", "1.2").exit_code == 2
    assert factory.count(SlaRecommendation) == 0 and factory.count(SlaPolicy) == 0


samples = st.lists(st.tuples(st.sampled_from(("P1", "P2", "P3", "P4")), st.integers(0, 167),
                             st.floats(0, 600), st.floats(1, 5_000)), min_size=5, max_size=80)


def _capacity(rows, slots: int) -> Capacity:
    tickets = [TicketSample(ticket_id=i, priority=p, bucket=b, arrived_closed=False, first_response=fr,
                            handle=h, resolution=fr + h, resolution_source="timestamps")
               for i, (p, b, fr, h) in enumerate(rows)]
    return Capacity(quarter=parse_quarter("2026Q3"), team_id=None, unit=Unit(), open_hours=[13.0] * 168,
                    weeks=13.0, samples=tickets, staffing=Staffing({"L1": 1, "L2": 0, "L3": 0},
                                                                    {"L1": slots, "L2": 0, "L3": 0}))


@settings(max_examples=60, deadline=None)
@given(rows=samples, slots=st.integers(0, 40), more=st.integers(1, 40), level=st.floats(0.5, 0.99))
def test_more_slots_never_lengthen_a_first_response_recommendation(rows, slots, more, level):
    for priority in ("P1", "P4"):
        few, _ = capacity_targets.first_response(_capacity(rows, slots), priority, level, None)
        many, _ = capacity_targets.first_response(_capacity(rows, slots + more), priority, level, None)
        if few is not None:
            assert many is not None and many <= few


@settings(max_examples=60, deadline=None)
@given(rows=samples, level=st.floats(0.5, 0.98), step=st.floats(0.001, 0.5))
def test_a_higher_service_level_never_shortens_a_recommendation(rows, level, step):
    cap = _capacity(rows, 30)
    higher = min(0.99, level + step)
    for priority in ("P2", "P4"):
        for compute in (lambda lv, p=priority: capacity_targets.first_response(cap, p, lv, None),
                        lambda lv, p=priority: capacity_targets.resolution(cap, p, lv)):
            low, _ = compute(level)
            high, _ = compute(higher)
            if low is not None and high is not None:
                assert high >= low
