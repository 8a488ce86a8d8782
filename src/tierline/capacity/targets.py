"""From a policy's quarter of history (capacity/inputs.py) to recommended targets: pure maths, no database.

First response, per policy and priority:
- Erlang C in every open hour of the week. The servers are the people serving the policy in that hour
  (whole people on shift; capacity/shifts.py), the handle time is agent working time (capacity/work.py).
  Agents take the most urgent work first, so a P3 ticket queues behind the policy's P1-P3 work only: its
  queue carries the load of its own and the more urgent priorities (the usual approximation of priority
  queueing). Each hour is taken as its own steady state.
- The service level over the week is the hours' service levels weighted by where the priority's tickets
  arrive; the capacity answer is the smallest time that meets the asked level over the week. An hour whose
  work outgrows its people (offered load >= servers) meets nothing; when such hours carry more arrivals than
  the level allows to miss, no first-response target is met and nothing is recommended.
- The queue only says how long a ticket waits for a free person. When people are plentiful that is nothing,
  and what limits first response is how fast people react, which the queue cannot see. So the candidate is
  the larger of the capacity answer and the observed first response at the same service level (of tickets
  created under load); `binding` says which one set it.

Resolution, per policy and priority: the asked service level's quantile (nearest rank, so an observed value)
of the resolution minutes of that priority's tickets created under load (in staffed hours at or above the
75th percentile of arrivals per open hour, all priorities), when at least MIN_TICKETS such tickets exist;
else of all its solved tickets.

Then `decide`: a recommendation never loosens a target met last quarter by more than the evidence supports
(the rule and its reason are in the inputs, `decision`).
"""

from __future__ import annotations

import math
import statistics
from collections import Counter
from dataclasses import dataclass
from functools import cached_property
from typing import Any

from tierline.capacity import erlang
from tierline.capacity.inputs import Capacity, TicketSample, hour_label
from tierline.tickets.models import PRIORITIES

UNDER_LOAD_PERCENTILE = 0.75
MIN_TICKETS = 5
MAX_TARGET_MINUTES = 525_600  # what a policy target may hold
MAX_EXTRA_AGENTS = 10_000


def _r(value: float | None, digits: int = 6) -> float | None:
    return None if value is None else round(float(value), digits)


def _pct(value: float | None) -> float | None:
    return None if value is None else round(100.0 * value, 2)


def nearest_rank(values: list[float], q: float) -> float | None:
    """The q-quantile by nearest rank: the smallest observed value with at least q of the values <= it."""
    if not values:
        return None
    ordered = sorted(values)
    return ordered[max(0, math.ceil(q * len(ordered) - 1e-9) - 1)]


def whole_minutes(value: float) -> float:
    return float(min(MAX_TARGET_MINUTES, max(1, math.ceil(value - 1e-9))))


def met_at_current(values: list[float], current: dict[str, Any] | None, achieved_percent: float | None
                   ) -> tuple[float | None, str]:
    """(percent of the priority's measured tickets within the current target, where that was read from).

    The current target may not be the one last quarter's clocks ran against (a policy changed since), so
    what the tickets took is compared with it directly; without a comparable target or any measured ticket,
    the clocks' achieved share stands in."""
    if current is not None and values:
        minutes = float(current["minutes"])
        within = sum(1 for v in values if v <= minutes + 1e-9)
        return round(100.0 * within / len(values), 2), (
            f"{within} of the {len(values)} measured tickets took no longer than the current target")
    return achieved_percent, "the share of last quarter's SLA clocks achieved"


def observed(values: list[float]) -> dict[str, Any]:
    return {"samples": len(values), "p50": _r(nearest_rank(values, 0.5)),
            "p75": _r(nearest_rank(values, 0.75)), "p90": _r(nearest_rank(values, 0.9)),
            "p95": _r(nearest_rank(values, 0.95)), "mean": _r(statistics.fmean(values)) if values else None}


