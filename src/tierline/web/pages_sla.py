"""Pages: the SLA dashboard (compliance by priority, team, policy or plan over a chosen period, as a chart and a
table; the targets at risk now; this week's breaches) and capacity planning (the recommended targets with their
inputs, computing a fresh set, and applying one to its policy).

Each figure is the API's: `sla.reports.compliance` and `sla.reports.at_risk` as GET /api/v1/sla/compliance and
/at-risk answer them, and `capacity.recommendations` as /api/v1/sla/recommendations; applying is the same
audited change as the API's apply.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import UTC, date, datetime, time, timedelta
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator
from sqlalchemy.orm import Session

from tierline.capacity import recommendations
from tierline.capacity.schemas import QUARTER_PATTERN, RecommendationCompute
from tierline.platform import clock
from tierline.platform.deps import DB
from tierline.platform.schemas import Id
from tierline.sla import reports
from tierline.web import lookups, present
from tierline.web.frame import Refusal, Viewer, attempt, page, refusal_of, render

router = APIRouter(include_in_schema=False)
STAFF = "staff"
GROUPS = {"priority": "Priority", "team": "Team", "policy": "Policy", "customer_plan": "Plan"}
PRESETS = {"7": "Last 7 days", "30": "Last 30 days", "90": "Last 90 days"}
AT_RISK_MINUTES = 60
SHOWN = 12  # rows of each list on the dashboard; the rest are counted
RISK_PAGES = 5  # 1,000 targets at risk or breached: beyond that the list is not what anyone reads


class Period(BaseModel):
    """The dashboard's URL: the period (dates, UTC, both ends included) and the grouping."""

    model_config = ConfigDict(extra="ignore", populate_by_name=True)

    from_: date | None = Field(default=None, alias="from")
    to: date | None = None
    group_by: Literal["priority", "team", "policy", "customer_plan"] = "priority"

    @field_validator("from_", "to", mode="before")
    @classmethod
    def _blank_is_none(cls, value: Any) -> Any:
        return None if isinstance(value, str) and not value.strip() else value

    def bounds(self) -> tuple[datetime | None, datetime | None]:
        start = datetime.combine(self.from_, time.min, tzinfo=UTC) if self.from_ else None
        end = datetime.combine(self.to + timedelta(days=1), time.min, tzinfo=UTC) if self.to else None
        return start, end


def _week_start(now: datetime) -> datetime:
    monday = now.date() - timedelta(days=now.weekday())
    return datetime.combine(monday, time.min, tzinfo=UTC)


def _minutes(value: float | None) -> str:
    return present.minutes_text(value) if value is not None else "—"


def _percent(value: float | None) -> str:
    return f"{value:.1f}%" if value is not None else "—"


def _band(value: float | None) -> str:
    """How a compliance figure reads at a glance: met the usual 90% / 95% objectives or not."""
    if value is None:
        return "none"
    return "ok" if value >= 95 else ("at-risk" if value >= 90 else "breached")


