"""Platform routes: health, metrics and the audit trail."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from pydantic import BaseModel, ConfigDict
from sqlalchemy import text

import tierline.models  # noqa: F401  (every table, so the audit trail's entity types are all known)
from tierline.platform import audit
from tierline.platform.auth.actor import Actor
from tierline.platform.db import Base
from tierline.platform.deps import DB, require
from tierline.platform.pagination import Cursor, Limit, Page
from tierline.platform.schemas import Id, UtcDateTime

router = APIRouter(tags=["platform"])

# -- the audit trail's entity types -----------------------------------------------------------------------
# An event names its entity by its table (or the model's `__audit_type__`): `tickets`, `sla_policies`. The
# filter takes those and the singular a person types (`ticket`, `sla_policy`, `policy`), and refuses anything
# else with the list, rather than answering an empty page. Plumbing tables no event names are left out.
_PLUMBING = frozenset({"agent_workloads", "audit_chain_head", "audit_events", "idempotency_keys", "jobs", "outbox",
                       "queue_cursors", "reference_revisions", "search_documents", "ticket_tags"})
_ALIASES = {"token": "api_tokens", "session": "web_sessions", "calendar": "sla_calendars",
            "policy": "sla_policies", "clock": "sla_clocks", "recommendation": "sla_recommendations",
            "rule": "triage_rules", "form": "ticket_forms", "classifier": "triage_models",
            "profile": "agent_profiles", "membership": "team_memberships", "setting": "app_settings"}


def _singular(name: str) -> str:
    if name.endswith("ies"):
        return name[:-3] + "y"
    return name[:-1] if name.endswith("s") else name


def _entity_types() -> dict[str, str]:
    """Every accepted name -> the entity type events are stored under."""
    stored = sorted({getattr(m.class_, "__audit_type__", None) or m.class_.__tablename__
                     for m in Base.registry.mappers} - _PLUMBING)
    names = {name: name for name in stored}
    for name in stored:
        names.setdefault(_singular(name), name)
    for alias, name in _ALIASES.items():
        if name in stored:
            names.setdefault(alias, name)
    return dict(sorted(names.items()))


AUDIT_ENTITY_TYPES = _entity_types()
AuditEntityType = Literal[tuple(AUDIT_ENTITY_TYPES)]  # type: ignore[valid-type]


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
    entity_type: Annotated[AuditEntityType | None, Query(
        description="the kind of record: its table (`tickets`) or the singular (`ticket`)")] = None,
    entity_id: Annotated[str | None, Query(max_length=100)] = None,
    actor_id: Id | None = None,
    action: Annotated[str | None, Query(
        max_length=100, pattern=r"^[a-z][a-z0-9_]*\.[a-z][a-z0-9_]*$",
        description="`<entity type>.<verb>`, as events name it: `tickets.update`, `users.password_change`")
    ] = None,
    since: Annotated[UtcDateTime | None, Query(description="inclusive")] = None,
    until: Annotated[UtcDateTime | None, Query(description="exclusive")] = None,
    limit: Limit = 50,
    cursor: Cursor = None,
) -> Page:
    if entity_type is not None:
        entity_type = AUDIT_ENTITY_TYPES[entity_type]
    if action is not None:  # `ticket.update` is `tickets.update`
        prefix, _, verb = action.partition(".")
        action = f"{AUDIT_ENTITY_TYPES.get(prefix, prefix)}.{verb}"
    rows, next_cursor = audit.list_events(db, entity_type=entity_type, entity_id=entity_id, actor_id=actor_id,
                                          action=action, since=since, until=until, limit=limit, cursor=cursor)
    return Page[AuditEventRead](items=[AuditEventRead.model_validate(r) for r in rows], next_cursor=next_cursor)
