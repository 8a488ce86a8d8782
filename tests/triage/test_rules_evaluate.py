"""rules.evaluate on saved rules: order, triggers, stop_processing, components by subtree, the per-process cache,
and the explain route and command that show it."""

from __future__ import annotations

import json
from typing import Any

import pytest
from typer.testing import CliRunner

from tests.triage.rules_helpers import draft
from tierline.platform.errors import Invalid
from tierline.triage import rules
from tierline.triage.types import Signals

URL = "/api/v1/triage/rules"


def make_rule(admin, name: str, actions: list[dict[str, Any]], conditions: dict[str, Any] | None = None,
              **fields: Any) -> dict:
    r = admin.post(URL, json={"name": name, "conditions": conditions or {}, "actions": actions, **fields})
    assert r.status_code == 201, r.text
    return r.json()


def tag(name: str) -> list[dict[str, Any]]:
    return [{"type": "add_tags", "value": [name]}]


def evaluate(db, ticket=None, trigger: str = "create", signals: Signals | None = None):
    ticket = ticket or draft()
    with db.session() as session:
        matches, results = rules.evaluate(session, draft=ticket, signals=signals, trigger=trigger)
    return ticket, matches, results


def test_rules_run_by_position_then_id_for_their_trigger_only(db, admin):
    make_rule(admin, "late", tag("late"), position=5)
    make_rule(admin, "early", tag("early"), position=1)
    make_rule(admin, "late too", tag("late-too"), position=5)
    make_rule(admin, "on update", tag("update"), trigger="update")
    make_rule(admin, "on reply", tag("reply"), trigger="customer_reply")
    make_rule(admin, "off", tag("off"), active=False)
    ticket, matches, _ = evaluate(db)
    assert [m.name for m in matches] == ["early", "late", "late too"]
    assert ticket.tags == ["early", "late", "late-too"]
    assert [m.name for m in evaluate(db, trigger="update")[1]] == ["on update"]
    assert [m.name for m in evaluate(db, trigger="customer_reply")[1]] == ["on reply"]


def test_stop_processing_ends_the_run_after_a_match_only(db, admin):
    make_rule(admin, "vip", tag("vip"), {"all": [{"field": "tags", "op": "contains", "value": "gold"}]},
              position=1, stop_processing=True)
    make_rule(admin, "everyone", tag("seen"), position=2)
    _, matches, _ = evaluate(db, draft(tags=["gold"]))
    assert [m.name for m in matches] == ["vip"] and matches[0].stop_processing
    _, matches, _ = evaluate(db, draft(tags=[]))
    assert [m.name for m in matches] == ["everyone"]


def test_a_component_condition_matches_the_component_and_its_descendants(db, admin):
    root = admin.post("/api/v1/components", json={"name": "Platform"}).json()["id"]
    child = admin.post("/api/v1/components", json={"name": "Database", "parent_id": root}).json()["id"]
    leaf = admin.post("/api/v1/components", json={"name": "Replication", "parent_id": child}).json()["id"]
    other = admin.post("/api/v1/components", json={"name": "Billing"}).json()["id"]
    make_rule(admin, "database", tag("db"), {"all": [{"field": "component", "op": "equals", "value": child}]})
    make_rule(admin, "not billing", tag("not-billing"),
              {"all": [{"field": "component", "op": "not_in", "value": [other]}]})
    make_rule(admin, "no component", tag("none"), {"all": [{"field": "component", "op": "is_empty"}]})
    make_rule(admin, "platform or billing", tag("any"),
              {"all": [{"field": "component", "op": "in", "value": [root, other]}]})
    make_rule(admin, "not database", tag("not-db"),
              {"all": [{"field": "component", "op": "not_equals", "value": child}]})
    assert evaluate(db, draft(component_id=leaf))[0].tags == ["db", "not-billing", "any"]
    assert evaluate(db, draft(component_id=child))[0].tags == ["db", "not-billing", "any"]
    assert evaluate(db, draft(component_id=root))[0].tags == ["not-billing", "any", "not-db"]
    assert evaluate(db, draft(component_id=other))[0].tags == ["any", "not-db"]
    assert evaluate(db, draft(component_id=None))[0].tags == ["not-billing", "none", "not-db"]
    assert evaluate(db, draft(component_id=987654))[0].tags == ["not-billing", "not-db"]  # deleted meanwhile


