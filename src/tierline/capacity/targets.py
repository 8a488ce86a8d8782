"""From a quarter's gathered capacity (capacity/inputs.py) to recommended targets: pure maths, no database.

First response, per priority:
- Erlang C on a busy staffed hour. Servers are open-ticket slots (agents x max_open_tickets), handle time is
  first touch to solve (an estimate until time tracking exists). Agents take the most urgent work first, so a
  P3 ticket queues behind P1-P3 work only: its queue carries the load of its own and the more urgent
  priorities on all slots (the usual approximation of priority queueing). The busy hour is the
  90th-percentile staffed hour of the week by that load's arrival rate (nearest rank).
- The queue only says how long a ticket waits for a free slot. When slots are plentiful that is nothing, and
  what limits first response is how fast people react, which the queue cannot see. So the recommendation is
  the larger of the Erlang answer time and the observed first response at the same service level (of
  tickets created under load); `binding` says which one set it, and both are in the inputs.
- An unstable queue (offered load >= slots) meets no target: nothing is recommended, and the reason says so.

Resolution, per priority: the asked service level's quantile (nearest rank, so an observed value) of the
resolution minutes of that priority's tickets created under load (in staffed hours at or above the 75th
percentile of arrivals per open hour, all priorities), when at least MIN_TICKETS such tickets exist; else
of all its solved tickets.
"""

from __future__ import annotations

import math
import statistics
from collections import Counter
from typing import Any

from tierline.capacity import erlang
from tierline.capacity.inputs import Capacity, TicketSample, hour_label
from tierline.tickets.models import PRIORITIES

BUSY_HOUR_PERCENTILE = 0.9
UNDER_LOAD_PERCENTILE = 0.75
MIN_TICKETS = 5
MAX_TARGET_MINUTES = 525_600  # what a policy target may hold


def _r(value: float | None, digits: int = 6) -> float | None:
    return None if value is None else round(float(value), digits)


def nearest_rank(values: list[float], q: float) -> float | None:
    """The q-quantile by nearest rank: the smallest observed value with at least q of the values <= it."""
    if not values:
        return None
    ordered = sorted(values)
    return ordered[max(0, math.ceil(q * len(ordered) - 1e-9) - 1)]


def _whole_minutes(value: float) -> float:
    return float(min(MAX_TARGET_MINUTES, max(1, math.ceil(value - 1e-9))))


def observed(values: list[float]) -> dict[str, Any]:
    return {"samples": len(values), "p50": _r(nearest_rank(values, 0.5)),
            "p75": _r(nearest_rank(values, 0.75)), "p90": _r(nearest_rank(values, 0.9)),
            "p95": _r(nearest_rank(values, 0.95)), "mean": _r(statistics.fmean(values)) if values else None}


def busy_hour(rates: dict[int, float], q: float = BUSY_HOUR_PERCENTILE) -> int | None:
    """The staffed hour of the week at the q-quantile of arrival rates (nearest rank; ties by hour)."""
    if not rates:
        return None
    ordered = sorted(rates, key=lambda b: (rates[b], b))
    return ordered[max(0, math.ceil(q * len(ordered) - 1e-9) - 1)]


def under_load(cap: Capacity, priority: str, value: str) -> tuple[list[TicketSample], dict[str, Any]]:
    """The priority's tickets with `value` measured, created in the busy hours (or all, if too few were)."""
    rates = cap.rates(PRIORITIES)
    threshold = nearest_rank(list(rates.values()), UNDER_LOAD_PERCENTILE)
    busy = {b for b, r in rates.items() if threshold is not None and r >= threshold and r > 0}
    measured = [s for s in cap.of_priority(priority) if getattr(s, value) is not None]
    chosen = [s for s in measured if s.bucket in busy]
    info: dict[str, Any] = {
        "under_load_rule": f"{priority} tickets created in the busy hours: staffed hours at or above the "
                           f"{int(UNDER_LOAD_PERCENTILE * 100)}th percentile of arrivals per open hour "
                           "(all priorities)",
        "busy_hours": [hour_label(b) for b in sorted(busy)], "timezone": cap.unit.timezone,
        "measured_tickets": len(measured), "measured_in_busy_hours": len(chosen),
    }
    if len(chosen) < MIN_TICKETS:
        chosen = measured
        info["fallback"] = f"fewer than {MIN_TICKETS} such tickets were created in busy hours; all are used"
    return chosen, info


