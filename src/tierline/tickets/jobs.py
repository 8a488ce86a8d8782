"""Background jobs of the tickets domain."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from tierline.platform import jobs
from tierline.tickets import service


@jobs.handler(service.AUTO_CLOSE_JOB)
def auto_close(session: Session, payload: dict[str, Any]) -> None:
    """Close a solved ticket once its reopen window has passed (enqueued, per ticket, when it is solved)."""
    service.auto_close(session, ticket_id=int(payload["ticket_id"]))