def test_a_rule_change_is_seen_by_the_next_evaluation(db, admin):
    created = make_rule(admin, "p1", [{"type": "set_priority", "value": "P1"}])
    assert evaluate(db)[0].priority == "P1"
    admin.patch(f"{URL}/{created['id']}", json={"actions": [{"type": "set_priority", "value": "P2"}]})
    assert evaluate(db)[0].priority == "P2"
    admin.patch(f"{URL}/{created['id']}", json={"active": False})
    assert evaluate(db)[0].priority == "P3"
    admin.delete(f"{URL}/{created['id']}")
    make_rule(admin, "p4", [{"type": "set_priority", "value": "P4"}])
    assert evaluate(db)[0].priority == "P4"


def test_unchanged_rules_are_compiled_once_per_process(db, admin):
    make_rule(admin, "a", tag("a"))
    with db.session() as session:
        first = rules.current(session)
        assert rules.current(session) is first  # checked once per transaction
    with db.session() as session:
        assert rules.current(session) is first  # a new transaction checks the token, finds it unchanged
    make_rule(admin, "b", tag("b"))
    with db.session() as session:
        assert rules.current(session) is not first


def test_a_rule_written_in_this_transaction_is_seen_by_it(db, admin):
    from tests.helpers import SYSTEM

    assert evaluate(db)[1] == []
    with db.session() as session:
        rules.create(session, actor=SYSTEM, name="fresh", actions=tag("fresh"))
        ticket = draft()
        matches, _ = rules.evaluate(session, draft=ticket, signals=None, trigger="create")
        assert [m.name for m in matches] == ["fresh"]
        session.rollback()
    assert evaluate(db)[1] == []  # rolled back: gone, and the cache knows it


def test_an_unknown_trigger_is_refused(db):
    with db.session() as session, pytest.raises(Invalid):
        rules.evaluate(session, draft=draft(), signals=None, trigger="sometimes")


def test_explain_shows_the_matched_rules_and_saves_nothing(admin, factory):
    from tierline.tickets.models import Ticket

    make_rule(admin, "database errors", [{"type": "set_priority", "value": "P1"}],
              {"all": [{"field": "error_code", "op": "matches", "value": r"^DB-\d{4}$"}]})
    events = factory.audit_count()
    r = admin.post("/api/v1/triage/explain", json={"subject": "Checkout down", "requester_email": "a@b.example",
                                                    "description": "We see error DB-1234 on every payment."})
    assert r.status_code == 200, r.text
    result = r.json()
    assert [m["name"] for m in result["matched_rules"]] == ["database errors"]
    assert result["matched_rules"][0]["conditions"][0]["actual"] == "DB-1234"
    action = result["actions"][0]
    assert (action["type"], action["value"], action["applied"]) == ("set_priority", "P1", True)
    assert factory.count(Ticket) == 0 and factory.audit_count() == events


def test_explain_refuses_an_invalid_ticket_body(admin):
    r = admin.post("/api/v1/triage/explain", json={"subject": "x"})
    assert r.status_code == 422 and "description" in {e["field"] for e in r.json()["errors"]}


def test_the_explain_command_prints_the_same_json(db, admin, tmp_path):
    from tierline.cli import app as cli

    make_rule(admin, "auth errors", tag("auth"), {"all": [{"field": "error_code", "op": "starts_with",
                                                           "value": "AUTH-"}]})
    ticket = tmp_path / "ticket.json"
    ticket.write_text(json.dumps({"subject": "Login broken", "description": "Error AUTH-401 at sign in.",
                                  "requester_email": "a@b.example", "error_code": "AUTH-401"}))
    result = CliRunner().invoke(cli, ["triage", "explain", str(ticket)])
    assert result.exit_code == 0, result.output
    assert [m["name"] for m in json.loads(result.stdout)["matched_rules"]] == ["auth errors"]
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"subject": "x"}))
    result = CliRunner().invoke(cli, ["triage", "explain", str(bad)])
    assert result.exit_code == 2
