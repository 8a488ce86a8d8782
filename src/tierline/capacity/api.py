"""Routes of capacity-based SLA recommendations: compute a run (POST), list stored ones (GET), apply one."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from tierline.capacity import recommendations
from tierline.capacity.schemas import (
    QUARTER_PATTERN,
    Priority,
    RecommendationCompute,
    RecommendationRead,
    RecommendationRun,
    RecommendedMetric,
)
from tierline.platform.auth.actor import Actor
from tierline.platform.deps import DB, ReadDB, require
from tierline.platform.pagination import Cursor, Limit, Page
from tierline.platform.schemas import Id

router = APIRouter(prefix="/api/v1/sla/recommendations", tags=["sla"])


@router.post("", status_code=201, response_model=RecommendationRun)
def compute(body: RecommendationCompute, db: DB, reads: ReadDB,
            actor: Annotated[Actor, require("sla:write")]) -> RecommendationRun:
    """Compute and store a recommendation per active policy, priority and metric for `quarter`, from the
    quarter before (computed on the read session; only the rows are written)."""
    return RecommendationRun.of(recommendations.compute(db, actor=actor, reads=reads, **body.model_dump()))


@router.get("", response_model=Page[RecommendationRead])
def list_recommendations(
    db: DB, _: Annotated[Actor, require("sla:read")],
    quarter: Annotated[str | None, Query(pattern=QUARTER_PATTERN)] = None,
    priority: Priority | None = None, metric: RecommendedMetric | None = None, applied: bool | None = None,
    team_id: Id | None = None, policy_id: Id | None = None,
    run_id: Annotated[str | None, Query(max_length=32)] = None,
    limit: Limit = 50, cursor: Cursor = None,
) -> Page:
    """Stored recommendations, newest first. Computing a fresh set is `POST /api/v1/sla/recommendations`."""
    rows, next_cursor = recommendations.list_(db, quarter=quarter, priority=priority, metric=metric,
                                              applied=applied, team_id=team_id, policy_id=policy_id,
                                              run_id=run_id, limit=limit, cursor=cursor)
    return Page[RecommendationRead](items=[RecommendationRead.model_validate(r) for r in rows],
                                    next_cursor=next_cursor)


@router.get("/{recommendation_id}", response_model=RecommendationRead)
def get_recommendation(recommendation_id: Id, db: DB, _: Annotated[Actor, require("sla:read")]
                       ) -> RecommendationRead:
    return RecommendationRead.model_validate(recommendations.get(db, recommendation_id=recommendation_id))


@router.post("/{recommendation_id}/apply", response_model=RecommendationRead)
def apply(recommendation_id: Id, db: DB, actor: Annotated[Actor, require("sla:write")]
          ) -> RecommendationRead:
    """Write the recommended minutes into the policy's target (audited); it applies once (then 409)."""
    return RecommendationRead.model_validate(recommendations.apply(db, actor=actor,
                                                                   recommendation_id=recommendation_id))
