"""Reading the audit trail: the auditors' list, and the chain in order for whoever walks all of it."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Row, select
from sqlalchemy.orm import Session

from tierline.platform.audit.models import AuditEvent
from tierline.platform.pagination import SortKey, paginate


def scan(session: Session, *columns: Any, where: Iterable[ColumnElement[bool]] = (),
         batch: int = 2000) -> Iterator[Row]:
    """(seq, *columns) of the events matching `where`, in chain order, read `batch` at a time by seq.

    Pages rather than a streamed cursor: memory stays bounded, and no server-side cursor needs the read to
    hold a transaction open."""
    last = 0
    while True:
        rows = session.execute(select(AuditEvent.seq, *columns).where(AuditEvent.seq > last, *where)
                               .order_by(AuditEvent.seq).limit(batch)).all()
        yield from rows
        if len(rows) < batch:
            return
        last = rows[-1][0]


def list_events(session: Session, *, entity_type: str | None = None, entity_id: str | None = None,
                actor_id: int | None = None, action: str | None = None, since: datetime | None = None,
                until: datetime | None = None, limit: int | None = None,
                cursor: str | None = None) -> tuple[list[AuditEvent], str | None]:
    """Newest first; `since` inclusive, `until` exclusive."""
    stmt = select(AuditEvent)
    if entity_type:
        stmt = stmt.where(AuditEvent.entity_type == entity_type)
    if entity_id:
        stmt = stmt.where(AuditEvent.entity_id == entity_id)
    if actor_id is not None:
        stmt = stmt.where(AuditEvent.actor_id == actor_id)
    if action:
        stmt = stmt.where(AuditEvent.action == action)
    if since:
        stmt = stmt.where(AuditEvent.occurred_at >= since)
    if until:
        stmt = stmt.where(AuditEvent.occurred_at < until)
    return paginate(session, stmt, keys=[SortKey(AuditEvent.seq, descending=True)], limit=limit, cursor=cursor)
