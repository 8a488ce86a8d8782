"""Who is on shift when: a person's working day in their own time zone, against the calendar's open hours."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tierline.capacity.shifts import on_shift_hours, parse_shift
from tierline.platform.errors import Invalid

MONDAY = datetime(2026, 1, 5, tzinfo=UTC)  # winter: London is UTC, Tokyo UTC+9, New York UTC-5


def week_steps(open_from: int = 0, open_to: int = 24) -> list[tuple[datetime, int, float]]:
    """A week of quarter-hour steps in UTC, open between the hours given every day."""
    steps = []
    for i in range(7 * 96):
        t = MONDAY + timedelta(minutes=15 * i)
        steps.append((t, t.weekday() * 24 + t.hour, 15.0 if open_from <= t.hour < open_to else 0.0))
    return steps


def test_a_shift_is_a_weekday_working_day_in_the_persons_own_zone():
    shift = parse_shift("09:00-17:00")
    assert shift.hours_per_week == 40
    hours = on_shift_hours(week_steps(), shift, ["Europe/London", "Asia/Tokyo", "America/New_York"])
    london = [b for b, h in enumerate(hours["Europe/London"]) if h]
    assert london[0] == 9 and london[-1] == 4 * 24 + 16 and len(london) == 40
    assert hours["Asia/Tokyo"][0] == 1.0 and hours["Asia/Tokyo"][8] == 0.0  # Monday 09:00 in Tokyo is 00:00 UTC
    assert hours["America/New_York"][14] == 1.0 and hours["America/New_York"][22] == 0.0


def test_nobody_is_counted_while_the_calendar_is_closed():
    hours = on_shift_hours(week_steps(10, 11), parse_shift("09:00-17:00"), ["Europe/London"])
    assert sum(hours["Europe/London"]) == 5  # one open hour on each of five weekdays


def test_an_overnight_shift_runs_into_the_next_morning():
    shift = parse_shift("22:00-06:00")
    assert shift.covers(datetime(2026, 1, 5, 23, 0)) and shift.covers(datetime(2026, 1, 6, 5, 45))
    assert not shift.covers(datetime(2026, 1, 5, 5, 0))  # Monday early: Sunday had no shift
    assert shift.covers(datetime(2026, 1, 10, 3, 0))  # Saturday early: Friday's shift
    assert shift.hours_per_week == 40


def test_a_whole_day_is_a_shift():
    assert parse_shift("00:00-24:00").hours_per_week == 120


def test_a_stored_time_zone_that_is_not_one_counts_as_utc():
    hours = on_shift_hours(week_steps(), parse_shift("09:00-17:00"), ["Mars/Olympus"])
    assert hours["Mars/Olympus"][9] == 1.0


@pytest.mark.parametrize("text", ["9-17", "09:00", "25:00-26:00", "09:00-09:00", "24:00-08:00", "09:60-10:00",
                                  "09:00-24:30", ""])
def test_it_refuses_what_is_not_a_shift(text):
    with pytest.raises(Invalid) as caught:
        parse_shift(text)
    assert caught.value.extra["errors"][0]["field"] == "shift"


@settings(max_examples=50, deadline=None)
@given(start=st.integers(0, 95), length=st.integers(1, 95),
       zone=st.sampled_from(["UTC", "Asia/Kolkata", "Australia/Sydney", "America/Los_Angeles"]))
def test_nobody_works_more_than_the_open_hours_or_their_shift(start, length, zone):
    end = (start + length) % 96
    text = f"{start // 4:02d}:{start % 4 * 15:02d}-{end // 4:02d}:{end % 4 * 15:02d}"
    if end == 0:
        text = text[:6] + "24:00"
    shift = parse_shift(text)
    steps = week_steps()
    hours = on_shift_hours(steps, shift, [zone])[zone]
    assert all(0 <= h <= 1.0 + 1e-9 for h in hours)
    assert sum(hours) <= shift.hours_per_week + 1e-9