def under_load(cap: Capacity, priority: str, value: str) -> tuple[list[TicketSample], dict[str, Any]]:
    """The priority's tickets with `value` measured, created in the busy hours (or all, if too few were)."""
    rates = cap.rates(PRIORITIES)
    threshold = nearest_rank(list(rates.values()), UNDER_LOAD_PERCENTILE)
    busy = {b for b, r in rates.items() if threshold is not None and r >= threshold and r > 0}
    measured = [s for s in cap.of_priority(priority) if getattr(s, value) is not None]
    chosen = [s for s in measured if s.bucket in busy]
    info: dict[str, Any] = {
        "under_load_rule": f"{priority} tickets created in the busy hours: staffed hours at or above the "
                           f"{int(UNDER_LOAD_PERCENTILE * 100)}th percentile of the policy's arrivals per open "
                           "hour (all priorities)",
        "busy_hours": [hour_label(b) for b in sorted(busy)], "timezone": cap.unit.timezone,
        "measured_tickets": len(measured), "measured_in_busy_hours": len(chosen),
    }
    if len(chosen) < MIN_TICKETS:
        chosen = measured
        info["fallback"] = f"fewer than {MIN_TICKETS} such tickets were created in busy hours; all are used"
    return chosen, info


# -- handle time ------------------------------------------------------------------------------------------

def handle_times(cap: Capacity, classes: tuple[str, ...]) -> tuple[dict[str, float], dict[str, Any]]:
    """Mean agent working minutes per priority; a priority without samples borrows the policy's mean."""
    measured = [s for s in cap.samples if s.handle is not None]
    overall = statistics.fmean(s.handle for s in measured) if measured else None
    means, detail = {}, {}
    for p in classes:
        own = [s for s in measured if s.priority == p]
        if own:
            means[p] = statistics.fmean(s.handle for s in own)
        elif overall is not None:
            means[p] = overall
        detail[p] = {
            "samples": len(own), "mean_minutes": _r(means.get(p)),
            "median_minutes": _r(statistics.median(s.handle for s in own)) if own else None,
            "mean_elapsed_minutes": _r(statistics.fmean(s.elapsed for s in own)) if own else None,
            "mean_paused_minutes": _r(statistics.fmean(s.paused for s in own)) if own else None,
            "borrowed_from_all_priorities": not own and overall is not None,
        }
    unit = cap.unit.name.replace("_", " ")
    return means, {
        "by_priority": detail, "mean_minutes_all_priorities": _r(overall), "samples_all_priorities": len(measured),
        "sources": dict(Counter(s.handle_source for s in measured)),
        "definition": f"agent working time in {unit}: from the first agent touch (the first message an agent "
                      "wrote, public or internal, or the first response) to solve, less the time the ticket "
                      "waited pending the customer, on hold or solved (its status changes in the audit "
                      "trail); elapsed is the same span with those pauses left in",
    }


# -- the week's queues --------------------------------------------------------------------------------------

@dataclass(frozen=True)
class HourQueue:
    """One open hour of the week as an M/M/N queue of one priority's work (and the more urgent)."""

    bucket: int
    weight: float  # the priority's own arrivals in this hour over the quarter
    rate: float  # arrivals per open hour of the queue's work
    traffic: float  # offered load, Erlangs
    aht: float  # the mean handle minutes of that work
    servers: int

    @property
    def stable(self) -> bool:
        return erlang.is_stable(self.servers, self.traffic)

    @cached_property
    def pw(self) -> float:
        return erlang.erlang_c(self.servers, self.traffic)

    def service_level(self, t: float) -> float:
        return erlang.service_level(self.servers, self.traffic, self.aht, t, pw=self.pw)

    def probability_of_waiting(self) -> float:
        return self.pw

    def with_servers(self, extra: int) -> HourQueue:
        return HourQueue(self.bucket, self.weight, self.rate, self.traffic, self.aht, self.servers + extra)

    def scaled(self, effort: float) -> HourQueue:
        """The same hour if each ticket took only `effort` (0-1) of its handle time."""
        return HourQueue(self.bucket, self.weight, self.rate, self.traffic * effort, max(1e-6, self.aht * effort),
                         self.servers)

    def as_dict(self) -> dict[str, Any]:
        return {"hour": hour_label(self.bucket), "tickets": round(self.weight), "arrivals_per_hour": _r(self.rate),
                "agents": self.servers, "offered_load_erlangs": _r(self.traffic),
                "probability_of_waiting": _r(self.probability_of_waiting())}


