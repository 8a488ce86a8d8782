"""How the console shows values: durations, money, SLA risk, names, the triage record.

Kept out of the templates (no logic there) and out of the domains (they know nothing of pages): each function
turns what a service returned into plain text or plain dicts a template prints as they are.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from tierline.customers import service as customers_service
from tierline.customers.profiles import CustomerProfile
from tierline.people import service as people_service
from tierline.platform import clock
from tierline.tickets import queues

# An SLA target due within this many minutes is at risk (amber); past due it is breached (red).
AT_RISK_MINUTES = 60
STATUS_LABELS = {"new": "New", "open": "Open", "pending_customer": "Pending customer", "on_hold": "On hold",
                 "solved": "Solved", "closed": "Closed"}
METRIC_LABELS = {"first_response": "First response", "next_reply": "Next reply", "resolution": "Resolution",
                 "periodic_update": "Periodic update"}


def minutes_text(minutes: float | None) -> str:
    """`2d 4h`, `3h 05m`, `12m`; negative minutes read as overdue by the caller."""
    if minutes is None:
        return ""
    total = int(round(abs(minutes)))
    days, rest = divmod(total, 24 * 60)
    hours, mins = divmod(rest, 60)
    if days:
        return f"{days}d {hours}h"
    if hours:
        return f"{hours}h {mins:02d}m"
    return f"{mins}m"


def risk(due_at: datetime | None, now: datetime | None = None) -> str:
    """`breached`, `at-risk` or `ok` for a due instant; `none` when no target runs."""
    if due_at is None:
        return "none"
    left = (clock.as_utc(due_at) - (now or clock.now())).total_seconds() / 60
    if left < 0:
        return "breached"
    return "at-risk" if left <= AT_RISK_MINUTES else "ok"


def due_text(due_at: datetime | None, now: datetime | None = None) -> str:
    """What the countdown shows before the browser's script takes over (and without JavaScript)."""
    if due_at is None:
        return "—"
    left = (clock.as_utc(due_at) - (now or clock.now())).total_seconds() / 60
    return f"{minutes_text(left)} overdue" if left < 0 else f"in {minutes_text(left)}"


def iso(value: datetime | None) -> str:
    return clock.as_utc(value).isoformat() if value is not None else ""


def when(value: datetime | None) -> str:
    """A timestamp as a person reads it (UTC, to the minute)."""
    return clock.as_utc(value).strftime("%Y-%m-%d %H:%M UTC") if value is not None else ""


def money(amount: float | None) -> str:
    """ARR: `$1.2M`, `$48k`, `$900`."""
    if amount is None:
        return ""
    if amount >= 1_000_000:
        return f"${amount / 1_000_000:.1f}M"
    if amount >= 1_000:
        return f"${amount / 1_000:.0f}k"
    return f"${amount:.0f}"


def profiles(session: Session, customer_ids: Iterable[int | None]) -> dict[int, CustomerProfile]:
    return customers_service.many_profiles(session, customer_ids=[c for c in customer_ids if c is not None])


def people(session: Session) -> dict[int, str]:
    """User id -> display name of the active staff who work tickets (assignees, note authors)."""
    users, _ = people_service.list_users(session, active=True, limit=200)
    return {u.id: u.name for u in users if not _is_customer(u.roles)}


def assignable(session: Session) -> list[tuple[int, str]]:
    """(id, label) of the agents a ticket may be assigned to, by name."""
    users, _ = people_service.list_users(session, active=True, limit=200)
    found = [(u.id, f"{u.name} ({u.tier})" if u.tier else u.name) for u in users
             if people_service.ASSIGNABLE_ROLES.intersection(u.roles)]
    return sorted(found, key=lambda item: item[1].lower())


def _is_customer(roles: Iterable[str]) -> bool:
    return "customer" in roles and len(list(roles)) == 1


def queue_names(session: Session) -> dict[int, str]:
    return {q.id: f"{q.name} ({q.tier})" for q in queues.directory(session).values()}


def customer_cell(profile: CustomerProfile | None) -> dict[str, Any] | None:
    if profile is None:
        return None
    return {"id": profile.id, "name": profile.name, "plan": profile.plan, "arr": money(profile.arr)}


# -- the triage record -----------------------------------------------------------------------------------------

def _scalar(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.3g}"
    if isinstance(value, (list, tuple)):
        return ", ".join(_scalar(v) for v in value) or "—"
    if isinstance(value, Mapping):
        return "; ".join(f"{k}: {_scalar(v)}" for k, v in value.items()) or "—"
    return "—" if value is None or value == "" else str(value)


def _action(action: Mapping[str, Any]) -> str:
    """`set_queue 3`, `add_tags database (not applied: ...)`."""
    text = f"{str(action.get('type', '?')).replace('_', ' ')} {_scalar(action.get('value'))}"
    if not action.get("applied", True):
        text += " (not applied)"
    note = action.get("note")
    return f"{text}: {note}" if note else text


def triage_record(record: Mapping[str, Any] | None) -> dict[str, Any] | None:
    """The intake's triage record as the ticket page lists it: why the ticket went where it went."""
    if not record:
        return None
    signals = record.get("signals") or {}
    signal_rows = [(name, _scalar(value)) for name, value in signals.items()
                   if value not in (None, False, [], {}, "", 0)]
    rules = [{"name": m.get("name") or f"rule {m.get('rule_id', '?')}", "why": _scalar(m.get("conditions"))}
             for m in record.get("matched_rules") or [] if isinstance(m, Mapping)]
    actions = [_action(a) for a in record.get("actions") or [] if isinstance(a, Mapping)]
    predictions = [{"target": p.get("target"), "label": _scalar(p.get("label", p.get("value"))),
                    "confidence": f"{float(p['confidence']):.0%}" if isinstance(p.get("confidence"), (int, float))
                    else "—",
                    "applied": "applied" if p.get("applied") else
                               ("overridden by a rule" if p.get("overridden_by_rule") else "not applied")}
                   for p in record.get("prediction") or [] if isinstance(p, Mapping)]
    impact = record.get("impact") or {}
    parts = [{"factor": _scalar(part.get("factor")), "value": _scalar(part.get("points")),
              "note": "" if part.get("detail") in (None, "") else _scalar(part.get("detail"))}
             for part in impact.get("explain") or [] if isinstance(part, Mapping)]
    candidate = record.get("assignee_candidate") or {}
    problem = record.get("problem") or {}
    return {"signals": signal_rows, "rules": rules, "actions": actions, "predictions": predictions,
            "impact_score": impact.get("score"), "impact_parts": parts,
            "assignment": _scalar(candidate.get("reason")) if isinstance(candidate, Mapping) else "—",
            "strategy": candidate.get("strategy") if isinstance(candidate, Mapping) else None,
            "problem": problem.get("problem_key") if isinstance(problem, Mapping) else None,
            "at": record.get("at")}
