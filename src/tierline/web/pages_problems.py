"""Pages: problems (recurring issues sent to the product backlog). The list, largest ARR exposure or ticket
count first, and a problem with its tickets, its customers and its signature, where its title, public summary,
status and owner team are edited as PATCH /api/v1/problems/{key} allows (the same service, its state machine
and its refusals, shown by field).
"""

from __future__ import annotations

from typing import Annotated, Any, get_args
from urllib.parse import urlencode

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response
from pydantic import ValidationError
from sqlalchemy.orm import Session

from tierline.platform.deps import DB
from tierline.problems import service
from tierline.problems.schemas import OrderBy, ProblemQuery, ProblemUpdate, Status
from tierline.web import lookups, present
from tierline.web.frame import Refusal, Viewer, attempt, page, refusal_of, render

router = APIRouter(include_in_schema=False)
STAFF = "staff"
ORDERS = {"arr_exposure": "ARR exposure", "ticket_count": "Tickets", "customer_count": "Customers",
          "last_seen": "Last seen"}
STATUS_LABELS = {"open": "Open", "investigating": "Investigating", "known_error": "Known error", "fixed": "Fixed",
                 "closed": "Closed"}
UNFINISHED = ["open", "investigating", "known_error"]


def _query(request: Request) -> ProblemQuery:
    params = request.query_params
    raw: dict[str, Any] = {k: v for k, v in params.items() if k in ("order_by", "cursor") and v}
    if "status" in params:
        raw["status"] = [v for v in params.getlist("status") if v] or None
    else:
        raw["status"] = UNFINISHED
    return ProblemQuery.model_validate(raw)


@router.get("/problems")
def problems_page(request: Request, db: DB, viewer: Annotated[Viewer, page("problems:read", audience=STAFF)]
                  ) -> Response:
    refusal = None
    try:
        query = _query(request)
    except ValidationError as exc:
        refusal, query = refusal_of(exc), ProblemQuery(status=UNFINISHED)
    found, next_cursor = service.list_(db, query=query)
    components = dict(lookups.component_choices(db))
    teams = lookups.team_names(db)
    rows = [{"key": p.key, "title": p.title, "status": p.status, "status_label": STATUS_LABELS[p.status],
             "regression": p.regression, "tickets": p.ticket_count, "customers": p.customer_count,
             "arr": present.money(p.arr_exposure), "impact": p.impact_score if p.impact_score is not None
             else "—", "component": components.get(str(p.component_id), "—").strip() if p.component_id else "—",
             "owner": teams.get(p.owner_team_id, "—") if p.owner_team_id else "—",
             "last_seen": present.when(p.last_seen)} for p in found]
    chosen = query.status or []
    params = urlencode([("order_by", query.order_by), *(("status", s) for s in chosen or [""]),
                        ("cursor", next_cursor or "")])
    return render(request, "problems.html", viewer, status=422 if refusal else 200, refusal=refusal, rows=rows,
                  orders=list(ORDERS.items()), order_by=query.order_by, statuses=list(STATUS_LABELS.items()),
                  chosen=chosen, next_url=f"/problems?{params}" if next_cursor else None)


def _problem_page(request: Request, db: Session, viewer: Viewer, key: str, *, status: int = 200,
                  refusal: Refusal | None = None, values: dict[str, str] | None = None,
                  saved: bool = False) -> Response:
    detail = service.detail(db, key=key)
    teams = lookups.teams(db, "engineering")
    names = dict(lookups.teams(db))
    customers = [{**c, "arr": present.money(c["arr"])} for c in detail["customers"]]
    tickets = [{**t, "status_label": present.STATUS_LABELS.get(t["status"], t["status"]),
                "created": present.when(t["created_at"])} for t in detail["tickets"]]
    components = dict(lookups.component_choices(db))
    current = {"title": detail["title"], "public_summary": detail["public_summary"] or "",
               "status": detail["status"], "owner_team_id": str(detail["owner_team_id"] or "")}
    return render(request, "problem.html", viewer, status=status, refusal=refusal, problem=detail,
                  status_label=STATUS_LABELS[detail["status"]], customers=customers, tickets=tickets,
                  arr=present.money(detail["arr_exposure"]), values={**current, **(values or {})},
                  next_statuses=[(s, STATUS_LABELS[s]) for s in service.allowed(detail["status"])],
                  teams=teams, owner=names.get(detail["owner_team_id"], "—") if detail["owner_team_id"] else "—",
                  component=components.get(str(detail["component_id"]), "—").strip()
                  if detail["component_id"] else "—", first_seen=present.when(detail["first_seen"]),
                  last_seen=present.when(detail["last_seen"]), fixed_at=present.when(detail["fixed_at"]),
                  may_write=viewer.can("problems:write"), saved=saved,
                  announcement=service.announcement_preview(db, key=key))


@router.get("/problems/{key}")
def problem_page(request: Request, key: str, db: DB,
                 viewer: Annotated[Viewer, page("problems:read", audience=STAFF)], saved: bool = False) -> Response:
    return _problem_page(request, db, viewer, key, saved=saved)


@router.post("/problems/{key}")
def update_problem(request: Request, key: str, db: DB,
                   viewer: Annotated[Viewer, page("problems:write", audience=STAFF)],
                   title: Annotated[str, Form(max_length=500)] = "",
                   public_summary: Annotated[str, Form(max_length=2000)] = "",
                   status: Annotated[str, Form(max_length=20)] = "",
                   owner_team_id: Annotated[str, Form(max_length=20)] = "") -> Response:
    """The PATCH the form amounts to: only what changed, so an untouched field is not sent."""
    posted = {"title": title.strip(), "public_summary": public_summary.strip(), "status": status.strip(),
              "owner_team_id": owner_team_id.strip()}

    def change() -> Any:
        current = service.get_by_key(db, key=key)
        was = {"title": current.title, "public_summary": current.public_summary or "", "status": current.status,
               "owner_team_id": str(current.owner_team_id or "")}
        changes: dict[str, Any] = {k: v for k, v in posted.items() if v != was[k]}
        for name in ("public_summary", "owner_team_id"):
            if name in changes and changes[name] == "":
                changes[name] = None  # cleared
        body = ProblemUpdate.model_validate(changes)
        return service.update(db, actor=viewer.actor, key=key, changes=body.model_dump(exclude_unset=True))

    _, refusal = attempt(db, change)
    if refusal is None:
        return RedirectResponse(f"/problems/{key}?saved=1", status_code=303)
    return _problem_page(request, db, viewer, key, status=refusal.status, refusal=refusal, values=posted)


assert set(ORDERS) == set(get_args(OrderBy)) and set(STATUS_LABELS) == set(get_args(Status))
