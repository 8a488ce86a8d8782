from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Response

from tierline.flows import people as people_flow
from tierline.flows import user_views
from tierline.flows.user_views import UserWorkRead
from tierline.people import service, teams
from tierline.people.schemas import (
    Role,
    TeamCreate,
    TeamKind,
    TeamMemberAdd,
    TeamRead,
    TeamUpdate,
    Tier,
    UserCreate,
    UserUpdate,
)
from tierline.platform.auth.actor import Actor
from tierline.platform.deps import DB, require
from tierline.platform.pagination import Cursor, Limit, Page
from tierline.platform.schemas import Id

router = APIRouter(prefix="/api/v1", tags=["people"])


@router.post("/users", status_code=201, response_model=UserWorkRead)
def create_user(body: UserCreate, db: DB, actor: Annotated[Actor, require("users:write")]) -> UserWorkRead:
    return user_views.view(db, service.create_user(db, actor=actor, **body.model_dump()))


@router.get("/users", response_model=Page[UserWorkRead])
def list_users(
    db: DB,
    _: Annotated[Actor, require("users:read")],
    role: Role | None = None,
    team_id: Id | None = None,
    active: bool | None = None,
    available: bool | None = None,
    tier: Tier | None = None,
    skill: str | None = None,
    q: Annotated[str | None, Query(max_length=200, description="part of the name or email")] = None,
    limit: Limit = 50,
    cursor: Cursor = None,
) -> Page:
    """Each user with their open work against `max_open_tickets` (one statement for the page)."""
    return user_views.list_(db, role=role, team_id=team_id, active=active, available=available, tier=tier,
                            skill=skill, q=q, limit=limit, cursor=cursor)


@router.get("/users/{user_id}", response_model=UserWorkRead)
def get_user(user_id: Id, db: DB, _: Annotated[Actor, require("users:read")]) -> UserWorkRead:
    return user_views.get(db, user_id=user_id)


@router.patch("/users/{user_id}", response_model=UserWorkRead)
def update_user(user_id: Id, body: UserUpdate, db: DB,
                actor: Annotated[Actor, require("users:write")]) -> UserWorkRead:
    view = people_flow.update_user(db, actor=actor, user_id=user_id, **body.model_dump(exclude_unset=True))
    return user_views.view(db, view)


@router.post("/teams", status_code=201, response_model=TeamRead)
def create_team(body: TeamCreate, db: DB, actor: Annotated[Actor, require("teams:write")]) -> TeamRead:
    return TeamRead.model_validate(teams.create_team(db, actor=actor, **body.model_dump()))


@router.get("/teams", response_model=Page[TeamRead])
def list_teams(
    db: DB,
    _: Annotated[Actor, require("teams:read")],
    kind: TeamKind | None = None,
    member_id: Id | None = None,
    q: Annotated[str | None, Query(max_length=200, description="part of the team name")] = None,
    limit: Limit = 50,
    cursor: Cursor = None,
) -> Page:
    rows, next_cursor = teams.list_teams(db, kind=kind, member_id=member_id, q=q, limit=limit, cursor=cursor)
    return Page[TeamRead](items=[TeamRead.model_validate(r) for r in rows], next_cursor=next_cursor)


@router.get("/teams/{team_id}", response_model=TeamRead)
def get_team(team_id: Id, db: DB, _: Annotated[Actor, require("teams:read")]) -> TeamRead:
    return TeamRead.model_validate(teams.get_team(db, team_id=team_id))


@router.patch("/teams/{team_id}", response_model=TeamRead)
def update_team(team_id: Id, body: TeamUpdate, db: DB,
                actor: Annotated[Actor, require("teams:write")]) -> TeamRead:
    team = people_flow.update_team(db, actor=actor, team_id=team_id, **body.model_dump(exclude_unset=True))
    return TeamRead.model_validate(team)


@router.post("/teams/{team_id}/members", status_code=201, response_model=TeamRead)
def add_team_member(team_id: Id, body: TeamMemberAdd, db: DB,
                    actor: Annotated[Actor, require("teams:write")]) -> TeamRead:
    return TeamRead.model_validate(teams.add_member(db, actor=actor, team_id=team_id, user_id=body.user_id))


@router.delete("/teams/{team_id}/members/{user_id}", status_code=204)
def remove_team_member(team_id: Id, user_id: Id, db: DB,
                       actor: Annotated[Actor, require("teams:write")]) -> Response:
    teams.remove_member(db, actor=actor, team_id=team_id, user_id=user_id)
    return Response(status_code=204)
