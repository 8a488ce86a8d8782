"""Pages: triage rules. The list in the order they run (move a rule up or down, switch it on or off), the
editor (conditions and actions as rows, validated by the API's own rules and refused inline by row and cell),
and "try it": intake's explain (POST /api/v1/triage/explain) on a pasted ticket, so a manager sees which rules
fire and what they do before a real ticket meets them.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.orm import Session
from starlette.datastructures import FormData

from tierline.flows import intake
from tierline.platform.deps import DB, ReadDB
from tierline.platform.schemas import Id
from tierline.tickets.schemas import TicketCreate
from tierline.triage import conditions as conditions_mod
from tierline.triage import rules
from tierline.triage.models import TRIGGERS
from tierline.triage.schemas import RuleCreate, RuleRead, RuleUpdate
from tierline.web import form_fields as ff
from tierline.web import lookups, present, rule_form
from tierline.web.form_fields import FormState
from tierline.web.frame import Refusal, Viewer, attempt, page, render

router = APIRouter(include_in_schema=False)
STAFF = "staff"
CHANNELS = ("email", "web", "api", "chat", "phone")
SAMPLE = {"requester_email": "", "subject": "", "description": "", "error_code": "", "channel": "email"}


async def _posted(request: Request) -> FormData:
    return await request.form()


Posted = Annotated[FormData, Depends(_posted)]


# -- try it: intake's explain on a pasted ticket ---------------------------------------------------------------

def _explained(db: Session, record: Mapping[str, Any]) -> dict[str, Any]:
    """What the explain record says, as the panel shows it: the rules that fired, their actions, where the
    ticket would go."""
    shown = present.triage_record(record) or {}
    queues = present.queue_names(db)
    teams = lookups.team_names(db)
    candidate = record.get("assignee_candidate") or {}
    names = present.people(db) if isinstance(candidate, Mapping) and candidate.get("user_id") else {}
    policy = record.get("sla_policy") or {}
    problem = record.get("problem") or {}
    return {
        "rules": [{"id": m.get("rule_id"), "name": m.get("name"),
                   "why": "; ".join(f"{c.get('field')} {str(c.get('op', '')).replace('_', ' ')} "
                                    f"{rule_form._text(c.get('value'))}".strip()
                                    for c in m.get("conditions") or [] if isinstance(c, Mapping)) or "always"}
                  for m in record.get("matched_rules") or [] if isinstance(m, Mapping)],
        "actions": [{"type": str(a.get("type", "")).replace("_", " "), "value": rule_form._text(a.get("value")),
                     "applied": a.get("applied"), "note": a.get("note") or ""}
                    for a in record.get("actions") or [] if isinstance(a, Mapping)],
        "queue": queues.get(record.get("queue") or 0, "—"), "tier": record.get("tier") or "—",
        "team": teams.get(record.get("team") or 0, "—"),
        "assignee": names.get(candidate.get("user_id"), "") if isinstance(candidate, Mapping) else "",
        "assignment": shown.get("assignment", "—"), "impact": shown.get("impact_score"),
        "impact_parts": shown.get("impact_parts", []), "predictions": shown.get("predictions", []),
        "policy": policy.get("name") if isinstance(policy, Mapping) else None,
        "problem": problem.get("problem_key") if isinstance(problem, Mapping) else None,
        "signature": record.get("signature") or "",
    }


def _explain(db: Session, viewer: Viewer, sample: dict[str, str]) -> tuple[dict[str, Any] | None, Refusal | None]:
    def run() -> dict[str, Any]:
        data = TicketCreate.model_validate({k: v for k, v in sample.items() if v})
        return _explained(db, intake.explain(db, actor=viewer.actor, data=data))

    return attempt(db, run)


@router.post("/rules/try")
def try_it(request: Request, reads: ReadDB, viewer: Annotated[Viewer, page("triage:read", audience=STAFF)],
           requester_email: Annotated[str, Form(max_length=320)] = "",
           subject: Annotated[str, Form(max_length=500)] = "",
           description: Annotated[str, Form(max_length=100_000)] = "",
           error_code: Annotated[str, Form(max_length=100)] = "",
           channel: Annotated[str, Form(max_length=20)] = "email") -> Response:
    """Explain the pasted ticket with the rules as saved now; nothing is written (a read session)."""
    sample = {"requester_email": requester_email.strip(), "subject": subject.strip(),
              "description": description.strip(), "error_code": error_code.strip(), "channel": channel.strip()}
    result, refusal = _explain(reads, viewer, sample)
    # htmx swaps in the result alone; without JavaScript the result comes back on the rules page.
    page_context = {} if request.headers.get("HX-Request") else _list_context(reads, viewer)
    return render(request, "rules.html", viewer, fragment="_explain.html", status=refusal.status if refusal else 200,
                  explain=result, explain_refusal=refusal, sample=sample, **page_context)


# -- the list --------------------------------------------------------------------------------------------------

def _list_context(db: Session, viewer: Viewer) -> dict[str, Any]:
    found = lookups.everything(rules.list_, db)
    components = {int(k): v.strip() for k, v in lookups.component_choices(db)}
    names = {"component": components, "set_component": components, "set_queue": present.queue_names(db),
             "set_team": lookups.team_names(db), "assign_to": present.people(db)}
    groups = []
    for trigger in TRIGGERS:
        mine = [r for r in found if r.trigger == trigger]
        rows = []
        for i, r in enumerate(mine):
            conditions, actions = rule_form.summary(r, names)
            rows.append({"id": r.id, "name": r.name, "position": r.position, "active": r.active,
                         "stop": r.stop_processing, "conditions": conditions, "actions": actions,
                         "first": i == 0, "last": i == len(mine) - 1})
        groups.append({"trigger": trigger, "label": f"When {rule_form.TRIGGER_LABELS[trigger]}", "rows": rows})
    return {"groups": groups, "may_write": viewer.can("triage:write"), "channels": CHANNELS}


@router.get("/rules")
def rules_page(request: Request, db: DB, viewer: Annotated[Viewer, page("triage:read", audience=STAFF)]
               ) -> Response:
    return render(request, "rules.html", viewer, explain=None, explain_refusal=None, sample=SAMPLE,
                  **_list_context(db, viewer))


@router.post("/rules/{rule_id}/move")
def move_rule(rule_id: Id, db: DB, viewer: Annotated[Viewer, page("triage:write", audience=STAFF)],
              direction: Annotated[Literal["up", "down"], Form()]) -> Response:
    rules.move(db, actor=viewer.actor, rule_id=rule_id, offset=-1 if direction == "up" else 1)
    return RedirectResponse(f"/rules#rule-{rule_id}", status_code=303)


@router.post("/rules/{rule_id}/active")
def switch_rule(rule_id: Id, db: DB, viewer: Annotated[Viewer, page("triage:write", audience=STAFF)],
                active: Annotated[Literal["true", "false"], Form()]) -> Response:
    rules.update(db, actor=viewer.actor, rule_id=rule_id, changes={"active": active == "true"})
    return RedirectResponse(f"/rules#rule-{rule_id}", status_code=303)


# -- the editor ------------------------------------------------------------------------------------------------

def _editor(request: Request, db: Session, viewer: Viewer, *, rule_id: int | None, state: FormState,
            title: str, status: int = 200, refusal: Refusal | None = None, saved: bool = False,
            sample: dict[str, str] | None = None, explain: dict[str, Any] | None = None) -> Response:
    return render(request, "rule.html", viewer, status=status, rule_id=rule_id, state=state, title=title,
                  refusal=refusal, saved=saved, may_write=viewer.can("triage:write"),
                  may_audit=viewer.can("audit:read"), sample=sample or SAMPLE, explain=explain,
                  explain_refusal=None, channels=CHANNELS, condition_fields=rule_form.CONDITION_FIELDS,
                  enum_values=conditions_mod.ENUM_VALUES, queues=lookups.queue_choices(db),
                  teams=lookups.teams(db), components=lookups.component_choices(db))


@router.get("/rules/new")
def new_rule(request: Request, db: DB, viewer: Annotated[Viewer, page("triage:write", audience=STAFF)]
             ) -> Response:
    values = rule_form.to_form({"position": 0, "active": True})
    return _editor(request, db, viewer, rule_id=None, state=FormState(rule_form.fields(), values), title="New rule")


@router.post("/rules/new")
def create_rule(request: Request, db: DB, viewer: Annotated[Viewer, page("triage:write", audience=STAFF)],
                form: Posted) -> Response:
    fields = rule_form.fields()

    def create() -> Any:
        body = RuleCreate.model_validate(rule_form.from_form(ff.parse(form, fields)))
        return rules.create(db, actor=viewer.actor, **body.model_dump())

    created, refusal = attempt(db, create)
    if refusal is None:
        return RedirectResponse(f"/rules/{created.id}?saved=1", status_code=303)
    state = FormState(fields, ff.echo(form, fields), ff.errors_by_field(refusal.fields, fields))
    return _editor(request, db, viewer, rule_id=None, state=state, title="New rule", status=refusal.status,
                   refusal=refusal)


@router.get("/rules/{rule_id}")
def edit_rule(request: Request, rule_id: Id, db: DB,
              viewer: Annotated[Viewer, page("triage:read", audience=STAFF)], saved: bool = False) -> Response:
    rule = RuleRead.model_validate(rules.get(db, rule_id=rule_id)).model_dump()
    return _editor(request, db, viewer, rule_id=rule_id, state=FormState(rule_form.fields(), rule_form.to_form(rule)),
                   title=rule["name"], saved=saved)


@router.post("/rules/{rule_id}")
def update_rule(request: Request, rule_id: Id, db: DB,
                viewer: Annotated[Viewer, page("triage:write", audience=STAFF)], form: Posted) -> Response:
    """The whole rule as the form holds it: the service validates the rule as it will be after the change."""
    fields = rule_form.fields()

    def update() -> Any:
        body = RuleUpdate.model_validate(rule_form.from_form(ff.parse(form, fields)))
        return rules.update(db, actor=viewer.actor, rule_id=rule_id, changes=body.model_dump(exclude_unset=True))

    _, refusal = attempt(db, update)
    if refusal is None:
        return RedirectResponse(f"/rules/{rule_id}?saved=1", status_code=303)
    state = FormState(fields, ff.echo(form, fields), ff.errors_by_field(refusal.fields, fields))
    title = rules.get(db, rule_id=rule_id).name
    return _editor(request, db, viewer, rule_id=rule_id, state=state, title=title, status=refusal.status,
                   refusal=refusal)