def hour_queues(cap: Capacity, priority: str, aht: dict[str, float], *, then: bool = False
                ) -> list[HourQueue]:
    """The open hours in which the priority's tickets arrive, each with its queue's load and people."""
    classes = PRIORITIES[:PRIORITIES.index(priority) + 1]
    own = cap.arrivals([priority])
    counts = {p: cap.arrivals([p]) for p in classes}
    out = []
    for b in cap.staffed_buckets():
        if own[b] == 0:
            continue
        rates = {p: counts[p][b] / cap.open_hours[b] for p in classes}
        rate = sum(rates.values())
        traffic = sum(rates[p] * aht[p] / 60.0 for p in classes)
        # With instant handling any positive AHT gives the same answer: nobody waits.
        mean = max(1e-6, traffic * 60.0 / rate)
        out.append(HourQueue(bucket=b, weight=float(own[b]), rate=rate, traffic=traffic, aht=mean,
                             servers=cap.servers(b, then=then)))
    return out


def weekly_service_level(hours: list[HourQueue], t: float) -> float:
    """The share of the priority's tickets answered within `t` over the week (arrival-weighted)."""
    total = sum(h.weight for h in hours)
    return sum(h.weight * h.service_level(t) for h in hours) / total if total else 0.0


def weekly_probability_of_waiting(hours: list[HourQueue]) -> float:
    total = sum(h.weight for h in hours)
    return sum(h.weight * h.probability_of_waiting() for h in hours) / total if total else 1.0


def reachable_level(hours: list[HourQueue]) -> float:
    """The service level approached as the target grows without bound: the share arriving in stable hours."""
    total = sum(h.weight for h in hours)
    return sum(h.weight for h in hours if h.stable) / total if total else 0.0


def weekly_answer_time(hours: list[HourQueue], level: float) -> float | None:
    """The smallest t with weekly_service_level(hours, t) >= level; None when no finite t reaches it."""
    if not hours or reachable_level(hours) < level:
        return None
    if weekly_service_level(hours, 0.0) >= level:
        return 0.0
    hi, limit = 1.0, 64.0 * MAX_TARGET_MINUTES
    while weekly_service_level(hours, hi) < level:
        if hi >= limit:
            return None  # reached only in the limit
        hi = min(hi * 2, limit)
    lo = 0.0
    for _ in range(80):
        mid = (lo + hi) / 2
        if weekly_service_level(hours, mid) >= level:
            hi = mid
        else:
            lo = mid
        if hi - lo < 1e-6:
            break
    return hi


def extra_agents_needed(hours: list[HourQueue], level: float, t: float) -> int | None:
    """How many more people on shift in every hour the week needs to meet `level` within `t` (0: none)."""
    def meets(k: int) -> bool:
        return weekly_service_level([h.with_servers(k) for h in hours], t) >= level

    if not hours:
        return None
    if meets(0):
        return 0
    hi = 1
    while not meets(hi):
        hi *= 2
        if hi > MAX_EXTRA_AGENTS:
            return None
    lo = hi // 2
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if meets(mid):
            hi = mid
        else:
            lo = mid
    return hi


# -- calibration against last quarter --------------------------------------------------------------------

CALIBRATION_STEPS = 24


