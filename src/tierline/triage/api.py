"""Routes: /api/v1/triage/rules (routing rules as data) and /api/v1/triage/explain (a dry run of intake)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Response

from tierline.flows import intake
from tierline.platform.auth.actor import Actor
from tierline.platform.deps import DB, ReadDB, require
from tierline.platform.pagination import Cursor, Limit, Page
from tierline.platform.schemas import Id
from tierline.tickets.schemas import TicketCreate
from tierline.triage import rules
from tierline.triage.schemas import RuleCreate, RuleRead, RuleUpdate, Trigger

router = APIRouter(prefix="/api/v1/triage", tags=["triage"])


@router.post("/rules", status_code=201, response_model=RuleRead)
def create_rule(body: RuleCreate, db: DB, actor: Annotated[Actor, require("triage:write")]) -> RuleRead:
    return RuleRead.model_validate(rules.create(db, actor=actor, **body.model_dump()))


@router.get("/rules", response_model=Page[RuleRead])
def list_rules(
    db: DB,
    _: Annotated[Actor, require("triage:read")],
    trigger: Trigger | None = None,
    active: bool | None = None,
    q: Annotated[str | None, Query(max_length=200, description="part of the name")] = None,
    limit: Limit = 50,
    cursor: Cursor = None,
) -> Page:
    rows, next_cursor = rules.list_(db, trigger=trigger, active=active, q=q, limit=limit, cursor=cursor)
    return Page[RuleRead](items=[RuleRead.model_validate(r) for r in rows], next_cursor=next_cursor)


@router.get("/rules/{rule_id}", response_model=RuleRead)
def get_rule(rule_id: Id, db: DB, _: Annotated[Actor, require("triage:read")]) -> RuleRead:
    return RuleRead.model_validate(rules.get(db, rule_id=rule_id))


@router.patch("/rules/{rule_id}", response_model=RuleRead)
def update_rule(rule_id: Id, body: RuleUpdate, db: DB,
                actor: Annotated[Actor, require("triage:write")]) -> RuleRead:
    rule = rules.update(db, actor=actor, rule_id=rule_id, changes=body.model_dump(exclude_unset=True))
    return RuleRead.model_validate(rule)


@router.delete("/rules/{rule_id}", status_code=204)
def delete_rule(rule_id: Id, db: DB, actor: Annotated[Actor, require("triage:write")]) -> Response:
    rules.delete(db, actor=actor, rule_id=rule_id)
    return Response(status_code=204)


@router.post("/explain")
def explain(body: TicketCreate, reads: ReadDB,
            actor: Annotated[Actor, require("triage:read")]) -> dict[str, Any]:
    """What intake would do with this ticket (signals, matched rules and why, actions, impact, prediction,
    queue, tier, assignee candidate, SLA policy), without saving anything: intake's compute phase, on a read
    session."""
    return intake.explain(reads, actor=actor, data=body)
