"""Capacity inputs for SLA recommendations, read from one quarter of history.

What a recommendation needs, per SLA policy and priority, measured in one unit of time (business minutes of
the policy's calendar, or calendar minutes when its targets run round the clock):

- arrivals per hour of the week (168 buckets, Monday 00:00 first, in the calendar's time zone, UTC without
  one), and how many open hours each bucket had over the quarter, so a rate is arrivals per open hour. A
  ticket created while the calendar is closed starts its business clock at the next opening and is worked
  off with the backlog in the first business hour, so it is counted in the hour of its 30th business minute;
- handle times: agent working time (capacity/work.py), from the first agent touch to solve less the time
  the ticket waited on the customer, on hold or solved;
- first-response and resolution minutes as observed (resolution from the ticket's SLA clock when it ran in
  the same unit, since the clock leaves out paused time; else from creation to solve);
- the people serving the policy in each hour (capacity/shifts.py): today's active, available agents (an
  agent role gives the tier) on shift in their own time zone while the calendar is open, each counted for
  the share of their worked time that went to this policy's tickets last quarter (the policies' overall
  shares for an agent without history). The same for the people who did last quarter's work, so the model
  can be checked against what happened.
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import cached_property
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from tierline.people import service as people_service
from tierline.capacity.shifts import Shift, on_shift_hours
from tierline.capacity.work import StatusChange, status_changes, working_time
from tierline.platform.errors import Invalid, NotFound
from tierline.sla import calendars
from tierline.sla.business_time import (
    FIRST_YEAR,
    LAST_YEAR,
    BusinessCalendar,
    add_business_minutes,
    business_minutes_between,
)
from tierline.sla.models import BusinessCalendarRecord, SlaClock
from tierline.tickets import service as tickets_service
from tierline.tickets.models import PRIORITIES

HOURS_OF_WEEK = 168
DAY_NAMES = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
BACKLOG_MINUTE = 30.0  # where in the first business hour a ticket that arrived while closed is counted
_STEP = timedelta(minutes=15)  # every time zone's offset is a multiple of 15 minutes
_QUARTER = re.compile(r"^([0-9]{4})Q([1-4])$")
TIERS = ("L1", "L2", "L3")


# -- quarters -------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Quarter:
    year: int
    number: int

    @property
    def label(self) -> str:
        return f"{self.year}Q{self.number}"

    @property
    def start(self) -> datetime:
        return datetime(self.year, 3 * (self.number - 1) + 1, 1, tzinfo=UTC)

    @property
    def end(self) -> datetime:
        return self.next().start

    def next(self) -> Quarter:
        return Quarter(self.year + 1, 1) if self.number == 4 else Quarter(self.year, self.number + 1)

    def previous(self) -> Quarter:
        return Quarter(self.year - 1, 4) if self.number == 1 else Quarter(self.year, self.number - 1)


def parse_quarter(text: str, *, field_name: str = "quarter") -> Quarter:
    """`2026Q4` (the Q in either case) -> Quarter; anything else is a 422 naming the field."""
    match = _QUARTER.match(text.strip().upper()) if isinstance(text, str) else None
    if match is None:
        raise Invalid(field_name, f"{text!r} is not a quarter; write it like 2026Q4")
    year = int(match.group(1))
    if not FIRST_YEAR < year <= LAST_YEAR:  # the quarter before it is observed: from 1970 on
        raise Invalid(field_name, f"the year must lie between {FIRST_YEAR + 1} and {LAST_YEAR}")
    return Quarter(year, int(match.group(2)))


def hour_label(bucket: int) -> str:
    return f"{DAY_NAMES[bucket // 24]} {bucket % 24:02d}:00"


# -- the unit of time -----------------------------------------------------------------------------------

@dataclass
class Unit:
    """Business minutes of a calendar, or calendar minutes (round the clock) when `calendar` is None."""

    calendar: BusinessCalendar | None = None
    calendar_id: int | None = None
    calendar_name: str | None = None
    timezone: str = "UTC"
    _tz: ZoneInfo = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self._tz = ZoneInfo(self.timezone)

    @classmethod
    def of(cls, record: BusinessCalendarRecord | None) -> Unit:
        if record is None:
            return cls()
        return cls(calendar=calendars.compiled(record), calendar_id=record.id, calendar_name=record.name,
                   timezone=record.timezone)

    @property
    def business_hours(self) -> bool:
        return self.calendar is not None

    @property
    def name(self) -> str:
        return "business_minutes" if self.calendar is not None else "calendar_minutes"

    def minutes(self, start: datetime, end: datetime) -> float:
        if end <= start:
            return 0.0
        if self.calendar is None:
            return (end - start).total_seconds() / 60.0
        return business_minutes_between(self.calendar, start, end)

    def bucket(self, instant: datetime) -> int:
        local = instant.astimezone(self._tz)
        return local.weekday() * 24 + local.hour

    def arrival(self, created_at: datetime) -> tuple[int, bool]:
        """(hour-of-week bucket the ticket's work arrives in, whether it arrived while closed)."""
        if self.calendar is None:
            return self.bucket(created_at), False
        first_open = add_business_minutes(self.calendar, created_at, 1e-6)
        if first_open - created_at <= timedelta(seconds=1):
            return self.bucket(created_at), False
        return self.bucket(add_business_minutes(self.calendar, created_at, BACKLOG_MINUTE)), True

    def describe(self) -> dict[str, Any]:
        if self.calendar is None:
            return {"unit": self.name, "calendar": None, "timezone": self.timezone,
                    "hours": "round the clock: no calendar applies, so every hour is open and agents "
                             "serve it during their shifts"}
        return {"unit": self.name, "timezone": self.timezone,
                "calendar": {"id": self.calendar_id, "name": self.calendar_name, "timezone": self.timezone}}


# -- staffing -------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Agent:
    user_id: int
    tier: str | None
    timezone: str


def staffing_now(session: Session, *, team_id: int | None) -> list[Agent]:
    """Active, available agents (a tier from an agent role) of the team, or everyone's without a team."""
    agents, cursor = [], None
    while True:
        users, cursor = people_service.list_users(session, team_id=team_id, active=True, available=True,
                                                  limit=200, cursor=cursor)
        agents += [Agent(user_id=u.id, tier=u.tier, timezone=u.timezone) for u in users if u.tier is not None]
        if cursor is None:
            return agents


def staffing_then(session: Session, *, user_ids: Iterable[int]) -> list[Agent]:
    """The people who worked last quarter's tickets, whatever they are today (left, unavailable, promoted)."""
    agents = []
    for user_id in sorted(set(user_ids)):
        try:
            user = people_service.get_user(session, user_id=user_id)
        except NotFound:
            continue
        agents.append(Agent(user_id=user.id, tier=user.tier, timezone=user.timezone))
    return agents


# -- one quarter of tickets -----------------------------------------------------------------------------

@dataclass
class TicketSample:
    ticket_id: int
    priority: str
    bucket: int
    arrived_closed: bool
    first_response: float | None
    handle: float | None  # agent working time
    resolution: float | None
    resolution_source: str | None
    policy_id: int | None = None
    assignee_id: int | None = None
    elapsed: float | None = None  # first touch to solve, pauses included
    paused: float | None = None
    handle_source: str | None = None


@dataclass
class Capacity:
    """Everything a recommendation for one policy reads: its quarter of tickets and the people serving it,
    in one unit of time. `agents_now[b]` is how many people serve the policy, on average, in the open time
    of hour-of-week `b` (shares of people, so not a whole number); `agents_then[b]` the same for the people
    who did last quarter's work (None: not known)."""

    quarter: Quarter
    team_id: int | None
    unit: Unit
    open_hours: list[float]
    weeks: float
    samples: list[TicketSample]
    agents_now: list[float]
    agents_then: list[float] | None = None
    staffing: dict[str, Any] = field(default_factory=dict)

    def staffed_buckets(self) -> list[int]:
        return [b for b in range(HOURS_OF_WEEK) if self.open_hours[b] > 0]

    def servers(self, bucket: int, *, then: bool = False) -> int:
        """Whole people serving the policy in the hour: a share of a person answers nobody on their own."""
        agents = self.agents_then if then else self.agents_now
        return 0 if agents is None else int(agents[bucket] + 1e-9)

    def arrivals(self, priorities: Iterable[str]) -> list[int]:
        wanted = set(priorities)
        counts = [0] * HOURS_OF_WEEK
        for s in self.samples:
            if s.priority in wanted:
                counts[s.bucket] += 1
        return counts

    def rates(self, priorities: Iterable[str]) -> dict[int, float]:
        """Arrivals per open hour in each staffed bucket, summed over `priorities`."""
        counts = self.arrivals(priorities)
        return {b: counts[b] / self.open_hours[b] for b in self.staffed_buckets()}

    def of_priority(self, priority: str) -> list[TicketSample]:
        return [s for s in self.samples if s.priority == priority]

    def describe(self) -> dict[str, Any]:
        staffed = self.staffed_buckets()
        on_duty = [self.agents_now[b] for b in staffed]
        return {
            "observed_quarter": self.quarter.label,
            "observed_from": self.quarter.start.isoformat(), "observed_to": self.quarter.end.isoformat(),
            "team_id": self.team_id, **self.unit.describe(),
            "staffed_hours_of_week": len(staffed),
            "open_hours_per_week": round(sum(self.open_hours) / self.weeks, 3) if self.weeks else 0.0,
            "tickets": len(self.samples),
            "arrivals_by_priority": {p: sum(1 for s in self.samples if s.priority == p) for p in PRIORITIES},
            "arrivals_while_closed_by_priority": {
                p: sum(1 for s in self.samples if s.priority == p and s.arrived_closed) for p in PRIORITIES},
            "arrival_rule": "arrivals per open hour of each hour of the week; a ticket created while the "
                            "calendar is closed is counted in the first business hour after, when its "
                            "clock starts and the backlog is worked off",
            "staffing": {**self.staffing,
                         "agents_on_shift_min": round(min(on_duty), 3) if on_duty else None,
                         "agents_on_shift_max": round(max(on_duty), 3) if on_duty else None,
                         "agents_on_shift_mean": round(sum(on_duty) / len(on_duty), 3) if on_duty else None},
        }


@dataclass
class History:
    """One quarter's tickets (all policies) and the steps of its calendar, in one unit of time."""

    quarter: Quarter
    team_id: int | None
    unit: Unit
    open_hours: list[float]
    weeks: float
    samples: list[TicketSample]
    steps: list[tuple[datetime, int, float]]
    _on_shift: dict[tuple[Shift, frozenset[str]], dict[str, list[float]]] = field(default_factory=dict,
                                                                                   repr=False)

    @cached_property
    def shares(self) -> tuple[dict[int, dict[int | None, float]], dict[int | None, float]]:
        return self.policy_shares()

    def on_shift(self, shift: Shift, timezones: Iterable[str]) -> dict[str, list[float]]:
        """`shifts.on_shift_hours` of this quarter's steps, computed once per shift and set of zones."""
        key = (shift, frozenset(timezones))
        if key not in self._on_shift:
            self._on_shift[key] = on_shift_hours(self.steps, shift, key[1])
        return self._on_shift[key]

    def policy_shares(self) -> tuple[dict[int, dict[int | None, float]], dict[int | None, float]]:
        """(per agent, the share of their working time that went to each policy's tickets; the same over
        everyone), from the tickets they held when solved."""
        per_agent: dict[int, Counter[int | None]] = defaultdict(Counter)
        overall: Counter[int | None] = Counter()
        for s in self.samples:
            if s.handle is None:
                continue
            weight = max(s.handle, 1e-6)  # a ticket solved at first touch still took somebody's attention
            overall[s.policy_id] += weight
            if s.assignee_id is not None:
                per_agent[s.assignee_id][s.policy_id] += weight
        return ({a: _normalised(c) for a, c in per_agent.items()}, _normalised(overall))

    def agents_for(self, policy_id: int | None, agents: list[Agent], shift: Shift) -> list[float]:
        """People serving the policy in each hour of the week, on average over its open time."""
        shares, overall = self.shares
        by_zone = self.on_shift(shift, (a.timezone for a in agents))
        serving = [0.0] * HOURS_OF_WEEK
        for agent in agents:
            share = shares.get(agent.user_id, overall).get(policy_id, 0.0) if (shares or overall) else 1.0
            if share <= 0:
                continue
            hours = by_zone[agent.timezone]
            for b in range(HOURS_OF_WEEK):
                if self.open_hours[b] > 0:
                    serving[b] += share * hours[b] / self.open_hours[b]
        return serving

    def for_policy(self, policy_id: int | None, *, now: list[Agent], then: list[Agent], shift: Shift
                   ) -> Capacity:
        shares, overall = self.shares
        share_now = [round(shares.get(a.user_id, overall).get(policy_id, 0.0), 6) for a in now]
        staffing = {
            "agents_now": len(now),
            "agents_now_by_tier": dict(Counter(a.tier for a in now if a.tier)),
            "agents_now_with_history": sum(1 for a in now if a.user_id in shares),
            "agent_equivalents_now": round(sum(share_now), 3),
            "agents_then": len(then), "agents_then_equivalents": round(
                sum(shares.get(a.user_id, {}).get(policy_id, 0.0) for a in then), 3),
            "policy_share_overall": round(overall.get(policy_id, 0.0), 6),
            "shift": shift.label, "shift_days": "Mon-Fri", "shift_hours_per_week": shift.hours_per_week,
            "timezones_now": dict(Counter(a.timezone for a in now)),
            "staffing_rule": (
                "today's active, available agents with an agent role (tier L1-L3) are on shift "
                f"{shift.label} on weekdays in their own time zone (no shift schedules are stored) and serve "
                "the policy while its calendar is open; each counts for the share of their working time "
                "that went to this policy's tickets last quarter (an agent without history: the policies' "
                "overall shares), and each hour has as many servers as whole people on shift in it"),
        }
        samples = [s for s in self.samples if s.policy_id == policy_id]
        return Capacity(quarter=self.quarter, team_id=self.team_id, unit=self.unit, open_hours=self.open_hours,
                        weeks=self.weeks, samples=samples, agents_now=self.agents_for(policy_id, now, shift),
                        agents_then=self.agents_for(policy_id, then, shift) if then else None,
                        staffing=staffing)


def _normalised(counts: Counter[int | None]) -> dict[int | None, float]:
    total = sum(counts.values())
    return {k: v / total for k, v in counts.items()} if total > 0 else {}


def _steps(unit: Unit, quarter: Quarter) -> list[tuple[datetime, int, float]]:
    steps = []
    t = quarter.start
    while t < quarter.end:
        nxt = t + _STEP
        steps.append((t, unit.bucket(t), unit.minutes(t, nxt)))
        t = nxt
    return steps


def _open_hours(steps: list[tuple[datetime, int, float]]) -> list[float]:
    hours = [0.0] * HOURS_OF_WEEK
    for _, bucket, minutes in steps:
        hours[bucket] += minutes / 60.0
    return hours


def _resolution_clocks(session: Session, quarter: Quarter, team_id: int | None) -> dict[int, SlaClock]:
    stmt = tickets_service.join_created_between(
        select(SlaClock).where(SlaClock.metric == "resolution", SlaClock.final_minutes.is_not(None)),
        SlaClock.ticket_id, start=quarter.start, end=quarter.end, team_id=team_id)
    return {c.ticket_id: c for c in session.scalars(stmt)}


def _same_unit(clk: SlaClock, unit: Unit) -> bool:
    if unit.calendar is None:
        return not clk.business_hours
    return clk.business_hours and clk.calendar_id == unit.calendar_id


@dataclass
class Records:
    """What the database holds of the quarter, read once per run and measured in each unit asked."""

    rows: list[Any]
    clocks: dict[int, SlaClock]
    changes: dict[int, list[StatusChange]]


def read_records(session: Session, *, quarter: Quarter, team_id: int | None) -> Records:
    """The quarter's tickets (created in it; the team's, or all), their resolution clocks and status changes."""
    rows = list(tickets_service.work_records(session, start=quarter.start, end=quarter.end, team_id=team_id))
    return Records(rows=rows, clocks=_resolution_clocks(session, quarter, team_id),
                   changes=status_changes(session, since=quarter.start, ticket_ids={r[0] for r in rows}))


def gather(records: Records, *, quarter: Quarter, team_id: int | None,
           calendar: BusinessCalendarRecord | None) -> History:
    """The quarter's tickets measured in one unit of time (the calendar's business minutes, or calendar
    minutes)."""
    unit = Unit.of(calendar)
    samples = []
    for ticket_id, priority, created_at, first_response_at, solved_at, assignee_id, policy_id, touched in \
            records.rows:
        bucket, closed = unit.arrival(created_at)
        first_response = unit.minutes(created_at, first_response_at) if first_response_at else None
        touch = min((t for t in (touched, first_response_at) if t is not None), default=None)
        work = None
        if touch is not None and solved_at is not None and solved_at >= touch:
            work = working_time(unit.minutes, created_at=created_at, touch=touch, solved=solved_at,
                                changes=records.changes.get(ticket_id, ()))
        resolution, source = None, None
        if solved_at is not None:
            clk = records.clocks.get(ticket_id)
            if clk is not None and _same_unit(clk, unit):
                resolution, source = float(clk.final_minutes), "sla_clock"
            else:
                resolution, source = unit.minutes(created_at, solved_at), "timestamps"
        samples.append(TicketSample(
            ticket_id=ticket_id, priority=priority, bucket=bucket, arrived_closed=closed,
            first_response=first_response, handle=None if work is None else work.working,
            resolution=resolution, resolution_source=source, policy_id=policy_id, assignee_id=assignee_id,
            elapsed=None if work is None else work.elapsed, paused=None if work is None else work.paused,
            handle_source=None if work is None else work.source))
    steps = _steps(unit, quarter)
    weeks = (quarter.end - quarter.start).total_seconds() / (7 * 86_400)
    return History(quarter=quarter, team_id=team_id, unit=unit, open_hours=_open_hours(steps), weeks=weeks,
                   samples=samples, steps=steps)