def calibrate(then: list[HourQueue] | None, level: float, observed_minutes: float | None
              ) -> tuple[float | None, dict[str, Any]]:
    """The share of the working time that is the agent's effort, so that the model, with last quarter's
    people, answers `level` of the tickets within what they actually achieved (`observed_minutes`).

    Working time is the time a ticket sat open with an agent, and agents hold several tickets at once: taken
    whole as effort, it makes every queue look busier than it was. The largest share (at most 1) with which
    the model reproduces last quarter is the effort; None when no share can (the people on shift cannot
    explain who answered: hours with nobody on shift carry too many arrivals)."""
    info: dict[str, Any] = {"observed_minutes": _r(observed_minutes), "service_level": level}
    if then is None or observed_minutes is None:
        return 1.0, {**info, "effort_share": 1.0,
                     "why": "no record of who did last quarter's work or of its first responses: the whole working "
                            "time is taken as effort"}

    def explains(effort: float) -> bool:
        t = weekly_answer_time([h.scaled(effort) for h in then], level)
        return t is not None and t <= observed_minutes + 1e-9

    whole = weekly_answer_time(then, level)
    info["model_minutes_with_whole_working_time"] = _r(whole)
    if explains(1.0):
        return 1.0, {**info, "effort_share": 1.0,
                     "why": "with the whole working time as effort the model already answers last quarter's "
                            f"{_pct(level):g}% within what the team achieved: nothing to calibrate"}
    if not explains(1e-6):
        return None, {**info, "effort_share": None,
                      "why": "no share of the working time lets last quarter's people on shift explain its first "
                             "responses (tickets were answered in hours the shifts leave unstaffed): the capacity "
                             "model is not used, the observed first response is"}
    lo, hi = 1e-6, 1.0
    for _ in range(CALIBRATION_STEPS):
        mid = (lo + hi) / 2
        lo, hi = (mid, hi) if explains(mid) else (lo, mid)
    return lo, {**info, "effort_share": _r(lo),
                "why": f"taken whole, the working time would have kept last quarter's people from answering "
                       f"{_pct(level):g}% within the {observed_minutes:.0f} minutes they achieved (the model said "
                       f"{'never' if whole is None else f'{whole:.0f}'}); agents hold several tickets at once, so "
                       f"the effort per ticket is taken as the {_pct(lo):g}% of it that reproduces last quarter"}


# -- the never-loosen rule ----------------------------------------------------------------------------------

