"""The tier report: per component and ticket type, how each tier does when it takes first touch, and which
tier should take it.

Inputs, over the tickets created in the last N days:
- first-touch tier: the tier a ticket had when it was created (its `tickets.create` audit event), else the
  first tier it was given later, else its current tier. A ticket escalated from L1 to L2 counts for L1: the
  question is what happens when L1 takes first touch.
- volume: tickets per first-touch tier.
- MTTR: mean (and median) hours from created_at to solved_at, over the tickets solved now (or closed).
- reopen rate: tickets reopened at least once (an audit event changing status from solved to open, whether by
  an agent or a customer reply) / tickets solved at least once.
- escalation rate: tickets whose tier went up at some point (escalate, or a PATCH of tier) / volume.

The recommendation starts at L1 and hands first touch to the next tier while the current one, with at least
`THRESHOLDS["min_tickets"]` tickets to judge by, reopens more than `reopen_rate`, or takes more than
`mttr_ratio` times the next tier's MTTR (the next tier also with enough solved tickets), or escalates more
than `escalation_rate` of its tickets. Every rule that fired is listed with its figures.
"""

from __future__ import annotations

import statistics
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from tierline.components import service as components_service
from tierline.platform import clock
from tierline.platform.audit import AuditEvent
from tierline.platform.errors import NotFound
from tierline.tickets.models import TIERS, Ticket

THRESHOLDS: dict[str, float] = {
    "min_tickets": 5,  # fewer tickets than this in a tier (solved, for MTTR) prove nothing
    "mttr_ratio": 2.0,  # a tier slower than 2x the next tier hands first touch on
    "reopen_rate": 0.20,  # more than 20% of its solved tickets reopened
    "escalation_rate": 0.50,  # more than half of its tickets escalated anyway
}
# The audit actions that can carry a ticket's tier or status changes (creation, PATCH and messages,
# escalation between tiers).
_ACTIONS = ("tickets.create", "tickets.update", "tickets.escalate", "tickets.de_escalate")
_CHUNK = 1000


@dataclass
class _History:
    first_tier: str | None = None
    reopened: bool = False
    escalated: bool = False


@dataclass
class _Stats:
    volume: int = 0
    hours: list[float] = field(default_factory=list)
    ever_solved: int = 0
    reopened: int = 0
    escalated: int = 0

    def as_dict(self) -> dict[str, Any]:
        solved = len(self.hours)
        return {
            "volume": self.volume,
            "solved": solved,
            "mttr_hours": round(statistics.fmean(self.hours), 2) if self.hours else None,
            "median_hours": round(statistics.median(self.hours), 2) if self.hours else None,
            "ever_solved": self.ever_solved,
            "reopened": self.reopened,
            "reopen_rate": round(self.reopened / self.ever_solved, 4) if self.ever_solved else None,
            "escalated": self.escalated,
            "escalation_rate": round(self.escalated / self.volume, 4) if self.volume else None,
        }


def _histories(session: Session, since: Any, ticket_ids: set[int]) -> dict[int, _History]:
    """What the audit trail says about each ticket: its first tier, whether it reopened or went up a tier.

    Events of tickets created since `since` happened since then too, so the scan filters by time (the audit
    table is hot; its queries filter by time or key)."""
    out: dict[int, _History] = defaultdict(_History)
    stmt = (select(AuditEvent.entity_id, AuditEvent.action, AuditEvent.changes)
            .where(AuditEvent.entity_type == "tickets", AuditEvent.occurred_at >= since,
                   AuditEvent.action.in_(_ACTIONS))
            .order_by(AuditEvent.seq))
    for entity_id, action, changes in session.execute(stmt.execution_options(yield_per=_CHUNK)):
        if not entity_id.isdigit() or int(entity_id) not in ticket_ids:
            continue
        history = out[int(entity_id)]
        tier = changes.get("tier")
        if isinstance(tier, list) and len(tier) == 2:
            before, after = tier
            if history.first_tier is None:
                history.first_tier = after if action == "tickets.create" or before is None else before
            if before in TIERS and after in TIERS and after > before:
                history.escalated = True
        if changes.get("status") == ["solved", "open"]:
            history.reopened = True
    return out


def _component_names(session: Session, ids: set[int | None]) -> dict[int, str]:
    names = {}
    for cid in ids:
        if cid is None:
            continue
        try:
            names[cid] = components_service.get(session, component_id=cid).name
        except NotFound:
            names[cid] = f"component {cid}"
    return names


