"""Business time: the public maths behind every SLA target.

A calendar's weekly hours are turned, once per span of years, into a sorted list of UTC intervals of
business time with a running total of their lengths. Both public functions are then two binary searches:
`business_minutes_between(s, e)` is F(e) - F(s), where F(t) is the business time elapsed from the start of
the table up to t, and `add_business_minutes(s, m)` finds the earliest t with F(t) - F(s) >= m. No minute
stepping, so a warm calendar answers in microseconds.

Definition (the contract tests check against an independent computation): an interval [open, close] listed
under a weekday covers, for every local date D of that weekday that is not a holiday, the local wall-clock
date-times from D+open up to (not including) D+close, where a close earlier than the open ends on D+1. An
instant is business time when its local wall-clock time lies in a covered range, so a repeated DST hour inside
business hours counts twice and a skipped one counts zero.
"""

from __future__ import annotations

import bisect
import math
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_TIME = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)$|^24:00$")
_DAY = 86_400
_WEEK_MIN = 7 * 1440
_EPOCH = datetime(1970, 1, 1)
_MAX_YEARS = 50  # how far a target may lie beyond the start before we call the calendar empty
# A calendar's table grows to take in each new question's years, but never across more than this many: a
# question about years far from the table's (a capacity plan for 5391Q3) gets a table of its own years, not
# one reaching back to the present, which would take minutes to build and hold in memory for good.
_MAX_TABLE_YEARS = _MAX_YEARS + 10
# The years business-time questions from outside (the API, capacity plans) may ask about.
FIRST_YEAR, LAST_YEAR = 1970, 2199


def _parse_time(value: Any, where: str) -> int:
    if not isinstance(value, str) or not _TIME.match(value):
        raise ValueError(f"{where}: malformed time {value!r}; use HH:MM (24:00 allowed as a close)")
    hours, minutes = value.split(":")
    return int(hours) * 60 + int(minutes)


@dataclass(frozen=True)
class Interval:
    """Minutes after local midnight; `close` may exceed 1440 for an overnight interval."""

    open: int
    close: int


def _validate_week(hours: Mapping[str, list[Interval]]) -> None:
    spans: list[tuple[int, int, str]] = []
    for day, intervals in hours.items():
        base = WEEKDAYS.index(day) * 1440
        for iv in intervals:
            spans.append((base + iv.open, base + iv.close, day))
    # An overnight Sunday interval runs into Monday: compare on a circle by also shifting every span a week.
    shifted = spans + [(s + _WEEK_MIN, e + _WEEK_MIN, d) for s, e, d in spans]
    shifted.sort()
    for (s1, e1, d1), (s2, e2, d2) in zip(shifted, shifted[1:], strict=False):
        if s2 < e1:
            raise ValueError(f"overlapping intervals on {d1} and {d2}")


