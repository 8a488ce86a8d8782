"""Pages: the agent's workspace. The queues (lists with filters and search kept in the URL), a ticket (its
conversation, fields, transitions, tier, SLA clocks, triage record, customer and problem) and the new-ticket
form. Each change calls the flow the API's route calls, so the API's rules (mandatory fields, the state
machine, optimistic concurrency) hold here, and their refusals are shown inline by field.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal
from urllib.parse import urlencode

from anyio.to_thread import run_sync
from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator
from sqlalchemy.orm import Session

from tierline.components import service as components_service
from tierline.flows import escalation, intake, ticket_update, ticket_views
from tierline.flows import messages as message_flow
from tierline.people import service as people_service
from tierline.platform.deps import DB, ReadDB
from tierline.platform.errors import Invalid, NotFound
from tierline.platform.pagination import MAX_CURSOR_LENGTH
from tierline.platform.schemas import Id
from tierline.problems import service as problems_service
from tierline.tickets import forms, messages, queues, reads, service
from tierline.tickets import state_machine as sm
from tierline.tickets.models import TYPES, Ticket
from tierline.tickets.schemas import (
    SUPPORT_TEAM_NAME,
    Priority,
    Status,
    Tier,
    TicketCreate,
    TicketQuery,
    TicketUpdate,
)
from tierline.web import present
from tierline.web.frame import Viewer, attempt, page, refusal_of, render

router = APIRouter(include_in_schema=False)
STAFF = "staff"
PRIORITIES = ("P1", "P2", "P3", "P4")
TIERS = ("L1", "L2", "L3")
URGENCIES = ("low", "medium", "high")
ORDERS = {"sla_due": "SLA due", "created_at": "Newest", "updated_at": "Recently updated"}


# -- the queues ----------------------------------------------------------------------------------------------

class Filters(BaseModel):
    """What the queue page's URL says: the view and its filters (a bookmark or a shared link reopens it)."""

    model_config = ConfigDict(extra="ignore")

    view: Literal["mine", "queue", "all"] = "mine"
    queue: Id | None = None
    status: list[Status] = Field(default_factory=lambda: list(sm.UNSOLVED))
    priority: list[Priority] = Field(default_factory=list)
    tier: list[Tier] = Field(default_factory=list)
    customer: Id | None = None
    component: Id | None = None
    tag: str | None = Field(default=None, max_length=64)
    q: str | None = Field(default=None, max_length=500)
    order: Literal["sla_due", "created_at", "updated_at"] = "sla_due"
    cursor: str | None = Field(default=None, max_length=MAX_CURSOR_LENGTH)

    @field_validator("queue", "customer", "component", "tag", "q", "cursor", mode="before")
    @classmethod
    def _blank_is_none(cls, value: Any) -> Any:
        return None if isinstance(value, str) and not value.strip() else value

    def query(self, viewer: Viewer) -> TicketQuery:
        return TicketQuery(
            status=self.status or None, priority=self.priority or None, tier=self.tier or None,
            queue_id=self.queue if self.view == "queue" else None, customer_id=self.customer,
            component_id=self.component, tag=self.tag, q=self.q, order_by=self.order, cursor=self.cursor,
            assignee_id=viewer.actor.user_id if self.view == "mine" else None, limit=50)

    def url(self, **changes: Any) -> str:
        """This view's URL with `changes` (a next page's cursor), blank values left out."""
        values = {**self.model_dump(), **changes}
        pairs: list[tuple[str, str]] = []
        for name, value in values.items():
            if name == "queue" and values["view"] != "queue":
                continue
            for item in value if isinstance(value, list) else [value]:
                if item is not None and item != "":
                    pairs.append((name, str(item)))
        if not values["status"]:
            pairs.append(("status", ""))  # "any status", as distinct from the default (the unsolved ones)
        return "/queues?" + urlencode(pairs)


def _filters(request: Request) -> Filters:
    params = request.query_params
    raw: dict[str, Any] = {k: v for k, v in params.items() if k not in ("status", "priority", "tier")}
    for name in ("status", "priority", "tier"):
        if name in params:
            raw[name] = [v for v in params.getlist(name) if v]
    return Filters.model_validate(raw)


