"""Capacity-based SLA targets, the service: compute a run from last quarter, store it, list it, apply one.

For the quarter asked, from the quarter before it, per priority and metric (first_response, resolution):
the policy that applies (the active one that timed most of that priority's tickets, else the first matching
a bare ticket of that priority), its current target, the rate achieved (the quarter's SLA clocks), the unit
of time (the policy's calendar, a given one, or calendar minutes), and the recommendation with every input
that drove it. The maths is in capacity/erlang.py and capacity/targets.py; the inputs come from
capacity/inputs.py. A run stores one audited row per priority and metric; applying a row writes its minutes
into the policy's target, explicitly and audited, once.
"""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import Session

from tierline.capacity import targets as capacity_targets
from tierline.capacity.inputs import Capacity, Quarter, gather, parse_quarter, staffing
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


# -- current targets and achieved rates -------------------------------------------------------------------

def _in_quarter(stmt: Any, quarter: Quarter, team_id: int | None) -> Any:
    stmt = stmt.where(Ticket.created_at >= quarter.start, Ticket.created_at < quarter.end)
    return stmt if team_id is None else stmt.where(Ticket.team_id == team_id)


def policy_for(session: Session, *, quarter: Quarter, priority: str, metric: str, team_id: int | None,
               ) -> tuple[SlaPolicy | None, str]:
    """The active policy that timed most of the quarter's tickets of this priority for this metric; else
    the first active policy matching a ticket of that priority with no other traits."""
    active = policies.active_policies(session)
    by_id = {p.id: p for p in active}
    stmt = _in_quarter(select(SlaClock.policy_id, func.count()).join(Ticket, Ticket.id == SlaClock.ticket_id)
                       .where(SlaClock.metric == metric, Ticket.priority == priority)
                       .group_by(SlaClock.policy_id), quarter, team_id)
    counts = sorted(((n, pid) for pid, n in session.execute(stmt) if pid in by_id),
                    key=lambda x: (-x[0], by_id[x[1]].position, x[1]))
    if counts:
        return by_id[counts[0][1]], f"the active policy that timed most {priority} tickets of {quarter.label}"
    traits = {"priority": priority, "type": None, "channel": None, "customer_plan": None, "tags": []}
    for policy in active:
        if policies.matches(policy, traits, set()):
            return policy, f"the first active policy matching a {priority} ticket with no other facts"
    return None, "no active policy applies"


def achieved(session: Session, *, quarter: Quarter, priority: str, metric: str, team_id: int | None
             ) -> dict[str, Any]:
    """Targets of this priority and metric decided (achieved or breached) in the quarter, as the compliance
    report counts them."""
    decided = or_(and_(SlaClock.achieved_at >= quarter.start, SlaClock.achieved_at < quarter.end),
                  and_(SlaClock.breached_at >= quarter.start, SlaClock.breached_at < quarter.end))
    stmt = (select(SlaClock.status, func.count()).join(Ticket, Ticket.id == SlaClock.ticket_id)
            .where(decided, SlaClock.metric == metric, Ticket.priority == priority).group_by(SlaClock.status))
    if team_id is not None:
        stmt = stmt.where(Ticket.team_id == team_id)
    counts = dict(session.execute(stmt).all())
    breached = counts.get("breached", 0)
    met = sum(n for status, n in counts.items() if status != "breached")
    total = met + breached
    return {"achieved": met, "breached": breached,
            "percent": round(100.0 * met / total, 2) if total else None,
            "rule": f"{metric} targets of {priority} tickets achieved or breached in {quarter.label} "
                    "(sla_clocks)"}


# -- the service ------------------------------------------------------------------------------------------

def _check_inputs(session: Session, quarter: str, service_level: float, team_id: int | None,
                  calendar_id: int | None) -> tuple[Quarter, BusinessCalendarRecord | None]:
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
    if errors:
        raise Invalid(errors=errors)
    return asked, record


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
            team_id: int | None = None, calendar_id: int | None = None) -> list[SlaRecommendation]:
    """Compute and store one run: a recommendation per priority and metric, each audited."""
    asked, given = _check_inputs(session, quarter, service_level, team_id, calendar_id)
    observed = asked.previous()
    staff = staffing(session, team_id=team_id)
    gathered: dict[int | None, Capacity] = {}
    run_id, now = uuid.uuid4().hex, clock.now()
    rows = []
    for priority in PRIORITIES:
        for metric in METRICS:
            policy, policy_rule = policy_for(session, quarter=observed, priority=priority, metric=metric,
                                             team_id=team_id)
            target = policies.target_for(policy, metric, priority) if policy is not None else None
            record = _unit_calendar(session, policy, target, given)
            key = record.id if record is not None else None
            if key not in gathered:
                gathered[key] = gather(session, quarter=observed, team_id=team_id, calendar=record,
                                       staff=staff)
            cap = gathered[key]
            if metric == "first_response":
                minutes, detail = capacity_targets.first_response(
                    cap, priority, service_level, target if _same_unit(policy, target, cap) else None)
            else:
                minutes, detail = capacity_targets.resolution(cap, priority, service_level)
            rate = achieved(session, quarter=observed, priority=priority, metric=metric, team_id=team_id)
            inputs = {
                "quarter": asked.label, **cap.describe(), "metric": metric, "priority": priority,
                "policy": None if policy is None else {"id": policy.id, "name": policy.name,
                                                       "rule": policy_rule},
                "current_target": target, "achieved": rate, **detail,
            }
            inputs["summary"] = capacity_targets.summary(metric, minutes, inputs)
            row = SlaRecommendation(
                run_id=run_id, quarter=asked.label, service_level=float(service_level), team_id=team_id,
                priority=priority, metric=metric, policy_id=policy.id if policy is not None else None,
                current_minutes=float(target["minutes"]) if target else None,
                current_business_hours=bool(target.get("business_hours")) if target else None,
                recommended_minutes=minutes, business_hours=cap.unit.business_hours,
                calendar_id=cap.unit.calendar_id, achieved_percent=rate["percent"],
                inputs=audit.jsonable(inputs),
                created_at=now, updated_at=now)
            session.add(row)
            rows.append(row)
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
