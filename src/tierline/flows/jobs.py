"""The job handlers and sweeps whose work crosses domains, registered here so that no engine calls up into a
flow."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from tierline.flows import problem_announcements, sla_breach, sla_policy_changes, ticket_update
from tierline.platform import jobs
from tierline.problems.service import ANNOUNCE_JOB
from tierline.sla import timers as sla_timers
from tierline.sla.policies import REAPPLY_JOB
from tierline.tickets.service import AUTO_CLOSE_JOB


@jobs.handler(AUTO_CLOSE_JOB)
def auto_close(session: Session, payload: dict[str, Any]) -> None:
    """Close a solved ticket once its reopen window has passed (enqueued, per ticket, when it is solved)."""
    ticket_update.auto_close(session, ticket_id=int(payload["ticket_id"]))


@jobs.handler(ANNOUNCE_JOB)
def announce_fix(session: Session, payload: dict[str, Any]) -> None:
    """Tell the next batch of a fixed problem's unsolved tickets (enqueued when the problem is fixed)."""
    user_id = payload.get("user_id")
    problem_announcements.announce_batch(session, problem_id=int(payload["problem_id"]),
                                         user_id=int(user_id) if user_id is not None else None,
                                         after=int(payload["after"]))


@jobs.handler(REAPPLY_JOB)
def reapply_sla_policies(session: Session, payload: dict[str, Any]) -> None:
    """Apply the active SLA policies to the next batch of open tickets (enqueued when a policy changes)."""
    sla_policy_changes.reapply_batch(session, policy_id=int(payload["policy_id"]), after=int(payload["after"]))


def sla_breach_sweep(session: Session, clock_id: int, now: datetime) -> bool:
    """Mark a due clock breached at its due instant, then do what its policy asks of the ticket, in the clock's
    own transaction (so a failing escalation holds back this clock alone; see sla/timers.py)."""
    on_breach = sla_timers.fire_breach(session, clock_id, now)
    if on_breach is None:
        return False
    sla_breach.apply(session, on_breach)
    return True


# After the warning sweep (registered when sla.timers was imported above): a late worker warns, then breaches.
jobs.register_sweep(jobs.Sweep(sla_timers.BREACH_SWEEP, due=sla_timers.due_breaches, run=sla_breach_sweep,
                               failed=sla_timers.hold_back))
