"""The problems API: list (filters, orders, keyset pages), one problem with its tickets and customers, and
PATCH along the status machine, for the owner, and to tell the linked tickets of a fix."""

from __future__ import annotations

import itertools

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.helpers import SYSTEM
from tests.problems.conftest import ARR, World, record, row_counts
from tierline.platform import clock, jobs
from tierline.problems import service
from tierline.problems.models import STATUSES, Problem

PROBLEM_JSON = "application/problem+json"
SUMMARY = "Downloads of stored files failed with an access error for some accounts; they work again."


def _make(world: World, code: str, customers: list[int], component_id: int | None = None) -> str:
    component_id = world.component_id if component_id is None else component_id
    answers = [record(world.db, customer_id=world.customer_ids[c], component_id=component_id, error_code=code)
               for c in customers]
    return answers[-1][1]["problem_key"]


def _three(world: World) -> tuple[str, str, str]:
    a = _make(world, "DB-1001", [0, 1, 2, 0, 1])  # 5 tickets, 3 customers, 210,000
    b = _make(world, "DB-1002", [4, 3, 2, 4, 3, 2])  # 6 tickets, 3 customers, 879,500.50
    c = _make(world, "DB-1003", [0, 1, 2, 3, 0], world.child_component_id)  # 5, 4 customers, 219,500.50
    return a, b, c


def _keys(api, **params) -> list[str]:  # noqa: ANN001, ANN003
    r = api.get("/api/v1/problems", params=params)
    assert r.status_code == 200, r.text
    return [p["key"] for p in r.json()["items"]]


def _all_pages(api, **params) -> list[str]:  # noqa: ANN001, ANN003
    keys, cursor = [], None
    for _ in range(10):
        page = {**params, "limit": 1, **({"cursor": cursor} if cursor else {})}
        r = api.get("/api/v1/problems", params=page)
        assert r.status_code == 200, r.text
        keys += [p["key"] for p in r.json()["items"]]
        cursor = r.json()["next_cursor"]
        if cursor is None:
            return keys
    raise AssertionError("pagination did not end")


def test_the_list_orders_by_exposure_customers_or_tickets_largest_first(world, agent):
    a, b, c = _three(world)
    assert _keys(agent) == [b, c, a]  # arr_exposure by default
    assert _keys(agent, order_by="arr_exposure") == [b, c, a]
    assert _keys(agent, order_by="customer_count") == [c, b, a]  # b and a tie at 3: the newer first
    assert _keys(agent, order_by="ticket_count") == [b, c, a]
    for order in ("arr_exposure", "customer_count", "ticket_count", "last_seen"):
        assert _all_pages(agent, order_by=order) == _keys(agent, order_by=order)
    item = agent.get("/api/v1/problems").json()["items"][0]
    assert item["arr_exposure"] == ARR[4] + ARR[3] + ARR[2]
    assert (item["ticket_count"], item["customer_count"], item["status"]) == (6, 3, "open")


def test_the_list_filters_by_status_component_owner_and_regression(world, agent):
    a, b, c = _three(world)
    with world.db.unit_of_work() as s:
        service.update(s, actor=SYSTEM, key=a, changes={"status": "investigating"})
    assert _keys(agent, status="investigating") == [a]
    assert set(_keys(agent, status=["open", "investigating"])) == {a, b, c}
    assert _keys(agent, component_id=world.child_component_id) == [c]
    assert set(_keys(agent, component_id=world.component_id)) == {a, b, c}  # the subtree
    assert set(_keys(agent, owner_team_id=world.team_id)) == {a, b, c}
    assert _keys(agent, regression="true") == []
    assert _keys(agent, component_id=999) == []


def test_bad_list_parameters_are_422_naming_the_parameter(world, agent):
    for params, field in [({"order_by": "revenue"}, "order_by"), ({"status": "done"}, "status.0"),
                          ({"limit": 0}, "limit"), ({"component_id": "x"}, "component_id"),
                          ({"cursor": "not-a-cursor"}, "cursor"), ({"colour": "red"}, "colour")]:
        r = agent.get("/api/v1/problems", params=params)
        assert r.status_code == 422, (params, r.text)
        assert r.headers["content-type"].startswith(PROBLEM_JSON)
        assert [e["field"] for e in r.json()["errors"]] == [field], r.json()


