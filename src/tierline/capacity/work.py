"""Agent working time: how long a ticket kept an agent busy, from what the record holds.

There is no time tracking, so the handle time of queueing theory is read from the ticket's history: from the
first agent touch (the first message an agent wrote on it, public reply or internal note) to its solve, less
the time it waited on somebody else: pending the customer, on hold, or solved before a customer reopened it.
What is left is the time the ticket sat in `new` or `open` with an agent holding it, in the unit of the plan
(business minutes of a calendar, or calendar minutes).

The statuses come from the audit trail, the only record of every status change with its instant: each
`tickets.*` event whose changes name `status` as [before, after]. A ticket whose history holds no status
change (imported before the trail, or the trail was pruned) counts from first touch to solve, and says so.
The elapsed time from first touch to solve, pauses included, is what the recommendation used to take (issue
12): a ticket that waited four days for the customer looked like four days of somebody's work.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from tierline.platform import audit
from tierline.platform.audit.models import AuditEvent

WORKING = ("new", "open")  # the ticket waits on its agent
PAUSED = ("pending_customer", "on_hold")  # it waits on the customer or a third party

StatusChange = tuple[datetime, str | None, str]  # (at, before, after)
Minutes = Callable[[datetime, datetime], float]


@dataclass(frozen=True)
class WorkingTime:
    """One ticket's time between first touch and solve, split by what it waited on."""

    working: float
    paused: float
    solved_between: float  # solved, then reopened by the customer: nobody's work
    elapsed: float
    source: str  # "status history" or "no status history"


def working_time(minutes: Minutes, *, created_at: datetime, touch: datetime, solved: datetime,
                 changes: Iterable[StatusChange]) -> WorkingTime:
    """Split [touch, solved] by the ticket's status at each instant (`changes` in the order they happened).

    Before its first recorded change the ticket had that change's `before` status (`new` when the change is
    its creation). Instants outside [touch, solved] do not count, so neither does a later reopening."""
    elapsed = minutes(touch, solved) if solved > touch else 0.0
    ordered = list(changes)
    if not ordered:
        return WorkingTime(working=elapsed, paused=0.0, solved_between=0.0, elapsed=elapsed,
                           source="no status history")
    segments: list[tuple[datetime, str]] = [(created_at, ordered[0][1] or "new")]
    segments += [(at, after) for at, _, after in ordered]
    totals: dict[str, float] = defaultdict(float)
    for i, (start, status) in enumerate(segments):
        end = segments[i + 1][0] if i + 1 < len(segments) else solved
        lo, hi = max(start, touch), min(end, solved)
        if hi > lo:
            totals[status] += minutes(lo, hi)
    working = sum(totals[s] for s in WORKING)
    paused = sum(totals[s] for s in PAUSED)
    between = sum(v for s, v in totals.items() if s not in WORKING and s not in PAUSED)
    return WorkingTime(working=working, paused=paused, solved_between=between, elapsed=elapsed,
                       source="status history")


def status_changes(session: Session, *, since: datetime, ticket_ids: set[int]
                   ) -> dict[int, list[StatusChange]]:
    """Every status change of the given tickets recorded since `since`, per ticket, in chain order.

    One pass over the trail's ticket events of the period (by seq, in pages), not a query per ticket."""
    out: dict[int, list[StatusChange]] = defaultdict(list)
    where = [AuditEvent.entity_type == "tickets", AuditEvent.occurred_at >= since]
    for _, entity_id, at, changes in audit.scan(session, AuditEvent.entity_id, AuditEvent.occurred_at,
                                                AuditEvent.changes, where=where):
        status = changes.get("status") if isinstance(changes, dict) else None
        if not isinstance(status, list) or len(status) != 2 or not isinstance(status[1], str):
            continue
        if not entity_id.isdigit() or int(entity_id) not in ticket_ids:
            continue
        out[int(entity_id)].append((at, status[0] if isinstance(status[0], str) else None, status[1]))
    return out
