"""One injectable UTC clock: tests freeze and advance it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from tierline.platform import clock
from tests.conftest import FROZEN_AT


def test_the_tests_run_on_a_frozen_clock(frozen_clock):
    assert clock.now() == FROZEN_AT == frozen_clock
    assert clock.now() == clock.now()


def test_advancing_moves_the_frozen_clock(frozen_clock):
    assert clock.advance(timedelta(minutes=90)) == FROZEN_AT + timedelta(minutes=90)
    assert clock.now() == FROZEN_AT + timedelta(minutes=90)


def test_freezing_converts_any_zone_to_utc():
    clock.freeze(datetime(2026, 3, 29, 3, 30, tzinfo=timezone(timedelta(hours=2))))
    assert clock.now() == datetime(2026, 3, 29, 1, 30, tzinfo=UTC)
    assert clock.now().utcoffset() == timedelta(0)


def test_freezing_refuses_a_naive_time():
    with pytest.raises(ValueError):
        clock.freeze(datetime(2026, 1, 1))


def test_the_frozen_context_restores_the_previous_instant(frozen_clock):
    later = FROZEN_AT + timedelta(days=3)
    with clock.frozen(later):
        assert clock.now() == later
    assert clock.now() == FROZEN_AT


def test_an_unfrozen_clock_is_the_real_utc_time():
    clock.unfreeze()
    before = datetime.now(UTC)
    now = clock.now()
    assert now.tzinfo is not None and now.utcoffset() == timedelta(0)
    assert before <= now <= datetime.now(UTC)
    with pytest.raises(RuntimeError):
        clock.advance(timedelta(seconds=1))


def test_as_utc_reads_naive_database_values_as_utc():
    assert clock.as_utc(datetime(2026, 1, 1, 12)) == datetime(2026, 1, 1, 12, tzinfo=UTC)
    assert clock.as_utc(datetime(2026, 1, 1, 12, tzinfo=timezone(timedelta(hours=-5)))) == \
        datetime(2026, 1, 1, 17, tzinfo=UTC)


def test_times_round_trip_through_the_database_as_aware_utc(db):
    from sqlalchemy import select

    from tierline.platform.outbox import OutboxMessage, publish

    clock.freeze(datetime(2026, 7, 1, 23, 59, 59, 123456, tzinfo=timezone(timedelta(hours=9))))
    with db.unit_of_work() as session:
        publish(session, "t", {})
    with db.session(write=False) as session:
        created = session.scalar(select(OutboxMessage.created_at))
    assert created == datetime(2026, 7, 1, 14, 59, 59, 123456, tzinfo=UTC)
    assert created.utcoffset() == timedelta(0)
