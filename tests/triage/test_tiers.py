"""The tier report: volume, MTTR, reopen and escalation rates per first-touch tier for each component and
ticket type, and which tier should take first touch, with the thresholds and the rules that fired."""

from __future__ import annotations

from datetime import timedelta

import pytest

from tests.conftest import FROZEN_AT
from tests.tickets.conftest import create_ticket, patch_ticket
from tests.triage.assignment_helpers import make_component, make_queue
from tierline.platform import clock
from tierline.triage import tiers


def _history(api, *, tier, component_id, days_ago, hours, type="bug",  # noqa: A002, ANN001, ANN202
             reopen=False, escalate=False):
    """A ticket created `days_ago`, solved `hours` later (None: still open), perhaps reopened and solved again
    (the final solve still `hours` after creation), perhaps escalated from its first tier."""
    created = FROZEN_AT - timedelta(days=days_ago)
    clock.freeze(created)
    ticket = create_ticket(api, tier=tier, component_id=component_id, type=type, error_code="DB-1042")
    if escalate:
        clock.freeze(created + timedelta(minutes=30))
        r = api.post(f"/api/v1/tickets/{ticket['key']}/escalate", json={"to_tier": "L2", "reason": "hard"})
        assert r.status_code == 200, r.text
    if hours is not None:
        if reopen:
            clock.freeze(created + timedelta(hours=hours / 2))
            patch_ticket(api, ticket["key"], status="solved")
            clock.freeze(created + timedelta(hours=hours / 2, minutes=30))
            patch_ticket(api, ticket["key"], status="open")
        clock.freeze(created + timedelta(hours=hours))
        patch_ticket(api, ticket["key"], status="solved")
    clock.freeze(FROZEN_AT)
    return ticket


@pytest.fixture
def history(admin, agent):  # noqa: ANN001, ANN201
    for tier in ("L1", "L2", "L3"):
        make_queue(admin, f"{tier} general", tier)
    database = make_component(admin, "Database")
    login = make_component(admin, "Login")
    billing = make_component(admin, "Billing")
    for i in range(6):  # L1 is slow on database bugs: 30 h against L2's 10 h
        _history(agent, tier="L1", component_id=database["id"], days_ago=10 + i, hours=30)
    for i in range(5):
        _history(agent, tier="L2", component_id=database["id"], days_ago=10 + i, hours=10)
    _history(agent, tier="L1", component_id=database["id"], days_ago=5, hours=None)  # still open
    _history(agent, tier="L1", component_id=database["id"], days_ago=120, hours=500)  # outside 90 days
    for i in range(6):  # L1 answers login questions fast, but a third of them come back
        _history(agent, tier="L1", component_id=login["id"], days_ago=20 + i, hours=2, type="question",
                 reopen=i < 2)
    for i in range(5):  # billing questions: L1 does fine; one was escalated anyway
        _history(agent, tier="L1", component_id=billing["id"], days_ago=30 + i, hours=1, type="question",
                 escalate=i == 0)
    return {"database": database, "login": login, "billing": billing}


def _row(report, component_id, ticket_type):  # noqa: ANN001, ANN202
    [row] = [r for r in report["rows"] if r["component_id"] == component_id and r["type"] == ticket_type]
    return row


def test_it_reports_each_tiers_figures_and_recommends_first_touch(agent, history):
    r = agent.get("/api/v1/triage/tier-report", params={"days": 90})
    assert r.status_code == 200, r.text
    report = r.json()
    assert report["days"] == 90 and report["thresholds"] == tiers.THRESHOLDS
    assert [row["volume"] for row in report["rows"]] == [12, 6, 5]  # largest first

    database = _row(report, history["database"]["id"], "bug")
    assert database["component"] == "Database"
    l1, l2 = database["tiers"]["L1"], database["tiers"]["L2"]
    assert (l1["volume"], l1["solved"], l1["mttr_hours"], l1["reopen_rate"]) == (7, 6, 30.0, 0.0)
    assert (l2["volume"], l2["solved"], l2["mttr_hours"]) == (5, 5, 10.0)
    assert database["tiers"]["L3"]["volume"] == 0 and database["tiers"]["L3"]["mttr_hours"] is None
    assert database["recommended_first_touch"] == "L2"
    assert database["reasons"][0] == "L1 MTTR 30.0h > 2 x L2 MTTR 10.0h -> L2"

    login = _row(report, history["login"]["id"], "question")
    assert (login["tiers"]["L1"]["reopened"], login["tiers"]["L1"]["reopen_rate"]) == (2, 0.3333)
    assert login["recommended_first_touch"] == "L2"
    assert login["reasons"][0] == "L1 reopen rate 33% > 20% -> L2"

    billing = _row(report, history["billing"]["id"], "question")
    assert billing["tiers"]["L1"]["volume"] == 5  # the escalated ticket still counts for its first tier
    assert (billing["tiers"]["L1"]["escalated"], billing["tiers"]["L1"]["escalation_rate"]) == (1, 0.2)
    assert (billing["recommended_first_touch"], billing["reasons"]) == ("L1", [])


