"""Capacity-based SLA targets: compute them from last quarter, store them with their inputs, apply one.

Per priority, for the quarter asked (from the quarter before it):
- first response: the answer time the staffing meets at the asked service level, by Erlang C on a busy
  staffed hour. Servers are open-ticket slots (agents x max_open_tickets), handle time is first touch to
  solve (an estimate until time tracking exists). Agents take the most urgent work first, so a P3 ticket
  queues behind P1-P3 work only: its queue carries the load of its own and the more urgent priorities on all
  slots (the usual approximation of priority queueing). The busy hour is the 90th-percentile staffed hour
  of the week by that load's arrival rate (nearest rank).
- resolution: the asked service level's percentile (nearest rank, so an observed value) of the resolution
  minutes of that priority's tickets created in the busy hours (staffed hours at or above the 75th
  percentile of all arrivals), when at least MIN_TICKETS such tickets exist; else of all its tickets.
Each is shown beside the current target (of the policy that applied to most of the quarter's tickets of
that priority) and the rate achieved in the quarter (its SLA clocks), with every input that drove it.
"""

from __future__ import annotations

import math
import statistics
import uuid
from collections import Counter
from typing import Any

from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import Session

from tierline.people import service as people_service
from tierline.platform import audit, clock
from tierline.platform.auth.actor import Actor
from tierline.platform.errors import Conflict, Invalid, NotFound
from tierline.platform.pagination import SortKey, paginate
from tierline.sla import calendars, erlang, policies
from tierline.sla.capacity import Capacity, Quarter, Staffing, gather, hour_label, parse_quarter, staffing
from tierline.sla.models import BusinessCalendarRecord, SlaClock, SlaPolicy, SlaRecommendation
from tierline.tickets.models import PRIORITIES, Ticket

METRICS = ("first_response", "resolution")
BUSY_HOUR_PERCENTILE = 0.9
UNDER_LOAD_PERCENTILE = 0.75
MIN_TICKETS = 5
MAX_TARGET_MINUTES = 525_600  # what a policy target may hold


def _r(value: float | None, digits: int = 6) -> float | None:
    return None if value is None else round(float(value), digits)


def nearest_rank(values: list[float], q: float) -> float | None:
    """The q-quantile by nearest rank: an observed value, the smallest with at least q of values <= it."""
    if not values:
        return None
    ordered = sorted(values)
    return ordered[max(0, math.ceil(q * len(ordered)) - 1)]


def _observed(values: list[float]) -> dict[str, Any]:
    return {"samples": len(values), "p50": _r(nearest_rank(values, 0.5)), "p75": _r(nearest_rank(values, 0.75)),
            "p90": _r(nearest_rank(values, 0.9)), "p95": _r(nearest_rank(values, 0.95)),
            "mean": _r(statistics.fmean(values)) if values else None}


def _busy_hour(rates: dict[int, float], q: float) -> int | None:
    if not rates:
        return None
    ordered = sorted(rates, key=lambda b: (rates[b], b))
    return ordered[max(0, math.ceil(q * len(ordered)) - 1)]


# -- first response: Erlang C -----------------------------------------------------------------------------

def _handle_times(cap: Capacity, classes: tuple[str, ...]) -> tuple[dict[str, float], dict[str, Any]]:
    """Mean handle minutes per priority; a priority without samples borrows the mean of all tickets."""
    everyone = [s.handle for s in cap.samples if s.handle is not None]
    overall = statistics.fmean(everyone) if everyone else None
    means, detail = {}, {}
    for p in classes:
        own = [s.handle for s in cap.of_priority(p) if s.handle is not None]
        if own:
            means[p] = statistics.fmean(own)
        elif overall is not None:
            means[p] = overall
        detail[p] = {"samples": len(own), "mean_minutes": _r(means.get(p)),
                     "borrowed_from_all_priorities": not own and overall is not None}
    return means, {"by_priority": detail, "mean_minutes_all_priorities": _r(overall), "samples_all": len(everyone),
                   "estimate": True,
                   "definition": f"{cap.unit.name.replace('_', ' ')} from the first agent touch (first_response_at)"
                                 " to solved_at: an estimate until time tracking exists; it includes time spent "
                                 "waiting on the customer, which max_open_tickets slots make up for"}


