"""Platform routes: health, metrics and the audit trail."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from pydantic import AwareDatetime, BaseModel, ConfigDict
from sqlalchemy import text

from tierline.platform import audit
from tierline.platform.auth.actor import Actor
from tierline.platform.deps import DB, require
from tierline.platform.pagination import Page

router = APIRouter(tags=["platform"])


@router.get("/api/v1/health")
def health(db: DB) -> dict[str, str]:
    db.execute(text("SELECT 1"))
    return {"status": "ok", "database": "ok"}


@router.get("/metrics", response_class=Response)
def metrics(_: Annotated[Actor, require("metrics:read")]) -> Response:
    return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)


class AuditEventRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    seq: int
    occurred_at: datetime
    actor_id: int | None
    actor_label: str
    action: str
    entity_type: str
    entity_id: str
    changes: dict[str, Any]
    request_id: str | None
    note: str | None
    prev_hash: str
    hash: str


@router.get("/api/v1/audit", response_model=Page[AuditEventRead], tags=["audit"])
def list_audit(
    db: DB,
    _: Annotated[Actor, require("audit:read")],
    entity_type: str | None = None,
    entity_id: str | None = None,
    actor_id: int | None = None,
    action: str | None = None,
    since: AwareDatetime | None = None,
    until: AwareDatetime | None = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    cursor: str | None = None,
) -> Page:
    rows, next_cursor = audit.list_events(db, entity_type=entity_type, entity_id=entity_id, actor_id=actor_id,
                                          action=action, since=since, until=until, limit=limit, cursor=cursor)
    return Page[AuditEventRead](items=[AuditEventRead.model_validate(r) for r in rows], next_cursor=next_cursor)
