"""Issue 12, finding 7: "one customer's outage split in two problems because the classifier gave one ticket
another component (same customer, same DB-5012 code)". A recurrence signature counts the component only when a
person set it; a classifier's guess, a component the text names or a rule's never splits a problem."""

from __future__ import annotations

import pytest

from tests.helpers import SYSTEM
from tests.tickets.conftest import create_ticket
from tests.triage.support_texts import dataset
from tierline.triage import classifier

DATABASE_TEXT = ("Orders fail with DB-5012", "Our nightly job fails with DB-5012: deadlock detected while updating "
                 "the orders table.")
SLOW_TEXT = ("Dashboard very slow, DB-5012", "The dashboard takes 40 seconds to load and sometimes the browser "
             "shows a timeout, then DB-5012.")


@pytest.fixture
def guessing(db, admin):
    """Two components the classifier guesses between (their names never appear in the tickets' texts), and
    three customers."""
    store = admin.post("/api/v1/components", json={"name": "Primary Store"}).json()["id"]
    console = admin.post("/api/v1/components", json={"name": "Web Console"}).json()["id"]
    rows = dataset(20, seed=31, labels=["database", "performance"])
    with db.unit_of_work() as session:
        classifier.train(session, actor=SYSTEM, target="component", texts=[t for t, _ in rows],
                         labels=[str(store if label == "database" else console) for _, label in rows],
                         source="test", activate_it=True)
    for name in ("acme", "beta", "corp"):
        r = admin.post("/api/v1/customers", json={"name": name.title(), "external_id": name,
                                                  "email_domains": [f"{name}.example"]})
        assert r.status_code == 201, r.text
    return {"store": store, "console": console}


def _ticket(agent, customer: str, text: tuple[str, str], **fields) -> dict:  # noqa: ANN001, ANN003
    subject, description = text
    return create_ticket(agent, subject=subject, description=description,
                         requester_email=f"ops@{customer}.example", **fields)


def test_a_guessed_component_does_not_split_one_outage_into_two_problems(agent, guessing):
    tickets = [_ticket(agent, c, DATABASE_TEXT) for c in ("acme", "beta", "corp", "beta")]
    odd = _ticket(agent, "acme", SLOW_TEXT)  # the same customer's outage, guessed into another component
    assert {t["component_id"] for t in tickets} == {guessing["store"]}
    assert odd["component_id"] == guessing["console"]  # the guess stays the ticket's component (routing)
    assert {t["signature"] for t in [*tickets, odd]} == {"DB-5012|c:-"}
    problems = agent.get("/api/v1/problems").json()["items"]
    assert len(problems) == 1 and problems[0]["ticket_count"] == 5, problems
    detail = agent.get(f"/api/v1/problems/{problems[0]['key']}").json()
    assert {t["key"] for t in detail["tickets"]} == {t["key"] for t in [*tickets, odd]}


def test_a_rule_that_fills_an_empty_component_does_not_split_it_either(admin, agent, guessing):
    # The demo's rule: a DB- code without a component is the database's. It fires only where the classifier
    # guessed nothing, so counting its component would split the outage again.
    rule = admin.post("/api/v1/triage/rules", json={
        "name": "Database error without a component", "position": 1, "conditions": {"all": [
            {"field": "error_code", "op": "matches", "value": "^DB-\\d{4}$"},
            {"field": "component", "op": "is_empty"}]},
        "actions": [{"type": "set_component", "value": guessing["store"]}]})
    assert rule.status_code == 201, rule.text
    vague = ("DB-5012 again", "Seeing DB-5012 since this morning, please help.")
    tickets = [_ticket(agent, c, vague) for c in ("acme", "beta", "corp", "beta")]
    assert {t["component_id"] for t in tickets} == {guessing["store"]}  # the rule's
    odd = _ticket(agent, "acme", SLOW_TEXT)
    assert odd["component_id"] == guessing["console"]  # the classifier's: the rule did not fire
    assert {t["signature"] for t in [*tickets, odd]} == {"DB-5012|c:-"}
    [problem] = agent.get("/api/v1/problems").json()["items"]
    assert problem["ticket_count"] == 5


def test_a_component_a_person_sets_counts_and_keeps_counting(agent, guessing):
    given = _ticket(agent, "acme", SLOW_TEXT, component_id=guessing["store"])
    assert given["signature"] == f"DB-5012|c:{guessing['store']}"
    guessed = _ticket(agent, "beta", DATABASE_TEXT)
    assert guessed["signature"] == "DB-5012|c:-"
    # An agent's change of the component counts; a later change of something else keeps the standing.
    r = agent.patch(f"/api/v1/tickets/{guessed['key']}", json={"component_id": guessing["console"]})
    assert r.json()["signature"] == f"DB-5012|c:{guessing['console']}"
    r = agent.patch(f"/api/v1/tickets/{guessed['key']}", json={"priority": "P2"})
    assert r.json()["signature"] == f"DB-5012|c:{guessing['console']}"
