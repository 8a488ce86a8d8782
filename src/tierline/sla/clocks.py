"""SLA clocks: the state of each target of each ticket, kept exact through pauses, reopenings and re-targeting.

A clock keeps the closed segments of time it ran (`segments`) and their total in its unit (`consumed_minutes`,
business minutes when the target is in business hours), plus `running_since` while it runs. Elapsed time is
therefore exact under any calendar: when a priority or policy change moves a clock to another calendar, its
consumed time is measured again from the segments, never lost.

The metrics, as Zendesk users expect them:
- first_response: from creation to the first public agent reply;
- next_reply: from the oldest unanswered public customer message to the next public agent reply;
- periodic_update: a cycle restarted by every public agent reply, running while the ticket is new or open;
- resolution: from creation to solved, paused in the policy's pause statuses, resumed on reopen.
Solving a ticket completes every running target.

`place` sets a running clock's `due_at` and `warning_at`; workers find clocks by those columns when they fall
due (timers.py). No timer rows exist per clock, so changing a clock never touches anything but its row.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from tierline.platform import audit, clock
from tierline.platform.auth.actor import Actor
from tierline.sla import calendars, events
from tierline.sla.business_time import BusinessCalendar, add_business_minutes, business_minutes_between
from tierline.sla.models import SlaClock, SlaPolicy

ACTIVE, PAUSED, ACHIEVED, BREACHED, CANCELLED = "active", "paused", "achieved", "breached", "cancelled"
EPSILON = 1e-6
UNSOLVED_RUNNING = ("new", "open")
DONE_STATUSES = ("solved", "closed")
# The columns a clock's values carry apart from its row's identity (`id`) and owner (`ticket_id`).
VALUE_COLUMNS = tuple(c.key for c in SlaClock.__table__.columns if c.key not in ("id", "ticket_id"))


# -- units ----------------------------------------------------------------------------------------------

def calendar_of(session: Session, clk: Any) -> BusinessCalendar | None:
    """The compiled calendar a clock counts in; None for a target in calendar minutes."""
    if not clk.business_hours or clk.calendar_id is None:
        return None
    return calendars.compiled_by_id(session, calendar_id=clk.calendar_id)


def minutes_in(cal: BusinessCalendar | None, start: datetime, end: datetime) -> float:
    """Minutes from start to end in a clock's unit: business minutes of `cal`, or calendar minutes."""
    if end <= start:
        return 0.0
    if cal is None:
        return (end - start).total_seconds() / 60.0
    return business_minutes_between(cal, start, end)


def minutes_between(session: Session, clk: SlaClock, start: datetime, end: datetime) -> float:
    return minutes_in(calendar_of(session, clk), start, end)


def add_minutes(session: Session, clk: SlaClock, start: datetime, minutes: float) -> datetime:
    cal = calendar_of(session, clk)
    if cal is None:
        return start + timedelta(minutes=minutes)
    return add_business_minutes(cal, start, minutes)


def elapsed(session: Session, clk: SlaClock, at: datetime | None = None) -> float:
    return elapsed_in(calendar_of(session, clk), clk, at or clock.now())


def elapsed_in(cal: BusinessCalendar | None, clk: Any, at: datetime) -> float:
    """A clock's elapsed minutes at `at`, its calendar in hand (`clk`: anything with a clock's attributes)."""
    running = minutes_in(cal, clk.running_since, at) if clk.running_since else 0.0
    return clk.consumed_minutes + running


def _measure_segments(session: Session, clk: SlaClock) -> float:
    return sum(minutes_between(session, clk, datetime.fromisoformat(a), datetime.fromisoformat(b))
               for a, b in clk.segments)


# -- state changes --------------------------------------------------------------------------------------

def due_instant(session: Session, clk: SlaClock) -> datetime | None:
    if clk.running_since is None:
        return None
    return add_minutes(session, clk, clk.running_since, max(0.0, clk.target_minutes - clk.consumed_minutes))


def _breach_if_overdue(session: Session, actor: Actor, clk: SlaClock, at: datetime) -> None:
    """A clock found past its due instant is breached at that instant, whether or not a sweep found it yet."""
    if clk.status == BREACHED or clk.running_since is None:
        return
    due = due_instant(session, clk)
    if due is not None and due <= at and elapsed(session, clk, at) > clk.target_minutes + EPSILON:
        mark_breached(session, actor, clk, due)


