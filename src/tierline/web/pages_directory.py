"""Pages: the directory a manager or admin keeps: people, teams, customers, components (the tree), queues, SLA
calendars and SLA policies. Each is a list, a create form and an edit form.

Every kind is the same three pages with other fields (web/form_fields.py), so they are declared as data here
(`Kind`) and one set of routes is made per kind, each with the permission the API's routes of that kind
require. A posted form becomes the dict the API's own Create or Update schema validates, and the same service
(or flow) the API route calls applies it: the API's rules, messages and audit events, nothing of its own.
"""

# No `from __future__ import annotations`: the routes made per kind in `_install` annotate their viewer with
# a local (the kind's permission), which FastAPI can resolve only from a real annotation, not from a string.

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.orm import Session
from starlette.datastructures import FormData

from tierline.components import service as components_service
from tierline.components.schemas import ComponentCreate, ComponentDetail, ComponentRead, ComponentUpdate
from tierline.customers import service as customers_service
from tierline.customers.models import PLANS
from tierline.customers.schemas import CustomerCreate, CustomerRead, CustomerUpdate
from tierline.flows import people as people_flow
from tierline.people import service as people_service
from tierline.people import teams as people_teams
from tierline.people.schemas import TeamCreate, TeamRead, TeamUpdate, UserCreate, UserRead, UserUpdate
from tierline.platform import rbac
from tierline.platform.auth.actor import Actor
from tierline.platform.deps import DB
from tierline.platform.errors import Forbidden
from tierline.platform.schemas import Id
from tierline.sla import calendars, policies
from tierline.sla.schemas import (
    CalendarCreate,
    CalendarRead,
    CalendarUpdate,
    PolicyCreate,
    PolicyRead,
    PolicyUpdate,
)
from tierline.tickets import queues
from tierline.tickets import service as tickets_service
from tierline.tickets.models import ASSIGNMENT_STRATEGIES, TYPES
from tierline.tickets.schemas import QueueCreate, QueueRead, QueueUpdate
from tierline.web import form_fields as ff
from tierline.web import lookups, present
from tierline.web.form_fields import FormField, FormState
from tierline.web.frame import Viewer, attempt, page, render

router = APIRouter(include_in_schema=False)
STAFF = "staff"
TIERS = ("L1", "L2", "L3")
PRIORITIES = ("P1", "P2", "P3", "P4")
METRICS = ("first_response", "next_reply", "periodic_update", "resolution")
CHANNELS = ("email", "web", "api", "chat", "phone", "alert")


async def _posted(request: Request) -> FormData:
    return await request.form()  # parsed once: the frame's CSRF check read the same form


Posted = Annotated[FormData, Depends(_posted)]


@dataclass
class Row:
    """One line of a directory list: its cells as text, the first linking to the record's edit page."""

    href: str
    cells: list[str]
    indent: int = 0
    muted: bool = False


@dataclass
class Kind:
    """One kind of record the directory keeps, and how its pages reach the services."""

    slug: str
    title: str
    singular: str
    read: str
    write: str
    audit_type: str
    columns: list[str]
    fields: Callable[[Session, bool], list[FormField]]  # (session, creating)
    rows: Callable[[Session, str | None], list[Row]]
    read_one: Callable[[Session, int], dict[str, Any]]
    create: Callable[[Session, Actor, dict[str, Any]], Any]
    update: Callable[[Session, Actor, int, dict[str, Any]], Any]
    defaults: dict[str, Any] = field(default_factory=dict)
    searchable: bool = True
    blurb: str = ""

    @property
    def base(self) -> str:
        return f"/directory/{self.slug}"


def _yes(value: bool) -> str:
    return "yes" if value else "no"


# -- people ----------------------------------------------------------------------------------------------------

def _people_fields(session: Session, creating: bool) -> list[FormField]:
    out = [FormField("email", "Email")] if creating else []
    return out + [
        FormField("name", "Name"),
        FormField("roles", "Roles", ff.CHECKS, options=ff.choices(rbac.ROLES),
                  help="You may grant only roles whose permissions your own roles hold."),
        FormField("timezone", "Time zone", help="An IANA time zone, e.g. Europe/Berlin"),
        FormField("password", "Password", ff.PASSWORD,
                  help="At least 10 characters." + ("" if creating else " Blank keeps the current one.")),
        FormField("skills", "Skills", ff.LIST, help="Comma-separated, e.g. billing, postgres"),
        FormField("max_open_tickets", "Capacity (max open tickets)", ff.NUMBER),
        FormField("available", "Available for assignment", ff.BOOL),
        FormField("active", "Active (may log in)", ff.BOOL),
    ]