def decide(candidate: float, *, metric: str, level: float, current: float | None, achieved_percent: float | None,
           capacity_minutes: float | None = None, model_now: float | None = None,
           model_then: float | None = None) -> tuple[float, dict[str, Any]]:
    """The recommendation from the evidence's `candidate`, never loosening a target met last quarter by more
    than the evidence supports.

    A target met last quarter (achieved_percent >= the level) stays unless the capacity model, checked
    against last quarter, says today's staffing misses it: the model predicted a met target with last
    quarter's people (model_then) and predicts a miss with today's (model_now). Then it loosens only to what
    capacity needs (`capacity_minutes`), never to the observed reaction time. Resolution has no model, so a
    met resolution target is kept. A target missed, or with no record, follows the evidence."""
    base: dict[str, Any] = {
        "candidate_minutes": candidate, "current_minutes": current, "met_percent": achieved_percent,
        "level_percent": _pct(level),
        "rule": "a target met last quarter is never loosened beyond what the evidence supports: only a drop "
                "in staffing the capacity model confirms (it predicted last quarter's result and predicts a "
                "miss with today's people) loosens it, and only as far as capacity needs",
    }
    met = achieved_percent is not None and achieved_percent >= 100.0 * level - 1e-9
    base["met_last_quarter"] = None if achieved_percent is None else met
    if current is None:
        return candidate, {**base, "outcome": "new", "why": "there is no current target in this unit to compare "
                                                            "with: the evidence sets it"}
    if candidate <= current:
        outcome = "kept" if candidate == current else "tighter"
        return candidate, {**base, "outcome": outcome,
                           "why": f"the evidence supports {candidate:g} minutes at {_pct(level):g}%, no looser "
                                  f"than today's {current:g}"}
    if not met:
        why = ("no target was decided last quarter, so nothing shows today's is met; the evidence sets it"
               if achieved_percent is None else
               f"missed last quarter ({achieved_percent:g}% met, below {_pct(level):g}%): the evidence sets it")
        return candidate, {**base, "outcome": "looser", "why": why}
    kept = {**base, "outcome": "kept"}
    if metric != "first_response" or model_now is None:
        return current, {**kept, "why": f"met last quarter ({achieved_percent:g}% met, at least {_pct(level):g}%) "
                                        "and resolution is read from what happened, so nothing supports "
                                        "loosening it"}
    if model_now >= level:
        return current, {**kept, "why": f"met last quarter ({achieved_percent:g}%) and the model predicts "
                                        f"{_pct(model_now):g}% at it with today's people"}
    if model_then is None or model_then < level:
        then = "cannot be checked against last quarter's people" if model_then is None else \
            f"predicted only {_pct(model_then):g}% with last quarter's people, who met it"
        return current, {**kept, "why": f"met last quarter ({achieved_percent:g}%); the model predicts "
                                        f"{_pct(model_now):g}% with today's people but {then}, so it does not "
                                        "support loosening"}
    allowed = max(current, capacity_minutes if capacity_minutes is not None else current)
    chosen = min(candidate, allowed)
    return chosen, {**base, "outcome": "looser" if chosen > current else "kept",
                    "why": f"met last quarter ({achieved_percent:g}%) and the model agreed "
                           f"({_pct(model_then):g}% with last quarter's people), but it predicts "
                           f"{_pct(model_now):g}% with today's: loosened only to what capacity needs"}


# -- first response ---------------------------------------------------------------------------------------

