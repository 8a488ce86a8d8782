"""Capacity-based SLA targets, the service: compute a run from last quarter, store it, list it, apply one.

For the quarter asked, from the quarter before it, per active SLA policy, priority and metric (first_response,
resolution): the policy's current target, the rate achieved (the quarter's SLA clocks of that policy), the
unit of time (the policy's calendar, a given one, or calendar minutes), and the recommendation with every
input that drove it. The maths is in capacity/erlang.py and capacity/targets.py; the inputs come from
capacity/inputs.py (working time: capacity/work.py; people on shift: capacity/shifts.py). A run stores one
audited row per policy, priority and metric; applying a row writes its minutes into the policy's target,
explicitly and audited, once.
"""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import Session

from tierline.capacity import targets as capacity_targets
from tierline.capacity.inputs import (
    Capacity,
    History,
    Quarter,
    gather,
    parse_quarter,
    read_records,
    staffing_now,
    staffing_then,
)
from tierline.capacity.shifts import DEFAULT_SHIFT, Shift, parse_shift
from tierline.capacity.models import SlaRecommendation
from tierline.people import service as people_service
from tierline.platform import audit, clock
from tierline.platform.auth.actor import Actor
from tierline.platform.errors import Conflict, Invalid, NotFound
from tierline.platform.pagination import SortKey, paginate
from tierline.sla import calendars, policies
from tierline.sla.models import BusinessCalendarRecord, SlaClock, SlaPolicy
from tierline.tickets.models import PRIORITIES, Ticket

METRICS = ("first_response", "resolution")


# -- policies and achieved rates ----------------------------------------------------------------------

def policies_to_cover(session: Session) -> list[SlaPolicy | None]:
    """Every active policy, in the order they are matched; [None] when there is none (the plan still says
    what the tickets show, and why nothing can be applied)."""
    return list(policies.active_policies(session)) or [None]


def achieved(session: Session, *, quarter: Quarter, policy_id: int | None, priority: str, metric: str,
             team_id: int | None) -> dict[str, Any]:
    """Targets of this policy, priority and metric decided in the quarter, as the compliance report counts
    them: breached if it breached there (a breach stays a fact, whatever the clock's status now), met if
    achieved there without a breach."""
    if policy_id is None:
        return {"achieved": 0, "breached": 0, "percent": None, "rule": "no policy: no targets were timed"}
    where = [SlaClock.policy_id == policy_id, SlaClock.metric == metric, Ticket.priority == priority]
    if team_id is not None:
        where.append(Ticket.team_id == team_id)
    breached_in = and_(SlaClock.breached_at >= quarter.start, SlaClock.breached_at < quarter.end)
    met_in = and_(SlaClock.achieved_at >= quarter.start, SlaClock.achieved_at < quarter.end,
                  SlaClock.breached_at.is_(None))
    stmt = (select(func.count().filter(breached_in), func.count().filter(met_in))
            .join(Ticket, Ticket.id == SlaClock.ticket_id).where(*where, or_(breached_in, met_in)))
    breached, met = (int(n or 0) for n in session.execute(stmt).one())
    total = met + breached
    return {"achieved": met, "breached": breached,
            "percent": round(100.0 * met / total, 2) if total else None,
            "rule": f"{metric} targets of the policy's {priority} tickets achieved or breached in "
                    f"{quarter.label} (sla_clocks; a clock that breached counts as breached)"}


# -- the service ------------------------------------------------------------------------------------------

def _check_inputs(session: Session, quarter: str, service_level: float, team_id: int | None,
                  calendar_id: int | None, shift: str) -> tuple[Quarter, BusinessCalendarRecord | None, Shift]:
    errors: list[tuple[str, str]] = []
    asked = None
    try:
        asked = parse_quarter(quarter)
    except Invalid as exc:
        errors += [(e["field"], e["message"]) for e in exc.extra["errors"]]
    if not isinstance(service_level, (int, float)) or not 0 < service_level < 1:
        errors.append(("service_level", "must lie strictly between 0 and 1, e.g. 0.9"))
    if team_id is not None:
        try:
            people_service.get_team(session, team_id=team_id)
        except NotFound:
            errors.append(("team_id", f"team {team_id} does not exist"))
    record = None
    if calendar_id is not None:
        try:
            record = calendars.get_calendar(session, calendar_id=calendar_id)
        except NotFound:
            errors.append(("calendar_id", f"calendar {calendar_id} does not exist"))
    shift_spec = None
    try:
        shift_spec = parse_shift(shift)
    except Invalid as exc:
        errors += [(e["field"], e["message"]) for e in exc.extra["errors"]]
    if errors:
        raise Invalid(errors=errors)
    return asked, record, shift_spec


