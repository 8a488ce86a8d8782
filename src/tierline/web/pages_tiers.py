"""Page: tiers and queues. The tier report (GET /api/v1/triage/tier-report: who takes first touch now, who
should, and why), what waits in each queue (depth, the oldest ticket's age, unassigned, SLA risk), and each
agent's open work against their capacity.

Queue depth, age and risk are the queue statistics the API gives on every queue (`flows.queue_views`), so the
page and `GET /api/v1/queues` never disagree.
"""

from __future__ import annotations

from typing import Annotated, Any, get_args

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response
from sqlalchemy.orm import Session

from tierline.flows import queue_views
from tierline.people import service as people_service
from tierline.platform.deps import DB
from tierline.tickets import queues
from tierline.tickets import service as tickets_service
from tierline.tickets.schemas import TicketType
from tierline.triage import tiers
from tierline.triage.tier_schemas import TierReport
from tierline.web import lookups, present
from tierline.web.frame import Viewer, page, render

router = APIRouter(include_in_schema=False)
STAFF = "staff"
DAYS = (30, 90, 180, 365)
QUEUE_PAGES = 50  # 10,000 unsolved tickets a queue


def _queue_rows(db: Session) -> list[dict[str, Any]]:
    names = lookups.team_names(db)
    directory = sorted(queues.directory(db).values(), key=lambda q: (q.tier, q.name.lower()))
    stats = queue_views.statistics(db, queue_ids=[q.id for q in directory])
    rows = []
    for q in directory:
        f = stats[q.id]
        rows.append({"id": q.id, "name": q.name, "tier": q.tier, "team": names.get(q.team_id, "—")
                     if q.team_id else "—", "depth": f.depth, "unassigned": f.unassigned, "breached": f.breached,
                     "at_risk": f.at_risk,
                     "oldest": present.minutes_text(f.oldest_age_minutes) if f.oldest_age_minutes is not None
                     else "—", "oldest_iso": present.iso(f.oldest_created_at),
                     "strategy": q.assignment_strategy.replace("_", " ")})
    return rows


def _agent_rows(db: Session) -> list[dict[str, Any]]:
    agents = [u for u in lookups.users(db) if u.active and people_service.ASSIGNABLE_ROLES.intersection(u.roles)]
    work = tickets_service.open_work(db, user_ids=[u.id for u in agents])
    names = lookups.team_names(db)
    rows = []
    for u in agents:
        open_tickets, load = work.get(u.id, (0, 0))
        share = open_tickets / u.max_open_tickets if u.max_open_tickets else 1.0
        rows.append({"id": u.id, "name": u.name, "tier": u.tier or "—", "open": open_tickets, "load": load,
                     "capacity": u.max_open_tickets, "percent": min(100, round(100 * share)),
                     "band": "breached" if share >= 1 else ("at-risk" if share >= 0.8 else "ok"),
                     "available": u.available,
                     "teams": ", ".join(names.get(t, "") for t in u.team_ids) or "—"})
    return sorted(rows, key=lambda r: (-r["percent"], r["name"].lower()))


def _pct(value: float | None) -> str:
    return f"{value:.0%}" if value is not None else "—"


def _hours(value: float | None) -> str:
    return f"{value:.1f} h" if value is not None else "—"


def _tier_rows(report: TierReport) -> list[dict[str, Any]]:
    out = []
    for row in report.rows:
        cells = {}
        for tier in ("L1", "L2", "L3"):
            f = row.tiers.get(tier)  # type: ignore[call-overload]
            cells[tier] = None if f is None or not f.volume else {
                "volume": f.volume, "mttr": _hours(f.mttr_hours), "reopen": _pct(f.reopen_rate),
                "escalation": _pct(f.escalation_rate),
                "thin": ", ".join(x.replace("_", " ") for x in row.insufficient_data.get(tier, []))}  # type: ignore[call-overload]
        out.append({"component": row.component or "No component", "type": row.type.replace("_", " "),
                    "volume": row.volume, "tiers": cells, "current": row.current_first_touch or "—",
                    "recommended": row.recommended_first_touch, "changes": row.changes_practice,
                    "verdict": row.verdict, "reasons": row.reasons})
    return out


@router.get("/tiers")
def tiers_page(request: Request, db: DB, viewer: Annotated[Viewer, page("triage:read", audience=STAFF)],
               days: Annotated[int, Query(ge=1, le=3650)] = 90, type: TicketType | None = None,  # noqa: A002
               ) -> Response:
    report = TierReport.model_validate(tiers.report(db, days=days, type=type))
    may_read_queues = viewer.can("queues:read") and viewer.can("tickets:read")
    return render(request, "tiers.html", viewer, days=days, day_choices=DAYS, type=type or "",
                  types=get_args(TicketType), report=report, rows=_tier_rows(report),
                  thresholds=report.thresholds, queues=_queue_rows(db) if may_read_queues else None,
                  agents=_agent_rows(db) if viewer.can("users:read") else None,
                  may_edit_queues=viewer.can("queues:write"))
