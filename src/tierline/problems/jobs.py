"""Background jobs of the problems domain."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from tierline.platform import jobs
from tierline.problems import service


@jobs.handler(service.ANNOUNCE_JOB)
def announce_fix(session: Session, payload: dict[str, Any]) -> None:
    """Tell the next batch of a fixed problem's unsolved tickets (enqueued when the problem is fixed)."""
    user_id = payload.get("user_id")
    service.announce_batch(session, problem_id=int(payload["problem_id"]),
                           user_id=int(user_id) if user_id is not None else None, after=int(payload["after"]))