def test_a_problem_shows_its_tickets_and_customers(world, agent):
    key = _make(world, "DB-1001", [0, 1, 2, 0, 4])
    r = agent.get(f"/api/v1/problems/{key}")
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["key"] == key and body["ticket_count"] == 5 and body["tickets_truncated"] is False
    assert len(body["tickets"]) == 5 and body["tickets"][0]["key"] > body["tickets"][-1]["key"]
    assert {t["status"] for t in body["tickets"]} == {"new"}
    assert [(c["id"], c["ticket_count"]) for c in body["customers"]] == [
        (world.customer_ids[4], 1), (world.customer_ids[2], 1), (world.customer_ids[1], 1),
        (world.customer_ids[0], 2)]  # largest ARR first
    assert body["customers"][0]["arr"] == ARR[4] and body["customers"][0]["name"] == "Customer 4"


def test_an_unknown_problem_is_a_404(agent):
    for key in ("PRB-999", "T-1", "prb-x", "PRB-0"):
        r = agent.get(f"/api/v1/problems/{key}")
        assert r.status_code == 404 and r.headers["content-type"].startswith(PROBLEM_JSON)


def test_patch_walks_the_status_machine_and_answers_409_with_the_allowed_statuses(world, admin, factory):
    key = _make(world, "DB-1001", [0, 1, 2, 3, 4])
    assert admin.patch(f"/api/v1/problems/{key}", json={"public_summary": SUMMARY}).status_code == 200
    r = admin.patch(f"/api/v1/problems/{key}", json={"status": "fixed"})
    assert r.status_code == 409 and r.json()["allowed"] == ["investigating"]
    for status in ("investigating", "known_error", "fixed"):
        r = admin.patch(f"/api/v1/problems/{key}", json={"status": status})
        assert r.status_code == 200 and r.json()["status"] == status
    assert r.json()["fixed_at"] == clock.now().isoformat().replace("+00:00", "Z")
    r = admin.patch(f"/api/v1/problems/{key}", json={"status": "investigating"})
    assert r.status_code == 409 and r.json()["allowed"] == ["closed", "open"]
    r = admin.patch(f"/api/v1/problems/{key}", json={"status": "open"})  # a reopen by hand
    assert r.status_code == 200 and r.json()["fixed_at"] is None and r.json()["regression"] is False
    for status in ("investigating", "known_error", "fixed", "closed"):
        assert admin.patch(f"/api/v1/problems/{key}", json={"status": status}).status_code == 200
    events = factory.audit_count(entity_type="problems", action="problems.update")
    r = admin.patch(f"/api/v1/problems/{key}", json={"status": "open"})
    assert r.status_code == 409 and r.json()["allowed"] == []
    r = admin.patch(f"/api/v1/problems/{key}", json={"owner_team_id": None})
    assert r.status_code == 409
    assert admin.patch(f"/api/v1/problems/{key}", json={"status": "closed"}).status_code == 200  # no change
    assert factory.audit_count(entity_type="problems", action="problems.update") == events


def test_bad_patch_bodies_are_422_naming_the_field_and_change_nothing(world, admin):
    key = _make(world, "DB-1001", [0, 1, 2, 3, 4])
    before = row_counts(world.db)
    for body, field in [({"status": "done"}, "status"), ({"status": None}, "status"),
                        ({"owner_team_id": 999}, "owner_team_id"), ({"owner_team_id": "x"}, "owner_team_id"),
                        ({"title": ""}, "title"), ({"title": None}, "title"), ({"title": "x" * 501}, "title"),
                        ({"public_summary": " "}, "public_summary"),
                        ({"status": "investigating", "owner_team_id": 999}, "owner_team_id")]:
        r = admin.patch(f"/api/v1/problems/{key}", json=body)
        assert r.status_code == 422, (body, r.text)
        assert r.headers["content-type"].startswith(PROBLEM_JSON)
        assert [e["field"] for e in r.json()["errors"]] == [field], r.json()
    assert row_counts(world.db) == before
    assert admin.get(f"/api/v1/problems/{key}").json()["status"] == "open"