# -- first response -------------------------------------------------------------------------------------

def handle_times(cap: Capacity, classes: tuple[str, ...]) -> tuple[dict[str, float], dict[str, Any]]:
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
    unit = cap.unit.name.replace("_", " ")
    return means, {
        "estimate": True, "by_priority": detail, "mean_minutes_all_priorities": _r(overall),
        "samples_all_priorities": len(everyone),
        "definition": f"{unit} from the first agent touch (first_response_at) to solved_at: an estimate "
                      "until time tracking exists; it includes time spent waiting on the customer, which "
                      "the max_open_tickets slots per agent make up for",
    }


def first_response(cap: Capacity, priority: str, level: float, current: dict[str, Any] | None
                   ) -> tuple[float | None, dict[str, Any]]:
    """(recommended minutes, or None with inputs["reason"]; the inputs that drove it)."""
    classes = PRIORITIES[:PRIORITIES.index(priority) + 1]
    own = len(cap.of_priority(priority))
    ahead = classes[0] if len(classes) == 1 else f"{classes[0]}-{classes[-1]}"
    aht, handle = handle_times(cap, classes)
    rates = {p: cap.rates([p]) for p in classes}
    total = {b: sum(rates[p][b] for p in classes) for b in cap.staffed_buckets()}
    busy = busy_hour(total)
    servers = cap.servers
    inputs: dict[str, Any] = {
        "model": "Erlang C (M/M/N): P(wait <= t) = 1 - Pw * exp(-(N - A) * t / AHT)",
        "queue": list(classes),
        "queue_rule": f"agents take the most urgent work first, so {priority} tickets wait behind {ahead} "
                      "work only, on all slots",
        "service_level": level, "tickets_of_priority": own, "handle_time": handle, "servers": servers,
        "busy_hour_rule": f"the {int(BUSY_HOUR_PERCENTILE * 100)}th-percentile hour of the week (nearest "
                          f"rank) among the {len(total)} staffed ones, by arrivals per open hour of {ahead}",
    }
    if own < MIN_TICKETS:
        return None, {**inputs, "reason": f"too few {priority} tickets in {cap.quarter.label} ({own}; at "
                                          f"least {MIN_TICKETS} are needed)"}
    if busy is None:
        return None, {**inputs, "reason": f"the calendar has no open hours in {cap.quarter.label}"}
    if not aht:
        return None, {**inputs, "reason": "no ticket of the quarter has both a first agent touch and a "
                                          "solve, so there is no handle time"}
    by_class = {p: rates[p][busy] for p in classes}
    rate = sum(by_class.values())
    traffic = sum(by_class[p] * aht[p] / 60.0 for p in classes)
    # With no arrivals (or instant handling) any positive AHT gives the same answer: nobody waits.
    aht_mean = max(1e-6, traffic * 60.0 / rate if rate > 0 else statistics.fmean(aht.values()))
    inputs["busy_hour"] = {
        "hour_of_week": busy, "label": hour_label(busy), "timezone": cap.unit.timezone,
        "arrivals_per_hour": _r(rate),
        "arrivals_per_hour_by_priority": {p: _r(v) for p, v in by_class.items()},
        "open_hours_in_quarter": _r(cap.open_hours[busy]),
    }
    inputs.update({"offered_load_erlangs": _r(traffic), "aht_minutes": _r(aht_mean)})
    inputs["probability_of_waiting"] = _r(erlang.erlang_c(servers, traffic))
    _versus_current(inputs, cap, current, servers, traffic, aht_mean, level)
    if servers == 0:
        return None, {**inputs, "reason": "no active, available agent with an agent role is on duty"}
    if not erlang.is_stable(servers, traffic):
        return None, {**inputs, "reason": f"unstable: {traffic:.2f} Erlangs of work meet {servers} slots in "
                                          "the busy hour, so the queue grows without bound; no "
                                          "first-response target is met until staffing grows"}
    wait = erlang.answer_time(servers, traffic, aht_mean, level)
    inputs["answer_time_minutes"] = _r(wait)
    inputs["mean_wait_minutes"] = _r(erlang.mean_wait(servers, traffic, aht_mean))
    sample, info = under_load(cap, priority, "first_response")
    seen = nearest_rank([s.first_response for s in sample], level)
    inputs["observed_first_response"] = {**info, **observed([s.first_response for s in sample]),
                                         "quantile_minutes": _r(seen)}
    if seen is not None and seen > wait:
        inputs["binding"] = "observed first response"
        inputs["binding_note"] = (f"slots are free often enough that a ticket waits {wait:.1f} minutes at "
                                  f"this level, but the team answered within {seen:.0f}: reaction time, "
                                  "not capacity, sets the target")
        return _whole_minutes(seen), inputs
    inputs["binding"] = "capacity (Erlang C)"
    return _whole_minutes(wait), inputs


