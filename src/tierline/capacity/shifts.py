"""Who is on shift when: the servers of the queue are people at work, not open-ticket slots.

Tierline stores no shift schedules yet. What it knows of a person is whether they are active and available,
their agent role (tier) and their time zone, and what it knows of a team's hours is the business calendar
of the policy it works under. So an agent is taken to work one shift (09:00-17:00 unless the plan says
otherwise) on weekdays in their own time zone, and to serve a policy's queue during that shift while the
policy's calendar is open. Agents spread over time zones therefore cover a follow-the-sun calendar hour by
hour, and an hour of the week has as many servers as there are people at work in it.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from tierline.platform.errors import Invalid

DEFAULT_SHIFT = "09:00-17:00"
WEEKDAYS = (0, 1, 2, 3, 4)
SHIFT_PATTERN = r"^([01][0-9]|2[0-4]):([0-5][0-9])-([01][0-9]|2[0-4]):([0-5][0-9])$"
_SHIFT = re.compile(SHIFT_PATTERN)
HOURS_OF_WEEK = 168


@dataclass(frozen=True)
class Shift:
    """A working day from `start` to `end` (minutes of the local day) on `days` (Monday 0); a shift that ends
    before it starts runs overnight into the next day."""

    start: int
    end: int
    days: tuple[int, ...] = WEEKDAYS

    @property
    def label(self) -> str:
        def hhmm(m: int) -> str:
            return f"{m // 60:02d}:{m % 60:02d}"
        return f"{hhmm(self.start)}-{hhmm(self.end)}"

    @property
    def hours_per_week(self) -> float:
        span = self.end - self.start if self.end > self.start else 1440 - self.start + self.end
        return span * len(self.days) / 60.0

    def covers(self, local: datetime) -> bool:
        """Whether the local instant falls in a shift."""
        minute, day = local.hour * 60 + local.minute, local.weekday()
        if self.start < self.end:
            return day in self.days and self.start <= minute < self.end
        return (day in self.days and minute >= self.start) or ((day - 1) % 7 in self.days and minute < self.end)


def parse_shift(text: str, *, field_name: str = "shift") -> Shift:
    """`09:00-17:00` -> Shift on weekdays; `22:00-06:00` runs overnight; anything else is a 422 naming the
    field."""
    match = _SHIFT.match(text.strip()) if isinstance(text, str) else None
    if match is None:
        raise Invalid(field_name, f"{text!r} is not a shift; write it like 09:00-17:00")
    start = int(match.group(1)) * 60 + int(match.group(2))
    end = int(match.group(3)) * 60 + int(match.group(4))
    if start >= 1440 or end > 1440:
        raise Invalid(field_name, "a shift starts before 24:00 and ends at 24:00 at the latest")
    if start == end:
        raise Invalid(field_name, "a shift needs a length: start and end are the same time")
    return Shift(start=start, end=end)


def zone(name: str) -> ZoneInfo:
    """The person's time zone; UTC when what is stored is not one (the plan says which people it assumed)."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def on_shift_hours(steps: Iterable[tuple[datetime, int, float]], shift: Shift,
                   timezones: Iterable[str]) -> dict[str, list[float]]:
    """Per time zone, the open hours of each hour of the week in which somebody in that zone is on shift.

    `steps` are the plan's quarter-hour steps: (instant, hour-of-week bucket in the calendar's zone, open
    minutes of the calendar in the step). Every zone's offset is a multiple of 15 minutes, so a step is
    wholly in or out of a shift."""
    zones = {name: zone(name) for name in set(timezones)}
    hours = {name: [0.0] * HOURS_OF_WEEK for name in zones}
    for instant, bucket, open_minutes in steps:
        if open_minutes <= 0:
            continue
        for name, tz in zones.items():
            if shift.covers(instant.astimezone(tz)):
                hours[name][bucket] += open_minutes / 60.0
    return hours