def first_response(cap: Capacity, priority: str, level: float, current: dict[str, Any] | None
                   ) -> tuple[float | None, dict[str, Any]]:
    """(recommended minutes or None, inputs)."""
    classes = PRIORITIES[:PRIORITIES.index(priority) + 1]
    own = len(cap.of_priority(priority))
    inputs: dict[str, Any] = {
        "model": "Erlang C (M/M/N): P(wait <= t) = 1 - Pw * exp(-(N - A) * t / AHT)",
        "queue": list(classes),
        "queue_rule": f"agents take the most urgent work first, so {priority} tickets wait behind "
                      f"{'-'.join((classes[0], classes[-1])) if len(classes) > 1 else classes[0]} work only",
        "service_level": level, "tickets_of_priority": own,
    }
    aht, inputs["handle_time"] = _handle_times(cap, classes)
    rates = {p: cap.rates([p]) for p in classes}
    total = {b: sum(rates[p][b] for p in classes) for b in cap.staffed_buckets()}
    busy = _busy_hour(total, BUSY_HOUR_PERCENTILE)
    servers = cap.servers
    inputs["servers"] = servers
    inputs["busy_hour_rule"] = (f"the {int(BUSY_HOUR_PERCENTILE * 100)}th-percentile hour of the week (nearest "
                                f"rank) among the {len(total)} staffed ones, by arrivals per open hour of "
                                f"{', '.join(classes)}")
    if own < MIN_TICKETS:
        return None, {**inputs, "reason": f"too few {priority} tickets in {cap.quarter.label} ({own}; at least "
                                          f"{MIN_TICKETS} are needed)"}
    if busy is None:
        return None, {**inputs, "reason": f"the calendar has no open hours in {cap.quarter.label}"}
    if not aht:
        return None, {**inputs, "reason": "no ticket of the quarter has both a first agent touch and a solve, so "
                                          "there is no handle time"}
    by_class = {p: rates[p][busy] for p in classes}
    rate = sum(by_class.values())
    traffic = sum(by_class[p] * aht[p] / 60.0 for p in classes)
    mean_aht = traffic * 60.0 / rate if rate > 0 else None
    inputs["busy_hour"] = {"hour_of_week": busy, "label": hour_label(busy), "timezone": cap.unit.timezone,
                           "arrivals_per_hour": _r(rate), "arrivals_per_hour_by_priority":
                           {p: _r(v) for p, v in by_class.items()}, "open_hours_in_quarter": _r(cap.open_hours[busy])}
    inputs.update({"offered_load_erlangs": _r(traffic), "aht_minutes": _r(mean_aht)})
    if servers == 0:
        return None, {**inputs, "reason": "no active, available agent (with an agent role) is on duty"}
    if rate == 0:
        inputs.update({"probability_of_waiting": 0.0, "answer_time_minutes": 0.0,
                       "note": "the busy hour saw no arrivals of this queue: capacity is free whenever one comes"})
        return 1.0, _versus_current(inputs, cap, current, servers, 0.0, None, level)
    pw = erlang.erlang_c(servers, traffic)
    inputs["probability_of_waiting"] = _r(pw)
    if not erlang.is_stable(servers, traffic):
        return None, {**_versus_current(inputs, cap, current, servers, traffic, mean_aht, level),
                      "reason": f"unstable: {traffic:.2f} Erlangs of work meet {servers} slots in the busy hour, "
                                "so the queue grows without bound; no first-response target is met until "
                                "staffing grows"}
    t = erlang.answer_time(servers, traffic, mean_aht, level)
    inputs["answer_time_minutes"] = _r(t)
    inputs["mean_wait_minutes"] = _r(erlang.mean_wait(servers, traffic, mean_aht))
    observed = [s.first_response for s in cap.of_priority(priority) if s.first_response is not None]
    inputs["observed_first_response_minutes"] = _observed(observed)
    seen = nearest_rank(observed, level)
    if seen is not None and seen > t + 1:
        inputs["note"] = (f"the team answered slower than its capacity allows (observed {seen:.0f} vs {t:.0f} "
                          "minutes at this level): the gap is reaction time, not queueing for a free slot")
    return float(max(1, math.ceil(t - 1e-9))), _versus_current(inputs, cap, current, servers, traffic, mean_aht,
                                                                 level)