def first_response(cap: Capacity, priority: str, level: float, current: dict[str, Any] | None,
                   achieved_percent: float | None = None) -> tuple[float | None, dict[str, Any]]:
    """(recommended minutes, or None with inputs["reason"]; the inputs that drove it). `current` is the
    policy's target when it runs in the plan's unit (else None)."""
    classes = PRIORITIES[:PRIORITIES.index(priority) + 1]
    own = len(cap.of_priority(priority))
    ahead = classes[0] if len(classes) == 1 else f"{classes[0]}-{classes[-1]}"
    inputs: dict[str, Any] = {
        "model": "Erlang C (M/M/N) per open hour of the week: P(wait <= t) = 1 - Pw * exp(-(N - A) * t / AHT); "
                 "the week's service level weights each hour by the priority's arrivals in it",
        "queue": list(classes),
        "queue_rule": f"agents take the most urgent work first, so {priority} tickets wait behind the policy's "
                      f"{ahead} work only",
        "service_level": level, "tickets_of_priority": own,
    }
    if own < MIN_TICKETS:
        return None, {**inputs, "reason": f"too few {priority} tickets in {cap.quarter.label} ({own}; at "
                                          f"least {MIN_TICKETS} are needed)"}
    aht, handle = handle_times(cap, classes)
    inputs["handle_time"] = handle
    if not aht:
        return None, {**inputs, "reason": "no ticket of the quarter has both a first agent touch and a "
                                          "solve, so there is no handle time"}
    hours = hour_queues(cap, priority, aht)
    if not hours:
        return None, {**inputs, "reason": f"the calendar has no open hours in {cap.quarter.label}"}
    then = hour_queues(cap, priority, aht, then=True) if cap.agents_then is not None else None
    achieved_fr = nearest_rank([s.first_response for s in cap.of_priority(priority) if s.first_response is not None],
                               level)
    effort, calibration = calibrate(then, level, achieved_fr)
    inputs["calibration"] = calibration
    inputs["working_time_aht_minutes"] = _r(sum(h.weight * h.aht for h in hours) / sum(h.weight for h in hours))
    if effort is not None and effort < 1.0:
        hours = [h.scaled(effort) for h in hours]
        then = None if then is None else [h.scaled(effort) for h in then]
    weight = sum(h.weight for h in hours)
    traffic = sum(h.weight * h.traffic for h in hours) / weight
    busiest = max(hours, key=lambda h: (h.traffic / max(h.servers, 1e-9), h.weight))
    inputs.update({
        "hours_of_week": [h.as_dict() for h in hours],
        "hours_of_week_rule": "the open hours in which this priority's tickets arrived; tickets: how many over "
                              "the quarter, arrivals_per_hour: the queue's work per open hour, agents: whole "
                              "people on shift serving the policy, offered_load_erlangs: arrivals x handle time "
                              "(the calibrated effort)",
        "agents_on_shift": {"min": min(h.servers for h in hours), "max": max(h.servers for h in hours),
                            "mean": _r(sum(h.weight * h.servers for h in hours) / weight, 3)},
        "offered_load_erlangs": _r(traffic), "aht_minutes": _r(sum(h.weight * h.aht for h in hours) / weight),
        "busiest_hour": {**busiest.as_dict(), "timezone": cap.unit.timezone},
        "probability_of_waiting": _r(weekly_probability_of_waiting(hours)),
        "reachable_service_level": _r(reachable_level(hours)),
    })
    model_now = model_then = None
    if current is not None and effort is not None:
        minutes = float(current["minutes"])
        model_now = weekly_service_level(hours, minutes)
        inputs["predicted_service_level_at_current_target"] = _r(model_now)
        inputs["extra_agents_needed_for_current_target"] = extra_agents_needed(hours, level, minutes)
        if then:
            model_then = weekly_service_level(then, minutes)
            inputs["predicted_service_level_at_current_target_with_last_quarters_people"] = _r(model_then)
    if all(h.servers == 0 for h in hours):
        return None, {**inputs, "reason": "nobody serving this policy is on shift in its open hours: no active, "
                                          "available agent with an agent role works them"}
    wait = weekly_answer_time(hours, level) if effort is not None else None
    if wait is None and effort is not None:
        unstable = [hour_label(h.bucket) for h in hours if not h.stable]
        return None, {**inputs, "unstable_hours": unstable,
                      "reason": f"unstable: in {len(unstable)} of {len(hours)} hours the work outgrows the people "
                                f"on shift (offered load >= agents), and {_pct(1 - reachable_level(hours)):g}% of "
                                f"{priority} tickets arrive in them, more than {_pct(1 - level):g}% may miss; no "
                                "first-response target is met until staffing grows"}
    if wait is not None:
        inputs["answer_time_minutes"] = _r(wait)
        inputs["service_level_at_answer_time"] = _r(weekly_service_level(hours, wait))
    sample, info = under_load(cap, priority, "first_response")
    seen = nearest_rank([s.first_response for s in sample], level)
    inputs["observed_first_response"] = {**info, **observed([s.first_response for s in sample]),
                                         "quantile_minutes": _r(seen)}
    if wait is None:
        if seen is None:
            return None, {**inputs, "reason": "no first response was measured last quarter"}
        inputs["binding"] = "observed first response"
        inputs["binding_note"] = "the capacity model cannot explain last quarter (calibration), so the observed " \
                                 "first response at the level sets the candidate"
        candidate = whole_minutes(seen)
    elif seen is not None and seen > wait:
        inputs["binding"] = "observed first response"
        inputs["binding_note"] = (f"people are free often enough that a ticket waits {wait:.1f} minutes at this "
                                  f"level, but the team answered within {seen:.0f}: reaction time, not capacity, "
                                  "sets the candidate")
        candidate = whole_minutes(seen)
    else:
        inputs["binding"] = "capacity (Erlang C)"
        candidate = whole_minutes(wait)
    met, met_rule = met_at_current([s.first_response for s in cap.of_priority(priority)
                                    if s.first_response is not None], current, achieved_percent)
    chosen, decision = decide(candidate, metric="first_response", level=level,
                              current=None if current is None else float(current["minutes"]),
                              achieved_percent=met,
                              capacity_minutes=None if wait is None else whole_minutes(wait),
                              model_now=model_now, model_then=model_then)
    inputs["decision"] = {**decision, "met_rule": met_rule}
    return chosen, inputs


