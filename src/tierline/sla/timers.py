"""The warning and breach sweeps: workers find running clocks whose `warning_at` or `due_at` has come and act on
each once, in a transaction of its own.

A clock carries its own instants (`clocks.place` sets them on every change), so nothing is scheduled, moved or
cancelled when a clock changes: a clock paused, answered, solved or re-targeted since simply no longer matches
the sweep's query. Each query reads one partial index of the active clocks (`ix_sla_clocks_due_active`,
`ix_sla_clocks_warning_due`), so an idle sweep costs one index probe whatever the ticket history holds.

Claiming: the item's transaction selects the clock again with the same conditions, `FOR UPDATE SKIP LOCKED`
on PostgreSQL (on SQLite the write lock serialises workers), so two workers never act on one clock and a
clock changed since it was listed is left alone. A late worker still breaches at the due instant, not at the
instant it got there, and warns before it breaches (the warning sweep is registered first).

A failing warning or breach (an `on_breach` action that raises, say) rolls back alone; `hold_back` then
counts the attempt on the clock (`sweep_attempts`) and leaves it out of both sweeps until `sweep_retry_at`:
15 s, doubling, at most an hour, never given up. The clock keeps its instants meanwhile, so the breach is
recorded at its due instant whenever it finally succeeds; success resets both columns. Each held-back attempt
is audited (`sla_clocks.sweep_failed`) and logged with its error (`sweep_item_failed`).

The warning sweep is registered here; the breach sweep in flows/jobs.py, because acting on the ticket
(a priority bump, an escalation) is a flow.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, or_, select
from sqlalchemy.orm import Session

from tierline.platform import audit, jobs
from tierline.platform.auth.actor import Actor
from tierline.platform.schemas import tenth
from tierline.sla import clocks as ck
from tierline.sla import events
from tierline.sla.models import SlaClock, SlaEvent, SlaPolicy

SLA_ACTOR = Actor.system("sla")
WARNING_SWEEP, BREACH_SWEEP = "sla.warning", "sla.breach"
_AUDIT_EXCLUDE = ("updated_at", "segments")


def _not_held_back(now: datetime) -> ColumnElement[bool]:
    return or_(SlaClock.sweep_retry_at.is_(None), SlaClock.sweep_retry_at <= now)


def _breach_due(now: datetime) -> tuple[ColumnElement[bool], ...]:
    """Running, not completed, not breached, due: `status = 'active'` is the partial index's predicate."""
    return (SlaClock.status == ck.ACTIVE, SlaClock.due_at <= now, SlaClock.running_since.is_not(None),
            SlaClock.completed_at.is_(None), _not_held_back(now))


def _warning_due(now: datetime) -> tuple[ColumnElement[bool], ...]:
    return (SlaClock.status == ck.ACTIVE, SlaClock.warned_at.is_(None), SlaClock.warning_at.is_not(None),
            SlaClock.warning_at <= now, SlaClock.running_since.is_not(None), SlaClock.completed_at.is_(None),
            _not_held_back(now))


def due_breaches(session: Session, now: datetime, limit: int) -> list[int]:
    """Ids of clocks due for breach at `now`, soonest first."""
    stmt = select(SlaClock.id).where(*_breach_due(now)).order_by(SlaClock.due_at, SlaClock.id).limit(limit)
    return list(session.scalars(stmt))


def due_warnings(session: Session, now: datetime, limit: int) -> list[int]:
    """Ids of clocks due for their warning at `now`, soonest first."""
    stmt = (select(SlaClock.id).where(*_warning_due(now)).order_by(SlaClock.warning_at, SlaClock.id)
            .limit(limit))
    return list(session.scalars(stmt))


def _claim(session: Session, clock_id: int, conditions: tuple[ColumnElement[bool], ...]
           ) -> tuple[SlaClock, SlaPolicy] | tuple[None, None]:
    """The clock, locked, and its policy (read in the same statement, not locked), if the clock still meets
    `conditions`; (None, None) if it no longer does or another worker holds it."""
    stmt = (select(SlaClock, SlaPolicy).join(SlaPolicy, SlaPolicy.id == SlaClock.policy_id)
            .where(SlaClock.id == clock_id, *conditions).with_for_update(skip_locked=True, of=SlaClock))
    row = session.execute(stmt).first()
    return (row[0], row[1]) if row is not None else (None, None)


def _succeeded(clk: SlaClock) -> None:
    if clk.sweep_attempts or clk.sweep_retry_at is not None:
        clk.sweep_attempts, clk.sweep_retry_at = 0, None


def _place_again(session: Session, clk: SlaClock, policy: SlaPolicy, before: dict[str, Any],
                 now: datetime) -> None:
    """Set the clock's instants again from its state (its calendar changed since they were placed)."""
    ck.place(session, clk, policy)
    if audit.record_update(session, SLA_ACTOR, clk, before, action="sla_clocks.update", exclude=_AUDIT_EXCLUDE):
        clk.updated_at = now


