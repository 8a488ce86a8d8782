"""Issue 12, the day-one views and finding 7: the `problem` filter of the ticket list, the problem key on every
linked ticket (those linked when the problem was made from earlier tickets too), lists without the triage
record unless `include=triage`, and the customer's allow-list winning over all of it. Over HTTP."""

from __future__ import annotations

from datetime import timedelta

import pytest

from tests.helpers import Api
from tests.tickets.conftest import create_ticket, get_ticket
from tests.tickets.test_reads import statements_per_page
from tierline.platform import clock

DOMAINS = ("acme.example", "beta.example", "gamma.example")


@pytest.fixture
def outage(admin: Api, agent: Api) -> tuple[str, list[str]]:
    """Five tickets with one error code from three customers: the fifth makes the problem, which links the four
    before it. Returns (the problem's key, the tickets' keys, oldest first)."""
    for i, domain in enumerate(DOMAINS):
        r = admin.post("/api/v1/customers", json={"name": domain, "external_id": f"c{i}", "plan": "pro",
                                                  "arr": 10000 * (i + 1), "email_domains": [domain]})
        assert r.status_code == 201, r.text
    keys = []
    for i in range(5):
        clock.advance(timedelta(minutes=10))
        email = "jane@acme.example" if i == 0 else f"u{i}@{DOMAINS[i % 3]}"
        answer = create_ticket(agent, subject="Export fails", description="PAY-3003 when exporting invoices",
                               requester_email=email)
        keys.append(answer["key"])
    [problem] = admin.get("/api/v1/problems").json()["items"]
    assert problem["ticket_count"] == 5
    assert answer["problem_key"] == problem["key"]  # the answer of the ticket that made it
    return problem["key"], keys


def _keys(api: Api, **params) -> list[str]:  # noqa: ANN003
    r = api.get("/api/v1/tickets", params=params)
    assert r.status_code == 200, r.text
    return [t["key"] for t in r.json()["items"]]


def test_every_linked_ticket_shows_its_problem_key_even_those_linked_when_it_was_made(agent, outage):
    problem_key, linked = outage
    other = create_ticket(agent, subject="Password reset", description="The reset mail never arrives.")
    later = create_ticket(agent, subject="Export fails", description="PAY-3003 again",
                          requester_email="z@beta.example")
    assert later["problem_key"] == problem_key  # linked at intake to the live problem
    for key in [*linked, later["key"]]:
        assert get_ticket(agent, key)["problem_key"] == problem_key, key
    assert get_ticket(agent, other["key"])["problem_key"] is None
    items = {t["key"]: t["problem_key"] for t in agent.get("/api/v1/tickets").json()["items"]}
    assert items == {**dict.fromkeys([*linked, later["key"]], problem_key), other["key"]: None}


def test_tickets_can_be_filtered_by_problem(agent, outage):
    problem_key, linked = outage
    create_ticket(agent, subject="Password reset", description="The reset mail never arrives.")
    assert _keys(agent, problem=problem_key) == linked[::-1]  # newest first, as every list
    assert _keys(agent, problem=problem_key.lower(), limit=2) == linked[::-1][:2]
    assert _keys(agent, problem="PRB-999") == []
    for bad in ("PRB-x", "T-1", "PRB-0", "1"):
        r = agent.get("/api/v1/tickets", params={"problem": bad})
        assert r.status_code == 422, bad
        assert r.json()["errors"][0]["field"] == "problem"


def test_lists_leave_out_the_triage_record_unless_asked_and_the_detail_keeps_it(agent, outage):
    _, linked = outage
    plain = agent.get("/api/v1/tickets").json()["items"]
    assert plain and all(t["triage"] is None for t in plain)
    asked = agent.get("/api/v1/tickets", params={"include": "triage"}).json()["items"]
    assert [t["key"] for t in asked] == [t["key"] for t in plain]
    assert all(isinstance(t["triage"], dict) and t["triage"] for t in asked)
    assert {k: v for k, v in asked[0].items() if k != "triage"} == {k: v for k, v in plain[0].items()
                                                                   if k != "triage"}
    assert get_ticket(agent, linked[0])["triage"] == next(t for t in asked if t["key"] == linked[0])["triage"]
    r = agent.get("/api/v1/tickets", params={"include": "everything"})
    assert r.status_code == 422 and r.json()["errors"][0]["field"].split(".")[0] == "include"


def test_customers_never_get_the_triage_record_or_problem_keys(agent, outage, customer_api):
    problem_key, linked = outage
    own = customer_api.get(f"/api/v1/tickets/{linked[0]}")
    assert own.status_code == 200, own.text
    assert "problem_key" not in own.json() and "triage" not in own.json()
    [item] = customer_api.get("/api/v1/tickets").json()["items"]
    assert item["key"] == linked[0] and "problem_key" not in item and "triage" not in item
    for params, field in (({"problem": problem_key}, "problem"), ({"include": "triage"}, "include")):
        r = customer_api.get("/api/v1/tickets", params=params)
        assert r.status_code == 403, r.text
        assert [e["field"] for e in r.json()["errors"]] == [field]
    mine = create_ticket(customer_api, subject="Export fails", description="PAY-3003 once more",
                         requester_email=None)
    assert "problem_key" not in mine and "triage" not in mine
    assert get_ticket(agent, mine["key"])["problem_key"] == problem_key


def test_a_page_of_tickets_costs_the_same_statements_however_many_it_holds(db, agent, outage):
    counts = statements_per_page(db, agent, "/api/v1/tickets", (1, 4))
    assert counts[0] == counts[1], counts
