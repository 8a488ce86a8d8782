"""The tier report: volume, MTTR, reopen and escalation rates per first-touch tier for each component and
ticket type, where first touch happens now, which tier should take it (never a tier without evidence, so a
category the triage rules send to L2 keeps L2), whether that changes practice and why, with the thresholds, the
rules that fired and the figures with too few tickets behind them."""

from __future__ import annotations

from datetime import timedelta

import pytest

from tests.conftest import FROZEN_AT
from tests.tickets.conftest import create_ticket, patch_ticket
from tests.triage.assignment_helpers import make_component, make_queue
from tierline.platform import clock
from tierline.triage import tiers


def _history(api, *, tier, component_id, days_ago, hours, type="bug",
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
def history(admin, agent):
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


def _row(report, component_id, ticket_type):
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
    # most database bugs start at L1 (7 of 12), so moving them to L2 changes practice
    assert (database["current_first_touch"], database["changes_practice"]) == ("L1", True)
    assert database["verdict"] == "move first touch from L1 to L2: L1 MTTR 30.0h > 2 x L2 MTTR 10.0h"
    assert database["insufficient_data"] == {"L3": ["reopen_rate", "mttr_hours", "escalation_rate"]}

    login = _row(report, history["login"]["id"], "question")
    assert (login["tiers"]["L1"]["reopened"], login["tiers"]["L1"]["reopen_rate"]) == (2, 0.3333)
    assert login["recommended_first_touch"] == "L2"
    assert login["reasons"][0] == "L1 reopen rate 33% > 20% -> L2"
    assert (login["current_first_touch"], login["changes_practice"]) == ("L1", True)
    # L2 never took first touch: the hand-off rests on L1's figures, and the row says L2's are missing
    assert login["reasons"][-1] == "L2 has no first-touch data to judge by; L2 takes first touch on L1's figures"
    assert set(login["insufficient_data"]) == {"L2", "L3"}

    billing = _row(report, history["billing"]["id"], "question")
    assert billing["tiers"]["L1"]["volume"] == 5  # the escalated ticket still counts for its first tier
    assert (billing["tiers"]["L1"]["escalated"], billing["tiers"]["L1"]["escalation_rate"]) == (1, 0.2)
    assert (billing["recommended_first_touch"], billing["reasons"]) == ("L1", [])
    assert (billing["current_first_touch"], billing["changes_practice"]) == ("L1", False)
    assert billing["verdict"] == "keep L1: L1 is within every threshold on its 5 first-touch tickets"


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


def _tier(volume=0, solved=0, mttr=None, ever_solved=0, reopened=0, escalated=0):
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
    # too few L1 tickets to judge: first touch stays with L2, which has the evidence
    ({"L1": _tier(3, 3, 50.0, 3, reopened=3), "L2": _tier(9, 9, 1.0, 9), "L3": EMPTY}, "L2",
     "L1 has 3 first-touch tickets, fewer than 5: first touch starts at L2, the lowest tier with 5 or more"),
    ({"L1": EMPTY, "L2": _tier(9, 9, 1.0, 9, escalated=6), "L3": EMPTY}, "L3",
     "L2 escalated 67% of its tickets > 50% -> L3"),
    ({"L1": _tier(10, 10, 50.0, 10), "L2": _tier(10, 10, 20.0, 10, reopened=5), "L3": _tier(5, 5, 2.0, 5)},
     "L3", "L2 reopen rate 50% > 20% -> L3"),
])
def test_the_recommendation_follows_the_thresholds(figures, tier, reason):
    advice = tiers.recommend(figures)
    assert advice.tier == tier
    assert (reason in advice.reasons) if reason else all("->" not in r for r in advice.reasons)


def _routed(agent, *, component_id, days_ago, hours=10, type="bug"):
    """A ticket the triage rules route (no tier given), created `days_ago` and solved `hours` later."""
    created = FROZEN_AT - timedelta(days=days_ago)
    clock.freeze(created)
    ticket = create_ticket(agent, subject="Query failed", description="We see DB-2001 when saving.",
                           component_id=component_id, type=type)
    clock.freeze(created + timedelta(hours=hours))
    patch_ticket(agent, ticket["key"], status="solved")
    clock.freeze(FROZEN_AT)
    return ticket


