"""The agent's workspace: the queues with their filters in the URL, and working a ticket through the same flows
the API calls (replies and notes, fields, transitions with the form's mandatory fields, tiers, concurrency)."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest

from tests.web.conftest import new_ticket, sla_policy
from tierline.platform import clock
from tierline.platform.audit import AuditEvent
from tierline.tickets.models import Message


@pytest.fixture
def desk(admin):  # noqa: ANN001, ANN201
    """Two queues, a component, a customer and an SLA policy."""
    sla_policy(admin)
    l1 = admin.post("/api/v1/queues", json={"name": "L1 general", "tier": "L1"}).json()
    l2 = admin.post("/api/v1/queues", json={"name": "L2 platform", "tier": "L2"}).json()
    component = admin.post("/api/v1/components", json={"name": "Login service"}).json()
    customer = admin.post("/api/v1/customers", json={"name": "Acme Corp", "external_id": "acme", "plan":
                                                     "enterprise", "arr": 240000,
                                                     "email_domains": ["acme.example"]}).json()
    return {"l1": l1, "l2": l2, "component": component, "customer": customer}


@pytest.fixture
def ann(person):  # noqa: ANN001, ANN201
    return person(["agent_l2"], "ann@support.example", name="Ann Agent")


def _version(page: str) -> str:
    return re.search(r'name="version" value="(\d+)"', page).group(1)


def _fields_form(page: str) -> dict[str, str]:
    """What the ticket page's fields form would post as it stands (values and their originals)."""
    form = page.split('id="fields"', 1)[1].split("</form>", 1)[0]
    values: dict[str, str] = {}
    for name, value in re.findall(r'<input[^>]*name="([^"]+)" value="([^"]*)"', form):
        values[name] = value.replace("&#34;", '"').replace("&amp;", "&")
    for name, body in re.findall(r'<select[^>]*name="([^"]+)"[^>]*>(.*?)</select>', form, re.S):
        chosen = re.search(r'<option value="([^"]*)" selected', body)
        values[name] = chosen.group(1) if chosen else ""
    values.pop("csrf_token", None)
    return values


def test_the_queue_lists_tickets_sorted_by_sla_due_with_customer_plan_and_arr(admin, ann, desk):
    first = new_ticket(admin, priority="P4", queue_id=desk["l1"]["id"])
    urgent = new_ticket(admin, subject="Production is down", priority="P1", queue_id=desk["l1"]["id"])
    page = ann.get("/queues?view=all")
    assert page.status_code == 200
    html = page.text
    assert "Acme Corp" in html and "enterprise" in html and "$240k" in html
    assert html.index(urgent["key"]) < html.index(first["key"]), "the P1's target falls due first"
    assert 'data-due="' in html and 'class="due' in html
    assert "<strong>2</strong> New" in html, "the view's unsolved counts by status"


def test_filters_and_search_are_kept_in_the_url(admin, ann, desk):
    a = new_ticket(admin, subject="Invoice shows the wrong VAT", priority="P2")
    b = new_ticket(admin, subject="Login loops", priority="P3")
    page = ann.get("/queues?view=all&priority=P2").text
    assert a["key"] in page and b["key"] not in page
    assert 'value="P2" checked' in page
    page = ann.get("/queues?view=all&q=invoice").text
    assert a["key"] in page and b["key"] not in page
    fragment = ann.get("/queues?view=all&q=login", headers={"HX-Request": "true"}).text
    assert fragment.lstrip().startswith('<div id="ticket-table"') and b["key"] in fragment
    assert ann.get("/queues?view=all&priority=P9").status_code == 422


def test_assigned_to_me_shows_only_my_tickets(admin, ann, desk, factory):
    bob = factory.user(roles=["agent_l1"], email="bob@support.example")
    mine = new_ticket(admin, subject="Mine")
    other = new_ticket(admin, subject="Not mine", assignee_id=bob.id)
    page = ann.get(f"/tickets/{mine['key']}").text
    r = ann.post(f"/tickets/{mine['key']}/take", {"version": _version(page)})
    assert r.status_code == 303
    listing = ann.get("/queues?view=mine").text
    assert mine["key"] in listing and other["key"] not in listing


def test_a_ticket_page_shows_replies_and_internal_notes_apart(admin, ann, desk):
    t = new_ticket(admin)
    assert ann.post(f"/tickets/{t['key']}/messages", {"kind": "reply", "body": "We are on it."}).status_code == 303
    assert ann.post(f"/tickets/{t['key']}/messages", {"kind": "note", "body": "Looks like SSO."}).status_code == 303
    page = ann.get(f"/tickets/{t['key']}").text
    assert page.count('class="message reply') == 1 and page.count('class="message note') == 1
    assert "Internal note" in page and "Looks like SSO." in page and "Ann Agent" in page
    assert "Triage record" in page and "Impact score" in page


def test_an_empty_reply_is_refused_inline(admin, ann, desk, factory):
    t = new_ticket(admin)
    r = ann.post(f"/tickets/{t['key']}/messages", {"kind": "reply", "body": "   "})
    assert r.status_code == 422 and 'class="field-error"' in r.text
    assert factory.count(Message) == 0


