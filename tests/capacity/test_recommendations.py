"""Capacity-based SLA targets over HTTP: a quarter of seeded tickets worked by people on shift, the Erlang C
recommendation per policy and priority, staffing changes, the rule that a met target is not loosened without
evidence, applying one to its policy (audited, once), bad input, the CLI (finding 7 of issue 12)."""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from typer.testing import CliRunner

from tests.helpers import SYSTEM
from tierline.capacity import erlang
from tierline.capacity.inputs import parse_quarter
from tierline.capacity.models import SlaRecommendation
from tierline.cli import app as cli
from tierline.flows import intake, messages, ticket_update
from tierline.platform import clock
from tierline.platform.auth import service as auth_service
from tierline.sla.models import SlaPolicy
from tierline.tickets import service as tickets_service
from tierline.tickets.schemas import TicketCreate

LONDON = ZoneInfo("Europe/London")
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri")
# Open one hour a weekday, so two tickets a weekday are an arrival rate of exactly 2 per open hour.
CALENDAR = {"name": "Morning desk", "timezone": "Europe/London",
            "hours": {d: [["09:00", "10:00"]] for d in WEEKDAYS}}
# Each ticket: created at 09:mm, first agent touch 30 minutes later, pending the customer from 24 minutes after
# that until 09:10 the next business day, solved at 09:50. In business minutes of the one-hour calendar:
FIRST_RESPONSE = 30.0
WORKING = 24.0 + 40.0       # touch -> pending, then 09:10 -> 09:50: the agent's working time
ARRIVALS = ((0, False), (5, False))  # minutes past nine of the day's two tickets (not slow)
ELAPSED = {0: 30.0 + 50.0, 5: 25.0 + 50.0}  # first touch to solve with the pause left in
RESOLUTION = 54.0 + 40.0   # the resolution clock, paused while pending (the policy's default)
RATE = float(len(ARRIVALS))  # tickets per open hour
LOAD = RATE * WORKING / 60.0  # Erlangs


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


def seed_quarter(db, *, agent_ids: list[int], team_id: int, label: str = "2026Q3", priority: str = "P3",
                 day_plan: Callable[[date, int], tuple[tuple[int, bool], ...]] | None = None) -> int:
    """Two tickets per weekday of the quarter (or what `day_plan(day, weekday number)` says: minutes past nine,
    and whether the ticket is slow, solved a business day later), taken in turn by the agents, through intake,
    messages and ticket updates under a frozen clock (so the audit trail holds every status change at its
    instant)."""
    n = 0
    with db.unit_of_work() as session:
        agents = [auth_service.actor_for(auth_service.get_user(session, user_id=a), via="token")
                  for a in agent_ids]
        for i, day in enumerate(_quarter_weekdays(label)):
            for minute, slow in (ARRIVALS if day_plan is None else day_plan(day, i)):
                agent, agent_id = agents[n % len(agents)], agent_ids[n % len(agents)]
                n += 1
                with clock.frozen(_at(day, 9, minute)):
                    ticket = intake.create_ticket(session, actor=SYSTEM, data=TicketCreate(
                        subject="Export fails", description="The nightly export fails with E42.",
                        requester_email="ops@customer.example", priority=priority, team_id=team_id))
                with clock.frozen(_at(day, 9, minute + 30)):
                    messages.create(session, actor=agent, ticket_key=ticket.key, body="Looking into it now.")
                    ticket_update.update(session, actor=agent, ticket=ticket, changes={"assignee_id": agent_id})
                with clock.frozen(_at(day, 9, minute + 54)):
                    ticket_update.update(session, actor=agent, ticket=ticket,
                                         changes={"status": "pending_customer"})
                following = _next_weekday(day)
                with clock.frozen(_at(following, 9, 10)):
                    ticket_update.update(session, actor=agent, ticket=ticket, changes={"status": "open"})
                if slow:
                    following = _next_weekday(following)
                with clock.frozen(_at(following, 9, 50)):
                    ticket_update.update(session, actor=agent, ticket=ticket, changes={"status": "solved"})
    return n


