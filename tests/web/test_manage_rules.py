"""Triage rules on the console: the editor's rows become the API's rule (its validators name the row and cell
at fault), the list reorders and switches rules, and "try it" explains a pasted ticket with the rules as saved."""

from __future__ import annotations

import re

import pytest

from tests.web.conftest import sla_policy
from tierline.platform.audit import AuditEvent
from tierline.triage.models import TriageRule

SAMPLE = {"requester_email": "jane@acme.example", "subject": "Export fails",
          "description": "Every CSV export of the monthly report is empty.", "error_code": "EXPORT-EMPTY",
          "channel": "email"}


@pytest.fixture
def mona(person):  # noqa: ANN001, ANN201
    return person(["manager"], "mona@support.example", name="Mona Manager")


def _rule(name: str, **cells: str) -> dict[str, str]:
    return {"name": name, "trigger": "create", "position": "0", "active": "true", "description": "", **cells}


def test_a_rule_is_created_from_rows_and_edited(mona, factory):
    r = mona.post("/rules/new", _rule("Exports are P2", **{
        "conditions.all-0-field": "error_code", "conditions.all-0-op": "in",
        "conditions.all-0-value": "EXPORT-EMPTY, EXPORT-FAIL", "conditions.all-1-field": "customer.arr",
        "conditions.all-1-op": "gte", "conditions.all-1-value": "100000",
        "actions-0-type": "set_priority", "actions-0-value": "P2",
        "actions-1-type": "add_tags", "actions-1-value": "export, reports"}))
    assert r.status_code == 303, r.text[:3000]
    rule_id = int(re.search(r"/rules/(\d+)", r.headers["location"]).group(1))
    with factory.db.session(write=False) as s:
        rule = s.get(TriageRule, rule_id)
        assert rule.conditions["all"] == [
            {"field": "error_code", "op": "in", "value": ["EXPORT-EMPTY", "EXPORT-FAIL"]},
            {"field": "customer.arr", "op": "gte", "value": 100000}]
        assert [a["value"] for a in rule.actions] == ["P2", ["export", "reports"]]
    page = mona.get(f"/rules/{rule_id}").text
    assert 'value="EXPORT-EMPTY, EXPORT-FAIL"' in page and 'value="export, reports"' in page
    r = mona.post(f"/rules/{rule_id}", _rule("Exports are P1", **{
        "conditions.all-0-field": "error_code", "conditions.all-0-op": "equals",
        "conditions.all-0-value": "EXPORT-EMPTY", "actions-0-type": "set_priority", "actions-0-value": "P1"}))
    assert r.status_code == 303
    with factory.db.session(write=False) as s:
        event = s.query(AuditEvent).filter_by(action="triage_rules.update", entity_id=str(rule_id)).one()
    assert event.changes["name"] == ["Exports are P2", "Exports are P1"]


def test_a_bad_row_is_refused_in_its_cell(mona, factory):
    before = factory.audit_count()
    r = mona.post("/rules/new", _rule("Broken", **{
        "conditions.all-0-field": "priority", "conditions.all-0-op": "gte", "conditions.all-0-value": "P1",
        "actions-0-type": "set_queue", "actions-0-value": "999"}))
    assert r.status_code == 422
    assert re.search(r'<td class="has-error">\s*<select name="conditions.all-0-op"', r.text)
    assert re.search(r'<td class="has-error">\s*<input name="actions-0-value"', r.text)
    assert "queue 999 does not exist" in r.text
    assert 'value="Broken"' in r.text and factory.audit_count() == before


def test_rules_are_reordered_and_switched_off_and_on(mona, admin, factory):
    ids = [admin.post("/api/v1/triage/rules", json={"name": n, "actions": [{"type": "add_tags", "value": [n]}]})
           .json()["id"] for n in ("first", "second", "third")]
    assert mona.post(f"/rules/{ids[2]}/move", {"direction": "up"}).status_code == 303
    listing = mona.get("/rules").text
    assert listing.index(">first<") < listing.index(">third<") < listing.index(">second<")
    assert factory.audit_count(action="triage_rules.update") == 3, "renumbered by tens, each audited"
    assert mona.post(f"/rules/{ids[0]}/active", {"active": "false"}).status_code == 303
    row = mona.get("/rules").text.split(f'id="rule-{ids[0]}"', 1)[1].split("</tr>", 1)[0]
    assert "Activate first" in row
    assert mona.post(f"/rules/{ids[0]}/move", {"direction": "sideways"}).status_code == 422


def test_try_it_explains_a_pasted_ticket_and_changes_with_the_rule(mona, admin, factory):
    sla_policy(admin)
    before = factory.audit_count()
    first = mona.post("/rules/try", SAMPLE, headers={"HX-Request": "true"})
    assert first.status_code == 200 and first.text.lstrip().startswith('<div id="explain-result"')
    assert "No rule matches this ticket." in first.text and "Standard" in first.text  # the SLA policy
    rule = admin.post("/api/v1/triage/rules", json={
        "name": "Empty exports", "conditions": {"all": [{"field": "error_code", "op": "equals",
                                                         "value": "EXPORT-EMPTY"}]},
        "actions": [{"type": "set_priority", "value": "P1"}]}).json()
    second = mona.post("/rules/try", SAMPLE, headers={"HX-Request": "true"}).text
    assert f'href="/rules/{rule["id"]}"' in second and "Empty exports" in second and "set priority" in second
    assert factory.count(AuditEvent) == before + 1, "explaining writes nothing (the one event: the new rule)"
    refused = mona.post("/rules/try", {**SAMPLE, "requester_email": "not an address"},
                        headers={"HX-Request": "true"})
    assert refused.status_code == 422 and "requester_email" in refused.text


def test_try_it_without_javascript_answers_with_the_rules_page(mona, admin):
    admin.post("/api/v1/triage/rules", json={
        "name": "Empty exports", "conditions": {"all": [{"field": "error_code", "op": "equals",
                                                         "value": "EXPORT-EMPTY"}]},
        "actions": [{"type": "set_priority", "value": "P1"}]})
    page = mona.post("/rules/try", SAMPLE)
    assert page.status_code == 200 and "<h1>Triage rules</h1>" in page.text
    assert 'class="rule-name">Empty exports<' in page.text and 'value="EXPORT-EMPTY"' in page.text