def _compliance_rows(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [{
        "label": r["label"], "targets": r["targets"], "achieved": r["achieved"], "breaches": r["breaches"],
        "percent": _percent(r["achieved_percent"]), "band": _band(r["achieved_percent"]),
        "fr_median": _minutes(r["first_response_median_business_minutes"]),
        "fr_p90": _minutes(r["first_response_p90_business_minutes"]),
        "res_median": _minutes(r["resolution_median_business_minutes"]),
        "res_p90": _minutes(r["resolution_p90_business_minutes"]),
    } for r in rows]


def _chart(rows: list[dict[str, Any]]) -> str:
    """The chart's data, as the page embeds it for static/charts.js (JSON, escaped for a script element)."""
    data = {"labels": [r["label"] for r in rows],
            "achieved": [r["achieved_percent"] for r in rows],
            "breaches": [r["breaches"] for r in rows]}
    return json.dumps(data).replace("<", "\\u003c")


def _risk_items(db: Session) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    cursor = None
    for _ in range(RISK_PAGES):
        page_items, cursor = reports.at_risk(db, within_minutes=AT_RISK_MINUTES, limit=200, cursor=cursor)
        items += page_items
        if cursor is None:
            break
    return items


def _risk_row(item: Mapping[str, Any]) -> dict[str, Any]:
    return {"key": item["ticket_key"], "subject": item["subject"], "priority": item["priority"],
            "status": present.STATUS_LABELS.get(item["status"], item["status"]), "status_value": item["status"],
            "metric": present.METRIC_LABELS.get(item["metric"], item["metric"]),
            "customer": item["customer_name"] or "—", "arr": present.money(item["customer_arr"]),
            "assignee": item["assignee_name"] or "Unassigned", "due_iso": present.iso(item["due_at"]),
            "due_text": present.due_text(item["due_at"]), "risk": present.risk(item["due_at"]),
            "breached_at": clock.as_utc(item["breached_at"]).strftime("%a %d %b %H:%M")
            if item["breached_at"] else ""}


def _this_week(breached: list[dict[str, Any]], week_start: datetime) -> list[dict[str, Any]]:
    """This week's breaches of unsolved tickets, the most recent first (the ones still worth a call)."""
    mine = [i for i in breached if i["breached_at"] and clock.as_utc(i["breached_at"]) >= week_start]
    return [_risk_row(i) for i in sorted(mine, key=lambda i: i["breached_at"], reverse=True)]


def _dashboard(request: Request, db: Session, viewer: Viewer, period: Period, *, status: int = 200,
               refusal: Refusal | None = None) -> Response:
    start, end = period.bounds()
    rows: list[dict[str, Any]] = []

    def report() -> tuple[datetime, datetime, list[dict[str, Any]]]:
        return reports.compliance(db, start=start, end=end, group_by=period.group_by)

    found, problem = attempt(db, report)
    if found is not None:
        start, end, rows = found
    refusal = refusal or problem
    now = clock.now()
    week_start = _week_start(now)
    _, _, week_rows = reports.compliance(db, start=week_start, group_by="priority")
    items = _risk_items(db)
    breached = [i for i in items if i["breached"]]
    total = sum(r["targets"] for r in rows)
    achieved = sum(r["achieved"] for r in rows)
    return render(
        request, "sla.html", viewer, status=status if refusal is None else refusal.status, refusal=refusal,
        period=period, groups=list(GROUPS.items()), group_label=GROUPS[period.group_by],
        start=start.date().isoformat() if start else "", last=(end - timedelta(days=1)).date().isoformat()
        if end else "", presets=_presets(now, period), rows=_compliance_rows(rows), chart=_chart(rows),
        overall=_percent(100.0 * achieved / total if total else None), overall_band=_band(
            100.0 * achieved / total if total else None), total=total,
        breaches=sum(r["breaches"] for r in rows),
        week=[{"label": r["label"], "breaches": r["breaches"], "targets": r["targets"]} for r in week_rows],
        week_breaches=sum(r["breaches"] for r in week_rows), week_start=week_start.date().isoformat(),
        at_risk=[_risk_row(i) for i in items if not i["breached"]],
        breached=_this_week(breached, week_start),
        breached_open=len(breached), at_risk_minutes=AT_RISK_MINUTES, shown=SHOWN, may_write=viewer.can("sla:write"))


def _presets(now: datetime, period: Period) -> list[dict[str, Any]]:
    today = now.date()
    out = []
    for days, label in PRESETS.items():
        first = (today - timedelta(days=int(days) - 1)).isoformat()
        out.append({"label": label, "href": f"/sla?from={first}&to={today.isoformat()}&group_by={period.group_by}",
                    "current": period.from_ is not None and period.from_.isoformat() == first
                    and period.to == today})
    return out


@router.get("/sla")
def dashboard(request: Request, db: DB, viewer: Annotated[Viewer, page("sla:read", audience=STAFF)]) -> Response:
    try:
        period = Period.model_validate(dict(request.query_params))
    except ValidationError as exc:
        return _dashboard(request, db, viewer, Period(), status=422, refusal=refusal_of(exc))
    if period.from_ is None and period.to is None:
        today = clock.now().date()
        period = Period(from_=today - timedelta(days=29), to=today, group_by=period.group_by)
    return _dashboard(request, db, viewer, period)


# -- capacity planning ---------------------------------------------------------------------------------------

def _flat(value: Any, prefix: str = "") -> list[tuple[str, str]]:
    """A recommendation's inputs as label/value lines, however deep (the inputs grow with the model)."""
    if isinstance(value, Mapping):
        out: list[tuple[str, str]] = []
        for k, v in value.items():
            if k != "summary":
                out += _flat(v, f"{prefix}{k}." if isinstance(v, Mapping) else f"{prefix}{k}")
        return out
    if isinstance(value, list):
        text = ", ".join(json.dumps(v, default=str) if isinstance(v, (dict, list)) else str(v) for v in value)
        return [(prefix.rstrip("."), text if len(text) <= 400 else text[:400] + " …")]
    return [(prefix.rstrip("."), "—" if value is None else str(value))]


def _target(minutes: float | None, business: bool | None) -> str:
    if minutes is None:
        return "—"
    return present.minutes_text(minutes) + (" business" if business else "")


def _recommendation_rows(db: Session) -> list[dict[str, Any]]:
    found, _ = recommendations.list_(db, limit=48)
    policies = lookups.policy_names(db)
    return [{
        "id": r.id, "run": r.run_id[:8], "quarter": r.quarter, "priority": r.priority,
        "metric": present.METRIC_LABELS.get(r.metric, r.metric), "service_level": f"{r.service_level:.0%}",
        "policy": policies.get(r.policy_id, f"policy {r.policy_id}") if r.policy_id else "—",
        "current": _target(r.current_minutes, r.current_business_hours),
        "recommended": _target(r.recommended_minutes, r.business_hours),
        "achieved": _percent(r.achieved_percent), "summary": (r.inputs or {}).get("summary") or
        (r.inputs or {}).get("reason") or "", "inputs": _flat(r.inputs or {}),
        "applied": present.when(r.applied_at), "may_apply": r.applied_at is None
        and r.recommended_minutes is not None and r.policy_id is not None,
    } for r in found]


def _next_quarter(now: datetime) -> str:
    quarter = (now.month - 1) // 3 + 1
    return f"{now.year + (quarter == 4)}Q{quarter % 4 + 1}"


def _capacity_page(request: Request, db: Session, viewer: Viewer, *, status: int = 200,
                   refusal: Refusal | None = None, values: dict[str, str] | None = None,
                   applied: int | None = None) -> Response:
    return render(request, "sla_capacity.html", viewer, status=status, refusal=refusal,
                  rows=_recommendation_rows(db), teams=lookups.teams(db, "support"),
                  values=values or {"quarter": _next_quarter(clock.now()), "service_level": "0.9", "team_id": ""},
                  may_write=viewer.can("sla:write"), applied=applied, quarter_pattern=QUARTER_PATTERN)


@router.get("/sla/capacity")
def capacity(request: Request, db: DB, viewer: Annotated[Viewer, page("sla:read", audience=STAFF)],
             applied: Id | None = None) -> Response:
    return _capacity_page(request, db, viewer, applied=applied)


@router.post("/sla/capacity")
def compute(request: Request, db: DB, viewer: Annotated[Viewer, page("sla:write", audience=STAFF)],
            quarter: Annotated[str, Form(max_length=10)] = "",
            service_level: Annotated[str, Form(max_length=10)] = "0.9",
            team_id: Annotated[str, Form(max_length=20)] = "") -> Response:
    """Compute and store a fresh set (POST /api/v1/sla/recommendations), each recommendation audited."""
    values = {"quarter": quarter.strip(), "service_level": service_level.strip(), "team_id": team_id.strip()}

    def run() -> Any:
        body = RecommendationCompute.model_validate({k: v for k, v in values.items() if v})
        return recommendations.compute(db, actor=viewer.actor, **body.model_dump())

    _, refusal = attempt(db, run)
    if refusal is None:
        return RedirectResponse("/sla/capacity", status_code=303)
    return _capacity_page(request, db, viewer, status=refusal.status, refusal=refusal, values=values)


@router.post("/sla/capacity/{recommendation_id}/apply")
def apply(request: Request, recommendation_id: Id, db: DB,
          viewer: Annotated[Viewer, page("sla:write", audience=STAFF)]) -> Response:
    """Write the recommended minutes into the policy's target, as the API's apply does (audited, once)."""
    _, refusal = attempt(db, lambda: recommendations.apply(db, actor=viewer.actor,
                                                           recommendation_id=recommendation_id))
    if refusal is None:
        return RedirectResponse(f"/sla/capacity?applied={recommendation_id}", status_code=303)
    return _capacity_page(request, db, viewer, status=refusal.status, refusal=refusal)