@dataclass
class BusinessCalendar:
    timezone: str
    hours: dict[str, list[Interval]] | None  # None means 24/7
    holidays: frozenset[date] = frozenset()
    holiday_country: str | None = None
    holiday_subdivision: str | None = None
    _tz: ZoneInfo = field(init=False, repr=False)
    _table: _Table | None = field(default=None, init=False, repr=False)
    _country_cache: dict[int, frozenset[date]] = field(default_factory=dict, init=False, repr=False)

    def __post_init__(self) -> None:
        try:
            self._tz = ZoneInfo(self.timezone)
        except (ZoneInfoNotFoundError, ValueError, TypeError) as exc:
            raise ValueError(f"timezone: unknown time zone {self.timezone!r}") from exc
        if self.holiday_country:
            self._country_holidays(2000)  # fail now on an unknown country or subdivision

    @classmethod
    def from_dict(cls, spec: Mapping[str, Any]) -> BusinessCalendar:
        if not isinstance(spec, Mapping):
            raise ValueError("calendar: must be an object")
        tz = spec.get("timezone", "UTC")
        if not isinstance(tz, str):
            raise ValueError(f"timezone: unknown time zone {tz!r}")
        raw_hours = spec.get("hours")
        hours: dict[str, list[Interval]] | None
        if raw_hours == "24/7":
            hours = None
        elif isinstance(raw_hours, Mapping):
            hours = {}
            for day, intervals in raw_hours.items():
                if day not in WEEKDAYS:
                    raise ValueError(f"hours.{day}: unknown weekday; use {', '.join(WEEKDAYS)}")
                if not isinstance(intervals, list):
                    raise ValueError(f"hours.{day}: must be a list of [open, close] pairs")
                parsed = []
                for i, pair in enumerate(intervals):
                    where = f"hours.{day}.{i}"
                    if not isinstance(pair, (list, tuple)) or len(pair) != 2:
                        raise ValueError(f"{where}: must be an [open, close] pair")
                    opening = _parse_time(pair[0], where)
                    closing = _parse_time(pair[1], where)
                    if opening == 1440:
                        raise ValueError(f"{where}: 24:00 can only be a close")
                    if opening == closing:
                        raise ValueError(f"{where}: open and close are equal")
                    if closing < opening:
                        closing += 1440  # overnight: ends on the next day
                    parsed.append(Interval(opening, closing))
                hours[day] = parsed
            _validate_week(hours)
            if not any(hours.values()):
                raise ValueError("hours: the calendar has no business hours at all; nothing could ever be due")
        else:
            raise ValueError("hours: must be a mapping of weekday to intervals, or \"24/7\"")
        listed = set()
        for i, value in enumerate(spec.get("holidays") or []):
            try:
                listed.add(value if isinstance(value, date) else date.fromisoformat(value))
            except (TypeError, ValueError) as exc:
                raise ValueError(f"holidays.{i}: not an ISO date {value!r}") from exc
        return cls(timezone=tz, hours=hours, holidays=frozenset(listed),
                   holiday_country=spec.get("holiday_country") or None,
                   holiday_subdivision=spec.get("holiday_subdivision") or None)

    # -- holidays --------------------------------------------------------------------------------------

    def _country_holidays(self, year: int) -> frozenset[date]:
        cached = self._country_cache.get(year)
        if cached is not None:
            return cached
        import holidays as holidays_lib

        try:
            found = holidays_lib.country_holidays(self.holiday_country, subdiv=self.holiday_subdivision,
                                                  years=[year])
        except NotImplementedError as exc:
            raise ValueError(f"holiday_country: {exc}") from exc
        result = frozenset(found.keys())
        self._country_cache[year] = result
        return result

    def is_holiday(self, day: date) -> bool:
        if day in self.holidays:
            return True
        return bool(self.holiday_country) and day in self._country_holidays(day.year)

    # -- the table -------------------------------------------------------------------------------------

    def table_for(self, lo: float, hi: float) -> _Table:
        """A table covering epoch seconds [lo, hi], built or widened as needed."""
        table = self._table
        if table is None or lo < table.start or hi > table.end:
            first, last = _year_of(lo) - 1, _year_of(hi) + 1
            if table is not None and (max(last, table.last_year) - min(first, table.first_year)
                                      <= max(_MAX_TABLE_YEARS, last - first)):
                first, last = min(first, table.first_year), max(last, table.last_year)
            table = self._table = _Table.build(self, first, last)
        return table

    def covered_local_ranges(self, first: date, last: date) -> Iterable[tuple[int, int]]:
        """(start, end) local wall-clock seconds since the epoch, for dates first..last."""
        assert self.hours is not None
        day = first
        while day <= last:
            intervals = self.hours.get(WEEKDAYS[day.weekday()])
            if intervals and not self.is_holiday(day):
                midnight = (day - _EPOCH.date()).days * _DAY
                for iv in intervals:
                    yield midnight + iv.open * 60, midnight + iv.close * 60
            day += timedelta(days=1)


def _year_of(epoch_seconds: float) -> int:
    return (_EPOCH + timedelta(seconds=epoch_seconds)).year


def _offset_segments(tz: ZoneInfo, lo: int, hi: int) -> list[tuple[int, int, int]]:
    """(start, end, utc offset seconds) pieces of constant offset covering UTC epoch seconds [lo, hi)."""

    def offset(t: int) -> int:
        return int(datetime.fromtimestamp(t, UTC).astimezone(tz).utcoffset().total_seconds())

    segments: list[tuple[int, int, int]] = []
    start, current = lo, offset(lo)
    step = 6 * 3600
    t = lo
    while t < hi:
        nxt = min(t + step, hi)
        if offset(nxt) != current:
            a, b = t, nxt  # the change lies in (a, b]: find the first second with the new offset
            while b - a > 1:
                mid = (a + b) // 2
                if offset(mid) == current:
                    a = mid
                else:
                    b = mid
            segments.append((start, b, current))
            start, current = b, offset(b)
        t = nxt
    segments.append((start, hi, current))
    return segments


