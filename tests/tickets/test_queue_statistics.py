"""Issue 12, the day-one views: each queue's statistics (depth, oldest, unassigned, breached, at risk) in the
queue list and on each queue, over HTTP, counting what GET /sla/at-risk lists; one grouped statement for a
whole page of queues."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.tickets.conftest import create_ticket, patch_ticket
from tests.tickets.test_reads import statements_per_page
from tierline.platform import clock, jobs

T0 = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)  # the suite's frozen "now", a Monday


def at(minutes: float) -> None:
    clock.freeze(T0 + timedelta(minutes=minutes))


def _first_response_in_an_hour(admin) -> None:  # noqa: ANN001
    r = admin.post("/api/v1/sla/policies", json={"name": "Standard", "position": 10, "targets": [
        {"metric": "first_response", "priority": p, "minutes": 60} for p in ("P1", "P2", "P3", "P4")]})
    assert r.status_code == 201, r.text


def _queue(admin, name: str) -> dict:  # noqa: ANN001
    r = admin.post("/api/v1/queues", json={"name": name, "tier": "L1"})
    assert r.status_code == 201, r.text
    return r.json()


def _stats(api, **params) -> dict[str, dict]:  # noqa: ANN001, ANN003
    r = api.get("/api/v1/queues", params=params)
    assert r.status_code == 200, r.text
    return {q["name"]: q["stats"] for q in r.json()["items"]}


def test_the_queue_list_shows_depth_oldest_unassigned_breached_and_at_risk(db, admin, agent):
    _first_response_in_an_hour(admin)
    billing, network, empty = _queue(admin, "Billing"), _queue(admin, "Network"), _queue(admin, "Empty")
    at(0)
    charged = create_ticket(agent, subject="Charged twice", queue_id=billing["id"])  # due at 60: breached by 65
    patch_ticket(agent, charged["key"], assignee_id=None)  # back to the queue: nobody owns it
    at(10)
    create_ticket(agent, subject="Refund", queue_id=billing["id"], assignee_id=agent.user_id)  # due at 70
    at(15)
    done = create_ticket(agent, subject="Invoice address", queue_id=billing["id"])
    patch_ticket(agent, done["key"], status="solved")  # solved work waits nowhere
    at(20)
    vpn = create_ticket(agent, subject="VPN drops", queue_id=network["id"])  # due at 80
    patch_ticket(agent, vpn["key"], assignee_id=None)
    at(65)
    jobs.run_until_idle(db)

    stats = _stats(agent)
    assert stats["Billing"] == {"depth": 2, "oldest_created_at": "2026-11-23T10:00:00Z",
                                "oldest_age_minutes": 65.0, "unassigned": 1, "breached": 1, "at_risk": 1,
                                "at_risk_within_minutes": 60.0}
    assert stats["Network"] == {"depth": 1, "oldest_created_at": "2026-11-23T10:20:00Z",
                                "oldest_age_minutes": 45.0, "unassigned": 1, "breached": 0, "at_risk": 1,
                                "at_risk_within_minutes": 60.0}
    assert stats["Empty"] == {"depth": 0, "oldest_created_at": None, "oldest_age_minutes": None,
                              "unassigned": 0, "breached": 0, "at_risk": 0, "at_risk_within_minutes": 60.0}
    # The window is the at-risk view's: 10 minutes reach the Refund (due at 70), not the VPN (due at 80).
    narrow = _stats(agent, within_minutes=10)
    assert (narrow["Billing"]["at_risk"], narrow["Network"]["at_risk"]) == (1, 0)
    # The same tickets as GET /sla/at-risk lists.
    items = agent.get("/api/v1/sla/at-risk", params={"within_minutes": 60}).json()["items"]
    assert sorted((i["subject"], i["breached"]) for i in items) == [
        ("Charged twice", True), ("Refund", False), ("VPN drops", False)]
    assert agent.get("/api/v1/queues", params={"within_minutes": 0}).status_code == 422
    assert empty["stats"]["depth"] == 0  # a new queue's answer has its (empty) statistics too


def test_each_queue_shows_its_statistics(db, admin, agent):
    _first_response_in_an_hour(admin)
    queue = _queue(admin, "Billing")
    charged = create_ticket(agent, subject="Charged twice", queue_id=queue["id"])
    patch_ticket(agent, charged["key"], assignee_id=None)
    at(61)
    jobs.run_until_idle(db)
    r = agent.get(f"/api/v1/queues/{queue['id']}")
    assert r.status_code == 200, r.text
    stats = r.json()["stats"]
    assert (stats["depth"], stats["unassigned"], stats["breached"], stats["at_risk"]) == (1, 1, 1, 0)
    assert stats["oldest_age_minutes"] == 61.0
    changed = admin.patch(f"/api/v1/queues/{queue['id']}", json={"description": "Invoices"}).json()
    assert changed["stats"] == stats
    assert agent.get(f"/api/v1/queues/{queue['id']}", params={"within_minutes": "nan"}).status_code == 422


def test_a_page_of_queues_costs_the_same_statements_however_many_queues_it_holds(db, admin, agent):
    _first_response_in_an_hour(admin)
    for name in ("A", "B", "C", "D", "E"):
        queue = _queue(admin, name)
        create_ticket(agent, subject=f"In {name}", queue_id=queue["id"])
    counts = statements_per_page(db, agent, "/api/v1/queues", (1, 4))
    assert counts[0] == counts[1], counts


# -- property: the statistics are a recount of the queue's tickets ---------------------------------------------

TICKET = st.tuples(st.integers(0, 2), st.integers(0, 119), st.booleans(), st.booleans())  # queue, minute,
# nobody owns it, solved


@settings(max_examples=10, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(tickets=st.lists(TICKET, max_size=8), within=st.sampled_from([5, 30, 60, 240]))
def test_queue_statistics_are_a_recount_of_each_queues_tickets(db, admin, agent, tickets, within):
    """Tickets come in over two hours with a one-hour first-response target, some solved, some owned by nobody;
    at 120.5 minutes (after the sweeps) each queue's figures are what counting its tickets by hand gives. The
    database is shared by the examples, so each one has queues of its own, at a later day of its own."""
    if not admin.get("/api/v1/sla/policies").json()["items"]:  # the first example's
        _first_response_in_an_hour(admin)
    n = next(_runs)
    base = T0 + timedelta(days=n)
    queues = [_queue(admin, f"Run {n} queue {i}") for i in range(3)]
    for queue_index, minute, unowned, solved in sorted(tickets, key=lambda t: t[1]):
        clock.freeze(base + timedelta(minutes=minute))
        t = create_ticket(agent, subject=f"Ticket at {minute}", queue_id=queues[queue_index]["id"],
                          assignee_id=agent.user_id)
        if unowned:
            patch_ticket(agent, t["key"], assignee_id=None)
        if solved:
            patch_ticket(agent, t["key"], status="solved")
    now = 120.5
    clock.freeze(base + timedelta(minutes=now))
    jobs.run_until_idle(db)

    stats = _stats(agent, within_minutes=within, limit=200)
    for i, queue in enumerate(queues):
        mine = [(minute, unowned) for q, minute, unowned, solved in tickets if q == i and not solved]
        due = [minute + 60 for minute, _ in mine]
        oldest = min((minute for minute, _ in mine), default=None)
        assert stats[queue["name"]] == {
            "depth": len(mine),
            "oldest_created_at": None if oldest is None else (base + timedelta(minutes=oldest)).isoformat()
            .replace("+00:00", "Z"),
            "oldest_age_minutes": None if oldest is None else now - oldest,
            "unassigned": sum(1 for _, unowned in mine if unowned),
            "breached": sum(1 for d in due if d <= now),
            "at_risk": sum(1 for d in due if now < d <= now + within),
            "at_risk_within_minutes": within,
        }, (queue["name"], tickets)


_runs = itertools.count(1)
