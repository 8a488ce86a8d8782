"""Capacity inputs for SLA recommendations, read from one quarter of history.

What a recommendation needs, per priority, measured in one unit of time (business minutes of a calendar, or
calendar minutes when no calendar applies):

- arrivals per hour of the week (168 buckets, Monday 00:00 first, in the calendar's time zone, UTC without
  one), and how many open (staffed) hours each bucket had over the quarter, so a rate is arrivals per open
  hour. A ticket created while the calendar is closed starts its business clock at the next opening and is
  worked off with the backlog in the first business hour, so it is counted in the hour of its 30th business
  minute;
- handle times: until time tracking exists, the minutes from the first agent touch (`first_response_at`) to
  `solved_at`, an estimate that includes time spent waiting on the customer;
- first-response and resolution minutes as observed (resolution from the ticket's SLA clock when it ran in
  the same unit, since the clock leaves out paused time; else from creation to solve);
- staffing: active, available agents per tier (from their agent role) with their `max_open_tickets`. Every
  such agent is taken to be on duty whenever the calendar is open (no shift schedules yet) and nobody is
  on duty while it is closed.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from tierline.people import service as people_service
from tierline.platform.errors import Invalid
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
                    "hours": "round the clock: no calendar applies, so agents are taken as on duty at all "
                             "hours"}
        return {"unit": self.name, "timezone": self.timezone,
                "calendar": {"id": self.calendar_id, "name": self.calendar_name, "timezone": self.timezone}}


# -- staffing -------------------------------------------------------------------------------------------

@dataclass
class Staffing:
    agents_by_tier: dict[str, int]
    slots_by_tier: dict[str, int]

    @property
    def agents(self) -> int:
        return sum(self.agents_by_tier.values())

    @property
    def slots(self) -> int:
        return sum(self.slots_by_tier.values())

    def as_dict(self) -> dict[str, Any]:
        return {"agents_by_tier": dict(self.agents_by_tier), "slots_by_tier": dict(self.slots_by_tier),
                "agents": self.agents, "slots": self.slots,
                "slots_per_agent": round(self.slots / self.agents, 6) if self.agents else None}


def staffing(session: Session, *, team_id: int | None) -> Staffing:
    """Active, available agents (a tier from an agent role) of the team, or of everyone without a team."""
    agents: Counter[str] = Counter()
    slots: Counter[str] = Counter()
    cursor = None
    while True:
        users, cursor = people_service.list_users(session, team_id=team_id, active=True, available=True,
                                                  limit=200, cursor=cursor)
        for user in users:
            if user.tier is not None:
                agents[user.tier] += 1
                slots[user.tier] += max(0, user.max_open_tickets)
        if cursor is None:
            break
    return Staffing(agents_by_tier={t: agents[t] for t in TIERS}, slots_by_tier={t: slots[t] for t in TIERS})


# -- one quarter of tickets -----------------------------------------------------------------------------

@dataclass
class TicketSample:
    ticket_id: int
    priority: str
    bucket: int
    arrived_closed: bool
    first_response: float | None
    handle: float | None
    resolution: float | None
    resolution_source: str | None


@dataclass
class Capacity:
    """Everything a recommendation reads, for one quarter, one team (or all) and one unit of time."""

    quarter: Quarter
    team_id: int | None
    unit: Unit
    open_hours: list[float]
    weeks: float
    samples: list[TicketSample]
    staffing: Staffing

    def staffed_buckets(self) -> list[int]:
        return [b for b in range(HOURS_OF_WEEK) if self.open_hours[b] > 0]

    @property
    def servers(self) -> int:
        """Open-ticket slots on duty in any staffed hour (the same in every one until shifts exist)."""
        return self.staffing.slots

    def arrivals(self, priority: str) -> list[int]:
        counts = [0] * HOURS_OF_WEEK
        for s in self.samples:
            if s.priority == priority:
                counts[s.bucket] += 1
        return counts

    def rates(self, priorities: Iterable[str]) -> dict[int, float]:
        """Arrivals per open hour in each staffed bucket, summed over `priorities`."""
        wanted = set(priorities)
        counts = [0] * HOURS_OF_WEEK
        for s in self.samples:
            if s.priority in wanted:
                counts[s.bucket] += 1
        return {b: counts[b] / self.open_hours[b] for b in self.staffed_buckets()}

    def of_priority(self, priority: str) -> list[TicketSample]:
        return [s for s in self.samples if s.priority == priority]

    def describe(self) -> dict[str, Any]:
        staffed = self.staffed_buckets()
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
            "staffing": self.staffing.as_dict(),
            "staffing_rule": "active, available agents with an agent role (tier L1-L3) are on duty whenever "
                             "the calendar is open and off while it is closed; each works up to "
                             "max_open_tickets tickets at once, so each open ticket holds one of their "
                             "slots (the servers of the queue) from first touch to solve",
        }


def _open_hours(unit: Unit, quarter: Quarter) -> list[float]:
    hours = [0.0] * HOURS_OF_WEEK
    t = quarter.start
    while t < quarter.end:
        nxt = t + _STEP
        hours[unit.bucket(t)] += unit.minutes(t, nxt) / 60.0
        t = nxt
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


def gather(session: Session, *, quarter: Quarter, team_id: int | None,
           calendar: BusinessCalendarRecord | None, staff: Staffing | None = None) -> Capacity:
    """Read `quarter`'s tickets (created in it; the team's, or all) and the staffing, in one unit of time."""
    unit = Unit.of(calendar)
    clocks = _resolution_clocks(session, quarter, team_id)
    rows = tickets_service.created_between(session, start=quarter.start, end=quarter.end, team_id=team_id)
    samples = []
    for ticket_id, priority, created_at, first_response_at, solved_at in rows:
        bucket, closed = unit.arrival(created_at)
        first_response = unit.minutes(created_at, first_response_at) if first_response_at else None
        handle = None
        if first_response_at is not None and solved_at is not None and solved_at >= first_response_at:
            handle = unit.minutes(first_response_at, solved_at)
        resolution, source = None, None
        if solved_at is not None:
            clk = clocks.get(ticket_id)
            if clk is not None and _same_unit(clk, unit):
                resolution, source = float(clk.final_minutes), "sla_clock"
            else:
                resolution, source = unit.minutes(created_at, solved_at), "timestamps"
        samples.append(TicketSample(ticket_id=ticket_id, priority=priority, bucket=bucket,
                                    arrived_closed=closed, first_response=first_response, handle=handle,
                                    resolution=resolution, resolution_source=source))
    weeks = (quarter.end - quarter.start).total_seconds() / (7 * 86_400)
    return Capacity(quarter=quarter, team_id=team_id, unit=unit, open_hours=_open_hours(unit, quarter),
                    weeks=weeks, samples=samples,
                    staffing=staff if staff is not None else staffing(session, team_id=team_id))
