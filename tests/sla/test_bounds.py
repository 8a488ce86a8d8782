"""Bad SLA input is a 4xx naming the field, never a 500: business-time questions stay within the years and
spans calendars answer for, and what tickets still point at (a policy, a calendar) cannot be deleted."""

from __future__ import annotations

import pytest

from tests.sla.test_calendars_api import BERLIN
from tests.sla.test_policies_api import CAL, policy_body
from tests.tickets.conftest import create_ticket


def _field(r) -> str:  # noqa: ANN001
    assert r.status_code == 422, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    return r.json()["errors"][0]["field"]


@pytest.mark.parametrize(("params", "field"), [
    ({"start": "0210-04-18T01:03:56Z", "end": "1470-11-28T11:01:39-22:08"}, "start"),  # 12 centuries of table
    ({"start": "0001-01-01T00:00:00+01:00", "minutes": 1}, "start"),  # before year 1 in UTC
    ({"start": "9999-12-31T23:00:00-05:00", "minutes": 1}, "start"),  # after 9999 in UTC
    ({"start": "9999-12-31T23:00:00Z", "minutes": 10_000_000}, "start"),
    ({"start": "1969-12-31T23:59:59Z", "minutes": 1}, "start"),
    ({"start": "2026-01-01T00:00:00Z", "end": "2040-01-01T00:00:00Z"}, "end"),
    ({"start": "2026-01-01T00:00:00Z", "end": "2025-01-01T00:00:00Z"}, "end"),
    ({"start": "2026-01-01T00:00:00Z", "minutes": "nan"}, "minutes"),
    ({"start": "2026-01-01T00:00:00Z", "minutes": "inf"}, "minutes"),
    ({"start": "2026-01-01T00:00:00Z", "minutes": 10_000_000}, "minutes"),  # beyond fifty years of hours
    ({"start": "2026-01-01T00:00:00"}, "start"),  # naive
])
def test_a_business_time_question_out_of_bounds_is_a_422_naming_the_field(admin, params, field):
    cal = admin.post("/api/v1/sla/calendars", json={**BERLIN, "hours": {"mon": [["09:00", "10:00"]]}}).json()
    assert _field(admin.get(f"/api/v1/sla/calendars/{cal['id']}/business-time", params=params)) == field


def test_business_time_still_answers_inside_the_bounds(admin):
    cal = admin.post("/api/v1/sla/calendars", json=BERLIN).json()
    r = admin.get(f"/api/v1/sla/calendars/{cal['id']}/business-time",
                  params={"start": "2199-12-20T00:00:00Z", "minutes": 600})
    assert r.status_code == 200, r.text
    r = admin.get(f"/api/v1/sla/calendars/{cal['id']}/business-time",
                  params={"start": "1970-01-01T00:00:00Z", "end": "1979-12-31T00:00:00Z"})
    assert r.status_code == 200 and r.json()["business_minutes"] > 0, r.text


@pytest.mark.parametrize(("url", "params", "field"), [
    ("/api/v1/tickets", {"created_after": "0001-01-01T00:00:00+01:00"}, "created_after"),
    ("/api/v1/tickets", {"created_before": "9999-12-31T23:59:59-05:00"}, "created_before"),
    ("/api/v1/audit", {"since": "0001-01-01T00:30:00+00:45"}, "since"),
    ("/api/v1/sla/compliance", {"from": "0001-01-01T00:00:00+01:00", "to": "2026-01-01T00:00:00Z"}, "from"),
    ("/api/v1/sla/at-risk", {"within_minutes": "nan"}, "within_minutes"),
    ("/api/v1/sla/at-risk", {"within_minutes": "Infinity"}, "within_minutes"),
    ("/api/v1/customers", {"min_arr": "NaN"}, "min_arr"),
])
def test_times_outside_years_1_to_9999_in_utc_and_non_finite_numbers_are_a_422(admin, url, params, field):
    assert _field(admin.get(url, params=params)) == field


def test_the_extremes_of_the_range_are_fine(admin):
    for params in ({"created_after": "0001-01-01T00:00:00Z"}, {"created_before": "9999-12-31T23:59:59Z"}):
        assert admin.get("/api/v1/tickets", params=params).status_code == 200


def test_a_policy_a_ticket_matched_cannot_be_deleted_even_without_clocks(admin, agent):
    body = policy_body(match={}, targets=[{"metric": "first_response", "priority": "P1", "minutes": 30}])
    policy = admin.post("/api/v1/sla/policies", json=body).json()
    ticket = create_ticket(agent, priority="P4")
    assert ticket["sla_policy_id"] == policy["id"]
    r = admin.delete(f"/api/v1/sla/policies/{policy['id']}")
    assert r.status_code == 409, r.text
    assert admin.get(f"/api/v1/sla/policies/{policy['id']}").status_code == 200


def test_a_calendar_timing_existing_clocks_cannot_be_deleted(admin, agent):
    cal = admin.post("/api/v1/sla/calendars", json=CAL).json()
    target = {"metric": "first_response", "priority": "P3", "minutes": 60, "business_hours": True}
    policy = admin.post("/api/v1/sla/policies", json=policy_body(match={}, calendar_id=cal["id"],
                                                                 targets=[target])).json()
    create_ticket(agent)
    r = admin.patch(f"/api/v1/sla/policies/{policy['id']}",
                    json={"calendar_id": None, "targets": [{**target, "business_hours": False}]})
    assert r.status_code == 200, r.text
    r = admin.delete(f"/api/v1/sla/calendars/{cal['id']}")
    assert r.status_code == 409, r.text
    assert admin.get(f"/api/v1/sla/calendars/{cal['id']}").status_code == 200


def test_a_question_far_from_a_calendars_table_builds_a_table_of_its_own_years():
    from datetime import UTC, datetime

    from tierline.sla.business_time import BusinessCalendar, add_business_minutes, business_minutes_between

    cal = BusinessCalendar.from_dict({"timezone": "Europe/Berlin", "hours": {"mon": [["09:00", "17:00"]]}})
    add_business_minutes(cal, datetime(2026, 11, 23, tzinfo=UTC), 60)
    near = cal._table
    business_minutes_between(cal, datetime(2030, 1, 1, tzinfo=UTC), datetime(2031, 1, 1, tzinfo=UTC))
    assert (cal._table.first_year, cal._table.last_year) == (near.first_year, 2032)  # widened: years nearby
    business_minutes_between(cal, datetime(2190, 1, 1, tzinfo=UTC), datetime(2190, 2, 1, tzinfo=UTC))
    assert cal._table.first_year >= 2188  # not two centuries of table to answer one month


@pytest.mark.parametrize("quarter", ["1970Q4", "2200Q1", "5391Q3", "9998Q4"])
def test_a_capacity_plan_for_a_quarter_outside_the_calendar_years_is_a_422(admin, quarter):
    cal = admin.post("/api/v1/sla/calendars", json=CAL).json()
    r = admin.post("/api/v1/sla/recommendations", json={"quarter": quarter, "calendar_id": cal["id"]})
    assert _field(r) == "quarter"