# -- resolution -----------------------------------------------------------------------------------------

def resolution(cap: Capacity, priority: str, level: float, current: dict[str, Any] | None = None,
               achieved_percent: float | None = None) -> tuple[float | None, dict[str, Any]]:
    sample, info = under_load(cap, priority, "resolution")
    unit = cap.unit.name.replace("_", " ")
    inputs: dict[str, Any] = {
        "model": "observed quantile",
        "rule": f"the {level:g} quantile (nearest rank) of the resolution {unit} of the policy's {priority} "
                "tickets solved after being created under load",
        "service_level": level, **info,
        "staffing_note": "observed under last quarter's staffing, not recomputed for today's",
    }
    if len(sample) < MIN_TICKETS:
        return None, {**inputs, "reason": f"too few solved {priority} tickets in {cap.quarter.label} "
                                          f"({len(sample)}; at least {MIN_TICKETS} are needed)"}
    values = [s.resolution for s in sample]
    value = nearest_rank(values, level)
    inputs.update({"sources": dict(Counter(s.resolution_source for s in sample)),
                   "observed_resolution": observed(values), "quantile_minutes": _r(value)})
    met, met_rule = met_at_current([s.resolution for s in cap.of_priority(priority) if s.resolution is not None],
                                   current, achieved_percent)
    chosen, decision = decide(whole_minutes(value), metric="resolution", level=level,
                              current=None if current is None else float(current["minutes"]),
                              achieved_percent=met)
    inputs["decision"] = {**decision, "met_rule": met_rule}
    return chosen, inputs


def _duration(minutes: float | None) -> str:
    if minutes is None:
        return "-"
    total = round(minutes)
    hours, rest = divmod(total, 60)
    return f"{hours}h{rest:02d}m" if hours else f"{rest}m"


def summary(metric: str, minutes: float | None, inputs: dict[str, Any]) -> str:
    """The key inputs in one line, for tables."""
    parts = []
    if metric == "first_response" and "hours_of_week" in inputs:
        people = inputs["agents_on_shift"]
        effort = (inputs.get("calibration") or {}).get("effort_share")
        aht = f"AHT {_duration(inputs.get('aht_minutes'))}"
        if effort is not None and effort < 1:
            share = f"{100 * effort:.0f}%" if effort >= 0.1 else f"{100 * effort:.2g}%"
            aht += f" ({share} of {_duration(inputs.get('working_time_aht_minutes'))} working time)"
        parts += [f"{people['min']}-{people['max']} agents on shift", aht,
                  f"A={inputs.get('offered_load_erlangs') or 0:.2f}",
                  f"Pw={inputs.get('probability_of_waiting') or 0:.2f}"]
        if "answer_time_minutes" in inputs:
            parts.append(f"wait {_duration(inputs['answer_time_minutes'])}")
        if inputs.get("binding") == "observed first response":
            parts.append(f"observed {_duration(inputs['observed_first_response']['quantile_minutes'])} binds")
    elif metric == "resolution" and minutes is not None:
        found = inputs.get("observed_resolution") or {}
        where = "all solved" if "fallback" in inputs else "busy-hour"
        parts.append(f"{inputs['service_level']:g} quantile of {found.get('samples', 0)} {where} tickets "
                     f"({_duration(inputs.get('quantile_minutes'))})")
    if minutes is None:
        parts.append(inputs.get("reason", ""))
    elif "decision" in inputs:
        parts.append(inputs["decision"]["why"])
    return "; ".join(p for p in parts if p)