def _people_rows(session: Session, q: str | None) -> list[Row]:
    found = lookups.everything(people_service.list_users, session, q=q)
    work = tickets_service.open_work(session, user_ids=[u.id for u in found])
    names = lookups.team_names(session)
    rows = []
    for u in sorted(found, key=lambda u: u.name.lower()):
        open_tickets, _ = work.get(u.id, (0, 0))
        rows.append(Row(f"/directory/people/{u.id}", [
            u.name, u.email, ", ".join(u.roles), u.tier or "—",
            ", ".join(names.get(t, f"team {t}") for t in u.team_ids) or "—",
            f"{open_tickets} / {u.max_open_tickets}", _yes(u.available), _yes(u.active)], muted=not u.active))
    return rows


def _create_user(session: Session, actor: Actor, values: dict[str, Any]) -> Any:
    body = UserCreate.model_validate(ff.drop_empty(values, ("password", "timezone")))
    return people_service.create_user(session, actor=actor, **body.model_dump())


def _update_user(session: Session, actor: Actor, user_id: int, values: dict[str, Any]) -> Any:
    body = UserUpdate.model_validate(values)
    return people_flow.update_user(session, actor=actor, user_id=user_id, **body.model_dump(exclude_unset=True))


PEOPLE = Kind(
    slug="people", title="People", singular="person", read="users:read", write="users:write",
    audit_type="users", columns=["Name", "Email", "Roles", "Tier", "Teams", "Open / capacity", "Available",
                                 "Active"],
    fields=_people_fields, rows=_people_rows,
    read_one=lambda s, i: UserRead.model_validate(people_service.get_user(s, user_id=i)).model_dump(),
    create=_create_user, update=_update_user,
    defaults={"timezone": "UTC", "max_open_tickets": "20", "available": True, "active": True,
              "roles": ["agent_l1"]},
    blurb="Agents, managers and everyone else who signs in; an agent's tier follows from their roles.")


# -- teams -----------------------------------------------------------------------------------------------------

def _team_fields(session: Session, creating: bool) -> list[FormField]:
    people = [(str(u.id), f"{u.name} ({u.tier})" if u.tier else u.name) for u in lookups.users(session)]
    return [
        FormField("name", "Name"),
        FormField("kind", "Kind", ff.SELECT, options=ff.choices(("support", "engineering", "product"))),
        FormField("description", "Description", ff.TEXTAREA),
        FormField("member_ids", "Members", ff.CHECKS, options=people),
    ]


def _team_rows(session: Session, q: str | None) -> list[Row]:
    names = lookups.user_names(session)
    found = lookups.everything(people_teams.list_teams, session, q=q)
    return [Row(f"/directory/teams/{t.id}", [
        t.name, t.kind, str(len(t.member_ids)),
        ", ".join(names.get(m, f"user {m}") for m in t.member_ids[:6]) + (" …" if len(t.member_ids) > 6 else ""),
        t.description[:120]]) for t in sorted(found, key=lambda t: t.name.lower())]


TEAMS = Kind(
    slug="teams", title="Teams", singular="team", read="teams:read", write="teams:write", audit_type="teams",
    columns=["Name", "Kind", "Members", "Who", "Description"], fields=_team_fields, rows=_team_rows,
    read_one=lambda s, i: TeamRead.model_validate(people_teams.get_team(s, team_id=i)).model_dump(),
    create=lambda s, a, v: people_teams.create_team(s, actor=a, **TeamCreate.model_validate(v).model_dump()),
    update=lambda s, a, i, v: people_flow.update_team(
        s, actor=a, team_id=i, **TeamUpdate.model_validate(v).model_dump(exclude_unset=True)),
    defaults={"kind": "support"},
    blurb="Support teams work queues; engineering teams own components; product teams read the backlog.")


# -- customers -------------------------------------------------------------------------------------------------

def _customer_fields(session: Session, creating: bool) -> list[FormField]:
    return [
        FormField("name", "Name"),
        FormField("external_id", "External id", help="The customer's id in the CRM; unique."),
        FormField("plan", "Plan", ff.SELECT, options=ff.choices(PLANS)),
        FormField("arr", "ARR (annual recurring revenue)", ff.NUMBER),
        FormField("region", "Region", nullable=True),
        FormField("timezone", "Time zone"),
        FormField("licensed_users", "Licensed users", ff.NUMBER),
        FormField("email_domains", "Email domains", ff.LIST,
                  help="Requesters from these domains belong to this customer; comma-separated."),
    ]