@dataclass
class _Table:
    start: float
    end: float
    first_year: int
    last_year: int
    starts: list[float]
    ends: list[float]
    cum: list[float]  # business seconds before interval i

    @classmethod
    def build(cls, cal: BusinessCalendar, first_year: int, last_year: int) -> _Table:
        lo_local = (date(first_year, 1, 1) - _EPOCH.date()).days * _DAY
        hi_local = (date(last_year + 1, 1, 1) - _EPOCH.date()).days * _DAY
        if cal.hours is None:  # 24/7: one interval; holidays do not apply
            return cls(lo_local, hi_local, first_year, last_year, [float(lo_local)], [float(hi_local)], [0.0])
        segments = _offset_segments(cal._tz, lo_local - 2 * _DAY, hi_local + 2 * _DAY)
        seg_starts = [s[0] for s in segments]
        pieces: list[tuple[int, int]] = []
        # Dates two days past either end: a UTC+14 zone's next-day hours fall inside the table's last UTC day.
        first_day, last_day = date(first_year, 1, 1) - timedelta(days=2), date(last_year + 1, 1, 2)
        for a, b in cal.covered_local_ranges(first_day, last_day):
            # Instants whose wall time is in [a, b): in each constant-offset piece, [a - off, b - off).
            i = max(0, bisect.bisect_right(seg_starts, a - 16 * 3600) - 1)
            while i < len(segments) and segments[i][0] < b + 16 * 3600:
                s0, s1, off = segments[i]
                x, y = max(a - off, s0), min(b - off, s1)
                if x < y:
                    pieces.append((x, y))
                i += 1
        pieces.sort()
        starts: list[float] = []
        ends: list[float] = []
        for x, y in pieces:
            if y <= lo_local or x >= hi_local:
                continue
            x, y = max(x, lo_local), min(y, hi_local)
            if ends and x <= ends[-1]:
                ends[-1] = max(ends[-1], y)  # adjacent pieces (e.g. 24:00 then 00:00) merge
            else:
                starts.append(float(x))
                ends.append(float(y))
        cum, total = [], 0.0
        for x, y in zip(starts, ends, strict=True):
            cum.append(total)
            total += y - x
        return cls(lo_local, hi_local, first_year, last_year, starts, ends, cum)

    def elapsed(self, t: float) -> float:
        """Business seconds from the table's start up to instant t."""
        i = bisect.bisect_right(self.starts, t) - 1
        if i < 0:
            return 0.0
        return self.cum[i] + min(t, self.ends[i]) - self.starts[i]

    def total(self) -> float:
        return self.cum[-1] + self.ends[-1] - self.starts[-1] if self.starts else 0.0

    def instant_at(self, target: float) -> float | None:
        """The earliest instant whose elapsed() reaches `target`, or None beyond the table."""
        if target > self.total():
            return None
        i = bisect.bisect_left(self.cum, target) - 1
        i = max(i, 0)
        # cum[i] < target <= cum[i] + length(i); move on while this interval cannot hold it
        while i + 1 < len(self.cum) and self.cum[i] + (self.ends[i] - self.starts[i]) < target:
            i += 1
        return self.starts[i] + (target - self.cum[i])


def _epoch(dt: datetime, name: str) -> float:
    if not isinstance(dt, datetime) or dt.tzinfo is None or dt.utcoffset() is None:
        raise ValueError(f"{name} must be a timezone-aware datetime")
    return dt.timestamp()


def business_minutes_between(cal: BusinessCalendar, start: datetime, end: datetime) -> float:
    """Real elapsed minutes of business instants in [start, end)."""
    s, e = _epoch(start, "start"), _epoch(end, "end")
    if e < s:
        raise ValueError("end is before start")
    table = cal.table_for(s, e)
    return (table.elapsed(e) - table.elapsed(s)) / 60.0


def add_business_minutes(cal: BusinessCalendar, start: datetime, minutes: float) -> datetime:
    """The earliest instant t >= start with business_minutes_between(start, t) >= minutes (UTC)."""
    s = _epoch(start, "start")
    if isinstance(minutes, bool) or not isinstance(minutes, (int, float)) or math.isnan(minutes) \
            or minutes < 0 or math.isinf(minutes):
        raise ValueError("minutes must be a number >= 0")
    if minutes == 0:
        return start.astimezone(UTC)
    # Guess an end generous enough for most targets, widen while the target lies beyond the table.
    horizon = s + max(minutes * 60 * 8, 14 * _DAY)
    for _ in range(8):
        table = cal.table_for(s, min(horizon, s + _MAX_YEARS * 366 * _DAY))
        target = table.elapsed(s) + minutes * 60.0
        t = table.instant_at(target)
        if t is not None:
            return datetime.fromtimestamp(t, UTC) if t > s else start.astimezone(UTC)
        if horizon >= s + _MAX_YEARS * 366 * _DAY:
            break
        horizon = s + (horizon - s) * 4
    raise ValueError("the target lies beyond the calendar's business hours")
