from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Response

from tierline.components import service
from tierline.components.schemas import ComponentCreate, ComponentDetail, ComponentRead, ComponentUpdate
from tierline.platform.auth.actor import Actor
from tierline.platform.deps import DB, require
from tierline.platform.pagination import Cursor, Limit, Page
from tierline.platform.schemas import Id

router = APIRouter(prefix="/api/v1/components", tags=["components"])


@router.post("", status_code=201, response_model=ComponentRead)
def create_component(body: ComponentCreate, db: DB,
                     actor: Annotated[Actor, require("components:write")]) -> ComponentRead:
    return ComponentRead.model_validate(service.create(db, actor=actor, **body.model_dump()))


@router.get("", response_model=Page[ComponentRead])
def list_components(
    db: DB,
    _: Annotated[Actor, require("components:read")],
    parent_id: Id | None = None,
    root: Annotated[bool | None, Query(description="true: only roots; false: only non-roots")] = None,
    owner_team_id: Id | None = None,
    support_team_id: Id | None = None,
    q: Annotated[str | None, Query(max_length=200, description="part of the name")] = None,
    limit: Limit = 50,
    cursor: Cursor = None,
) -> Page:
    rows, next_cursor = service.list_(db, parent_id=parent_id, root=root, owner_team_id=owner_team_id,
                                      support_team_id=support_team_id, q=q, limit=limit, cursor=cursor)
    return Page[ComponentRead](items=[ComponentRead.model_validate(r) for r in rows], next_cursor=next_cursor)


@router.get("/{component_id}", response_model=ComponentDetail)
def get_component(component_id: Id, db: DB,
                  _: Annotated[Actor, require("components:read")]) -> ComponentDetail:
    component, path = service.get_detail(db, component_id=component_id)
    return ComponentDetail(**ComponentRead.model_validate(component).model_dump(), path=path)


@router.patch("/{component_id}", response_model=ComponentRead)
def update_component(component_id: Id, body: ComponentUpdate, db: DB,
                     actor: Annotated[Actor, require("components:write")]) -> ComponentRead:
    changes = body.model_dump(exclude_unset=True)
    component = service.update(db, actor=actor, component_id=component_id, **changes)
    return ComponentRead.model_validate(component)


@router.delete("/{component_id}", status_code=204)
def delete_component(component_id: Id, db: DB,
                     actor: Annotated[Actor, require("components:write")]) -> Response:
    service.delete(db, actor=actor, component_id=component_id)
    return Response(status_code=204)