def mark_breached(session: Session, actor: Actor, clk: SlaClock, at: datetime) -> None:
    clk.status, clk.breached_at, clk.updated_at = BREACHED, at, clock.now()
    events.record(session, actor, clk, "breach", at=at, details={"target_minutes": clk.target_minutes})


def run(clk: SlaClock, at: datetime) -> None:
    if clk.running_since is None:
        clk.running_since = at
    if clk.status == PAUSED:
        clk.status = ACTIVE


def pause(session: Session, actor: Actor, clk: SlaClock, at: datetime) -> None:
    _breach_if_overdue(session, actor, clk, at)
    stop(session, clk, at)


def stop(session: Session, clk: SlaClock, at: datetime) -> None:
    """Close the running segment and pause the clock, checking no breach: `pause` without its event, for a
    clock that cannot be overdue (one that starts with its ticket)."""
    if clk.running_since is not None:
        start = clk.running_since
        clk.consumed_minutes += minutes_between(session, clk, start, at)
        clk.segments = [*clk.segments, [start.isoformat(), at.isoformat()]]
        clk.running_since = None
    if clk.status == ACTIVE:
        clk.status = PAUSED


def complete(session: Session, actor: Actor, clk: SlaClock, at: datetime) -> None:
    pause(session, actor, clk, at)
    clk.completed_at, clk.final_minutes = at, clk.consumed_minutes
    if clk.status != BREACHED:
        clk.status, clk.achieved_at = ACHIEVED, at
        events.record(session, actor, clk, "achieved", at=at, details={"elapsed_minutes": clk.consumed_minutes})


def _over(clk: SlaClock) -> bool:
    """A stopped clock's consumed time is past its target (its closed segments are all it has run)."""
    return clk.consumed_minutes > clk.target_minutes + EPSILON


def uncomplete(clk: SlaClock, at: datetime) -> None:
    """A reopened ticket's resolution clock resumes with the time it had consumed: breached still if it is past
    its target and breached it."""
    clk.completed_at = clk.final_minutes = clk.achieved_at = None
    clk.status = BREACHED if clk.breached_at is not None and _over(clk) else ACTIVE
    run(clk, at)


def new_cycle(session: Session, actor: Actor, clk: SlaClock, at: datetime) -> None:
    clk.cycle += 1
    clk.status, clk.started_at, clk.consumed_minutes, clk.segments = ACTIVE, at, 0.0, []
    clk.running_since = at
    clk.completed_at = clk.final_minutes = clk.achieved_at = clk.breached_at = clk.warned_at = None
    events.record(session, actor, clk, "started", at=at)


def cancel(session: Session, actor: Actor, clk: SlaClock, at: datetime) -> None:
    """The clock's target no longer applies to its ticket (a priority, policy or match change): it stops and
    stays, `cancelled`, with the time it consumed and any breach it had (found now if it was overdue). A breach
    stays a fact; nothing is deleted, so no id is ever given back to be reused."""
    _breach_if_overdue(session, actor, clk, at)
    stop(session, clk, at)
    clk.status, clk.due_at, clk.warning_at = CANCELLED, None, None
    events.record(session, actor, clk, "cancelled", at=at,
                  details={"consumed_minutes": clk.consumed_minutes, "breached": clk.breached_at is not None})


def resume(session: Session, actor: Actor, clk: SlaClock, at: datetime) -> None:
    """A cancelled clock whose metric applies again: the same clock runs on from the time it had consumed
    (breached still, if it was); the caller then drives it (a pause status pauses it again at once)."""
    clk.status = BREACHED if clk.breached_at is not None and _over(clk) else ACTIVE
    run(clk, at)
    events.record(session, actor, clk, "resumed", at=at, details={"consumed_minutes": clk.consumed_minutes})


def retarget(session: Session, actor: Actor, clk: SlaClock, policy: SlaPolicy, target: dict[str, Any],
             at: datetime) -> bool:
    """Point a clock at a (new) policy's target at `at` and judge it against that target: consumed time is
    re-measured if the unit changed, then `judge` says where the clock stands. A clock past its old target that
    no sweep had caught yet is breached first, at its due instant: that breach truly happened."""
    new_calendar = policy.calendar_id if target.get("business_hours") else None
    unit_changed = bool(target.get("business_hours")) != clk.business_hours or new_calendar != clk.calendar_id
    if (clk.policy_id, clk.target_minutes) == (policy.id, float(target["minutes"])) and not unit_changed:
        return False
    _breach_if_overdue(session, actor, clk, at)
    before = clk.target_minutes
    clk.policy_id, clk.target_minutes = policy.id, float(target["minutes"])
    clk.business_hours, clk.calendar_id = bool(target.get("business_hours")), new_calendar
    if unit_changed:
        clk.consumed_minutes = _measure_segments(session, clk)
    if clk.target_minutes != before or unit_changed:
        judge(session, actor, clk, at, previous_target=before)
    return True


