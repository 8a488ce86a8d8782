"""The tier report: per component and ticket type, where tickets take first touch now, how each tier does when
it takes it, and which tier should take it.

Inputs, over the tickets created in the last N days:
- first-touch tier: the tier a ticket had when it was created (its `tickets.create` audit event), else the
  first tier it was given later, else its current tier. A ticket escalated from L1 to L2 counts for L1: the
  question is what happens when L1 takes first touch.
- volume: tickets per first-touch tier. The tier with the most is the current practice (`current_first_touch`);
  for a category the triage rules route to an L2 queue, that is L2 and L1 has no first-touch tickets at all.
- MTTR: mean (and median) hours from created_at to solved_at, over the tickets solved now (or closed).
- reopen rate: tickets reopened at least once (an audit event changing status from solved to open, whether by
  an agent or a customer reply) / tickets solved at least once.
- escalation rate: tickets whose tier went up at some point (escalate, or a PATCH of tier) / volume.

A figure proves nothing over fewer than `THRESHOLDS["min_tickets"]` tickets (first-touch tickets for the
escalation rate, solved for MTTR, solved at least once for the reopen rate); each row lists the figures that
fell short per tier (`insufficient_data`).

The recommendation rests on evidence, never on a default. It starts at the lowest tier with `min_tickets`
first-touch tickets: a tier without them cannot show that it copes, so when the rules send a category to L2
the report keeps L2 ("L1 has no first-touch data") instead of handing it to the L1 it never saw. From there it
hands first touch to the next tier while the current one reopens more than `reopen_rate`, or takes more than
`mttr_ratio` times the next tier's MTTR (the next tier also with enough solved tickets), or escalates more
than `escalation_rate` of its tickets; each of those needs enough tickets behind the figure. A hand-off may
reach a tier with little data of its own: the evidence is then against the tier below, and the walk stops
there. When no tier has `min_tickets` first-touch tickets, the current practice stays (L1 when no ticket had a
tier). Every rule that fired is listed with its figures, and `verdict` says in one line whether the
recommendation keeps or changes the current practice, and why (`changes_practice`).
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
from tierline.platform import audit, clock
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
    rows = audit.scan(session, AuditEvent.entity_id, AuditEvent.action, AuditEvent.changes,
                      where=(AuditEvent.entity_type == "tickets", AuditEvent.occurred_at >= since,
                             AuditEvent.action.in_(_ACTIONS)), batch=_CHUNK)
    for _, entity_id, action, changes in rows:
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


# Each rate the rules read, and the count it is taken over: a rate over fewer than min_tickets proves nothing.
FIGURE_BASIS: dict[str, str] = {"reopen_rate": "ever_solved", "mttr_hours": "solved", "escalation_rate": "volume"}


@dataclass(frozen=True)
class Recommendation:
    """One category's verdict: the tier that should take first touch, set against the tier that takes it now."""

    tier: str
    reasons: list[str]
    current: str | None  # the tier that took first touch of most tickets; None when no ticket had a tier
    changes_practice: bool
    verdict: str
    insufficient: dict[str, list[str]]


def current_first_touch(tiers: dict[str, dict[str, Any]]) -> str | None:
    """The tier that took first touch of the most tickets (a tie goes to the lower tier); None without any."""
    tier = max(TIERS, key=lambda name: (tiers[name]["volume"], -TIERS.index(name)))
    return tier if tiers[tier]["volume"] else None


def insufficient_data(tiers: dict[str, dict[str, Any]], thresholds: dict[str, float] | None = None
                      ) -> dict[str, list[str]]:
    """Per tier, the figures with fewer than min_tickets tickets behind them (tiers with none left out)."""
    need = (thresholds or THRESHOLDS)["min_tickets"]
    out = {}
    for tier in TIERS:
        short = [figure for figure, basis in FIGURE_BASIS.items() if tiers[tier][basis] < need]
        if short:
            out[tier] = short
    return out


def _handoff(lower: str, higher: str, here: dict[str, Any], there: dict[str, Any], t: dict[str, float]
             ) -> list[str]:
    """The rules, with their figures, by which `lower` hands first touch to `higher` (none: it keeps it)."""
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
    return why


def _too_few(tier: str, volume: int, need: float) -> str:
    if not volume:
        return f"{tier} has no first-touch data"
    return f"{tier} has {volume} first-touch ticket{'s' * (volume != 1)}, fewer than {need:g}"


def recommend(tiers: dict[str, dict[str, Any]], thresholds: dict[str, float] | None = None) -> Recommendation:
    """The first-touch tier for one category, the rules (with their figures) that led there, and how it compares
    with the tier that takes first touch now."""
    t = thresholds or THRESHOLDS
    need = t["min_tickets"]
    current = current_first_touch(tiers)
    insufficient = insufficient_data(tiers, t)
    judged = [tier for tier in TIERS if tiers[tier]["volume"] >= need]
    if not judged:  # nothing to judge by: no change of practice on no evidence
        tier = current or TIERS[0]
        basis = (f"no tier has {need:g} first-touch tickets to judge by" if current
                 else "no ticket had a tier to judge by")
        return Recommendation(tier, [f"{basis}; {tier} keeps first touch"], current, False,
                              f"keep {tier}: {basis}", insufficient)
    start = judged[0]
    reasons: list[str] = []
    lead = ", ".join(_too_few(tier, tiers[tier]["volume"], need) for tier in TIERS[:TIERS.index(start)])
    if lead:
        reasons.append(f"{lead}: first touch starts at {start}, the lowest tier with {need:g} or more")
    tier, fired = start, []  # fired: every rule of every hand-off on the way up
    while True:
        here = tiers[tier]
        if here["volume"] < need:  # reached by a hand-off: the evidence is against the tier below
            below = TIERS[TIERS.index(tier) - 1]
            reasons.append(f"{_too_few(tier, here['volume'], need)} to judge by; {tier} takes first touch on "
                           f"{below}'s figures")
            break
        if tier == TIERS[-1]:
            break
        higher = TIERS[TIERS.index(tier) + 1]
        why = _handoff(tier, higher, here, tiers[higher], t)
        if not why:
            break
        reasons.extend(f"{r} -> {higher}" for r in why)
        tier = higher
        fired.extend(why)
    if fired:
        basis = "; ".join(fired)
    elif lead:
        basis = lead
    else:
        basis = f"{tier} is within every threshold on its {tiers[tier]['volume']} first-touch tickets"
    changes = tier != current
    verdict = f"move first touch from {current} to {tier}: {basis}" if changes else f"keep {tier}: {basis}"
    return Recommendation(tier, reasons, current, changes, verdict, insufficient)


def report(session: Session, *, days: int = 90, component_id: int | None = None,
           type: str | None = None) -> dict[str, Any]:  # `type`: the ticket field's name
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
            groups[key]  # the category still shows, with its untiered count
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
        advice = recommend(tiers)
        rows.append({
            "component_id": cid, "component": names.get(cid) if cid is not None else None,
            "type": ticket_type,
            "volume": sum(s["volume"] for s in tiers.values()) + untiered[(cid, ticket_type)],
            "untiered": untiered[(cid, ticket_type)], "tiers": tiers,
            "current_first_touch": advice.current, "recommended_first_touch": advice.tier,
            "changes_practice": advice.changes_practice, "verdict": advice.verdict, "reasons": advice.reasons,
            "insufficient_data": advice.insufficient,
        })
    rows.sort(key=lambda r: (-r["volume"], r["component_id"] is None, r["component_id"] or 0, r["type"]))
    return {"days": days, "since": since, "until": until, "thresholds": dict(THRESHOLDS), "rows": rows}
