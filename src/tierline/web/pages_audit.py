"""Page: the audit trail, filtered by entity, actor, action and period (GET /api/v1/audit's filters), newest
first, and the result of `tierline audit verify` (every link and hash of the chain, and its head) on demand.
"""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, time, timedelta
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import Response
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator
from sqlalchemy.orm import Session

from tierline.platform import audit
from tierline.platform.api import AUDIT_ENTITY_TYPES
from tierline.platform.deps import DB
from tierline.platform.pagination import MAX_CURSOR_LENGTH
from tierline.platform.schemas import Id
from tierline.web import lookups, present
from tierline.web.frame import Viewer, page, refusal_of, render

router = APIRouter(include_in_schema=False)
STAFF = "staff"
PAGE_SIZE = 50
CHANGE_PREVIEW = 4  # changed fields shown in a row; the rest behind "more"


class TrailFilters(BaseModel):
    """The trail's URL: which events, as the API's filters name them."""

    model_config = ConfigDict(extra="ignore")

    entity_type: str | None = Field(default=None, max_length=100)
    entity_id: str | None = Field(default=None, max_length=100)
    actor_id: Id | None = None
    action: str | None = Field(default=None, max_length=100, pattern=r"^[a-z][a-z0-9_]*\.[a-z][a-z0-9_]*$")
    since: date | None = None
    until: date | None = None
    cursor: str | None = Field(default=None, max_length=MAX_CURSOR_LENGTH)

    @field_validator("*", mode="before")
    @classmethod
    def _blank_is_none(cls, value: Any) -> Any:
        return None if isinstance(value, str) and not value.strip() else value

    @field_validator("entity_type")
    @classmethod
    def _known(cls, value: str | None) -> str | None:
        if value is not None and value not in AUDIT_ENTITY_TYPES:
            raise ValueError("is not a kind of record the trail knows")
        return AUDIT_ENTITY_TYPES[value] if value is not None else None

    def query(self) -> dict[str, Any]:
        action = self.action
        if action is not None:  # `ticket.update` is `tickets.update`, as the API reads it
            prefix, _, verb = action.partition(".")
            action = f"{AUDIT_ENTITY_TYPES.get(prefix, prefix)}.{verb}"
        return {"entity_type": self.entity_type, "entity_id": self.entity_id, "actor_id": self.actor_id,
                "action": action,
                "since": datetime.combine(self.since, time.min, tzinfo=UTC) if self.since else None,
                "until": datetime.combine(self.until + timedelta(days=1), time.min, tzinfo=UTC)
                if self.until else None}

    def url(self, **changes: Any) -> str:
        values = {**self.model_dump(), **changes}
        pairs = urlencode([(k, str(v)) for k, v in values.items() if v not in (None, "")])
        return "/audit" + (f"?{pairs}" if pairs else "")


def _value(value: Any) -> str:
    text = value if isinstance(value, str) else json.dumps(value, default=str, ensure_ascii=False)
    return text if len(text) <= 300 else text[:300] + " …"


def _changes(changes: dict[str, Any]) -> list[dict[str, str]]:
    out = []
    for name, pair in (changes or {}).items():
        if isinstance(pair, list) and len(pair) == 2:
            out.append({"field": name, "was": _value(pair[0]) if pair[0] is not None else "—",
                        "now": _value(pair[1]) if pair[1] is not None else "—"})
        else:
            out.append({"field": name, "was": "", "now": _value(pair)})
    return out


def _rows(events: list[Any]) -> list[dict[str, Any]]:
    return [{"seq": e.seq, "at": present.when(e.occurred_at), "iso": present.iso(e.occurred_at),
             "actor": e.actor_label, "actor_id": e.actor_id, "action": e.action, "entity_type": e.entity_type,
             "entity_id": e.entity_id, "changes": _changes(e.changes), "note": e.note or "",
             "request_id": e.request_id or "", "hash": e.hash[:12]} for e in events]


def _trail(request: Request, db: Session, viewer: Viewer, filters: TrailFilters, *, status: int = 200,
           refusal: Any = None, verified: Any = None) -> Response:
    events, next_cursor = audit.list_events(db, **filters.query(), limit=PAGE_SIZE, cursor=filters.cursor)
    types = sorted(set(AUDIT_ENTITY_TYPES.values()))
    return render(request, "audit.html", viewer, status=status, refusal=refusal, filters=filters,
                  rows=_rows(events), types=types, people=[(u.id, u.name) for u in lookups.users(db)],
                  next_url=filters.url(cursor=next_cursor) if next_cursor else None, verified=verified,
                  preview=CHANGE_PREVIEW)


def _filters(request: Request) -> TrailFilters:
    return TrailFilters.model_validate({k: v for k, v in request.query_params.items() if k != "verify"})


@router.get("/audit")
def trail(request: Request, db: DB, viewer: Annotated[Viewer, page("audit:read", audience=STAFF)]) -> Response:
    try:
        filters = _filters(request)
    except ValidationError as exc:
        return _trail(request, db, viewer, TrailFilters(), status=422, refusal=refusal_of(exc))
    return _trail(request, db, viewer, filters)


@router.get("/audit/verify")
def verify(request: Request, db: DB, viewer: Annotated[Viewer, page("audit:read", audience=STAFF)]) -> Response:
    """`tierline audit verify`: walk the whole chain (a read; it changes nothing), then show the trail."""
    result = audit.verify(db)
    return _trail(request, db, viewer, TrailFilters(), verified=result)
