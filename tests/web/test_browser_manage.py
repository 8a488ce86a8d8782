"""The manager's pages in a real Chromium (Debian's package, driven by Playwright): the SLA dashboard draws its
chart from two weeks of history, and editing a triage rule changes what "try it" explains. Screenshots of both
go to test-artifacts/ (TIERLINE_TEST_ARTIFACTS) at 1280x800, for a person to look at."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from tests.web.conftest import PASSWORD, new_ticket, sla_policy
from tests.web.test_browser import _login, _shot, browser, live  # noqa: F401  (the browser and the live server)
from tierline.platform import clock, jobs

pytestmark = [pytest.mark.browser, pytest.mark.committing]

CUSTOMERS = [("Acme Corp", "acme", "enterprise", 480000), ("Globex", "globex", "business", 120000),
             ("Initech", "initech", "pro", 18000)]
# (priority, minutes until the first reply, or None: nobody answered in time)
DAY = [("P1", 25), ("P2", 90), ("P2", None), ("P3", 200), ("P3", 300), ("P4", 600), ("P1", None), ("P3", 700)]


@pytest.fixture
def history(db, admin, factory, live) -> dict[str, Any]:  # noqa: ANN001, F811
    """Two weeks of tickets, most answered within their target, some not (breached by the sweep), a few open
    now, a manager who logs in, and a triage rule to edit."""
    sla_policy(admin)
    queue = admin.post("/api/v1/queues", json={"name": "L1 general", "tier": "L1"}).json()
    for name, external_id, plan, arr in CUSTOMERS:
        admin.post("/api/v1/customers", json={"name": name, "external_id": external_id, "plan": plan, "arr": arr,
                                              "email_domains": [f"{external_id}.example"]})
    factory.user(roles=["manager"], email="mona@support.example", password=PASSWORD, name="Mona Manager")
    now = clock.now()
    for day in range(14, 0, -1):
        start = now - timedelta(days=day)
        for i, (priority, reply_after) in enumerate(DAY[: 4 + day % 5]):
            clock.freeze(start + timedelta(minutes=7 * i))
            who = CUSTOMERS[(day + i) % 3][1]
            ticket = new_ticket(admin, priority=priority, queue_id=queue["id"], tier="L1",
                                subject=f"{priority} request {day}-{i}", requester_email=f"it@{who}.example")
            if reply_after is not None:
                clock.freeze(start + timedelta(minutes=7 * i + reply_after))
                admin.post(f"/api/v1/tickets/{ticket['key']}/messages", json={"body": "We are on it."})
                if i % 3 != 2:  # most are solved soon after the first answer; a few stay open
                    clock.freeze(start + timedelta(minutes=7 * i + reply_after * 2 + 30))
                    admin.patch(f"/api/v1/tickets/{ticket['key']}", json={"status": "solved"})
        clock.freeze(start + timedelta(hours=20))
        jobs.run_until_idle(db)
    clock.unfreeze()
    for priority in ("P1", "P2", "P3"):
        new_ticket(admin, priority=priority, queue_id=queue["id"], tier="L1", subject=f"Open {priority} ticket",
                   requester_email="ops@acme.example")
    rule = admin.post("/api/v1/triage/rules", json={
        "name": "Empty exports are urgent", "description": "The monthly report export returns an empty file.",
        "conditions": {"all": [{"field": "error_code", "op": "equals", "value": "EXPORT-FAIL"}]},
        "actions": [{"type": "set_priority", "value": "P1"}, {"type": "add_tags", "value": ["export"]}]}).json()
    admin.post("/api/v1/triage/rules", json={
        "name": "Enterprise customers go to L1 general", "position": 5,
        "conditions": {"all": [{"field": "customer.plan", "op": "equals", "value": "enterprise"}]},
        "actions": [{"type": "set_queue", "value": queue["id"]}]})
    return {"rule": rule, "queue": queue}


def test_the_sla_dashboard_draws_its_chart(browser, live, history):  # noqa: F811
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    page = context.new_page()
    _login(page, live, "mona@support.example", "/sla")
    assert page.url.endswith("/sla"), page.url
    page.wait_for_selector('canvas[data-chart="compliance"][data-drawn="yes"]')
    assert page.evaluate("Chart.getChart(document.getElementById('compliance-chart')).data.labels") == [
        "P1", "P2", "P3", "P4"]
    assert page.locator("#compliance-table tbody tr").count() == 4
    assert int(page.locator(".kpi-value").nth(1).inner_text()) > 0, "some targets were missed"
    _shot(page, "sla-dashboard")
    page.get_by_label("Group by").select_option("customer_plan")
    with page.expect_navigation():
        page.get_by_role("button", name="Show").click()
    page.wait_for_selector('canvas[data-chart="compliance"][data-drawn="yes"]')
    assert set(page.evaluate("Chart.getChart(document.getElementById('compliance-chart')).data.labels")) == {
        "enterprise", "business", "pro"}
    assert page.evaluate("document.documentElement.scrollWidth") <= 1280
    context.close()


def _try(page: Any) -> None:
    box = page.get_by_role("region", name="Try it")
    box.get_by_label("Requester email").fill("ops@globex.example")
    box.get_by_label("Subject").fill("The monthly export is empty")
    box.get_by_label("Description").fill("Since this morning every CSV export of the monthly report is empty.")
    box.get_by_label("Error code").fill("EXPORT-EMPTY")
    box.get_by_role("button", name="Explain").click()


def test_editing_a_rule_changes_what_try_it_explains(browser, live, history):  # noqa: F811
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    page = context.new_page()
    rule = history["rule"]
    _login(page, live, "mona@support.example", f"/rules/{rule['id']}")
    _try(page)
    page.locator("#explain-result .explain").wait_for()
    assert "No rule matches this ticket." in page.inner_text("#explain-result")
    value = page.get_by_label("Value 1").first
    assert value.input_value() == "EXPORT-FAIL"
    value.fill("EXPORT-EMPTY")
    with page.expect_navigation():
        page.get_by_role("button", name="Save rule").click()
    assert "Saved." in page.inner_text("main")
    _try(page)
    page.locator("#explain-result .fired").wait_for()
    result = page.inner_text("#explain-result")
    assert "Empty exports are urgent" in result and "set priority P1" in result
    _shot(page, "rule-editor")
    # A condition the API refuses is shown in its row and cell, nothing saved.
    page.get_by_label("Operator 1").first.select_option("gte")
    with page.expect_navigation():
        page.get_by_role("button", name="Save rule").click()
    assert page.locator('td.has-error select[name="conditions.all-0-op"]').is_visible()
    context.close()


def test_the_managers_pages_fit_the_screen(browser, live, history, factory):  # noqa: F811
    factory.user(roles=["admin"], email="ada@support.example", password=PASSWORD, name="Ada Admin")
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    page = context.new_page()
    _login(page, live, "ada@support.example", "/tiers")
    pages = {"tiers": "/tiers", "capacity": "/sla/capacity", "problems": "/problems", "rules": "/rules",
             "people": "/directory/people", "components": "/directory/components",
             "policy": "/directory/policies/1", "audit": "/audit/verify"}
    for name, url in pages.items():
        page.goto(live + url)
        assert page.evaluate("document.documentElement.scrollWidth") <= 1280, url
        _shot(page, f"manage-{name}")
    assert "The chain holds." in page.inner_text("#verify-result")
    phone = browser.new_context(viewport={"width": 390, "height": 844}, storage_state=context.storage_state())
    small = phone.new_page()
    for name, url in (("sla", "/sla"), ("rule", f"/rules/{history['rule']['id']}"), ("people", "/directory/people/1")):
        small.goto(live + url)
        assert small.evaluate("document.documentElement.scrollWidth") <= 391, url
        _shot(small, f"manage-{name}-phone")
    phone.close()
    context.close()
