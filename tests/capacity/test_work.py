"""Agent working time: first touch to solve, less the time a ticket waited on someone else."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tierline.capacity.work import working_time

T0 = datetime(2026, 7, 6, 9, 0, tzinfo=UTC)
STATUSES = ("new", "open", "pending_customer", "on_hold", "solved")


def calendar_minutes(start: datetime, end: datetime) -> float:
    return (end - start).total_seconds() / 60.0


def at(minutes: float) -> datetime:
    return T0 + timedelta(minutes=minutes)


def test_time_pending_and_on_hold_is_nobodys_work():
    changes = [(at(0), None, "new"), (at(10), "new", "open"), (at(30), "open", "pending_customer"),
               (at(120), "pending_customer", "open"), (at(150), "open", "on_hold"), (at(200), "on_hold", "open")]
    work = working_time(calendar_minutes, created_at=at(0), touch=at(10), solved=at(240), changes=changes)
    assert work.working == pytest.approx(20 + 30 + 40)
    assert work.paused == pytest.approx(90 + 50)
    assert work.elapsed == pytest.approx(230)
    assert work.source == "status history"


def test_a_reopened_ticket_counts_neither_the_time_it_was_solved_nor_after_its_last_solve():
    changes = [(at(0), None, "open"), (at(60), "open", "solved"), (at(300), "solved", "open"),
               (at(330), "open", "solved"), (at(900), "solved", "open")]
    work = working_time(calendar_minutes, created_at=at(0), touch=at(5), solved=at(330), changes=changes)
    assert work.working == pytest.approx(55 + 30)
    assert work.solved_between == pytest.approx(240)


def test_without_a_status_history_it_counts_from_touch_to_solve_and_says_so():
    work = working_time(calendar_minutes, created_at=at(0), touch=at(5), solved=at(65), changes=[])
    assert (work.working, work.paused, work.source) == (60, 0, "no status history")


def test_it_measures_in_the_unit_it_is_given():
    def business(start: datetime, end: datetime) -> float:  # only the first hour of each day counts
        return sum(1 for m in range(int(calendar_minutes(T0, start)), int(calendar_minutes(T0, end)))
                   if m % 1440 < 60)
    changes = [(at(0), None, "open")]
    work = working_time(business, created_at=at(0), touch=at(30), solved=at(1440 + 20), changes=changes)
    assert work.working == 30 + 20


changes_strategy = st.lists(st.tuples(st.floats(0, 5_000), st.sampled_from(STATUSES)), max_size=12)


@settings(max_examples=300, deadline=None)
@given(raw=changes_strategy, touch=st.floats(0, 5_000), length=st.floats(0, 5_000))
def test_working_and_waiting_add_up_to_the_elapsed_time(raw, touch, length):
    raw = sorted(raw)
    changes, before = [], "new"
    for minute, status in raw:
        changes.append((at(minute), before, status))
        before = status
    work = working_time(calendar_minutes, created_at=at(0), touch=at(touch), solved=at(touch + length),
                        changes=changes)
    assert 0 <= work.working <= work.elapsed + 1e-6
    assert work.paused >= 0 and work.solved_between >= 0
    if changes:
        assert work.working + work.paused + work.solved_between == pytest.approx(work.elapsed, abs=1e-6)
    else:
        assert work.working == pytest.approx(work.elapsed)
