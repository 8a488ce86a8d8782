"""The manager's and admin's pages as a whole: each renders for a manager (or an admin), the navigation opens
them by permission, and an L1 agent is refused where the API refuses them."""

from __future__ import annotations

from datetime import timedelta

import pytest

from tests.web.conftest import new_ticket, sla_policy
from tierline.platform import clock

PAGES = ["/sla", "/sla/capacity", "/tiers", "/problems", "/rules", "/rules/new", "/directory/people",
         "/directory/people/new", "/directory/teams", "/directory/teams/new", "/directory/customers",
         "/directory/customers/new", "/directory/components", "/directory/components/new", "/directory/queues",
         "/directory/queues/new", "/directory/calendars", "/directory/calendars/new", "/directory/policies",
         "/directory/policies/new"]


@pytest.fixture
def desk(admin):  # noqa: ANN001, ANN201
    sla_policy(admin)
    queue = admin.post("/api/v1/queues", json={"name": "L1 general", "tier": "L1"}).json()
    admin.post("/api/v1/components", json={"name": "Billing engine"})
    admin.post("/api/v1/customers", json={"name": "Acme Corp", "external_id": "acme", "plan": "enterprise",
                                          "arr": 480000, "email_domains": ["acme.example"]})
    ticket = new_ticket(admin, priority="P2", queue_id=queue["id"], tier="L1")
    return {"queue": queue, "ticket": ticket}


@pytest.mark.parametrize("role", ["manager", "admin"])
def test_every_page_renders_for_a_manager_and_an_admin(person, desk, role):
    who = person([role], f"{role}@support.example")
    for url in PAGES:
        r = who.get(url)
        assert r.status_code == 200, (url, r.status_code, r.text[:2000])
        assert "text/html" in r.headers["content-type"]
    nav = who.get("/sla").text.split('<nav aria-label="Main">', 1)[1].split("</nav>", 1)[0]
    for label in ("SLA", "Tiers &amp; queues", "Problems", "Rules", "Directory"):
        assert label in nav
    assert ("Audit" in nav) == (role == "admin"), "audit:read is the admin's (and the auditors'), not a manager's"
    if role == "admin":
        assert who.get("/audit").status_code == 200


def test_the_directory_sends_to_its_first_section(person):
    who = person(["manager"], "mona@support.example")
    r = who.get("/directory")
    assert (r.status_code, r.headers["location"]) == (303, "/directory/people")


def test_an_l1_agent_reads_what_the_api_lets_them_read_and_changes_nothing(person, desk, factory):
    ann = person(["agent_l1"], "ann@support.example")
    for url in ("/sla", "/tiers", "/problems", "/rules", "/directory/people", "/directory/policies"):
        assert ann.get(url).status_code == 200, url  # every staff role reads these (the API's *:read)
    for url in ("/audit", "/audit/verify", "/rules/new", "/directory/people/new", "/directory/policies/new"):
        r = ann.get(url)
        assert r.status_code == 403, url
        assert "text/html" in r.headers["content-type"]
    before = factory.audit_count()
    for url, data in (("/rules/new", {"name": "x", "actions-0-type": "set_priority", "actions-0-value": "P1"}),
                      ("/directory/teams/new", {"name": "Night shift", "kind": "support"}),
                      ("/sla/capacity", {"quarter": "2027Q1"}), ("/rules/1/move", {"direction": "up"})):
        assert ann.post(url, data).status_code == 403, url
    assert factory.audit_count() == before
    page = ann.get("/rules").text
    assert "New rule" not in page and "/move" not in page, "no controls the agent may not use"
    nav = page.split('<nav aria-label="Main">', 1)[1].split("</nav>", 1)[0]
    assert "Audit" not in nav


def test_a_customer_is_sent_to_the_portal(person):
    carl = person(["customer"], "carl@acme.example")
    for url in ("/sla", "/rules", "/directory/people", "/audit"):
        r = carl.get(url)
        assert (r.status_code, r.headers["location"]) == (303, "/portal"), url


def test_tiers_and_queues_show_depth_age_and_open_work_against_capacity(person, admin, desk, factory):
    bob = factory.user(roles=["agent_l1"], email="bob@support.example", name="Bob Agent")
    clock.freeze(clock.now() + timedelta(minutes=90))
    new_ticket(admin, priority="P3", queue_id=desk["queue"]["id"], tier="L1", assignee_id=bob.id)
    mona = person(["manager"], "mona@support.example")
    page = mona.get("/tiers").text
    queues = page.split('id="queues-h"', 1)[1].split("</section>", 1)[0]
    row = queues.split("L1 general", 1)[1].split("</tr>", 1)[0]
    cells = [c.strip() for c in row.split("<td>")[1:]]
    assert cells[2].startswith("<strong>2</strong>"), "two unsolved tickets wait in the queue"
    assert cells[3].startswith("1"), "one of them nobody owns"
    assert ">1h 30m<" in row, "the oldest came in an hour and a half ago"
    agents = page.split('id="agents-h"', 1)[1].split("</section>", 1)[0]
    assert "Bob Agent" in agents and "1 / 20" in agents
    assert "Tier report" in page