def _unit_calendar(session: Session, policy: SlaPolicy | None, target: dict[str, Any] | None,
                   given: BusinessCalendarRecord | None) -> BusinessCalendarRecord | None:
    """A given calendar wins; else the policy's, unless the current target runs in calendar minutes."""
    if given is not None:
        return given
    if policy is None or policy.calendar_id is None:
        return None
    if target is not None and not target.get("business_hours"):
        return None
    return calendars.get_calendar(session, calendar_id=policy.calendar_id)


def _same_unit(policy: SlaPolicy | None, target: dict[str, Any] | None, cap: Capacity) -> bool:
    """Whether the current target is measured in the computation's unit (so the model can judge it)."""
    if policy is None or target is None or bool(target.get("business_hours")) != cap.unit.business_hours:
        return False
    return not cap.unit.business_hours or policy.calendar_id == cap.unit.calendar_id


def compute(session: Session, *, actor: Actor, quarter: str, service_level: float = 0.9,
            team_id: int | None = None, calendar_id: int | None = None, shift: str = DEFAULT_SHIFT,
            reads: Session | None = None) -> list[SlaRecommendation]:
    """Compute and store one run: a recommendation per active policy, priority and metric, each audited.

    Everything is computed on `reads` (the request's read session; from the CLI the same session) and only
    the rows and their audit events are written on `session`: no write lock is held while the plan computes."""
    reads = session if reads is None else reads
    asked, given, shift_spec = _check_inputs(reads, quarter, service_level, team_id, calendar_id, shift)
    observed = asked.previous()
    records = read_records(reads, quarter=observed, team_id=team_id)
    now_staff = staffing_now(reads, team_id=team_id)
    # Who did last quarter's work: the people holding its solved tickets.
    then_staff = staffing_then(reads, user_ids=(r[5] for r in records.rows if r[5] is not None and r[4]))
    gathered: dict[int | None, History] = {}
    run_id, now = uuid.uuid4().hex, clock.now()
    active = policies_to_cover(reads)
    covered = {p.id for p in active if p is not None}
    uncovered = sum(1 for r in records.rows if r[6] not in covered)
    rows = []
    for policy in active:
        policy_id = None if policy is None else policy.id
        caps: dict[int | None, Capacity] = {}
        for priority in PRIORITIES:
            for metric in METRICS:
                target = policies.target_for(policy, metric, priority) if policy is not None else None
                record = _unit_calendar(reads, policy, target, given)
                key = record.id if record is not None else None
                if key not in gathered:
                    gathered[key] = gather(records, quarter=observed, team_id=team_id, calendar=record)
                if key not in caps:
                    caps[key] = gathered[key].for_policy(policy_id, now=now_staff, then=then_staff,
                                                         shift=shift_spec)
                cap = caps[key]
                rate = achieved(reads, quarter=observed, policy_id=policy_id, priority=priority, metric=metric,
                                team_id=team_id)
                comparable = target if _same_unit(policy, target, cap) else None
                plan = (capacity_targets.first_response if metric == "first_response"
                        else capacity_targets.resolution)
                minutes, detail = plan(cap, priority, service_level, comparable, rate["percent"])
                inputs = {
                    "quarter": asked.label, **cap.describe(), "metric": metric, "priority": priority,
                    "policy": None if policy is None else {
                        "id": policy.id, "name": policy.name, "position": policy.position,
                        "rule": "every active policy is planned for, each from the tickets it timed"},
                    "tickets_without_an_active_policy": uncovered,
                    "current_target": target, "current_target_comparable": comparable is not None,
                    "achieved": rate, **detail,
                }
                inputs["summary"] = capacity_targets.summary(metric, minutes, inputs)
                rows.append(SlaRecommendation(
                    run_id=run_id, quarter=asked.label, service_level=float(service_level), team_id=team_id,
                    priority=priority, metric=metric, policy_id=policy_id,
                    current_minutes=float(target["minutes"]) if target else None,
                    current_business_hours=bool(target.get("business_hours")) if target else None,
                    recommended_minutes=minutes, business_hours=cap.unit.business_hours,
                    calendar_id=cap.unit.calendar_id, achieved_percent=rate["percent"],
                    inputs=audit.jsonable(inputs), created_at=now, updated_at=now))
    session.add_all(rows)
    session.flush()
    for row in rows:
        audit.record_create(session, actor, row)
    return rows