def _my_queues(session: Session, viewer: Viewer) -> list[dict[str, Any]]:
    """The queues of the viewer's teams, or of their tier when they belong to no team; all for managers."""
    everything = sorted(queues.directory(session).values(), key=lambda q: (q.tier, q.name))
    mine = everything
    if viewer.actor.user_id is not None and not viewer.can("queues:write"):
        try:
            me = people_service.get_user(session, user_id=viewer.actor.user_id)
        except NotFound:
            me = None
        if me is not None and me.team_ids:
            mine = [q for q in everything if q.team_id in me.team_ids] or everything
        elif me is not None and me.tier:
            mine = [q for q in everything if q.tier == me.tier] or everything
    return [{"id": q.id, "name": q.name, "tier": q.tier} for q in mine]


def _rows(session: Session, tickets: list[Ticket]) -> list[dict[str, Any]]:
    known = present.profiles(session, (t.customer_id for t in tickets))
    names = present.people(session) if any(t.assignee_id for t in tickets) else {}
    queue_names = present.queue_names(session)
    return [{
        "key": t.key, "subject": t.subject, "priority": t.priority, "status": t.status,
        "status_label": present.STATUS_LABELS.get(t.status, t.status), "tier": t.tier or "",
        "queue": queue_names.get(t.queue_id, "") if t.queue_id else "",
        "customer": present.customer_cell(known.get(t.customer_id)) if t.customer_id else None,
        "assignee": names.get(t.assignee_id, f"user {t.assignee_id}") if t.assignee_id else "",
        "due_iso": present.iso(t.sla_due_at) if t.status in sm.UNSOLVED else "",
        "due_text": present.due_text(t.sla_due_at) if t.status in sm.UNSOLVED else "—",
        "risk": present.risk(t.sla_due_at) if t.status in sm.UNSOLVED else "none",
    } for t in tickets]


@router.get("/queues")
def queue_page(request: Request, db: DB, viewer: Annotated[Viewer, page("tickets:read", audience=STAFF)]
               ) -> Response:
    try:
        filters = _filters(request)
    except ValidationError as exc:
        refusal = refusal_of(exc)
        return render(request, "queues.html", viewer, status=422, refusal=refusal, filters=Filters(), rows=[],
                      next_url=None, counts=[], **_queue_choices(db, viewer, Filters()))
    tickets, next_cursor = service.list_(db, actor=viewer.actor, query=filters.query(viewer))
    next_url = filters.url(cursor=next_cursor) if next_cursor else None
    counts = reads.unsolved_counts(db, queue_id=filters.queue if filters.view == "queue" else None,
                                   assignee_id=viewer.actor.user_id if filters.view == "mine" else None)
    return render(request, "queues.html", viewer, fragment="_ticket_table.html", filters=filters,
                  rows=_rows(db, tickets), next_url=next_url, refusal=None, counts=[
                      {"status": s, "label": present.STATUS_LABELS[s], "count": n,
                       "url": filters.url(status=[s], cursor=None)} for s, n in counts.items()],
                  **_queue_choices(db, viewer, filters))


def _queue_choices(db: Session, viewer: Viewer, filters: Filters) -> dict[str, Any]:
    my_queues = _my_queues(db, viewer)
    components, _ = components_service.list_(db, limit=200)
    title = "Assigned to me" if filters.view == "mine" else "All open tickets"
    if filters.view == "queue":
        title = next((f"{q['name']} ({q['tier']})" for q in my_queues if q["id"] == filters.queue), None) or \
            present.queue_names(db).get(filters.queue or 0, "Queue")
    return {"my_queues": my_queues, "title": title, "statuses": list(present.STATUS_LABELS.items()),
            "priorities": PRIORITIES, "tiers": TIERS, "orders": list(ORDERS.items()),
            "components": sorted(((c.id, c.name) for c in components), key=lambda c: c[1].lower()),
            "customer_name": _customer_name(db, filters.customer)}


def _customer_name(db: Session, customer_id: int | None) -> str:
    if customer_id is None:
        return ""
    found = present.profiles(db, [customer_id]).get(customer_id)
    return found.name if found else f"customer {customer_id}"


# -- a ticket -----------------------------------------------------------------------------------------------

# The fields the ticket page edits, as the form sends them (all text; blank means "not set").
EDITABLE = ("type", "priority", "component_id", "error_code", "feature_area", "urgency", "affected_users",
            "tags", "assignee_id")


def _form_value(ticket: Ticket, name: str) -> str:
    if name.startswith("custom_fields."):
        value = (ticket.custom_fields or {}).get(name.split(".", 1)[1])
        return "" if value is None else str(value)
    value = getattr(ticket, name)
    if name == "tags":
        return ", ".join(value or [])
    return "" if value is None else str(value)


