from __future__ import annotations

import re
from datetime import UTC, date, datetime, time, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, Response
from pydantic import BeforeValidator

from tierline.platform.auth.actor import Actor
from tierline.platform.csv_export import csv_response, wants_csv
from tierline.platform.deps import DB, require
from tierline.platform.pagination import Cursor, Limit, Page
from tierline.platform.schemas import Id, UtcDateTime
from tierline.sla import calendars, policies, reports
from tierline.sla.schemas import (
    AtRiskItem,
    BusinessTimeAnswer,
    CalendarCreate,
    CalendarRead,
    CalendarUpdate,
    ComplianceGroup,
    ComplianceReport,
    ComplianceRow,
    PolicyCreate,
    PolicyRead,
    PolicyUpdate,
)

router = APIRouter(prefix="/api/v1/sla", tags=["sla"])


@router.post("/calendars", status_code=201, response_model=CalendarRead)
def create_calendar(body: CalendarCreate, db: DB, actor: Annotated[Actor, require("sla:write")]) -> CalendarRead:
    return CalendarRead.model_validate(calendars.create_calendar(db, actor=actor, **body.model_dump()))


@router.get("/calendars", response_model=Page[CalendarRead])
def list_calendars(db: DB, _: Annotated[Actor, require("sla:read")],
                   q: Annotated[str | None, Query(max_length=200)] = None,
                   limit: Limit = 50, cursor: Cursor = None) -> Page:
    rows, next_cursor = calendars.list_calendars(db, q=q, limit=limit, cursor=cursor)
    return Page[CalendarRead](items=[CalendarRead.model_validate(r) for r in rows], next_cursor=next_cursor)


@router.get("/calendars/{calendar_id}", response_model=CalendarRead)
def get_calendar(calendar_id: Id, db: DB, _: Annotated[Actor, require("sla:read")]) -> CalendarRead:
    return CalendarRead.model_validate(calendars.get_calendar(db, calendar_id=calendar_id))


@router.patch("/calendars/{calendar_id}", response_model=CalendarRead)
def update_calendar(calendar_id: Id, body: CalendarUpdate, db: DB,
                    actor: Annotated[Actor, require("sla:write")]) -> CalendarRead:
    record = calendars.update_calendar(db, actor=actor, calendar_id=calendar_id,
                                       **body.model_dump(exclude_unset=True))
    return CalendarRead.model_validate(record)


@router.delete("/calendars/{calendar_id}", status_code=204)
def delete_calendar(calendar_id: Id, db: DB, actor: Annotated[Actor, require("sla:write")]) -> Response:
    calendars.delete_calendar(db, actor=actor, calendar_id=calendar_id)
    return Response(status_code=204)


@router.get("/calendars/{calendar_id}/business-time", response_model=BusinessTimeAnswer)
def business_time(calendar_id: Id, db: DB, _: Annotated[Actor, require("sla:read")], start: UtcDateTime,
                  minutes: Annotated[float | None, Query(ge=0, le=10_000_000, allow_inf_nan=False)] = None,
                  end: UtcDateTime | None = None) -> BusinessTimeAnswer:
    """When does a target of `minutes` from `start` fall due, or how many business minutes lie in [start, end)?"""
    return BusinessTimeAnswer(**calendars.business_time(db, calendar_id=calendar_id, start=start,
                                                        minutes=minutes, end=end))


@router.post("/policies", status_code=201, response_model=PolicyRead)
def create_policy(body: PolicyCreate, db: DB, actor: Annotated[Actor, require("sla:write")]) -> PolicyRead:
    return PolicyRead.model_validate(policies.create_policy(db, actor=actor, values=body.model_dump()))


@router.get("/policies", response_model=Page[PolicyRead])
def list_policies(db: DB, _: Annotated[Actor, require("sla:read")], active: bool | None = None,
                  calendar_id: Id | None = None, limit: Limit = 50,
                  cursor: Cursor = None) -> Page:
    rows, next_cursor = policies.list_policies(db, active=active, calendar_id=calendar_id, limit=limit,
                                               cursor=cursor)
    return Page[PolicyRead](items=[PolicyRead.model_validate(r) for r in rows], next_cursor=next_cursor)