def _customer_rows(session: Session, q: str | None) -> list[Row]:
    found = lookups.everything(customers_service.list_, session, q=q)
    shown = sorted((CustomerRead.model_validate(c) for c in found), key=lambda c: (-c.arr, c.name.lower()))
    return [Row(f"/directory/customers/{c.id}", [
        c.name, c.external_id, c.plan, present.money(c.arr), c.region or "—", ", ".join(c.email_domains) or "—",
        str(c.licensed_users)]) for c in shown]


CUSTOMERS = Kind(
    slug="customers", title="Customers", singular="customer", read="customers:read", write="customers:write",
    audit_type="customers", columns=["Name", "External id", "Plan", "ARR", "Region", "Email domains", "Users"],
    fields=_customer_fields, rows=_customer_rows,
    read_one=lambda s, i: CustomerRead.model_validate(customers_service.get(s, customer_id=i)).model_dump(),
    create=lambda s, a, v: customers_service.create(
        s, actor=a, **CustomerCreate.model_validate(ff.drop_empty(v, ("arr", "licensed_users", "timezone",
                                                                      "region"))).model_dump()),
    update=lambda s, a, i, v: customers_service.update(
        s, actor=a, customer_id=i, **CustomerUpdate.model_validate(v).model_dump(exclude_unset=True)),
    defaults={"plan": "pro", "arr": "0", "timezone": "UTC", "licensed_users": "0"},
    blurb="Largest ARR first. Plan and ARR feed triage's impact score and the SLA policies' match.")


# -- components ------------------------------------------------------------------------------------------------

def _component_fields(session: Session, creating: bool) -> list[FormField]:
    return [
        FormField("name", "Name"),
        FormField("parent_id", "Parent", ff.SELECT, options=lookups.component_choices(session), nullable=True,
                  help="Blank: a root of the tree."),
        FormField("owner_team_id", "Owner (engineering team)", ff.SELECT,
                  options=ff.options(lookups.teams(session, "engineering")), nullable=True),
        FormField("support_team_id", "Support team", ff.SELECT,
                  options=ff.options(lookups.teams(session, "support")), nullable=True),
        FormField("required_skills", "Required skills", ff.LIST),
        FormField("description", "Description", ff.TEXTAREA),
    ]


def _component_rows(session: Session, q: str | None) -> list[Row]:
    names = lookups.team_names(session)
    tree = lookups.component_tree(session)
    if q:
        tree = [(c, 0) for c, _ in tree if q.lower() in c.name.lower()]
    return [Row(f"/directory/components/{c.id}", [
        c.name, names.get(c.owner_team_id, "—") if c.owner_team_id else "—",
        names.get(c.support_team_id, "—") if c.support_team_id else "—", ", ".join(c.required_skills) or "—"],
        indent=depth) for c, depth in tree]


def _component(session: Session, component_id: int) -> dict[str, Any]:
    component, path = components_service.get_detail(session, component_id=component_id)
    return ComponentDetail(**ComponentRead.model_validate(component).model_dump(), path=path).model_dump()


COMPONENTS = Kind(
    slug="components", title="Components", singular="component", read="components:read",
    write="components:write", audit_type="components", columns=["Component", "Owner", "Support team",
                                                                "Skills"],
    fields=_component_fields, rows=_component_rows, read_one=_component,
    create=lambda s, a, v: components_service.create(
        s, actor=a, **ComponentCreate.model_validate(v).model_dump()),
    update=lambda s, a, i, v: components_service.update(
        s, actor=a, component_id=i, **ComponentUpdate.model_validate(v).model_dump(exclude_unset=True)),
    blurb="The system-architecture tree: routing, ownership and problems hang on it.")


# -- queues ----------------------------------------------------------------------------------------------------

def _queue_fields(session: Session, creating: bool) -> list[FormField]:
    return [
        FormField("name", "Name"),
        FormField("tier", "Tier", ff.SELECT, options=ff.choices(TIERS)),
        FormField("team_id", "Team", ff.SELECT, options=ff.options(lookups.teams(session, "support")),
                  nullable=True),
        FormField("assignment_strategy", "Assignment", ff.SELECT, options=ff.choices(ASSIGNMENT_STRATEGIES),
                  help="round robin: take turns; least loaded: fewest open tickets weighted by priority; "
                       "skills: most matching skills, then least loaded."),
        FormField("required_skills", "Required skills", ff.LIST),
        FormField("description", "Description", ff.TEXTAREA),
    ]


