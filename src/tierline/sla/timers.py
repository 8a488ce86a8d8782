"""The durable warning and breach timers: jobs due at a clock's instants, run by `tierline worker`.

A timer re-checks the clock when it fires: a clock that was paused, answered or re-targeted since has had its
job cancelled or moved, and a late or stale job finds nothing to do.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from tierline.platform import audit, clock, jobs
from tierline.platform.auth.actor import Actor
from tierline.sla import clocks as ck
from tierline.sla import events
from tierline.sla.models import SlaClock, SlaPolicy

SLA_ACTOR = Actor.system("sla")


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


@dataclass(frozen=True)
class OnBreach:
    """What a breached clock's policy asks of its ticket: the tickets side carries it out (flows/sla_breach.py)."""

    ticket_id: int
    reason: str
    bump_priority: bool
    escalate_tier: bool


def fire_breach(session: Session, payload: dict[str, Any]) -> OnBreach | None:
    """Mark the clock breached if it still is; returns what its policy asks to do to the ticket, if anything.
    (The breach timer's handler is in flows/jobs.py: acting on the ticket is a flow.)"""
    clk = _live_clock(session, payload)
    if clk is None:
        return None
    due = ck.due_instant(session, clk)
    if due is None or due > clock.now():
        return None
    before = ck.snapshot_for_audit(clk)
    ck.mark_breached(session, SLA_ACTOR, clk, due)
    audit.record_update(session, SLA_ACTOR, clk, before, action="sla_clocks.breach",
                        exclude=("updated_at", "segments"))
    policy = session.get(SlaPolicy, clk.policy_id)
    on_breach = (policy.on_breach if policy else None) or {}
    if not (on_breach.get("bump_priority") or on_breach.get("escalate_tier")):
        return None
    return OnBreach(ticket_id=clk.ticket_id, reason=f"SLA breach: {clk.metric} target of {clk.target_minutes:g} minutes",
                    bump_priority=bool(on_breach.get("bump_priority")),
                    escalate_tier=bool(on_breach.get("escalate_tier")))