def _custom_names(db: Session, ticket: Ticket) -> list[str]:
    """The custom fields the page offers: the form's required ones, then the ticket's own text ones."""
    required = [f.split(".", 1)[1] for f in forms.get(db, ticket_type=ticket.type).required_fields
                if f.startswith("custom_fields.")]
    own = [k for k, v in (ticket.custom_fields or {}).items() if isinstance(v, (str, int, float)) and k not in required]
    return required + sorted(own)


def _changes(submitted: dict[str, str], original: dict[str, str]) -> dict[str, Any]:
    """The PATCH the form amounts to: only the fields the person changed (blank clears a field), typed by the
    API's own schema, so its rules and messages apply."""
    changes: dict[str, Any] = {}
    custom: dict[str, Any] = {}
    for name, value in submitted.items():
        value = value.strip()
        if value == original.get(name, "").strip():
            continue
        if name.startswith("custom_fields."):
            custom[name.split(".", 1)[1]] = value or None
        elif name == "tags":
            changes["tags"] = [t for t in (p.strip() for p in value.replace("\n", ",").split(",")) if t]
        else:
            changes[name] = value or None
    if custom:
        changes["custom_fields"] = custom
    return TicketUpdate.model_validate(changes).model_dump(exclude_unset=True)


def _conflict_rows(ticket: Ticket, original: dict[str, str], submitted: dict[str, str]) -> list[dict[str, str]]:
    """What someone else changed since the page was loaded, beside what this person was about to save."""
    rows = []
    for name, was in original.items():
        now = _form_value(ticket, name) if name != "status" else ticket.status
        if now.strip() != was.strip():
            rows.append({"field": name, "was": was or "—", "now": now or "—",
                         "yours": submitted.get(name, was) or "—"})
    return rows


def _ticket_context(db: Session, viewer: Viewer, ticket: Ticket) -> dict[str, Any]:
    detail = ticket_views.detail(db, ticket)
    rows, _ = messages.list_(db, actor=viewer.actor, ticket_key=ticket.key, limit=200)
    names = present.people(db)
    conversation = [{"public": m.public, "kind": "reply" if m.public else "note", "author_type": m.author_type,
                     "author": (SUPPORT_TEAM_NAME if m.author_type == "system" else
                                names.get(m.author_id) or m.author_email or "unknown"),
                     "body": m.body, "at": present.when(m.created_at), "iso": present.iso(m.created_at)}
                    for m in rows]
    form = forms.get(db, ticket_type=ticket.type)
    missing = set(forms.missing_fields(db, ticket))
    profile = present.profiles(db, [ticket.customer_id]).get(ticket.customer_id) if ticket.customer_id else None
    recent: list[Ticket] = []
    open_count = 0
    if ticket.customer_id is not None:
        recent, _ = service.list_(db, actor=viewer.actor, query=TicketQuery(customer_id=ticket.customer_id,
                                                                            limit=6, order_by="created_at"))
        open_count = service.open_count(db, customer_id=ticket.customer_id)
    problem = problems_service.for_ticket(db, ticket_id=ticket.id)
    tier = escalation.current_tier(db, ticket)
    components, _ = components_service.list_(db, limit=200)
    custom_names = _custom_names(db, ticket)
    values = {name: _form_value(ticket, name) for name in (*EDITABLE, *(f"custom_fields.{n}" for n in custom_names))}
    clocks = [{"metric": present.METRIC_LABELS.get(c["metric"], c["metric"]), "status": c["status"],
               "target": present.minutes_text(c["target_minutes"]) + (" business" if c["business_hours"] else ""),
               "elapsed": present.minutes_text(c["elapsed_minutes"]),
               "remaining": present.minutes_text(c["remaining_minutes"]),
               "overdue": c["remaining_minutes"] < 0, "due_iso": present.iso(c["due_at"])
               if c["status"] == "active" else "", "due": present.when(c["due_at"]),
               "breached_at": present.when(c["breached_at"]),
               "risk": "breached" if c["breached_at"] else (present.risk(c["due_at"]) if c["status"] == "active"
                                                            else "none")}
              for c in detail["sla"]]
    return {
        "ticket": ticket, "status_label": present.STATUS_LABELS.get(ticket.status, ticket.status),
        "conversation": conversation, "values": values, "original": values,
        "custom_names": custom_names, "required": form.required_fields, "form_description": form.description,
        "missing": missing, "transitions": [(s, present.STATUS_LABELS[s])
                                            for s in sm.allowed(ticket.status, solved_at=ticket.solved_at)],
        "tier": tier, "up": escalation.allowed_tiers(tier, "escalate"),
        "down": escalation.allowed_tiers(tier, "de-escalate"), "unsolved": ticket.status in sm.UNSOLVED,
        "clocks": clocks, "policy": detail["sla_policy"], "triage": present.triage_record(ticket.triage),
        "customer": profile, "customer_arr": present.money(profile.arr) if profile else "",
        "customer_percentile": f"{profile.arr_percentile:.0%}" if profile and profile.arr_percentile is not None
        else "", "open_count": open_count,
        "recent": [{"key": t.key, "subject": t.subject, "status": present.STATUS_LABELS.get(t.status, t.status),
                    "created": present.when(t.created_at)} for t in recent if t.id != ticket.id][:5],
        "problem": problem, "assignee": names.get(ticket.assignee_id, "") if ticket.assignee_id else "",
        "queue": present.queue_names(db).get(ticket.queue_id, "") if ticket.queue_id else "",
        "agents": present.assignable(db), "type_options": [(t, t.replace("_", " ")) for t in TYPES],
        "priority_options": [(p, p) for p in PRIORITIES], "urgency_options": [(u, u) for u in URGENCIES],
        "components": sorted(((c.id, c.name) for c in components), key=lambda c: c[1].lower()),
        "created": present.when(ticket.created_at), "updated": present.when(ticket.updated_at),
        "refusal": None, "conflict": None, "drafts": {"reply": "", "note": ""}, "tier_reason": "",
    }