def _queue_rows(session: Session, q: str | None) -> list[Row]:
    names = lookups.team_names(session)
    found = lookups.everything(queues.list_, session)
    if q:
        found = [x for x in found if q.lower() in x.name.lower()]
    return [Row(f"/directory/queues/{x.id}", [
        x.name, x.tier, names.get(x.team_id, "—") if x.team_id else "—", x.assignment_strategy.replace("_", " "),
        ", ".join(x.required_skills) or "—"]) for x in sorted(found, key=lambda x: (x.tier, x.name.lower()))]


QUEUES = Kind(
    slug="queues", title="Queues", singular="queue", read="queues:read", write="queues:write",
    audit_type="queues", columns=["Queue", "Tier", "Team", "Assignment", "Skills"], fields=_queue_fields,
    rows=_queue_rows,
    read_one=lambda s, i: QueueRead.model_validate(queues.get(s, queue_id=i)).model_dump(),
    create=lambda s, a, v: queues.create(s, actor=a, **QueueCreate.model_validate(v).model_dump()),
    update=lambda s, a, i, v: queues.update(s, actor=a, queue_id=i,
                                            changes=QueueUpdate.model_validate(v).model_dump(exclude_unset=True)),
    defaults={"tier": "L1", "assignment_strategy": "round_robin"},
    blurb="Where unassigned work waits for a tier's agents. Depth and age: Tiers & queues.")


# -- SLA calendars ---------------------------------------------------------------------------------------------

def _calendar_fields(session: Session, creating: bool) -> list[FormField]:
    return [
        FormField("name", "Name"),
        FormField("timezone", "Time zone", help="An IANA time zone, e.g. Europe/Berlin"),
        FormField("hours", "Business hours", ff.JSON,
                  help='24/7, or the local hours per weekday: {"mon": [["09:00", "17:00"]], "tue": ...}'),
        FormField("holidays", "Holidays", ff.LIST, help="Local dates with no business hours, YYYY-MM-DD, "
                                                        "comma-separated."),
        FormField("holiday_country", "Holiday country", nullable=True,
                  help="An ISO country code: its public holidays (the holidays package)."),
        FormField("holiday_subdivision", "Holiday subdivision", nullable=True),
    ]


def _calendar_rows(session: Session, q: str | None) -> list[Row]:
    found = lookups.everything(calendars.list_calendars, session, q=q)
    return [Row(f"/directory/calendars/{c.id}", [
        c.name, c.timezone, "24/7" if c.hours == "24/7" else ", ".join(sorted(c.hours)),
        str(len(c.holidays or [])), c.holiday_country or "—"]) for c in found]


CALENDARS = Kind(
    slug="calendars", title="SLA calendars", singular="calendar", read="sla:read", write="sla:write",
    audit_type="sla_calendars", columns=["Calendar", "Time zone", "Days", "Holidays", "Country"],
    fields=_calendar_fields, rows=_calendar_rows,
    read_one=lambda s, i: CalendarRead.model_validate(calendars.get_calendar(s, calendar_id=i)).model_dump(),
    create=lambda s, a, v: calendars.create_calendar(s, actor=a, **CalendarCreate.model_validate(v).model_dump()),
    update=lambda s, a, i, v: calendars.update_calendar(
        s, actor=a, calendar_id=i, **CalendarUpdate.model_validate(v).model_dump(exclude_unset=True)),
    defaults={"timezone": "UTC", "hours": '{\n  "mon": [["09:00", "17:00"]],\n  "tue": [["09:00", "17:00"]],\n'
              '  "wed": [["09:00", "17:00"]],\n  "thu": [["09:00", "17:00"]],\n  "fri": [["09:00", "17:00"]]\n}'},
    blurb="Business hours that business-hours SLA targets count in.")


# -- SLA policies ----------------------------------------------------------------------------------------------

MATCH_LISTS = ("priority", "customer_plan", "type", "channel", "component_id", "tags_any")


