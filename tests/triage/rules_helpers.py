"""Helpers for the rules tests: build rules and drafts, and run rules both through the index and without it."""

from __future__ import annotations

import copy
from types import SimpleNamespace
from typing import Any

from sqlalchemy.orm import Session

from tierline.customers.profiles import CustomerProfile
from tierline.triage import rules
from tierline.triage.types import ActionResult, Draft, RuleMatch, Signals

_ids = iter(range(1, 10**9))


def rule(conditions: dict[str, Any] | None = None, actions: list[dict[str, Any]] | None = None, *,
         name: str | None = None, position: int = 0, trigger: str = "create", active: bool = True,
         stop_processing: bool = False, rule_id: int | None = None) -> SimpleNamespace:
    """A rule as compile_rules reads it (the attributes of a TriageRule row)."""
    rule_id = rule_id if rule_id is not None else next(_ids)
    return SimpleNamespace(id=rule_id, name=name or f"rule {rule_id}", position=position, trigger=trigger,
                           active=active, stop_processing=stop_processing,
                           conditions=conditions or {"all": [], "any": []},
                           actions=actions if actions is not None else [{"type": "add_tags", "value": ["hit"]}])


def customer(**fields: Any) -> CustomerProfile:
    values = {"id": 1, "name": "Acme", "plan": "enterprise", "arr": 120_000.0, "region": "EU-West",
              "licensed_users": 300, "arr_percentile": 0.9}
    values.update(fields)
    return CustomerProfile(**values)


def draft(**fields: Any) -> Draft:
    values: dict[str, Any] = {"subject": "Checkout fails with DB-1234",
                              "description": "Since the deploy every payment fails. Error DB-1234 in the logs.",
                              "requester_email": "jane@acme.example"}
    values.update(fields)
    return Draft(**values)


def run(rule_list: list[Any], ticket: Draft, *, signals: Signals | None = None, session: Session | None = None,
        trigger: str = "create") -> tuple[list[RuleMatch], list[ActionResult]]:
    """Run the rules on `ticket` (changing it) and check the index picked the same rules as testing them all."""
    compiled = rules.compile_rules(rule_list)
    reference = copy.deepcopy(ticket)
    expected = rules.run(session, compiled, draft=reference, signals=signals, trigger=trigger, use_index=False)
    got = rules.run(session, compiled, draft=ticket, signals=signals, trigger=trigger)
    assert got == expected, "the index changed the outcome"
    assert ticket == reference, "the index changed the draft"
    return got


def holds(condition: dict[str, Any], ticket: Draft, *, group: str = "all", signals: Signals | None = None,
          session: Session | None = None) -> bool:
    matches, _ = run([rule({group: [condition]})], ticket, signals=signals, session=session)
    return bool(matches)