def test_the_owner_team_can_be_changed_and_cleared(world, admin):
    key = _make(world, "DB-1001", [0, 1, 2, 3, 4])
    team = admin.post("/api/v1/teams", json={"name": "Storage", "kind": "engineering"}).json()
    r = admin.patch(f"/api/v1/problems/{key}", json={"owner_team_id": team["id"]})
    assert r.status_code == 200 and r.json()["owner_team_id"] == team["id"]
    r = admin.patch(f"/api/v1/problems/{key}", json={"owner_team_id": None})
    assert r.status_code == 200 and r.json()["owner_team_id"] is None


def test_fixing_a_problem_posts_a_public_update_to_its_open_linked_tickets(world, factory, client, admin):
    key = _make(world, "DB-1001", [0, 1, 2, 3, 4])
    tickets = [t["key"] for t in admin.get(f"/api/v1/problems/{key}").json()["tickets"]]
    solved = tickets[0]
    assert admin.patch(f"/api/v1/tickets/{solved}", json={"status": "solved"}).status_code == 200
    engineer = factory.api(client, roles=["agent_l3"], email="engineer@example.com")
    assert engineer.patch(f"/api/v1/problems/{key}", json={"public_summary": SUMMARY}).status_code == 200
    for status in ("investigating", "known_error", "fixed"):
        assert engineer.patch(f"/api/v1/problems/{key}", json={"status": status}).status_code == 200
    assert all(admin.get(f"/api/v1/tickets/{t}/messages").json()["items"] == [] for t in tickets)  # queued
    assert jobs.run_due(world.db) == 1
    for ticket in tickets:
        messages = admin.get(f"/api/v1/tickets/{ticket}/messages").json()["items"]
        if ticket == solved:
            assert messages == []
            continue
        [update] = messages
        assert update["public"] is True and update["author_type"] == "system"
        assert update["author_name"] == "Support team" and update["author_id"] is None
        assert SUMMARY in update["body"] and key not in update["body"]
    # Reopening tells nobody; fixing again tells them again.
    assert engineer.patch(f"/api/v1/problems/{key}", json={"status": "open"}).status_code == 200
    assert jobs.run_due(world.db) == 0
    assert len(admin.get(f"/api/v1/tickets/{tickets[1]}/messages").json()["items"]) == 1
    for status in ("investigating", "known_error", "fixed"):
        assert engineer.patch(f"/api/v1/problems/{key}", json={"status": status}).status_code == 200
    assert jobs.run_due(world.db) == 1
    assert len(admin.get(f"/api/v1/tickets/{tickets[1]}/messages").json()["items"]) == 2


def test_a_fix_reaches_every_ticket_of_a_large_problem_in_batches(world, client, admin, monkeypatch):
    monkeypatch.setattr(service, "ANNOUNCE_BATCH", 2)
    key = _make(world, "DB-1002", [0, 1, 2, 3, 4])
    tickets = [t["key"] for t in admin.get(f"/api/v1/problems/{key}").json()["tickets"]]
    assert admin.patch(f"/api/v1/problems/{key}", json={"public_summary": SUMMARY}).status_code == 200
    for status in ("investigating", "known_error", "fixed"):
        assert admin.patch(f"/api/v1/problems/{key}", json={"status": status}).status_code == 200
    runs = 0
    while jobs.run_due(world.db):
        runs += 1
    assert runs == 3  # 2 + 2 + 1 tickets
    assert [len(admin.get(f"/api/v1/tickets/{t}/messages").json()["items"]) for t in tickets] == [1] * 5