def _versus_current(inputs: dict[str, Any], cap: Capacity, current: dict[str, Any] | None, servers: int,
                    traffic: float, aht: float | None, level: float) -> dict[str, Any]:
    """What the model says of the current target, when it is in the same unit."""
    if current is None or bool(current.get("business_hours")) != cap.unit.business_hours or aht is None:
        return inputs
    minutes = float(current["minutes"])
    inputs["predicted_service_level_at_current_target"] = _r(erlang.service_level(servers, traffic, aht, minutes))
    if traffic > 0:
        slots = erlang.servers_needed(traffic, aht, level, minutes)
        per_agent = cap.staffing.slots / cap.staffing.agents if cap.staffing.agents else None
        inputs["slots_needed_for_current_target"] = slots
        inputs["agents_needed_for_current_target"] = math.ceil(slots / per_agent) if per_agent else None
    return inputs


# -- resolution: observed under load ----------------------------------------------------------------------

def resolution(cap: Capacity, priority: str, level: float) -> tuple[float | None, dict[str, Any]]:
    rates = cap.rates(PRIORITIES)
    threshold = nearest_rank(list(rates.values()), UNDER_LOAD_PERCENTILE)
    busy = sorted(b for b, r in rates.items() if threshold is not None and r >= threshold and r > 0)
    solved = [s for s in cap.of_priority(priority) if s.resolution is not None]
    under_load = [s for s in solved if s.bucket in set(busy)]
    inputs: dict[str, Any] = {
        "model": "observed percentile",
        "rule": f"the {level:g} quantile (nearest rank) of resolution {cap.unit.name.replace('_', ' ')} of "
                f"{priority} tickets created in the busy hours: staffed hours at or above the "
                f"{int(UNDER_LOAD_PERCENTILE * 100)}th percentile of arrivals per open hour (all priorities)",
        "service_level": level, "busy_hours": [hour_label(b) for b in busy], "timezone": cap.unit.timezone,
        "solved_tickets": len(solved), "solved_in_busy_hours": len(under_load),
        "observed_all": _observed([s.resolution for s in solved]),
        "staffing_note": "observed under the quarter's staffing, not recomputed for today's",
    }
    sample = under_load
    if len(under_load) < MIN_TICKETS:
        sample = solved
        inputs["fallback"] = (f"fewer than {MIN_TICKETS} solved {priority} tickets were created in busy hours; "
                              "all solved ones are used")
    if len(sample) < MIN_TICKETS:
        return None, {**inputs, "reason": f"too few solved {priority} tickets in {cap.quarter.label} "
                                          f"({len(sample)}; at least {MIN_TICKETS} are needed)"}
    values = [s.resolution for s in sample]
    inputs["sources"] = dict(Counter(s.resolution_source for s in sample))
    inputs["observed_under_load"] = _observed(values)
    value = nearest_rank(values, level)
    inputs["percentile_minutes"] = _r(value)
    return float(min(MAX_TARGET_MINUTES, max(1, math.ceil(value - 1e-9)))), inputs


# -- current targets and achieved rates -------------------------------------------------------------------

def _in_quarter(stmt: Any, quarter: Quarter, team_id: int | None) -> Any:
    stmt = stmt.where(Ticket.created_at >= quarter.start, Ticket.created_at < quarter.end)
    return stmt if team_id is None else stmt.where(Ticket.team_id == team_id)


def policy_for(session: Session, *, quarter: Quarter, priority: str, metric: str, team_id: int | None,
               ) -> tuple[SlaPolicy | None, str]:
    """The active policy that timed most of the quarter's tickets of this priority for this metric; else
    the first active policy matching a ticket of that priority with no other facts."""
    active = policies.active_policies(session)
    by_id = {p.id: p for p in active}
    stmt = _in_quarter(select(SlaClock.policy_id, func.count()).join(Ticket, Ticket.id == SlaClock.ticket_id)
                       .where(SlaClock.metric == metric, Ticket.priority == priority)
                       .group_by(SlaClock.policy_id), quarter, team_id)
    counts = sorted(((n, pid) for pid, n in session.execute(stmt) if pid in by_id),
                    key=lambda x: (-x[0], by_id[x[1]].position, x[1]))
    if counts:
        return by_id[counts[0][1]], f"the active policy that timed most {priority} tickets of {quarter.label}"
    facts = {"priority": priority, "type": None, "channel": None, "customer_plan": None, "tags": []}
    for policy in active:
        if policies.matches(policy, facts, set()):
            return policy, f"the first active policy matching a {priority} ticket with no other facts"
    return None, "no active policy applies"