def _ticket_page(request: Request, db: Session, viewer: Viewer, key: str, *, status: int = 200,
                 **overrides: Any) -> Response:
    ticket = service.get_by_key(db, key=key, actor=viewer.actor)
    context = _ticket_context(db, viewer, ticket)
    if "values" in overrides:
        overrides["values"] = {**context["values"], **overrides["values"]}
    context.update(overrides)
    return render(request, "ticket.html", viewer, status=status, **context)


@router.get("/tickets/new")
def new_ticket_page(request: Request, viewer: Annotated[Viewer, page("tickets:write", audience=STAFF)]
                    ) -> Response:
    return render(request, "ticket_new.html", viewer, values={"priority": "P3", "type": "question"},
                  types=TYPES, priorities=PRIORITIES, refusal=None)


@router.post("/tickets/new")
def create_ticket(request: Request, db: DB, reads: ReadDB,
                  viewer: Annotated[Viewer, page("tickets:write", audience=STAFF)],
                  requester_email: Annotated[str, Form(max_length=320)] = "",
                  subject: Annotated[str, Form(max_length=500)] = "",
                  description: Annotated[str, Form(max_length=100_000)] = "",
                  type: Annotated[str, Form(max_length=40)] = "question",  # noqa: A002
                  priority: Annotated[str, Form(max_length=4)] = "P3") -> Response:
    """An agent opens a ticket on a customer's behalf: the API's intake, planned on a read session and written
    short, then settled (the signature's problem) after the commit."""
    values = {"requester_email": requester_email, "subject": subject, "description": description, "type": type,
              "priority": priority}

    def plan() -> intake.Intake:
        data = TicketCreate.model_validate({**values, "channel": "web"})
        return intake.plan(reads, actor=viewer.actor, data=data)

    planned, refusal = attempt(reads, plan)
    if refusal is not None:
        return render(request, "ticket_new.html", viewer, status=refusal.status, values=values, types=TYPES,
                      priorities=PRIORITIES, refusal=refusal)
    reads.close()
    written = intake.write(db, planned)
    db.commit()
    if intake.settle(reads, db, written):
        db.commit()
    return RedirectResponse(f"/tickets/{intake.detail(written)['key']}", status_code=303)


@router.get("/tickets/{key}")
def ticket_page(request: Request, key: str, db: DB,
                viewer: Annotated[Viewer, page("tickets:read", audience=STAFF)]) -> Response:
    return _ticket_page(request, db, viewer, key)


