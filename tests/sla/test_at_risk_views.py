"""Issue 12, the day-one views: the morning risk review names each item's customer (with ARR) and assignee,
and a page of it costs the same statements however many assignees it names. Over HTTP."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from tests.tickets.conftest import create_ticket
from tests.tickets.test_reads import statements_per_page
from tierline.platform import clock, jobs

T0 = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)


def test_at_risk_items_name_the_customer_its_arr_and_the_assignee_in_few_statements(db, admin, agent, factory):
    r = admin.post("/api/v1/sla/policies", json={"name": "Standard", "position": 10, "targets": [
        {"metric": "first_response", "priority": p, "minutes": 60} for p in ("P1", "P2", "P3", "P4")]})
    assert r.status_code == 201, r.text
    customer = admin.post("/api/v1/customers", json={"name": "Cobalt Software", "external_id": "cobalt",
                                                     "arr": 329500}).json()
    names = ["Dana Reyes", "Sam Okafor", "Lee Park", "Ana Silva"]
    for n, name in enumerate(names):
        user = factory.user(roles=["agent_l2"], email=f"l2-{n}@example.com", name=name)
        clock.freeze(T0 + timedelta(minutes=n))
        create_ticket(agent, subject=f"Sync stalls {n}", customer_id=customer["id"], assignee_id=user.id)
    clock.freeze(T0 + timedelta(minutes=90))
    jobs.run_until_idle(db)

    items = agent.get("/api/v1/sla/at-risk").json()["items"]
    assert [(i["assignee_name"], i["customer_name"], i["customer_arr"], i["breached"]) for i in items] == [
        (name, "Cobalt Software", 329500, True) for name in names]
    counts = statements_per_page(db, agent, "/api/v1/sla/at-risk", (1, 3))
    assert counts[0] == counts[1], counts
