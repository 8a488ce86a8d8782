"""Business-time maths against an independent minute-stepping computation, and its algebra."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tierline.sla.business_time import (
    WEEKDAYS,
    BusinessCalendar,
    add_business_minutes,
    business_minutes_between,
)

SPECS = {
    "berlin_split_shift": {
        "timezone": "Europe/Berlin",
        "hours": {"mon": [["09:00", "12:30"], ["13:30", "17:00"]], "tue": [["09:00", "17:00"]],
                  "wed": [["09:00", "17:00"]], "thu": [["09:00", "17:00"]], "fri": [["09:00", "15:00"]],
                  "sun": []},
        "holidays": ["2026-12-24", "2026-12-25"],
        "holiday_country": "DE", "holiday_subdivision": "BE",
    },
    "new_york_dst_nights": {
        "timezone": "America/New_York",
        "hours": {"sat": [["22:00", "03:00"]], "sun": [],
                  "mon": [["00:00", "24:00"]], "tue": [["01:00", "02:30"], ["09:00", "17:00"]]},
    },
    "london_every_night": {
        "timezone": "Europe/London",
        "hours": {d: [["00:30", "02:30"], ["20:00", "24:00"]] for d in WEEKDAYS},
        "holidays": ["2026-03-29", "2026-10-25"],
    },
    "lord_howe_half_hour_dst": {
        "timezone": "Australia/Lord_Howe",
        "hours": {d: [["01:00", "03:00"], ["08:00", "18:00"]] for d in WEEKDAYS},
    },
    "kathmandu_overnight": {
        "timezone": "Asia/Kathmandu",
        "hours": {"fri": [["23:00", "02:00"]], "sat": [["10:00", "14:45"]]},
    },
    "always_open": {"timezone": "UTC", "hours": "24/7"},
}
CALENDARS = {name: BusinessCalendar.from_dict(spec) for name, spec in SPECS.items()}


def _covered(cal: BusinessCalendar, local: datetime) -> bool:
    """Independent reading of the definition: is this local wall-clock time inside a covered range?"""
    if cal.hours is None:
        return True
    for back in (0, 1):
        day = (local - timedelta(days=back)).date()
        if cal.is_holiday(day):
            continue
        midnight = datetime.combine(day, datetime.min.time())
        for iv in cal.hours.get(WEEKDAYS[day.weekday()], []):
            if midnight + timedelta(minutes=iv.open) <= local < midnight + timedelta(minutes=iv.close):
                return True
    return False


def brute_minutes(cal: BusinessCalendar, start: datetime, end: datetime) -> int:
    tz = ZoneInfo(cal.timezone)
    total, t = 0, start
    while t < end:
        if _covered(cal, t.astimezone(tz).replace(tzinfo=None)):
            total += 1
        t += timedelta(minutes=1)
    return total


# DST changes of 2026 lie inside this window for every zone above.
minute_starts = st.integers(min_value=0, max_value=365 * 1440).map(
    lambda m: datetime(2026, 1, 1, tzinfo=UTC) + timedelta(minutes=m))
any_starts = st.floats(min_value=0, max_value=365 * 86400, allow_nan=False).map(
    lambda s: datetime(2026, 1, 1, tzinfo=UTC) + timedelta(seconds=s))
names = st.sampled_from(sorted(CALENDARS))
minutes = st.floats(min_value=0, max_value=5 * 24 * 60, allow_nan=False)


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(name=names, start=minute_starts, span=st.integers(min_value=0, max_value=3 * 1440))
def test_it_agrees_with_minute_stepping(name, start, span):
    cal = CALENDARS[name]
    end = start + timedelta(minutes=span)
    assert abs(business_minutes_between(cal, start, end) - brute_minutes(cal, start, end)) < 1e-6


@pytest.mark.parametrize("name", sorted(CALENDARS))
def test_it_agrees_with_minute_stepping_across_every_dst_change_of_the_year(name):
    cal = CALENDARS[name]
    tz = ZoneInfo(cal.timezone)
    day = datetime(2026, 1, 1, tzinfo=UTC)
    while day.year == 2026:
        nxt = day + timedelta(days=1)
        if day.astimezone(tz).utcoffset() != nxt.astimezone(tz).utcoffset():
            start, end = day - timedelta(days=1), nxt + timedelta(days=1)
            assert abs(business_minutes_between(cal, start, end) - brute_minutes(cal, start, end)) < 1e-6
        day = nxt


@settings(max_examples=300, deadline=None)
@given(name=names, start=any_starts, m=minutes)
def test_round_trip_add_then_measure(name, start, m):
    cal = CALENDARS[name]
    due = add_business_minutes(cal, start, m)
    assert due >= start
    assert abs(business_minutes_between(cal, start, due) - m) < 1e-6
    if m > 1e-3:  # and it is the earliest such instant
        assert business_minutes_between(cal, start, due - timedelta(milliseconds=10)) < m


@settings(max_examples=200, deadline=None)
@given(name=names, start=any_starts, a=minutes, b=minutes)
def test_adding_is_monotonic_and_additive(name, start, a, b):
    cal = CALENDARS[name]
    lo, hi = sorted((a, b))
    assert add_business_minutes(cal, start, lo) <= add_business_minutes(cal, start, hi)
    mid = add_business_minutes(cal, start, a)
    whole = add_business_minutes(cal, start, a + b)
    assert abs((whole - add_business_minutes(cal, mid, b)).total_seconds()) < 1e-3


@settings(max_examples=200, deadline=None)
@given(name=names, s=any_starts, d1=st.integers(0, 10 * 86400), d2=st.integers(0, 10 * 86400))
def test_measuring_is_additive_over_adjacent_spans(name, s, d1, d2):
    cal = CALENDARS[name]
    m = s + timedelta(seconds=d1)
    e = m + timedelta(seconds=d2)
    total = business_minutes_between(cal, s, e)
    assert abs(total - business_minutes_between(cal, s, m) - business_minutes_between(cal, m, e)) < 1e-6


def test_a_target_ending_at_a_close_is_due_at_that_close():
    cal = CALENDARS["berlin_split_shift"]
    start = datetime(2026, 11, 24, 9, 0, tzinfo=ZoneInfo("Europe/Berlin"))  # a Tuesday
    due = add_business_minutes(cal, start, 8 * 60)
    assert due == datetime(2026, 11, 24, 17, 0, tzinfo=ZoneInfo("Europe/Berlin"))


def test_zero_minutes_is_the_start_even_outside_hours():
    cal = CALENDARS["berlin_split_shift"]
    start = datetime(2026, 11, 28, 3, 0, tzinfo=UTC)  # a Saturday night
    assert add_business_minutes(cal, start, 0) == start


def test_holidays_skip_the_whole_interval_even_after_midnight():
    cal = BusinessCalendar.from_dict({"timezone": "UTC", "hours": {"thu": [["22:00", "02:00"]]},
                                      "holidays": ["2026-12-24"]})
    start = datetime(2026, 12, 24, 0, 0, tzinfo=UTC)
    assert business_minutes_between(cal, start, start + timedelta(days=2)) == 0
    assert add_business_minutes(cal, start, 60) == datetime(2026, 12, 31, 23, 0, tzinfo=UTC)


def test_a_repeated_dst_hour_counts_twice_and_a_skipped_one_not_at_all():
    cal = BusinessCalendar.from_dict({"timezone": "America/New_York", "hours": {"sun": [["01:00", "03:00"]]}})
    fall = datetime(2026, 11, 1, 4, 0, tzinfo=UTC)  # 00:00 EDT on the day clocks go back
    assert business_minutes_between(cal, fall, fall + timedelta(hours=6)) == pytest.approx(180)
    spring = datetime(2026, 3, 8, 5, 0, tzinfo=UTC)  # 00:00 EST on the day clocks go forward
    assert business_minutes_between(cal, spring, spring + timedelta(hours=6)) == pytest.approx(60)


def test_24_7_ignores_holidays():
    cal = BusinessCalendar.from_dict({"timezone": "Europe/Paris", "hours": "24/7", "holidays": ["2026-12-25"]})
    start = datetime(2026, 12, 25, tzinfo=UTC)
    assert business_minutes_between(cal, start, start + timedelta(days=1)) == pytest.approx(1440)


@pytest.mark.parametrize("spec, fragment", [
    ({"timezone": "Mars/Olympus", "hours": "24/7"}, "timezone"),
    ({"timezone": "UTC", "hours": {"funday": [["09:00", "17:00"]]}}, "weekday"),
    ({"timezone": "UTC", "hours": {"mon": [["9am", "17:00"]]}}, "malformed"),
    ({"timezone": "UTC", "hours": {"mon": [["25:00", "17:00"]]}}, "malformed"),
    ({"timezone": "UTC", "hours": {"mon": [["09:00", "09:00"]]}}, "equal"),
    ({"timezone": "UTC", "hours": {"mon": [["09:00", "12:00"], ["11:00", "13:00"]]}}, "overlapping"),
    ({"timezone": "UTC", "hours": {"mon": [["22:00", "03:00"]], "tue": [["02:00", "05:00"]]}}, "overlapping"),
    ({"timezone": "UTC", "hours": {"sun": [["22:00", "03:00"]], "mon": [["01:00", "05:00"]]}}, "overlapping"),
    ({"timezone": "UTC", "hours": {"mon": []}}, "no business hours"),
    ({"timezone": "UTC", "hours": {"mon": [["09:00", "17:00"]]}, "holiday_country": "XX"}, "holiday_country"),
])
def test_it_rejects_bad_calendars_saying_which(spec, fragment):
    with pytest.raises(ValueError, match=fragment):
        BusinessCalendar.from_dict(spec)


def test_it_rejects_naive_times_negative_minutes_and_reversed_spans():
    cal = CALENDARS["always_open"]
    aware = datetime(2026, 1, 1, tzinfo=UTC)
    with pytest.raises(ValueError):
        add_business_minutes(cal, datetime(2026, 1, 1), 5)
    with pytest.raises(ValueError):
        add_business_minutes(cal, aware, -1)
    with pytest.raises(ValueError):
        business_minutes_between(cal, aware, aware - timedelta(seconds=1))