def _people(admin, n: int, *, timezone: str = "Europe/London") -> list[int]:
    ids = []
    for _ in range(n):
        i = len(admin.get("/api/v1/users", params={"limit": 200}).json()["items"])
        r = admin.post("/api/v1/users", json={"email": f"l1-{i}@example.com", "name": f"Agent {i}",
                                              "roles": ["agent_l1"], "timezone": timezone})
        assert r.status_code == 201, r.text
        ids.append(r.json()["id"])
    return ids


@pytest.fixture
def desk(admin):
    """A team of four L1 agents in London, a one-hour-a-day calendar and a policy."""
    agents = _people(admin, 4)
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


def _row(run: dict, priority: str, metric: str, policy_id: int | None = None) -> dict:
    return next(i for i in run["items"] if (i["priority"], i["metric"]) == (priority, metric)
                and (policy_id is None or i["policy_id"] == policy_id))


def _set_first_response_target(admin, desk, minutes: int) -> None:
    r = admin.patch(f"/api/v1/sla/policies/{desk['policy_id']}", json={"targets": [
        {"metric": "first_response", "priority": "P3", "minutes": minutes, "business_hours": True},
        {"metric": "resolution", "priority": "P3", "minutes": 600, "business_hours": True}]})
    assert r.status_code == 200, r.text


def test_handle_time_is_working_time_and_agents_are_people_on_shift(db, admin, desk):
    n = seed_quarter(db, agent_ids=desk["agents"], team_id=desk["team_id"])
    run = _compute(admin, team_id=desk["team_id"], service_level=0.9)
    assert run["quarter"] == "2026Q4" and run["observed_quarter"] == "2026Q3"
    assert len(run["items"]) == 8
    fr, res = _row(run, "P3", "first_response"), _row(run, "P3", "resolution")

    # Beside the current target and the rate achieved last quarter, with the inputs that drove it.
    assert (fr["policy_id"], fr["current_minutes"]) == (desk["policy_id"], 60)
    assert fr["business_hours"] is True and fr["calendar_id"] == desk["calendar_id"]
    assert fr["achieved_percent"] == 100.0 and res["achieved_percent"] == 100.0
    inputs = fr["inputs"]
    assert inputs["tickets"] == n and inputs["arrivals_by_priority"]["P3"] == n
    assert inputs["policy"]["name"] == "Standard"

    # Handle time: the agent's working time, not the elapsed time with the customer's pause in it.
    handle = inputs["handle_time"]["by_priority"]["P3"]
    assert handle["mean_minutes"] == pytest.approx(WORKING)
    assert handle["mean_elapsed_minutes"] == pytest.approx(sum(ELAPSED.values()) / 2)
    assert handle["mean_paused_minutes"] == pytest.approx(sum(ELAPSED.values()) / 2 - WORKING)
    assert inputs["handle_time"]["sources"] == {"status history": n}

    # Servers: the four people on shift in the open hour, not their open-ticket slots.
    assert inputs["staffing"]["agents_now"] == 4 and inputs["staffing"]["agents_then"] == 4
    assert inputs["agents_on_shift"] == {"min": 4, "max": 4, "mean": 4.0}
    assert inputs["offered_load_erlangs"] == pytest.approx(LOAD)
    assert len(inputs["hours_of_week"]) == 5 and inputs["busiest_hour"]["timezone"] == "Europe/London"
    pw = erlang.erlang_c(4, LOAD)
    assert inputs["probability_of_waiting"] == pytest.approx(pw, abs=1e-6) and 0.05 < pw < 0.95
    # The model explains last quarter as it is (its people would have answered 90% within 25 minutes; they
    # answered in 30): no calibration, and the team's reaction time, not capacity, sets the target.
    assert inputs["calibration"]["effort_share"] == 1.0
    assert inputs["answer_time_minutes"] == pytest.approx(erlang.answer_time(4, LOAD, WORKING, 0.9), abs=1e-4)
    assert inputs["observed_first_response"]["quantile_minutes"] == pytest.approx(FIRST_RESPONSE)
    assert inputs["binding"] == "observed first response"
    assert fr["recommended_minutes"] == FIRST_RESPONSE and inputs["decision"]["outcome"] == "tighter"
    assert res["recommended_minutes"] == RESOLUTION and res["inputs"]["decision"]["outcome"] == "tighter"
    assert res["inputs"]["sources"] == {"sla_clock": n}

    # Priorities without tickets recommend nothing, and say why.
    p1 = _row(run, "P1", "first_response")
    assert p1["recommended_minutes"] is None and "too few P1 tickets" in p1["inputs"]["reason"]