def _policy_fields(session: Session, creating: bool) -> list[FormField]:
    return [
        FormField("name", "Name"),
        FormField("position", "Position", ff.NUMBER, help="Policies are matched by position, then id; the first "
                                                          "that matches a ticket applies."),
        FormField("active", "Active", ff.BOOL),
        FormField("calendar_id", "Calendar", ff.SELECT, options=lookups.calendar_choices(session), nullable=True,
                  help="Needed by targets counted in business hours."),
        FormField("warning_percent", "Warn at % of the target", ff.NUMBER),
        FormField("description", "Description", ff.TEXTAREA),
        FormField("match.priority", "Match priorities", ff.CHECKS, options=ff.choices(PRIORITIES),
                  help="None ticked: any."),
        FormField("match.customer_plan", "Match plans", ff.CHECKS, options=ff.choices(PLANS)),
        FormField("match.type", "Match ticket types", ff.CHECKS, options=ff.choices(TYPES)),
        FormField("match.channel", "Match channels", ff.CHECKS, options=ff.choices(CHANNELS)),
        FormField("match.component_id", "Match components (ids, and their descendants)", ff.LIST),
        FormField("match.tags_any", "Match tags (any of)", ff.LIST),
        FormField("targets", "Targets", ff.ROWS, blank_rows=3, help="One row per metric and priority.", columns=(
            FormField("metric", "Metric", ff.SELECT, options=ff.choices(METRICS)),
            FormField("priority", "Priority", ff.SELECT, options=ff.choices(PRIORITIES)),
            FormField("minutes", "Minutes", ff.NUMBER),
            FormField("business_hours", "Business hours", ff.BOOL))),
        FormField("pause_statuses", "Clocks pause while", ff.CHECKS,
                  options=ff.choices(("pending_customer", "on_hold"))),
        FormField("on_breach.bump_priority", "On breach: raise the priority", ff.BOOL),
        FormField("on_breach.escalate_tier", "On breach: escalate one tier", ff.BOOL),
        FormField("on_breach.escalate_exclude_types", "…except these types", ff.CHECKS,
                  options=ff.choices(TYPES)),
    ]


def _policy_values(values: dict[str, Any]) -> dict[str, Any]:
    """An empty list in a match means "no constraint" on the form (nothing ticked), as an omitted one does."""
    match = {k: v for k, v in (values.get("match") or {}).items() if v}
    return {**values, "match": match}


def _policy_rows(session: Session, q: str | None) -> list[Row]:
    found = lookups.everything(policies.list_policies, session)
    if q:
        found = [p for p in found if q.lower() in p.name.lower()]
    calendar_names = dict(lookups.calendar_choices(session))
    rows = []
    for p in found:
        read = PolicyRead.model_validate(p)
        match = "; ".join(f"{k.replace('_', ' ')}: {', '.join(map(str, v))}"
                          for k, v in read.match.model_dump().items() if v) or "every ticket"
        rows.append(Row(f"/directory/policies/{p.id}", [
            p.name, str(p.position), _yes(p.active), match,
            calendar_names.get(str(p.calendar_id), "—") if p.calendar_id else "24/7", str(len(p.targets)),
            f"{len(read.warnings)} uncovered" if read.warnings else "—"], muted=not p.active))
    return rows


POLICIES = Kind(
    slug="policies", title="SLA policies", singular="policy", read="sla:read", write="sla:write",
    audit_type="sla_policies", columns=["Policy", "Position", "Active", "Matches", "Calendar", "Targets",
                                        "Warnings"],
    fields=_policy_fields, rows=_policy_rows,
    read_one=lambda s, i: PolicyRead.model_validate(policies.get_policy(s, policy_id=i)).model_dump(),
    create=lambda s, a, v: policies.create_policy(
        s, actor=a, values=PolicyCreate.model_validate(_policy_values(v)).model_dump()),
    update=lambda s, a, i, v: policies.update_policy(
        s, actor=a, policy_id=i, changes=PolicyUpdate.model_validate(_policy_values(v)).model_dump(
            exclude_unset=True)),
    defaults={"position": "0", "active": True, "warning_percent": "75",
              "pause_statuses": ["pending_customer", "on_hold"],
              "on_breach.escalate_exclude_types": ["feature_request"]},
    blurb="Which targets a ticket gets: the first active policy, by position, whose match holds.")


KINDS = (PEOPLE, TEAMS, CUSTOMERS, COMPONENTS, QUEUES, CALENDARS, POLICIES)


# -- the pages -------------------------------------------------------------------------------------------------