@router.post("/tickets/{key}")
async def save_ticket(request: Request, key: str, db: DB,
                      viewer: Annotated[Viewer, page("tickets:write", audience=STAFF)]) -> Response:
    """Save the fields and, with a transition button, the status: one PATCH guarded by the version the page
    was loaded at. Someone else's change in between is shown (what they changed, what this person typed), to
    reload, never overwritten."""
    form = await request.form()
    submitted = {name: str(form.get(name) or "") for name in form.keys()
                 if name in EDITABLE or name.startswith("custom_fields.")}
    original = {name.removeprefix("orig:"): str(form.get(name) or "") for name in form.keys()
                if name.startswith("orig:")}
    version_text = str(form.get("version") or "")
    target = str(form.get("status") or "")
    # The form was read on the event loop; the database work runs in the threadpool, as a sync route's does.
    return await run_sync(_save, request, db, viewer, key, submitted, original, version_text, target)


def _save(request: Request, db: Session, viewer: Viewer, key: str, submitted: dict[str, str],
          original: dict[str, str], version_text: str, target: str) -> Response:
    ticket = service.get_by_key(db, key=key, actor=viewer.actor)

    def save() -> Ticket:
        if not version_text.isdigit() or len(version_text) > 18:
            raise Invalid("version", "the page's version of the ticket is missing; reload the page")
        changes = _changes(submitted, original)
        if target:
            changes["status"] = TicketUpdate.model_validate({"status": target}).status
        return ticket_update.update(db, actor=viewer.actor, ticket=ticket, changes=changes,
                                    if_match=int(version_text))

    _, refusal = attempt(db, save)
    if refusal is None:
        return RedirectResponse(f"/tickets/{key}", status_code=303)
    db.expire_all()
    current = service.get_by_key(db, key=key, actor=viewer.actor)
    if "current_version" in refusal.extra:
        return _ticket_page(request, db, viewer, key, status=409, conflict={
            "rows": _conflict_rows(current, original, {**submitted, "status": target or original.get("status", "")}),
            "version": current.version}, values=submitted)
    return _ticket_page(request, db, viewer, key, status=refusal.status, refusal=refusal, values=submitted,
                        original={**original})


@router.post("/tickets/{key}/messages")
def post_message(request: Request, key: str, db: DB,
                 viewer: Annotated[Viewer, page("tickets:write", audience=STAFF)],
                 body: Annotated[str, Form(max_length=100_000)] = "",
                 kind: Annotated[Literal["reply", "note"], Form()] = "reply") -> Response:
    def post() -> Any:
        if not body.strip():
            raise Invalid("body", "write something first")
        return message_flow.create(db, actor=viewer.actor, ticket_key=key, body=body, public=kind == "reply")

    _, refusal = attempt(db, post)
    if refusal is None:
        return RedirectResponse(f"/tickets/{key}#conversation", status_code=303)
    refusal.fields = {f"{kind}.{k}" if k == "body" else k: v for k, v in refusal.fields.items()}
    return _ticket_page(request, db, viewer, key, status=refusal.status, refusal=refusal,
                        drafts={"reply": body if kind == "reply" else "", "note": body if kind == "note" else ""})


@router.post("/tickets/{key}/tier")
def change_tier(request: Request, key: str, db: DB,
                viewer: Annotated[Viewer, page("tickets:write", audience=STAFF)],
                direction: Annotated[Literal["escalate", "de-escalate"], Form()],
                to_tier: Annotated[Tier, Form()],
                reason: Annotated[str, Form(max_length=2000)] = "") -> Response:
    def move() -> Ticket:
        if not reason.strip():
            raise Invalid("reason", "say why the ticket moves")
        return escalation.change_tier(db, actor=viewer.actor, key=key, to_tier=to_tier, reason=reason.strip(),
                                      direction=direction)

    _, refusal = attempt(db, move)
    if refusal is None:
        return RedirectResponse(f"/tickets/{key}", status_code=303)
    return _ticket_page(request, db, viewer, key, status=refusal.status, refusal=refusal, tier_reason=reason)


@router.post("/tickets/{key}/take")
def take_ticket(request: Request, key: str, db: DB,
                viewer: Annotated[Viewer, page("tickets:write", audience=STAFF)],
                version: Annotated[str, Form(max_length=20)] = "") -> Response:
    """Assign the ticket to oneself (the PATCH of assignee_id, guarded by the page's version)."""
    def take() -> Ticket:
        if not version.isdigit():
            raise Invalid("version", "the page's version of the ticket is missing; reload the page")
        return ticket_update.update_by_key(db, actor=viewer.actor, key=key,
                                           changes={"assignee_id": viewer.actor.user_id}, if_match=int(version))

    _, refusal = attempt(db, take)
    if refusal is None:
        return RedirectResponse(f"/tickets/{key}", status_code=303)
    return _ticket_page(request, db, viewer, key, status=refusal.status, refusal=refusal)