def test_a_met_target_loosens_when_fewer_people_are_on_shift_and_only_as_far_as_they_need(db, admin, desk):
    seed_quarter(db, agent_ids=desk["agents"], team_id=desk["team_id"])
    r = admin.patch(f"/api/v1/users/{desk['agents'][3]}", json={"available": False})
    assert r.status_code == 200, r.text
    fr = _row(_compute(admin, team_id=desk["team_id"], service_level=0.9), "P3", "first_response")
    inputs = fr["inputs"]
    assert inputs["staffing"]["agents_now"] == 3 and inputs["agents_on_shift"]["max"] == 3
    assert inputs["predicted_service_level_at_current_target_with_last_quarters_people"] >= 0.9
    assert inputs["predicted_service_level_at_current_target"] < 0.9
    assert fr["recommended_minutes"] == math.ceil(erlang.answer_time(3, LOAD, WORKING, 0.9)) > 60
    assert inputs["decision"]["outcome"] == "looser"
    assert inputs["extra_agents_needed_for_current_target"] == 1

    # Two people cannot carry the work at all: unstable, and said so.
    r = admin.patch(f"/api/v1/users/{desk['agents'][2]}", json={"available": False})
    assert r.status_code == 200, r.text
    fr = _row(_compute(admin, team_id=desk["team_id"]), "P3", "first_response")
    assert fr["recommended_minutes"] is None and fr["inputs"]["reason"].startswith("unstable")


def test_a_met_resolution_target_is_not_loosened_for_a_slow_busy_hour(db, admin, desk):
    # Finding 7 suggested loosening P1 resolution from 8 h to 20 h 29 min. Here Mondays and Tuesdays are the
    # busy days (three tickets, one on other days), and on nine Mondays a ticket took a day longer: 92% of
    # tickets met the 2-hour target, but the busy days' 90th percentile did not. The target stays.
    r = admin.patch(f"/api/v1/sla/policies/{desk['policy_id']}", json={"targets": [
        {"metric": "first_response", "priority": "P3", "minutes": 60, "business_hours": True},
        {"metric": "resolution", "priority": "P3", "minutes": 120, "business_hours": True}]})
    assert r.status_code == 200, r.text
    mondays: list[date] = []

    def plan(day: date, _: int) -> tuple[tuple[int, bool], ...]:
        if day.weekday() == 0:
            mondays.append(day)
        if day.weekday() in (0, 1):
            return ((0, day.weekday() == 0 and len(mondays) <= 9), (2, False), (4, False))
        return ((0, False),)

    n = seed_quarter(db, agent_ids=desk["agents"], team_id=desk["team_id"], day_plan=plan)
    res = _row(_compute(admin, team_id=desk["team_id"], service_level=0.9), "P3", "resolution")
    decision = res["inputs"]["decision"]
    assert res["inputs"]["busy_hours"] == ["Mon 09:00", "Tue 09:00"]
    assert decision["candidate_minutes"] == RESOLUTION + 60 > 120
    assert decision["met_percent"] == pytest.approx(100 * (n - 9) / n, abs=0.01)
    assert decision["met_percent"] >= 90
    assert res["achieved_percent"] >= 90  # the clocks, decided inside the quarter, say the same
    assert res["recommended_minutes"] == 120 and decision["outcome"] == "kept"
    assert "nothing supports loosening" in decision["why"] and "nothing supports loosening" in res["inputs"]["summary"]


