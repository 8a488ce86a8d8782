"""The ticket status state machine: one explicit table, published in docs/tickets.md.

Statuses: new, open, pending_customer, on_hold, solved, closed. `TRANSITIONS` lists what a person may set a
ticket to from each status. Three more changes happen on their own, by the events named in `EVENTS`:
a customer reply, the assignment of a new ticket, and the auto-close job. `closed` is final: nothing leaves
it, and a customer reply to a closed ticket opens a linked follow-up ticket instead.

Timestamps follow the status: `solved_at` is set while a ticket is solved or closed (cleared on reopen),
`closed_at` once it is closed.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from tierline.platform import clock
from tierline.platform.errors import Conflict
from tierline.platform.wording import with_article
from tierline.settings import get_settings

NEW, OPEN, PENDING_CUSTOMER, ON_HOLD, SOLVED, CLOSED = (
    "new", "open", "pending_customer", "on_hold", "solved", "closed")
STATUSES: tuple[str, ...] = (NEW, OPEN, PENDING_CUSTOMER, ON_HOLD, SOLVED, CLOSED)
UNSOLVED: tuple[str, ...] = (NEW, OPEN, PENDING_CUSTOMER, ON_HOLD)

# What an agent may set (PATCH status) from each status. Reopening (solved -> open) also needs the reopen
# window not to have passed; closing by hand is allowed once solved.
TRANSITIONS: dict[str, tuple[str, ...]] = {
    NEW: (OPEN, PENDING_CUSTOMER, ON_HOLD, SOLVED),
    OPEN: (PENDING_CUSTOMER, ON_HOLD, SOLVED),
    PENDING_CUSTOMER: (OPEN, ON_HOLD, SOLVED),
    ON_HOLD: (OPEN, PENDING_CUSTOMER, SOLVED),
    SOLVED: (OPEN, CLOSED),
    CLOSED: (),
}

# Changes that happen by an event rather than by choice: (event, from, to, note).
EVENTS: tuple[tuple[str, str, str, str], ...] = (
    ("ticket assigned", NEW, OPEN, "creating or updating a new ticket with an assignee opens it"),
    ("customer reply", PENDING_CUSTOMER, OPEN, "the customer answered"),
    ("customer reply", SOLVED, OPEN, "reopens at any time until the ticket is closed"),
    ("customer reply", CLOSED, CLOSED, "the ticket stays closed; a linked follow-up ticket is created"),
    ("auto-close job", SOLVED, CLOSED, "once the reopen window has passed, if still solved"),
)

assert set(TRANSITIONS) == set(STATUSES)


def reopen_window() -> timedelta:

    return timedelta(days=get_settings().reopen_window_days)


def reopen_deadline(solved_at: datetime) -> datetime:
    return clock.as_utc(solved_at) + reopen_window()


def allowed(status: str, *, solved_at: datetime | None, now: datetime | None = None) -> list[str]:
    """The statuses an agent may set now (the table, minus a reopen once the window has passed)."""
    targets = list(TRANSITIONS[status])
    if status == SOLVED and solved_at is not None and (now or clock.now()) > reopen_deadline(solved_at):
        targets.remove(OPEN)
    return targets


def check(status: str, target: str, *, solved_at: datetime | None, now: datetime | None = None) -> None:
    """Raise Conflict(allowed=[...]) unless an agent may move `status` to `target` now."""
    if target == status:
        return
    targets = allowed(status, solved_at=solved_at, now=now)
    if target in targets:
        return
    if status == CLOSED:
        reason = "closed is final; a customer reply opens a linked follow-up ticket"
    elif status == SOLVED and target == OPEN:
        reason = f"the reopen window ({reopen_window().days} days after solving) has passed"
    else:
        reason = f"{with_article(status)} ticket cannot become {target}"
    raise Conflict(f"cannot change status from {status} to {target}: {reason}", allowed=targets)


def after_customer_reply(status: str) -> str:
    """The status a customer reply leads to (a reply to a closed ticket leaves it closed: see EVENTS)."""
    return OPEN if status in (PENDING_CUSTOMER, SOLVED) else status


def apply(ticket: Any, target: str, *, now: datetime | None = None) -> None:
    """Set `ticket.status` to `target` and keep the timestamps in step. Callers have checked the move."""
    now = now or clock.now()
    if target == ticket.status:
        return
    if target == SOLVED:
        ticket.solved_at = now
    elif target == CLOSED:
        ticket.solved_at = ticket.solved_at or now
        ticket.closed_at = now
    else:
        ticket.solved_at = None
    ticket.status = target


def render_markdown() -> str:
    """The transition table as published in docs/tickets.md."""
    lines = ["| from \\ to | " + " | ".join(f"`{s}`" for s in STATUSES) + " |",
             "|---|" + "---|" * len(STATUSES)]
    for source in STATUSES:
        cells = []
        for target in STATUSES:
            if target == source:
                cells.append("=")
            elif target in TRANSITIONS[source]:
                cells.append("within window" if (source, target) == (SOLVED, OPEN) else "yes")
            else:
                cells.append("")
        lines.append(f"| `{source}` | " + " | ".join(cells) + " |")
    lines += ["", "| event | from | to | note |", "|---|---|---|---|"]
    lines += [f"| {event} | `{src}` | `{dst}` | {note} |" for event, src, dst, note in EVENTS]
    return "\n".join(lines) + "\n"