def test_a_problem_reopened_before_its_announcement_ran_tells_nobody(world, client, admin):
    key = _make(world, "DB-1003", [0, 1, 2, 3, 4])
    tickets = [t["key"] for t in admin.get(f"/api/v1/problems/{key}").json()["tickets"]]
    assert admin.patch(f"/api/v1/problems/{key}", json={"public_summary": SUMMARY}).status_code == 200
    for status in ("investigating", "known_error", "fixed", "open"):
        assert admin.patch(f"/api/v1/problems/{key}", json={"status": status}).status_code == 200
    assert jobs.run_due(world.db) == 1
    assert all(admin.get(f"/api/v1/tickets/{t}/messages").json()["items"] == [] for t in tickets)


def test_agents_read_problems_and_l2_and_above_change_them(world, agent, factory, client):
    key = _make(world, "DB-1001", [0, 1, 2, 3, 4])
    assert agent.get(f"/api/v1/problems/{key}").status_code == 200
    r = agent.patch(f"/api/v1/problems/{key}", json={"status": "investigating"})
    assert r.status_code == 403 and "problems:write" in r.json()["detail"]
    l2 = factory.api(client, roles=["agent_l2"])
    assert l2.patch(f"/api/v1/problems/{key}", json={"status": "investigating"}).status_code == 200
    assert client.get("/api/v1/problems").status_code == 401


def test_tickets_posted_over_http_become_a_problem(world, admin):
    """End to end: the API creates tickets; recording them (intake's last step) makes the problem."""
    from tierline.tickets.models import Ticket

    keys = []
    for c in [0, 1, 2, 3, 4]:
        r = admin.post("/api/v1/tickets", json={
            "subject": "Card payments declined", "description": "Stripe says PAY-2001 for every renewal.",
            "requester_email": f"billing{c}@example.com", "customer_id": world.customer_ids[c],
            "component_id": world.component_id, "error_code": "PAY-2001"})
        assert r.status_code == 201, r.text
        keys.append(r.json()["key"])
    for key in keys:  # idempotent: a ticket intake already recorded stays as it is
        with world.db.unit_of_work() as s:
            ticket = s.get(Ticket, int(key.removeprefix("T-")))
            service.record_ticket(s, actor=SYSTEM, ticket=ticket, customer_arr=None)
    [problem] = admin.get("/api/v1/problems").json()["items"]
    assert problem["signature"] == f"PAY-2001|c:{world.component_id}" and problem["ticket_count"] == 5
    detail = admin.get(f"/api/v1/problems/{problem['key']}").json()
    assert sorted(t["key"] for t in detail["tickets"]) == sorted(keys)


# -- the status machine, as a property -----------------------------------------------------------------

_serial = itertools.count()


def _bare_problem(world: World) -> str:
    now = clock.now()
    with world.db.unit_of_work() as s:
        problem = Problem(title="t", public_summary="fixed", signature=f"PROP-{next(_serial)}|c:-", status="open", ticket_count=0,
                          customer_count=0, arr_exposure_cents=0, first_seen=now, last_seen=now,
                          created_at=now, updated_at=now)
        s.add(problem)
        s.flush()
        return problem.key


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(targets=st.lists(st.sampled_from(STATUSES), max_size=12))
def test_any_sequence_of_status_changes_follows_the_transition_table(world, targets):
    from tierline.platform.errors import Conflict

    key = _bare_problem(world)
    status = "open"
    for target in targets:
        legal = target == status or (status != "closed" and target in service.TRANSITIONS[status])
        try:
            with world.db.unit_of_work() as s:
                problem = service.update(s, actor=SYSTEM, key=key, changes={"status": target})
                assert problem.status == target
            assert legal, f"{status} -> {target} was let through"
            status = target
        except Conflict as exc:
            assert not legal, f"{status} -> {target} was refused"
            assert exc.extra["allowed"] == service.allowed(status)
        with world.db.session(write=False) as s:
            problem = service.get_by_key(s, key=key)
            assert problem.status == status
            assert (problem.fixed_at is not None) == (status in ("fixed", "closed"))
            assert (problem.closed_at is not None) == (status == "closed")