def _pct(rate: float) -> str:
    return f"{rate * 100:.0f}%"


def recommend(tiers: dict[str, dict[str, Any]], thresholds: dict[str, float] | None = None
              ) -> tuple[str, list[str]]:
    """The first-touch tier for one category and the rules (with their figures) that led there."""
    t = thresholds or THRESHOLDS
    reasons: list[str] = []
    for lower, higher in zip(TIERS, TIERS[1:]):
        here, there = tiers[lower], tiers[higher]
        why = []
        if here["ever_solved"] >= t["min_tickets"] and here["reopen_rate"] > t["reopen_rate"]:
            why.append(f"{lower} reopen rate {_pct(here['reopen_rate'])} > {_pct(t['reopen_rate'])}")
        if here["solved"] >= t["min_tickets"] and there["solved"] >= t["min_tickets"] \
                and here["mttr_hours"] > t["mttr_ratio"] * there["mttr_hours"]:
            why.append(f"{lower} MTTR {here['mttr_hours']}h > {t['mttr_ratio']:g} x {higher} MTTR "
                       f"{there['mttr_hours']}h")
        if here["volume"] >= t["min_tickets"] and here["escalation_rate"] > t["escalation_rate"]:
            why.append(f"{lower} escalated {_pct(here['escalation_rate'])} of its tickets > "
                       f"{_pct(t['escalation_rate'])}")
        if not why:
            if here["volume"] < t["min_tickets"]:
                reasons.append(f"{lower}: {here['volume']} tickets, fewer than {t['min_tickets']:g} to judge "
                               f"by; {lower} takes first touch until there are more")
            return lower, reasons
        reasons.extend(f"{r} -> {higher}" for r in why)
    return TIERS[-1], reasons


def report(session: Session, *, days: int = 90, component_id: int | None = None,
           type: str | None = None) -> dict[str, Any]:  # noqa: A002 (the ticket field's name)
    until = clock.now()
    since = until - timedelta(days=days)
    stmt = (select(Ticket.id, Ticket.component_id, Ticket.type, Ticket.tier, Ticket.created_at,
                   Ticket.solved_at).where(Ticket.created_at >= since))
    if component_id is not None:
        try:
            subtree = components_service.descendant_ids(session, component_id=component_id)
        except NotFound:
            subtree = {component_id}  # like the ticket list: an unknown component matches nothing
        stmt = stmt.where(Ticket.component_id.in_(subtree))
    if type is not None:
        stmt = stmt.where(Ticket.type == type)
    tickets = session.execute(stmt).all()
    histories = _histories(session, since, {t.id for t in tickets})
    groups: dict[tuple[int | None, str], dict[str, _Stats]] = defaultdict(
        lambda: {tier: _Stats() for tier in TIERS})
    untiered: dict[tuple[int | None, str], int] = defaultdict(int)
    for t in tickets:
        history = histories.get(t.id, _History())
        tier = history.first_tier or t.tier
        key = (t.component_id, t.type)
        if tier not in TIERS:
            untiered[key] += 1
            groups[key]  # noqa: B018 (the category still shows, with its untiered count)
            continue
        stats = groups[key][tier]
        stats.volume += 1
        if t.solved_at is not None:
            took = clock.as_utc(t.solved_at) - clock.as_utc(t.created_at)
            stats.hours.append(took.total_seconds() / 3600)
        if t.solved_at is not None or history.reopened:
            stats.ever_solved += 1
        stats.reopened += history.reopened
        stats.escalated += history.escalated
    names = _component_names(session, {k[0] for k in groups})
    rows = []
    for (cid, ticket_type), per_tier in groups.items():
        tiers = {tier: stats.as_dict() for tier, stats in per_tier.items()}
        tier, reasons = recommend(tiers)
        rows.append({
            "component_id": cid, "component": names.get(cid) if cid is not None else None,
            "type": ticket_type,
            "volume": sum(s["volume"] for s in tiers.values()) + untiered[(cid, ticket_type)],
            "untiered": untiered[(cid, ticket_type)], "tiers": tiers, "recommended_first_touch": tier,
            "reasons": reasons,
        })
    rows.sort(key=lambda r: (-r["volume"], r["component_id"] is None, r["component_id"] or 0, r["type"]))
    return {"days": days, "since": since, "until": until, "thresholds": dict(THRESHOLDS), "rows": rows}