def fire_warning(session: Session, clock_id: int, now: datetime) -> bool:
    """Warn that a clock has used `warning_percent` of its target, if it still runs and has not warned.

    The warning instant is computed again from the clock's state first: one whose calendar changed since it was
    placed is placed again instead (audited), and the sweep finds it at its new instant."""
    clk, policy = _claim(session, clock_id, _warning_due(now))
    if clk is None:
        return False
    before = ck.snapshot_for_audit(clk)
    if ck.warning_instant(session, clk, policy) != clk.warning_at:
        _place_again(session, clk, policy, before, now)
        if clk.warning_at is None or clk.warning_at > now:
            return False
        before = ck.snapshot_for_audit(clk)
    clk.warned_at = clk.updated_at = now
    _succeeded(clk)
    events.record(session, SLA_ACTOR, clk, "warning", at=clk.warning_at,
                  details={"remaining_minutes": clk.target_minutes - ck.elapsed(session, clk, now)})
    audit.record_update(session, SLA_ACTOR, clk, before, action="sla_clocks.warning", exclude=_AUDIT_EXCLUDE)
    return True


DEFAULT_ESCALATE_EXCLUDE = ("feature_request",)  # a policy's on_breach without the key (made before it)


@dataclass(frozen=True)
class OnBreach:
    """What a breached clock's policy asks of its ticket: the tickets side carries it out (flows/sla_breach.py)."""

    ticket_id: int
    reason: str
    bump_priority: bool
    escalate_tier: bool
    clock_id: int | None = None
    escalate_exclude_types: tuple[str, ...] = DEFAULT_ESCALATE_EXCLUDE

    @property
    def asks_anything(self) -> bool:
        return self.bump_priority or self.escalate_tier


def fire_breach(session: Session, clock_id: int, now: datetime) -> OnBreach | None:
    """Mark a due clock breached at its due instant; returns what its policy asks of the ticket (None when the
    clock was not breached: no longer due, or held by another worker).

    The due instant is computed again from the clock's state: a clock whose calendar changed since its
    `due_at` was placed is placed again instead (audited), and the sweep finds it at its new instant."""
    clk, policy = _claim(session, clock_id, _breach_due(now))
    if clk is None:
        return None
    before = ck.snapshot_for_audit(clk)
    due = ck.due_instant(session, clk)
    if due is None or due > now:
        _place_again(session, clk, policy, before, now)
        return None
    ck.mark_breached(session, SLA_ACTOR, clk, due)
    _succeeded(clk)
    audit.record_update(session, SLA_ACTOR, clk, before, action="sla_clocks.breach", exclude=_AUDIT_EXCLUDE)
    on_breach = policy.on_breach or {}
    minutes = tenth(clk.target_minutes)
    return OnBreach(ticket_id=clk.ticket_id,
                    reason=f"SLA breach: {clk.metric} target of {minutes:g} minute{'s' * (minutes != 1)}",
                    bump_priority=bool(on_breach.get("bump_priority")),
                    escalate_tier=bool(on_breach.get("escalate_tier")), clock_id=clk.id,
                    escalate_exclude_types=tuple(on_breach.get("escalate_exclude_types",
                                                               DEFAULT_ESCALATE_EXCLUDE)))


def escalated_to(session: Session, *, ticket_id: int) -> set[str]:
    """The tiers SLA breaches have escalated this ticket to (`escalated` events)."""
    rows = session.scalars(select(SlaEvent.details).where(SlaEvent.ticket_id == ticket_id,
                                                          SlaEvent.kind == "escalated"))
    return {d.get("to_tier") for d in rows if isinstance(d, dict)}


def record_escalation(session: Session, *, clock_id: int, to_tier: str, queue_id: int | None) -> None:
    """The breach of this clock escalated its ticket to `to_tier`: part of the clock's history."""
    clk = session.get(SlaClock, clock_id)
    if clk is not None:
        events.record(session, SLA_ACTOR, clk, "escalated", at=clk.breached_at or clk.updated_at,
                      details={"to_tier": to_tier, "queue_id": queue_id})


def hold_back(session: Session, clock_id: Any, error: str, now: datetime) -> None:
    """A warning or breach of this clock failed (and was rolled back): count the attempt and keep the clock out
    of the sweeps until a growing interval has passed. `error` is logged by the worker."""
    clk = session.get(SlaClock, clock_id, with_for_update=True)
    if clk is None:
        return
    before = ck.snapshot_for_audit(clk)
    clk.sweep_attempts += 1
    clk.sweep_retry_at = now + jobs.retry_delay(clk.sweep_attempts)
    audit.record_update(session, SLA_ACTOR, clk, before, action="sla_clocks.sweep_failed", exclude=_AUDIT_EXCLUDE)


jobs.register_sweep(jobs.Sweep(WARNING_SWEEP, due=due_warnings, run=fire_warning, failed=hold_back))