def test_people_are_on_shift_in_their_own_time_zone(db, admin, desk):
    # Tokyo's 09:00-17:00 ends as London's desk opens (17:00 JST is 09:00 BST): nobody serves it.
    seed_quarter(db, agent_ids=desk["agents"], team_id=desk["team_id"])
    tokyo = _people(admin, 3, timezone="Asia/Tokyo")
    for agent_id in desk["agents"]:
        assert admin.patch(f"/api/v1/users/{agent_id}", json={"available": False}).status_code == 200
    r = admin.patch(f"/api/v1/teams/{desk['team_id']}", json={"member_ids": desk["agents"] + tokyo})
    assert r.status_code == 200, r.text
    fr = _row(_compute(admin, team_id=desk["team_id"]), "P3", "first_response")
    assert fr["recommended_minutes"] is None and "nobody serving this policy is on shift" in fr["inputs"]["reason"]
    assert fr["inputs"]["staffing"]["timezones_now"] == {"Asia/Tokyo": 3}

    late = _row(_compute(admin, team_id=desk["team_id"], shift="10:00-18:00"), "P3", "first_response")
    assert late["inputs"]["agents_on_shift"]["max"] == 3 and late["recommended_minutes"] is not None
    assert late["inputs"]["staffing"]["shift"] == "10:00-18:00"


def test_every_active_policy_and_priority_is_covered(db, admin, desk):
    vip = admin.post("/api/v1/sla/policies", json={
        "name": "VIP", "position": 0, "match": {"tags_any": ["vip"]},
        "targets": [{"metric": "first_response", "priority": "P1", "minutes": 15, "business_hours": False}]})
    assert vip.status_code == 201, vip.text
    seed_quarter(db, agent_ids=desk["agents"], team_id=desk["team_id"])
    run = _compute(admin, team_id=desk["team_id"])
    assert len(run["items"]) == 16
    assert {(i["policy_id"], i["priority"], i["metric"]) for i in run["items"]} == {
        (p, pr, m) for p in (desk["policy_id"], vip.json()["id"]) for pr in ("P1", "P2", "P3", "P4")
        for m in ("first_response", "resolution")}
    vip_p3 = _row(run, "P3", "first_response", vip.json()["id"])
    assert vip_p3["current_minutes"] is None and vip_p3["inputs"]["tickets"] == 0
    assert vip_p3["recommended_minutes"] is None and "too few P3 tickets" in vip_p3["inputs"]["reason"]
    # Its P1 target runs in calendar minutes, so its plan does too.
    assert _row(run, "P1", "first_response", vip.json()["id"])["business_hours"] is False
    assert _row(run, "P3", "first_response", desk["policy_id"])["recommended_minutes"] is not None


def test_reaction_time_binds_when_people_are_plentiful(db, admin, desk):
    more = _people(admin, 6)
    r = admin.patch(f"/api/v1/teams/{desk['team_id']}", json={"member_ids": desk["agents"] + more})
    assert r.status_code == 200, r.text
    seed_quarter(db, agent_ids=desk["agents"] + more, team_id=desk["team_id"])
    fr = _row(_compute(admin, team_id=desk["team_id"], service_level=0.8), "P3", "first_response")
    assert fr["inputs"]["answer_time_minutes"] == 0.0
    assert fr["inputs"]["binding"] == "observed first response"
    assert fr["recommended_minutes"] == FIRST_RESPONSE