def _versus_current(inputs: dict[str, Any], cap: Capacity, current: dict[str, Any] | None, servers: int,
                    traffic: float, aht: float, level: float) -> None:
    """What the model says of the current target, when it is in the same unit."""
    if current is None or bool(current.get("business_hours")) != cap.unit.business_hours:
        return
    minutes = float(current["minutes"])
    inputs["predicted_service_level_at_current_target"] = _r(erlang.service_level(servers, traffic, aht,
                                                                                  minutes))
    if traffic > 0:
        slots = erlang.servers_needed(traffic, aht, level, minutes)
        per_agent = cap.staffing.slots / cap.staffing.agents if cap.staffing.slots else None
        inputs["slots_needed_for_current_target"] = slots
        inputs["agents_needed_for_current_target"] = math.ceil(slots / per_agent) if per_agent else None


# -- resolution -----------------------------------------------------------------------------------------

def resolution(cap: Capacity, priority: str, level: float) -> tuple[float | None, dict[str, Any]]:
    sample, info = under_load(cap, priority, "resolution")
    unit = cap.unit.name.replace("_", " ")
    inputs: dict[str, Any] = {
        "model": "observed quantile",
        "rule": f"the {level:g} quantile (nearest rank) of the resolution {unit} of {priority} tickets "
                "solved after being created under load",
        "service_level": level, **info,
        "staffing_note": "observed under the quarter's staffing, not recomputed for today's",
    }
    if len(sample) < MIN_TICKETS:
        return None, {**inputs, "reason": f"too few solved {priority} tickets in {cap.quarter.label} "
                                          f"({len(sample)}; at least {MIN_TICKETS} are needed)"}
    values = [s.resolution for s in sample]
    value = nearest_rank(values, level)
    inputs.update({"sources": dict(Counter(s.resolution_source for s in sample)),
                   "observed_resolution": observed(values), "quantile_minutes": _r(value)})
    return _whole_minutes(value), inputs


def summary(metric: str, minutes: float | None, inputs: dict[str, Any]) -> str:
    """The key inputs in one line, for tables."""
    if metric == "first_response" and "busy_hour" in inputs:
        busy = inputs["busy_hour"]
        parts = [f"busy hour {busy['label']} {busy['timezone']}", f"{busy['arrivals_per_hour'] or 0:.2f}/h",
                 f"AHT {inputs.get('aht_minutes') or 0:.0f}m (est.)", f"N={inputs['servers']} slots",
                 f"A={inputs.get('offered_load_erlangs') or 0:.2f}",
                 f"Pw={inputs.get('probability_of_waiting') or 0:.3f}"]
        if "answer_time_minutes" in inputs:
            parts.append(f"wait {inputs['answer_time_minutes']:.1f}m")
        if inputs.get("binding") == "observed first response":
            seen = inputs["observed_first_response"]["quantile_minutes"]
            parts.append(f"observed {seen:.0f}m binds")
        if minutes is None:
            parts.append(inputs.get("reason", ""))
        return ", ".join(parts)
    if minutes is None:
        return inputs.get("reason", "")
    where = "all solved" if "fallback" in inputs else "busy-hour"
    found = inputs.get("observed_resolution") or {}
    return (f"{inputs['service_level']:g} quantile of {found.get('samples', 0)} {where} {inputs['priority']} "
            f"tickets; p50 {found.get('p50') or 0:.0f}m")