def achieved(session: Session, *, quarter: Quarter, priority: str, metric: str, team_id: int | None
             ) -> dict[str, Any]:
    """Targets of this priority and metric decided (achieved or breached) in the quarter, as compliance does."""
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
            "rule": f"{metric} targets of {priority} tickets achieved or breached in {quarter.label} (sla_clocks)"}


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
    if policy is None or policy.calendar_id is None or (target is not None and not target.get("business_hours")):
        return None
    return calendars.get_calendar(session, calendar_id=policy.calendar_id)


def compute(session: Session, *, actor: Actor, quarter: str, service_level: float = 0.9,
            team_id: int | None = None, calendar_id: int | None = None) -> list[SlaRecommendation]:
    """Compute and store one run: a recommendation per priority and metric, each audited."""
    asked, given = _check_inputs(session, quarter, service_level, team_id, calendar_id)
    observed = asked.previous()
    staff: Staffing = staffing(session, team_id=team_id)
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
                gathered[key] = gather(session, quarter=observed, team_id=team_id, calendar=record, staff=staff)
            cap = gathered[key]
            if metric == "first_response":
                minutes, detail = first_response(cap, priority, service_level, target)
            else:
                minutes, detail = resolution(cap, priority, service_level)
            rate = achieved(session, quarter=observed, priority=priority, metric=metric, team_id=team_id)
            inputs = {
                "quarter": asked.label, **cap.describe(), "metric": metric, "priority": priority,
                "policy": None if policy is None else {"id": policy.id, "name": policy.name, "rule": policy_rule},
                "current_target": target, "achieved": rate, **detail,
            }
            inputs["summary"] = _summary(metric, minutes, inputs)
            row = SlaRecommendation(
                run_id=run_id, quarter=asked.label, service_level=float(service_level), team_id=team_id,
                priority=priority, metric=metric, policy_id=policy.id if policy is not None else None,
                current_minutes=float(target["minutes"]) if target else None,
                current_business_hours=bool(target.get("business_hours")) if target else None,
                recommended_minutes=minutes, business_hours=cap.unit.business_hours,
                calendar_id=cap.unit.calendar_id, achieved_percent=rate["percent"], inputs=audit.jsonable(inputs),
                created_at=now, updated_at=now)
            session.add(row)
            rows.append(row)
    session.flush()
    for row in rows:
        audit.record_create(session, actor, row)
    return rows


def _summary(metric: str, minutes: float | None, inputs: dict[str, Any]) -> str:
    """The key inputs in one line, for tables."""
    if minutes is None and "busy_hour" not in inputs:
        return inputs.get("reason", "")
    if metric == "first_response":
        busy = inputs.get("busy_hour") or {}
        parts = [f"busy hour {busy.get('label')} {inputs.get('timezone')}",
                 f"{busy.get('arrivals_per_hour', 0):.2f}/h", f"AHT {inputs.get('aht_minutes') or 0:.0f}m (est.)",
                 f"N={inputs.get('servers')} slots", f"A={inputs.get('offered_load_erlangs') or 0:.2f}",
                 f"Pw={inputs.get('probability_of_waiting') or 0:.3f}"]
        if minutes is None:
            parts.append(inputs.get("reason", ""))
        return ", ".join(parts)
    load = inputs.get("observed_under_load") or {}
    where = "all solved" if "fallback" in inputs else "busy-hour"
    return (f"{inputs['service_level']:g} quantile of {load.get('samples', 0)} {where} {inputs['priority']} "
            f"tickets; p50 {load.get('p50') or 0:.0f}m")


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
    if row.business_hours and policy.calendar_id != row.calendar_id:
        raise Conflict(f"this recommendation is in business minutes of calendar {row.calendar_id}, but policy "
                       f"{policy.name!r} uses calendar {policy.calendar_id}; compute again", allowed=[])
    if row.recommended_minutes > MAX_TARGET_MINUTES:
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
