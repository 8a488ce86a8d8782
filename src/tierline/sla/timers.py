"""The durable warning and breach timers: jobs due at a clock's instants, run by `tierline worker`.

A timer re-checks the clock when it fires: a clock that was paused, answered or re-targeted since has had its
job cancelled or moved, and a late or stale job finds nothing to do.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from tierline.platform import audit, clock, jobs
from tierline.platform.auth.actor import Actor
from tierline.sla import clocks as ck
from tierline.sla import events
from tierline.sla.models import SlaClock, SlaPolicy

SLA_ACTOR = Actor.system("sla")
PRIORITY_UP = {"P4": "P3", "P3": "P2", "P2": "P1"}
TIER_UP = {"L1": "L2", "L2": "L3"}


def _live_clock(session: Session, payload: dict[str, Any]) -> SlaClock | None:
    clk = session.get(SlaClock, payload["clock_id"])
    if clk is None or clk.cycle != payload.get("cycle", clk.cycle) or clk.completed_at is not None:
        return None
    if clk.running_since is None or clk.status == ck.BREACHED:
        return None
    return clk


@jobs.handler(ck.WARNING_JOB)
def fire_warning(session: Session, payload: dict[str, Any]) -> None:
    clk = _live_clock(session, payload)
    if clk is None or clk.warned_at is not None or clk.warning_at is None or clk.warning_at > clock.now():
        return
    before = ck.snapshot_for_audit(clk)
    clk.warned_at = clk.updated_at = clock.now()
    events.record(session, SLA_ACTOR, clk, "warning", at=clk.warning_at,
                  details={"remaining_minutes": clk.target_minutes - ck.elapsed(session, clk)})
    audit.record_update(session, SLA_ACTOR, clk, before, action="sla_clocks.warning",
                        exclude=("updated_at", "segments"))


@jobs.handler(ck.BREACH_JOB)
def fire_breach(session: Session, payload: dict[str, Any]) -> None:
    clk = _live_clock(session, payload)
    if clk is None:
        return
    due = ck.due_instant(session, clk)
    if due is None or due > clock.now():
        return
    before = ck.snapshot_for_audit(clk)
    ck.mark_breached(session, SLA_ACTOR, clk, due)
    audit.record_update(session, SLA_ACTOR, clk, before, action="sla_clocks.breach",
                        exclude=("updated_at", "segments"))
    policy = session.get(SlaPolicy, clk.policy_id)
    on_breach = (policy.on_breach if policy else None) or {}
    if on_breach.get("bump_priority") or on_breach.get("escalate_tier"):
        _apply_on_breach(session, clk, bool(on_breach.get("bump_priority")), bool(on_breach.get("escalate_tier")))


def _apply_on_breach(session: Session, clk: SlaClock, bump_priority: bool, escalate_tier: bool) -> None:
    # Imported here: tickets calls into SLA at every change, so SLA reaches back only from this timer.
    from tierline.platform.errors import Conflict
    from tierline.tickets import escalation
    from tierline.tickets import service as tickets_service

    ticket = tickets_service.get(session, ticket_id=clk.ticket_id)
    reason = f"SLA breach: {clk.metric} target of {clk.target_minutes:g} minutes"
    if bump_priority and ticket.priority in PRIORITY_UP:
        tickets_service.update(session, actor=SLA_ACTOR, ticket=ticket,
                               changes={"priority": PRIORITY_UP[ticket.priority]})
    tier = escalation.current_tier(session, ticket)
    if escalate_tier and tier in TIER_UP:
        try:  # the next tier's queue takes it, and assignment runs there
            escalation.escalate(session, actor=SLA_ACTOR, key=ticket.key, to_tier=TIER_UP[tier], reason=reason)
        except Conflict:
            # No queue serves the next tier: record the tier so people can still see the escalation.
            tickets_service.update(session, actor=SLA_ACTOR, ticket=ticket, changes={"tier": TIER_UP[tier]})
