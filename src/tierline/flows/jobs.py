"""The job handlers whose work crosses domains, registered here so that no engine calls up into a flow."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from tierline.flows import problem_announcements, sla_breach, ticket_update
from tierline.platform import jobs
from tierline.problems.service import ANNOUNCE_JOB
from tierline.sla import timers as sla_timers
from tierline.sla.clocks import BREACH_JOB
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


@jobs.handler(BREACH_JOB)
def sla_breach_timer(session: Session, payload: dict[str, Any]) -> None:
    """Mark a clock breached when its timer fires, then do what its policy asks of the ticket."""
    on_breach = sla_timers.fire_breach(session, payload)
    if on_breach is not None:
        sla_breach.apply(session, on_breach)