def get(session: Session, *, recommendation_id: int) -> SlaRecommendation:
    row = session.get(SlaRecommendation, recommendation_id)
    if row is None:
        raise NotFound(f"SLA recommendation {recommendation_id} does not exist")
    return row


def list_(session: Session, *, quarter: str | None = None, priority: str | None = None,
          metric: str | None = None, applied: bool | None = None, team_id: int | None = None,
          policy_id: int | None = None, run_id: str | None = None, limit: int | None = None,
          cursor: str | None = None) -> tuple[list[SlaRecommendation], str | None]:
    """Stored recommendations, newest first."""
    stmt = select(SlaRecommendation)
    if quarter is not None:
        stmt = stmt.where(SlaRecommendation.quarter == parse_quarter(quarter).label)
    for column, value in ((SlaRecommendation.priority, priority), (SlaRecommendation.metric, metric),
                          (SlaRecommendation.team_id, team_id), (SlaRecommendation.policy_id, policy_id),
                          (SlaRecommendation.run_id, run_id)):
        if value is not None:
            stmt = stmt.where(column == value)
    if applied is not None:
        stmt = stmt.where(SlaRecommendation.applied_at.is_not(None) if applied
                          else SlaRecommendation.applied_at.is_(None))
    return paginate(session, stmt, keys=[SortKey(SlaRecommendation.id, descending=True)], limit=limit,
                    cursor=cursor)


def apply(session: Session, *, actor: Actor, recommendation_id: int) -> SlaRecommendation:
    """Write the recommended minutes into the policy's target for that metric and priority (audited as a
    policy update) and stamp the recommendation as applied (audited). A recommendation applies once."""
    row = session.get(SlaRecommendation, recommendation_id, with_for_update=True)
    if row is None:
        raise NotFound(f"SLA recommendation {recommendation_id} does not exist")
    if row.applied_at is not None:
        raise Conflict(f"SLA recommendation {row.id} was already applied at {row.applied_at.isoformat()}",
                       allowed=[])
    if row.recommended_minutes is None:
        raise Conflict(f"SLA recommendation {row.id} recommends nothing: "
                       f"{row.inputs.get('reason', 'no target could be computed')}", allowed=[])
    if row.policy_id is None:
        raise Conflict(f"no SLA policy applied to {row.priority} tickets when this was computed; create one",
                       allowed=[])
    policy = policies.get_policy(session, policy_id=row.policy_id)
    if row.business_hours and (row.calendar_id is None or policy.calendar_id != row.calendar_id):
        raise Conflict(f"this recommendation is in business minutes of calendar {row.calendar_id} (null: "
                       f"deleted since), but policy {policy.name!r} uses calendar {policy.calendar_id}; "
                       "compute again", allowed=[])
    if row.recommended_minutes > capacity_targets.MAX_TARGET_MINUTES:
        raise Conflict(f"{row.recommended_minutes:g} minutes is beyond what a target may hold", allowed=[])
    old_target = policies.target_for(policy, row.metric, row.priority)
    new_target = {"metric": row.metric, "priority": row.priority, "minutes": row.recommended_minutes,
                  "business_hours": row.business_hours}
    targets = [new_target if t is old_target else dict(t) for t in policy.targets]
    if old_target is None:
        targets.append(new_target)
    policies.update_policy(session, actor=actor, policy_id=policy.id, changes={"targets": targets})
    before = audit.snapshot(row)
    row.applied_at = row.updated_at = clock.now()
    row.applied_by = actor.user_id
    audit.record(session, actor, "sla_recommendations.apply", row,
                 changes={**audit.diff(before, audit.snapshot(row)),
                          "policy_target": [dict(old_target) if old_target else None, new_target]})
    return row