def judge(session: Session, actor: Actor, clk: SlaClock, at: datetime, *, previous_target: float) -> None:
    """Where a clock whose target just changed stands against the new one, from the time it has consumed.

    Past it: breached, at `at`, the instant the target changed (not when it would have fallen due under a
    target the ticket did not have then); a clock that had breached before stays breached without a second
    breach. Within it: a breach of the old target stays a fact (`breached_at`, its `sla_events` row, the
    compliance report) but the clock no longer shows `breached`: it runs (or stays paused) towards the new
    target, and breaches again if it misses that. A 1-minute target missed at 1.17 minutes and then raised to
    30 minutes is not shown as a breach of 30 minutes."""
    over = elapsed(session, clk, at) > clk.target_minutes + EPSILON
    if over and clk.status != BREACHED:
        if clk.breached_at is None:
            mark_breached(session, actor, clk, at)
            clk.due_at = at  # due since the target changed: what the ticket shows and at-risk orders by
        else:
            clk.status = BREACHED
    elif not over and clk.status == BREACHED:
        clk.status = ACTIVE if clk.running_since is not None else PAUSED
        events.record(session, actor, clk, "retargeted", at=at,
                      details={"from_minutes": previous_target, "to_minutes": clk.target_minutes,
                               "breach_kept": True, "breached_at": clk.breached_at.isoformat()
                               if clk.breached_at is not None else None})


def place(session: Session, clk: SlaClock, policy: SlaPolicy) -> None:
    """Set the clock's due and warning instants from its current state: where the sweeps will find it."""
    running = clk.running_since is not None and clk.status != BREACHED
    if running:
        clk.due_at = due_instant(session, clk)
    elif clk.status != BREACHED:
        clk.due_at = None
    clk.warning_at = warning_instant(session, clk, policy)


def warning_instant(session: Session, clk: SlaClock, policy: SlaPolicy) -> datetime | None:
    """When a running clock not yet warned reaches `warning_percent` of its target (None: it will not)."""
    if clk.running_since is None or clk.status == BREACHED or clk.warned_at is not None:
        return None
    warn_after = clk.target_minutes * policy.warning_percent / 100.0 - clk.consumed_minutes
    return add_minutes(session, clk, clk.running_since, warn_after) if warn_after > 0 else None


def clocks_of(session: Session, ticket_id: int) -> dict[str, SlaClock]:
    rows = session.scalars(select(SlaClock).where(SlaClock.ticket_id == ticket_id)).all()
    return {c.metric: c for c in rows}


def new_clock(*, metric: str, policy: SlaPolicy, target: dict[str, Any], started_at: datetime,
              ticket_id: int | None = None) -> SlaClock:
    """A clock running from `started_at`, not yet in any session (the caller adds it, or reads its values)."""
    now = clock.now()
    return SlaClock(ticket_id=ticket_id, metric=metric, policy_id=policy.id, target_minutes=float(target["minutes"]),
                    business_hours=bool(target.get("business_hours")),
                    calendar_id=policy.calendar_id if target.get("business_hours") else None,
                    status=ACTIVE, cycle=1, started_at=started_at, consumed_minutes=0.0, segments=[],
                    running_since=started_at, due_at=None, warning_at=None, warned_at=None, breached_at=None,
                    achieved_at=None, completed_at=None, final_minutes=None, sweep_attempts=0,
                    sweep_retry_at=None, created_at=now, updated_at=now)


def values(clk: SlaClock) -> dict[str, Any]:
    """The clock's column values but `id` and `ticket_id`: what an INSERT of it carries besides those two."""
    return {key: getattr(clk, key) for key in VALUE_COLUMNS}


def snapshot_for_audit(clk: SlaClock) -> dict[str, Any]:
    return audit.snapshot(clk, exclude=("segments",))