def test_an_unstaffed_team_gets_no_first_response_target_and_is_told_why(db, admin, desk):
    seed_quarter(db, agent_ids=desk["agents"], team_id=desk["team_id"])
    for agent_id in desk["agents"]:
        assert admin.patch(f"/api/v1/users/{agent_id}", json={"available": False}).status_code == 200
    fr = _row(_compute(admin, team_id=desk["team_id"]), "P3", "first_response")
    assert fr["recommended_minutes"] is None and "nobody serving this policy" in fr["inputs"]["reason"]


def test_working_time_reads_the_status_history_of_the_tickets_it_measures(db, desk):
    seed_quarter(db, agent_ids=desk["agents"], team_id=desk["team_id"])
    q = parse_quarter("2026Q3")
    with db.unit_of_work() as session:
        rows = tickets_service.work_records(session, start=q.start, end=q.end, team_id=desk["team_id"])
    first = rows[0]
    assert first.first_touch_at == first.first_response_at and first.assignee_id == desk["agents"][0]
    assert first.first_touch_at.tzinfo is not None


def test_applying_a_recommendation_changes_the_policy_once_and_is_audited(db, admin, agent, desk, factory):
    seed_quarter(db, agent_ids=desk["agents"], team_id=desk["team_id"])
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
    seed_quarter(db, agent_ids=desk["agents"], team_id=desk["team_id"])
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
    ({"quarter": "2026Q4", "shift": "9-5"}, "shift"),
    ({"quarter": "2026Q4", "shift": "09:00-09:00"}, "shift"),
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
    seed_quarter(db, agent_ids=desk["agents"], team_id=desk["team_id"])
    r = _run_cli("sla", "recommend", "--quarter", "2026Q4", "--team-id", str(desk["team_id"]), "--json")
    assert r.exit_code == 0, r.output
    run = json.loads(r.output)
    fr = _row(run, "P3", "first_response")
    assert fr["current_minutes"] == 60 and fr["recommended_minutes"] >= 1
    assert fr["inputs"]["handle_time"]["by_priority"]["P3"]["mean_minutes"] == pytest.approx(WORKING)
    assert fr["inputs"]["hours_of_week"] and fr["inputs"]["decision"]["why"]
    listed = admin.get("/api/v1/sla/recommendations", params={"run_id": run["run_id"]}).json()["items"]
    assert sorted(i["id"] for i in listed) == sorted(i["id"] for i in run["items"])

    table = _run_cli("sla", "recommend", "--quarter", "2026Q4", "--service-level", "0.8",
                     "--team-id", str(desk["team_id"]))
    assert table.exit_code == 0, table.output
    for text in ("first response", "resolution", "P3", "achieved %", "P(wait)", "Standard (policy",
                 "1h (business)", "working time", "agents on shift"):
        assert text in table.output, text


def test_the_cli_refuses_a_bad_quarter_or_level_with_exit_2(db, factory):
    assert _run_cli("sla", "recommend", "--quarter", "2026Q7").exit_code == 2
    assert _run_cli("sla", "recommend", "--quarter", "2026Q4", "--service-level", "1.2").exit_code == 2
    assert factory.count(SlaRecommendation) == 0 and factory.count(SlaPolicy) == 0


@pytest.mark.parametrize("width", [60, 80, 120])
def test_the_cli_table_fits_the_terminal(db, desk, width):
    seed_quarter(db, agent_ids=desk["agents"], team_id=desk["team_id"])
    r = CliRunner().invoke(cli, ["sla", "recommend", "--quarter", "2026Q4", "--team-id", str(desk["team_id"])],
                           terminal_width=width, env={"COLUMNS": str(width)})
    assert r.exit_code == 0, r.output
    lines = r.output.splitlines()
    assert max(len(line) for line in lines) <= width
    listed = [line.split(" ", 1)[0] for line in lines if line.startswith("#")]
    assert len(listed) == 8  # every row's key inputs are there, none cut off


def test_the_cli_refuses_a_bad_shift_with_exit_2(db, factory):
    assert _run_cli("sla", "recommend", "--quarter", "2026Q4", "--shift", "late").exit_code == 2
    assert factory.count(SlaRecommendation) == 0