def test_the_window_and_filters_narrow_the_report(agent, history):
    report = agent.get("/api/v1/triage/tier-report", params={"days": 365}).json()
    assert _row(report, history["database"]["id"], "bug")["volume"] == 13
    recent = agent.get("/api/v1/triage/tier-report", params={"days": 12}).json()
    # L1 and L2 tickets from 10, 11 and 12 days ago, and the open L1 one from 5 days ago
    assert [r["volume"] for r in recent["rows"]] == [7]
    only = agent.get("/api/v1/triage/tier-report",
                     params={"component_id": history["login"]["id"], "type": "question"}).json()
    assert [r["component"] for r in only["rows"]] == ["Login"]
    assert agent.get("/api/v1/triage/tier-report", params={"type": "task"}).json()["rows"] == []
    assert agent.get("/api/v1/triage/tier-report", params={"component_id": 999}).json()["rows"] == []


@pytest.mark.parametrize(("params", "field"), [({"days": 0}, "days"), ({"days": "x"}, "days"),
                                                ({"type": "rant"}, "type")])
def test_bad_parameters_name_the_field(agent, params, field):
    r = agent.get("/api/v1/triage/tier-report", params=params)
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == field


def test_customers_cannot_read_the_tier_report(client, factory):
    customer = factory.api(client, roles=["customer"], email="jane@acme.example")
    assert customer.get("/api/v1/triage/tier-report").status_code == 403


def _tier(volume=0, solved=0, mttr=None, ever_solved=0, reopened=0, escalated=0):  # noqa: ANN001, ANN202
    return {"volume": volume, "solved": solved, "mttr_hours": mttr, "median_hours": mttr,
            "ever_solved": ever_solved, "reopened": reopened,
            "reopen_rate": reopened / ever_solved if ever_solved else None, "escalated": escalated,
            "escalation_rate": escalated / volume if volume else None}


EMPTY = _tier()


@pytest.mark.parametrize(("figures", "tier", "reason"), [
    ({"L1": _tier(10, 10, 5.0, 10), "L2": _tier(10, 10, 4.0, 10), "L3": EMPTY}, "L1", None),
    ({"L1": _tier(10, 10, 9.0, 10), "L2": _tier(10, 10, 4.0, 10), "L3": EMPTY}, "L2",
     "L1 MTTR 9.0h > 2 x L2 MTTR 4.0h -> L2"),
    # too few L2 tickets to compare with
    ({"L1": _tier(10, 10, 9.0, 10), "L2": _tier(4, 4, 1.0, 4), "L3": EMPTY}, "L1", None),
    ({"L1": _tier(10, 10, 1.0, 10, reopened=3), "L2": EMPTY, "L3": EMPTY}, "L2",
     "L1 reopen rate 30% > 20% -> L2"),
    ({"L1": _tier(10, 10, 1.0, 10, reopened=2), "L2": EMPTY, "L3": EMPTY}, "L1", None),  # 20% is not above
    ({"L1": _tier(10, 10, 1.0, 10, escalated=6), "L2": EMPTY, "L3": EMPTY}, "L2",
     "L1 escalated 60% of its tickets > 50% -> L2"),
    ({"L1": _tier(3, 3, 50.0, 3, reopened=3), "L2": _tier(9, 9, 1.0, 9), "L3": EMPTY}, "L1",
     "L1: 3 tickets, fewer than 5 to judge by; L1 takes first touch until there are more"),
    ({"L1": _tier(10, 10, 50.0, 10), "L2": _tier(10, 10, 20.0, 10, reopened=5), "L3": _tier(5, 5, 2.0, 5)},
     "L3", "L2 reopen rate 50% > 20% -> L3"),
])
def test_the_recommendation_follows_the_thresholds(figures, tier, reason):
    chosen, reasons = tiers.recommend(figures)
    assert chosen == tier
    assert (reason in reasons) if reason else all("->" not in r for r in reasons)