def test_solving_without_the_forms_mandatory_fields_shows_each_missing_field_inline(admin, ann, desk, factory):
    t = new_ticket(admin, type="bug", subject="Invoice PDF is blank", description="Every invoice renders empty.")
    page = ann.get(f"/tickets/{t['key']}").text
    assert '<span class="req"' in page
    form = _fields_form(page)
    r = ann.post(f"/tickets/{t['key']}", {**form, "status": "solved"})
    assert r.status_code == 422
    assert 'id="e-component_id"' in r.text and 'id="e-error_code"' in r.text
    assert "is required before a bug ticket is solved" in r.text
    assert admin.get(f"/api/v1/tickets/{t['key']}").json()["status"] == "new"
    # Filled in, the same transition goes through, and one audit event records it.
    form = _fields_form(ann.get(f"/tickets/{t['key']}").text)
    form.update({"component_id": str(desk["component"]["id"]), "error_code": "E42"})
    r = ann.post(f"/tickets/{t['key']}", {**form, "status": "solved"})
    assert r.status_code == 303, r.text
    solved = admin.get(f"/api/v1/tickets/{t['key']}").json()
    assert (solved["status"], solved["error_code"], solved["component_id"]) == ("solved", "E42",
                                                                                desk["component"]["id"])


def test_only_the_transitions_the_state_machine_allows_are_offered(admin, ann, desk):
    t = new_ticket(admin)
    page = ann.get(f"/tickets/{t['key']}").text
    offered = set(re.findall(r'name="status" value="([a-z_]+)"', page))
    assert offered == {"open", "pending_customer", "on_hold", "solved"}
    admin.patch(f"/api/v1/tickets/{t['key']}", json={"status": "solved"})
    offered = set(re.findall(r'name="status" value="([a-z_]+)"', ann.get(f"/tickets/{t['key']}").text))
    assert offered == {"open", "closed"}


def test_saving_over_someone_elses_change_shows_what_changed_and_overwrites_nothing(admin, ann, desk):
    t = new_ticket(admin, priority="P3")
    form = _fields_form(ann.get(f"/tickets/{t['key']}").text)
    admin.patch(f"/api/v1/tickets/{t['key']}", json={"priority": "P1"})  # someone else, meanwhile
    r = ann.post(f"/tickets/{t['key']}", {**form, "priority": "P4"})
    assert r.status_code == 409
    assert "Someone else changed this ticket" in r.text and "Reload the ticket" in r.text
    conflict = r.text.split('id="conflict"', 1)[1].split("</table>", 1)[0]
    assert "priority" in conflict and "P3" in conflict and "P1" in conflict and "P4" in conflict
    assert admin.get(f"/api/v1/tickets/{t['key']}").json()["priority"] == "P1"


def test_escalating_needs_a_reason_and_moves_the_ticket_to_the_higher_tier(admin, ann, desk):
    t = new_ticket(admin, tier="L1", queue_id=desk["l1"]["id"])
    r = ann.post(f"/tickets/{t['key']}/tier", {"direction": "escalate", "to_tier": "L2", "reason": ""})
    assert r.status_code == 422 and 'class="field-error"' in r.text
    r = ann.post(f"/tickets/{t['key']}/tier", {"direction": "escalate", "to_tier": "L2",
                                               "reason": "Needs the platform team"})
    assert r.status_code == 303, r.text
    moved = admin.get(f"/api/v1/tickets/{t['key']}").json()
    assert (moved["tier"], moved["queue_id"]) == ("L2", desk["l2"]["id"])
    page = ann.get(f"/tickets/{t['key']}").text
    assert "De-escalate" in page and "Needs the platform team" in page


def test_an_agent_opens_a_ticket_on_a_customers_behalf(ann, desk, factory):
    assert ann.get("/tickets/new").status_code == 200
    r = ann.post("/tickets/new", {"requester_email": "not-an-email", "subject": "", "description": "x"})
    assert r.status_code == 422 and "field-error" in r.text
    r = ann.post("/tickets/new", {"requester_email": "dora@acme.example", "subject": "Export fails",
                                  "description": "CSV export times out", "type": "bug", "priority": "P2"})
    assert r.status_code == 303
    key = r.headers["location"].rsplit("/", 1)[1]
    page = ann.get(f"/tickets/{key}").text
    assert "Export fails" in page and "Acme Corp" in page
    assert factory.audit_count(action="tickets.create") >= 1


def test_the_sla_countdown_is_coloured_by_risk(admin, ann, desk, frozen_clock):
    t = new_ticket(admin, priority="P1")
    due = admin.get(f"/api/v1/tickets/{t['key']}").json()["sla_due_at"]
    assert due is not None
    clock.freeze(frozen_clock + timedelta(hours=2))  # past the P1 target, within the session
    page = ann.get("/queues?view=all").text
    assert 'class="due breached"' in page and "overdue" in page


def test_a_customer_is_sent_from_the_workspace_to_their_portal(person):
    customer = person(["customer"], "carl@acme.example")
    assert customer.get("/queues").headers["location"] == "/portal"
    assert customer.get("/tickets/T-1").headers["location"] == "/portal"


def test_every_change_writes_its_audit_event(admin, ann, desk, factory):
    t = new_ticket(admin)
    before = factory.count(AuditEvent)
    ann.post(f"/tickets/{t['key']}/messages", {"kind": "note", "body": "checked the logs"})
    assert factory.count(AuditEvent) > before


def test_the_tier_filter_narrows_the_list_and_is_staff_only(admin, ann, desk, factory, client):
    first = new_ticket(admin, subject="First-touch question", tier="L1", queue_id=desk["l1"]["id"])
    deep = new_ticket(admin, subject="Deep platform issue", tier="L2", queue_id=desk["l2"]["id"])
    page = ann.get("/queues?view=all&tier=L2").text
    assert deep["key"] in page and first["key"] not in page
    assert [t["key"] for t in admin.get("/api/v1/tickets?tier=L1").json()["items"]] == [first["key"]]
    customer = factory.api(client, roles=["customer"], email="carl@acme.example")
    refused = customer.get("/api/v1/tickets?tier=L1")
    assert refused.status_code == 403 and refused.json()["errors"][0]["field"] == "tier"