@router.get("/policies/{policy_id}", response_model=PolicyRead)
def get_policy(policy_id: Id, db: DB, _: Annotated[Actor, require("sla:read")]) -> PolicyRead:
    return PolicyRead.model_validate(policies.get_policy(db, policy_id=policy_id))


@router.patch("/policies/{policy_id}", response_model=PolicyRead)
def update_policy(policy_id: Id, body: PolicyUpdate, db: DB,
                  actor: Annotated[Actor, require("sla:write")]) -> PolicyRead:
    policy = policies.update_policy(db, actor=actor, policy_id=policy_id,
                                    changes=body.model_dump(exclude_unset=True))
    return PolicyRead.model_validate(policy)


@router.delete("/policies/{policy_id}", status_code=204)
def delete_policy(policy_id: Id, db: DB, actor: Annotated[Actor, require("sla:write")]) -> Response:
    policies.delete_policy(db, actor=actor, policy_id=policy_id)
    return Response(status_code=204)


@router.get("/at-risk", response_model=Page[AtRiskItem],
            responses={200: {"content": {"text/csv": {}}, "description": "JSON, or CSV with Accept: text/csv"}})
def at_risk(request: Request, db: DB, _: Annotated[Actor, require("sla:read")],
            within_minutes: Annotated[float, Query(gt=0, le=525_600, allow_inf_nan=False)] = 60,
            team_id: Id | None = None, limit: Limit = 50, cursor: Cursor = None) -> Any:
    """Breached targets of unsolved tickets, and running ones due within `within_minutes`, soonest first."""
    items, next_cursor = reports.at_risk(db, within_minutes=within_minutes, team_id=team_id, limit=limit,
                                         cursor=cursor)
    rows = [AtRiskItem(**i) for i in items]
    if wants_csv(request):
        return csv_response((r.model_dump() for r in rows), list(AtRiskItem.model_fields), filename="at-risk.csv")
    return Page[AtRiskItem](items=rows, next_cursor=next_cursor)


def _period_start(value: datetime | date | None) -> datetime | None:
    if value is None or isinstance(value, datetime):
        return value
    return datetime.combine(value, time.min, tzinfo=UTC)


def _period_end(value: datetime | date | None) -> datetime | None:
    """A plain date as `to` means the end of that day, UTC: the period runs to the next midnight."""
    if value is None or isinstance(value, datetime):
        return value
    return datetime.combine(value + timedelta(days=1), time.min, tzinfo=UTC)


def _plain_date(value: Any) -> Any:
    if isinstance(value, str) and not re.fullmatch(r"\d{4}-\d{2}-\d{2}", value.strip()):
        raise ValueError("must be a date (YYYY-MM-DD) or an instant with its time zone")
    return value


# `from`/`to`: an instant with its zone, or a plain date; a date-time without a zone is neither (422).
ReportInstant = UtcDateTime | Annotated[date, BeforeValidator(_plain_date)]


@router.get("/compliance", response_model=ComplianceReport,
            responses={200: {"content": {"text/csv": {}}, "description": "JSON, or CSV with Accept: text/csv"}})
def compliance(request: Request, db: DB, _: Annotated[Actor, require("sla:read")],
               from_: Annotated[ReportInstant | None, Query(
                   alias="from", description="an instant with its time zone, or a date (its start, UTC); "
                                             "default: 30 days before `to`")] = None,
               to: Annotated[ReportInstant | None, Query(
                   description="an instant with its time zone, or a date (the end of that day, UTC); "
                               "default: the end of today, UTC")] = None,
               group_by: ComplianceGroup = "priority",
               ) -> Any:
    start, end, rows = reports.compliance(db, start=_period_start(from_), end=_period_end(to), group_by=group_by)
    if wants_csv(request):
        return csv_response(rows, list(ComplianceRow.model_fields), filename="sla-compliance.csv")
    return ComplianceReport(from_=start, to=end, group_by=group_by, items=[ComplianceRow(**r) for r in rows])
