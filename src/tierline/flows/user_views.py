"""A user as a manager reads them: identity and agent profile (people) beside their open work (tickets).

The open work is what assignment weighs (`agent_workloads`, kept exact by the tickets' triggers), read by
primary key for the whole page in one statement, so the list shows exactly what decides whether an agent gets
more work.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from pydantic import Field
from sqlalchemy.orm import Session

from tierline.people import service as people_service
from tierline.people.schemas import UserRead
from tierline.platform.pagination import Page
from tierline.tickets import service as tickets_service


class UserWorkRead(UserRead):
    """A user with their open work against their capacity (`max_open_tickets`)."""

    open_tickets: int = Field(description="unsolved tickets assigned to them (new, open, pending_customer, "
                                          "on_hold)")
    weighted_load: int = Field(description="the same tickets weighted by priority (P1 4, P2 3, P3 2, P4 1), as "
                                           "the least-loaded assignment strategy weighs them")
    at_capacity: bool = Field(description="open_tickets has reached max_open_tickets: assignment passes them "
                                          "over")


def with_work(session: Session, users: Sequence[people_service.UserView]) -> list[UserWorkRead]:
    """Each user with their open work, read in one statement (a user without any has none)."""
    work = tickets_service.open_work(session, user_ids=[u.id for u in users])
    out = []
    for user in users:
        open_tickets, load = work.get(user.id, (0, 0))
        out.append(UserWorkRead.model_validate({
            **UserRead.model_validate(user).model_dump(), "open_tickets": open_tickets, "weighted_load": load,
            "at_capacity": open_tickets >= user.max_open_tickets}))
    return out


def view(session: Session, user: people_service.UserView) -> UserWorkRead:
    """One user with their open work (the answer of every user route)."""
    return with_work(session, [user])[0]


def get(session: Session, *, user_id: int) -> UserWorkRead:
    return view(session, people_service.get_user(session, user_id=user_id))


def list_(session: Session, *, limit: int | None = None, cursor: str | None = None,
          **filters: Any) -> Page[UserWorkRead]:
    """A page of `people.service.list_users` (its filters), each user with their open work."""
    rows, next_cursor = people_service.list_users(session, limit=limit, cursor=cursor, **filters)
    return Page[UserWorkRead](items=with_work(session, rows), next_cursor=next_cursor)