def sections(viewer: Viewer) -> list[tuple[str, str]]:
    """The directory's sections the viewer may read, for its side navigation."""
    return [(k.title, k.base) for k in KINDS if viewer.can(k.read)]


def _check(viewer: Viewer, permission: str) -> None:
    if not viewer.can(permission):
        raise Forbidden(f"this page needs the {permission!r} permission")


def _form_page(request: Request, db: Session, viewer: Viewer, kind: Kind, *, record_id: int | None,
               state: FormState, status: int = 200, refusal: Any = None, saved: bool = False,
               title: str = "") -> Response:
    return render(request, "manage_form.html", viewer, status=status, kind=kind, record_id=record_id, state=state,
                  refusal=refusal, saved=saved, sections=sections(viewer), title=title,
                  may_write=viewer.can(kind.write), may_audit=viewer.can("audit:read"))


def _record_title(kind: Kind, record: dict[str, Any]) -> str:
    name = record.get("name") or record.get("email") or f"{kind.singular} {record.get('id')}"
    if kind is COMPONENTS and record.get("path"):
        return " / ".join([*record["path"], name])
    return str(name)


def _install(kind: Kind) -> None:
    read = Annotated[Viewer, page(kind.read, audience=STAFF)]
    write = Annotated[Viewer, page(kind.write, audience=STAFF)]

    def listing(request: Request, db: DB, viewer: read, q: str | None = None) -> Response:
        text = (q or "").strip()[:200] or None
        return render(request, "manage_list.html", viewer, kind=kind, rows=kind.rows(db, text), q=text or "",
                      sections=sections(viewer), may_write=viewer.can(kind.write))

    def new_form(request: Request, db: DB, viewer: write) -> Response:
        fields = kind.fields(db, True)
        values = {**ff.values_of({}, fields), **kind.defaults}
        return _form_page(request, db, viewer, kind, record_id=None, state=FormState(fields, values),
                          title=f"New {kind.singular}")

    def create(request: Request, db: DB, viewer: write, form: Posted) -> Response:
        fields = kind.fields(db, True)
        created, refusal = attempt(db, lambda: kind.create(db, viewer.actor, ff.parse(form, fields)))
        if refusal is None:
            return RedirectResponse(f"{kind.base}/{created.id}?saved=1", status_code=303)
        state = FormState(fields, ff.echo(form, fields), ff.errors_by_field(refusal.fields, fields))
        return _form_page(request, db, viewer, kind, record_id=None, state=state, status=refusal.status,
                          refusal=refusal, title=f"New {kind.singular}")

    def edit_form(request: Request, record_id: Id, db: DB, viewer: read, saved: bool = False) -> Response:
        record = kind.read_one(db, record_id)
        fields = kind.fields(db, False)
        return _form_page(request, db, viewer, kind, record_id=record_id,
                          state=FormState(fields, ff.values_of(record, fields)), saved=saved,
                          title=_record_title(kind, record))

    def update(request: Request, record_id: Id, db: DB, viewer: write, form: Posted) -> Response:
        fields = kind.fields(db, False)
        _, refusal = attempt(db, lambda: kind.update(db, viewer.actor, record_id, ff.parse(form, fields)))
        if refusal is None:
            return RedirectResponse(f"{kind.base}/{record_id}?saved=1", status_code=303)
        state = FormState(fields, ff.echo(form, fields), ff.errors_by_field(refusal.fields, fields))
        return _form_page(request, db, viewer, kind, record_id=record_id, state=state, status=refusal.status,
                          refusal=refusal, title=_record_title(kind, kind.read_one(db, record_id)))

    router.add_api_route(kind.base, listing, methods=["GET"])
    router.add_api_route(f"{kind.base}/new", new_form, methods=["GET"])
    router.add_api_route(f"{kind.base}/new", create, methods=["POST"])
    router.add_api_route(f"{kind.base}/{{record_id}}", edit_form, methods=["GET"])
    router.add_api_route(f"{kind.base}/{{record_id}}", update, methods=["POST"])


for _kind in KINDS:
    _install(_kind)


@router.get("/directory")
def directory(viewer: Annotated[Viewer, page(None, audience=STAFF)]) -> Response:
    """The first section the viewer may read."""
    found = sections(viewer)
    if not found:
        raise Forbidden("the directory needs a read permission of people, teams, customers, components, "
                        "queues or SLA")
    return RedirectResponse(found[0][1], status_code=303)