def test_categories_the_rules_send_to_l2_keep_l2_instead_of_an_l1_without_data(admin, agent):
    make_queue(admin, "L1 General", "L1")
    l2 = make_queue(admin, "L2 Database", "L2")
    database, storage = make_component(admin, "Database"), make_component(admin, "Storage")
    early = [_routed(agent, component_id=storage["id"], days_ago=40 + i) for i in range(2)]
    assert {t["tier"] for t in early} == {"L1"}  # before the rule, the default queue took them
    r = admin.post("/api/v1/triage/rules", json={
        "name": "Database errors", "conditions": {"all": [
            {"field": "error_code", "op": "matches", "value": r"^DB-\d{4}$"}]},
        "actions": [{"type": "set_queue", "value": l2["id"]}]})
    assert r.status_code == 201, r.text
    routed = [_routed(agent, component_id=database["id"], days_ago=10 + i) for i in range(6)]
    routed += [_routed(agent, component_id=storage["id"], days_ago=20 + i) for i in range(5)]
    routed += [_routed(agent, component_id=database["id"], days_ago=30 + i, type="question") for i in range(3)]
    assert {t["tier"] for t in routed} == {"L2"}

    r = agent.get("/api/v1/triage/tier-report", params={"days": 90})
    assert r.status_code == 200, r.text
    report = r.json()

    bugs = _row(report, database["id"], "bug")
    assert [bugs["tiers"][tier]["volume"] for tier in ("L1", "L2", "L3")] == [0, 6, 0]
    assert bugs["current_first_touch"] == bugs["recommended_first_touch"] == "L2"
    assert bugs["changes_practice"] is False
    assert bugs["verdict"] == "keep L2: L1 has no first-touch data"
    assert all("->" not in reason for reason in bugs["reasons"])
    assert bugs["insufficient_data"] == {tier: ["reopen_rate", "mttr_hours", "escalation_rate"]
                                         for tier in ("L1", "L3")}

    # two tickets from before the rule are not enough for L1 to win back first touch
    mixed = _row(report, storage["id"], "bug")
    assert [mixed["tiers"][tier]["volume"] for tier in ("L1", "L2")] == [2, 5]
    assert (mixed["current_first_touch"], mixed["recommended_first_touch"], mixed["changes_practice"]) == (
        "L2", "L2", False)
    assert mixed["verdict"] == "keep L2: L1 has 2 first-touch tickets, fewer than 5"

    # three tickets prove nothing about any tier: practice stays as it is
    few = _row(report, database["id"], "question")
    assert (few["current_first_touch"], few["recommended_first_touch"], few["changes_practice"]) == (
        "L2", "L2", False)
    assert few["verdict"] == "keep L2: no tier has 5 first-touch tickets to judge by"
    assert set(few["insufficient_data"]) == {"L1", "L2", "L3"}


def test_a_category_without_any_tiered_ticket_shows_no_current_practice():
    advice = tiers.recommend({"L1": EMPTY, "L2": EMPTY, "L3": EMPTY})
    assert (advice.tier, advice.current, advice.changes_practice) == ("L1", None, False)
    assert advice.verdict == "keep L1: no ticket had a tier to judge by"


def test_the_verdict_gives_every_hand_off_on_the_way_up():
    advice = tiers.recommend({"L1": _tier(10, 10, 1.0, 10, reopened=3), "L2": _tier(6, 6, 9.0, 6, escalated=4),
                              "L3": _tier(2, 2, 3.0, 2)})
    assert (advice.current, advice.tier, advice.changes_practice) == ("L1", "L3", True)
    assert advice.verdict == ("move first touch from L1 to L3: L1 reopen rate 30% > 20%; "
                              "L2 escalated 67% of its tickets > 50%")
    assert advice.reasons[-1] == "L3 has 2 first-touch tickets, fewer than 5 to judge by; L3 takes first touch " \
                                 "on L2's figures"
    assert advice.insufficient == {"L3": ["reopen_rate", "mttr_hours", "escalation_rate"]}
