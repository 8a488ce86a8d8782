"""Issue 12, the day-one views: each agent's open work against `max_open_tickets` in the user list and on
each user, over HTTP, read for a whole page in one statement."""

from __future__ import annotations

from tests.tickets.conftest import create_ticket, patch_ticket
from tests.tickets.test_reads import statements_per_page


def _set_capacity(admin, user_id: int, max_open: int) -> None:  # noqa: ANN001
    r = admin.patch(f"/api/v1/users/{user_id}", json={"max_open_tickets": max_open})
    assert r.status_code == 200, r.text


def _work(user: dict) -> tuple[int, int, int, bool]:
    return user["open_tickets"], user["weighted_load"], user["max_open_tickets"], user["at_capacity"]


def test_the_user_list_shows_each_agents_open_work_against_their_capacity(admin, agent, factory):
    busy = factory.api(agent.client, roles=["agent_l2"], email="busy@example.com")
    create_ticket(agent, subject="Export button greyed out", priority="P1", assignee_id=busy.user_id)
    create_ticket(agent, subject="Change of address", priority="P3", assignee_id=busy.user_id)
    solved = create_ticket(agent, subject="Where is my invoice", priority="P2", assignee_id=busy.user_id)
    patch_ticket(agent, solved["key"], status="solved")  # finished work is off their desk
    create_ticket(agent, subject="New seat", priority="P4", assignee_id=agent.user_id)
    _set_capacity(admin, busy.user_id, 2)

    r = admin.get("/api/v1/users")
    assert r.status_code == 200, r.text
    users = {u["email"]: u for u in r.json()["items"]}
    assert _work(users["busy@example.com"]) == (2, 4 + 2, 2, True)
    assert _work(users["agent@example.com"]) == (1, 1, 20, False)
    assert _work(users["admin@example.com"])[:2] == (0, 0)
    one = admin.get(f"/api/v1/users/{busy.user_id}")
    assert one.status_code == 200 and one.json() == users["busy@example.com"]

    patch_ticket(agent, solved["key"], status="open")  # reopened: back on the desk, over capacity
    assert _work(admin.get(f"/api/v1/users/{busy.user_id}").json()) == (3, 4 + 3 + 2, 2, True)
    assert _work(admin.get("/api/v1/users", params={"role": "agent_l2"}).json()["items"][0]) == (3, 9, 2, True)


def test_a_page_of_users_costs_the_same_statements_however_many_users_it_holds(db, admin, agent, factory):
    for n in range(3):
        other = factory.user(roles=["agent_l1"], email=f"agent{n}@example.com")
        create_ticket(agent, subject=f"For {n}", assignee_id=other.id)
    counts = statements_per_page(db, admin, "/api/v1/users", (1, 4))
    assert counts[0] == counts[1], counts
