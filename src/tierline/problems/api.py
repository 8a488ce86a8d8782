"""Routes: /api/v1/problems (list, one with its tickets and customers, PATCH status and owner)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from tierline.platform.auth.actor import Actor
from tierline.platform.deps import DB, require
from tierline.platform.pagination import Page
from tierline.problems import service
from tierline.problems.schemas import AnnouncementRead, ProblemDetail, ProblemQuery, ProblemRead, ProblemUpdate

router = APIRouter(prefix="/api/v1/problems", tags=["problems"])


@router.get("", response_model=Page[ProblemRead])
def list_problems(query: Annotated[ProblemQuery, Query()], db: DB,
                  _: Annotated[Actor, require("problems:read")]) -> Page:
    rows, next_cursor = service.list_(db, query=query)
    return Page[ProblemRead](items=[ProblemRead.model_validate(r) for r in rows], next_cursor=next_cursor)


@router.get("/{key}", response_model=ProblemDetail)
def get_problem(key: str, db: DB, _: Annotated[Actor, require("problems:read")]) -> ProblemDetail:
    return ProblemDetail.model_validate(service.detail(db, key=key))


@router.get("/{key}/announcement", response_model=AnnouncementRead)
def preview_announcement(key: str, db: DB, _: Annotated[Actor, require("problems:read")]) -> AnnouncementRead:
    """What fixing the problem posts on each unsolved linked ticket: the template and the public summary."""
    return AnnouncementRead(**service.announcement_preview(db, key=key))


@router.patch("/{key}", response_model=ProblemRead)
def update_problem(key: str, body: ProblemUpdate, db: DB,
                   actor: Annotated[Actor, require("problems:write")]) -> ProblemRead:
    problem = service.update(db, actor=actor, key=key, changes=body.model_dump(exclude_unset=True))
    return ProblemRead.model_validate(problem)
